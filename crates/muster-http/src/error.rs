//! [`HttpError`] and its [`Location`].

use std::fmt;
use std::num::NonZeroU64;
use std::time::Duration;

/// Where an error happened: the resource label (e.g. `user`,
/// `group g1 members`) and the page number, when known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    label: Option<String>,
    page: Option<NonZeroU64>,
}

impl Location {
    /// A location for a paginated request (`page` is 1-based; 0 means "no page").
    pub fn for_page(label: impl Into<String>, page: u64) -> Self {
        Location { label: Some(label.into()), page: NonZeroU64::new(page) }
    }

    /// A location with a label only (e.g. `group g1 members`).
    pub fn labelled(label: impl Into<String>) -> Self {
        Location { label: Some(label.into()), page: None }
    }

    /// The label given to [`crate::HttpClient::paginate`], if any.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// The 1-based page number, if the request was part of a pagination.
    pub fn page(&self) -> Option<u64> {
        self.page.map(NonZeroU64::get)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.label, self.page()) {
            (Some(l), Some(p)) => write!(f, "{l} page {p}"),
            (Some(l), None) => write!(f, "{l}"),
            (None, Some(p)) => write!(f, "page {p}"),
            (None, None) => f.write_str("request"),
        }
    }
}

/// Errors of the HTTP client. Every message names where it happened
/// ([`Location`]), the redacted URL and, where useful, a hint.
///
/// No variant ever contains a secret: URLs are redacted, body snippets are
/// scrubbed of every known secret, and headers are never included.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The client configuration is invalid (bad base URL, bad PEM, ...).
    #[error("invalid HTTP client configuration: {0}")]
    Config(String),

    /// The server answered with a non-success status (after retries, if the
    /// status was retryable).
    #[error(
        "{at}: {method} {url} returned HTTP {status} (after {attempts} attempt(s)): {body_snippet}\n  hint: {}", status_hint(*status)
    )]
    Status {
        /// Where.
        at: Location,
        /// HTTP method.
        method: String,
        /// Redacted URL.
        url: String,
        /// HTTP status code.
        status: u16,
        /// The start of the response body, scrubbed of secrets.
        body_snippet: String,
        /// Attempts made (1 = no retry).
        attempts: u32,
    },

    /// Connection-level failure (DNS, connect, TLS, reset, body read).
    #[error("{at}: {method} {url} failed: {message} (after {attempts} attempt(s))\n  hint: {}", kind.hint())]
    Transport {
        /// Where.
        at: Location,
        /// HTTP method.
        method: String,
        /// Redacted URL.
        url: String,
        /// The transport error and its causes, scrubbed.
        message: String,
        /// Attempts made.
        attempts: u32,
        /// What kind of failure (decides the hint).
        kind: TransportKind,
    },

    /// The request did not complete within the configured timeout.
    #[error(
        "{at}: {method} {url} timed out after {timeout:?} (after {attempts} attempt(s))\n  hint: raise the source's timeout or request smaller pages"
    )]
    Timeout {
        /// Where.
        at: Location,
        /// HTTP method.
        method: String,
        /// Redacted URL.
        url: String,
        /// The per-request timeout.
        timeout: Duration,
        /// Attempts made.
        attempts: u32,
    },

    /// The body is not valid JSON.
    #[error(
        "{at}: the response from {url} is not valid JSON at byte {offset} (line {line}, column {column}): {message}; near: {snippet}\n  hint: check that the endpoint returns JSON (not HTML or an error page) and that the path is right"
    )]
    Json {
        /// Where (includes the page number when paginating).
        at: Location,
        /// Redacted URL.
        url: String,
        /// Byte offset of the error in the body.
        offset: usize,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// serde_json's message.
        message: String,
        /// The body around the error, scrubbed.
        snippet: String,
    },

    /// The items could not be found in the page body.
    #[error("{at}: {message} (at {url})\n  hint: {hint}")]
    Items {
        /// Where.
        at: Location,
        /// Redacted URL.
        url: String,
        /// What is wrong.
        message: String,
        /// What to change.
        hint: &'static str,
    },

    /// The pagination would revisit a page (same cursor, same next URL, or the
    /// same body twice in a row).
    #[error(
        "{at}: pagination loop detected at {url}: {reason}\n  hint: check the pagination settings (cursor path, page parameter name); the API may be ignoring the paging parameter"
    )]
    LoopDetected {
        /// Where.
        at: Location,
        /// Redacted URL of the page that repeated.
        url: String,
        /// What repeated.
        reason: String,
    },

    /// The `max_pages` safety limit was reached while more pages remained.
    #[error(
        "{at}: stopped after {max_pages} pages (max_pages safety limit) with more pages left (next: {url})\n  hint: raise max_pages if the collection is really that large, otherwise check the pagination stop settings"
    )]
    TooManyPages {
        /// Where (the page that would have been fetched next).
        at: Location,
        /// The limit.
        max_pages: u64,
        /// Redacted URL of the next page.
        url: String,
    },

    /// Fetching a token (OAuth2 / login) failed.
    #[error("{at}: authentication failed at {url}: {message}\n  hint: {hint}")]
    Auth {
        /// Where the token was needed.
        at: Location,
        /// Redacted token endpoint URL.
        url: String,
        /// Status of the token endpoint, if it answered.
        status: Option<u16>,
        /// What went wrong (scrubbed).
        message: String,
        /// What to check.
        hint: &'static str,
    },

    /// The server asked to wait longer than the configured limit.
    #[error(
        "{at}: {url} answered HTTP {status} with Retry-After {wait:?}, longer than the limit of {limit:?}; giving up instead of sleeping\n  hint: the API quota may be exhausted; retry later or lower rate_limit.per_second"
    )]
    RetryAfterTooLong {
        /// Where.
        at: Location,
        /// Redacted URL.
        url: String,
        /// The status that carried the header.
        status: u16,
        /// Requested wait.
        wait: Duration,
        /// Configured limit ([`crate::RetryPolicy::max_retry_after`]).
        limit: Duration,
    },

    /// A redirect was refused (other origin, or too many).
    #[error(
        "{at}: redirect from {from} to {to} refused: {reason}\n  hint: use the final URL as base_url; redirects are followed only within the same origin"
    )]
    Redirect {
        /// Where.
        at: Location,
        /// Redacted URL that redirected.
        from: String,
        /// Redacted redirect target.
        to: String,
        /// Why it was refused.
        reason: String,
    },
}

impl HttpError {
    /// Sets the location (label and page) on variants that carry one.
    pub fn at(mut self, location: Location) -> Self {
        if let Some(at) = self.location_mut() {
            *at = location;
        }
        self
    }

    /// The location, if the variant carries one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            HttpError::Config(_) => None,
            HttpError::Status { at, .. }
            | HttpError::Transport { at, .. }
            | HttpError::Timeout { at, .. }
            | HttpError::Json { at, .. }
            | HttpError::Items { at, .. }
            | HttpError::LoopDetected { at, .. }
            | HttpError::TooManyPages { at, .. }
            | HttpError::Auth { at, .. }
            | HttpError::RetryAfterTooLong { at, .. }
            | HttpError::Redirect { at, .. } => Some(at),
        }
    }

    fn location_mut(&mut self) -> Option<&mut Location> {
        match self {
            HttpError::Config(_) => None,
            HttpError::Status { at, .. }
            | HttpError::Transport { at, .. }
            | HttpError::Timeout { at, .. }
            | HttpError::Json { at, .. }
            | HttpError::Items { at, .. }
            | HttpError::LoopDetected { at, .. }
            | HttpError::TooManyPages { at, .. }
            | HttpError::Auth { at, .. }
            | HttpError::RetryAfterTooLong { at, .. }
            | HttpError::Redirect { at, .. } => Some(at),
        }
    }

    /// The HTTP status involved, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } | HttpError::RetryAfterTooLong { status, .. } => Some(*status),
            HttpError::Auth { status, .. } => *status,
            _ => None,
        }
    }

    /// True for credential problems: HTTP 401/403 or a failed token fetch.
    pub fn is_auth(&self) -> bool {
        matches!(self, HttpError::Auth { .. }) || matches!(self.status(), Some(401 | 403))
    }
}

/// Kinds of transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be established (nothing was sent).
    Connect,
    /// TLS handshake or certificate problem.
    Tls,
    /// The connection broke while sending or receiving.
    Other,
}

impl TransportKind {
    /// What to check for this kind of failure.
    pub fn hint(self) -> &'static str {
        match self {
            TransportKind::Tls => "TLS failed; check the server certificate and tls.ca_pem / tls.client_identity_pem",
            TransportKind::Connect => "check that base_url is reachable from here (host, port, DNS, proxy, firewall)",
            TransportKind::Other => "the connection broke; retry later or raise retry.max_attempts",
        }
    }
}

/// The hint shown with a non-success status.
pub fn status_hint(status: u16) -> &'static str {
    match status {
        400 => "the API rejected the request; check the query parameters, pagination parameter names and page size",
        401 => {
            "the API did not accept the credentials; check the credentials in the environment variables referenced by the connector's auth block (missing, expired, or for another environment?)"
        }
        403 => "the credentials were accepted but lack permission; check the scopes/roles granted to this account",
        404 => "check the request path and base_url (and any ids interpolated into the path)",
        405 => "check the request method",
        408 | 504 => "the server timed out; retry later or request smaller pages",
        429 => "the API is rate limiting this client; lower rate_limit.per_second or raise retry.max_attempts",
        500..=599 => "the server failed; retry later or raise retry.max_attempts",
        300..=399 => "unexpected redirect; use the final URL as base_url",
        _ => "check the request against the API documentation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_display() {
        assert_eq!(Location::default().to_string(), "request");
        assert_eq!(Location::for_page("user", 3).to_string(), "user page 3");
        assert_eq!(Location::for_page("user", 3).page(), Some(3));
    }

    #[test]
    fn at_sets_location() {
        let e = HttpError::Status {
            at: Location::default(),
            method: "GET".into(),
            url: "http://x/".into(),
            status: 401,
            body_snippet: "no".into(),
            attempts: 1,
        }
        .at(Location::for_page("group g1 members", 2));
        let s = e.to_string();
        assert!(s.starts_with("group g1 members page 2: GET http://x/ returned HTTP 401"), "{s}");
        assert!(s.contains("environment variables"));
        assert!(e.is_auth());
    }
}
#[cfg(test)]
mod size_probe {
    #[test]
    fn error_stays_small() {
        // clippy::result_large_err fires at 128 bytes.
        assert!(std::mem::size_of::<super::HttpError>() < 128);
    }
}
