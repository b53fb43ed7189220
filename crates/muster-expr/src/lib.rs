//! # muster-expr: CEL expressions for connector mappings
//!
//! Connector YAML mapping values are [CEL](https://cel.dev) expressions,
//! compiled once when a connector is checked ([`compile`]) and evaluated per
//! record ([`Expr::eval`]) against a [`Scope`] of JSON values.
//!
//! ## Variables
//!
//! An expression reads these top-level variables, each bound to a JSON value
//! by the engine (which ones are bound depends on where the expression is
//! used):
//!
//! - `item`: the current record, e.g. `item.profile.email`;
//! - `resource`: the resource being synchronised;
//! - `principal`: the principal (account) the record maps to;
//! - `vars`: connector variables;
//! - `response`: the HTTP response being read.
//!
//! [`Expr::variables`] lists the variables an expression reads and
//! [`Expr::paths_of`] the field paths it selects off one of them, so a checker
//! can flag typos before anything runs.
//!
//! JSON maps to CEL as follows: integers are `int` (so `item.count > 1`
//! works; only integers above `i64::MAX` are `uint`), other numbers `double`,
//! strings `string`, `null` `null`, arrays lists and objects maps with string
//! keys. Results map back to JSON the other way round; a `timestamp` becomes
//! an RFC 3339 string in UTC, a `duration` a number of seconds, `bytes` a
//! base64 string, an optional its value (or `null` when empty), and map keys
//! strings.
//!
//! ## Null semantics
//!
//! A key that is **absent** from the data is not the same as a key that is
//! present with the value `null`:
//!
//! - reading an absent key (`item.nope` on `{"a": 1}`, or `item.a.b` when
//!   `a` has no `b`) fails with [`EvalError::Missing`], whose `path` names the
//!   missing field (`item.nope`, `item.a.b`), so the engine can tell "field
//!   never present" from "present but null";
//! - a present `null` is just the value `null`: `item.manager == null` is
//!   `true` for `{"manager": null}`.
//!
//! To handle absent keys in an expression, test for them with
//! `has(item.x)` (`has(item.x) ? item.x : 'none'`), or use optional access:
//! `item.?x.orValue('none')` (also `item.?a.?b.orValue(...)` for nested
//! fields; `.?` on a null or non-map value is an empty optional too).
//! To handle nulls, use `default(item.x, 'none')`, which returns the fallback
//! when its first argument is `null` (or an empty optional, so
//! `default(item.?x, 'none')` handles both absent and null), or
//! `coalesce(item.a, item.b, 'none')`, the first non-null argument.
//!
//! The string helpers of the library (`lower`, `upper`, `trim`, `split`,
//! `join`, `to_string`, `parse_time`) pass `null` through: `lower(null)` is
//! `null`.
//!
//! ## Function library
//!
//! All of standard CEL is available, macros included (`has`, `all`,
//! `exists`, `exists_one`, `map`, `filter`), along with the optional values
//! library (`optional.of`, `.?`, `orValue`, ...) and cel's extensions:
//! strings (`lowerAscii`, `upperAscii`, `replace`, `indexOf`, `substring`,
//! `charAt`, `format`, `reverse`, `strings.quote`, ...), lists (`flatten`,
//! `distinct`, `sort`, `sortBy`, `slice`, `lists.range`), math
//! (`math.greatest`, `math.least`, `math.abs`, ...) and encoders
//! (`base64.encode`, `base64.decode`).
//!
//! This crate adds the functions listed in [`FUNCTIONS`], callable globally
//! (`lower(item.email)`) and, except `coalesce`, as methods
//! (`item.email.lower()`):
//!
//! | function | description |
//! |---|---|
//! | `lower(s)` | lower case (Unicode) |
//! | `upper(s)` | upper case (Unicode) |
//! | `trim(s)` | without leading and trailing whitespace |
//! | `split(s, sep)` | list of the parts between `sep`s (`''` splits into characters) |
//! | `join(list, sep)` | elements joined with `sep`; nulls skipped, numbers and bools written out |
//! | `default(x, fallback)` | `fallback` when `x` is null |
//! | `coalesce(a, b, ...)` | first non-null argument, up to 12 arguments; or `coalesce([a, b, ...])` |
//! | `parse_time(x)` | RFC 3339 UTC string (`2024-01-02T03:04:05Z`) from an RFC 3339 string, a `YYYY-MM-DD[ HH:MM:SS]` string (UTC), epoch seconds, or epoch milliseconds (values above 10^11), as a number or a numeric string; `null` and `''` give `null` |
//! | `parse_time(s, fmt)` | the same from a string read with a chrono strftime format (`'%d/%m/%Y %H:%M'`); no zone means UTC |
//! | `to_string(x)` | `x` as a string: numbers and bools written out, timestamps RFC 3339, lists and maps as JSON |
//!
//! [`known_function`] tells whether a name is any callable function, and
//! [`known_functions`] lists them all, for did-you-mean suggestions.
//!
//! ## Example
//!
//! ```
//! use muster_expr::{compile, Scope};
//! use serde_json::json;
//!
//! let expr = compile("lower(item.profile.email)").unwrap();
//! assert_eq!(expr.paths_of("item"), ["profile.email"]);
//! let record = json!({"profile": {"email": "Ada@Example.com"}});
//! let out = expr.eval(&Scope::new().with("item", &record)).unwrap();
//! assert_eq!(out, json!("ada@example.com"));
//! ```

mod analyze;
mod convert;
mod functions;

pub use functions::{FUNCTIONS, known_function, known_functions};

use analyze::Projection;
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::{Context, ExecutionError, Program, Value};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// A compiled expression: cheap to clone, shareable across threads.
#[derive(Clone)]
pub struct Expr {
    inner: Arc<Inner>,
}

struct Inner {
    source: String,
    program: Program,
    variables: BTreeSet<String>,
    functions: BTreeSet<String>,
    /// Select chains off free variables: (root, segments).
    chains: BTreeSet<(String, Vec<String>)>,
    projections: BTreeMap<String, Projection>,
    /// Set when the expression is a plain field path (`item.profile.email`): evaluated by walking the JSON
    /// directly, with the same results and errors as CEL, several times faster.
    path: Option<Vec<String>>,
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expr").field("source", &self.inner.source).finish_non_exhaustive()
    }
}

/// Why an expression doesn't compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    pub message: String,
    /// Byte offset in the source where the problem is (best effort, 0 if
    /// unknown); always on a char boundary and, for a non-empty source,
    /// inside it.
    pub offset: usize,
    /// Length in bytes of the offending span, at least 1.
    pub len: usize,
}

/// Why an evaluation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A field absent from the data was read (not a present `null`).
    /// `path` is the dotted path of the field from its variable, e.g.
    /// `item.profile.email`, or just the key name when it can't be told.
    #[error("field `{path}` is missing")]
    Missing { path: String },
    /// Any other failure: wrong types, unknown function, division by zero...
    #[error("{message}")]
    Failed { message: String },
}

/// Compiles `src` once, for evaluating many times.
pub fn compile(src: &str) -> Result<Expr, CompileError> {
    let env = functions::ENV.as_ref().map_err(|e| CompileError {
        message: format!("the CEL environment failed to build: {e}"),
        offset: 0,
        len: 1,
    })?;
    let program = env.compile(src).map_err(|errors| parse_error(src, &errors))?;
    let analysis = analyze::analyze(program.expression());
    Ok(Expr {
        inner: Arc::new(Inner {
            source: src.to_string(),
            program,
            variables: analysis.variables,
            functions: analysis.functions,
            chains: analysis.chains,
            projections: analysis.projections,
            path: simple_path(src),
        }),
    })
}

/// `item.a.b` → `["item", "a", "b"]`; anything else (calls, operators, literals, indexing) → None.
fn simple_path(src: &str) -> Option<Vec<String>> {
    let s = src.trim();
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() < 2 {
        return None;
    }
    let ident = |p: &str| {
        let mut c = p.chars();
        matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
            && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
    };
    const RESERVED: &[&str] = &[
        "true",
        "false",
        "null",
        "in",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    ];
    if parts.iter().all(|p| ident(p) && !RESERVED.contains(p)) {
        Some(parts.into_iter().map(str::to_string).collect())
    } else {
        None
    }
}

fn parse_error(src: &str, errors: &cel::ParseErrors) -> CompileError {
    let Some(first) = errors.errors.first() else {
        return CompileError { message: "invalid expression".to_string(), offset: 0, len: 1 };
    };
    let (line, column) = first.pos;
    let offset = position_to_offset(src, line, column);
    let message = if first.msg.contains("mismatched input '<EOF>'") {
        "unexpected end of expression".to_string()
    } else {
        first
            .msg
            .strip_prefix("Syntax error: ")
            .unwrap_or(&first.msg)
            .split(" expecting {")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    CompileError { message, offset, len: src[offset..].chars().next().map_or(1, char::len_utf8) }
}

/// Byte offset of the 1-based `line` and 1-based char `column` (as cel
/// reports them), clamped to the last char of a non-empty source.
fn position_to_offset(src: &str, line: isize, column: isize) -> usize {
    let line = usize::try_from(line.max(1) - 1).unwrap_or(0);
    let column = usize::try_from(column.max(1) - 1).unwrap_or(0);
    let mut line_start = 0;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i == line {
            break;
        }
        line_start += l.len();
    }
    let rest = &src[line_start.min(src.len())..];
    let offset = line_start + rest.char_indices().nth(column).map_or(rest.len(), |(i, _)| i);
    match src[..offset.min(src.len())].char_indices().next_back() {
        // at the end: point at the last char
        Some((last, _)) if offset >= src.len() => last,
        _ => offset.min(src.len()),
    }
}

impl Expr {
    /// The source text.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// Top-level variables the expression reads, e.g. `item`, `vars`
    /// (not comprehension variables, type names, or function namespaces).
    pub fn variables(&self) -> &BTreeSet<String> {
        &self.inner.variables
    }

    /// Field paths selected off `root`, best effort: `["profile.email"]`
    /// for `item.profile.email` and root `item`. Covers `a.b`, `a['b']`,
    /// `a.?b` and `has(a.b)`; a field selected dynamically (`a[k]`) isn't
    /// listed.
    pub fn paths_of(&self, root: &str) -> Vec<String> {
        let mut paths: Vec<String> =
            self.inner.chains.iter().filter(|(r, _)| r == root).map(|(_, path)| path.join(".")).collect();
        paths.dedup();
        paths
    }

    /// Functions the expression calls (names such as `lower`, `size`,
    /// `optional.of`); operators and macros expanded at compile time
    /// (`has`, `map`, `all`, ...) aren't listed.
    pub fn functions(&self) -> &BTreeSet<String> {
        &self.inner.functions
    }

    /// True when the expression reads no variable (`true`, `'human'`).
    pub fn is_constant(&self) -> bool {
        self.inner.variables.is_empty()
    }

    /// Evaluates the expression against `scope`.
    pub fn eval(&self, scope: &Scope<'_>) -> Result<Json, EvalError> {
        match &self.inner.path {
            Some(path) => eval_path(path, scope),
            None => self.eval_cel(scope),
        }
    }

    #[doc(hidden)]
    /// Evaluate through CEL even when a fast path exists (for tests comparing the two).
    pub fn eval_cel(&self, scope: &Scope<'_>) -> Result<Json, EvalError> {
        let env = functions::ENV
            .as_ref()
            .map_err(|e| EvalError::Failed { message: format!("the CEL environment failed to build: {e}") })?;
        let mut bindings = Bindings { vars: Vec::with_capacity(self.inner.variables.len()) };
        for name in &self.inner.variables {
            if let Some(json) = scope.get(name) {
                let val = match self.inner.projections.get(name) {
                    Some(projection) => convert::json_to_val_projected(json, projection),
                    None => convert::json_to_val(json),
                };
                bindings.vars.push((name.as_str(), val));
            }
        }
        let mut ctx = Context::with_env(Arc::clone(env));
        ctx.set_variable_resolver(&bindings);
        let result = Value::resolve_val(self.inner.program.expression(), &ctx).map_err(|e| self.map_error(e, scope))?;
        convert::val_to_json(result.as_ref()).map_err(|message| EvalError::Failed { message })
    }

    fn map_error(&self, error: ExecutionError, scope: &Scope<'_>) -> EvalError {
        match error {
            ExecutionError::NoSuchKey(key) => EvalError::Missing { path: self.missing_path(&key, scope) },
            ExecutionError::UndeclaredReference(name) if self.inner.variables.contains(name.as_str()) => {
                EvalError::Failed { message: format!("variable `{name}` is not available here") }
            }
            ExecutionError::UndeclaredReference(name) => {
                EvalError::Failed { message: format!("unknown function or variable `{name}`") }
            }
            ExecutionError::NoSuchOverload(overload)
                if overload.function() == "_._"
                    && overload.argument_types().first().map(String::as_str) == Some("null_type") =>
            {
                let message = match self.null_path(scope) {
                    Some((null, field)) => format!(
                        "cannot select field `{field}` of `{null}`, which is null \
                         (use `has()` or optional access `.?{field}`)"
                    ),
                    None => "cannot select a field of null (use `has()` or optional access `.?field`)".to_string(),
                };
                EvalError::Failed { message }
            }
            other => EvalError::Failed { message: other.to_string() },
        }
    }

    /// The first select chain that goes through a null value: the path of
    /// the null value and the field selected off it.
    fn null_path(&self, scope: &Scope<'_>) -> Option<(String, String)> {
        for (root, segments) in &self.inner.chains {
            let Some(mut current) = scope.get(root) else {
                continue;
            };
            for (i, segment) in segments.iter().enumerate() {
                match current {
                    Json::Null => {
                        let null = std::iter::once(root.as_str())
                            .chain(segments[..i].iter().map(String::as_str))
                            .collect::<Vec<_>>()
                            .join(".");
                        return Some((null, segment.clone()));
                    }
                    Json::Object(map) => match map.get(segment) {
                        Some(next) => current = next,
                        None => break,
                    },
                    _ => break,
                }
            }
        }
        None
    }

    /// The full path of the missing `key`: the first select chain that
    /// reaches an object lacking `key` where the chain selects it.
    fn missing_path(&self, key: &str, scope: &Scope<'_>) -> String {
        for (root, segments) in &self.inner.chains {
            let Some(mut current) = scope.get(root) else {
                continue;
            };
            for (i, segment) in segments.iter().enumerate() {
                let Json::Object(map) = current else {
                    break;
                };
                match map.get(segment) {
                    Some(next) => current = next,
                    None if segment == key => {
                        return format!("{root}.{}", segments[..=i].join("."));
                    }
                    None => break,
                }
            }
        }
        key.to_string()
    }
}

/// Per-evaluation CEL values of the variables, resolved without copying.
struct Bindings<'j> {
    vars: Vec<(&'j str, Box<dyn Val + 'j>)>,
}

impl VariableResolver for Bindings<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        self.vars.iter().find(|(name, _)| *name == variable).map(|(_, val)| CowVal::Borrowed(val.as_ref()))
    }
}

/// Variable bindings for an evaluation: name -> JSON value, borrowed (no
/// copy) or owned.
///
/// ```
/// # use muster_expr::Scope;
/// # let record = serde_json::json!({"id": 1});
/// # let vars = serde_json::json!({});
/// let scope = Scope::new().with("item", &record).with("vars", &vars);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Scope<'a> {
    vars: Vec<(Cow<'a, str>, Cow<'a, Json>)>,
}

impl<'a> Scope<'a> {
    /// An empty scope.
    pub fn new() -> Self {
        Self::default()
    }

    /// Binds `name` to a borrowed value (replacing any previous binding).
    pub fn with(mut self, name: impl Into<Cow<'a, str>>, value: &'a Json) -> Self {
        self.set(name, value);
        self
    }

    /// Binds `name` to an owned value (replacing any previous binding).
    pub fn with_owned(mut self, name: impl Into<Cow<'a, str>>, value: Json) -> Self {
        self.set_owned(name, value);
        self
    }

    /// Binds `name` to a borrowed value (replacing any previous binding).
    pub fn set(&mut self, name: impl Into<Cow<'a, str>>, value: &'a Json) {
        self.insert(name.into(), Cow::Borrowed(value));
    }

    /// Binds `name` to an owned value (replacing any previous binding).
    pub fn set_owned(&mut self, name: impl Into<Cow<'a, str>>, value: Json) {
        self.insert(name.into(), Cow::Owned(value));
    }

    /// Removes the binding of `name`.
    pub fn remove(&mut self, name: &str) {
        self.vars.retain(|(n, _)| n != name);
    }

    fn insert(&mut self, name: Cow<'a, str>, value: Cow<'a, Json>) {
        match self.vars.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name, value)),
        }
    }

    /// The value bound to `name`.
    pub fn get(&self, name: &str) -> Option<&Json> {
        self.vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_ref())
    }
}

#[cfg(test)]
mod tests;

/// Walk a plain field path through the scope's JSON, with CEL's results and errors.
fn eval_path(path: &[String], scope: &Scope<'_>) -> Result<Json, EvalError> {
    let Some((root, fields)) = path.split_first() else {
        return Err(EvalError::Failed { message: "empty path".to_string() });
    };
    let Some(mut cur) = scope.get(root) else {
        return Err(EvalError::Failed { message: format!("variable `{root}` is not available here") });
    };
    for (i, field) in fields.iter().enumerate() {
        cur = match cur {
            Json::Object(m) => match m.get(field) {
                Some(v) => v,
                None => return Err(EvalError::Missing { path: path[..i + 2].join(".") }),
            },
            Json::Null => {
                return Err(EvalError::Failed {
                    message: format!(
                        "cannot select field `{field}` of `{}`, which is null (use `has()` or optional access `.?{field}`)",
                        path[..i + 1].join(".")
                    ),
                });
            }
            other => {
                let kind = match other {
                    Json::Bool(_) => "bool",
                    Json::Number(_) => "number",
                    Json::String(_) => "string",
                    Json::Array(_) => "list",
                    _ => "value",
                };
                return Err(EvalError::Failed {
                    message: format!(
                        "cannot select field `{field}` of `{}`, which is a {kind}",
                        path[..i + 1].join(".")
                    ),
                });
            }
        };
    }
    Ok(cur.clone())
}
