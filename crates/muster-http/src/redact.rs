//! Redaction of URLs, secrets and body snippets.

use std::sync::RwLock;
use url::Url;

/// Query parameter names whose values are always replaced by `***`
/// (compared case-insensitively).
pub const SENSITIVE_PARAMS: &[&str] = &[
    "api_key",
    "apikey",
    "api-key",
    "key",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "auth",
    "authorization",
    "secret",
    "client_secret",
    "password",
    "passwd",
    "pwd",
    "signature",
    "sig",
    "code",
    "session",
    "sessionid",
    "session_id",
    "jwt",
    "assertion",
];

/// Substrings that make a query parameter sensitive wherever they appear in
/// its name (e.g. `x_auth_token`, `clientSecret`).
const SENSITIVE_FRAGMENTS: &[&str] = &["token", "secret", "password", "apikey", "api_key", "api-key", "signature"];

/// Header names whose values are never shown.
pub const SENSITIVE_HEADERS: &[&str] =
    &["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "x-auth-token"];

/// Scrubs known secret values and sensitive query parameters.
///
/// Shared by every clone of a client; secrets are added when the client is
/// built, when credentials are swapped (`with_auth`) and when a token is
/// fetched.
#[derive(Default)]
pub(crate) struct Redactor {
    params: RwLock<Vec<String>>,
    headers: RwLock<Vec<String>>,
    secrets: RwLock<Vec<String>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor")
    }
}

impl Redactor {
    /// Marks an extra query parameter name as sensitive.
    pub(crate) fn add_param(&self, name: &str) {
        let name = name.to_ascii_lowercase();
        if let Ok(mut p) = self.params.write()
            && !p.contains(&name)
        {
            p.push(name);
        }
    }

    /// Marks an extra header name as sensitive.
    pub(crate) fn add_header(&self, name: &str) {
        let name = name.to_ascii_lowercase();
        if let Ok(mut h) = self.headers.write()
            && !h.contains(&name)
        {
            h.push(name);
        }
    }

    /// Registers a secret value to be scrubbed from every string we emit.
    pub(crate) fn add_secret(&self, value: &str) {
        // Very short values would redact ordinary text; they cannot be
        // scrubbed reliably anyway.
        if value.len() < 3 {
            return;
        }
        if let Ok(mut s) = self.secrets.write() {
            let mut variants = vec![value.to_owned()];
            let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            if encoded != value {
                variants.push(encoded);
            }
            for v in variants {
                if !s.contains(&v) {
                    s.push(v);
                }
            }
            // Longest first so that a secret containing another is fully replaced.
            s.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    /// Is this query parameter name sensitive?
    pub(crate) fn is_sensitive_param(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        if SENSITIVE_PARAMS.contains(&lower.as_str()) || SENSITIVE_FRAGMENTS.iter().any(|f| lower.contains(f)) {
            return true;
        }
        self.params.read().map(|p| p.contains(&lower)).unwrap_or(true)
    }

    /// Is this header name sensitive?
    pub(crate) fn is_sensitive_header(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        if SENSITIVE_HEADERS.contains(&lower.as_str()) || SENSITIVE_FRAGMENTS.iter().any(|f| lower.contains(f)) {
            return true;
        }
        self.headers.read().map(|h| h.contains(&lower)).unwrap_or(true)
    }

    /// Replaces every registered secret value in `text` by `***`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if let Ok(secrets) = self.secrets.read() {
            for s in secrets.iter() {
                if out.contains(s.as_str()) {
                    out = out.replace(s.as_str(), "***");
                }
            }
        }
        out
    }

    /// Redacts a URL: strips userinfo and the fragment, replaces the values of
    /// sensitive query parameters by `***`, then scrubs known secrets.
    pub(crate) fn url(&self, url: &Url) -> String {
        let mut u = url.clone();
        let _ = u.set_username("");
        let _ = u.set_password(None);
        u.set_fragment(None);
        if u.query().is_some() {
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let v = if self.is_sensitive_param(&k) { "***".to_owned() } else { v.into_owned() };
                    (k.into_owned(), v)
                })
                .collect();
            if pairs.is_empty() {
                u.set_query(None);
            } else {
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
        }
        self.scrub(u.as_str())
    }

    /// Redacts a URL given as text; unparsable text is only scrubbed.
    pub(crate) fn url_str(&self, url: &str) -> String {
        match Url::parse(url) {
            Ok(u) => self.url(&u),
            Err(_) => self.scrub(url),
        }
    }

    /// A short, scrubbed, single-line snippet of a response body.
    pub(crate) fn snippet(&self, body: &[u8], max: usize) -> String {
        let text = String::from_utf8_lossy(body);
        let text = self.scrub(&text);
        let mut flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        if flat.chars().count() > max {
            flat = flat.chars().take(max).collect::<String>() + "…";
        }
        let trimmed = flat.trim();
        if trimmed.is_empty() { "<empty body>".to_owned() } else { trimmed.to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_urls() {
        let r = Redactor::default();
        r.add_param("X-Custom");
        let u =
            Url::parse("https://user:pw@api.example.com/v1/users?page=2&api_key=abc&x-custom=z&clientSecret=q#frag")
                .unwrap();
        assert_eq!(r.url(&u), "https://api.example.com/v1/users?page=2&api_key=***&x-custom=***&clientSecret=***");
    }

    #[test]
    fn scrubs_secrets_and_encoded_secrets() {
        let r = Redactor::default();
        r.add_secret("s3cr3t/+=");
        assert_eq!(r.scrub("a s3cr3t/+= b"), "a *** b");
        assert_eq!(r.scrub("q=s3cr3t%2F%2B%3D"), "q=***");
        assert_eq!(r.snippet(b"{\"echo\":\"s3cr3t/+=\"}\n", 100), "{\"echo\":\"***\"}");
    }

    #[test]
    fn sensitive_headers() {
        let r = Redactor::default();
        assert!(r.is_sensitive_header("Authorization"));
        assert!(r.is_sensitive_header("X-Api-Key"));
        assert!(!r.is_sensitive_header("Accept"));
        r.add_header("X-Tenant-Key");
        assert!(r.is_sensitive_header("x-tenant-key"));
    }
}
