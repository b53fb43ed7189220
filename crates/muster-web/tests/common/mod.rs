//! A small store for handler tests: two registered versions of the demo connector, a trust report, two
//! completed syncs and a held one.
#![allow(dead_code)]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, Response, StatusCode, header};
use chrono::{DateTime, Utc};
use muster_model::*;
use muster_store::Store;
use muster_web::{AppState, FixedClock, ServeConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt as _;

pub const DEMO: &str = include_str!("../../../muster-cli/assets/demo-connector.yaml");
pub const NOW: &str = "2026-11-01T00:00:00Z";
pub const NAME: &str = "Acme Directory";
pub const NAME_PATH: &str = "Acme%20Directory";

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW).unwrap().with_timezone(&Utc)
}

pub fn compile(src: &str) -> muster_spec::CompiledConnector {
    let checked = muster_spec::check(src, "test.yaml");
    checked.connector.unwrap_or_else(|| panic!("does not compile: {:?}", checked.diagnostics))
}

/// The second version: a risky base-URL change and a gentler rate limit.
pub fn demo_v2() -> String {
    DEMO.replace("base_url: ${ACME_URL}", "base_url: ${ACME_URL}/v2").replace("per_second: 200", "per_second: 50")
}

fn user(
    id: &str,
    name: &str,
    at: AccountType,
    status: Status,
    email: Option<&str>,
    last: Option<&str>,
    mfa: bool,
) -> Record {
    Record::Resource(Resource {
        resource_type: "user".into(),
        id: id.into(),
        parent: None,
        display_name: Some(name.into()),
        description: None,
        status,
        user: Some(UserTraits {
            emails: email.map(|e| vec![e.to_string()]).unwrap_or_default(),
            login: Some(id.to_string()),
            account_type: Some(at),
            last_login: last.map(str::to_string),
            mfa: Some(mfa),
        }),
        secret: None,
        profile: serde_json::Map::new(),
    })
}

fn plain(rtype: &str, id: &str, name: &str) -> Record {
    Record::Resource(Resource {
        resource_type: rtype.into(),
        id: id.into(),
        parent: None,
        display_name: Some(name.into()),
        description: None,
        status: Status::Enabled,
        user: None,
        secret: None,
        profile: serde_json::Map::new(),
    })
}

fn token(id: &str, owner: Option<&str>, created: &str, expires: Option<&str>, used: Option<&str>) -> Record {
    let mut profile = serde_json::Map::new();
    profile.insert("prefix".into(), "ab12".into());
    profile.insert("client_secret".into(), "must-not-show".into());
    Record::Resource(Resource {
        resource_type: "api_token".into(),
        id: id.into(),
        parent: None,
        display_name: Some(format!("token {id}")),
        description: None,
        status: Status::Enabled,
        user: None,
        secret: Some(SecretTraits {
            kind: Some("token".into()),
            owner: owner.map(|o| ResourceRef { resource_type: "user".into(), id: o.into() }),
            created_at: Some(created.into()),
            expires_at: expires.map(str::to_string),
            last_used_at: used.map(str::to_string),
        }),
        profile,
    })
}

fn rt(id: &str, t: Trait) -> Record {
    Record::ResourceType(ResourceType { id: id.into(), display_name: id.into(), traits: vec![t] })
}

fn ent(rtype: &str, id: &str, slug: &str, purpose: Purpose) -> Record {
    Record::Entitlement(Entitlement {
        resource: ResourceRef { resource_type: rtype.into(), id: id.into() },
        slug: slug.into(),
        display_name: Some(slug.into()),
        purpose,
        grantable_to: vec!["user".into(), "group".into()],
    })
}

fn grant(rtype: &str, id: &str, slug: &str, ptype: &str, pid: &str) -> Record {
    Record::Grant(Grant {
        entitlement: EntitlementRef {
            resource: ResourceRef { resource_type: rtype.into(), id: id.into() },
            slug: slug.into(),
        },
        principal: ResourceRef { resource_type: ptype.into(), id: pid.into() },
    })
}

fn base_records(with_bob: bool) -> Vec<Record> {
    let mut v = vec![
        rt("user", Trait::User),
        rt("group", Trait::Group),
        rt("role", Trait::Role),
        rt("api_token", Trait::Secret),
        user(
            "u1",
            "Ann Lee",
            AccountType::Human,
            Status::Enabled,
            Some("ann@example.com"),
            Some("2026-10-30T08:00:00Z"),
            true,
        ),
        user("u3", "<script>alert(1)</script>", AccountType::Human, Status::Enabled, None, None, false),
        user("svc1", "Backup bot", AccountType::Service, Status::Enabled, None, Some("2026-10-29T00:00:00Z"), true),
        plain("group", "g1", "Admins"),
        plain("role", "r1", "Superuser"),
        ent("group", "g1", "member", Purpose::Assignment),
        ent("role", "r1", "assigned", Purpose::Permission),
        grant("group", "g1", "member", "user", "u1"),
        grant("group", "g1", "member", "user", "svc1"),
        grant("role", "r1", "assigned", "group", "g1"),
        token("t1", Some("u1"), "2026-06-01T00:00:00Z", Some("2026-12-01T00:00:00Z"), Some("2026-10-30T00:00:00Z")),
        token("t2", None, "2023-01-01T00:00:00Z", Some("2026-01-01T00:00:00Z"), None),
    ];
    if with_bob {
        v.push(user("u2", "Bob Stone", AccountType::Human, Status::Disabled, Some("bob@example.com"), None, false));
        v.push(grant("group", "g1", "member", "user", "u2"));
    }
    v
}

fn trust_report(c: &muster_spec::CompiledConnector, passed: bool, at: &str) -> muster_verify::TrustReport {
    muster_verify::TrustReport {
        connector: c.name.clone(),
        spec_hash: c.spec_hash.clone(),
        base_url: "http://127.0.0.1:7979".into(),
        created_at: at.into(),
        mode: "full".into(),
        score: if passed { 96 } else { 40 },
        passed,
        checks: vec![muster_verify::Check {
            name: "auth".into(),
            status: if passed { muster_verify::Status::Pass } else { muster_verify::Status::Fail },
            summary: "credentials are required".into(),
            evidence: vec!["pass: every request succeeded".into()],
            weight: 20,
        }],
        listings: vec![],
        counts: Default::default(),
        samples: [(
            "api_token".to_string(),
            match token("t9", None, "2026-01-01T00:00:00Z", None, None) {
                Record::Resource(r) => vec![r],
                _ => vec![],
            },
        )]
        .into_iter()
        .collect(),
        request_log: vec![],
        requests: 3,
        elapsed_ms: 120,
    }
}

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub db: PathBuf,
    pub v1: String,
    pub v2: String,
    pub report_v2: i64,
    pub held: i64,
    pub first: i64,
    pub second: i64,
}

fn save_report(store: &mut Store, r: &muster_verify::TrustReport) -> i64 {
    let json = serde_json::to_string(r).unwrap();
    store.save_trust_report(&r.connector, &r.spec_hash, &r.base_url, &r.created_at, r.passed, r.score, &json).unwrap()
}

/// v1 (tested, failing) and v2 (tested, passing, not approved); syncs #1 and #2 completed, #3 held.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("muster.db");
    let mut store = Store::open(&db).unwrap();
    let c1 = compile(DEMO);
    let c2 = compile(&demo_v2());
    muster_govern::register(&mut store, &c1, DEMO, "Dev One <dev1@example.com>", "first", "2026-10-01T00:00:00Z")
        .unwrap();
    muster_govern::register(&mut store, &c2, &demo_v2(), "Dev One <dev1@example.com>", "v2", "2026-10-20T00:00:00Z")
        .unwrap();
    save_report(&mut store, &trust_report(&c1, false, "2026-10-02T00:00:00Z"));
    let report_v2 = save_report(&mut store, &trust_report(&c2, true, "2026-10-31T00:00:00Z"));
    let mut ids = Vec::new();
    for (i, with_bob) in [(1, true), (2, false), (3, false)] {
        let mut w = store.begin_sync(&c2.name, &c2.spec_hash, &format!("2026-10-2{i}T00:00:00Z")).unwrap();
        let mut recs = base_records(with_bob);
        if i == 2 {
            recs.push(user(
                "u4",
                "Cleo New",
                AccountType::Human,
                Status::Enabled,
                Some("cleo@example.com"),
                None,
                false,
            ));
        }
        if i == 3 {
            recs.retain(|r| !matches!(r, Record::Grant(_)));
        }
        RecordSink::write_batch(&mut w, &recs).unwrap();
        let info = if i == 3 {
            w.finish_held(&format!("2026-10-2{i}T00:01:00Z"), "grants: would become empty (all 3 would be removed)")
                .unwrap()
        } else {
            w.finish(&format!("2026-10-2{i}T00:01:00Z")).unwrap()
        };
        ids.push(info.id);
    }
    Fixture {
        _dir: dir,
        db,
        v1: c1.spec_hash,
        v2: c2.spec_hash,
        report_v2,
        first: ids[0],
        second: ids[1],
        held: ids[2],
    }
}

pub fn config(db: &Path) -> ServeConfig {
    let mut cfg = ServeConfig::new(db);
    cfg.clock = Arc::new(FixedClock(now()));
    cfg
}

pub fn app(cfg: ServeConfig) -> Router {
    muster_web::router(AppState::open(cfg).unwrap())
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn cookie(&self) -> Option<String> {
        self.headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_string)
    }
}

pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let resp: Response<Body> = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = String::from_utf8_lossy(&to_bytes(resp.into_body(), usize::MAX).await.unwrap()).into_owned();
    Reply { status, headers, body }
}

pub async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

pub async fn get_with(app: &Router, uri: &str, cookie: &str) -> Reply {
    send(app, Request::get(uri).header(header::COOKIE, cookie).body(Body::empty()).unwrap()).await
}

/// A session: (cookie, csrf token).
pub async fn session(app: &Router) -> (String, String) {
    let r = get(app, "/api/session").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cookie = r.cookie().expect("a session cookie");
    let csrf = r.json()["csrf"].as_str().unwrap().to_string();
    (cookie, csrf)
}

pub async fn post_form(app: &Router, uri: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Reply {
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{}={}", muster_web::html::pct(k), muster_web::html::pct(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::from(body)).unwrap()).await
}

pub async fn post_json(app: &Router, uri: &str, headers: &[(&str, &str)], body: serde_json::Value) -> Reply {
    let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(app, req.body(Body::from(body.to_string())).unwrap()).await
}
