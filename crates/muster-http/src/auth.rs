//! Applying credentials; fetching, caching and refreshing tokens.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::client::{Body, RequestKind, Shared, parse_json};
use crate::config::{AuthConfig, ClientAuth, Method};
use crate::error::{HttpError, Location};
use crate::json::{as_u64, describe_keys, lookup};
use crate::redact::Redactor;

/// Longest refresh margin before expiry.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// Credentials plus the token cache for token-based auth.
pub(crate) struct AuthState {
    pub(crate) config: AuthConfig,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    ids: AtomicU64,
}

#[derive(Clone)]
struct CachedToken {
    id: u64,
    header: HeaderName,
    value: HeaderValue,
    refresh_at: Option<SystemTime>,
}

impl AuthState {
    /// Registers the secrets of `config` with the redactor.
    pub(crate) fn new(config: AuthConfig, redactor: &Redactor) -> Self {
        for s in config.secrets() {
            redactor.add_secret(s);
        }
        // Encoded forms of credentials, in case a server echoes headers back.
        match &config {
            AuthConfig::Basic { username, password } => {
                redactor.add_secret(&B64.encode(format!("{username}:{}", password.expose())))
            }
            AuthConfig::OAuth2ClientCredentials {
                client_id, client_secret, client_auth: ClientAuth::Basic, ..
            } => redactor.add_secret(&B64.encode(format!("{client_id}:{}", client_secret.expose()))),
            _ => {}
        }
        match &config {
            AuthConfig::ApiKeyQuery { param, .. } => redactor.add_param(param),
            AuthConfig::ApiKeyHeader { header, .. } | AuthConfig::Login { header, .. } => redactor.add_header(header),
            _ => {}
        }
        if let AuthConfig::Login { body, .. } = &config
            && let Ok(v) = serde_json::from_str::<Value>(body.expose())
        {
            register_sensitive_strings(&v, redactor);
        }
        AuthState { config, token: tokio::sync::Mutex::new(None), ids: AtomicU64::new(0) }
    }

    /// Adds the credentials to `headers`. Returns the id of the cached token
    /// used, for token-based auth (to invalidate it on a 401).
    pub(crate) async fn apply(&self, shared: &Shared, headers: &mut HeaderMap) -> Result<Option<u64>, HttpError> {
        match &self.config {
            AuthConfig::None | AuthConfig::ApiKeyQuery { .. } => Ok(None),
            AuthConfig::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                headers.insert(AUTHORIZATION, sensitive_value(&format!("Basic {}", B64.encode(raw)))?);
                Ok(None)
            }
            AuthConfig::Bearer { token } => {
                headers.insert(AUTHORIZATION, sensitive_value(&format!("Bearer {}", token.expose()))?);
                Ok(None)
            }
            AuthConfig::ApiKeyHeader { header, key, prefix } => {
                let name = HeaderName::from_bytes(header.as_bytes())
                    .map_err(|_| HttpError::Config(format!("invalid API key header {header:?}")))?;
                let value = format!("{}{}", prefix.as_deref().unwrap_or(""), key.expose());
                headers.insert(name, sensitive_value(&value)?);
                Ok(None)
            }
            AuthConfig::OAuth2ClientCredentials { .. }
            | AuthConfig::OAuth2Password { .. }
            | AuthConfig::Login { .. } => {
                let t = self.token(shared).await?;
                headers.insert(t.header, t.value);
                Ok(Some(t.id))
            }
        }
    }

    /// Returns the cached token, fetching it when absent or due for refresh.
    /// The lock is held while fetching so concurrent requests fetch once.
    async fn token(&self, shared: &Shared) -> Result<CachedToken, HttpError> {
        let mut guard = self.token.lock().await;
        if let Some(t) = guard.as_ref()
            && t.refresh_at.is_none_or(|r| shared.clock.now() < r)
        {
            return Ok(t.clone());
        }
        let fetched = self.fetch(shared).await?;
        *guard = Some(fetched.clone());
        Ok(fetched)
    }

    /// Drops the cached token if it is still the one with `id`.
    pub(crate) async fn invalidate(&self, id: u64) {
        let mut guard = self.token.lock().await;
        if guard.as_ref().is_some_and(|t| t.id == id) {
            *guard = None;
        }
    }

    async fn fetch(&self, shared: &Shared) -> Result<CachedToken, HttpError> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let (url, method, body) = match &self.config {
            AuthConfig::OAuth2ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scopes,
                audience,
                client_auth,
            } => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "client_credentials");
                if !scopes.is_empty() {
                    form.append_pair("scope", &scopes.join(" "));
                }
                if let Some(a) = audience {
                    form.append_pair("audience", a);
                }
                match client_auth {
                    ClientAuth::Basic => {
                        let raw = format!("{client_id}:{}", client_secret.expose());
                        headers.insert(AUTHORIZATION, sensitive_value(&format!("Basic {}", B64.encode(raw)))?);
                    }
                    ClientAuth::Body => {
                        form.append_pair("client_id", client_id);
                        form.append_pair("client_secret", client_secret.expose());
                    }
                }
                (shared.resolve(token_url)?, Method::POST, form_body(form.finish()))
            }
            AuthConfig::OAuth2Password { token_url, client_id, client_secret, username, password, scopes } => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "password");
                form.append_pair("username", username);
                form.append_pair("password", password.expose());
                if !client_id.is_empty() {
                    form.append_pair("client_id", client_id);
                }
                if let Some(s) = client_secret {
                    form.append_pair("client_secret", s.expose());
                }
                if !scopes.is_empty() {
                    form.append_pair("scope", &scopes.join(" "));
                }
                (shared.resolve(token_url)?, Method::POST, form_body(form.finish()))
            }
            AuthConfig::Login { url, method, body, .. } => {
                let u = shared.resolve(url)?;
                if u.origin() == shared.base.origin() {
                    for (k, v) in shared.default_headers() {
                        headers.insert(k.clone(), v.clone());
                    }
                }
                let b = Body { data: Bytes::from(body.expose().as_bytes().to_vec()), content_type: "application/json" };
                (u, method.clone(), b)
            }
            _ => {
                return Err(HttpError::Config("internal: token fetch for a non-token auth".into()));
            }
        };
        let redacted = shared.redactor.url(&url);
        let resp = shared.execute(RequestKind::Token, &method, &url, &headers, Some(&body)).await.map_err(|e| {
            let message = e.to_string().lines().next().unwrap_or_default().to_owned();
            auth_error(&redacted, e.status(), message)
        })?;
        if !resp.is_success() {
            let message = format!("HTTP {}: {}", resp.status, shared.redactor.snippet(&resp.body, 300));
            return Err(auth_error(&redacted, Some(resp.status), message));
        }
        let json = parse_json(&resp.body, &redacted, &shared.redactor, Location::default()).map_err(|e| {
            let message = e.to_string().lines().next().unwrap_or_default().to_owned();
            auth_error(&redacted, Some(resp.status), message)
        })?;
        let now = shared.clock.now();
        let (token, expires_at, header, prefix) = match &self.config {
            AuthConfig::Login { token_path, expires_in_path, expires_at_path, header, prefix, .. } => {
                let token = token_at(&json, token_path, &redacted)?;
                let expires_at = expires_in_path
                    .as_deref()
                    .and_then(|p| lookup(&json, p))
                    .and_then(as_u64)
                    .map(|s| now + Duration::from_secs(s))
                    .or_else(|| expires_at_path.as_deref().and_then(|p| lookup(&json, p)).and_then(parse_expiry));
                let name = HeaderName::from_bytes(header.as_bytes())
                    .map_err(|_| HttpError::Config(format!("invalid login header {header:?}")))?;
                (token, expires_at, name, prefix.clone())
            }
            _ => {
                let token = token_at(&json, "access_token", &redacted)?;
                let expires_at = json.get("expires_in").and_then(as_u64).map(|s| now + Duration::from_secs(s));
                (token, expires_at, AUTHORIZATION, "Bearer ".to_owned())
            }
        };
        shared.redactor.add_secret(&token);
        let refresh_at = expires_at.map(|exp| {
            let lifetime = exp.duration_since(now).unwrap_or(Duration::ZERO);
            exp - (lifetime / 10).min(MAX_REFRESH_MARGIN)
        });
        tracing::debug!(url = %redacted, expires_in_s = ?expires_at.and_then(|e| e.duration_since(now).ok()).map(|d| d.as_secs()), "fetched a token");
        let id = self.ids.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(CachedToken { id, header, value: sensitive_value(&format!("{prefix}{token}"))?, refresh_at })
    }
}

fn form_body(s: String) -> Body {
    Body { data: Bytes::from(s.into_bytes()), content_type: "application/x-www-form-urlencoded" }
}

fn sensitive_value(v: &str) -> Result<HeaderValue, HttpError> {
    let mut hv = HeaderValue::from_str(v).map_err(|_| {
        HttpError::Config(
            "a credential contains characters not allowed in an HTTP header (newline, control or non-ASCII)".to_owned(),
        )
    })?;
    hv.set_sensitive(true);
    Ok(hv)
}

fn auth_error(url: &str, status: Option<u16>, message: String) -> HttpError {
    let hint = match status {
        Some(400 | 401 | 403) => {
            "the token endpoint rejected the request; check the client id/secret or username/password in the environment variables referenced by the auth block, and the scopes/audience"
        }
        Some(404 | 405) => "check token_url / the login url and method",
        Some(_) => "the token endpoint failed; retry later",
        None => "check that token_url / the login url is reachable",
    };
    HttpError::Auth { at: Location::default(), url: url.to_owned(), status, message, hint }
}

fn token_at(json: &Value, path: &str, url: &str) -> Result<String, HttpError> {
    match lookup(json, path) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(HttpError::Auth {
            at: Location::default(),
            url: url.to_owned(),
            status: None,
            message: format!("no token at `{path}` in the response (the body is {})", describe_keys(json)),
            hint: "set the token path to the field holding the token (dotted, e.g. data.access_token)",
        }),
    }
}

/// RFC 3339 text, or epoch seconds (milliseconds when > 10^11).
fn parse_expiry(v: &Value) -> Option<SystemTime> {
    if let Value::String(s) = v
        && let Ok(t) = chrono::DateTime::parse_from_rfc3339(s.trim())
    {
        let secs = u64::try_from(t.timestamp()).ok()?;
        return Some(UNIX_EPOCH + Duration::from_secs(secs));
    }
    let n = as_u64(v)?;
    let secs = if n > 100_000_000_000 { n / 1000 } else { n };
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Registers string values under sensitive-looking keys of a login body.
fn register_sensitive_strings(v: &Value, redactor: &Redactor) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                if let Value::String(s) = val
                    && redactor.is_sensitive_param(k)
                {
                    redactor.add_secret(s);
                } else {
                    register_sensitive_strings(val, redactor);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| register_sensitive_strings(i, redactor)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expiry_formats() {
        let t = parse_expiry(&json!("2030-01-01T00:00:00Z")).unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1_893_456_000);
        let t = parse_expiry(&json!(1_893_456_000u64)).unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1_893_456_000);
        let t = parse_expiry(&json!(1_893_456_000_000u64)).unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1_893_456_000);
        assert!(parse_expiry(&json!("soon")).is_none());
    }

    #[test]
    fn login_body_secrets_registered() {
        let r = Redactor::default();
        let body = crate::Secret::new(r#"{"user":"alice","password":"pw-9876","nested":{"apiKey":"k-5555"}}"#);
        let _ = AuthState::new(
            AuthConfig::Login {
                url: "/login".into(),
                method: Method::POST,
                body,
                token_path: "token".into(),
                expires_in_path: None,
                expires_at_path: None,
                header: "Authorization".into(),
                prefix: "Bearer ".into(),
            },
            &r,
        );
        assert_eq!(r.scrub("pw-9876 k-5555 alice"), "*** *** alice");
    }
}
