//! `muster serve`: a web UI and JSON API over one Muster store.
//!
//! Server-rendered HTML (plain Rust string building, every interpolated value through [`html::esc`]) with
//! a little vanilla JS; CSS, JS and the OpenAPI document are embedded with `include_str!`, so the UI works
//! offline. The pages and the JSON API read the same view data ([`data`]); governance actions call the same
//! `muster_govern` functions as the CLI (`approve`, `reject`, `status`) and every action is written to the
//! store's audit log with the actor given in the form.
//!
//! ## Safety
//! - Bound to loopback by default; [`ServeConfig::check_bind`] refuses another address without a token.
//! - With a token: `/api` needs `Authorization: Bearer <token>` (or a logged-in session), the UI a login
//!   form that sets an `HttpOnly; SameSite=Strict` session cookie.
//! - Every POST carries the session's CSRF token (form field `csrf` or header `X-CSRF-Token`); a missing or
//!   wrong one is refused with 403. Bearer-authenticated API calls are exempt: a browser never attaches a
//!   bearer header on its own, so they cannot be forged cross-site.
//! - On loopback, requests whose `Host` is not a loopback name are refused (DNS rebinding).
//! - Secrets are never rendered: the store holds only credential metadata, profile keys that look
//!   sensitive are masked, and request-log URLs are re-redacted.

pub mod api;
mod auth;
pub mod data;
pub mod html;
pub mod nhi;
mod pages;
pub mod queries;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use chrono::{DateTime, Utc};
use muster_govern::ApprovalRules;
use muster_store::Store;
use rusqlite::{Connection, OpenFlags};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

pub use auth::{SESSION_COOKIE, Sessions};

/// The default address: loopback only.
pub const DEFAULT_BIND: &str = "127.0.0.1:7878";

/// The embedded OpenAPI 3.1 document of the JSON API (also lists the HTML pages, tagged `ui`).
pub const OPENAPI: &str = include_str!("openapi.json");

/// Where "now" comes from: injectable so that age, expiry and approval-age rules are deterministic in tests.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant (tests, reproducible screenshots).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// How to serve.
#[derive(Clone)]
pub struct ServeConfig {
    /// The store (SQLite file). Must exist.
    pub db: PathBuf,
    /// Required to bind a non-loopback address: bearer token for `/api`, password of the login form.
    pub token: Option<String>,
    /// The approval rules (the same flags and environment as `muster approve`).
    pub rules: ApprovalRules,
    pub clock: Arc<dyn Clock>,
    /// When set, requests whose `Host` header names another host (the port is not compared) are refused:
    /// the DNS-rebinding defence on loopback. `None` accepts any host.
    pub allowed_hosts: Option<Vec<String>>,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("db", &self.db)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .field("rules", &self.rules)
            .field("allowed_hosts", &self.allowed_hosts)
            .finish_non_exhaustive()
    }
}

impl ServeConfig {
    /// A config for `db` with the wall clock, default rules, no token and any host.
    pub fn new(db: impl Into<PathBuf>) -> ServeConfig {
        ServeConfig {
            db: db.into(),
            token: None,
            rules: ApprovalRules::default(),
            clock: Arc::new(SystemClock),
            allowed_hosts: None,
        }
    }

    /// Refuse a non-loopback address without a token; on loopback, accept only loopback host names.
    pub fn check_bind(&mut self, addr: SocketAddr) -> Result<(), String> {
        if addr.ip().is_loopback() {
            self.allowed_hosts = Some(["127.0.0.1", "localhost", "[::1]"].iter().map(|h| h.to_string()).collect());
            return Ok(());
        }
        match &self.token {
            Some(t) if t.len() >= 16 => Ok(()),
            Some(_) => Err("--token must be at least 16 characters when binding a non-loopback address".into()),
            None => Err(format!(
                "refusing to bind {addr} without --token: only loopback addresses are served without authentication"
            )),
        }
    }
}

/// A failure in a handler; rendered as JSON under `/api`, as a page elsewhere.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// A governance rule refused the action.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::Refused(_) => StatusCode::CONFLICT,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<muster_store::StoreError> for WebError {
    fn from(e: muster_store::StoreError) -> Self {
        match e {
            muster_store::StoreError::SyncNotFound { id, .. } => WebError::NotFound(format!("no sync #{id}")),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for WebError {
    fn from(e: rusqlite::Error) -> Self {
        WebError::Internal(format!("database: {e}"))
    }
}

impl From<muster_govern::GovernError> for WebError {
    fn from(e: muster_govern::GovernError) -> Self {
        match e {
            muster_govern::GovernError::Refused(m) => WebError::Refused(m),
            muster_govern::GovernError::Store(s) => s.into(),
        }
    }
}

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The state behind [`AppState`] (its fields are private; the view functions in [`data`] take it).
pub struct Inner {
    /// Read-write handle: governance rules, actions, audit log.
    store: Mutex<Store>,
    /// Read-only connection for the paginated inventory queries.
    read: Mutex<Connection>,
    pub(crate) cfg: ServeConfig,
    pub(crate) sessions: Sessions,
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, WebError> {
    m.lock().map_err(|_| WebError::Internal("a previous request panicked while holding the store".into()))
}

impl Inner {
    pub(crate) fn store(&self) -> Result<MutexGuard<'_, Store>, WebError> {
        lock(&self.store)
    }

    pub(crate) fn read(&self) -> Result<MutexGuard<'_, Connection>, WebError> {
        lock(&self.read)
    }

    /// Now, as the RFC 3339 text the store keeps.
    pub(crate) fn now(&self) -> String {
        self.cfg.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

impl AppState {
    /// Open the store (it must exist) and a read-only connection beside it.
    pub fn open(cfg: ServeConfig) -> Result<AppState, WebError> {
        if !cfg.db.exists() {
            return Err(WebError::NotFound(format!(
                "no store at {} (create one with `muster sync` or `muster demo`)",
                cfg.db.display()
            )));
        }
        let store = Store::open(&cfg.db)?;
        let read = open_read_only(&cfg.db)?;
        Ok(AppState(Arc::new(Inner {
            store: Mutex::new(store),
            read: Mutex::new(read),
            sessions: Sessions::default(),
            cfg,
        })))
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.0
    }

    /// Run database work off the async threads.
    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, WebError> + Send + 'static,
    {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| WebError::Internal(format!("worker failed: {e}")))?
    }
}

fn open_read_only(db: &Path) -> Result<Connection, WebError> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(muster_store::BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Records every route it adds, so the route table can be checked against the OpenAPI document.
struct Routes {
    router: Router<AppState>,
    list: Vec<(Method, &'static str)>,
}

impl Routes {
    fn add(mut self, method: Method, path: &'static str, mr: MethodRouter<AppState>) -> Routes {
        self.list.push((method, path));
        self.router = self.router.route(path, mr);
        self
    }

    fn get<H, T>(self, path: &'static str, h: H) -> Routes
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, path, get(h))
    }

    fn post<H, T>(self, path: &'static str, h: H) -> Routes
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, path, post(h))
    }
}

fn routes() -> Routes {
    Routes { router: Router::new(), list: Vec::new() }
        // pages
        .get("/", pages::home)
        .get("/assets/style.css", pages::style)
        .get("/assets/app.js", pages::script)
        .get("/login", pages::login_form)
        .post("/login", pages::login)
        .post("/logout", pages::logout)
        .get("/connectors", pages::connectors)
        .get("/connectors/{name}", pages::connector)
        .get("/connectors/{name}/diff", pages::connector_diff)
        .post("/connectors/{name}/approve", pages::approve)
        .post("/connectors/{name}/reject", pages::reject)
        .get("/reports/{id}", pages::report)
        .get("/inventory", pages::inventory)
        .get("/identities/{connector}/{rtype}/{id}", pages::identity)
        .get("/nhi", pages::nhi)
        .get("/syncs", pages::syncs)
        .get("/syncs/{id}", pages::sync)
        .post("/syncs/{id}/accept", pages::accept)
        .get("/audit", pages::audit)
        // JSON API
        .get("/api/openapi.json", api::openapi)
        .get("/api/session", api::session)
        .get("/api/connectors", api::connectors)
        .get("/api/connectors/{name}", api::connector)
        .get("/api/connectors/{name}/versions", api::versions)
        .get("/api/connectors/{name}/diff", api::connector_diff)
        .post("/api/connectors/{name}/approve", api::approve)
        .post("/api/connectors/{name}/reject", api::reject)
        .get("/api/reports/{id}", api::report)
        .get("/api/inventory", api::inventory)
        .get("/api/identities/{connector}/{rtype}/{id}", api::identity)
        .get("/api/nhi", api::nhi)
        .get("/api/syncs", api::syncs)
        .get("/api/syncs/{id}/diff", api::sync_diff)
        .post("/api/syncs/{id}/accept", api::accept)
        .get("/api/audit", api::audit)
}

/// Every (method, path) the router serves, in the order they were added.
pub fn route_table() -> Vec<(String, String)> {
    routes().list.into_iter().map(|(m, p)| (m.to_string(), p.to_string())).collect()
}

/// The application: routes, then the security layer (host check, sessions, auth, CSRF, headers).
pub fn router(state: AppState) -> Router {
    routes()
        .router
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::guard))
        .with_state(state)
}

async fn fallback(uri: axum::http::Uri) -> Response {
    let e = WebError::NotFound(format!("no such page: {}", uri.path()));
    let mut r = if uri.path().starts_with("/api/") { api::error_response(&e) } else { pages::error_page(&e) };
    r.headers_mut().insert("x-muster-fallback", axum::http::HeaderValue::from_static("1"));
    r
}

/// Serve on an already-bound listener until `shutdown` resolves.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}

/// Why `muster serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A usage or configuration problem (exit code 2): no store, a public bind without a token.
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// Check the bind address, open the store, listen on `bind`, call `ready` with the bound address, and serve
/// until `shutdown` resolves.
pub async fn start(
    mut cfg: ServeConfig,
    bind: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    cfg.check_bind(bind).map_err(StartError::Config)?;
    let state = AppState::open(cfg).map_err(|e| StartError::Config(e.to_string()))?;
    let listener =
        tokio::net::TcpListener::bind(bind).await.map_err(|source| StartError::Bind { addr: bind, source })?;
    ready(listener.local_addr()?);
    serve_on(listener, state, shutdown).await?;
    Ok(())
}

/// [`start`] on its own runtime, until Ctrl-C: what `muster serve` runs.
pub fn run_until_ctrl_c(cfg: ServeConfig, bind: SocketAddr, ready: impl FnOnce(SocketAddr)) -> Result<(), StartError> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(start(
        cfg,
        bind,
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
        ready,
    ))
}

/// Render a JSON value for a response body; never fails (falls back to an error object).
pub(crate) fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\":\"cannot encode: {e}\"}}"))
}

pub(crate) fn api_json<T: serde::Serialize>(status: StatusCode, v: &T) -> Response {
    (status, [(axum::http::header::CONTENT_TYPE, "application/json")], json_text(v)).into_response()
}
