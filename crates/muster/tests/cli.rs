//! The `muster` binary as a user runs it: exit codes, output, and the demo end to end.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn muster(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn examples_pass_check_and_their_offline_tests() {
    let dir = root().join("examples");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "expected at least three examples, found {files:?}");
    let mut args = vec!["check", "--deny-warnings"];
    args.extend(files.iter().map(String::as_str));
    let out = muster(&args, &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut with_tests = 0;
    for f in &files {
        let out = muster(&["test", "--offline", f], &root());
        assert_eq!(out.status.code(), Some(0), "{f}: {}", text(&out));
        if !String::from_utf8_lossy(&out.stdout).contains("no `tests:` blocks") {
            with_tests += 1;
        }
    }
    assert!(with_tests >= 1);
}

#[test]
fn broken_example_gives_located_diagnostics_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(root().join("crates/muster-cli/assets/demo-connector.yaml")).unwrap();
    let broken = src
        .replace("items: items\n", "itmes: items\n")
        .replace("display_name: item.displayName", "display_name: item.displayName +")
        .replace("grantable_to: [user, group]", "grantable_to: [user, gruop]");
    std::fs::write(tmp.path().join("broken.yaml"), broken).unwrap();
    let out = muster(&["check", "broken.yaml"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("check_broken_demo", String::from_utf8_lossy(&out.stdout));
    let out = muster(&["check", "--format", "json", "broken.yaml"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: BTreeSet<&str> = v.as_array().unwrap().iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes, BTreeSet::from(["M0101", "M0201", "M0301"]));
    assert!(v[0]["span"]["line"].as_u64().unwrap() > 0);
}

#[test]
fn bad_files_exit_2_without_panicking() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bin.yaml"), [0u8, 159, 146, 150, 0, 1, 2]).unwrap();
    std::fs::write(tmp.path().join("big.yaml"), vec![b'a'; 5 * 1024 * 1024]).unwrap();
    std::fs::write(
        tmp.path().join("bomb.yaml"),
        "a: &a [x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b]\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("deep.yaml"), "a: ".to_string() + &"[".repeat(100_000)).unwrap();
    for f in ["bin.yaml", "big.yaml", "bomb.yaml", "deep.yaml", "missing.yaml"] {
        let out = muster(&["check", f], tmp.path());
        assert_eq!(out.status.code(), Some(2), "{f}: {}", text(&out));
        let t = text(&out);
        assert!(!t.contains("panicked"), "{f}: {t}");
        assert!(t.contains(f), "{f}: the message names the file: {t}");
    }
    let out = muster(&["sync", "--db", "x.db"], tmp.path());
    assert_eq!(out.status.code(), Some(2), "usage error");
}

#[test]
fn offline_test_failure_exits_3_with_a_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(root().join("crates/muster-cli/assets/demo-connector.yaml")).unwrap();
    let wrong = src.replace("{ id: u9, status: disabled,", "{ id: u9, status: enabled,");
    std::fs::write(tmp.path().join("c.yaml"), wrong).unwrap();
    let out = muster(&["test", "--offline", "c.yaml"], tmp.path());
    assert_eq!(out.status.code(), Some(3));
    insta::assert_snapshot!("offline_test_failure", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn demo_syncs_exactly_the_demo_data() {
    let tmp = tempfile::tempdir().unwrap();
    let out = muster(&["demo", "--quiet"], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("summary of sync #1 (trust score 100/100)"), "{stdout}");
    assert!(tmp.path().join("muster-demo/report.html").exists());
    for f in ["openapi.json", "connector.yaml", "muster.db"] {
        assert!(tmp.path().join("muster-demo").join(f).exists(), "{f}");
    }
    let truth = muster_testkit::demo_truth();
    let store = muster_store::Store::open(&tmp.path().join("muster-demo/muster.db")).unwrap();
    let sync = store.current_sync("Acme Directory").unwrap().unwrap();
    let users = store.resources(sync.id, Some("user")).unwrap();
    let ids: BTreeSet<String> = users.iter().map(|u| u.id.clone()).collect();
    assert_eq!(ids, truth.user_ids.iter().cloned().collect());
    let disabled: BTreeSet<String> =
        users.iter().filter(|u| u.status == muster_model::Status::Disabled).map(|u| u.id.clone()).collect();
    assert_eq!(disabled, truth.disabled_user_ids.iter().cloned().collect());
    let services: BTreeSet<String> = users
        .iter()
        .filter(|u| u.user.as_ref().and_then(|t| t.account_type) == Some(muster_model::AccountType::Service))
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(services, truth.service_account_ids.iter().cloned().collect());
    let grants = store.grants(sync.id, None).unwrap();
    let members: BTreeSet<(String, String)> = grants
        .iter()
        .filter(|g| g.entitlement.slug == "member")
        .map(|g| (g.entitlement.resource.id.clone(), g.principal.id.clone()))
        .collect();
    assert_eq!(members, truth.active_memberships.iter().cloned().collect(), "pending invitations are not grants");
    let roles: BTreeSet<(String, String, String)> = grants
        .iter()
        .filter(|g| g.entitlement.slug == "assigned")
        .map(|g| (g.entitlement.resource.id.clone(), g.principal.id.clone(), g.principal.resource_type.clone()))
        .collect();
    assert_eq!(
        roles,
        truth.role_assignments.iter().cloned().collect(),
        "roles across Link pages, with group principals"
    );
    let tokens = store.resources(sync.id, Some("api_token")).unwrap();
    assert_eq!(tokens.len(), truth.tokens.len());
    assert!(tokens.iter().all(|t| t.profile.get("token").is_none() && t.secret.is_some()));
    // inspect shows the demo's identities
    let out = muster(
        &["inspect", "resources", "--db", "muster-demo/muster.db", "--type", "user", "--format", "csv"],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), truth.user_count + 1);
    // a second sync and a diff with no changes
    let conn = tmp.path().join("muster-demo/connector.yaml");
    let _ = conn;
}

const GENERIC: &str = r#"
version: 1
app: { name: Generic, owner: t@example.com }
source: { http: { base_url: "${BASE}", retry: { max_attempts: 1 } } }
resource_types:
  user:
    traits: [user]
    list:
      request: { path: /users }
      items: items
      pagination: { type: offset, limit: 10, total: total }
      map: { id: item.id, display_name: item.name, user: { email: item.email } }
"#;

#[test]
fn killed_sync_is_abandoned_and_the_previous_snapshot_stays_current() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("c.yaml"), GENERIC).unwrap();
    let fast = muster_testkit::serve(muster_testkit::Scenario { users: 30, ..Default::default() }).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["sync", "c.yaml", "--db", "m.db", "--quiet"])
        .env("BASE", fast.base_url())
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A slow API: 400 users in pages of 10 at 200 ms each takes ~8 s; kill -9 it part-way.
    let slow =
        muster_testkit::serve(muster_testkit::Scenario { users: 400, latency_ms: 200, ..Default::default() }).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["sync", "c.yaml", "--db", "m.db", "--quiet"])
        .env("BASE", slow.base_url())
        .current_dir(tmp.path())
        .spawn()
        .unwrap();
    // Wait until the server has seen a few requests, so the sync is surely under way.
    for _ in 0..200 {
        if slow.request_count() >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(slow.request_count() >= 3, "the sync never started");
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    let out = muster(&["inspect", "syncs", "--db", "m.db", "--format", "json"], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("abandoned"), "{}", text(&out));
    let syncs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses: Vec<&str> = syncs.as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["abandoned", "completed"]);
    let store = muster_store::Store::open(&tmp.path().join("m.db")).unwrap();
    let cur = store.current_sync("Generic").unwrap().unwrap();
    assert_eq!(cur.id, 1);
    assert_eq!(store.resources(cur.id, Some("user")).unwrap().len(), 30);
}

#[test]
fn failed_sync_exits_1_and_keeps_the_previous_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("c.yaml"), GENERIC).unwrap();
    let ok = muster_testkit::serve(muster_testkit::Scenario { users: 25, ..Default::default() }).unwrap();
    let run = |base: &str| {
        Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(["sync", "c.yaml", "--db", "m.db", "--quiet"])
            .env("BASE", base)
            .current_dir(tmp.path())
            .output()
            .unwrap()
    };
    assert_eq!(run(&ok.base_url()).status.code(), Some(0));
    let broken = muster_testkit::serve(muster_testkit::Scenario {
        users: 25,
        faults: muster_testkit::Faults { malformed_json_at_request: Some(2), ..Default::default() },
        ..Default::default()
    })
    .unwrap();
    let out = run(&broken.base_url());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("user") && err.contains("previous snapshot (sync #1) stays current"), "{err}");
    // missing environment variable → configuration error, exit 2, naming the variable
    let out = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["sync", "c.yaml", "--db", "m.db", "--quiet"])
        .env_remove("BASE")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("BASE"), "{}", text(&out));
    let out = muster(&["diff", "--db", "m.db"], tmp.path());
    assert_eq!(out.status.code(), Some(2), "one completed sync: no diff yet\n{}", text(&out));
}
