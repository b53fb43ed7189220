//! muster-http — Muster's REST client.
//!
//! Independent of the connector schema: the engine maps a compiled connector
//! onto [`ClientConfig`], [`Request`] and [`Pagination`].
//!
//! * [`HttpClient::send`]: credentials ([`AuthConfig`]; tokens fetched lazily,
//!   cached, refreshed before expiry and once after a 401), retries with
//!   exponential backoff, full jitter and `Retry-After` ([`RetryPolicy`]), a
//!   client-wide rate limit that never exceeds `per_second` in any one-second
//!   window ([`RateLimit`]), bounded concurrency, same-origin redirects only,
//!   per-request timeouts, a redacted request log ([`HttpClient::request_log`])
//!   and counters ([`HttpClient::stats`]).
//! * [`HttpClient::paginate`]: every common pagination style with stop rules,
//!   a loop guard and a page limit ([`Pagination`], [`Pager`]).
//! * Redaction: secrets ([`Secret`]) never appear in errors, logs or
//!   `Debug` output; URLs are shown with userinfo stripped and sensitive query
//!   values replaced by `***`.

#![warn(missing_docs)]

mod auth;
mod client;
mod config;
mod error;
mod json;
mod link;
mod paginate;
mod ratelimit;
mod redact;
mod secret;

pub use client::{HttpClient, REQUEST_LOG_CAPACITY, Request, RequestKind, RequestLogEntry, Response, Stats};
pub use config::{AuthConfig, ClientAuth, ClientConfig, Clock, Method, RateLimit, RetryPolicy, TlsConfig};
pub use error::{HttpError, Location, TransportKind, status_hint};
pub use json::lookup;
pub use link::{Link, find_link, parse_link_header};
pub use paginate::{Page, Pager, Pagination};
pub use ratelimit::WINDOW_MARGIN;
pub use redact::{SENSITIVE_HEADERS, SENSITIVE_PARAMS};
pub use reqwest::header::HeaderMap;
pub use secret::Secret;

#[cfg(test)]
mod tests {
    #[test]
    fn client_is_send_sync_clone() {
        fn is<T: Send + Sync + Clone + 'static>() {}
        is::<crate::HttpClient>();
        fn send<T: Send>() {}
        send::<crate::Pager>();
    }
}
