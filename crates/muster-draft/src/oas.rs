//! A tolerant view of OpenAPI 3.x and Swagger 2.0 documents over `serde_json::Value`.
//!
//! Real documents are messy: 3.1-style `type: [x, "null"]` in 3.0 files, dangling `$ref`s, missing schemas,
//! `allOf` compositions and reference cycles. Nothing here fails: a part that cannot be read is absent.

use indexmap::IndexMap;
use serde_json::Value;

/// Deepest `$ref` / `allOf` nesting followed.
const MAX_DEPTH: usize = 24;

/// The document flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Swagger2,
    OpenApi3,
}

/// The document plus what its flavour changes.
pub struct Doc<'a> {
    pub root: &'a Value,
    pub flavour: Flavour,
}

/// A schema with `$ref`s followed and `allOf` merged (one level of properties; property schemas stay raw).
#[derive(Debug, Clone, Default)]
pub struct Flat<'a> {
    pub types: Vec<String>,
    pub nullable: bool,
    pub props: IndexMap<String, &'a Value>,
    pub required: Vec<String>,
    pub items: Option<&'a Value>,
    pub enum_values: Vec<String>,
    pub description: String,
    pub format: Option<String>,
    pub default: Option<Value>,
    pub maximum: Option<f64>,
    /// The first `$ref` followed (e.g. `#/components/schemas/User`), for provenance.
    pub pointer: Option<String>,
}

impl Flat<'_> {
    pub fn is_array(&self) -> bool {
        self.types.iter().any(|t| t == "array") || (self.items.is_some() && self.types.is_empty())
    }
    pub fn is_object(&self) -> bool {
        self.types.iter().any(|t| t == "object") || (!self.props.is_empty() && !self.is_array())
    }
    pub fn is_string(&self) -> bool {
        self.types.iter().any(|t| t == "string")
    }
    pub fn is_bool(&self) -> bool {
        self.types.iter().any(|t| t == "boolean")
    }
    pub fn is_number(&self) -> bool {
        self.types.iter().any(|t| t == "integer" || t == "number")
    }
    pub fn is_required(&self, name: &str) -> bool {
        self.required.iter().any(|r| r == name)
    }
}

/// One operation parameter, with its schema facts pulled up.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub location: String,
    pub required: bool,
    pub types: Vec<String>,
    pub enum_values: Vec<String>,
    pub default: Option<Value>,
    pub maximum: Option<f64>,
}

impl Param {
    pub fn is_bool(&self) -> bool {
        self.types.iter().any(|t| t == "boolean")
    }
}

/// A chosen response of an operation.
#[derive(Debug, Clone)]
pub struct Response<'a> {
    pub schema: Option<&'a Value>,
    pub headers: Vec<String>,
}

impl<'a> Doc<'a> {
    pub fn new(root: &'a Value) -> Option<Doc<'a>> {
        let flavour = if root.get("swagger").is_some() {
            Flavour::Swagger2
        } else if root.get("openapi").is_some() {
            Flavour::OpenApi3
        } else if root.get("paths").is_some() {
            // No version marker: read it as OpenAPI 3 (the more common today).
            Flavour::OpenApi3
        } else {
            return None;
        };
        Some(Doc { root, flavour })
    }

    pub fn version_label(&self) -> String {
        match self.flavour {
            Flavour::Swagger2 => format!("Swagger {}", str_of(self.root.get("swagger")).unwrap_or("2.0")),
            Flavour::OpenApi3 => format!("OpenAPI {}", str_of(self.root.get("openapi")).unwrap_or("3")),
        }
    }

    /// Follow a local `$ref` (`#/...`). Remote references are not followed.
    pub fn pointer(&self, r: &str) -> Option<&'a Value> {
        let frag = r.strip_prefix('#')?;
        if frag.is_empty() {
            return Some(self.root);
        }
        self.root.pointer(&percent_decode(frag))
    }

    /// Follow `$ref` chains until a non-reference value (None when dangling or cyclic).
    pub fn deref(&self, v: &'a Value) -> Option<&'a Value> {
        let mut cur = v;
        for _ in 0..MAX_DEPTH {
            match cur.get("$ref").and_then(Value::as_str) {
                Some(r) => cur = self.pointer(r)?,
                None => return Some(cur),
            }
        }
        None
    }

    /// The `$ref` target name of a schema, if it is a reference.
    pub fn ref_of(v: &Value) -> Option<String> {
        v.get("$ref").and_then(Value::as_str).map(str::to_string)
    }

    /// Like [`Doc::flatten`], but reads `{items: {object}}` without a type as the object: a spec error
    /// seen in the wild (Slack's generated schemas).
    pub fn flatten_obj(&self, v: &'a Value) -> Flat<'a> {
        let f = self.flatten(v);
        if f.types.is_empty()
            && f.props.is_empty()
            && let Some(inner) = f.items
        {
            let g = self.flatten(inner);
            if g.is_object() {
                return Flat { pointer: f.pointer.or(g.pointer.clone()), ..g };
            }
        }
        f
    }

    pub fn flatten(&self, v: &'a Value) -> Flat<'a> {
        let mut out = Flat::default();
        let mut seen = Vec::new();
        self.flatten_into(v, &mut out, &mut seen, 0, true);
        out.types.sort();
        out.types.dedup();
        out
    }

    fn flatten_into(&self, v: &'a Value, out: &mut Flat<'a>, seen: &mut Vec<String>, depth: usize, strict: bool) {
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            if seen.iter().any(|s| s == r) {
                return;
            }
            seen.push(r.to_string());
            if out.pointer.is_none() {
                out.pointer = Some(r.to_string());
            }
            if let Some(t) = self.pointer(r) {
                self.flatten_into(t, out, seen, depth + 1, strict);
            }
            seen.pop();
            return;
        }
        let Some(obj) = v.as_object() else { return };
        match obj.get("type") {
            Some(Value::String(t)) if t == "null" => out.nullable = true,
            Some(Value::String(t)) => out.types.push(t.clone()),
            Some(Value::Array(ts)) => {
                for t in ts.iter().filter_map(Value::as_str) {
                    if t == "null" {
                        out.nullable = true;
                    } else {
                        out.types.push(t.to_string());
                    }
                }
            }
            _ => {}
        }
        if obj.get("nullable").and_then(Value::as_bool) == Some(true)
            || obj.get("x-nullable").and_then(Value::as_bool) == Some(true)
        {
            out.nullable = true;
        }
        if let Some(Value::Object(props)) = obj.get("properties") {
            for (k, pv) in props {
                out.props.entry(k.clone()).or_insert(pv);
            }
        }
        if strict && let Some(Value::Array(req)) = obj.get("required") {
            for r in req.iter().filter_map(Value::as_str) {
                if !out.required.iter().any(|x| x == r) {
                    out.required.push(r.to_string());
                }
            }
        }
        if out.items.is_none()
            && let Some(it) = obj.get("items")
            && it.is_object()
        {
            out.items = Some(it);
        }
        if out.enum_values.is_empty()
            && let Some(Value::Array(e)) = obj.get("enum")
        {
            out.enum_values = e.iter().filter_map(scalar_string).collect();
        }
        if out.description.is_empty()
            && let Some(d) = str_of(obj.get("description"))
        {
            out.description = d.to_string();
        }
        if out.format.is_none() {
            out.format = str_of(obj.get("format")).map(str::to_string);
        }
        if out.default.is_none() {
            out.default = obj.get("default").cloned();
        }
        if out.maximum.is_none() {
            out.maximum = obj.get("maximum").and_then(Value::as_f64);
        }
        if let Some(Value::Array(all)) = obj.get("allOf") {
            for part in all {
                self.flatten_into(part, out, seen, depth + 1, strict);
            }
        }
        // oneOf / anyOf: merge the non-null variants' properties (a union is what a row may hold); none of
        // their `required` lists holds for every row.
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(alts)) = obj.get(key) {
                for part in alts {
                    if part.get("type").and_then(Value::as_str) == Some("null") {
                        out.nullable = true;
                        continue;
                    }
                    self.flatten_into(part, out, seen, depth + 1, false);
                }
            }
        }
    }

    /// Parameters of an operation: the path item's, overridden by the operation's (by name and location).
    pub fn params(&self, path_item: &'a Value, op: &'a Value) -> Vec<Param> {
        let mut out: Vec<Param> = Vec::new();
        for src in [path_item.get("parameters"), op.get("parameters")] {
            let Some(Value::Array(list)) = src else { continue };
            for p in list {
                let Some(p) = self.deref(p) else { continue };
                let Some(name) = str_of(p.get("name")) else { continue };
                let location = str_of(p.get("in")).unwrap_or("query").to_string();
                let schema_src = match self.flavour {
                    Flavour::Swagger2 => Some(p),
                    Flavour::OpenApi3 => p.get("schema").or(Some(p)),
                };
                let flat = schema_src.map(|s| self.flatten(s)).unwrap_or_default();
                let param = Param {
                    name: name.to_string(),
                    required: p.get("required").and_then(Value::as_bool).unwrap_or(location == "path"),
                    types: flat.types.clone(),
                    enum_values: flat.enum_values.clone(),
                    default: flat.default.clone(),
                    maximum: flat.maximum,
                    location,
                };
                if let Some(existing) = out.iter_mut().find(|x| x.name == param.name && x.location == param.location) {
                    *existing = param;
                } else {
                    out.push(param);
                }
            }
        }
        out
    }

    /// The success response of an operation: 200, then other 2xx, then `default`.
    pub fn success_response(&self, op: &'a Value) -> Option<Response<'a>> {
        let responses = op.get("responses")?.as_object()?;
        let mut keys: Vec<&String> = responses.keys().collect();
        keys.sort_by_key(|k| match k.as_str() {
            "200" => 0,
            "2XX" | "2xx" => 2,
            "default" => 3,
            k if k.starts_with('2') => 1,
            _ => 9,
        });
        let key = keys.into_iter().find(|k| k.starts_with('2') || k.as_str() == "default")?;
        let resp = self.deref(responses.get(key)?)?;
        let schema = match self.flavour {
            Flavour::Swagger2 => resp.get("schema"),
            Flavour::OpenApi3 => match resp.get("content").and_then(Value::as_object) {
                Some(content) => {
                    let pick = content
                        .get("application/json")
                        .or_else(|| content.iter().find(|(k, _)| k.contains("json")).map(|(_, v)| v))
                        .or_else(|| content.get("*/*"))
                        .or_else(|| content.values().next());
                    pick.and_then(|m| m.get("schema"))
                }
                None => resp.get("schema"),
            },
        };
        let headers =
            resp.get("headers").and_then(Value::as_object).map(|h| h.keys().cloned().collect()).unwrap_or_default();
        Some(Response { schema, headers })
    }

    /// Security requirement alternatives of an operation (each a list of scheme names), or the document's.
    pub fn security(&self, op: &Value) -> Option<Vec<Vec<String>>> {
        let sec = op.get("security").or_else(|| self.root.get("security"))?;
        let list = sec.as_array()?;
        Some(list.iter().filter_map(Value::as_object).map(|req| req.keys().cloned().collect()).collect())
    }

    pub fn security_schemes(&self) -> Option<&'a serde_json::Map<String, Value>> {
        match self.flavour {
            Flavour::Swagger2 => self.root.get("securityDefinitions")?.as_object(),
            Flavour::OpenApi3 => self.root.get("components")?.get("securitySchemes")?.as_object(),
        }
    }

    /// The path part of the first server URL (`/api/v1`), and the full URL for comments.
    pub fn server(&self) -> (String, Option<String>) {
        match self.flavour {
            Flavour::Swagger2 => {
                let base = str_of(self.root.get("basePath")).unwrap_or("").trim_end_matches('/').to_string();
                let full = str_of(self.root.get("host")).map(|h| {
                    let scheme = self
                        .root
                        .get("schemes")
                        .and_then(Value::as_array)
                        .and_then(|s| {
                            s.iter()
                                .filter_map(Value::as_str)
                                .find(|x| *x == "https")
                                .or(s.first().and_then(Value::as_str))
                        })
                        .unwrap_or("https");
                    format!("{scheme}://{h}{base}")
                });
                (base, full)
            }
            Flavour::OpenApi3 => {
                let Some(server) = self.root.get("servers").and_then(Value::as_array).and_then(|s| s.first()) else {
                    return (String::new(), None);
                };
                let mut url = str_of(server.get("url")).unwrap_or("").to_string();
                if let Some(vars) = server.get("variables").and_then(Value::as_object) {
                    for (k, v) in vars {
                        if let Some(d) = v.get("default").and_then(scalar_string) {
                            url = url.replace(&format!("{{{k}}}"), &d);
                        }
                    }
                }
                let path = match url.find("://") {
                    Some(i) => url[i + 3..].find('/').map(|j| url[i + 3 + j..].to_string()).unwrap_or_default(),
                    None => url.clone(),
                };
                let path = path.trim_end_matches('/').to_string();
                let path = if path.contains('{') { String::new() } else { path };
                let full = if url.contains("://") { Some(url) } else { None };
                (path, full)
            }
        }
    }
}

pub fn str_of(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(h) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(h, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
