//! Keeps secrets out of prompts: only `${VAR}` names may reach a model.
//!
//! Before a prompt is sent, [`Redactor::redact`] replaces
//! - the values of environment variables the spec or draft references (`${ACME_TOKEN}` → its value is
//!   replaced by `${ACME_TOKEN}` wherever it appears), and the LLM API key itself;
//! - `Bearer <token>` / `Basic <credentials>` literals;
//! - literal values of secret-named keys (`password: hunter22`, `"api_key": "abc..."`, `token=...`);
//! - private key blocks, well-known token prefixes (`ghp_`, `sk-`, `xoxb-`, `AKIA`, `glpat-`) and long
//!   high-entropy tokens.

use std::collections::BTreeMap;

/// What was redacted, by kind (for the log).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactions {
    pub by_kind: BTreeMap<&'static str, usize>,
}

impl Redactions {
    pub fn total(&self) -> usize {
        self.by_kind.values().sum()
    }
    fn add(&mut self, kind: &'static str) {
        *self.by_kind.entry(kind).or_insert(0) += 1;
    }
    pub fn merge(&mut self, other: &Redactions) {
        for (k, v) in &other.by_kind {
            *self.by_kind.entry(k).or_insert(0) += v;
        }
    }
}

impl std::fmt::Display for Redactions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.by_kind.iter().map(|(k, v)| format!("{v} {k}")).collect();
        f.write_str(&parts.join(", "))
    }
}

/// The placeholder for a credential that has no variable name.
pub const REDACTED: &str = "<redacted>";

const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "clientsecret",
    "token",
    "accesstoken",
    "refreshtoken",
    "apikey",
    "apitoken",
    "authtoken",
    "privatekey",
    "authorization",
    "xapikey",
    "sessiontoken",
    "bearer",
];

/// Replaces secret values in prompt text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// (value, replacement), longest value first.
    known: Vec<(String, String)>,
}

impl Redactor {
    /// Known secret values: `(variable name, value)`. Values shorter than 4 characters are ignored (they
    /// would match everywhere; no credential is that short).
    pub fn new(values: impl IntoIterator<Item = (String, String)>) -> Redactor {
        let mut known: Vec<(String, String)> = values
            .into_iter()
            .filter(|(_, v)| v.trim().chars().count() >= 4)
            .map(|(name, v)| (v, if name.is_empty() { REDACTED.to_string() } else { format!("${{{name}}}") }))
            .collect();
        known.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        known.dedup_by(|a, b| a.0 == b.0);
        Redactor { known }
    }

    /// The values of every `${VAR}` referenced in `texts`, looked up in `env`, plus `extra` values.
    pub fn for_texts<'a>(
        texts: impl IntoIterator<Item = &'a str>,
        env: &dyn Fn(&str) -> Option<String>,
        extra: impl IntoIterator<Item = (String, String)>,
    ) -> Redactor {
        let mut vals = Vec::new();
        for t in texts {
            for name in env_refs(t) {
                if let Some(v) = env(&name) {
                    vals.push((name, v));
                }
            }
        }
        vals.extend(extra);
        Redactor::new(vals)
    }

    /// Add known values (e.g. the variables a newer answer references).
    pub fn extend(&mut self, values: impl IntoIterator<Item = (String, String)>) {
        let mut all: Vec<(String, String)> = self
            .known
            .drain(..)
            .map(|(v, r)| (r.trim_start_matches("${").trim_end_matches('}').to_string(), v))
            .map(|(n, v)| if n == REDACTED { (String::new(), v) } else { (n, v) })
            .collect();
        all.extend(values);
        *self = Redactor::new(all);
    }

    /// Redact `text`; returns the cleaned text and what was replaced.
    pub fn redact(&self, text: &str) -> (String, Redactions) {
        let mut r = Redactions::default();
        let mut out = text.to_string();
        for (value, repl) in &self.known {
            let n = out.matches(value.as_str()).count();
            if n > 0 {
                out = out.replace(value.as_str(), repl);
                for _ in 0..n {
                    r.add("environment value(s)");
                }
            }
        }
        out = redact_private_keys(&out, &mut r);
        out = redact_auth_schemes(&out, &mut r);
        out = redact_secret_keys(&out, &mut r);
        out = redact_tokens(&out, &mut r);
        (out, r)
    }
}

/// The `${NAME}` references in `text`.
pub fn env_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                let name = &after[..j];
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !out.iter().any(|n| n == name)
                {
                    out.push(name.to_string());
                }
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

fn redact_private_keys(text: &str, r: &mut Redactions) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("-----BEGIN ") {
        let is_key = rest[i..].lines().next().is_some_and(|l| l.contains("PRIVATE KEY"));
        if !is_key {
            out.push_str(&rest[..i + 11]);
            rest = &rest[i + 11..];
            continue;
        }
        match rest[i..].find("-----END ") {
            Some(j) => {
                let end = i + j;
                let tail = rest[end + 9..].find("-----").map(|k| end + 9 + k + 5).unwrap_or(rest.len());
                out.push_str(&rest[..i]);
                out.push_str(REDACTED);
                r.add("private key(s)");
                rest = &rest[tail..];
            }
            None => {
                out.push_str(&rest[..i]);
                out.push_str(REDACTED);
                r.add("private key(s)");
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '/' | '=' | '~')
}

/// `Bearer xxx` and `Basic xxx` with a literal credential.
fn redact_auth_schemes(text: &str, r: &mut Redactions) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        let rest = &text[i..];
        let scheme = ["Bearer ", "bearer ", "BEARER ", "Basic ", "basic ", "Token ", "token "]
            .iter()
            .find(|s| rest.starts_with(**s))
            .copied();
        let boundary = i == 0 || !(bytes[i - 1] as char).is_ascii_alphanumeric();
        if let Some(s) = scheme
            && boundary
        {
            let after = &rest[s.len()..];
            let len: usize = after.chars().take_while(|c| is_token_char(*c)).map(char::len_utf8).sum();
            let tok = after[..len].trim_end_matches(['.', ',']);
            let len = tok.len();
            if len >= 8 && looks_like_credential_literal(tok) {
                out.push_str(s);
                out.push_str(REDACTED);
                r.add("authorization header value(s)");
                i += s.len() + len;
                continue;
            }
        }
        let Some(c) = rest.chars().next() else { break };
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// A credential literal is not a variable reference, a template, an expression or plain prose.
fn looks_like_credential_literal(tok: &str) -> bool {
    if tok.starts_with('$') || tok.starts_with('{') || tok.starts_with('<') || tok.contains("${") {
        return false;
    }
    if tok.starts_with("item.") || tok.starts_with("response.") || tok.starts_with("vars.") {
        return false;
    }
    let has_digit = tok.chars().any(|c| c.is_ascii_digit());
    let has_alpha = tok.chars().any(|c| c.is_ascii_alphabetic());
    if tok.chars().all(|c| c.is_ascii_alphabetic()) {
        // a word (`authentication`, `endpoint`) unless long and mixed case
        return tok.len() >= 20
            && tok.chars().any(|c| c.is_ascii_uppercase())
            && tok.chars().any(|c| c.is_ascii_lowercase());
    }
    let lower_word = tok.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == '_');
    has_alpha && (has_digit || (!lower_word && tok.len() >= 12) || tok.len() >= 24)
}

fn norm_key(k: &str) -> String {
    k.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase()
}

/// `password: literal`, `"api_key": "literal"`, `token=literal`.
fn redact_secret_keys(text: &str, r: &mut Redactions) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&redact_line(line, r));
    }
    out
}

fn redact_line(line: &str, r: &mut Redactions) -> String {
    let mut out = String::with_capacity(line.len());
    let mut last = 0;
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (pos, c) = chars[k];
        if c != ':' && c != '=' {
            k += 1;
            continue;
        }
        // the key: the identifier (optionally quoted) right before the separator
        let before = line[..pos].trim_end_matches(['"', '\'']);
        let key_start = before
            .char_indices()
            .rev()
            .find(|(_, ch)| !(ch.is_ascii_alphanumeric() || *ch == '_' || *ch == '-'))
            .map(|(i, ch)| i + ch.len_utf8())
            .unwrap_or(0);
        let key = &before[key_start..];
        let nk = norm_key(key);
        let secretish = !nk.is_empty() && SECRET_KEYS.iter().any(|s| nk == *s || (nk.ends_with(s) && s.len() >= 6));
        if !secretish {
            k += 1;
            continue;
        }
        // the value
        let after = &line[pos + 1..];
        let ws = after.len() - after.trim_start_matches([' ', '\t']).len();
        let v = &after[ws..];
        let (quote, body) = match v.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &v[1..]),
            _ => (None, v),
        };
        let len = match quote {
            Some(q) => body.find(q).unwrap_or(0),
            None => body
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '}' | ']' | '&' | ';'))
                .map(char::len_utf8)
                .sum(),
        };
        let value = &body[..len];
        if value.chars().count() >= 6 && !value.contains(' ') && looks_like_secret_value(value) {
            let vstart = pos + 1 + ws + usize::from(quote.is_some());
            out.push_str(&line[last..vstart]);
            out.push_str(REDACTED);
            last = vstart + len;
            r.add("secret-named value(s)");
            while k < chars.len() && chars[k].0 < last {
                k += 1;
            }
            continue;
        }
        k += 1;
    }
    out.push_str(&line[last..]);
    out
}

fn looks_like_secret_value(v: &str) -> bool {
    if v.starts_with('$') || v.starts_with('{') || v.starts_with('[') || v.starts_with('<') || v.starts_with('#') {
        return false;
    }
    if v.contains("${") || v.starts_with("item.") || v.starts_with("response.") || v.contains("'") {
        return false;
    }
    // JSON-schema and prose words that follow such keys: `type: string`, `format: password`
    !matches!(
        v.to_ascii_lowercase().as_str(),
        "string"
            | "integer"
            | "boolean"
            | "object"
            | "array"
            | "number"
            | "null"
            | "true"
            | "false"
            | "required"
            | "optional"
            | "redacted"
            | "bearer"
            | "basic"
            | "header"
            | "query"
            | "cookie"
            | "password"
            | "secret"
    )
}

fn entropy(s: &str) -> f64 {
    let mut counts: BTreeMap<char, usize> = BTreeMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0) += 1;
    }
    let n = s.chars().count() as f64;
    counts.values().map(|&c| c as f64 / n).map(|p| -p * p.log2()).sum()
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// 24-hex ids (ObjectIds, Atlassian account ids) are identifiers, not secrets.
fn short_hex_id(w: &str) -> bool {
    (w.len() < 32 && w.chars().all(|c| c.is_ascii_hexdigit()))
        // UUID-like ids, also malformed ones in examples
        || (w.matches('-').count() >= 2 && w.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
}

const TOKEN_PREFIXES: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "sk-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "glpat-",
    "AKIA",
    "ASIA",
    "AIza",
    "ya29.",
];

/// Long high-entropy tokens and well-known credential prefixes.
fn redact_tokens(text: &str, r: &mut Redactions) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String, r: &mut Redactions| {
        if word.is_empty() {
            return;
        }
        let w = word.trim_matches(|c| matches!(c, '.' | '/' | '='));
        // `key=value` (query strings): judge the value
        let w = w.rsplit_once('=').map(|(_, v)| v).unwrap_or(w);
        let prefixed = TOKEN_PREFIXES.iter().any(|p| w.starts_with(p) && w.len() >= p.len() + 12)
            && w.chars().any(|c| c.is_ascii_digit());
        let looks_path = w.contains('/') && (w.starts_with('/') || w.contains("://") || w.matches('/').count() > 2);
        let high = w.len() >= 24
            && !looks_path
            && !is_uuid(w)
            && !short_hex_id(w)
            && !w.contains("${")
            && w.chars().any(|c| c.is_ascii_digit())
            && w.chars().any(|c| c.is_ascii_alphabetic())
            && w.chars().filter(char::is_ascii_digit).count() >= 3
            && entropy(w) >= 3.5
            && !w.contains('.')
            || (w.len() >= 32 && w.chars().all(|c| c.is_ascii_hexdigit()) && !w.chars().all(|c| c.is_ascii_digit()));
        if prefixed || high {
            out.push_str(REDACTED);
            r.add("token-like string(s)");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/' | '=' | '.') {
            word.push(c);
        } else {
            flush(&mut word, &mut out, r);
            out.push(c);
        }
    }
    flush(&mut word, &mut out, r);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red(t: &str) -> String {
        Redactor::default().redact(t).0
    }

    #[test]
    fn env_values_become_their_names() {
        let r = Redactor::new([("ACME_TOKEN".to_string(), "s3cr3t-Value-42".to_string())]);
        let (out, n) = r.redact("auth: { token: s3cr3t-Value-42 } and again s3cr3t-Value-42");
        assert!(!out.contains("s3cr3t-Value-42"), "{out}");
        assert!(out.contains("${ACME_TOKEN}"), "{out}");
        assert!(n.total() >= 2);
    }

    #[test]
    fn patterns() {
        assert!(!red("Authorization: Bearer abcDEF123456789xyz").contains("abcDEF123456789xyz"));
        assert!(!red("password: hunter2hunter2").contains("hunter2hunter2"));
        assert!(!red(r#"{"api_key": "k3y-value-here"}"#).contains("k3y-value-here"));
        assert!(!red("token=Zm9vYmFyYmF6cXV4").contains("Zm9vYmFyYmF6cXV4"));
        assert!(!red("use ghp_abcdefghijklmnop1234567890AB here").contains("ghp_abcdefghijklmnop1234567890AB"));
        assert!(!red("x Q2hhbmdlTWUxMjM0NTY3ODkwYWJjZGVmZ2g5 y").contains("Q2hhbmdlTWUxMjM0NTY3ODkwYWJjZGVmZ2g5"));
        let pem = "key: |\n  -----BEGIN RSA PRIVATE KEY-----\n  MIIabc\n  -----END RSA PRIVATE KEY-----\nnext: 1";
        let out = red(pem);
        assert!(!out.contains("MIIabc") && out.contains("next: 1"), "{out}");
    }

    #[test]
    fn leaves_specs_alone() {
        let spec = "auth: { type: basic, username: \"${ACME_USER}\", password: \"${ACME_PASSWORD}\" }\n\
                    token: { type: string, format: password }\n\
                    \"password\": {\"type\": \"string\"}\n\
                    path: /api/v1/groups/{resource.id}/members\n\
                    id: 3fa85f64-5717-4562-b3fc-2c963f66afa6\n\
                    Authenticate with a bearer token in the Authorization header.\n\
                    kind: \"'token'\"\n";
        assert_eq!(red(spec), spec);
    }
}
