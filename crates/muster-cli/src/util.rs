use std::path::Path;

/// Read a connector file as text, turning I/O and encoding problems into one-line messages.
pub fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if meta.is_dir() {
        return Err(format!("{}: is a directory; pass a connector .yaml file", path.display()));
    }
    let limit = muster_spec::yaml::MAX_FILE_BYTES as u64;
    if meta.len() > limit {
        return Err(format!(
            "{}: error[M0002]: file is {} bytes; connector files are limited to {limit} bytes\n  = hint: a connector is a few hundred lines of YAML; is this the right file?",
            path.display(),
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{}: error[M0003]: file is not UTF-8 text (invalid byte at offset {}); it looks binary, not YAML",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// The process environment as a lookup function.
pub fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
