//! The field-by-field reference (`docs/reference.md`), generated from the JSON Schema.

use serde_json::Value;
use std::fmt::Write as _;

/// Render the schema reference as Markdown.
pub fn reference_markdown() -> String {
    let schema = crate::json_schema();
    let mut out = String::new();
    out.push_str("# Connector schema v1 — field reference\n\n");
    out.push_str("Generated from the Rust types by `cargo run -- schema --markdown`; do not edit by hand.\n");
    out.push_str("Values marked *CEL* are expressions (see `docs/expressions.md`); *template* values may hold\n");
    out.push_str("`${ENV_VAR}` references that are resolved at run time and never stored.\n\n");
    section(&mut out, "Connector", &schema, &schema);
    if let Some(defs) = schema.get("$defs").and_then(Value::as_object) {
        for (name, def) in defs {
            section(&mut out, name, def, &schema);
        }
    }
    out
}

fn first_para(s: &str) -> String {
    s.split("\n\n").next().unwrap_or("").replace('\n', " ")
}

fn type_of(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let n = r.trim_start_matches("#/$defs/");
        return format!("[{n}](#{})", n.to_lowercase());
    }
    if let Some(alts) = s.get("anyOf").or_else(|| s.get("oneOf")).and_then(Value::as_array) {
        return alts
            .iter()
            .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
            .map(type_of)
            .collect::<Vec<_>>()
            .join(" or ");
    }
    if let Some(c) = s.get("const") {
        return format!("`{}`", c.as_str().map(str::to_string).unwrap_or(c.to_string()));
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        return e.iter().map(|v| format!("`{}`", v.as_str().unwrap_or(""))).collect::<Vec<_>>().join(" \\| ");
    }
    match s.get("type") {
        Some(Value::String(t)) if t == "array" => {
            format!("list of {}", s.get("items").map(type_of).unwrap_or_default())
        }
        Some(Value::String(t)) if t == "object" => match s.get("additionalProperties") {
            Some(a @ Value::Object(_)) => format!("map of name → {}", type_of(a)),
            _ => "mapping".into(),
        },
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => {
            ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect::<Vec<_>>().join(" or ")
        }
        _ => "any".into(),
    }
}

fn fields_table(out: &mut String, s: &Value) {
    let Some(props) = s.get("properties").and_then(Value::as_object) else { return };
    let required: Vec<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str("| field | type | required | meaning |\n|---|---|---|---|\n");
    for (k, v) in props {
        let desc = v.get("description").and_then(Value::as_str).map(first_para).unwrap_or_default();
        let req = if required.contains(&k.as_str()) { "yes" } else { "" };
        let _ = writeln!(out, "| `{k}` | {} | {req} | {} |", type_of(v).replace('|', "\\|"), desc.replace('|', "\\|"));
    }
    out.push('\n');
}

fn section(out: &mut String, name: &str, s: &Value, _root: &Value) {
    let _ = writeln!(out, "## {name}\n");
    if let Some(d) = s.get("description").and_then(Value::as_str) {
        let _ = writeln!(out, "{d}\n");
    }
    if let Some(alts) = s.get("oneOf").and_then(Value::as_array) {
        for a in alts {
            let tag =
                a.get("properties").and_then(|p| p.get("type")).and_then(|t| t.get("const")).and_then(Value::as_str);
            let desc = a.get("description").and_then(Value::as_str).unwrap_or("");
            match tag {
                Some(t) => {
                    let _ = writeln!(out, "### `type: {t}`\n\n{desc}\n");
                    fields_table(out, a);
                }
                None => {
                    if let Some(c) = a.get("const").and_then(Value::as_str) {
                        let _ = writeln!(out, "- `{c}` — {desc}");
                    }
                }
            }
        }
        out.push('\n');
    }
    fields_table(out, s);
}
