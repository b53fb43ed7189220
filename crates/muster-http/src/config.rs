//! Client configuration types.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::Secret;

pub use reqwest::Method;

/// How an OAuth2 client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// `Authorization: Basic base64(client_id:client_secret)` (RFC 6749 §2.3.1).
    #[default]
    Basic,
    /// `client_id` and `client_secret` as form fields in the request body.
    Body,
}

/// Credentials applied to requests.
///
/// Static credentials (basic, bearer, API key) are applied to every request to
/// the base URL's origin. Token-based ones (OAuth2, login) fetch a token
/// lazily, cache it, refresh it shortly before it expires and, on a 401,
/// refresh once and retry the request.
#[derive(Debug, Clone, Default)]
pub enum AuthConfig {
    /// No credentials.
    #[default]
    None,
    /// HTTP basic authentication.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: Secret,
    },
    /// An API key in a header, e.g. `X-API-Key: <key>` or
    /// `Authorization: SSWS <key>` (with `prefix: Some("SSWS ")`).
    ApiKeyHeader {
        /// Header name.
        header: String,
        /// The key.
        key: Secret,
        /// Text put before the key (include the space).
        prefix: Option<String>,
    },
    /// An API key as a query parameter (its value is redacted in every URL we show).
    ApiKeyQuery {
        /// Query parameter name.
        param: String,
        /// The key.
        key: Secret,
    },
    /// OAuth2 client-credentials grant.
    OAuth2ClientCredentials {
        /// Token endpoint (absolute, or relative to the base URL).
        token_url: String,
        /// Client id.
        client_id: String,
        /// Client secret.
        client_secret: Secret,
        /// Scopes, sent space-separated as `scope` (omitted when empty).
        scopes: Vec<String>,
        /// Optional `audience` form field (Auth0 and others).
        audience: Option<String>,
        /// How the client authenticates at the token endpoint.
        client_auth: ClientAuth,
    },
    /// OAuth2 resource-owner password grant.
    OAuth2Password {
        /// Token endpoint (absolute, or relative to the base URL).
        token_url: String,
        /// Client id (sent as a form field).
        client_id: String,
        /// Client secret (sent as a form field when present).
        client_secret: Option<Secret>,
        /// User name.
        username: String,
        /// Password.
        password: Secret,
        /// Scopes, sent space-separated as `scope` (omitted when empty).
        scopes: Vec<String>,
    },
    /// A custom login call returning a token in its JSON body.
    Login {
        /// Login URL (absolute, or relative to the base URL).
        url: String,
        /// Usually POST.
        method: Method,
        /// JSON request body, secrets already substituted.
        body: Secret,
        /// Dotted path of the token in the response (`token`, `data.access_token`).
        token_path: String,
        /// Dotted path of the lifetime in seconds, if any.
        expires_in_path: Option<String>,
        /// Dotted path of the expiry time (RFC 3339, or epoch seconds/milliseconds), if any.
        expires_at_path: Option<String>,
        /// Header carrying the token (usually `Authorization`).
        header: String,
        /// Text put before the token (usually `Bearer `).
        prefix: String,
    },
}

impl AuthConfig {
    /// True for OAuth2 and login, which fetch and cache a token.
    pub fn is_token_based(&self) -> bool {
        matches!(
            self,
            AuthConfig::OAuth2ClientCredentials { .. } | AuthConfig::OAuth2Password { .. } | AuthConfig::Login { .. }
        )
    }

    /// All secret values in this configuration (for the redactor).
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match self {
            AuthConfig::None => vec![],
            AuthConfig::Basic { password, .. } => vec![password.expose()],
            AuthConfig::Bearer { token } => vec![token.expose()],
            AuthConfig::ApiKeyHeader { key, .. } | AuthConfig::ApiKeyQuery { key, .. } => {
                vec![key.expose()]
            }
            AuthConfig::OAuth2ClientCredentials { client_secret, .. } => {
                vec![client_secret.expose()]
            }
            AuthConfig::OAuth2Password { client_secret, password, .. } => {
                let mut v = vec![password.expose()];
                if let Some(s) = client_secret {
                    v.push(s.expose());
                }
                v
            }
            // The body is JSON holding secrets; the whole text is registered,
            // and string values inside it individually (see client.rs).
            AuthConfig::Login { body, .. } => vec![body.expose()],
        }
    }
}

/// TLS settings. Server certificates are checked against the webpki roots
/// plus `ca_pem`.
#[derive(Clone, Default)]
pub struct TlsConfig {
    /// Extra trusted CA certificate(s), PEM (may hold several).
    pub ca_pem: Option<Vec<u8>>,
    /// Client certificate chain and private key in one PEM, for mTLS.
    pub client_identity_pem: Option<Vec<u8>>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca_pem", &self.ca_pem.as_ref().map(|p| p.len()))
            .field("client_identity_pem", &self.client_identity_pem.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Retry behaviour.
///
/// Retries happen on the statuses in `statuses` and on connection
/// errors/timeouts, with exponential backoff and full jitter
/// (`random(0, min(max_backoff, initial_backoff * 2^(n-1)))`). A `Retry-After`
/// header (seconds or HTTP-date) replaces the computed backoff; if it asks for
/// more than `max_retry_after` the request fails with
/// [`crate::HttpError::RetryAfterTooLong`] instead of sleeping.
///
/// Non-idempotent methods (POST, PATCH) are retried only on 429 and 503 (the
/// server did not process them) and on connect errors (nothing was sent).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts including the first (0 is treated as 1).
    pub max_attempts: u32,
    /// First backoff ceiling.
    pub initial_backoff: Duration,
    /// Largest computed backoff.
    pub max_backoff: Duration,
    /// Statuses that are retried (default 429, 502, 503, 504).
    pub statuses: Vec<u16>,
    /// Longest `Retry-After` we are willing to sleep (default 5 minutes).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            statuses: vec![429, 502, 503, 504],
            max_retry_after: Duration::from_secs(300),
        }
    }
}

/// Client-side rate limit, shared by all clones of a client.
///
/// Guarantee: no more than `per_second` requests (rounded down, at least 1)
/// are started in any window of one second, retries and token requests
/// included. See [`crate::HttpClient`] for details.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests per second (may be fractional, e.g. 0.5 = one every 2 s).
    pub per_second: f64,
    /// Requests that may start back to back; capped at `per_second`.
    pub burst: u32,
}

/// Source of wall-clock time, injectable for tests (token expiry,
/// `Retry-After` HTTP-dates, request log timestamps). Sleeping always uses
/// `tokio::time`, so tests may also use `tokio::time::pause()`.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock(Arc::new(SystemTime::now))
    }

    /// A clock backed by a function.
    pub fn new(f: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Clock(Arc::new(f))
    }

    /// The current time.
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// Everything needed to build an [`crate::HttpClient`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL; request paths are appended to it (`https://x/api` + `/users`
    /// = `https://x/api/users`).
    pub base_url: String,
    /// Headers added to every request to the base origin (values are secret).
    pub headers: Vec<(String, Secret)>,
    /// Query parameters added to every request (unless the request sets them).
    pub query: Vec<(String, String)>,
    /// Per-request timeout (whole exchange including the body).
    pub timeout: Duration,
    /// TLS settings.
    pub tls: TlsConfig,
    /// Credentials.
    pub auth: AuthConfig,
    /// Retry behaviour.
    pub retry: RetryPolicy,
    /// Optional client-side rate limit.
    pub rate_limit: Option<RateLimit>,
    /// Requests in flight at once (0 is treated as 1).
    pub max_concurrency: usize,
    /// Safety limit on pages per pagination (0 = unlimited).
    pub max_pages: u64,
    /// User-Agent header.
    pub user_agent: String,
    /// Wall clock (token expiry, Retry-After dates, log timestamps).
    pub clock: Clock,
}

impl ClientConfig {
    /// A configuration with defaults for everything but the base URL.
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientConfig { base_url: base_url.into(), ..ClientConfig::default() }
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: String::new(),
            headers: Vec::new(),
            query: Vec::new(),
            timeout: Duration::from_secs(30),
            tls: TlsConfig::default(),
            auth: AuthConfig::None,
            retry: RetryPolicy::default(),
            rate_limit: None,
            max_concurrency: 4,
            max_pages: 100_000,
            user_agent: concat!("muster/", env!("CARGO_PKG_VERSION")).to_owned(),
            clock: Clock::system(),
        }
    }
}
