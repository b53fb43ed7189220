use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Json, Router};
use muster_http::{AuthConfig, Clock, HttpClient, HttpError, Method, Pagination, Request, RequestKind, Secret};
use serde_json::json;

use crate::util::{client, config, serve};

type Hits = Arc<AtomicUsize>;

fn hits() -> Hits {
    Arc::new(AtomicUsize::new(0))
}

/// Fails the first `fail` requests with `status` (+ optional Retry-After), then 200.
fn flaky(fail: usize, status: u16, retry_after: Option<&'static str>) -> (Router, Hits) {
    let h = hits();
    let app = Router::new()
        .route(
            "/r",
            get(move |State(h): State<Hits>| async move {
                let n = h.fetch_add(1, Ordering::SeqCst);
                if n < fail {
                    let mut headers = HeaderMap::new();
                    if let Some(ra) = retry_after {
                        headers.insert("retry-after", ra.parse().unwrap());
                    }
                    (StatusCode::from_u16(status).unwrap(), headers, "busy").into_response()
                } else {
                    Json(json!({"ok": true})).into_response()
                }
            })
            .post(move |State(h): State<Hits>| async move {
                h.fetch_add(1, Ordering::SeqCst);
                (StatusCode::BAD_GATEWAY, "bad gateway")
            }),
        )
        .with_state(h.clone());
    (app, h)
}

#[tokio::test]
async fn retry_after_seconds_then_success() {
    let (app, h) = flaky(1, 429, Some("1"));
    let base = serve(app).await;
    let c = client(&base);
    let resp = c.send(&Request::get("/r")).await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.attempts, 2);
    assert_eq!(h.load(Ordering::SeqCst), 2);
    let st = c.stats();
    assert_eq!((st.requests, st.retries, st.throttled), (2, 1, 1));
}

#[tokio::test]
async fn retry_after_http_date_then_success() {
    let (app, h) = flaky(1, 429, Some("Wed, 21 Oct 2015 07:28:00 GMT"));
    let base = serve(app).await;
    let mut cfg = config(&base);
    // The client's clock is one second before the date the server names.
    let date = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
    cfg.clock = Clock::new(move || date - Duration::from_secs(1));
    let c = HttpClient::new(cfg).unwrap();
    let resp = c.send_ok(&Request::get("/r")).await.unwrap();
    assert_eq!(resp.json().unwrap(), json!({"ok": true}));
    assert_eq!(h.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn retry_after_too_long_fails_clearly() {
    let (app, h) = flaky(10, 429, Some("3600"));
    let base = serve(app).await;
    let c = client(&base);
    let err = c.send(&Request::get("/r")).await.unwrap_err();
    assert!(matches!(err, HttpError::RetryAfterTooLong { status: 429, .. }), "{err}");
    assert!(err.to_string().contains("3600s"), "{err}");
    assert_eq!(h.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn burst_of_503_then_success() {
    let (app, h) = flaky(3, 503, None);
    let base = serve(app).await;
    let c = client(&base);
    let resp = c.send(&Request::get("/r")).await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.attempts, 4);
    assert_eq!(h.load(Ordering::SeqCst), 4);
    assert_eq!(c.stats().retries, 3);
}

#[tokio::test]
async fn retries_exhausted() {
    let (app, h) = flaky(100, 503, None);
    let base = serve(app).await;
    let c = client(&base);
    let resp = c.send(&Request::get("/r")).await.unwrap();
    assert_eq!(resp.status, 503);
    assert_eq!(h.load(Ordering::SeqCst), 4);
    let err = resp.error_for_status().unwrap_err();
    match &err {
        HttpError::Status { status, attempts, body_snippet, .. } => {
            assert_eq!((*status, *attempts), (503, 4));
            assert_eq!(body_snippet, "busy");
        }
        other => panic!("{other:?}"),
    }
    // Through the pager the error names the label and page.
    let mut pager = c.paginate(Request::get("/r"), Pagination::None, None, "user");
    let err = pager.next_page().await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("user page 1: GET"), "{msg}");
    assert!(msg.contains("HTTP 503 (after 4 attempt(s))"), "{msg}");
}

#[tokio::test]
async fn post_is_not_retried_on_502() {
    let (app, h) = flaky(0, 502, None);
    let base = serve(app).await;
    let c = client(&base);
    let req = Request::new(Method::POST, "/r").with_json(json!({"a": 1}));
    let resp = c.send(&req).await.unwrap();
    assert_eq!(resp.status, 502);
    assert_eq!(h.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_then_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = client(&format!("http://{addr}"));
    let err = c.send(&Request::get("/x")).await.unwrap_err();
    match &err {
        HttpError::Transport { attempts, .. } => assert_eq!(*attempts, 4),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("cannot connect"), "{err}");
    assert_eq!(c.stats().transport_errors, 4);
    let log = c.request_log();
    assert_eq!(log.len(), 4);
    assert!(log.iter().all(|e| e.status.is_none() && e.error.is_some()));
}

#[tokio::test]
async fn timeout_is_retried_then_reported() {
    let h = hits();
    let app = Router::new()
        .route(
            "/slow",
            get(|State(h): State<Hits>| async move {
                h.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .with_state(h.clone());
    let base = serve(app).await;
    let mut cfg = config(&base);
    cfg.timeout = Duration::from_millis(200);
    cfg.retry.max_attempts = 2;
    let c = HttpClient::new(cfg).unwrap();
    let err = c.send(&Request::get("/slow")).await.unwrap_err();
    assert!(matches!(err, HttpError::Timeout { attempts: 2, .. }), "{err}");
    assert_eq!(h.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn redirects_same_origin_only() {
    let other = serve(Router::new().route("/landing", get(|| async { "elsewhere" }))).await;
    let other2 = other.clone();
    let app = Router::new()
        .route("/ok", get(|| async { Json(json!({"ok": 1})) }))
        .route("/same", get(|| async { Redirect::temporary("/ok") }))
        .route("/away", get(move || async move { Redirect::temporary(&format!("{other2}/landing?token=abc123")) }))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }));
    let base = serve(app).await;
    let c = client(&base);
    let resp = c.send_ok(&Request::get("/same")).await.unwrap();
    assert!(resp.url.ends_with("/ok"), "{}", resp.url);

    let err = c.send(&Request::get("/away")).await.unwrap_err();
    assert!(matches!(err, HttpError::Redirect { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("another origin"), "{msg}");
    assert!(msg.contains("token=***"), "{msg}");
    assert!(!msg.contains("abc123"), "{msg}");

    let err = c.send(&Request::get("/loop")).await.unwrap_err();
    assert!(err.to_string().contains("more than 5 redirects"), "{err}");
}

/// A server that echoes everything it receives, in the body of an error.
fn echo_app() -> Router {
    Router::new()
        .route(
            "/echo",
            get(|headers: HeaderMap, RawQuery(q): RawQuery| async move {
                let all: Vec<String> =
                    headers.iter().map(|(k, v)| format!("{k}={}", v.to_str().unwrap_or(""))).collect();
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("query={} headers={}", q.unwrap_or_default(), all.join(";")),
                )
            }),
        )
        .route(
            "/token",
            post(|body: String| async move { (StatusCode::UNAUTHORIZED, format!("invalid_client: got {body}")) }),
        )
        .route("/garbage", get(|| async { "{not json" }))
}

const SECRETS: &[&str] = &["KEY-q7Zx9", "HDR-9u2Lp", "CS-s3cr3t/+", "PW-hunter22", "USERINFO-pw"];

fn assert_clean(text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "secret {s} leaked in: {text}");
    }
    // Base64 of the userinfo credentials (sent as Basic auth by reqwest).
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "alice:USERINFO-pw");
    assert!(!text.contains(&b64), "encoded userinfo leaked in: {text}");
    // URL-encoded variant of the client secret.
    assert!(!text.contains("CS-s3cr3t%2F%2B"), "encoded secret leaked in: {text}");
}

#[tokio::test]
async fn secrets_never_appear_in_errors_or_logs() {
    let base = serve(echo_app()).await;
    let with_userinfo = base.replace("http://", "http://alice:USERINFO-pw@");
    let mut cfg = config(&with_userinfo);
    cfg.retry.max_attempts = 1;
    cfg.headers = vec![("X-Tenant-Secret".into(), Secret::new("HDR-9u2Lp"))];
    cfg.auth = AuthConfig::ApiKeyQuery { param: "k".into(), key: Secret::new("KEY-q7Zx9") };
    let c = HttpClient::new(cfg).unwrap();

    // The server echoes the key (query) and header into an error body.
    let resp = c.send(&Request::get("/echo").with_query("q", "1")).await.unwrap();
    assert!(resp.url.contains("k=***"), "{}", resp.url);
    assert_clean(&resp.url);
    let err = resp.error_for_status().unwrap_err();
    assert_clean(&err.to_string());
    assert_clean(&format!("{err:?}"));
    assert!(err.to_string().contains("query=q=1&k=***"), "{err}");
    assert!(err.to_string().contains("authorization=Basic ***"), "{err}");
    assert!(err.to_string().contains("x-tenant-secret=***"), "{err}");

    // Pagination errors (status, JSON).
    let mut pager = c.paginate(Request::get("/echo"), Pagination::None, None, "user");
    let err = pager.next_page().await.unwrap_err();
    assert_clean(&err.to_string());
    assert_clean(&format!("{err:?}"));
    let mut pager = c.paginate(Request::get("/garbage"), Pagination::None, None, "user");
    let err = pager.next_page().await.unwrap_err();
    assert!(matches!(err, HttpError::Json { .. }));
    assert_clean(&err.to_string());

    // A token endpoint that echoes the form (client secret, password).
    let c2 = c.with_auth(AuthConfig::OAuth2Password {
        token_url: "/token".into(),
        client_id: "cid".into(),
        client_secret: Some(Secret::new("CS-s3cr3t/+")),
        username: "bob".into(),
        password: Secret::new("PW-hunter22"),
        scopes: vec!["read".into()],
    });
    let err = c2.send(&Request::get("/echo")).await.unwrap_err();
    assert!(matches!(err, HttpError::Auth { status: Some(401), .. }), "{err:?}");
    assert!(err.to_string().contains("invalid_client"), "{err}");
    assert_clean(&err.to_string());
    assert_clean(&format!("{err:?}"));

    // Debug of the client, its config types and requests.
    assert_clean(&format!("{c:?} {c2:?}"));
    let req = Request::get("/x")
        .with_header("Authorization", "Bearer PW-hunter22")
        .with_auth(Arc::new(AuthConfig::Bearer { token: Secret::new("KEY-q7Zx9") }));
    assert_clean(&format!("{req:?}"));

    // The request log.
    let log = c.request_log();
    assert!(log.iter().any(|e| e.kind == RequestKind::Token));
    for e in &log {
        assert_clean(&format!("{e:?}"));
    }
    assert!(c.scrub("x KEY-q7Zx9 y").contains("***"));
    assert_clean(&c.redact_url(&format!("{with_userinfo}/a?k=KEY-q7Zx9")));
}

#[tokio::test]
async fn started_timestamp_uses_injected_clock() {
    let base = serve(Router::new().route("/x", get(|| async { "[]" }))).await;
    let mut cfg = config(&base);
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    cfg.clock = Clock::new(move || t);
    let c = HttpClient::new(cfg).unwrap();
    c.send(&Request::get("/x")).await.unwrap();
    assert_eq!(c.request_log()[0].started, t);
}
