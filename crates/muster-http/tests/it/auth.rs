use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use muster_http::{AuthConfig, ClientAuth, Clock, HttpClient, HttpError, Method, Request, Secret};
use serde_json::{Value, json};

use crate::util::{client, config, serve};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// An API that accepts exactly one Authorization-like header value.
fn guarded(header: &'static str, expected: String) -> Router {
    Router::new().route(
        "/me",
        get(move |h: HeaderMap, Query(q): Query<HashMap<String, String>>| {
            let expected = expected.clone();
            async move {
                let got = if header == "?api_key" {
                    q.get("api_key").cloned()
                } else {
                    h.get(header).map(|v| v.to_str().unwrap().to_owned())
                };
                if got.as_deref() == Some(expected.as_str()) {
                    Json(json!({"ok": true})).into_response()
                } else {
                    (StatusCode::UNAUTHORIZED, "nope").into_response()
                }
            }
        }),
    )
}

async fn check(app: Router, auth: AuthConfig) {
    let base = serve(app).await;
    let mut cfg = config(&base);
    cfg.auth = auth;
    let c = HttpClient::new(cfg).unwrap();
    let resp = c.send(&Request::get("/me")).await.unwrap();
    assert_eq!(resp.status, 200, "{}", resp.text());
    // Negative: the same client without credentials is refused.
    let resp = c.without_auth().send(&Request::get("/me")).await.unwrap();
    assert_eq!(resp.status, 401);
    let err = resp.error_for_status().unwrap_err();
    assert!(err.is_auth());
    assert!(err.to_string().contains("check the credentials in the environment variables"));
}

#[tokio::test]
async fn basic() {
    check(
        guarded("authorization", format!("Basic {}", b64("alice:pw-1"))),
        AuthConfig::Basic { username: "alice".into(), password: Secret::new("pw-1") },
    )
    .await;
}

#[tokio::test]
async fn bearer() {
    check(guarded("authorization", "Bearer tok-abc".into()), AuthConfig::Bearer { token: Secret::new("tok-abc") })
        .await;
}

#[tokio::test]
async fn api_key_header_with_prefix() {
    check(
        guarded("authorization", "SSWS key-123".into()),
        AuthConfig::ApiKeyHeader {
            header: "Authorization".into(),
            key: Secret::new("key-123"),
            prefix: Some("SSWS ".into()),
        },
    )
    .await;
    check(
        guarded("x-api-key", "key-456".into()),
        AuthConfig::ApiKeyHeader { header: "X-API-Key".into(), key: Secret::new("key-456"), prefix: None },
    )
    .await;
}

#[tokio::test]
async fn api_key_query() {
    check(
        guarded("?api_key", "key-789".into()),
        AuthConfig::ApiKeyQuery { param: "api_key".into(), key: Secret::new("key-789") },
    )
    .await;
}

#[tokio::test]
async fn per_request_auth_override() {
    let base = serve(guarded("authorization", "Bearer other".into())).await;
    let c = client(&base);
    let auth = Arc::new(AuthConfig::Bearer { token: Secret::new("other") });
    let resp = c.send(&Request::get("/me").with_auth(auth)).await.unwrap();
    assert_eq!(resp.status, 200);
}

/// An identity provider plus an API that accepts only the current token.
#[derive(Clone, Default)]
struct Idp {
    token_hits: Arc<AtomicUsize>,
    api_hits: Arc<AtomicUsize>,
    issued: Arc<AtomicU64>,
    /// The token the API accepts (the latest issued, unless revoked).
    valid: Arc<Mutex<Option<String>>>,
    forms: Arc<Mutex<Vec<(Option<String>, HashMap<String, String>)>>>,
    expires_in: u64,
}

async fn token_h(State(s): State<Idp>, h: HeaderMap, Form(form): Form<HashMap<String, String>>) -> impl IntoResponse {
    s.token_hits.fetch_add(1, Ordering::SeqCst);
    // Slow token endpoint: concurrent callers must wait, not fetch again.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let basic = h.get("authorization").map(|v| v.to_str().unwrap().to_owned());
    s.forms.lock().unwrap().push((basic, form));
    let n = s.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let tok = format!("tok-{n}");
    *s.valid.lock().unwrap() = Some(tok.clone());
    Json(json!({"access_token": tok, "token_type": "bearer", "expires_in": s.expires_in}))
}

async fn login_h(State(s): State<Idp>, Json(body): Json<Value>) -> impl IntoResponse {
    s.token_hits.fetch_add(1, Ordering::SeqCst);
    if body != json!({"user": "svc", "password": "login-pw-1"}) {
        return (StatusCode::UNAUTHORIZED, "bad login").into_response();
    }
    let n = s.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let tok = format!("L-{n}");
    *s.valid.lock().unwrap() = Some(tok.clone());
    Json(json!({"data": {"token": tok, "expires_at": "2999-01-01T00:00:00Z"}})).into_response()
}

async fn api_h(State(s): State<Idp>, h: HeaderMap) -> impl IntoResponse {
    s.api_hits.fetch_add(1, Ordering::SeqCst);
    let valid = s.valid.lock().unwrap().clone();
    let got = h
        .get("authorization")
        .or_else(|| h.get("x-session"))
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let ok = valid.is_some_and(|v| got == format!("Bearer {v}") || got == format!("Session {v}"));
    if ok { Json(json!([{"id": "u1"}])).into_response() } else { (StatusCode::UNAUTHORIZED, "expired").into_response() }
}

async fn idp(expires_in: u64) -> (String, Idp) {
    let s = Idp { expires_in, ..Idp::default() };
    let app = Router::new()
        .route("/oauth/token", post(token_h))
        .route("/login", post(login_h))
        .route("/api/users", get(api_h))
        .with_state(s.clone());
    (serve(app).await, s)
}

fn cc(base: &str, client_auth: ClientAuth) -> AuthConfig {
    AuthConfig::OAuth2ClientCredentials {
        token_url: format!("{base}/oauth/token"),
        client_id: "cid".into(),
        client_secret: Secret::new("csecret-1"),
        scopes: vec!["users:read".into(), "groups:read".into()],
        audience: Some("https://api".into()),
        client_auth,
    }
}

#[tokio::test]
async fn oauth2_client_credentials_fetches_once_for_many_requests() {
    let (base, s) = idp(3600).await;
    let mut cfg = config(&base);
    cfg.auth = cc(&base, ClientAuth::Basic);
    cfg.max_concurrency = 8;
    let c = HttpClient::new(cfg).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { c.send_ok(&Request::get("/api/users")).await.unwrap().status }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(s.token_hits.load(Ordering::SeqCst), 1);
    assert_eq!(s.api_hits.load(Ordering::SeqCst), 20);
    let forms = s.forms.lock().unwrap();
    let (basic, form) = &forms[0];
    assert_eq!(basic.as_deref(), Some(format!("Basic {}", b64("cid:csecret-1")).as_str()));
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "users:read groups:read");
    assert_eq!(form["audience"], "https://api");
    assert!(!form.contains_key("client_secret"));
    assert_eq!(c.stats().token_requests, 1);
    let log = c.request_log();
    let token_entry = log.iter().find(|e| e.kind == muster_http::RequestKind::Token).unwrap();
    assert!(token_entry.url.ends_with("/oauth/token"));
}

#[tokio::test]
async fn oauth2_client_credentials_in_body() {
    let (base, s) = idp(3600).await;
    let mut cfg = config(&base);
    cfg.auth = cc(&base, ClientAuth::Body);
    let c = HttpClient::new(cfg).unwrap();
    c.send_ok(&Request::get("/api/users")).await.unwrap();
    let forms = s.forms.lock().unwrap();
    let (basic, form) = &forms[0];
    assert!(basic.is_none());
    assert_eq!(form["client_id"], "cid");
    assert_eq!(form["client_secret"], "csecret-1");
}

#[tokio::test]
async fn oauth2_password_grant() {
    let (base, s) = idp(3600).await;
    let mut cfg = config(&base);
    cfg.auth = AuthConfig::OAuth2Password {
        token_url: "/oauth/token".into(),
        client_id: "cid".into(),
        client_secret: None,
        username: "svc".into(),
        password: Secret::new("pw-2"),
        scopes: vec![],
    };
    let c = HttpClient::new(cfg).unwrap();
    c.send_ok(&Request::get("/api/users")).await.unwrap();
    c.send_ok(&Request::get("/api/users")).await.unwrap();
    assert_eq!(s.token_hits.load(Ordering::SeqCst), 1);
    let forms = s.forms.lock().unwrap();
    let form = &forms[0].1;
    assert_eq!(form["grant_type"], "password");
    assert_eq!(form["username"], "svc");
    assert_eq!(form["password"], "pw-2");
    assert_eq!(form["client_id"], "cid");
    assert!(!form.contains_key("scope"));
}

#[tokio::test]
async fn login_flow_with_custom_header() {
    let (base, s) = idp(0).await;
    let mut cfg = config(&base);
    cfg.auth = AuthConfig::Login {
        url: "/login".into(),
        method: Method::POST,
        body: Secret::new(r#"{"user":"svc","password":"login-pw-1"}"#),
        token_path: "data.token".into(),
        expires_in_path: None,
        expires_at_path: Some("data.expires_at".into()),
        header: "X-Session".into(),
        prefix: "Session ".into(),
    };
    let c = HttpClient::new(cfg).unwrap();
    for _ in 0..3 {
        c.send_ok(&Request::get("/api/users")).await.unwrap();
    }
    assert_eq!(s.token_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn token_refreshed_once_on_401() {
    let (base, s) = idp(3600).await;
    let mut cfg = config(&base);
    cfg.auth = cc(&base, ClientAuth::Basic);
    let c = HttpClient::new(cfg).unwrap();
    c.send_ok(&Request::get("/api/users")).await.unwrap();
    // The server revokes the token mid-sync.
    *s.valid.lock().unwrap() = Some("revoked-elsewhere".into());
    // The next request gets a 401, fetches tok-2, and is retried with it.
    c.send_ok(&Request::get("/api/users")).await.unwrap();
    assert_eq!(s.token_hits.load(Ordering::SeqCst), 2);
    assert_eq!(s.api_hits.load(Ordering::SeqCst), 3);
    assert_eq!(c.stats().auth_refreshes, 1);

    // If even a fresh token is refused, the 401 is returned (refresh only once).
    let app_rejects = Router::new()
        .route("/oauth/token", post(token_h))
        .route("/api/users", get(|| async { (StatusCode::UNAUTHORIZED, "never") }))
        .with_state(Idp { expires_in: 3600, ..Idp::default() });
    let base2 = serve(app_rejects).await;
    let mut cfg = config(&base2);
    cfg.auth = cc(&base2, ClientAuth::Basic);
    let c = HttpClient::new(cfg).unwrap();
    let err = c.send_ok(&Request::get("/api/users")).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(c.stats().token_requests, 2);
}

#[tokio::test]
async fn token_refreshed_before_expiry_using_clock() {
    let (base, s) = idp(100).await;
    let now = Arc::new(AtomicU64::new(1_700_000_000));
    let clock_now = now.clone();
    let mut cfg = config(&base);
    cfg.auth = cc(&base, ClientAuth::Basic);
    cfg.clock = Clock::new(move || SystemTime::UNIX_EPOCH + Duration::from_secs(clock_now.load(Ordering::SeqCst)));
    let c = HttpClient::new(cfg).unwrap();
    c.send_ok(&Request::get("/api/users")).await.unwrap();
    now.fetch_add(80, Ordering::SeqCst); // still valid, outside the 10 s margin
    c.send_ok(&Request::get("/api/users")).await.unwrap();
    assert_eq!(s.token_hits.load(Ordering::SeqCst), 1);
    now.fetch_add(11, Ordering::SeqCst); // 91 s: inside the margin
    c.send_ok(&Request::get("/api/users")).await.unwrap();
    assert_eq!(s.token_hits.load(Ordering::SeqCst), 2);
    // No 401 was needed.
    assert_eq!(s.api_hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn token_endpoint_failure_is_auth_error() {
    let app = Router::new()
        .route("/oauth/token", post(|| async { (StatusCode::BAD_REQUEST, r#"{"error":"invalid_client"}"#) }));
    let base = serve(app).await;
    let mut cfg = config(&base);
    cfg.auth = cc(&base, ClientAuth::Body);
    let c = HttpClient::new(cfg).unwrap();
    let err = c.send(&Request::get("/api/users")).await.unwrap_err();
    assert!(matches!(err, HttpError::Auth { status: Some(400), .. }), "{err:?}");
    assert!(err.is_auth());
    let msg = err.to_string();
    assert!(msg.contains("invalid_client"), "{msg}");
    assert!(msg.contains("environment variables"), "{msg}");
    assert!(!msg.contains("csecret-1"), "{msg}");

    // A token endpoint answering without access_token.
    let app = Router::new().route("/t", post(|| async { Json(json!({"tok": "x"})) }));
    let base = serve(app).await;
    let mut cfg = config(&base);
    cfg.auth = AuthConfig::OAuth2ClientCredentials {
        token_url: "/t".into(),
        client_id: "c".into(),
        client_secret: Secret::new("s-123"),
        scopes: vec![],
        audience: None,
        client_auth: ClientAuth::Basic,
    };
    let c = HttpClient::new(cfg).unwrap();
    let err = c.send(&Request::get("/api/users")).await.unwrap_err();
    assert!(err.to_string().contains("no token at `access_token`"), "{err}");
}
