//! The sync engine: a compiled connector runs through its HTTP source; rows are mapped to records and
//! streamed, in batches over a bounded channel, to a [`RecordSink`] on the calling thread. Memory does not
//! grow with the size of the sync (only the ids of resources that need per-resource grant calls are kept).

use crate::map::{self, Coverage, Ctx};
use futures::StreamExt;
use muster_http::{AuthConfig, ClientAuth, ClientConfig, HttpClient, HttpError, Method, Request, Secret};
use muster_model::{Record, RecordSink, ResourceType};
use muster_spec::CompiledConnector;
use muster_spec::compile::{EntitlementC, GrantsC, RequestC, ResourceTypeC};
use muster_spec::schema::{self, Auth, Pagination};
use muster_spec::template::{Template, encode_path_segment};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Looks up environment variables (`${NAME}`).
pub type EnvFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The connector cannot run as configured here (missing environment variable, unreadable TLS file).
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Http(#[from] HttpError),
    #[error("mapping failed: {0}")]
    Map(#[from] map::MapError),
    #[error("{context}: {message}")]
    Response { context: String, message: String },
    #[error("the store refused records: {0}")]
    Sink(String),
    #[error("interrupted")]
    Cancelled,
}

impl EngineError {
    /// True for problems with configuration rather than the API (exit code 2).
    pub fn is_config(&self) -> bool {
        matches!(self, EngineError::Config(_))
    }
}

/// Progress events, called from the engine's worker threads.
pub trait Progress: Send + Sync {
    /// A page of `label` (a resource type id, or `type/entitlement grants`) arrived.
    fn page(&self, _label: &str, _pages: u64, _records: u64) {}
    /// A listing finished.
    fn done(&self, _label: &str, _records: u64) {}
}

/// No progress output.
pub struct Silent;
impl Progress for Silent {}

/// Knobs for one run.
#[derive(Clone)]
pub struct SyncOptions {
    /// Read at most this many records per resource type (a bounded test read); grants are then read for
    /// those resources only.
    pub limit_per_type: Option<u64>,
    /// Records per batch sent to the sink.
    pub batch_size: usize,
    /// Set to stop the sync at the next page (Ctrl-C).
    pub cancel: Arc<AtomicBool>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions { limit_per_type: None, batch_size: 1000, cancel: Arc::new(AtomicBool::new(false)) }
    }
}

/// What one listing (a resource type, or an entitlement's grants) saw.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ListingReport {
    pub label: String,
    pub requests: u64,
    pub pages: u64,
    /// Records produced (resources or grants).
    pub records: u64,
    /// The total the API reported on its first page, when it reports one.
    pub api_total: Option<u64>,
    /// True when the listing stopped early because of `limit_per_type`.
    pub truncated: bool,
    /// The page size the connector asks for, when it sets one.
    pub page_size_asked: Option<u64>,
    /// Rows on the first page.
    pub first_page_rows: Option<u64>,
    /// The pagination style (`none`, `offset`, ...).
    pub pagination: String,
    pub coverage: Coverage,
}

/// The outcome of a successful run.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SyncReport {
    pub resource_types: Vec<ListingReport>,
    pub grants: Vec<ListingReport>,
    pub requests: u64,
    pub retries: u64,
    pub bytes: u64,
    pub elapsed_ms: u64,
    /// The last requests made (redacted URLs, no headers or bodies), oldest first.
    pub request_log: Vec<RequestRecord>,
}

/// One HTTP exchange, as kept in reports. Contains no secrets.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RequestRecord {
    pub method: String,
    pub url: String,
    pub status: Option<u16>,
    pub attempt: u32,
    pub duration_ms: f64,
    pub bytes: u64,
    pub token: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<&muster_http::RequestLogEntry> for RequestRecord {
    fn from(e: &muster_http::RequestLogEntry) -> Self {
        RequestRecord {
            method: e.method.clone(),
            url: e.url.clone(),
            status: e.status,
            attempt: e.attempt,
            duration_ms: e.duration.as_secs_f64() * 1000.0,
            bytes: e.bytes,
            token: e.kind == muster_http::RequestKind::Token,
            error: e.error.clone(),
        }
    }
}

/// The page size a pagination block asks for, and its style's name.
pub fn page_size_of(p: &Pagination) -> (Option<u64>, &'static str) {
    match p {
        Pagination::None {} => (None, "none"),
        Pagination::Offset { limit, .. } => (Some(limit.unwrap_or(100)), "offset"),
        Pagination::Page { size, .. } => (*size, "page"),
        Pagination::Cursor { size, .. } => (*size, "cursor"),
        Pagination::NextLink { .. } => (None, "next_link"),
        Pagination::LinkHeader { size, .. } => (*size, "link_header"),
        Pagination::Scim { count } => (Some(count.unwrap_or(100)), "scim"),
    }
}

impl SyncReport {
    pub fn records(&self) -> u64 {
        self.resource_types.iter().map(|r| r.records).sum::<u64>() + self.grants.iter().map(|g| g.records).sum::<u64>()
    }
}

/// Run a sync, writing every record to `sink`. On error nothing more is written; the caller decides what
/// happens to what was written (the store marks such a sync failed and keeps the previous snapshot).
pub fn run(
    c: &CompiledConnector,
    env: &EnvFn,
    sink: &mut dyn RecordSink,
    opts: &SyncOptions,
    progress: &dyn Progress,
) -> Result<SyncReport, EngineError> {
    let (tx, mut rx) = mpsc::channel::<Vec<Record>>(8);
    let started = Instant::now();
    std::thread::scope(|s| {
        let producer = s.spawn(move || -> Result<SyncReport, EngineError> {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| EngineError::Config(format!("cannot start the async runtime: {e}")))?;
            rt.block_on(async move {
                let engine = Engine::new(c, env, opts, progress, tx)?;
                engine.run().await
            })
        });
        let mut sink_error = None;
        while let Some(batch) = rx.blocking_recv() {
            if let Err(e) = sink.write_batch(&batch) {
                sink_error = Some(e.to_string());
                opts.cancel.store(true, Ordering::SeqCst);
                break;
            }
        }
        rx.close();
        while rx.blocking_recv().is_some() {}
        let result = producer.join().map_err(|_| EngineError::Config("the sync worker panicked".into()))?;
        if let Some(e) = sink_error {
            return Err(EngineError::Sink(e));
        }
        let mut report = result?;
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    })
}

/// Build the HTTP client configuration for a connector (credentials resolved from `env`).
pub fn client_config(c: &CompiledConnector, env: &EnvFn) -> Result<ClientConfig, EngineError> {
    let h = &c.http;
    let base_url = render_env(&h.base_url, env, "source.http.base_url")?;
    let mut headers = Vec::new();
    for (k, t) in &h.headers {
        headers.push((k.clone(), Secret::new(render_env(t, env, &format!("source.http.headers.{k}"))?)));
    }
    let mut query = Vec::new();
    for (k, t) in &h.query {
        query.push((k.clone(), render_env(t, env, &format!("source.http.query.{k}"))?));
    }
    let mut tls = muster_http::TlsConfig::default();
    if let Some(t) = &h.tls {
        let read = |p: &Option<String>, field: &str| -> Result<Option<Vec<u8>>, EngineError> {
            match p {
                None => Ok(None),
                Some(p) => {
                    let path = render_env(
                        &Template::parse(p, false).map_err(|e| EngineError::Config(e.message))?,
                        env,
                        field,
                    )?;
                    std::fs::read(&path)
                        .map(Some)
                        .map_err(|e| EngineError::Config(format!("{field}: cannot read `{path}`: {e}")))
                }
            }
        };
        tls.ca_pem = read(&t.ca_file, "source.http.tls.ca_file")?;
        let cert = read(&t.client_cert_file, "source.http.tls.client_cert_file")?;
        let key = read(&t.client_key_file, "source.http.tls.client_key_file")?;
        if let (Some(mut c), Some(k)) = (cert, key) {
            c.push(b'\n');
            c.extend(k);
            tls.client_identity_pem = Some(c);
        }
    }
    let auth = auth_config(&h.auth, env, "source.http.auth")?;
    Ok(ClientConfig {
        base_url,
        headers,
        query,
        timeout: h.timeout,
        tls,
        auth,
        retry: muster_http::RetryPolicy {
            max_attempts: h.retry.max_attempts,
            initial_backoff: h.retry.backoff,
            max_backoff: h.retry.max_backoff,
            statuses: h.retry.statuses.clone(),
            ..Default::default()
        },
        rate_limit: h.rate_limit.per_second.map(|ps| muster_http::RateLimit {
            per_second: ps,
            burst: h.rate_limit.burst.unwrap_or(ps.floor().max(1.0) as u32),
        }),
        max_concurrency: h.rate_limit.max_concurrency as usize,
        max_pages: h.max_pages,
        user_agent: format!("muster/{}", env!("CARGO_PKG_VERSION")),
        ..ClientConfig::default()
    })
}

fn render_env(t: &Template, env: &EnvFn, field: &str) -> Result<String, EngineError> {
    t.render(env, &|_, _| None).map_err(|e| EngineError::Config(format!("{field}: {e}")))
}

fn render_str(s: &str, env: &EnvFn, field: &str) -> Result<String, EngineError> {
    let t = Template::parse(s, false).map_err(|e| EngineError::Config(format!("{field}: {}", e.message)))?;
    render_env(&t, env, field)
}

/// Translate a spec's auth block into the client's, resolving `${VAR}` values.
pub fn auth_config(a: &Auth, env: &EnvFn, field: &str) -> Result<AuthConfig, EngineError> {
    let r = |s: &str, f: &str| render_str(s, env, &format!("{field}.{f}"));
    Ok(match a {
        Auth::None {} => AuthConfig::None,
        Auth::Basic { username, password } => {
            AuthConfig::Basic { username: r(username, "username")?, password: Secret::new(r(password, "password")?) }
        }
        Auth::Bearer { token } => AuthConfig::Bearer { token: Secret::new(r(token, "token")?) },
        Auth::ApiKey { key, header: Some(h), prefix, .. } => {
            AuthConfig::ApiKeyHeader { header: h.clone(), key: Secret::new(r(key, "key")?), prefix: prefix.clone() }
        }
        Auth::ApiKey { key, query, .. } => AuthConfig::ApiKeyQuery {
            param: query.clone().unwrap_or_else(|| "api_key".into()),
            key: Secret::new(r(key, "key")?),
        },
        Auth::Oauth2ClientCredentials { token_url, client_id, client_secret, scopes, audience, client_auth } => {
            AuthConfig::OAuth2ClientCredentials {
                token_url: r(token_url, "token_url")?,
                client_id: r(client_id, "client_id")?,
                client_secret: Secret::new(r(client_secret, "client_secret")?),
                scopes: scopes.clone(),
                audience: audience.clone(),
                client_auth: match client_auth {
                    Some(schema::ClientAuth::Body) => ClientAuth::Body,
                    _ => ClientAuth::Basic,
                },
            }
        }
        Auth::Oauth2Password { token_url, client_id, client_secret, username, password, scopes } => {
            AuthConfig::OAuth2Password {
                token_url: r(token_url, "token_url")?,
                client_id: r(client_id, "client_id")?,
                client_secret: match client_secret {
                    Some(s) => Some(Secret::new(r(s, "client_secret")?)),
                    None => None,
                },
                username: r(username, "username")?,
                password: Secret::new(r(password, "password")?),
                scopes: scopes.clone(),
            }
        }
        Auth::Login { path, method, body, token_path, expires_in_path, expires_at_path, header, prefix } => {
            let body = match body {
                Some(b) => render_json(b, env, &format!("{field}.body"))?,
                None => Value::Object(Default::default()),
            };
            AuthConfig::Login {
                url: r(path, "path")?,
                method: http_method(method.unwrap_or(schema::Method::Post)),
                body: Secret::new(body.to_string()),
                token_path: token_path.clone(),
                expires_in_path: expires_in_path.clone(),
                expires_at_path: expires_at_path.clone(),
                header: header.clone().unwrap_or_else(|| "Authorization".into()),
                prefix: prefix.clone().unwrap_or_else(|| "Bearer ".into()),
            }
        }
    })
}

fn render_json(v: &Value, env: &EnvFn, field: &str) -> Result<Value, EngineError> {
    Ok(match v {
        Value::String(s) => Value::String(render_str(s, env, field)?),
        Value::Array(a) => Value::Array(a.iter().map(|x| render_json(x, env, field)).collect::<Result<_, _>>()?),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), render_json(x, env, &format!("{field}.{k}"))?)))
                .collect::<Result<_, EngineError>>()?,
        ),
        other => other.clone(),
    })
}

fn http_method(m: schema::Method) -> Method {
    match m {
        schema::Method::Get => Method::GET,
        schema::Method::Post => Method::POST,
        schema::Method::Put => Method::PUT,
        schema::Method::Patch => Method::PATCH,
        schema::Method::Delete => Method::DELETE,
    }
}

/// Translate a spec's pagination block into the client's.
pub fn pagination(p: &Pagination) -> muster_http::Pagination {
    use muster_http::Pagination as P;
    match p.clone() {
        Pagination::None {} => P::None,
        Pagination::Offset { offset_param, limit_param, limit, start, total } => P::Offset {
            offset_param: offset_param.unwrap_or_else(|| "offset".into()),
            limit_param: limit_param.unwrap_or_else(|| "limit".into()),
            limit: limit.unwrap_or(100),
            start: start.unwrap_or(0),
            total_path: total,
        },
        Pagination::Page { page_param, size_param, size, start, total, total_pages } => P::Page {
            page_param: page_param.unwrap_or_else(|| "page".into()),
            size_param,
            size,
            start: start.unwrap_or(1),
            total_path: total,
            total_pages_path: total_pages,
        },
        Pagination::Cursor { param, cursor_path, cursor_header, size_param, size } => {
            P::Cursor { param: param.unwrap_or_else(|| "cursor".into()), size_param, size, cursor_path, cursor_header }
        }
        Pagination::NextLink { path } => P::NextLink { path },
        Pagination::LinkHeader { size_param, size } => P::LinkHeader { size_param, size },
        Pagination::Scim { count } => P::Scim { count: count.unwrap_or(100) },
    }
}

/// Values available to request templates.
#[derive(Default)]
pub struct TemplateCtx<'a> {
    pub resource: Option<&'a Value>,
    pub principal: Option<&'a Value>,
    pub entitlement: Option<&'a str>,
}

/// Render a compiled request into an HTTP request.
pub fn build_request(
    r: &RequestC,
    env: &EnvFn,
    vars: &HashMap<String, String>,
    ctx: &TemplateCtx<'_>,
    auth: Option<Arc<AuthConfig>>,
) -> Result<Request, EngineError> {
    let lookup = |encode: bool| {
        move |scope: &str, field: &str| -> Option<String> {
            let raw = match scope {
                "vars" => vars.get(field).cloned(),
                "resource" => ctx.resource.and_then(|v| v.get(field)).and_then(text),
                "principal" => ctx.principal.and_then(|v| v.get(field)).and_then(text),
                "entitlement" if field == "slug" => ctx.entitlement.map(str::to_string),
                _ => None,
            }?;
            Some(if encode { encode_path_segment(&raw) } else { raw })
        }
    };
    let path_vars = lookup(true);
    let plain_vars = lookup(false);
    let path = r
        .path
        .render(env, &path_vars)
        .map_err(|e| EngineError::Config(format!("request path `{}`: {e}", r.path.source)))?;
    let mut req = Request::new(http_method(r.method), path);
    for (k, t) in &r.query {
        let v = t.render(env, &plain_vars).map_err(|e| EngineError::Config(format!("query `{k}`: {e}")))?;
        req.query.push((k.clone(), v));
    }
    for (k, t) in &r.headers {
        let v = t.render(env, &plain_vars).map_err(|e| EngineError::Config(format!("header `{k}`: {e}")))?;
        req.headers.push((k.clone(), v));
    }
    if let Some(b) = &r.body {
        req.body = Some(render_json(b, env, "request.body")?);
    }
    req.auth = auth;
    Ok(req)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Resolve the connector's vars (`${ENV}` inside them) into plain strings.
pub fn resolve_vars(c: &CompiledConnector, env: &EnvFn) -> Result<HashMap<String, String>, EngineError> {
    c.vars.iter().map(|(k, t)| Ok((k.clone(), render_env(t, env, &format!("vars.{k}"))?))).collect()
}

struct Engine<'a> {
    c: &'a CompiledConnector,
    env: &'a EnvFn,
    opts: &'a SyncOptions,
    progress: &'a dyn Progress,
    tx: mpsc::Sender<Vec<Record>>,
    client: HttpClient,
    vars: HashMap<String, String>,
    vars_json: Value,
    /// Per-request auth overrides, built once so their token caches are shared.
    /// Keyed by the address of the compiled request (its identity; the connector outlives the engine).
    auth_overrides: HashMap<usize, Arc<AuthConfig>>,
}

impl<'a> Engine<'a> {
    fn new(
        c: &'a CompiledConnector,
        env: &'a EnvFn,
        opts: &'a SyncOptions,
        progress: &'a dyn Progress,
        tx: mpsc::Sender<Vec<Record>>,
    ) -> Result<Self, EngineError> {
        let client = HttpClient::new(client_config(c, env)?)?;
        let vars = resolve_vars(c, env)?;
        let vars_json = Value::Object(vars.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect());
        let mut auth_overrides = HashMap::new();
        let mut add = |r: &RequestC, field: String| -> Result<(), EngineError> {
            if let Some(a) = &r.auth {
                auth_overrides.insert(r as *const RequestC as usize, Arc::new(auth_config(a, env, &field)?));
            }
            Ok(())
        };
        for rt in &c.resource_types {
            add(&rt.list.request, format!("resource_types.{}.list.request.auth", rt.id))?;
            for e in &rt.entitlements {
                if let Some(g) = &e.grants {
                    add(&g.request, format!("resource_types.{}.entitlements.{}.grants.request.auth", rt.id, e.slug))?;
                }
            }
        }
        Ok(Engine { c, env, opts, progress, tx, client, vars, vars_json, auth_overrides })
    }

    fn auth_for(&self, r: &RequestC) -> Option<Arc<AuthConfig>> {
        self.auth_overrides.get(&(r as *const RequestC as usize)).cloned()
    }

    async fn send(&self, batch: Vec<Record>) -> Result<(), EngineError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.tx.send(batch).await.map_err(|_| EngineError::Cancelled)
    }

    fn check_cancel(&self) -> Result<(), EngineError> {
        if self.opts.cancel.load(Ordering::SeqCst) { Err(EngineError::Cancelled) } else { Ok(()) }
    }

    async fn run(self) -> Result<SyncReport, EngineError> {
        let types: Vec<Record> = self
            .c
            .resource_types
            .iter()
            .map(|rt| {
                Record::ResourceType(ResourceType {
                    id: rt.id.clone(),
                    display_name: rt.display_name.clone(),
                    traits: rt.traits.clone(),
                })
            })
            .collect();
        self.send(types).await?;
        let mut report = SyncReport::default();
        let mut per_resource: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for rt in &self.c.resource_types {
            let keep = rt.entitlements.iter().any(|e| e.grants.as_ref().is_some_and(|g| g.per_resource));
            let (lr, kept) = self.list_type(rt, keep).await?;
            report.resource_types.push(lr);
            if keep {
                per_resource.insert(rt.id.clone(), kept);
            }
        }
        for rt in &self.c.resource_types {
            for e in &rt.entitlements {
                let Some(g) = &e.grants else { continue };
                let lr = if g.per_resource {
                    let resources = per_resource.get(&rt.id).map(Vec::as_slice).unwrap_or(&[]);
                    self.grants_per_resource(rt, e, g, resources).await?
                } else {
                    self.grants_global(rt, e, g).await?
                };
                report.grants.push(lr);
            }
        }
        let stats = self.client.stats();
        report.request_log = self.client.request_log().iter().rev().take(1000).rev().map(RequestRecord::from).collect();
        report.requests = stats.requests;
        report.retries = stats.retries;
        report.bytes = stats.bytes;
        Ok(report)
    }

    async fn list_type(&self, rt: &ResourceTypeC, keep: bool) -> Result<(ListingReport, Vec<Value>), EngineError> {
        let req = build_request(
            &rt.list.request,
            self.env,
            &self.vars,
            &TemplateCtx::default(),
            self.auth_for(&rt.list.request),
        )?;
        let mut pager =
            self.client.paginate(req, pagination(&rt.list.pagination), rt.list.items.clone(), rt.id.clone());
        let (asked, style) = page_size_of(&rt.list.pagination);
        let mut rep = ListingReport {
            label: rt.id.clone(),
            page_size_asked: asked,
            pagination: style.into(),
            ..Default::default()
        };
        let mut kept = Vec::new();
        let mut batch = Vec::with_capacity(self.opts.batch_size);
        let ctx = Ctx { resource_type: &rt.id, vars: &self.vars_json, resource: None, grantable_to: None };
        let mut row_base = 0usize;
        'pages: while let Some(page) = pager.next_page().await? {
            self.check_cancel()?;
            rep.pages += 1;
            if rep.api_total.is_none() {
                rep.api_total = page.total;
            }
            let rows = map::rows(&page.body, rt.list.items.as_deref()).map_err(|m| EngineError::Response {
                context: format!("{}: page {} ({})", rt.id, page.number, page.url),
                message: m,
            })?;
            if rep.first_page_rows.is_none() {
                rep.first_page_rows = Some(rows.len() as u64);
            }
            for (i, item) in rows.iter().enumerate() {
                if let Some(limit) = self.opts.limit_per_type
                    && rep.records >= limit
                {
                    rep.truncated = true;
                    break 'pages;
                }
                let Some(res) = map::map_resource(rt, item, row_base + i, &ctx, &mut rep.coverage)? else { continue };
                rep.records += 1;
                if keep {
                    kept.push(map::resource_value(&res));
                }
                let ents = map::entitlements_for(rt, &res);
                batch.push(Record::Resource(res));
                batch.extend(ents.into_iter().map(Record::Entitlement));
                if batch.len() >= self.opts.batch_size {
                    self.send(std::mem::replace(&mut batch, Vec::with_capacity(self.opts.batch_size))).await?;
                }
            }
            row_base += rows.len();
            self.progress.page(&rt.id, rep.pages, rep.records);
        }
        rep.requests = rep.pages;
        self.send(batch).await?;
        self.progress.done(&rt.id, rep.records);
        Ok((rep, kept))
    }

    async fn grants_global(
        &self,
        rt: &ResourceTypeC,
        e: &EntitlementC,
        g: &GrantsC,
    ) -> Result<ListingReport, EngineError> {
        let label = format!("{}.{} grants", rt.id, e.slug);
        let ctx_t = TemplateCtx { entitlement: Some(&e.slug), ..Default::default() };
        let req = build_request(&g.request, self.env, &self.vars, &ctx_t, self.auth_for(&g.request))?;
        let mut pager = self.client.paginate(req, pagination(&g.pagination), g.items.clone(), label.clone());
        let mut rep = ListingReport { label: label.clone(), ..Default::default() };
        let ctx =
            Ctx { resource_type: &rt.id, vars: &self.vars_json, resource: None, grantable_to: Some(&e.grantable_to) };
        let mut batch = Vec::new();
        let mut row_base = 0;
        while let Some(page) = pager.next_page().await? {
            self.check_cancel()?;
            rep.pages += 1;
            if rep.api_total.is_none() {
                rep.api_total = page.total;
            }
            let rows = map::rows(&page.body, g.items.as_deref()).map_err(|m| EngineError::Response {
                context: format!("{label}: page {} ({})", page.number, page.url),
                message: m,
            })?;
            for (i, item) in rows.iter().enumerate() {
                if let Some(gr) = map::map_grant(g, &e.slug, None, item, row_base + i, &ctx, &mut rep.coverage)? {
                    rep.records += 1;
                    batch.push(Record::Grant(gr));
                }
            }
            row_base += rows.len();
            if batch.len() >= self.opts.batch_size {
                self.send(std::mem::take(&mut batch)).await?;
            }
            self.progress.page(&label, rep.pages, rep.records);
        }
        rep.requests = rep.pages;
        self.send(batch).await?;
        self.progress.done(&label, rep.records);
        Ok(rep)
    }

    async fn grants_per_resource<'r>(
        &self,
        rt: &ResourceTypeC,
        e: &EntitlementC,
        g: &GrantsC,
        resources: &'r [Value],
    ) -> Result<ListingReport, EngineError> {
        let label = format!("{}.{} grants", rt.id, e.slug);
        let pages = AtomicU64::new(0);
        let records = AtomicU64::new(0);
        // The sum of the per-resource totals, while every listing reports one.
        let total_sum = AtomicU64::new(0);
        let all_totals = AtomicBool::new(true);
        let concurrency = self.c.http.rate_limit.max_concurrency.max(1) as usize;
        let one = |res: &'r Value| {
            let label = &label;
            let pages = &pages;
            let records = &records;
            let total_sum = &total_sum;
            let all_totals = &all_totals;
            async move {
                self.check_cancel()?;
                let rid = res.get("id").and_then(text).unwrap_or_default();
                let ctx_t = TemplateCtx { resource: Some(res), entitlement: Some(&e.slug), ..Default::default() };
                let req = build_request(&g.request, self.env, &self.vars, &ctx_t, self.auth_for(&g.request))?;
                let sub = format!("{} {} {} grants", rt.id, rid, e.slug);
                let mut pager = self.client.paginate(req, pagination(&g.pagination), g.items.clone(), sub.clone());
                let ctx = Ctx {
                    resource_type: &rt.id,
                    vars: &self.vars_json,
                    resource: Some(res),
                    grantable_to: Some(&e.grantable_to),
                };
                let mut cov = Coverage::default();
                let mut batch = Vec::new();
                let mut row_base = 0;
                while let Some(page) = pager.next_page().await? {
                    self.check_cancel()?;
                    if page.number == 1 {
                        match page.total {
                            Some(t) => {
                                total_sum.fetch_add(t, Ordering::Relaxed);
                            }
                            None => all_totals.store(false, Ordering::Relaxed),
                        }
                    }
                    let rows = map::rows(&page.body, g.items.as_deref()).map_err(|m| EngineError::Response {
                        context: format!("{sub}: page {} ({})", page.number, page.url),
                        message: m,
                    })?;
                    for (i, item) in rows.iter().enumerate() {
                        if let Some(gr) = map::map_grant(g, &e.slug, Some(&rid), item, row_base + i, &ctx, &mut cov)? {
                            batch.push(Record::Grant(gr));
                        }
                    }
                    row_base += rows.len();
                    let p = pages.fetch_add(1, Ordering::Relaxed) + 1;
                    self.progress.page(label, p, records.load(Ordering::Relaxed) + batch.len() as u64);
                    if batch.len() >= self.opts.batch_size {
                        records.fetch_add(batch.len() as u64, Ordering::Relaxed);
                        self.send(std::mem::take(&mut batch)).await?;
                    }
                }
                records.fetch_add(batch.len() as u64, Ordering::Relaxed);
                self.send(batch).await?;
                Ok::<Coverage, EngineError>(cov)
            }
        };
        let mut stream = futures::stream::iter(resources.iter()).map(one).buffer_unordered(concurrency);
        let (asked, style) = page_size_of(&g.pagination);
        let mut rep = ListingReport {
            label: label.clone(),
            page_size_asked: asked,
            pagination: style.into(),
            ..Default::default()
        };
        while let Some(res) = stream.next().await {
            rep.coverage.merge(&res?);
        }
        rep.pages = pages.load(Ordering::Relaxed);
        rep.requests = rep.pages;
        rep.records = records.load(Ordering::Relaxed);
        if !resources.is_empty() && all_totals.load(Ordering::Relaxed) && self.opts.limit_per_type.is_none() {
            rep.api_total = Some(total_sum.load(Ordering::Relaxed));
        }
        self.progress.done(&label, rep.records);
        Ok(rep)
    }
}

/// How long a run took, for reports.
pub fn rate(records: u64, elapsed: Duration) -> f64 {
    let s = elapsed.as_secs_f64();
    if s > 0.0 { records as f64 / s } else { 0.0 }
}
