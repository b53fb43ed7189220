//! Semantic diff of two connector specs (canonical JSON): endpoints, auth, pagination, mappings,
//! provisioning; risky changes (auth, base URL, provisioning, removed resource types) are flagged.

use serde::Serialize;
use serde_json::Value;

/// One change between two versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Dotted path, e.g. `resource_types.user.list.map.email`.
    pub path: String,
    /// `added`, `removed` or `changed`.
    pub kind: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// endpoints, auth, pagination, mappings, provisioning, source, resource types, tests, other.
    pub category: String,
    pub risky: bool,
}

fn flatten(v: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(x, &p, out);
            }
        }
        Value::Array(a) if !a.is_empty() && a.iter().any(|x| x.is_object()) => {
            for (i, x) in a.iter().enumerate() {
                // Entitlements are keyed by their id rather than their position.
                let key = x.get("id").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| i.to_string());
                flatten(x, &format!("{prefix}.{key}"), out);
            }
        }
        other => out.push((
            prefix.to_string(),
            match other {
                Value::String(s) => s.clone(),
                o => o.to_string(),
            },
        )),
    }
}

fn categorize(path: &str) -> (&'static str, bool) {
    if path.contains(".auth") || path.starts_with("source.http.auth") {
        return ("auth", true);
    }
    if path.starts_with("source.http.base_url") {
        return ("source", true);
    }
    if path.contains(".provisioning") {
        return ("provisioning", true);
    }
    if path.contains(".pagination") {
        return ("pagination", false);
    }
    if path.contains(".map.") || path.contains(".skip_if") || path.ends_with(".items") {
        return ("mappings", false);
    }
    if path.contains(".request.") {
        return ("endpoints", false);
    }
    if path.starts_with("source.") {
        return ("source", false);
    }
    if path.starts_with("tests") {
        return ("tests", false);
    }
    if path.starts_with("resource_types") {
        return ("resource types", false);
    }
    ("other", false)
}

/// Every leaf that differs between `a` (older) and `b` (newer).
pub fn semantic_diff(a: &Value, b: &Value) -> Vec<Change> {
    let (mut fa, mut fb) = (Vec::new(), Vec::new());
    flatten(a, "", &mut fa);
    flatten(b, "", &mut fb);
    let ma: std::collections::BTreeMap<_, _> = fa.into_iter().collect();
    let mb: std::collections::BTreeMap<_, _> = fb.into_iter().collect();
    let mut out = Vec::new();
    let types = |m: &std::collections::BTreeMap<String, String>| -> std::collections::BTreeSet<String> {
        m.keys()
            .filter_map(|k| k.strip_prefix("resource_types."))
            .filter_map(|r| r.split('.').next())
            .map(str::to_string)
            .collect()
    };
    let (ta, tb) = (types(&ma), types(&mb));
    for removed in ta.difference(&tb) {
        out.push(Change {
            path: format!("resource_types.{removed}"),
            kind: "removed".into(),
            old: Some(removed.clone()),
            new: None,
            category: "resource types".into(),
            risky: true,
        });
    }
    for added in tb.difference(&ta) {
        out.push(Change {
            path: format!("resource_types.{added}"),
            kind: "added".into(),
            old: None,
            new: Some(added.clone()),
            category: "resource types".into(),
            risky: false,
        });
    }
    let in_removed_type = |p: &str, set: &std::collections::BTreeSet<String>| {
        p.strip_prefix("resource_types.").and_then(|r| r.split('.').next()).is_some_and(|t| set.contains(t))
    };
    let gone: std::collections::BTreeSet<String> = ta.difference(&tb).cloned().collect();
    let new_types: std::collections::BTreeSet<String> = tb.difference(&ta).cloned().collect();
    for (k, va) in &ma {
        if in_removed_type(k, &gone) {
            continue;
        }
        let (cat, risky) = categorize(k);
        match mb.get(k) {
            None => out.push(Change {
                path: k.clone(),
                kind: "removed".into(),
                old: Some(va.clone()),
                new: None,
                category: cat.into(),
                risky,
            }),
            Some(vb) if vb != va => out.push(Change {
                path: k.clone(),
                kind: "changed".into(),
                old: Some(va.clone()),
                new: Some(vb.clone()),
                category: cat.into(),
                risky,
            }),
            _ => {}
        }
    }
    for (k, vb) in &mb {
        if !ma.contains_key(k) && !in_removed_type(k, &new_types) {
            let (cat, risky) = categorize(k);
            out.push(Change {
                path: k.clone(),
                kind: "added".into(),
                old: None,
                new: Some(vb.clone()),
                category: cat.into(),
                risky,
            });
        }
    }
    out.sort_by(|x, y| (!x.risky, &x.category, &x.path).cmp(&(!y.risky, &y.category, &y.path)));
    out
}

/// Human rendering: risky changes first, marked `!`.
pub fn render(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "  (no semantic changes)\n".into();
    }
    let mut s = String::new();
    for c in changes {
        let mark = if c.risky { "!" } else { " " };
        let line = match c.kind.as_str() {
            "added" => format!("+ {} = {}", c.path, c.new.clone().unwrap_or_default()),
            "removed" => format!("- {} (was {})", c.path, c.old.clone().unwrap_or_default()),
            _ => format!("~ {}: {} → {}", c.path, c.old.clone().unwrap_or_default(), c.new.clone().unwrap_or_default()),
        };
        s.push_str(&format!("{mark} [{}] {line}\n", c.category));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_risky_changes_and_removed_types() {
        let a = serde_json::json!({"source": {"http": {"base_url": "${A}", "auth": {"type": "basic"}}},
            "resource_types": {"user": {"list": {"map": {"id": "item.id", "email": "item.email"}}}, "group": {"list": {"map": {"id": "item.id"}}}}});
        let b = serde_json::json!({"source": {"http": {"base_url": "${A}", "auth": {"type": "bearer"}}},
            "resource_types": {"user": {"list": {"map": {"id": "item.id", "email": "item.mail"}}}}});
        let d = semantic_diff(&a, &b);
        let paths: Vec<(&str, bool)> = d.iter().map(|c| (c.path.as_str(), c.risky)).collect();
        assert!(paths.contains(&("source.http.auth.type", true)));
        assert!(paths.contains(&("resource_types.group", true)));
        assert!(paths.contains(&("resource_types.user.list.map.email", false)));
        assert!(d[0].risky);
        assert!(render(&d).contains("! [auth] ~ source.http.auth.type: basic → bearer"));
    }
}
