//! Dotted-path lookup in JSON values.

use serde_json::Value;

/// Looks up a dotted path in a JSON value.
///
/// * `""`, `"."` and `"$"` return the root;
/// * `"a.b"` walks object keys;
/// * numeric segments index arrays (`"items.0.id"`);
/// * a leading `"$."` is accepted and ignored (`"$.data.items"`).
///
/// Returns `None` when a segment is missing or the value is not a container.
pub fn lookup<'a>(v: &'a Value, dotted: &str) -> Option<&'a Value> {
    let path = dotted.trim();
    let path = path.strip_prefix("$.").unwrap_or(path);
    if path.is_empty() || path == "." || path == "$" {
        return Some(v);
    }
    let mut cur = v;
    for seg in path.split('.') {
        if seg.is_empty() {
            continue;
        }
        cur = match cur {
            Value::Object(map) => map.get(seg)?,
            Value::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Reads a JSON value as an unsigned integer: numbers (integral, non-negative)
/// and numeric strings are accepted.
pub(crate) fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19).map(|f| f as u64))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Describes the top-level keys of a value, for hints ("keys: data, meta").
pub(crate) fn describe_keys(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().map(String::as_str).take(12).collect();
            if keys.is_empty() {
                "an empty object".to_owned()
            } else {
                format!("an object with keys: {}", keys.join(", "))
            }
        }
        Value::Array(a) => format!("an array of {} element(s)", a.len()),
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
        Value::Number(_) => "a number".to_owned(),
        Value::String(_) => "a string".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_paths() {
        let v = json!({"a": {"b": [{"c": 1}, {"c": 2}]}, "t": "5"});
        assert_eq!(lookup(&v, ""), Some(&v));
        assert_eq!(lookup(&v, "."), Some(&v));
        assert_eq!(lookup(&v, "a.b.1.c"), Some(&json!(2)));
        assert_eq!(lookup(&v, "$.a.b.0.c"), Some(&json!(1)));
        assert_eq!(lookup(&v, "a.x"), None);
        assert_eq!(lookup(&v, "a.b.9"), None);
        assert_eq!(lookup(&v, "t.x"), None);
        assert_eq!(as_u64(&json!("5")), Some(5));
        assert_eq!(as_u64(&json!(7.0)), Some(7));
        assert_eq!(as_u64(&json!(-1)), None);
    }
}
