//! End-to-end: a real demo store (the demo API, the demo connector, a trust report, a sync), the server on a
//! free loopback port, and Debian's chromium driven headless by playwright-core (`e2e/run.mjs`): open the
//! demo's connector, read its trust report, approve it, see the approval in the audit log. Screenshots of
//! every page land in `target/e2e-screenshots/`.
//!
//! Needs `node`, `/usr/bin/chromium` and `npm ci` in `crates/muster-web/e2e`; without them the test prints a
//! note and passes, unless `MUSTER_E2E_REQUIRED=1` (set by CI) makes a missing piece a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may unwrap

mod common;

use common::{DEMO, compile};
use muster_store::Store;
use muster_web::{AppState, FixedClock, ServeConfig};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const CHROMIUM: &str = "/usr/bin/chromium";
const VERIFIED_AT: &str = "2026-11-01T00:00:00Z";
const SERVER_NOW: &str = "2026-11-01T01:00:00Z";

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e")
}

fn missing() -> Option<String> {
    if Command::new("node").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        return Some("node is not installed (apt-get install -y nodejs npm)".into());
    }
    if !Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} is missing (apt-get install -y chromium)"));
    }
    if !e2e_dir().join("node_modules/playwright-core/package.json").exists() {
        return Some("playwright-core is not installed (cd crates/muster-web/e2e && npm ci)".into());
    }
    None
}

/// The demo store: an earlier draft version, then the demo connector (tested, passing), two syncs.
fn demo_store(db: &Path) {
    let server = muster_testkit::serve_demo(None).expect("demo API");
    let base = server.base_url();
    let pairs = [
        ("ACME_URL", base.clone()),
        ("ACME_USER", muster_testkit::DEMO_USER.to_string()),
        ("ACME_PASSWORD", muster_testkit::DEMO_PASSWORD.to_string()),
        ("ACME_ADMIN_TOKEN", muster_testkit::DEMO_ADMIN_TOKEN.to_string()),
    ];
    let env = move |n: &str| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
    let mut store = Store::open(db).unwrap();

    // The first draft guessed bearer auth and a slower rate limit.
    let draft = DEMO
        .replace(
            r#"auth: { type: basic, username: "${ACME_USER}", password: "${ACME_PASSWORD}" }"#,
            r#"auth: { type: bearer, token: "${ACME_TOKEN}" }"#,
        )
        .replace("per_second: 200", "per_second: 50")
        .replace("max_attempts: 5", "max_attempts: 3");
    assert_ne!(draft, DEMO);
    let c0 = compile(&draft);
    muster_govern::register(
        &mut store,
        &c0,
        &draft,
        "Dana Draft <dana@example.com>",
        "first draft",
        "2026-10-20T09:00:00Z",
    )
    .unwrap();
    let c = compile(DEMO);
    muster_govern::register(
        &mut store,
        &c,
        DEMO,
        "Dana Draft <dana@example.com>",
        "faster rate limit, more retries",
        "2026-10-31T09:00:00Z",
    )
    .unwrap();

    let mut openapi = muster_testkit::demo_openapi();
    if let Some(s) = openapi.pointer_mut("/servers/0/url") {
        *s = serde_json::Value::String(base.clone());
    }
    let opts = muster_verify::VerifyOptions { limit: None, openapi: Some(openapi), now: VERIFIED_AT.into() };
    let report = muster_verify::verify(&c, &env, &opts).expect("verify");
    assert!(report.passed, "the demo connector's trust report should pass: {:?}", report.checks);
    let json = serde_json::to_string(&report).unwrap();
    store
        .save_trust_report(
            &report.connector,
            &report.spec_hash,
            &report.base_url,
            &report.created_at,
            report.passed,
            report.score,
            &json,
        )
        .unwrap();

    let mut last = 0;
    for at in ["2026-10-31T10:00:00Z", "2026-10-31T22:00:00Z"] {
        let mut w = store.begin_sync(&c.name, &c.spec_hash, at).unwrap();
        let r = muster_engine::sync::run(&c, &env, &mut w, &Default::default(), &muster_engine::sync::Silent)
            .expect("sync");
        let info = w.finish(at).unwrap();
        store.save_sync_report(info.id, &serde_json::to_string(&r).unwrap()).unwrap();
        store
            .audit(at, "scheduler", "sync.end", &c.name, &serde_json::json!({ "sync": info.id, "status": "completed" }))
            .unwrap();
        last = info.id;
    }
    held_sync(&mut store, &c, last);
}

/// A third sync that lost ten users and many memberships: the drift guard holds it.
fn held_sync(store: &mut Store, c: &muster_spec::CompiledConnector, from: i64) {
    use muster_model::{Record, RecordSink as _};
    let gone = |id: &str| id >= "u0291" && id.starts_with('u');
    let mut recs: Vec<Record> = store.resource_types(from).unwrap().into_iter().map(Record::ResourceType).collect();
    recs.extend(store.resources(from, None).unwrap().into_iter().filter(|r| !gone(&r.id)).map(Record::Resource));
    recs.extend(store.entitlements(from, None).unwrap().into_iter().map(Record::Entitlement));
    recs.extend(
        store
            .grants(from, None)
            .unwrap()
            .into_iter()
            .filter(|g| {
                let dropped_membership = g.entitlement.slug == "member" && g.principal.id.ends_with(['1', '2', '3']);
                !(gone(&g.principal.id) || dropped_membership)
            })
            .map(Record::Grant),
    );
    let current = store.sync(from).unwrap().unwrap().counts;
    let at = "2026-11-01T00:30:00Z";
    let mut w = store.begin_sync(&c.name, &c.spec_hash, at).unwrap();
    w.write_batch(&recs).unwrap();
    let issues = muster_govern::drift::evaluate(&current, &w.counts().unwrap(), &c.drift);
    assert!(!issues.is_empty(), "the drift guard should hold this sync");
    let reason = issues.iter().map(|i| i.message.clone()).collect::<Vec<_>>().join("; ");
    let info = w.finish_held(at, &reason).unwrap();
    store
        .audit(at, "scheduler", "sync.hold", &c.name, &serde_json::json!({ "sync": info.id, "reason": reason }))
        .unwrap();
}

#[test]
fn browser_approves_the_demo_connector() {
    if let Some(why) = missing() {
        if std::env::var("MUSTER_E2E_REQUIRED").is_ok_and(|v| v == "1") {
            panic!("the browser test cannot run: {why}");
        }
        eprintln!("note: skipping the browser test: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("muster.db");
    demo_store(&db);

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut cfg = ServeConfig::new(&db);
    let now = chrono::DateTime::parse_from_rfc3339(SERVER_NOW).unwrap().with_timezone(&chrono::Utc);
    cfg.clock = Arc::new(FixedClock(now));
    cfg.check_bind(addr).unwrap();
    let state = AppState::open(cfg).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(muster_web::serve_on(listener, state, async {
        let _ = stopped.await;
    }));

    let out = Command::new("node")
        .arg("run.mjs")
        .current_dir(e2e_dir())
        .env("MUSTER_URL", format!("http://{addr}"))
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", CHROMIUM)
        .output()
        .expect("run node");
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the browser run failed (see above)");

    // What the browser did is what the CLI sees.
    let store = Store::open(&db).unwrap();
    let approved = store.approved("Acme Directory").unwrap().expect("approved");
    assert_eq!(approved.actor, "Erin Reviewer <erin@example.com>");
    assert_eq!(approved.comment, "Trust report reviewed: 300 users, auth probes pass.");
    let actions: Vec<(String, String)> =
        store.audit_entries().unwrap().into_iter().rev().take(2).map(|e| (e.action, e.actor)).collect();
    assert_eq!(
        actions,
        [
            ("sync.accept".to_string(), "Olga Ops <olga@example.com>".to_string()),
            ("approve".to_string(), "Erin Reviewer <erin@example.com>".to_string())
        ]
    );
    assert!(store.audit_verify().unwrap().is_none());
    let status = muster_govern::status(&store).unwrap();
    assert_eq!(status[0].state, "production");
    for name in ["01-connectors", "02-connector", "03-trust-report", "04-approved", "05-audit", "15-sync-accepted"] {
        assert!(shots.join(format!("{name}.png")).exists(), "{name}.png was not saved");
    }
}
