//! Templates: `${ENV_VAR}` references (resolved from the environment at run time, never stored) and
//! `{scope.field}` path variables (`{resource.id}`, `{principal.id}`, `{entitlement.slug}`, `{vars.NAME}`).

use std::fmt;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    /// `${NAME}`: an environment variable.
    Env(String),
    /// `{scope.field}`: a value from the request's context.
    Var {
        scope: String,
        field: String,
    },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub source: String,
    pub parts: Vec<Part>,
}

/// A template syntax problem: byte offset within the template and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

fn valid_env_name(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Template {
    /// Parse a template. With `allow_vars` false, `{...}` is literal text (used for header values and
    /// credentials, where braces can be part of the value).
    pub fn parse(src: &str, allow_vars: bool) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let bytes = src.as_bytes();
        let mut i = 0;
        while i < src.len() {
            let rest = &src[i..];
            if rest.starts_with("${") {
                let Some(end) = rest.find('}') else {
                    return Err(TemplateError { offset: i, message: "unclosed `${`".into() });
                };
                let name = &rest[2..end];
                if !valid_env_name(name) {
                    return Err(TemplateError {
                        offset: i,
                        message: format!("`${{{name}}}` is not a valid environment variable name"),
                    });
                }
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Env(name.to_string()));
                i += end + 1;
                continue;
            }
            if allow_vars && bytes[i] == b'{' {
                let Some(end) = rest.find('}') else {
                    return Err(TemplateError { offset: i, message: "unclosed `{`".into() });
                };
                let inner = rest[1..end].trim();
                let Some((scope, field)) = inner.split_once('.') else {
                    return Err(TemplateError {
                        offset: i,
                        message: format!("`{{{inner}}}` should be `{{scope.field}}`, e.g. `{{resource.id}}`"),
                    });
                };
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Var { scope: scope.to_string(), field: field.to_string() });
                i += end + 1;
                continue;
            }
            let ch = rest.chars().next().unwrap_or(' ');
            lit.push(ch);
            i += ch.len_utf8();
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template { source: src.to_string(), parts })
    }

    /// Environment variables referenced.
    pub fn env_vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Env(n) => Some(n.as_str()),
            _ => None,
        })
    }

    /// Path variables referenced, as (scope, field).
    pub fn path_vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var { scope, field } => Some((scope.as_str(), field.as_str())),
            _ => None,
        })
    }

    /// True when the whole value is one `${VAR}` reference (how a secret must be written).
    pub fn is_single_env(&self) -> bool {
        matches!(self.parts.as_slice(), [Part::Env(_)])
    }

    pub fn has_env(&self) -> bool {
        self.env_vars().next().is_some()
    }

    /// Render with `env` for `${...}` and `var` for `{scope.field}`. Fails naming the first missing value.
    pub fn render(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        var: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Result<String, RenderError> {
        let mut out = String::with_capacity(self.source.len());
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Env(n) => match env(n) {
                    Some(v) => out.push_str(&v),
                    None => return Err(RenderError::MissingEnv(n.clone())),
                },
                Part::Var { scope, field } => match var(scope, field) {
                    Some(v) => out.push_str(&v),
                    None => return Err(RenderError::MissingVar(format!("{scope}.{field}"))),
                },
            }
        }
        Ok(out)
    }
}

/// A template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    MissingEnv(String),
    MissingVar(String),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::MissingEnv(n) => {
                write!(f, "environment variable `{n}` is not set (export {n}=... before running)")
            }
            RenderError::MissingVar(n) => write!(f, "no value for `{{{n}}}` here"),
        }
    }
}

impl std::error::Error for RenderError {}

/// Percent-encode a value for use inside a URL path segment.
pub fn encode_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'@' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_env_and_vars() {
        let t = Template::parse("/groups/{resource.id}/members?x=${TOKEN}", true).unwrap();
        assert_eq!(t.path_vars().collect::<Vec<_>>(), vec![("resource", "id")]);
        assert_eq!(t.env_vars().collect::<Vec<_>>(), vec!["TOKEN"]);
        let out = t.render(&|n| (n == "TOKEN").then(|| "s".to_string()), &|_, _| Some("g 1".into())).unwrap();
        assert_eq!(out, "/groups/g 1/members?x=s");
        assert!(Template::parse("${TOKEN}", false).unwrap().is_single_env());
        assert!(Template::parse("{a}", false).unwrap().parts == vec![Part::Lit("{a}".into())]);
    }

    #[test]
    fn reports_bad_syntax() {
        assert_eq!(Template::parse("/a/{resource.id", true).unwrap_err().offset, 3);
        assert!(Template::parse("${1BAD}", false).is_err());
        assert!(Template::parse("/a/{id}", true).unwrap_err().message.contains("scope.field"));
        assert_eq!(encode_path_segment("a b/c"), "a%20b%2Fc");
    }
}
