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
    assert!(stdout.contains("summary of sync #1"), "{stdout}");
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
