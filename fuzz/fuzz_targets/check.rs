//! YAML text → parse → schema walk → compile must never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let checked = muster_spec::check(text, "fuzz.yaml");
        // Rendering must not panic either (spans must stay inside the text).
        let _ = muster_diag::render_human(&checked.diagnostics, text);
    }
});
