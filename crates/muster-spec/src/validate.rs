//! Schema-driven validation of a positioned YAML tree against the generated JSON Schema.
//!
//! The walk collects every problem (unknown keys with did-you-mean, wrong types, missing fields, unknown
//! `type` tags) with its position, and produces the JSON value that serde then turns into the raw types.
//! Plain YAML scalars where a string is expected (`id: 123`) are read as the text written.

use crate::yaml::{Node, NodeKind};
use muster_diag::{Diagnostic, Span};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Spans of every value and key, by JSON pointer (RFC 6901).
#[derive(Debug, Default, Clone)]
pub struct SpanMap {
    pub values: HashMap<String, Span>,
    pub keys: HashMap<String, Span>,
}

impl SpanMap {
    /// The span of the value at `ptr`, or of the nearest enclosing value that has one.
    pub fn value(&self, ptr: &str) -> Option<Span> {
        let mut p = ptr;
        loop {
            if let Some(s) = self.values.get(p) {
                return Some(*s);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }

    /// The span of the key that holds `ptr`, falling back to the value.
    pub fn key(&self, ptr: &str) -> Option<Span> {
        self.keys.get(ptr).copied().or_else(|| self.value(ptr))
    }
}

/// Escape one key for a JSON pointer.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `/resource_types/user/list` → `resource_types.user.list`.
pub fn field_of(ptr: &str) -> String {
    ptr.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// The closest candidate to `word`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase());
        if score > 0.8 && best.is_none_or(|(_, s)| score > s) {
            best = Some((c, score));
        }
    }
    best.map(|(c, _)| c)
}

pub struct Validator<'s> {
    root: &'s Value,
    pub diags: Vec<Diagnostic>,
    pub spans: SpanMap,
}

impl<'s> Validator<'s> {
    pub fn new(root: &'s Value) -> Self {
        Validator { root, diags: Vec::new(), spans: SpanMap::default() }
    }

    fn resolve(&self, mut schema: &'s Value) -> &'s Value {
        for _ in 0..16 {
            let Some(r) = schema.get("$ref").and_then(Value::as_str) else { break };
            let name = r.trim_start_matches("#/$defs/");
            match self.root.get("$defs").and_then(|d| d.get(name)) {
                Some(s) => schema = s,
                None => break,
            }
        }
        schema
    }

    fn err(&mut self, code: &'static str, span: Span, ptr: &str, msg: String) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(code, msg).with_span(Some(span)).with_field(field_of(ptr)));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    /// Validate `node` against `schema`, returning the JSON value it denotes.
    pub fn check(&mut self, node: &Node, schema: &'s Value, ptr: &str) -> Value {
        self.spans.values.insert(ptr.to_string(), node.span);
        let schema = self.resolve(schema);
        if let Some(alts) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
            return self.check_alternatives(node, alts, ptr);
        }
        if let Some(c) = schema.get("const") {
            return self.check_enum(node, std::slice::from_ref(c), ptr);
        }
        if let Some(e) = schema.get("enum").and_then(Value::as_array) {
            return self.check_enum(node, e, ptr);
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return self.any_json(node, ptr),
        };
        if matches!(node.kind, NodeKind::Null) && types.contains(&"null") {
            return Value::Null;
        }
        for t in &types {
            if let Some(v) = self.try_type(node, schema, t, ptr) {
                return v;
            }
        }
        let want = types.iter().filter(|t| **t != "null").map(|t| article(t)).collect::<Vec<_>>().join(" or ");
        let found = node.type_name();
        let hint = type_hint(node, &types);
        let d = self.err("M0102", node.span, ptr, format!("expected {want}, found {found}"));
        if let Some(h) = hint {
            d.hints.push(h);
        }
        Value::Null
    }

    /// A schema-free value (a request body, a fixture): converted as is, with the spans of its parts kept.
    fn any_json(&mut self, node: &Node, ptr: &str) -> Value {
        self.spans.values.insert(ptr.to_string(), node.span);
        match &node.kind {
            NodeKind::Seq(items) => {
                Value::Array(items.iter().enumerate().map(|(i, it)| self.any_json(it, &format!("{ptr}/{i}"))).collect())
            }
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let p = format!("{ptr}/{}", escape(&k.name));
                        self.spans.keys.insert(p.clone(), k.span);
                        (k.name.clone(), self.any_json(v, &p))
                    })
                    .collect(),
            ),
            _ => to_json(node),
        }
    }

    fn try_type(&mut self, node: &Node, schema: &'s Value, t: &str, ptr: &str) -> Option<Value> {
        match (t, &node.kind) {
            ("string", NodeKind::Str { value, .. }) => Some(Value::String(value.clone())),
            ("string", NodeKind::Bool(_) | NodeKind::Int(_) | NodeKind::Float(_)) => {
                node.scalar_text().map(Value::String)
            }
            ("integer", NodeKind::Int(i)) => {
                if let Some(min) = schema.get("minimum").and_then(Value::as_i64)
                    && *i < min
                {
                    self.err("M0106", node.span, ptr, format!("{i} is below the minimum of {min}"));
                }
                Some(Value::from(*i))
            }
            ("number", NodeKind::Int(i)) => Some(Value::from(*i)),
            ("number", NodeKind::Float(f)) => serde_json::Number::from_f64(*f).map(Value::Number),
            ("boolean", NodeKind::Bool(b)) => Some(Value::Bool(*b)),
            ("object", NodeKind::Map(entries)) => Some(self.check_object(node, entries, schema, ptr)),
            ("array", NodeKind::Seq(items)) => {
                let item_schema = schema.get("items");
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.iter().enumerate() {
                    let p = format!("{ptr}/{i}");
                    out.push(match item_schema {
                        Some(s) => self.check(it, s, &p),
                        None => to_json(it),
                    });
                }
                Some(Value::Array(out))
            }
            _ => None,
        }
    }

    fn check_object(
        &mut self,
        node: &Node,
        entries: &[(crate::yaml::Key, Node)],
        schema: &'s Value,
        ptr: &str,
    ) -> Value {
        let props = schema.get("properties").and_then(Value::as_object);
        let addl = schema.get("additionalProperties");
        let mut out = Map::new();
        for (k, v) in entries {
            let p = format!("{ptr}/{}", escape(&k.name));
            self.spans.keys.insert(p.clone(), k.span);
            if let Some(s) = props.and_then(|m| m.get(&k.name)) {
                let val = self.check(v, s, &p);
                out.insert(k.name.clone(), val);
                continue;
            }
            match addl {
                Some(Value::Bool(false)) => {
                    let known: Vec<&str> = props.map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
                    let suggestion = did_you_mean(&k.name, known.iter().copied());
                    let d = self.err("M0101", k.span, &p, format!("unknown field `{}`", k.name));
                    match suggestion {
                        Some(s) => d.hints.push(format!("did you mean `{s}`?")),
                        None => d.hints.push(format!("expected one of: {}", known.join(", "))),
                    }
                }
                Some(s @ Value::Object(_)) => {
                    let val = self.check(v, s, &p);
                    out.insert(k.name.clone(), val);
                }
                _ => {
                    out.insert(k.name.clone(), to_json(v));
                }
            }
        }
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !entries.iter().any(|(k, _)| k.name == r) {
                    let span = self.spans.key(ptr).unwrap_or(node.span);
                    let (msg, hint) = missing_hint(ptr, r, props.and_then(|m| m.get(r)));
                    let d = self.err("M0103", span, &format!("{ptr}/{r}"), msg);
                    d.hints.push(hint);
                }
            }
        }
        Value::Object(out)
    }

    fn check_enum(&mut self, node: &Node, options: &[Value], ptr: &str) -> Value {
        let v = match node.scalar_text() {
            Some(s) if options.iter().any(|o| o.is_string()) => Value::String(s),
            _ => to_json(node),
        };
        if options.contains(&v) {
            return v;
        }
        let names: Vec<String> =
            options.iter().map(|o| o.as_str().map(str::to_string).unwrap_or(o.to_string())).collect();
        let text = node.scalar_text().unwrap_or_else(|| node.type_name().to_string());
        let suggestion = did_you_mean(&text, names.iter().map(String::as_str)).map(str::to_string);
        let d = self.err("M0105", node.span, ptr, format!("`{text}` is not allowed here"));
        match suggestion {
            Some(s) => d.hints.push(format!("did you mean `{s}`?")),
            None => d.hints.push(format!("expected one of: {}", names.join(", "))),
        }
        Value::Null
    }

    fn check_alternatives(&mut self, node: &Node, alts: &'s [Value], ptr: &str) -> Value {
        let alts: Vec<&'s Value> = alts.iter().map(|a| self.resolve(a)).collect();
        let is_null = |a: &&Value| a.get("type").and_then(Value::as_str) == Some("null");
        if matches!(node.kind, NodeKind::Null) && alts.iter().any(is_null) {
            return Value::Null;
        }
        let non_null: Vec<&'s Value> = alts.into_iter().filter(|a| !is_null(a)).collect();
        if non_null.len() == 1 {
            return self.check(node, non_null[0], ptr);
        }
        // Alternatives that are all string constants: an enum.
        let consts: Option<Vec<Value>> = non_null.iter().map(|a| a.get("const").cloned()).collect();
        if let Some(c) = consts {
            return self.check_enum(node, &c, ptr);
        }
        // Objects tagged by a `type` constant.
        let tags: Option<Vec<&str>> = non_null
            .iter()
            .map(|a| {
                a.get("properties").and_then(|p| p.get("type")).and_then(|t| t.get("const")).and_then(Value::as_str)
            })
            .collect();
        if let Some(tags) = tags {
            let NodeKind::Map(_) = node.kind else {
                self.err(
                    "M0102",
                    node.span,
                    ptr,
                    format!("expected a mapping with a `type`, found {}", node.type_name()),
                )
                .hints
                .push(format!("`type` is one of: {}", tags.join(", ")));
                return Value::Null;
            };
            let Some(tag_node) = node.get("type") else {
                let span = self.spans.key(ptr).unwrap_or(node.span);
                self.err("M0104", span, ptr, "missing `type`".to_string())
                    .hints
                    .push(format!("add `type:` with one of: {}", tags.join(", ")));
                return Value::Null;
            };
            let tag = tag_node.scalar_text().unwrap_or_default();
            return match tags.iter().position(|t| *t == tag) {
                Some(i) => self.check(node, non_null[i], ptr),
                None => {
                    let suggestion = did_you_mean(&tag, tags.iter().copied());
                    let d = self.err("M0105", tag_node.span, &format!("{ptr}/type"), format!("unknown type `{tag}`"));
                    match suggestion {
                        Some(s) => d.hints.push(format!("did you mean `{s}`?")),
                        None => d.hints.push(format!("expected one of: {}", tags.join(", "))),
                    }
                    Value::Null
                }
            };
        }
        // General case: the first alternative that fits without errors, else the errors of the first.
        for a in &non_null {
            let mut scratch = Validator::new(self.root);
            let v = scratch.check(node, a, ptr);
            if scratch.diags.is_empty() {
                self.spans.values.extend(scratch.spans.values);
                self.spans.keys.extend(scratch.spans.keys);
                return v;
            }
        }
        match non_null.first() {
            Some(a) => self.check(node, a, ptr),
            None => to_json(node),
        }
    }
}

fn article(t: &str) -> String {
    match t {
        "object" => "a mapping".into(),
        "array" => "a list".into(),
        "integer" => "an integer".into(),
        "boolean" => "a boolean (true/false)".into(),
        "number" => "a number".into(),
        "string" => "a string".into(),
        other => other.into(),
    }
}

fn type_hint(node: &Node, types: &[&str]) -> Option<String> {
    match (&node.kind, types.first().copied()) {
        (NodeKind::Str { .. } | NodeKind::Int(_), Some("array")) => {
            Some("write a list: `[a, b]` or one `- item` per line".into())
        }
        (NodeKind::Map(_), Some("string")) => {
            Some("a nested mapping here is usually an indentation mistake, or an expression that needs quotes".into())
        }
        (NodeKind::Str { value, .. }, Some("integer" | "number")) => {
            Some(format!("write a number without quotes, not `{value}`"))
        }
        _ => None,
    }
}

fn missing_hint(ptr: &str, field: &str, schema: Option<&Value>) -> (String, String) {
    if field == "id" && ptr.ends_with("/map") {
        return (
            "missing `id` mapping".into(),
            "every resource needs a stable id from the source, e.g. `id: item.id` (never a row number)".into(),
        );
    }
    let desc = schema
        .and_then(|s| s.get("description"))
        .and_then(Value::as_str)
        .map(|d| d.lines().next().unwrap_or("").to_string())
        .unwrap_or_default();
    let hint = if desc.is_empty() { format!("add `{field}:`") } else { format!("add `{field}:` — {desc}") };
    (format!("missing required field `{field}`"), hint)
}

/// Generic YAML → JSON for schema-free positions (request bodies, fixtures).
pub fn to_json(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Null => Value::Null,
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Int(i) => Value::from(*i),
        NodeKind::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
        NodeKind::Str { value, .. } => Value::String(value.clone()),
        NodeKind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeKind::Map(entries) => Value::Object(entries.iter().map(|(k, v)| (k.name.clone(), to_json(v))).collect()),
    }
}
