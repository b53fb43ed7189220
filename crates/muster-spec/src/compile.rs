//! Raw spec → [`CompiledConnector`]: every reference resolved, every expression and template compiled,
//! every lint run. All problems are collected; nothing stops at the first.

use crate::schema::{self, Auth, Connector, Pagination, RequestSpec};
use crate::template::Template;
use crate::validate::{SpanMap, did_you_mean, escape, field_of};
use indexmap::IndexMap;
use muster_diag::{Diagnostic, Span};
use muster_expr::Expr;
use muster_model::{Purpose, Trait};
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

/// A connector that passed `check`: the only way to get one is [`crate::check`].
#[derive(Debug, Clone)]
pub struct CompiledConnector {
    pub name: String,
    pub owner: String,
    pub description: Option<String>,
    pub vars: IndexMap<String, Template>,
    pub http: HttpSourceC,
    pub resource_types: Vec<ResourceTypeC>,
    pub tests: Vec<schema::TestCase>,
    pub drift: DriftC,
    /// `sha256:` + hex of the canonical spec (secret values are `${VAR}` names, so never part of it).
    pub spec_hash: String,
    raw: Connector,
}

impl CompiledConnector {
    /// The raw spec this was compiled from.
    pub fn raw(&self) -> &Connector {
        &self.raw
    }

    pub fn resource_type(&self, id: &str) -> Option<&ResourceTypeC> {
        self.resource_types.iter().find(|r| r.id == id)
    }

    /// Every environment variable the connector reads.
    pub fn env_vars(&self) -> BTreeSet<String> {
        let raw = serde_json::to_string(&self.raw).unwrap_or_default();
        let mut out = BTreeSet::new();
        let mut rest = raw.as_str();
        while let Some(i) = rest.find("${") {
            rest = &rest[i + 2..];
            if let Some(end) = rest.find('}') {
                out.insert(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
        out
    }
}

/// Drift guard thresholds (fractions of 1).
#[derive(Debug, Clone)]
pub struct DriftC {
    pub enabled: bool,
    pub max_drop: f64,
    pub max_grant_drop: f64,
    pub per_type: Vec<(String, f64)>,
}

impl DriftC {
    pub fn for_type(&self, t: &str) -> f64 {
        self.per_type.iter().find(|(k, _)| k == t).map(|(_, v)| *v).unwrap_or(self.max_drop)
    }
}

#[derive(Debug, Clone)]
pub struct HttpSourceC {
    pub base_url: Template,
    pub headers: Vec<(String, Template)>,
    pub query: Vec<(String, Template)>,
    pub timeout: Duration,
    pub tls: Option<schema::Tls>,
    pub auth: Auth,
    pub retry: RetryC,
    pub rate_limit: RateLimitC,
    pub max_pages: u64,
}

#[derive(Debug, Clone)]
pub struct RetryC {
    pub max_attempts: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub statuses: Vec<u16>,
}

#[derive(Debug, Clone)]
pub struct RateLimitC {
    pub per_second: Option<f64>,
    pub burst: Option<u32>,
    pub max_concurrency: u32,
}

#[derive(Debug, Clone)]
pub struct ResourceTypeC {
    pub id: String,
    pub display_name: String,
    pub traits: Vec<Trait>,
    pub list: ListC,
    pub entitlements: Vec<EntitlementC>,
}

impl ResourceTypeC {
    pub fn has_trait(&self, t: Trait) -> bool {
        self.traits.contains(&t)
    }
}

#[derive(Debug, Clone)]
pub struct RequestC {
    pub method: schema::Method,
    pub path: Template,
    pub query: Vec<(String, Template)>,
    pub headers: Vec<(String, Template)>,
    pub body: Option<serde_json::Value>,
    pub auth: Option<Auth>,
}

#[derive(Debug, Clone)]
pub struct ListC {
    pub request: RequestC,
    pub items: Option<String>,
    pub pagination: Pagination,
    pub skip_if: Option<Expr>,
    pub map: MapC,
}

#[derive(Debug, Clone)]
pub struct RefC {
    pub resource_type: String,
    pub id: Expr,
}

#[derive(Debug, Clone)]
pub struct MapC {
    pub id: Expr,
    pub display_name: Option<Expr>,
    pub description: Option<Expr>,
    pub status: Option<Expr>,
    pub parent: Option<RefC>,
    pub user: Option<UserMapC>,
    pub secret: Option<SecretMapC>,
    pub profile: Vec<(String, Expr)>,
}

impl MapC {
    /// Every mapped field with its expression, as `(field name, expr)`, for coverage reports.
    pub fn fields(&self) -> Vec<(String, &Expr)> {
        let mut out = vec![("id".to_string(), &self.id)];
        fn push<'e>(out: &mut Vec<(String, &'e Expr)>, name: &str, e: &'e Option<Expr>) {
            if let Some(e) = e {
                out.push((name.to_string(), e));
            }
        }
        push(&mut out, "display_name", &self.display_name);
        push(&mut out, "description", &self.description);
        push(&mut out, "status", &self.status);
        if let Some(u) = &self.user {
            push(&mut out, "user.email", &u.email);
            push(&mut out, "user.emails", &u.emails);
            push(&mut out, "user.login", &u.login);
            push(&mut out, "user.account_type", &u.account_type);
            push(&mut out, "user.last_login", &u.last_login);
            push(&mut out, "user.mfa", &u.mfa);
        }
        if let Some(s) = &self.secret {
            push(&mut out, "secret.kind", &s.kind);
            push(&mut out, "secret.created_at", &s.created_at);
            push(&mut out, "secret.expires_at", &s.expires_at);
            push(&mut out, "secret.last_used_at", &s.last_used_at);
        }
        if let Some(p) = &self.parent {
            out.push(("parent.id".into(), &p.id));
        }
        if let Some(o) = self.secret.as_ref().and_then(|s| s.owner.as_ref()) {
            out.push(("secret.owner.id".into(), &o.id));
        }
        for (k, e) in &self.profile {
            out.push((format!("profile.{k}"), e));
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct UserMapC {
    pub email: Option<Expr>,
    pub emails: Option<Expr>,
    pub login: Option<Expr>,
    pub account_type: Option<Expr>,
    pub last_login: Option<Expr>,
    pub mfa: Option<Expr>,
}

#[derive(Debug, Clone)]
pub struct SecretMapC {
    pub kind: Option<Expr>,
    pub owner: Option<RefC>,
    pub created_at: Option<Expr>,
    pub expires_at: Option<Expr>,
    pub last_used_at: Option<Expr>,
}

#[derive(Debug, Clone)]
pub struct EntitlementC {
    pub slug: String,
    pub display_name: String,
    pub purpose: Purpose,
    pub grantable_to: Vec<String>,
    pub grants: Option<GrantsC>,
    pub provisioning: Option<ProvisioningC>,
}

#[derive(Debug, Clone)]
pub struct GrantsC {
    pub request: RequestC,
    pub items: Option<String>,
    pub pagination: Pagination,
    pub skip_if: Option<Expr>,
    pub principal: RefC,
    /// CEL choosing the principal's type per row.
    pub principal_type_from: Option<Expr>,
    /// Set for a global listing: the id of the resource each row belongs to.
    pub resource: Option<Expr>,
    /// True when the request is made once per resource (`{resource.id}` in the path).
    pub per_resource: bool,
}

#[derive(Debug, Clone)]
pub struct ProvisioningC {
    pub grant: Option<ActionC>,
    pub revoke: Option<ActionC>,
}

#[derive(Debug, Clone)]
pub struct ActionC {
    pub request: RequestC,
    pub success: Option<Expr>,
    pub already_done: Option<Expr>,
}

/// Scopes an expression or template can see.
#[derive(Clone, Copy)]
struct Scope {
    item: bool,
    resource: bool,
    principal: bool,
    entitlement: bool,
    response: bool,
}

const LIST_SCOPE: Scope = Scope { item: true, resource: false, principal: false, entitlement: false, response: false };
const LIST_REQ_SCOPE: Scope = Scope { item: false, ..LIST_SCOPE };
const GRANT_SCOPE: Scope = Scope { item: true, resource: true, principal: false, entitlement: true, response: false };
const GRANT_REQ_SCOPE: Scope = Scope { item: false, ..GRANT_SCOPE };
const PROV_REQ_SCOPE: Scope =
    Scope { item: false, resource: true, principal: true, entitlement: true, response: false };
const PROV_RESP_SCOPE: Scope = Scope { response: true, ..PROV_REQ_SCOPE };

impl Scope {
    fn names(self) -> Vec<&'static str> {
        let mut v = vec!["vars"];
        if self.item {
            v.push("item");
        }
        if self.resource {
            v.push("resource");
        }
        if self.principal {
            v.push("principal");
        }
        if self.entitlement {
            v.push("entitlement");
        }
        if self.response {
            v.push("response");
        }
        v
    }
}

/// Fields a path template can read from each scope.
fn template_fields(scope: &str) -> &'static [&'static str] {
    match scope {
        "resource" => &["id", "parent_id", "display_name"],
        "principal" => &["id", "type"],
        "entitlement" => &["slug"],
        _ => &[],
    }
}

pub(crate) struct Compiler<'a> {
    pub src: &'a str,
    pub spans: &'a SpanMap,
    pub diags: Vec<Diagnostic>,
    vars_used: HashSet<String>,
    var_names: Vec<String>,
    type_ids: Vec<String>,
}

impl<'a> Compiler<'a> {
    pub fn new(src: &'a str, spans: &'a SpanMap) -> Self {
        Compiler {
            src,
            spans,
            diags: Vec::new(),
            vars_used: HashSet::new(),
            var_names: Vec::new(),
            type_ids: Vec::new(),
        }
    }

    fn push(&mut self, d: Diagnostic, ptr: &str) {
        let span = self.spans.value(ptr);
        self.diags.push(d.with_span(span).with_field(field_of(ptr)));
    }

    fn push_at_key(&mut self, d: Diagnostic, ptr: &str) {
        let span = self.spans.key(ptr);
        self.diags.push(d.with_span(span).with_field(field_of(ptr)));
    }

    /// A span inside the scalar at `ptr`, `offset` bytes into its value (for carets inside expressions).
    fn inner_span(&self, ptr: &str, offset: usize, len: usize) -> Option<Span> {
        let span = self.spans.value(ptr)?;
        let text = self.src.get(span.offset..)?;
        let first = text.chars().next()?;
        if first == '|' || first == '>' {
            return Some(span);
        }
        let quote = usize::from(first == '\'' || first == '"');
        let line_rest = text.lines().next().unwrap_or("");
        let value_part = line_rest.get(quote..).unwrap_or("");
        let prefix: String = value_part.chars().take_while_ref_bytes(offset);
        let col = span.col + quote + prefix.chars().count();
        Some(Span { line: span.line, col, offset: span.offset + quote + prefix.len(), len: len.max(1) })
    }

    pub fn compile(&mut self, raw: &Connector) -> Option<CompiledConnectorParts> {
        if raw.version != 1 {
            self.push(
                Diagnostic::error("M0100", format!("unsupported schema version {}", raw.version))
                    .with_hint("this Muster reads `version: 1`"),
                "/version",
            );
        }
        self.var_names = raw.vars.keys().cloned().collect();
        self.type_ids = raw.resource_types.keys().cloned().collect();
        let mut vars = IndexMap::new();
        for (k, v) in &raw.vars {
            let ptr = format!("/vars/{}", escape(k));
            if let Some(t) = self.template(v, &ptr, false) {
                if looks_secret_name(k) && !t.has_env() && !v.is_empty() {
                    self.push(
                        Diagnostic::error("M0402", format!("var `{k}` looks like a secret but is written inline"))
                            .with_hint(format!("use an environment variable: `{k}: ${{{}}}`", k.to_uppercase())),
                        &ptr,
                    );
                }
                vars.insert(k.clone(), t);
            }
        }
        let http = match &raw.source.http {
            Some(h) => self.http_source(h),
            None => {
                self.push(
                    Diagnostic::error("M0410", "no source given")
                        .with_hint("add `source: { http: { base_url: ... } }`"),
                    "/source",
                );
                None
            }
        };
        if raw.resource_types.is_empty() {
            self.push(
                Diagnostic::error("M0414", "no resource types defined")
                    .with_hint("add at least one, e.g. `resource_types: { user: { traits: [user], list: ... } }`"),
                "/resource_types",
            );
        }
        let mut types = Vec::new();
        for (id, rt) in &raw.resource_types {
            if let Some(t) = self.resource_type(id, rt) {
                types.push(t);
            }
        }
        for (i, t) in raw.tests.iter().enumerate() {
            self.test_case(i, t, raw);
        }
        let drift = self.drift(raw);
        let mut names = HashSet::new();
        for (i, t) in raw.tests.iter().enumerate() {
            if !names.insert(t.name.as_str()) {
                self.push(
                    Diagnostic::error("M0306", format!("duplicate test name `{}`", t.name))
                        .with_hint("give each test a distinct name so failures are unambiguous"),
                    &format!("/tests/{i}/name"),
                );
            }
        }
        for name in &self.var_names.clone() {
            if !self.vars_used.contains(name) {
                self.push_at_key(
                    Diagnostic::warning("M0406", format!("var `{name}` is never used")).with_hint(
                        "remove it, or reference it as `{vars.NAME}` in a path or `vars.NAME` in an expression",
                    ),
                    &format!("/vars/{}", escape(name)),
                );
            }
        }
        let http = http?;
        if self.diags.iter().any(Diagnostic::is_error) {
            return None;
        }
        Some(CompiledConnectorParts { vars, http, types, drift })
    }

    fn drift(&mut self, raw: &Connector) -> DriftC {
        let d = raw.drift_guard.clone();
        let pct = |c: &mut Self, v: Option<f64>, ptr: &str| -> Option<f64> {
            let v = v?;
            if !(0.0..=100.0).contains(&v) {
                c.push(Diagnostic::error("M0404", format!("{v} is not a percentage between 0 and 100")), ptr);
                return None;
            }
            Some(v / 100.0)
        };
        let max_drop =
            pct(self, d.as_ref().and_then(|d| d.max_drop_percent), "/drift_guard/max_drop_percent").unwrap_or(0.10);
        let max_grant_drop =
            pct(self, d.as_ref().and_then(|d| d.max_grant_drop_percent), "/drift_guard/max_grant_drop_percent")
                .unwrap_or(max_drop);
        let mut per_type = Vec::new();
        if let Some(d) = &d {
            for (t, v) in &d.per_type {
                let ptr = format!("/drift_guard/per_type/{}", escape(t));
                if !self.type_ids.contains(t) {
                    let hint = match did_you_mean(t, self.type_ids.iter().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("defined resource types: {}", self.type_ids.join(", ")),
                    };
                    self.push_at_key(
                        Diagnostic::error("M0301", format!("undefined resource type `{t}`")).with_hint(hint),
                        &ptr,
                    );
                }
                if let Some(p) = pct(self, Some(*v), &ptr) {
                    per_type.push((t.clone(), p));
                }
            }
        }
        DriftC { enabled: d.as_ref().and_then(|d| d.enabled).unwrap_or(true), max_drop, max_grant_drop, per_type }
    }

    fn template(&mut self, s: &str, ptr: &str, allow_vars: bool) -> Option<Template> {
        match Template::parse(s, allow_vars) {
            Ok(t) => Some(t),
            Err(e) => {
                let span = self.inner_span(ptr, e.offset, 2);
                self.diags.push(
                    Diagnostic::error("M0305", format!("bad template: {}", e.message))
                        .with_span(span)
                        .with_field(field_of(ptr))
                        .with_hint("environment variables are `${NAME}`; request values are `{resource.id}`, `{resource.parent_id}`, `{resource.display_name}`, `{principal.id}`, `{principal.type}`, `{entitlement.slug}`, `{vars.NAME}`"),
                );
                None
            }
        }
    }

    fn secret_field(&mut self, value: &str, ptr: &str, what: &str) {
        match Template::parse(value, false) {
            Ok(t) if t.is_single_env() => {}
            Ok(t) if t.has_env() => {}
            Ok(_) => self.push(
                Diagnostic::error("M0402", format!("{what} is written inline; secrets must come from the environment"))
                    .with_hint(
                        "write `${ENV_VAR}` and export the value before running; it is then never stored or logged",
                    ),
                ptr,
            ),
            Err(_) => {
                self.template(value, ptr, false);
            }
        }
    }

    fn http_source(&mut self, h: &schema::HttpSource) -> Option<HttpSourceC> {
        let base_url = self.template(&h.base_url, "/source/http/base_url", false)?;
        if !base_url.has_env() {
            self.check_base_url(&h.base_url, "/source/http/base_url");
        }
        let mut headers = Vec::new();
        for (k, v) in &h.headers {
            let ptr = format!("/source/http/headers/{}", escape(k));
            if is_secret_header(k) {
                self.secret_field(v, &ptr, &format!("header `{k}`"));
            }
            if let Some(t) = self.template(v, &ptr, false) {
                headers.push((k.clone(), t));
            }
        }
        let mut query = Vec::new();
        for (k, v) in &h.query {
            let ptr = format!("/source/http/query/{}", escape(k));
            if looks_secret_name(k) {
                self.secret_field(v, &ptr, &format!("query parameter `{k}`"));
            }
            if let Some(t) = self.template(v, &ptr, false) {
                query.push((k.clone(), t));
            }
        }
        if let Some(tls) = &h.tls
            && tls.client_cert_file.is_some() != tls.client_key_file.is_some()
        {
            self.push(
                Diagnostic::error("M0404", "mutual TLS needs both `client_cert_file` and `client_key_file`")
                    .with_hint("give both, or neither"),
                "/source/http/tls",
            );
        }
        let auth = h.auth.clone().unwrap_or(Auth::None {});
        self.auth(&auth, "/source/http/auth");
        let retry = h.retry.clone().unwrap_or(schema::Retry {
            max_attempts: None,
            backoff_ms: None,
            max_backoff_ms: None,
            statuses: None,
        });
        if retry.max_attempts == Some(0) {
            self.push(
                Diagnostic::error("M0404", "`max_attempts` is 0: no request would ever be sent")
                    .with_hint("use 1 for no retries"),
                "/source/http/retry/max_attempts",
            );
        }
        let rl =
            h.rate_limit.clone().unwrap_or(schema::RateLimit { per_second: None, burst: None, max_concurrency: None });
        if let Some(ps) = rl.per_second
            && ps <= 0.0
        {
            self.push(
                Diagnostic::error("M0404", "`per_second` must be above 0")
                    .with_hint("omit `per_second` for no rate limit"),
                "/source/http/rate_limit/per_second",
            );
        }
        if rl.max_concurrency == Some(0) {
            self.push(
                Diagnostic::error("M0404", "`max_concurrency` is 0: no request could run")
                    .with_hint("use 1 for one at a time"),
                "/source/http/rate_limit/max_concurrency",
            );
        }
        if let Some(t) = h.timeout_s
            && t <= 0.0
        {
            self.push(Diagnostic::error("M0404", "`timeout_s` must be above 0"), "/source/http/timeout_s");
        }
        Some(HttpSourceC {
            base_url,
            headers,
            query,
            timeout: Duration::from_secs_f64(h.timeout_s.filter(|t| *t > 0.0).unwrap_or(30.0)),
            tls: h.tls.clone(),
            auth,
            retry: RetryC {
                max_attempts: retry.max_attempts.unwrap_or(5).max(1),
                backoff: Duration::from_millis(retry.backoff_ms.unwrap_or(500)),
                max_backoff: Duration::from_millis(retry.max_backoff_ms.unwrap_or(30_000)),
                statuses: retry.statuses.unwrap_or_else(|| vec![429, 502, 503, 504]),
            },
            rate_limit: RateLimitC {
                per_second: rl.per_second,
                burst: rl.burst,
                max_concurrency: rl.max_concurrency.unwrap_or(4).max(1),
            },
            max_pages: h.max_pages.unwrap_or(100_000),
        })
    }

    fn check_base_url(&mut self, s: &str, ptr: &str) {
        match url::Url::parse(s) {
            Ok(u) => {
                let host = u.host_str().unwrap_or("");
                let loopback = host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
                if u.scheme() == "http" && !loopback {
                    self.push(
                        Diagnostic::warning(
                            "M0403",
                            format!(
                                "plain-http base URL to `{host}`: credentials and identity data travel unencrypted"
                            ),
                        )
                        .with_hint("use https:// (plain http is only expected for localhost)"),
                        ptr,
                    );
                }
                if u.scheme() != "http" && u.scheme() != "https" {
                    self.push(
                        Diagnostic::error("M0412", format!("base URL scheme `{}` is not http or https", u.scheme())),
                        ptr,
                    );
                }
            }
            Err(e) => self.push(
                Diagnostic::error("M0412", format!("base URL is not a valid URL: {e}"))
                    .with_hint("write an absolute URL such as `https://api.example.com/v1`, or `${APP_URL}`"),
                ptr,
            ),
        }
    }

    fn auth(&mut self, auth: &Auth, ptr: &str) {
        match auth {
            Auth::None {} => {}
            Auth::Basic { username, password } => {
                self.template(username, &format!("{ptr}/username"), false);
                self.secret_field(password, &format!("{ptr}/password"), "the password");
            }
            Auth::Bearer { token } => self.secret_field(token, &format!("{ptr}/token"), "the bearer token"),
            Auth::ApiKey { key, header, query, .. } => {
                self.secret_field(key, &format!("{ptr}/key"), "the API key");
                if header.is_some() == query.is_some() {
                    self.push(
                        Diagnostic::error("M0404", "an API key goes in a header or a query parameter: give exactly one of `header` and `query`")
                            .with_hint("e.g. `header: X-API-Key`"),
                        ptr,
                    );
                }
            }
            Auth::Oauth2ClientCredentials { token_url, client_id, client_secret, .. } => {
                self.token_url(token_url, &format!("{ptr}/token_url"));
                self.template(client_id, &format!("{ptr}/client_id"), false);
                self.secret_field(client_secret, &format!("{ptr}/client_secret"), "the client secret");
            }
            Auth::Oauth2Password { token_url, client_id, client_secret, username, password, .. } => {
                self.token_url(token_url, &format!("{ptr}/token_url"));
                self.template(client_id, &format!("{ptr}/client_id"), false);
                self.template(username, &format!("{ptr}/username"), false);
                if let Some(cs) = client_secret {
                    self.secret_field(cs, &format!("{ptr}/client_secret"), "the client secret");
                }
                self.secret_field(password, &format!("{ptr}/password"), "the password");
            }
            Auth::Login { path, body, token_path, expires_in_path, expires_at_path, .. } => {
                self.template(path, &format!("{ptr}/path"), false);
                if token_path.trim().is_empty() {
                    self.push(
                        Diagnostic::error("M0404", "`token_path` is empty").with_hint("e.g. `token_path: token`"),
                        &format!("{ptr}/token_path"),
                    );
                }
                if expires_in_path.is_some() && expires_at_path.is_some() {
                    self.push(
                        Diagnostic::error("M0404", "give one of `expires_in_path` and `expires_at_path`, not both"),
                        ptr,
                    );
                }
                if let Some(b) = body {
                    self.body_secrets(b, &format!("{ptr}/body"));
                }
            }
        }
    }

    fn body_secrets(&mut self, v: &serde_json::Value, ptr: &str) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let p = format!("{ptr}/{}", escape(k));
                    if let serde_json::Value::String(s) = v
                        && looks_secret_name(k)
                    {
                        self.secret_field(s, &p, &format!("`{k}`"));
                    } else {
                        self.body_secrets(v, &p);
                    }
                }
            }
            serde_json::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    self.body_secrets(v, &format!("{ptr}/{i}"));
                }
            }
            _ => {}
        }
    }

    fn token_url(&mut self, s: &str, ptr: &str) {
        if let Some(t) = self.template(s, ptr, false)
            && !t.has_env()
            && !s.starts_with('/')
        {
            self.check_base_url(s, ptr);
        }
    }

    fn expr(&mut self, src: &str, ptr: &str, scope: Scope) -> Option<Expr> {
        match muster_expr::compile(src) {
            Ok(e) => {
                let allowed = scope.names();
                for v in e.variables() {
                    if !allowed.contains(&v.as_str()) {
                        let all_scopes = ["item", "resource", "principal", "entitlement", "response", "vars"];
                        let (msg, hint) = if all_scopes.contains(&v.as_str()) {
                            (
                                format!("`{v}` is not available here"),
                                format!("this expression can use: {}", allowed.join(", ")),
                            )
                        } else {
                            let h = match did_you_mean(v, allowed.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!("this expression can use: {}", allowed.join(", ")),
                            };
                            (format!("unknown variable `{v}`"), h)
                        };
                        let off = find_word(src, v).unwrap_or(0);
                        let span = self.inner_span(ptr, off, v.len());
                        self.diags.push(
                            Diagnostic::error("M0202", msg).with_span(span).with_field(field_of(ptr)).with_hint(hint),
                        );
                    }
                }
                for f in e.functions() {
                    if !muster_expr::known_function(f) {
                        let names = muster_expr::FUNCTIONS.iter().map(|(n, _)| *n);
                        let hint = match did_you_mean(f, names) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "see docs/expressions.md for the function library".to_string(),
                        };
                        let off = find_word(src, f).unwrap_or(0);
                        let span = self.inner_span(ptr, off, f.len());
                        self.diags.push(
                            Diagnostic::error("M0203", format!("unknown function `{f}`"))
                                .with_span(span)
                                .with_field(field_of(ptr))
                                .with_hint(hint),
                        );
                    }
                }
                if e.variables().contains("vars") {
                    for p in e.paths_of("vars") {
                        let name = p.split('.').next().unwrap_or("").to_string();
                        if self.var_names.contains(&name) {
                            self.vars_used.insert(name);
                        } else {
                            let off = find_word(src, &name).unwrap_or(0);
                            let span = self.inner_span(ptr, off, name.len().max(1));
                            let hint = match did_you_mean(&name, self.var_names.iter().map(String::as_str)) {
                                Some(s) => format!("did you mean `vars.{s}`?"),
                                None => "define it under `vars:` at the top of the file".to_string(),
                            };
                            self.diags.push(
                                Diagnostic::error("M0303", format!("undefined var `{name}`"))
                                    .with_span(span)
                                    .with_field(field_of(ptr))
                                    .with_hint(hint),
                            );
                        }
                    }
                }
                Some(e)
            }
            Err(err) => {
                let span = self.inner_span(ptr, err.offset, err.len);
                self.diags.push(
                    Diagnostic::error("M0201", format!("invalid expression: {}", err.message))
                        .with_span(span)
                        .with_field(field_of(ptr))
                        .with_hint("values in `map` are CEL: quote string literals (`\"'human'\"`) and read fields as `item.name`"),
                );
                None
            }
        }
    }

    fn opt_expr(&mut self, src: &Option<String>, ptr: &str, scope: Scope) -> Option<Option<Expr>> {
        match src {
            None => Some(None),
            Some(s) => self.expr(s, ptr, scope).map(Some),
        }
    }

    fn type_ref(&mut self, name: &str, ptr: &str) {
        if !self.type_ids.iter().any(|t| t == name) {
            let hint = match did_you_mean(name, self.type_ids.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("defined resource types: {}", self.type_ids.join(", ")),
            };
            self.push(Diagnostic::error("M0301", format!("undefined resource type `{name}`")).with_hint(hint), ptr);
        }
    }

    fn ref_map(&mut self, r: &schema::RefMap, ptr: &str, scope: Scope) -> Option<RefC> {
        self.type_ref(&r.resource_type, &format!("{ptr}/type"));
        let id = self.expr(&r.id, &format!("{ptr}/id"), scope)?;
        Some(RefC { resource_type: r.resource_type.clone(), id })
    }

    fn request(&mut self, r: &RequestSpec, ptr: &str, scope: Scope) -> Option<RequestC> {
        let path = self.request_template(&r.path, &format!("{ptr}/path"), scope);
        let mut query = Vec::new();
        for (k, v) in &r.query {
            if let Some(t) = self.request_template(v, &format!("{ptr}/query/{}", escape(k)), scope) {
                query.push((k.clone(), t));
            }
        }
        let mut headers = Vec::new();
        for (k, v) in &r.headers {
            let p = format!("{ptr}/headers/{}", escape(k));
            if is_secret_header(k) {
                self.secret_field(v, &p, &format!("header `{k}`"));
            }
            if let Some(t) = self.request_template(v, &p, scope) {
                headers.push((k.clone(), t));
            }
        }
        if let Some(a) = &r.auth {
            self.auth(a, &format!("{ptr}/auth"));
        }
        if let Some(b) = &r.body {
            self.body_secrets(b, &format!("{ptr}/body"));
            self.body_templates(b, &format!("{ptr}/body"), scope);
        }
        Some(RequestC {
            method: r.method.unwrap_or(schema::Method::Get),
            path: path?,
            query,
            headers,
            body: r.body.clone(),
            auth: r.auth.clone(),
        })
    }

    /// Check `{scope.field}` references in the string values of a JSON body.
    fn body_templates(&mut self, v: &serde_json::Value, ptr: &str, scope: Scope) {
        match v {
            serde_json::Value::String(s) => {
                self.request_template(s, ptr, scope);
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    self.body_templates(x, &format!("{ptr}/{i}"), scope);
                }
            }
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    self.body_templates(x, &format!("{ptr}/{}", escape(k)), scope);
                }
            }
            _ => {}
        }
    }

    fn request_template(&mut self, s: &str, ptr: &str, scope: Scope) -> Option<Template> {
        let t = self.template(s, ptr, true)?;
        let mut ok = true;
        for (sc, field) in t.path_vars() {
            let in_scope = match sc {
                "resource" => scope.resource,
                "principal" => scope.principal,
                "entitlement" => scope.entitlement,
                "vars" => true,
                _ => false,
            };
            let off = s.find(&format!("{{{sc}.{field}")).unwrap_or(0);
            let span = self.inner_span(ptr, off, sc.len() + field.len() + 3);
            if !in_scope {
                ok = false;
                let avail: Vec<String> =
                    [("resource", scope.resource), ("principal", scope.principal), ("entitlement", scope.entitlement)]
                        .iter()
                        .filter(|(_, on)| *on)
                        .flat_map(|(n, _)| template_fields(n).iter().map(move |f| format!("{{{n}.{f}}}")))
                        .chain(std::iter::once("{vars.NAME}".to_string()))
                        .collect();
                let why = match sc {
                    "resource" | "entitlement" => {
                        "only grant and provisioning requests run once per resource".to_string()
                    }
                    "principal" => "only provisioning requests have a principal".to_string(),
                    _ => format!("`{sc}` is not a template scope"),
                };
                self.diags.push(
                    Diagnostic::error("M0304", format!("`{{{sc}.{field}}}` is not in scope here: {why}"))
                        .with_span(span)
                        .with_field(field_of(ptr))
                        .with_hint(format!("available here: {}", avail.join(", "))),
                );
            } else if sc == "vars" {
                if self.var_names.iter().any(|v| v == field) {
                    self.vars_used.insert(field.to_string());
                } else {
                    ok = false;
                    let hint = match did_you_mean(field, self.var_names.iter().map(String::as_str)) {
                        Some(s) => format!("did you mean `{{vars.{s}}}`?"),
                        None => "define it under `vars:` at the top of the file".to_string(),
                    };
                    self.diags.push(
                        Diagnostic::error("M0303", format!("undefined var `{field}`"))
                            .with_span(span)
                            .with_field(field_of(ptr))
                            .with_hint(hint),
                    );
                }
            } else if !template_fields(sc).contains(&field) {
                ok = false;
                let fields = template_fields(sc);
                let code = if scope.principal { "M0407" } else { "M0304" };
                self.diags.push(
                    Diagnostic::error(
                        code,
                        format!("`{{{sc}.{field}}}` cannot be provided: a {sc} here only has {}", fields.join(", ")),
                    )
                    .with_span(span)
                    .with_field(field_of(ptr))
                    .with_hint(format!(
                        "use one of: {}",
                        fields.iter().map(|f| format!("{{{sc}.{f}}}")).collect::<Vec<_>>().join(", ")
                    )),
                );
            }
        }
        ok.then_some(t)
    }

    fn pagination(&mut self, p: &Option<Pagination>, ptr: &str) -> Pagination {
        let p = p.clone().unwrap_or(Pagination::None {});
        let pp = format!("{ptr}/pagination");
        let size_pair = |c: &mut Self, sp: &Option<String>, s: &Option<u64>| {
            if sp.is_some() && s.is_none() {
                c.push(
                    Diagnostic::error("M0404", "`size_param` is set but `size` is not: the page size would be the server's default, which may be clamped")
                        .with_hint("add `size: 100` (or the API's maximum)"),
                    &pp,
                );
            }
            if sp.is_none() && s.is_some() {
                c.push(
                    Diagnostic::error("M0404", "`size` is set but `size_param` is not: the size would never be sent")
                        .with_hint("add `size_param:` with the API's page-size parameter, e.g. `per_page`"),
                    &pp,
                );
            }
            if *s == Some(0) {
                c.push(Diagnostic::error("M0404", "page size 0 would never advance"), &pp);
            }
        };
        match &p {
            Pagination::Offset { offset_param, limit_param, limit, .. } => {
                let o = offset_param.as_deref().unwrap_or("offset");
                let l = limit_param.as_deref().unwrap_or("limit");
                if o == l {
                    self.push(
                        Diagnostic::error("M0404", format!("offset and limit both use the parameter `{o}`")),
                        &pp,
                    );
                }
                if *limit == Some(0) {
                    self.push(
                        Diagnostic::error("M0404", "`limit: 0` would never advance")
                            .with_hint("use the API's page size, e.g. 100"),
                        &pp,
                    );
                }
            }
            Pagination::Page { page_param, size_param, size, .. } => {
                if size_param.is_some() && size_param.as_deref() == Some(page_param.as_deref().unwrap_or("page")) {
                    self.push(Diagnostic::error("M0404", "page and size use the same parameter"), &pp);
                }
                size_pair(self, size_param, size);
            }
            Pagination::Cursor { cursor_path, cursor_header, size_param, size, param } => {
                if cursor_path.is_some() == cursor_header.is_some() {
                    self.push(
                        Diagnostic::error("M0404", "a cursor comes from the body or a header: give exactly one of `cursor_path` and `cursor_header`")
                            .with_hint("e.g. `cursor_path: next_cursor`"),
                        &pp,
                    );
                }
                if size_param.is_some() && size_param.as_deref() == Some(param.as_deref().unwrap_or("cursor")) {
                    self.push(Diagnostic::error("M0404", "cursor and size use the same parameter"), &pp);
                }
                size_pair(self, size_param, size);
            }
            Pagination::LinkHeader { size_param, size } => size_pair(self, size_param, size),
            Pagination::Scim { count } => {
                if *count == Some(0) {
                    self.push(Diagnostic::error("M0404", "`count: 0` would never advance"), &pp);
                }
            }
            Pagination::NextLink { path } => {
                if path.trim().is_empty() {
                    self.push(
                        Diagnostic::error("M0404", "`path` is empty")
                            .with_hint("the dotted path of the next URL, e.g. `links.next`"),
                        &pp,
                    );
                }
            }
            Pagination::None {} => {}
        }
        p
    }

    fn skip_if(&mut self, s: &Option<String>, ptr: &str, scope: Scope) -> Option<Option<Expr>> {
        let e = self.opt_expr(s, ptr, scope)?;
        if let Some(ex) = &e
            && ex.is_constant()
        {
            let v = ex.eval(&muster_expr::Scope::new()).ok();
            match v {
                Some(serde_json::Value::Bool(true)) => self.push(
                    Diagnostic::error("M0405", "`skip_if` is always true: every row would be skipped")
                        .with_hint("compare a field of `item`, e.g. `item.state == 'pending'`"),
                    ptr,
                ),
                _ => self.push(
                    Diagnostic::warning("M0405", "`skip_if` is constant: it never looks at the row")
                        .with_hint("remove it, or compare a field of `item`, e.g. `item.state == 'pending'`"),
                    ptr,
                ),
            }
        }
        Some(e)
    }

    fn resource_type(&mut self, id: &str, rt: &schema::ResourceTypeSpec) -> Option<ResourceTypeC> {
        let base = format!("/resource_types/{}", escape(id));
        let traits: Vec<Trait> = rt
            .traits
            .iter()
            .map(|t| match t {
                schema::TraitName::User => Trait::User,
                schema::TraitName::Group => Trait::Group,
                schema::TraitName::Role => Trait::Role,
                schema::TraitName::App => Trait::App,
                schema::TraitName::Secret => Trait::Secret,
            })
            .collect();
        let lp = format!("{base}/list");
        let request = self.request(&rt.list.request, &format!("{lp}/request"), LIST_REQ_SCOPE);
        let pagination = self.pagination(&rt.list.pagination, &lp);
        let skip_if = self.skip_if(&rt.list.skip_if, &format!("{lp}/skip_if"), LIST_SCOPE);
        let map = self.map(&rt.list.map, &format!("{lp}/map"), &traits);
        let mut ents = Vec::new();
        let mut slugs = HashSet::new();
        for (i, e) in rt.entitlements.iter().enumerate() {
            let ep = format!("{base}/entitlements/{i}");
            if !slugs.insert(e.id.as_str()) {
                self.push(
                    Diagnostic::error("M0306", format!("duplicate entitlement id `{}` in `{id}`", e.id))
                        .with_hint("entitlement ids must be unique within a resource type"),
                    &format!("{ep}/id"),
                );
            }
            if let Some(ec) = self.entitlement(e, &ep) {
                ents.push(ec);
            }
        }
        Some(ResourceTypeC {
            id: id.to_string(),
            display_name: rt.display_name.clone().unwrap_or_else(|| id.to_string()),
            traits,
            list: ListC {
                request: request?,
                items: items_path(&rt.list.items, &pagination),
                pagination,
                skip_if: skip_if?,
                map: map?,
            },
            entitlements: ents,
        })
    }

    fn map(&mut self, m: &schema::MapSpec, ptr: &str, traits: &[Trait]) -> Option<MapC> {
        let sc = LIST_SCOPE;
        let id = self.expr(&m.id, &format!("{ptr}/id"), sc);
        if let Some(e) = &id
            && e.is_constant()
        {
            self.push(
                Diagnostic::error("M0306", "`id` is a constant: every row would get the same id")
                    .with_hint("map the source's stable id, e.g. `id: item.id`"),
                &format!("{ptr}/id"),
            );
        }
        let display_name = self.opt_expr(&m.display_name, &format!("{ptr}/display_name"), sc);
        let description = self.opt_expr(&m.description, &format!("{ptr}/description"), sc);
        let status = self.opt_expr(&m.status, &format!("{ptr}/status"), sc);
        if let Some(Some(e)) = &status
            && e.is_constant()
            && let Ok(serde_json::Value::String(s)) = e.eval(&muster_expr::Scope::new())
            && muster_model::Status::parse(&s).is_none()
        {
            self.push(
                Diagnostic::error("M0411", format!("status `{s}` is not one of enabled, disabled, deleted"))
                    .with_hint("map the source's value, e.g. `\"item.active ? 'enabled' : 'disabled'\"`"),
                &format!("{ptr}/status"),
            );
        }
        let parent = match &m.parent {
            Some(p) => self.ref_map(p, &format!("{ptr}/parent"), sc).map(Some),
            None => Some(None),
        };
        let user = match &m.user {
            Some(u) => {
                if !traits.contains(&Trait::User) {
                    self.push_at_key(
                        Diagnostic::error("M0408", "`user` fields are mapped but the type lacks the `user` trait")
                            .with_hint("add `user` to `traits`, or remove the `user:` block"),
                        &format!("{ptr}/user"),
                    );
                }
                let up = format!("{ptr}/user");
                let email = self.opt_expr(&u.email, &format!("{up}/email"), sc);
                let emails = self.opt_expr(&u.emails, &format!("{up}/emails"), sc);
                let login = self.opt_expr(&u.login, &format!("{up}/login"), sc);
                let account_type = self.opt_expr(&u.account_type, &format!("{up}/account_type"), sc);
                if let Some(Some(e)) = &account_type
                    && e.is_constant()
                    && let Ok(serde_json::Value::String(s)) = e.eval(&muster_expr::Scope::new())
                    && muster_model::AccountType::parse(&s).is_none()
                {
                    self.push(
                        Diagnostic::error("M0411", format!("account type `{s}` is not one of human, service, system")),
                        &format!("{up}/account_type"),
                    );
                }
                let last_login = self.opt_expr(&u.last_login, &format!("{up}/last_login"), sc);
                let mfa = self.opt_expr(&u.mfa, &format!("{up}/mfa"), sc);
                match (email, emails, login, account_type, last_login, mfa) {
                    (Some(email), Some(emails), Some(login), Some(account_type), Some(last_login), Some(mfa)) => {
                        Some(Some(UserMapC { email, emails, login, account_type, last_login, mfa }))
                    }
                    _ => None,
                }
            }
            None => Some(None),
        };
        if traits.contains(&Trait::User)
            && m.user.as_ref().is_none_or(|u| u.email.is_none() && u.emails.is_none() && u.login.is_none())
        {
            self.push_at_key(
                Diagnostic::warning("M0401", "user type maps neither an email nor a login")
                    .with_hint("without them accounts cannot be matched to people; map `user: { email: item.email, login: item.username }`"),
                ptr,
            );
        }
        let secret = match &m.secret {
            Some(s) => {
                if !traits.contains(&Trait::Secret) {
                    self.push_at_key(
                        Diagnostic::error("M0408", "`secret` fields are mapped but the type lacks the `secret` trait")
                            .with_hint("add `secret` to `traits`, or remove the `secret:` block"),
                        &format!("{ptr}/secret"),
                    );
                }
                let sp = format!("{ptr}/secret");
                let kind = self.opt_expr(&s.kind, &format!("{sp}/kind"), sc);
                let owner = match &s.owner {
                    Some(o) => self.ref_map(o, &format!("{sp}/owner"), sc).map(Some),
                    None => Some(None),
                };
                let created_at = self.opt_expr(&s.created_at, &format!("{sp}/created_at"), sc);
                let expires_at = self.opt_expr(&s.expires_at, &format!("{sp}/expires_at"), sc);
                let last_used_at = self.opt_expr(&s.last_used_at, &format!("{sp}/last_used_at"), sc);
                match (kind, owner, created_at, expires_at, last_used_at) {
                    (Some(kind), Some(owner), Some(created_at), Some(expires_at), Some(last_used_at)) => {
                        Some(Some(SecretMapC { kind, owner, created_at, expires_at, last_used_at }))
                    }
                    _ => None,
                }
            }
            None => Some(None),
        };
        let mut profile = Vec::new();
        let mut profile_ok = true;
        for (k, v) in &m.profile {
            let pp = format!("{ptr}/profile/{}", escape(k));
            if looks_secret_value_field(k) || looks_secret_value_field(v) {
                self.push(
                    Diagnostic::error("M0409", format!("profile field `{k}` looks like a secret's value")).with_hint(
                        "Muster keeps credential metadata only (created, expires, last used); remove this mapping",
                    ),
                    &pp,
                );
            }
            match self.expr(v, &pp, sc) {
                Some(e) => profile.push((k.clone(), e)),
                None => profile_ok = false,
            }
        }
        Some(MapC {
            id: id?,
            display_name: display_name?,
            description: description?,
            status: status?,
            parent: parent?,
            user: user?,
            secret: secret?,
            profile: if profile_ok { profile } else { return None },
        })
    }

    fn entitlement(&mut self, e: &schema::EntitlementSpec, ptr: &str) -> Option<EntitlementC> {
        if e.grantable_to.is_empty() {
            self.push(
                Diagnostic::error("M0414", "`grantable_to` is empty: nothing could hold this entitlement")
                    .with_hint("list the resource types that can hold it, e.g. `[user]`"),
                &format!("{ptr}/grantable_to"),
            );
        }
        for (i, g) in e.grantable_to.iter().enumerate() {
            self.type_ref(g, &format!("{ptr}/grantable_to/{i}"));
        }
        let grants = match &e.grants {
            Some(g) => {
                let gp = format!("{ptr}/grants");
                let request = self.request(&g.request, &format!("{gp}/request"), GRANT_REQ_SCOPE);
                let per_resource = Template::parse(&g.request.path, true)
                    .map(|t| t.path_vars().any(|(s, _)| s == "resource"))
                    .unwrap_or(false)
                    || g.request.query.values().any(|q| q.contains("{resource."));
                let pagination = self.pagination(&g.pagination, &gp);
                let skip_if = self.skip_if(&g.skip_if, &format!("{gp}/skip_if"), GRANT_SCOPE);
                let pr = &g.map.principal;
                let principal = self.ref_map(
                    &schema::RefMap { resource_type: pr.resource_type.clone(), id: pr.id.clone() },
                    &format!("{gp}/map/principal"),
                    GRANT_SCOPE,
                );
                let type_from = self.opt_expr(&pr.type_from, &format!("{gp}/map/principal/type_from"), GRANT_SCOPE);
                if !e.grantable_to.contains(&g.map.principal.resource_type)
                    && self.type_ids.contains(&g.map.principal.resource_type)
                {
                    self.push(
                        Diagnostic::error(
                            "M0301",
                            format!(
                                "grants map principals of type `{}`, which is not in `grantable_to`",
                                g.map.principal.resource_type
                            ),
                        )
                        .with_hint(format!(
                            "add `{}` to `grantable_to`, or fix the principal's type",
                            g.map.principal.resource_type
                        )),
                        &format!("{gp}/map/principal/type"),
                    );
                }
                let resource_scope = Scope { resource: false, ..GRANT_SCOPE };
                let resource = match (&g.map.resource, per_resource) {
                    (Some(_), true) => {
                        self.push(
                            Diagnostic::error("M0307", "`map.resource` is set but the request is already made once per resource (`{resource.id}`)")
                                .with_hint("remove `map.resource`"),
                            &format!("{gp}/map/resource"),
                        );
                        None
                    }
                    (None, false) => {
                        self.push_at_key(
                            Diagnostic::error("M0307", "a grants listing without `{resource.id}` in its path must say which resource each row belongs to")
                                .with_hint("add `map: { resource: item.group_id, ... }`, or put `{resource.id}` in `request.path`"),
                            &format!("{gp}/map"),
                        );
                        None
                    }
                    (Some(r), false) => self.expr(r, &format!("{gp}/map/resource"), resource_scope).map(Some),
                    (None, true) => Some(None),
                };
                match (request, skip_if, principal, resource, type_from) {
                    (Some(request), Some(skip_if), Some(principal), Some(resource), Some(principal_type_from)) => {
                        Some(GrantsC {
                            request,
                            items: items_path(&g.items, &pagination),
                            pagination,
                            skip_if,
                            principal,
                            principal_type_from,
                            resource,
                            per_resource,
                        })
                    }
                    _ => None,
                }
            }
            None => None,
        };
        let provisioning = e.provisioning.as_ref().map(|p| {
            let pp = format!("{ptr}/provisioning");
            let action = |c: &mut Self, a: &Option<schema::ProvisionAction>, name: &str| {
                a.as_ref().and_then(|a| {
                    let ap = format!("{pp}/{name}");
                    let request = c.request(&a.request, &format!("{ap}/request"), PROV_REQ_SCOPE);
                    let success = c.opt_expr(&a.success, &format!("{ap}/success"), PROV_RESP_SCOPE);
                    let already_done = c.opt_expr(&a.already_done, &format!("{ap}/already_done"), PROV_RESP_SCOPE);
                    Some(ActionC { request: request?, success: success?, already_done: already_done? })
                })
            };
            ProvisioningC { grant: action(self, &p.grant, "grant"), revoke: action(self, &p.revoke, "revoke") }
        });
        Some(EntitlementC {
            slug: e.id.clone(),
            display_name: e.display_name.clone().unwrap_or_else(|| e.id.clone()),
            purpose: match e.purpose {
                Some(schema::PurposeName::Permission) => Purpose::Permission,
                Some(schema::PurposeName::Ownership) => Purpose::Ownership,
                _ => Purpose::Assignment,
            },
            grantable_to: e.grantable_to.clone(),
            grants,
            provisioning,
        })
    }

    fn test_case(&mut self, i: usize, t: &schema::TestCase, raw: &Connector) {
        let tp = format!("/tests/{i}");
        let Some(rt) = raw.resource_types.get(&t.resource_type) else {
            self.type_ref(&t.resource_type, &format!("{tp}/resource_type"));
            return;
        };
        if let Some(ent) = &t.entitlement {
            match rt.entitlements.iter().find(|e| &e.id == ent) {
                None => {
                    let hint = match did_you_mean(ent, rt.entitlements.iter().map(|e| e.id.as_str())) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "`{}` has entitlements: {}",
                            t.resource_type,
                            rt.entitlements.iter().map(|e| e.id.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    };
                    self.push(
                        Diagnostic::error("M0302", format!("undefined entitlement `{ent}` on `{}`", t.resource_type))
                            .with_hint(hint),
                        &format!("{tp}/entitlement"),
                    );
                }
                Some(e) if e.grants.is_none() => self.push(
                    Diagnostic::error("M0302", format!("entitlement `{ent}` has no `grants` listing to test")),
                    &format!("{tp}/entitlement"),
                ),
                Some(e) => {
                    let per_resource = e.grants.as_ref().is_some_and(|g| g.request.path.contains("{resource."));
                    if per_resource && t.resource.as_ref().and_then(|r| r.get("id")).is_none() {
                        self.push_at_key(
                            Diagnostic::error(
                                "M0103",
                                "a grants test for a per-resource listing needs `resource: { id: ... }`",
                            )
                            .with_hint("name the resource the fixture belongs to, e.g. `resource: { id: g1 }`"),
                            &tp,
                        );
                    }
                }
            }
        }
        if t.expect.is_empty() && t.expect_count.is_none() {
            self.push_at_key(
                Diagnostic::error("M0415", format!("test `{}` expects nothing, so it cannot fail", t.name))
                    .with_hint("add `expect:` records (subset match) or `expect_count:`"),
                &tp,
            );
        }
    }
}

pub(crate) struct CompiledConnectorParts {
    pub vars: IndexMap<String, Template>,
    pub http: HttpSourceC,
    pub types: Vec<ResourceTypeC>,
    pub drift: DriftC,
}

pub(crate) fn assemble(raw: Connector, parts: CompiledConnectorParts, spec_hash: String) -> CompiledConnector {
    CompiledConnector {
        name: raw.app.name.clone(),
        owner: raw.app.owner.clone(),
        description: raw.app.description.clone(),
        vars: parts.vars,
        http: parts.http,
        resource_types: parts.types,
        tests: raw.tests.clone(),
        drift: parts.drift,
        spec_hash,
        raw,
    }
}

/// The rows' path: as written, or SCIM's `Resources` by default for SCIM pagination.
fn items_path(items: &Option<String>, p: &Pagination) -> Option<String> {
    match items.clone().filter(|s| !s.is_empty() && s != ".") {
        Some(s) => Some(s),
        None if matches!(p, Pagination::Scim { .. }) => Some("Resources".to_string()),
        None => None,
    }
}

fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization" || n == "cookie" || n == "proxy-authorization" || looks_secret_name(&n)
}

/// Names that usually hold credentials.
pub fn looks_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['-', '_'], "");
    ["password", "passwd", "secret", "token", "apikey", "accesskey", "privatekey", "clientsecret", "auth"]
        .iter()
        .any(|w| n.contains(w))
}

/// A mapped field that reads a credential's value rather than its metadata.
fn looks_secret_value_field(s: &str) -> bool {
    let n = s.to_ascii_lowercase();
    let n = n.rsplit('.').next().unwrap_or(&n).replace(['-', '_'], "");
    matches!(
        n.as_str(),
        "token"
            | "secret"
            | "password"
            | "apikey"
            | "key"
            | "privatekey"
            | "clientsecret"
            | "accesstoken"
            | "plaintext"
    )
}

/// Byte offset of `word` as a whole identifier in `src`.
fn find_word(src: &str, word: &str) -> Option<usize> {
    let mut start = 0;
    while let Some(i) = src[start..].find(word) {
        let at = start + i;
        let before = src[..at].chars().next_back();
        let after = src[at + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !ident(before) && !ident(after) {
            return Some(at);
        }
        start = at + word.len();
    }
    None
}

trait TakeBytes {
    fn take_while_ref_bytes(self, n: usize) -> String;
}

impl TakeBytes for std::str::Chars<'_> {
    /// The prefix of at most `n` bytes, on a char boundary.
    fn take_while_ref_bytes(self, n: usize) -> String {
        let mut out = String::new();
        for c in self {
            if out.len() + c.len_utf8() > n {
                break;
            }
            out.push(c);
        }
        out
    }
}
