//! [`HttpClient`]: requests, retries, rate limiting, request log.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rand::Rng;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use crate::auth::AuthState;
use crate::config::{AuthConfig, ClientConfig, Clock, Method, RetryPolicy};
use crate::error::{HttpError, Location, TransportKind};
use crate::paginate::{Pager, Pagination};
use crate::ratelimit::RateLimiter;
use crate::redact::Redactor;

/// How many entries the request log keeps (older ones are dropped; the
/// counters in [`Stats`] keep counting).
pub const REQUEST_LOG_CAPACITY: usize = 10_000;

/// Longest body snippet put into errors.
const SNIPPET_CHARS: usize = 300;

/// Maximum redirects followed (same origin only).
const MAX_REDIRECTS: usize = 5;

/// A request, relative to the client's base URL.
#[derive(Clone)]
pub struct Request {
    /// HTTP method.
    pub method: Method,
    /// Path relative to the base URL (`/v1/users`), or an absolute URL.
    pub path: String,
    /// Query parameters (appended; pagination replaces its own parameters).
    pub query: Vec<(String, String)>,
    /// Extra headers (override the configured default headers).
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<Value>,
    /// Per-request credentials instead of the client's (token caches are kept
    /// per `Arc`, so reuse the same `Arc` to reuse a token).
    pub auth: Option<Arc<AuthConfig>>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values and the body may hold secrets: show names only.
        let headers: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>())
            .field("headers", &headers)
            .field("body", &self.body.as_ref().map(|_| "<json>"))
            .field("auth", &self.auth)
            .finish()
    }
}

impl Request {
    /// A request with the given method and path.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request { method, path: path.into(), query: Vec::new(), headers: Vec::new(), body: None, auth: None }
    }

    /// A GET request.
    pub fn get(path: impl Into<String>) -> Self {
        Request::new(Method::GET, path)
    }

    /// Adds a query parameter (builder style).
    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a header (builder style).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a JSON body (builder style).
    pub fn with_json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Sets per-request credentials (builder style).
    pub fn with_auth(mut self, auth: Arc<AuthConfig>) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Sets a query parameter, replacing any existing one of that name.
    pub fn set_query(&mut self, name: &str, value: impl Into<String>) {
        self.query.retain(|(k, _)| k != name);
        self.query.push((name.to_owned(), value.into()));
    }
}

/// A response. The body is fully read.
#[derive(Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
    /// Final URL (after same-origin redirects), redacted.
    pub url: String,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
    pub(crate) method: Method,
    pub(crate) real_url: Url,
    pub(crate) redactor: Arc<Redactor>,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("url", &self.url)
            .field("body_len", &self.body.len())
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl Response {
    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Parses the body as JSON; on failure the error names the byte offset.
    pub fn json(&self) -> Result<Value, HttpError> {
        parse_json(&self.body, &self.url, &self.redactor, Location::default())
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Turns a non-2xx response into [`HttpError::Status`] with a hint.
    pub fn error_for_status(self) -> Result<Self, HttpError> {
        if self.is_success() { Ok(self) } else { Err(self.status_error(Location::default())) }
    }

    pub(crate) fn status_error(&self, at: Location) -> HttpError {
        HttpError::Status {
            at,
            method: self.method.to_string(),
            url: self.url.clone(),
            status: self.status,
            body_snippet: self.redactor.snippet(&self.body, SNIPPET_CHARS),
            attempts: self.attempts,
        }
    }
}

/// Parses JSON, turning failures into [`HttpError::Json`] with a byte offset.
pub(crate) fn parse_json(body: &[u8], url: &str, redactor: &Redactor, at: Location) -> Result<Value, HttpError> {
    serde_json::from_slice(body).map_err(|e| {
        let (line, column) = (e.line(), e.column());
        let offset = byte_offset(body, line, column);
        let (line, column) = (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(column).unwrap_or(u32::MAX));
        let from = offset.saturating_sub(30);
        let to = (offset + 30).min(body.len());
        HttpError::Json {
            at,
            url: url.to_owned(),
            offset,
            line,
            column,
            message: redactor.scrub(&e.to_string()),
            snippet: redactor.snippet(body.get(from..to).unwrap_or_default(), 80),
        }
    })
}

fn byte_offset(body: &[u8], line: usize, column: usize) -> usize {
    let mut cur_line = 1;
    let mut line_start = 0;
    for (i, b) in body.iter().enumerate() {
        if cur_line == line {
            break;
        }
        if *b == b'\n' {
            cur_line += 1;
            line_start = i + 1;
        }
    }
    (line_start + column.saturating_sub(1)).min(body.len())
}

/// What a logged request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// A request of the API itself.
    Api,
    /// A token endpoint / login request.
    Token,
}

/// One HTTP exchange (one attempt). Contains no secrets: the URL is redacted
/// and headers and bodies are not recorded.
#[derive(Debug, Clone)]
pub struct RequestLogEntry {
    /// Sequence number since the client was created (never reused).
    pub seq: u64,
    /// Wall-clock start (from the injected clock).
    pub started: SystemTime,
    /// API or token request.
    pub kind: RequestKind,
    /// HTTP method.
    pub method: String,
    /// Redacted URL.
    pub url: String,
    /// HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// Attempt number (1 = first try).
    pub attempt: u32,
    /// Time from send to the end of the body.
    pub duration: Duration,
    /// Body bytes received.
    pub bytes: u64,
    /// Transport error, scrubbed.
    pub error: Option<String>,
}

/// Totals since the client was created (all clones share them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// HTTP exchanges started (attempts, token requests included).
    pub requests: u64,
    /// Retries (attempts after the first).
    pub retries: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Token endpoint / login requests.
    pub token_requests: u64,
    /// Tokens discarded after a 401 and fetched again.
    pub auth_refreshes: u64,
    /// Responses with status 429.
    pub throttled: u64,
    /// Responses with status >= 400.
    pub error_responses: u64,
    /// Exchanges that failed without a response (connect, timeout, ...).
    pub transport_errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    bytes: AtomicU64,
    token_requests: AtomicU64,
    auth_refreshes: AtomicU64,
    throttled: AtomicU64,
    error_responses: AtomicU64,
    transport_errors: AtomicU64,
}

/// A request body ready to send (cheap to clone per attempt).
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub(crate) data: Bytes,
    pub(crate) content_type: &'static str,
}

/// Error of a redirect refused by our policy.
#[derive(Debug)]
struct RedirectRefused {
    from: Url,
    to: Url,
    reason: &'static str,
}

impl fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason)
    }
}

impl std::error::Error for RedirectRefused {}

pub(crate) struct Shared {
    http: reqwest::Client,
    pub(crate) base: Url,
    headers: HeaderMap,
    query: Vec<(String, String)>,
    timeout: Duration,
    retry: RetryPolicy,
    limiter: Option<RateLimiter>,
    semaphore: Semaphore,
    pub(crate) max_pages: u64,
    pub(crate) clock: Clock,
    pub(crate) redactor: Arc<Redactor>,
    log: Mutex<VecDeque<RequestLogEntry>>,
    seq: AtomicU64,
    counters: Counters,
    overrides: Mutex<Vec<(Arc<AuthConfig>, Arc<AuthState>)>>,
}

/// The REST client.
///
/// Cheap to clone (an `Arc` inside); clones share the connection pool, rate
/// limiter, concurrency limit, request log, counters and token cache.
///
/// Each attempt of each request:
/// 1. resolves credentials (fetching a token if needed — before taking a
///    concurrency permit, so token fetches cannot deadlock);
/// 2. takes one of `max_concurrency` permits;
/// 3. waits for the rate limiter (see [`crate::RateLimit`]: never more than
///    `per_second` request starts in any one-second window, burst capped at
///    `per_second`);
/// 4. sends, reads the whole body, logs the exchange (redacted).
///
/// Credentials and configured headers are attached only to requests whose
/// origin is the base URL's origin; redirects are followed only within the
/// same origin, at most 5 times.
#[derive(Clone)]
pub struct HttpClient {
    pub(crate) shared: Arc<Shared>,
    pub(crate) auth: Arc<AuthState>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("base_url", &self.shared.redactor.url(&self.shared.base))
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds a client. Fails on an invalid base URL, header or PEM.
    pub fn new(cfg: ClientConfig) -> Result<Self, HttpError> {
        let mut base = Url::parse(cfg.base_url.trim())
            .map_err(|e| HttpError::Config(format!("base_url {:?} is not a valid URL: {e}", cfg.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(HttpError::Config(format!("base_url must be http or https, not {}", base.scheme())));
        }
        let redactor = Arc::new(Redactor::default());
        if let Some(p) = base.password() {
            use base64::Engine as _;
            redactor.add_secret(p);
            let user = base.username();
            let decoded =
                |t: &str| url::form_urlencoded::parse(format!("x={t}").as_bytes()).next().map(|(_, v)| v.into_owned());
            if let (Some(u), Some(pw)) = (decoded(user), decoded(p)) {
                redactor.add_secret(&pw);
                redactor.add_secret(&base64::engine::general_purpose::STANDARD.encode(format!("{u}:{pw}")));
            }
        }
        let mut query: Vec<(String, String)> =
            base.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        query.extend(cfg.query.iter().cloned());
        base.set_query(None);
        base.set_fragment(None);

        let mut headers = HeaderMap::new();
        for (name, value) in &cfg.headers {
            redactor.add_secret(value.expose());
            let (n, v) = header_pair(name, value.expose(), true)?;
            headers.insert(n, v);
        }

        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(cfg.user_agent.clone())
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            .redirect(redirect_policy());
        if let Some(ca) = &cfg.tls.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(ca)
                .map_err(|e| HttpError::Config(format!("tls.ca_pem is not valid PEM: {e}")))?;
            if certs.is_empty() {
                return Err(HttpError::Config("tls.ca_pem holds no certificate".to_owned()));
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        if let Some(id) = &cfg.tls.client_identity_pem {
            let identity = reqwest::Identity::from_pem(id).map_err(|e| {
                HttpError::Config(format!(
                    "tls.client_identity_pem must hold a certificate chain and a private key in PEM: {e}"
                ))
            })?;
            b = b.identity(identity);
        }
        let http = b.build().map_err(|e| HttpError::Config(format!("cannot build the HTTP client: {e}")))?;

        let limiter = cfg.rate_limit.and_then(RateLimiter::new);
        let shared = Arc::new(Shared {
            http,
            base,
            headers,
            query,
            timeout: cfg.timeout,
            retry: cfg.retry,
            limiter,
            semaphore: Semaphore::new(cfg.max_concurrency.max(1)),
            max_pages: cfg.max_pages,
            clock: cfg.clock,
            redactor,
            log: Mutex::new(VecDeque::new()),
            seq: AtomicU64::new(0),
            counters: Counters::default(),
            overrides: Mutex::new(Vec::new()),
        });
        let auth = Arc::new(AuthState::new(cfg.auth, &shared.redactor));
        Ok(HttpClient { shared, auth })
    }

    /// The base URL (redacted).
    pub fn base_url(&self) -> String {
        self.shared.redactor.url(&self.shared.base)
    }

    /// The same client (pool, limits, log) without credentials.
    pub fn without_auth(&self) -> HttpClient {
        self.with_auth(AuthConfig::None)
    }

    /// The same client (pool, limits, log) with other credentials and a
    /// fresh token cache.
    pub fn with_auth(&self, auth: AuthConfig) -> HttpClient {
        HttpClient { shared: self.shared.clone(), auth: Arc::new(AuthState::new(auth, &self.shared.redactor)) }
    }

    /// Redacts a URL the way the client does in logs and errors (strips
    /// userinfo, masks sensitive query values and every known secret).
    pub fn redact_url(&self, url: &str) -> String {
        self.shared.redactor.url_str(url)
    }

    /// Replaces every secret known to the client in `text` by `***`.
    pub fn scrub(&self, text: &str) -> String {
        self.shared.redactor.scrub(text)
    }

    /// Sends a request with auth, retries, rate limit and concurrency limit.
    ///
    /// Returns `Ok` for every HTTP response, whatever its status (after the
    /// retries for retryable statuses are used up); use
    /// [`Response::error_for_status`] or [`HttpClient::send_ok`] to turn
    /// non-2xx into an error. `Err` means no usable response: transport
    /// failure, timeout, refused redirect, failed token fetch, or a
    /// `Retry-After` beyond the limit.
    ///
    /// With token-based auth, a 401 discards the token, fetches a new one and
    /// retries the request once.
    pub async fn send(&self, req: &Request) -> Result<Response, HttpError> {
        let auth = match &req.auth {
            Some(a) => self.override_state(a),
            None => self.auth.clone(),
        };
        let url = self.shared.build_url(&req.path, &req.query, &auth.config)?;
        let same_origin = url.origin() == self.shared.base.origin();
        let body = match &req.body {
            Some(v) => Some(Body {
                data: Bytes::from(
                    serde_json::to_vec(v)
                        .map_err(|e| HttpError::Config(format!("request body cannot be serialized: {e}")))?,
                ),
                content_type: "application/json",
            }),
            None => None,
        };
        let mut base_headers = if same_origin { self.shared.headers.clone() } else { HeaderMap::new() };
        for (name, value) in &req.headers {
            let (n, v) = header_pair(name, value, self.shared.redactor.is_sensitive_header(name))?;
            base_headers.insert(n, v);
        }
        let mut refreshed = false;
        loop {
            let mut headers = base_headers.clone();
            let token_id = if same_origin { auth.apply(&self.shared, &mut headers).await? } else { None };
            let resp = self.shared.execute(RequestKind::Api, &req.method, &url, &headers, body.as_ref()).await?;
            if resp.status == 401
                && !refreshed
                && let Some(id) = token_id
            {
                refreshed = true;
                self.shared.counters.auth_refreshes.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(url = %resp.url, "401 with a cached token; fetching a new token");
                auth.invalidate(id).await;
                continue;
            }
            return Ok(resp);
        }
    }

    /// [`HttpClient::send`], then [`Response::error_for_status`].
    pub async fn send_ok(&self, req: &Request) -> Result<Response, HttpError> {
        self.send(req).await?.error_for_status()
    }

    /// Walks a paginated collection; see [`Pagination`] for the stop rules.
    ///
    /// `items_path` is the dotted path of the item array in each page body
    /// (`None`: the body itself is the array). `label` names the collection in
    /// errors (`user`, `group g1 members`).
    pub fn paginate(
        &self,
        req: Request,
        pagination: Pagination,
        items_path: Option<String>,
        label: impl Into<String>,
    ) -> Pager {
        Pager::new(self.clone(), req, pagination, items_path, label.into())
    }

    /// The most recent exchanges (up to [`REQUEST_LOG_CAPACITY`]), oldest first.
    pub fn request_log(&self) -> Vec<RequestLogEntry> {
        self.shared.log.lock().map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }

    /// Totals since the client was created.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        Stats {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            token_requests: c.token_requests.load(Ordering::Relaxed),
            auth_refreshes: c.auth_refreshes.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            error_responses: c.error_responses.load(Ordering::Relaxed),
            transport_errors: c.transport_errors.load(Ordering::Relaxed),
        }
    }

    /// The token state for a per-request auth override (one cache per `Arc`).
    fn override_state(&self, auth: &Arc<AuthConfig>) -> Arc<AuthState> {
        let Ok(mut list) = self.shared.overrides.lock() else {
            return Arc::new(AuthState::new((**auth).clone(), &self.shared.redactor));
        };
        if let Some((_, st)) = list.iter().find(|(a, _)| Arc::ptr_eq(a, auth)) {
            return st.clone();
        }
        let st = Arc::new(AuthState::new((**auth).clone(), &self.shared.redactor));
        if list.len() >= 32 {
            list.remove(0);
        }
        list.push((auth.clone(), st.clone()));
        st
    }
}

fn header_pair(name: &str, value: &str, sensitive: bool) -> Result<(HeaderName, HeaderValue), HttpError> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| HttpError::Config(format!("invalid header name {name:?}")))?;
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        HttpError::Config(format!("invalid value for header {name:?} (control characters or non-ASCII)"))
    })?;
    v.set_sensitive(sensitive);
    Ok((n, v))
}

fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let prev = attempt.previous();
        let (Some(first), Some(last)) = (prev.first().cloned(), prev.last().cloned()) else {
            return attempt.follow();
        };
        let to = attempt.url().clone();
        if prev.len() > MAX_REDIRECTS {
            attempt.error(RedirectRefused { from: last, to, reason: "more than 5 redirects" })
        } else if to.origin() != first.origin() {
            attempt.error(RedirectRefused {
                from: last,
                to,
                reason: "the target is on another origin (scheme, host or port differ); credentials are never sent elsewhere",
            })
        } else {
            attempt.follow()
        }
    })
}

fn is_idempotent(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE)
}

/// The reqwest error and its causes, without URLs.
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let text = s.to_string();
        if !parts.iter().any(|p: &String| p.contains(&text)) {
            parts.push(text);
        }
        src = s.source();
    }
    let head = if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "error reading the response body"
    } else if e.is_request() {
        "error sending the request"
    } else {
        "HTTP error"
    };
    if parts.is_empty() { head.to_owned() } else { format!("{head}: {}", parts.join(": ")) }
}

fn transport_kind(message: &str, connect: bool) -> TransportKind {
    let lower = message.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        TransportKind::Tls
    } else if connect {
        TransportKind::Connect
    } else {
        TransportKind::Other
    }
}

/// Outcome of one attempt that did not produce a response.
struct AttemptError {
    error: HttpError,
    retryable: bool,
}

impl Shared {
    /// Headers configured for every request to the base origin.
    pub(crate) fn default_headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Resolves a path against the base URL and adds query parameters.
    pub(crate) fn resolve(&self, path: &str) -> Result<Url, HttpError> {
        let p = path.trim();
        let lower = p.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Url::parse(p)
                .map_err(|e| HttpError::Config(format!("invalid URL {}: {e}", self.redactor.url_str(p))));
        }
        let base = self.base.as_str().trim_end_matches('/');
        let joined = if p.is_empty() {
            base.to_owned()
        } else if p.starts_with('/') {
            format!("{base}{p}")
        } else {
            format!("{base}/{p}")
        };
        Url::parse(&joined)
            .map_err(|e| HttpError::Config(format!("invalid request path {}: {e}", self.redactor.url_str(&joined))))
    }

    pub(crate) fn build_url(
        &self,
        path: &str,
        query: &[(String, String)],
        auth: &AuthConfig,
    ) -> Result<Url, HttpError> {
        let mut url = self.resolve(path)?;
        let existing: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        let mut append: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let same_origin = url.origin() == self.base.origin();
        if same_origin {
            for (k, v) in &self.query {
                if !existing.contains(k) && !query.iter().any(|(q, _)| q == k) {
                    append.push((k, v));
                }
            }
        }
        if let (AuthConfig::ApiKeyQuery { param, key }, true) = (auth, same_origin) {
            append.retain(|(k, _)| *k != param.as_str());
            let present = url.query_pairs().any(|(k, v)| k == param.as_str() && v == key.expose());
            if existing.contains(param) && !present {
                // Rewrite to replace a stale value.
                let kept: Vec<(String, String)> = url
                    .query_pairs()
                    .filter(|(k, _)| k != param.as_str())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                url.query_pairs_mut().clear().extend_pairs(kept);
            }
            if !present {
                append.push((param, key.expose()));
            }
        }
        if !append.is_empty() {
            url.query_pairs_mut().extend_pairs(append);
        }
        Ok(url)
    }

    /// Sends with retries (no auth handling).
    pub(crate) async fn execute(
        &self,
        kind: RequestKind,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Body>,
    ) -> Result<Response, HttpError> {
        let max = self.retry.max_attempts.max(1);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self.attempt(kind, method, url, headers, body, attempt).await {
                Ok(mut resp) => {
                    resp.attempts = attempt;
                    if self.retryable_status(resp.status, method) {
                        let wait = match self.retry_after(&resp.headers) {
                            Some(wait) if wait > self.retry.max_retry_after => {
                                return Err(HttpError::RetryAfterTooLong {
                                    at: Location::default(),
                                    url: resp.url.clone(),
                                    status: resp.status,
                                    wait,
                                    limit: self.retry.max_retry_after,
                                });
                            }
                            Some(wait) => wait,
                            None => self.backoff(attempt),
                        };
                        if attempt < max {
                            tracing::debug!(
                                status = resp.status,
                                url = %resp.url,
                                attempt,
                                wait_ms = wait.as_millis() as u64,
                                "retrying"
                            );
                            self.counters.retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                    }
                    return Ok(resp);
                }
                Err(AttemptError { error, retryable }) => {
                    if retryable && attempt < max {
                        let wait = self.backoff(attempt);
                        tracing::debug!(error = %error, attempt, "retrying after transport error");
                        self.counters.retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(error);
                }
            }
        }
    }

    fn retryable_status(&self, status: u16, method: &Method) -> bool {
        self.retry.statuses.contains(&status) && (is_idempotent(method) || matches!(status, 429 | 503))
    }

    /// `Retry-After` as a duration (seconds or HTTP-date against the clock).
    fn retry_after(&self, headers: &HeaderMap) -> Option<Duration> {
        let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
        if let Ok(secs) = v.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(secs) = v.parse::<f64>() {
            return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
        }
        let at = httpdate::parse_http_date(v).ok()?;
        Some(at.duration_since(self.clock.now()).unwrap_or(Duration::ZERO))
    }

    /// Full-jitter exponential backoff for attempt `n` (1-based).
    fn backoff(&self, n: u32) -> Duration {
        let exp = n.saturating_sub(1).min(30);
        let ceiling = self.retry.initial_backoff.saturating_mul(1u32 << exp).min(self.retry.max_backoff);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }

    async fn attempt(
        &self,
        kind: RequestKind,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Body>,
        attempt: u32,
    ) -> Result<Response, AttemptError> {
        // The semaphore is never closed; if it were, go on without a permit.
        let _permit = self.semaphore.acquire().await.ok();
        if let Some(l) = &self.limiter {
            l.acquire().await;
        }
        let started = self.clock.now();
        let t0 = tokio::time::Instant::now();
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        if kind == RequestKind::Token {
            self.counters.token_requests.fetch_add(1, Ordering::Relaxed);
        }
        let mut rb = self.http.request(method.clone(), url.clone()).headers(headers.clone());
        if let Some(b) = body {
            rb = rb.header(CONTENT_TYPE, b.content_type).body(b.data.clone());
        }
        let result = async {
            let r = rb.send().await?;
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            let final_url = r.url().clone();
            let bytes = r.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, final_url, bytes))
        }
        .await;
        let duration = t0.elapsed();
        let redacted = self.redactor.url(url);
        match result {
            Ok((status, resp_headers, final_url, bytes)) => {
                let n = bytes.len() as u64;
                self.counters.bytes.fetch_add(n, Ordering::Relaxed);
                if status == 429 {
                    self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                }
                if status >= 400 {
                    self.counters.error_responses.fetch_add(1, Ordering::Relaxed);
                }
                let final_redacted = if final_url == *url { redacted.clone() } else { self.redactor.url(&final_url) };
                tracing::debug!(
                    method = %method,
                    url = %final_redacted,
                    status,
                    attempt,
                    bytes = n,
                    ms = duration.as_millis() as u64,
                    "http exchange"
                );
                self.log(RequestLogEntry {
                    seq: 0,
                    started,
                    kind,
                    method: method.to_string(),
                    url: redacted,
                    status: Some(status),
                    attempt,
                    duration,
                    bytes: n,
                    error: None,
                });
                Ok(Response {
                    status,
                    headers: resp_headers,
                    body: bytes,
                    url: final_redacted,
                    attempts: attempt,
                    method: method.clone(),
                    real_url: final_url,
                    redactor: self.redactor.clone(),
                })
            }
            Err(e) => {
                self.counters.transport_errors.fetch_add(1, Ordering::Relaxed);
                let at = Location::default();
                let (error, retryable) = if e.is_timeout() {
                    (
                        HttpError::Timeout {
                            at,
                            method: method.to_string(),
                            url: redacted.clone(),
                            timeout: self.timeout,
                            attempts: attempt,
                        },
                        is_idempotent(method),
                    )
                } else if let Some(r) = find_redirect_error(&e) {
                    (
                        HttpError::Redirect {
                            at,
                            from: self.redactor.url(&r.from),
                            to: self.redactor.url(&r.to),
                            reason: r.reason.to_owned(),
                        },
                        false,
                    )
                } else {
                    let message = self.redactor.scrub(&error_chain(&e));
                    let kind = transport_kind(&message, e.is_connect());
                    (
                        HttpError::Transport {
                            at,
                            method: method.to_string(),
                            url: redacted.clone(),
                            message,
                            attempts: attempt,
                            kind,
                        },
                        e.is_connect() || is_idempotent(method),
                    )
                };
                let first_line = error.to_string().lines().next().unwrap_or_default().to_owned();
                tracing::debug!(method = %method, url = %redacted, attempt, error = %first_line, "http exchange failed");
                self.log(RequestLogEntry {
                    seq: 0,
                    started,
                    kind,
                    method: method.to_string(),
                    url: redacted,
                    status: None,
                    attempt,
                    duration,
                    bytes: 0,
                    error: Some(first_line),
                });
                Err(AttemptError { error, retryable })
            }
        }
    }

    fn log(&self, mut entry: RequestLogEntry) {
        entry.seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(mut log) = self.log.lock() {
            if log.len() >= REQUEST_LOG_CAPACITY {
                log.pop_front();
            }
            log.push_back(entry);
        }
    }
}

fn find_redirect_error(e: &reqwest::Error) -> Option<&RedirectRefused> {
    if !e.is_redirect() {
        return None;
    }
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(r) = s.downcast_ref::<RedirectRefused>() {
            return Some(r);
        }
        src = s.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str, auth: AuthConfig) -> HttpClient {
        let mut cfg = ClientConfig::new(base);
        cfg.auth = auth;
        cfg.query = vec![("tenant".into(), "t1".into())];
        HttpClient::new(cfg).unwrap()
    }

    #[test]
    fn url_building() {
        let c = client("https://api.example.com/v1/", AuthConfig::None);
        let u = c.shared.build_url("users", &[("a".into(), "1".into())], &AuthConfig::None).unwrap();
        assert_eq!(u.as_str(), "https://api.example.com/v1/users?a=1&tenant=t1");
        let u = c.shared.build_url("/users?tenant=t2", &[], &AuthConfig::None).unwrap();
        assert_eq!(u.as_str(), "https://api.example.com/v1/users?tenant=t2");
        let u = c.shared.build_url("https://other.example.com/x", &[], &AuthConfig::None).unwrap();
        assert_eq!(u.as_str(), "https://other.example.com/x");
    }

    #[test]
    fn api_key_query_is_added_and_redacted() {
        let auth = AuthConfig::ApiKeyQuery { param: "k".into(), key: crate::Secret::new("KEYVALUE123") };
        let c = client("https://api.example.com", auth.clone());
        let u = c.shared.build_url("/u?k=old", &[], &auth).unwrap();
        assert_eq!(u.as_str(), "https://api.example.com/u?tenant=t1&k=KEYVALUE123");
        assert_eq!(c.shared.redactor.url(&u), "https://api.example.com/u?tenant=t1&k=***");
    }

    #[test]
    fn json_error_offset() {
        let r = Redactor::default();
        let e =
            parse_json(b"{\n  \"a\": 1,\n  \"b\": x\n}", "http://h/p", &r, Location::for_page("user", 4)).unwrap_err();
        match &e {
            HttpError::Json { offset, line, .. } => {
                assert_eq!(*line, 3);
                assert_eq!(*offset, 19);
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().starts_with("user page 4: the response from http://h/p is not valid JSON at byte 19"));
    }

    #[test]
    fn bad_config() {
        assert!(matches!(HttpClient::new(ClientConfig::new("not a url")), Err(HttpError::Config(_))));
        let mut cfg = ClientConfig::new("https://x");
        cfg.tls.ca_pem = Some(b"garbage".to_vec());
        assert!(matches!(HttpClient::new(cfg), Err(HttpError::Config(_))));
    }
}
