//! Helpers for the engine's integration tests: connector YAML per pagination and auth style of the
//! testkit's generic API, an environment closure, and a store-backed sync runner.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use muster_engine::sync::{self, EngineError, Silent, SyncOptions, SyncReport};
use muster_spec::CompiledConnector;
use muster_store::{Store, SyncInfo, SyncStatus};
use muster_testkit::{Auth, Pagination, Scenario, ScenarioTruth, TestServer};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// The connector name (`app.name`) every generated spec uses.
pub const NAME: &str = "Generic Test";

// Credentials used by the auth tests. They only ever travel through the environment closure.
pub const USER: &str = "alice";
pub const PASSWORD: &str = "pw-Zq7-correct-horse";
pub const TOKEN: &str = "tok-static-8f3b2c1d";
pub const API_KEY: &str = "key-0c9d8e7f6a";
pub const CLIENT_ID: &str = "muster-client";
pub const CLIENT_SECRET: &str = "cs-5e4d3c2b1a";
pub const API_KEY_HEADER: &str = "X-Api-Key";
pub const API_KEY_PREFIX: &str = "Token ";
pub const API_KEY_PARAM: &str = "api_key";

/// The small default data set: 120 users, 6 groups, 10 members each.
pub fn scenario(pagination: Pagination) -> Scenario {
    Scenario { users: 120, groups: 6, members_per_group: 10, pagination, ..Default::default() }
}

/// Which auth block the generated connector carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStyle {
    None,
    Basic,
    Bearer,
    ApiKeyHeader,
    ApiKeyQuery,
    OAuth2ClientCredentials,
    OAuth2ClientCredentialsBody,
    OAuth2Password,
    Login,
}

impl AuthStyle {
    /// The testkit's auth configured with the right credentials for this style.
    pub fn server_auth(self) -> Auth {
        match self {
            AuthStyle::None => Auth::None,
            AuthStyle::Basic => Auth::Basic { user: USER.into(), password: PASSWORD.into() },
            AuthStyle::Bearer => Auth::Bearer { token: TOKEN.into() },
            AuthStyle::ApiKeyHeader => {
                Auth::ApiKeyHeader { header: API_KEY_HEADER.into(), key: format!("{API_KEY_PREFIX}{API_KEY}") }
            }
            AuthStyle::ApiKeyQuery => Auth::ApiKeyQuery { param: API_KEY_PARAM.into(), key: API_KEY.into() },
            AuthStyle::OAuth2ClientCredentials | AuthStyle::OAuth2ClientCredentialsBody => {
                Auth::OAuth2ClientCredentials {
                    client_id: CLIENT_ID.into(),
                    client_secret: CLIENT_SECRET.into(),
                    token_ttl_s: 3600,
                }
            }
            AuthStyle::OAuth2Password => Auth::OAuth2Password {
                client_id: CLIENT_ID.into(),
                username: USER.into(),
                password: PASSWORD.into(),
                token_ttl_s: 3600,
            },
            AuthStyle::Login => Auth::Login { username: USER.into(), password: PASSWORD.into(), token_ttl_s: 3600 },
        }
    }

    /// The connector's `auth:` flow mapping. Secrets are `${ENV}` references only.
    pub fn yaml(self) -> String {
        match self {
            AuthStyle::None => "{ type: none }".into(),
            AuthStyle::Basic => r#"{ type: basic, username: "${T_USER}", password: "${T_PASSWORD}" }"#.into(),
            AuthStyle::Bearer => r#"{ type: bearer, token: "${T_TOKEN}" }"#.into(),
            AuthStyle::ApiKeyHeader => format!(
                r#"{{ type: api_key, header: {API_KEY_HEADER}, prefix: "{API_KEY_PREFIX}", key: "${{T_API_KEY}}" }}"#
            ),
            AuthStyle::ApiKeyQuery => format!(r#"{{ type: api_key, query: {API_KEY_PARAM}, key: "${{T_API_KEY}}" }}"#),
            AuthStyle::OAuth2ClientCredentials => r#"{ type: oauth2_client_credentials, token_url: "${BASE}/oauth/token", client_id: "${T_CLIENT_ID}", client_secret: "${T_CLIENT_SECRET}" }"#.into(),
            AuthStyle::OAuth2ClientCredentialsBody => r#"{ type: oauth2_client_credentials, token_url: "${BASE}/oauth/token", client_id: "${T_CLIENT_ID}", client_secret: "${T_CLIENT_SECRET}", client_auth: body }"#.into(),
            AuthStyle::OAuth2Password => r#"{ type: oauth2_password, token_url: "${BASE}/oauth/token", client_id: "${T_CLIENT_ID}", username: "${T_USER}", password: "${T_PASSWORD}" }"#.into(),
            AuthStyle::Login => r#"{ type: login, path: /login, body: { username: "${T_USER}", password: "${T_PASSWORD}" }, token_path: token, expires_in_path: expires_in }"#.into(),
        }
    }

    /// The secret values of this style (what must never appear in an error).
    pub fn secrets(self) -> Vec<&'static str> {
        match self {
            AuthStyle::None => vec![],
            AuthStyle::Basic | AuthStyle::OAuth2Password | AuthStyle::Login => vec![PASSWORD],
            AuthStyle::Bearer => vec![TOKEN],
            AuthStyle::ApiKeyHeader | AuthStyle::ApiKeyQuery => vec![API_KEY],
            AuthStyle::OAuth2ClientCredentials | AuthStyle::OAuth2ClientCredentialsBody => vec![CLIENT_SECRET],
        }
    }
}

/// The environment a connector runs with: `BASE` plus the credentials.
#[derive(Debug, Clone)]
pub struct Env(pub HashMap<String, String>);

impl Env {
    /// The right credentials for every auth style, and `BASE` = the server's URL.
    pub fn for_server(server: &TestServer) -> Env {
        let mut m = HashMap::new();
        m.insert("BASE".to_string(), server.base_url());
        for (k, v) in [
            ("T_USER", USER),
            ("T_PASSWORD", PASSWORD),
            ("T_TOKEN", TOKEN),
            ("T_API_KEY", API_KEY),
            ("T_CLIENT_ID", CLIENT_ID),
            ("T_CLIENT_SECRET", CLIENT_SECRET),
        ] {
            m.insert(k.to_string(), v.to_string());
        }
        Env(m)
    }

    /// Replace one variable (e.g. a wrong password).
    pub fn with(mut self, k: &str, v: &str) -> Env {
        self.0.insert(k.to_string(), v.to_string());
        self
    }

    pub fn get(&self, k: &str) -> Option<String> {
        self.0.get(k).cloned()
    }
}

/// A generated connector: one pagination style (for all three listings), one auth style, knobs.
#[derive(Debug, Clone)]
pub struct Spec {
    pub pagination: Pagination,
    /// Page size the connector asks for.
    pub page_size: u64,
    pub auth: AuthStyle,
    /// `retry:` flow mapping (default: fast retries).
    pub retry: String,
    /// `rate_limit:` flow mapping, if any.
    pub rate_limit: Option<String>,
    /// The user map's `id` expression.
    pub user_id_expr: String,
    /// The user list's `skip_if`, if any.
    pub user_skip_if: Option<String>,
    /// The grants map's principal id expression.
    pub member_id_expr: String,
    /// SCIM only: omit `items` and rely on the documented default (`Resources`).
    pub scim_items_default: bool,
    /// Offset only: read the API's `total` (default true).
    pub use_total: bool,
}

impl Spec {
    pub fn new(pagination: Pagination, page_size: u64) -> Spec {
        Spec {
            pagination,
            page_size,
            auth: AuthStyle::None,
            retry: "{ max_attempts: 5, backoff_ms: 10, max_backoff_ms: 50 }".into(),
            rate_limit: None,
            user_id_expr: "item.id".into(),
            user_skip_if: None,
            member_id_expr: "item.user_id".into(),
            scim_items_default: false,
            use_total: true,
        }
    }

    pub fn auth(mut self, a: AuthStyle) -> Spec {
        self.auth = a;
        self
    }

    pub fn retry(mut self, r: &str) -> Spec {
        self.retry = r.into();
        self
    }

    pub fn rate_limit(mut self, r: &str) -> Spec {
        self.rate_limit = Some(r.into());
        self
    }

    /// `(items line, pagination line, request query)` for this style.
    fn paging(&self) -> (Option<&'static str>, String, Option<String>) {
        let n = self.page_size;
        match self.pagination {
            Pagination::None => (None, "{ type: none }".into(), None),
            Pagination::Offset if !self.use_total => (Some("items"), format!("{{ type: offset, limit: {n} }}"), None),
            Pagination::Offset => (Some("items"), format!("{{ type: offset, limit: {n}, total: total }}"), None),
            Pagination::Page => {
                (Some("items"), format!("{{ type: page, size_param: per_page, size: {n}, total: total }}"), None)
            }
            Pagination::CursorBody => (
                Some("items"),
                format!("{{ type: cursor, cursor_path: next_cursor, size_param: limit, size: {n} }}"),
                None,
            ),
            Pagination::CursorHeader => (
                Some("items"),
                format!("{{ type: cursor, cursor_header: X-Next-Cursor, size_param: limit, size: {n} }}"),
                None,
            ),
            Pagination::NextLinkAbsolute | Pagination::NextLinkRelative => {
                (Some("items"), "{ type: next_link, path: next }".into(), Some(format!("{{ limit: \"{n}\" }}")))
            }
            Pagination::LinkHeader => (None, format!("{{ type: link_header, size_param: per_page, size: {n} }}"), None),
            Pagination::Scim => (
                if self.scim_items_default { None } else { Some("Resources") },
                format!("{{ type: scim, count: {n} }}"),
                None,
            ),
        }
    }

    fn list_block(&self, path: &str, indent: &str) -> String {
        let (items, pagination, query) = self.paging();
        let mut s = String::new();
        match query {
            Some(q) => s.push_str(&format!("{indent}request: {{ path: \"{path}\", query: {q} }}\n")),
            None => s.push_str(&format!("{indent}request: {{ path: \"{path}\" }}\n")),
        }
        if let Some(i) = items {
            s.push_str(&format!("{indent}items: {i}\n"));
        }
        s.push_str(&format!("{indent}pagination: {pagination}\n"));
        s
    }

    pub fn yaml(&self) -> String {
        let mut y = String::new();
        y.push_str("version: 1\n");
        y.push_str(&format!("app: {{ name: {NAME}, owner: iam-team@example.com }}\n"));
        y.push_str("source:\n  http:\n    base_url: \"${BASE}\"\n    timeout_s: 10\n");
        y.push_str(&format!("    auth: {}\n", self.auth.yaml()));
        y.push_str(&format!("    retry: {}\n", self.retry));
        if let Some(r) = &self.rate_limit {
            y.push_str(&format!("    rate_limit: {r}\n"));
        }
        y.push_str("resource_types:\n");
        y.push_str("  user:\n    traits: [user]\n    list:\n");
        y.push_str(&self.list_block("/users", "      "));
        if let Some(s) = &self.user_skip_if {
            y.push_str(&format!("      skip_if: \"{s}\"\n"));
        }
        y.push_str(&format!(
            "      map:\n        id: {}\n        display_name: item.name\n        status: \"item.active ? 'enabled' : 'disabled'\"\n        user: {{ email: item.email, login: item.id }}\n",
            self.user_id_expr
        ));
        y.push_str("  group:\n    traits: [group]\n    list:\n");
        y.push_str(&self.list_block("/groups", "      "));
        y.push_str("      map: { id: item.id, display_name: item.name }\n");
        y.push_str("    entitlements:\n      - id: member\n        grantable_to: [user]\n        grants:\n");
        y.push_str(&self.list_block("/groups/{resource.id}/members", "          "));
        y.push_str(&format!("          map: {{ principal: {{ type: user, id: {} }} }}\n", self.member_id_expr));
        y
    }

    /// Check and compile; panics with the diagnostics when the spec has errors.
    pub fn compile(&self) -> CompiledConnector {
        compile(&self.yaml())
    }
}

pub fn compile(yaml: &str) -> CompiledConnector {
    let checked = muster_spec::check(yaml, "test.yaml");
    match checked.connector {
        Some(c) if !checked.has_errors() => c,
        _ => panic!("connector does not check:\n{:#?}\n--- yaml ---\n{yaml}", checked.diagnostics),
    }
}

/// A store in a temporary directory (kept alive by the returned guard).
pub struct TempStore {
    pub store: Store,
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

pub fn temp_store() -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    let store = Store::open(&path).unwrap();
    TempStore { store, path, _dir: dir }
}

static CLOCK: AtomicU64 = AtomicU64::new(0);

/// A distinct, increasing RFC 3339 timestamp (the store takes the caller's clock).
pub fn ts() -> String {
    let n = CLOCK.fetch_add(1, Ordering::Relaxed);
    format!("2026-11-01T00:{:02}:{:02}Z", (n / 60) % 60, n % 60)
}

/// The outcome of one sync into the store.
pub enum Outcome {
    Done(SyncInfo, SyncReport),
    Failed { sync_id: i64, error: EngineError },
}

impl Outcome {
    pub fn done(self) -> (SyncInfo, SyncReport) {
        match self {
            Outcome::Done(i, r) => (i, r),
            Outcome::Failed { error, .. } => panic!("sync failed: {error}\n{error:?}"),
        }
    }

    pub fn failed(self) -> (i64, EngineError) {
        match self {
            Outcome::Failed { sync_id, error } => (sync_id, error),
            Outcome::Done(i, r) => panic!("sync was expected to fail but completed: {i:?}\n{r:?}"),
        }
    }
}

/// Run `c` into `store` the way the CLI does: begin, run, finish or fail.
pub fn sync_into(store: &mut Store, c: &CompiledConnector, env: &Env) -> Outcome {
    sync_with(store, c, env, &SyncOptions::default())
}

pub fn sync_with(store: &mut Store, c: &CompiledConnector, env: &Env, opts: &SyncOptions) -> Outcome {
    let env = env.clone();
    let env_fn = move |k: &str| env.get(k);
    let mut writer = store.begin_sync(&c.name, &c.spec_hash, &ts()).unwrap();
    let sync_id = writer.id();
    match sync::run(c, &env_fn, &mut writer, opts, &Silent) {
        Ok(report) => {
            let info = writer.finish(&ts()).unwrap();
            assert_eq!(info.status, SyncStatus::Completed);
            Outcome::Done(info, report)
        }
        Err(error) => {
            writer.fail(&ts(), &error.to_string()).unwrap();
            Outcome::Failed { sync_id, error }
        }
    }
}

/// Start a server for `scenario` and sync `spec` against it into a fresh store.
pub fn serve(scenario: Scenario) -> TestServer {
    muster_testkit::serve(scenario).unwrap()
}

pub fn ids(it: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    it.into_iter().collect()
}

/// What a snapshot holds, as sets of ids.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub users: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    pub memberships: BTreeSet<(String, String)>,
    pub grant_rows: usize,
}

pub fn snapshot(store: &Store, sync_id: i64) -> Snapshot {
    let users = store.resources(sync_id, Some("user")).unwrap();
    let groups = store.resources(sync_id, Some("group")).unwrap();
    let grants = store.grants(sync_id, Some("group")).unwrap();
    let user_count = users.len();
    let group_count = groups.len();
    let s = Snapshot {
        users: users.into_iter().map(|r| r.id).collect(),
        groups: groups.into_iter().map(|r| r.id).collect(),
        memberships: grants
            .iter()
            .map(|g| {
                assert_eq!(g.entitlement.slug, "member");
                assert_eq!(g.principal.resource_type, "user");
                (g.entitlement.resource.id.clone(), g.principal.id.clone())
            })
            .collect(),
        grant_rows: grants.len(),
    };
    assert_eq!(s.users.len(), user_count, "duplicate user rows");
    assert_eq!(s.groups.len(), group_count, "duplicate group rows");
    s
}

pub fn expected(truth: &ScenarioTruth) -> Snapshot {
    let memberships: BTreeSet<(String, String)> = truth.memberships().collect();
    Snapshot {
        users: truth.user_ids().collect(),
        groups: truth.group_ids().collect(),
        grant_rows: memberships.len(),
        memberships,
    }
}

/// The snapshot `sync_id` holds exactly the scenario's users, groups and memberships, and nothing odd.
pub fn assert_exact(store: &Store, sync_id: i64, truth: &ScenarioTruth) {
    let got = snapshot(store, sync_id);
    let want = expected(truth);
    assert_eq!(want.users.len() as u64, truth.users);
    assert_eq!(want.memberships.len() as u64, truth.memberships);
    assert_eq!(got.users, want.users, "user ids differ");
    assert_eq!(got.groups, want.groups, "group ids differ");
    assert_eq!(got.memberships, want.memberships, "memberships differ");
    assert_eq!(got.grant_rows, want.grant_rows, "grant rows differ");
    let findings = store.findings(sync_id).unwrap();
    assert!(findings.is_empty(), "unexpected findings: {findings:#?}");
    let counts = store.counts(sync_id).unwrap();
    assert_eq!(counts.resources, truth.users + truth.groups);
    assert_eq!(counts.grants, truth.memberships);
}

/// Requests to data routes logged by the server, by route prefix.
pub fn data_requests(server: &TestServer, prefix: &str) -> usize {
    server.requests().iter().filter(|r| r.method == "GET" && r.path.starts_with(prefix)).count()
}

pub fn token_requests(server: &TestServer, path: &str) -> usize {
    server.requests().iter().filter(|r| r.method == "POST" && r.path.starts_with(path)).count()
}

/// Status of a sync by id.
pub fn status_of(store: &Store, id: i64) -> SyncStatus {
    store.sync(id).unwrap().unwrap().status
}

/// A previous good snapshot is still the connector's current one, and still exact.
pub fn assert_previous_current(store: &Store, good: i64, failed: i64, truth: &ScenarioTruth) {
    let cur = store.current_sync(NAME).unwrap().expect("a current sync");
    assert_eq!(cur.id, good, "the previous snapshot must stay current");
    assert_exact(store, good, truth);
    let f = store.sync(failed).unwrap().expect("the failed sync is recorded");
    assert_eq!(f.status, SyncStatus::Failed);
    assert!(f.error.as_deref().is_some_and(|e| !e.is_empty()), "the failed sync records its error: {f:?}");
}
