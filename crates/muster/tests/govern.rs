//! Governance end to end through the binary: registry, approval rules, production gate, audit log
//! tamper detection, drift guard holds.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

const CONN: &str = r#"
version: 1
app: { name: Generic, owner: t@example.com }
source: { http: { base_url: "${BASE}" } }
resource_types:
  user:
    traits: [user]
    list:
      request: { path: /users }
      items: items
      pagination: { type: offset, limit: 20, total: total }
      map:
        id: item.id
        display_name: item.name
        status: "item.active ? 'enabled' : 'disabled'"
        user: { email: item.email, account_type: "'human'" }
"#;

fn run(dir: &Path, base: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .env("BASE", base)
        .env("MUSTER_USER", "Author <author@example.com>")
        .env_remove("MUSTER_FOUR_EYES")
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn hash_of(dir: &Path, base: &str) -> String {
    let out = run(dir, base, &["registry", "log", "Generic"]);
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

#[test]
fn approval_needs_a_passing_recent_report_and_binds_the_version() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("c.yaml"), CONN).unwrap();
    let api = muster_testkit::serve(muster_testkit::Scenario { users: 60, ..Default::default() }).unwrap();
    let base = api.base_url();
    assert_eq!(run(dir, &base, &["registry", "add", "c.yaml", "-m", "first"]).status.code(), Some(0));
    let h = hash_of(dir, &base);
    // untested → refused
    let out = run(dir, &base, &["approve", "Generic", "--version", &h, "--as", "Rev <rev@example.com>"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("never been tested"), "{}", text(&out));
    // a failed report → refused
    let bad = muster_testkit::serve(muster_testkit::Scenario {
        users: 60,
        auth: muster_testkit::Auth::Bearer { token: "x".into() },
        ..Default::default()
    })
    .unwrap();
    let out = run(dir, &bad.base_url(), &["test", "c.yaml"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let out = run(dir, &base, &["approve", "Generic", "--version", &h, "--as", "Rev <rev@example.com>"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("failed"), "{}", text(&out));
    // passing → four-eyes refuses the author, accepts a reviewer
    let out = run(dir, &base, &["test", "c.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out =
        run(dir, &base, &["approve", "Generic", "--version", &h, "--as", "Author <author@example.com>", "--four-eyes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("four-eyes"));
    let out = run(dir, &base, &["approve", "Generic", "--version", &h, "--as", "Rev <rev@example.com>", "--four-eyes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // a report older than the limit is refused (0 hours: any report is too old)
    let out = run(
        dir,
        &base,
        &["approve", "Generic", "--version", &h, "--as", "Rev <rev@example.com>", "--max-report-age-hours", "0"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("hours old"), "{}", text(&out));
    // production runs the approved version; an edited spec is refused with the diff
    let out = run(dir, &base, &["sync", "--approved", "Generic", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::fs::write(dir.join("c.yaml"), CONN.replace("limit: 20", "limit: 25")).unwrap();
    let out = run(dir, &base, &["sync", "c.yaml", "--approved", "Generic", "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("resource_types.user.list.pagination.limit: 20 → 25"), "{}", text(&out));
    // another base URL is refused too
    std::fs::write(dir.join("c.yaml"), CONN).unwrap();
    let other = muster_testkit::serve(muster_testkit::Scenario { users: 60, ..Default::default() }).unwrap();
    let out = run(dir, &other.base_url(), &["sync", "c.yaml", "--approved", "Generic", "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("was tested against"), "{}", text(&out));
    // rejection revokes the approval
    let out = run(
        dir,
        &base,
        &["reject", "Generic", "--version", &h, "--as", "Rev <rev@example.com>", "--reason", "wrong scope"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(dir, &base, &["sync", "--approved", "Generic", "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = run(dir, &base, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let log = String::from_utf8_lossy(&run(dir, &base, &["audit", "log"]).stdout).to_string();
    for action in
        ["registry.add", "test", "approve.refused", "approve", "sync.start", "sync.end", "sync.refused", "reject"]
    {
        assert!(log.contains(&format!(" {action} ")), "missing {action} in\n{log}");
    }
}

fn audited_store(dir: &Path) -> String {
    std::fs::write(dir.join("c.yaml"), CONN).unwrap();
    let api = muster_testkit::serve(muster_testkit::Scenario { users: 30, ..Default::default() }).unwrap();
    let base = api.base_url();
    for _ in 0..2 {
        assert_eq!(run(dir, &base, &["sync", "c.yaml", "-q"]).status.code(), Some(0));
    }
    assert_eq!(run(dir, &base, &["registry", "add", "c.yaml"]).status.code(), Some(0));
    base
}

#[test]
fn every_kind_of_audit_tampering_is_detected() {
    type Tamper = fn(&rusqlite::Connection);
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "edit",
            |c| {
                c.execute("UPDATE audit_log SET actor = 'Mallory' WHERE seq = 2", []).unwrap();
            },
            "#2",
        ),
        (
            "delete",
            |c| {
                c.execute("DELETE FROM audit_log WHERE seq = 3", []).unwrap();
            },
            "#3",
        ),
        (
            "insert",
            |c| {
                c.execute("UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3", []).unwrap();
                c.execute("INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) SELECT 3, at, actor, 'approve', subject, detail, hash, hash FROM audit_log WHERE seq = 2", []).unwrap();
                c.execute("UPDATE audit_log SET seq = seq - 99 WHERE seq >= 103", []).unwrap();
            },
            "#3",
        ),
        (
            "reorder",
            |c| {
                c.execute("UPDATE audit_log SET seq = -1 WHERE seq = 2", []).unwrap();
                c.execute("UPDATE audit_log SET seq = 2 WHERE seq = 3", []).unwrap();
                c.execute("UPDATE audit_log SET seq = 3 WHERE seq = -1", []).unwrap();
            },
            "#2",
        ),
        (
            "rewrite the last entry with a fresh hash but keep the chain",
            |c| {
                c.execute("UPDATE audit_log SET detail = '{}' WHERE seq = (SELECT MAX(seq) FROM audit_log)", [])
                    .unwrap();
            },
            "edited",
        ),
    ];
    for (name, tamper, expect) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let base = audited_store(tmp.path());
        let ok = run(tmp.path(), &base, &["audit", "verify"]);
        assert_eq!(ok.status.code(), Some(0), "{name}: {}", text(&ok));
        {
            let conn = rusqlite::Connection::open(tmp.path().join("muster.db")).unwrap();
            tamper(&conn);
        }
        let out = run(tmp.path(), &base, &["audit", "verify"]);
        assert_eq!(out.status.code(), Some(1), "{name}: tampering not detected: {}", text(&out));
        assert!(text(&out).contains("TAMPERED") && text(&out).contains(expect), "{name}: {}", text(&out));
    }
}

#[test]
fn a_sync_that_drops_30_percent_is_held_until_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("c.yaml"), CONN).unwrap();
    let full = muster_testkit::serve(muster_testkit::Scenario { users: 100, ..Default::default() }).unwrap();
    assert_eq!(run(dir, &full.base_url(), &["sync", "c.yaml", "-q"]).status.code(), Some(0));
    let dropped = muster_testkit::serve(muster_testkit::Scenario {
        users: 100,
        faults: muster_testkit::Faults { drop_users_percent: 30, ..Default::default() },
        ..Default::default()
    })
    .unwrap();
    let out = run(dir, &dropped.base_url(), &["sync", "c.yaml", "-q"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("user: 30 of 100 (30%) would be removed"), "{}", text(&out));
    let store = muster_store::Store::open(&dir.join("muster.db")).unwrap();
    assert_eq!(store.current_sync("Generic").unwrap().unwrap().id, 1, "the previous snapshot stays current");
    assert_eq!(store.sync(2).unwrap().unwrap().status, muster_store::SyncStatus::Held);
    drop(store);
    let status = String::from_utf8_lossy(&run(dir, "", &["status"]).stdout).to_string();
    assert!(status.contains("held") && status.contains("#2"), "{status}");
    let out = run(dir, "", &["sync", "accept", "2", "--as", "Rev <rev@example.com>", "--comment", "contractors left"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let store = muster_store::Store::open(&dir.join("muster.db")).unwrap();
    assert_eq!(store.current_sync("Generic").unwrap().unwrap().id, 2);
    let audit = store.audit_entries().unwrap();
    assert!(audit.iter().any(|e| e.action == "sync.hold"));
    assert!(audit.iter().any(|e| e.action == "sync.accept" && e.actor == "Rev <rev@example.com>"));
    assert!(store.audit_verify().unwrap().is_none());
    // accepting a sync that is not held is refused
    let out = run(dir, "", &["sync", "accept", "1", "--as", "Rev <rev@example.com>"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
