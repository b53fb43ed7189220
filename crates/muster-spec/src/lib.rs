//! Connector specs: YAML → strict raw spec (schema v1) → [`check`] → [`CompiledConnector`].
//!
//! ```text
//! text ──yaml::parse──▶ Node tree ──validate (JSON Schema walk)──▶ raw `schema::Connector`
//!      ──compile (references, CEL, templates, lints)──▶ CompiledConnector
//! ```
//! Every stage collects all of its diagnostics; a later stage runs only when the earlier one had no errors.

pub mod compile;
pub mod docs;
pub mod schema;
pub mod template;
pub mod validate;
pub mod yaml;

pub use compile::CompiledConnector;
use muster_diag::Diagnostic;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The JSON Schema of connector schema v1, generated from the raw types' doc comments.
pub fn json_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<schema::Connector>();
    let mut v = serde_json::to_value(schema).unwrap_or(serde_json::Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("$id".into(), "https://muster.dev/schema/connector.v1.json".into());
    }
    v
}

fn cached_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(json_schema)
}

/// The result of checking one file.
#[derive(Debug)]
pub struct Checked {
    /// Present only when there are no errors.
    pub connector: Option<CompiledConnector>,
    /// Errors and warnings, in file order, each tagged with the file name.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parse, validate and compile a connector. `file` is the name used in diagnostics.
pub fn check(src: &str, file: &str) -> Checked {
    let mut diagnostics = Vec::new();
    let connector = check_inner(src, &mut diagnostics);
    for d in &mut diagnostics {
        d.file = file.to_string();
    }
    diagnostics.sort_by_key(|d| d.span.map(|s| (s.line, s.col)).unwrap_or((0, 0)));
    Checked { connector, diagnostics }
}

fn check_inner(src: &str, diags: &mut Vec<Diagnostic>) -> Option<CompiledConnector> {
    let node = match yaml::parse(src) {
        Ok(n) => n,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    if !matches!(node.kind, yaml::NodeKind::Map(_)) {
        diags.push(
            Diagnostic::error("M0102", format!("a connector file is a mapping, found {}", node.type_name()))
                .with_span(Some(node.span))
                .with_hint("start the file with `version: 1`"),
        );
        return None;
    }
    let schema = cached_schema();
    let mut v = validate::Validator::new(schema);
    let value = v.check(&node, schema, "");
    let spans = v.spans;
    let schema_ok = v.diags.is_empty();
    diags.append(&mut v.diags);
    // Unknown keys were left out of `value`; when the rest still reads, the semantic checks run too, so one
    // run reports schema and semantic problems together.
    let raw: schema::Connector = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(_) if !schema_ok => return None,
        Err(e) => {
            diags.push(
                Diagnostic::error("M0199", format!("spec could not be read: {e}"))
                    .with_hint("this is a bug in Muster's schema checks; please report it with the file"),
            );
            return None;
        }
    };
    let mut c = compile::Compiler::new(src, &spans);
    let parts = c.compile(&raw);
    diags.append(&mut c.diags);
    if !schema_ok {
        return None;
    }
    let parts = parts?;
    let hash = spec_hash(&raw);
    Some(compile::assemble(raw, parts, hash))
}

/// Canonical JSON of a spec: keys sorted at every level, no insignificant whitespace.
pub fn canonical_json(raw: &schema::Connector) -> String {
    let v = serde_json::to_value(raw).unwrap_or(serde_json::Value::Null);
    let mut out = String::new();
    write_canonical(&v, &mut out);
    out
}

fn write_canonical(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String((*k).clone()).to_string());
                out.push(':');
                if let Some(val) = m.get(*k) {
                    write_canonical(val, out);
                }
            }
            out.push('}');
        }
        serde_json::Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `sha256:<hex>` of the canonical spec. Formatting and comments do not change it; `${VAR}` values are
/// not part of it (only their names are).
pub fn spec_hash(raw: &schema::Connector) -> String {
    let digest = Sha256::digest(canonical_json(raw).as_bytes());
    format!("sha256:{}", hex::encode(digest))
}
