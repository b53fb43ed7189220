//! `muster test` against the testkit's trap API: with each trap switched on, a naive connector (what a
//! hurried person or a drafter would write) fails with the named check, and the correct connector passes.
//! No timing assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read as _, Write as _};

use muster_spec::CompiledConnector;
use muster_testkit::{TRAPS_PASSWORD, TRAPS_USER, TestServer, Traps, serve_traps};
use muster_verify::{Status, TrustReport, VerifyOptions};

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

const NOW: &str = "2026-11-26T00:00:00Z";

const BASIC_AUTH: &str = r#"    auth: { type: basic, username: "${T_USER}", password: "${T_PASS}" }
"#;

/// The correct user mapping: id from `item.id`, status kept, email optional.
const USER_MAP: &str = r#"      map:
        id: item.id
        display_name: item.name
        status: "item.active ? 'enabled' : 'disabled'"
        user: { email: item.email, login: item.id, account_type: "'human'" }
"#;

/// A connector with `auth` (a block of `source.http` lines, or empty) and the `resource_types` body.
fn connector(name: &str, auth: &str, resource_types: &str) -> String {
    format!(
        "version: 1\napp: {{ name: {name}, owner: iam@example.com }}\nsource:\n  http:\n    base_url: \"${{BASE}}\"\n{auth}resource_types:\n{resource_types}"
    )
}

/// A `user` resource type: `list_head` are the `list:` lines before `map:` (request, items, pagination,
/// skip_if), `map` the map block.
fn user_type(list_head: &str, map: &str) -> String {
    format!("  user:\n    traits: [user]\n    list:\n{list_head}{map}")
}

/// The well-behaved paginated `/users` listing.
const USERS_PAGED: &str = r#"      request: { path: /users }
      items: items
      pagination: { type: offset, limit: 50, total: total }
"#;

fn compile(yaml: &str) -> CompiledConnector {
    let checked = muster_spec::check(yaml, "x.yaml");
    match checked.connector {
        Some(c) => c,
        None => panic!("the connector does not compile: {:#?}\n---\n{yaml}", checked.diagnostics),
    }
}

/// `GET /openapi.json` with a plain TCP request (no client library).
fn fetch_openapi(server: &TestServer) -> serde_json::Value {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    write!(s, "GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", server.port()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "GET /openapi.json: {head}");
    serde_json::from_str(body).unwrap()
}

/// Runs `muster test` (full, with the server's OpenAPI document) on `yaml` against `server`.
fn run_on(server: &TestServer, yaml: &str) -> TrustReport {
    let compiled = compile(yaml);
    let base = server.base_url();
    let env = move |k: &str| -> Option<String> {
        match k {
            "BASE" => Some(base.clone()),
            "T_USER" => Some(TRAPS_USER.to_string()),
            "T_PASS" => Some(TRAPS_PASSWORD.to_string()),
            _ => None,
        }
    };
    let opts = VerifyOptions { limit: None, openapi: Some(fetch_openapi(server)), now: NOW.into() };
    muster_verify::verify(&compiled, &env, &opts).unwrap()
}

fn run(traps: Traps, yaml: &str) -> TrustReport {
    let server = serve_traps(traps).unwrap();
    run_on(&server, yaml)
}

fn describe(r: &TrustReport) -> String {
    let mut out = format!("passed={} score={}\n", r.passed, r.score);
    for c in &r.checks {
        out.push_str(&format!("  [{}] {}: {}\n", c.status.as_str(), c.name, c.summary));
        for e in &c.evidence {
            out.push_str(&format!("      {e}\n"));
        }
    }
    out
}

/// The report failed, and the check named `name` is among the failures.
fn assert_fails_with(r: &TrustReport, name: &str) {
    assert!(!r.passed, "expected the naive connector to fail, got:\n{}", describe(r));
    let check = r.checks.iter().find(|c| c.name == name);
    match check {
        Some(c) => assert_eq!(c.status, Status::Fail, "check `{name}` should fail:\n{}", describe(r)),
        None => panic!("no check named `{name}` in the report:\n{}", describe(r)),
    }
}

fn assert_passes(r: &TrustReport) {
    assert!(r.passed, "expected the correct connector to pass, got:\n{}", describe(r));
    assert!(r.checks.iter().all(|c| c.status != Status::Fail), "{}", describe(r));
}

fn check<'r>(r: &'r TrustReport, name: &str) -> &'r muster_verify::Check {
    r.checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no check `{name}`:\n{}", describe(r)))
}

// ---------------------------------------------------------------------------------------------------------
// The testkit server itself
// ---------------------------------------------------------------------------------------------------------

#[test]
fn openapi_document_documents_the_scoping_parameter() {
    let server = serve_traps(Traps::default()).unwrap();
    let doc = fetch_openapi(&server);
    assert_eq!(doc, muster_testkit::traps_openapi(&server.base_url()));
    let params = doc.pointer("/paths/~1users/get/parameters").and_then(|p| p.as_array()).unwrap();
    let status = params.iter().find(|p| p["name"] == "status").unwrap();
    assert_eq!(status["schema"]["enum"], serde_json::json!(["active", "all"]));
    assert!(doc.pointer("/components/securitySchemes/basic").is_some());
}

#[test]
fn well_behaved_api_gives_the_exact_data() {
    let yaml =
        connector("traps-baseline", BASIC_AUTH, &(user_type(USERS_PAGED, USER_MAP) + GROUP_TYPE_SKIPPING_PENDING));
    let r = run(Traps::default(), &yaml);
    assert_passes(&r);
    assert_eq!(r.counts.get("user"), Some(&(muster_testkit::traps_user_ids().len() as u64)));
    assert_eq!(r.counts.get("group"), Some(&(muster_testkit::traps_group_ids().len() as u64)));
    assert_eq!(r.counts.get("grants"), Some(&(muster_testkit::traps_active_memberships().len() as u64)));
}

// ---------------------------------------------------------------------------------------------------------
// Trap 1: a scoping parameter hides a subset (inactive users unless `status=all`)
// ---------------------------------------------------------------------------------------------------------

fn scope_traps() -> Traps {
    Traps { scope_hides_inactive: true, ..Traps::default() }
}

#[test]
fn trap_scope_naive_fails_under_sync_probes() {
    let yaml = connector("traps-scope-naive", BASIC_AUTH, &user_type(USERS_PAGED, USER_MAP));
    let r = run(scope_traps(), &yaml);
    assert_fails_with(&r, "under-sync probes");
    assert_eq!(r.counts.get("user"), Some(&108), "{}", describe(&r));
}

#[test]
fn trap_scope_correct_passes() {
    let head = r#"      request: { path: /users, query: { status: all } }
      items: items
      pagination: { type: offset, limit: 50, total: total }
"#;
    let yaml = connector("traps-scope-correct", BASIC_AUTH, &user_type(head, USER_MAP));
    let r = run(scope_traps(), &yaml);
    assert_passes(&r);
    assert_eq!(r.counts.get("user"), Some(&120));
}

// ---------------------------------------------------------------------------------------------------------
// Trap 2: pending memberships (invitations) returned as members
// ---------------------------------------------------------------------------------------------------------

const GROUP_TYPE_NAIVE: &str = r#"  group:
    traits: [group]
    list:
      request: { path: /groups }
      items: items
      pagination: { type: offset, limit: 50, total: total }
      map: { id: item.id, display_name: item.name }
    entitlements:
      - id: member
        grantable_to: [user]
        grants:
          request: { path: "/groups/{resource.id}/members" }
          items: items
          pagination: { type: offset, limit: 50, total: total }
          map: { principal: { type: user, id: item.user_id } }
"#;

const GROUP_TYPE_SKIPPING_PENDING: &str = r#"  group:
    traits: [group]
    list:
      request: { path: /groups }
      items: items
      pagination: { type: offset, limit: 50, total: total }
      map: { id: item.id, display_name: item.name }
    entitlements:
      - id: member
        grantable_to: [user]
        grants:
          request: { path: "/groups/{resource.id}/members" }
          items: items
          pagination: { type: offset, limit: 50, total: total }
          skip_if: "item.state == 'pending'"
          map: { principal: { type: user, id: item.user_id } }
"#;

fn pending_traps() -> Traps {
    Traps { pending_members: true, ..Traps::default() }
}

#[test]
fn trap_pending_members_naive_fails_integrity() {
    let yaml = connector("traps-pending-naive", BASIC_AUTH, &(user_type(USERS_PAGED, USER_MAP) + GROUP_TYPE_NAIVE));
    let r = run(pending_traps(), &yaml);
    let with_pending =
        muster_testkit::traps_active_memberships().len() + muster_testkit::traps_pending_memberships().len();
    assert_eq!(r.counts.get("grants"), Some(&(with_pending as u64)), "{}", describe(&r));
    assert_fails_with(&r, "integrity");
}

#[test]
fn trap_pending_members_correct_passes() {
    let yaml = connector(
        "traps-pending-correct",
        BASIC_AUTH,
        &(user_type(USERS_PAGED, USER_MAP) + GROUP_TYPE_SKIPPING_PENDING),
    );
    let r = run(pending_traps(), &yaml);
    assert_passes(&r);
    assert_eq!(r.counts.get("grants"), Some(&(muster_testkit::traps_active_memberships().len() as u64)));
}

// ---------------------------------------------------------------------------------------------------------
// Trap 3: nullable emails
// ---------------------------------------------------------------------------------------------------------

fn null_email_traps() -> Traps {
    Traps { null_emails: true, ..Traps::default() }
}

#[test]
fn trap_null_emails_naive_fails_sync() {
    let map = r#"      map:
        id: item.email
        display_name: item.name
        status: "item.active ? 'enabled' : 'disabled'"
        user: { email: item.email, account_type: "'human'" }
"#;
    let yaml = connector("traps-null-email-naive", BASIC_AUTH, &user_type(USERS_PAGED, map));
    let r = run(null_email_traps(), &yaml);
    assert_fails_with(&r, "sync");
    let summary = check(&r, "sync").summary.to_lowercase();
    assert!(summary.contains("null"), "the sync failure should name the null id: {summary}");
}

#[test]
fn trap_null_emails_correct_passes() {
    let yaml = connector("traps-null-email-correct", BASIC_AUTH, &user_type(USERS_PAGED, USER_MAP));
    let r = run(null_email_traps(), &yaml);
    assert_passes(&r);
    assert_eq!(r.counts.get("user"), Some(&120));
    // Coverage notes that email is not always set, without failing.
    let cov = check(&r, "field coverage");
    assert!(cov.evidence.iter().any(|e| e.contains("email") && !e.contains("100%")), "{}", describe(&r));
}

// ---------------------------------------------------------------------------------------------------------
// Trap 4: a disabled user (dropped by a naive `skip_if`)
// ---------------------------------------------------------------------------------------------------------

#[test]
fn trap_disabled_user_naive_fails_status_check() {
    let head = r#"      request: { path: /users }
      items: items
      pagination: { type: offset, limit: 50, total: total }
      skip_if: "!item.active"
"#;
    let yaml = connector("traps-disabled-naive", BASIC_AUTH, &user_type(head, USER_MAP));
    let r = run(Traps::default(), &yaml);
    assert_fails_with(&r, "status and NHI");
}

#[test]
fn trap_disabled_user_correct_passes() {
    let yaml = connector("traps-disabled-correct", BASIC_AUTH, &user_type(USERS_PAGED, USER_MAP));
    let r = run(Traps::default(), &yaml);
    assert_passes(&r);
    let inactive = muster_testkit::traps_inactive_user_ids().len();
    let status = check(&r, "status and NHI");
    assert!(
        status.evidence.iter().any(|e| e.contains(&format!("{inactive} of 120 accounts not enabled"))),
        "{}",
        describe(&r)
    );
}

// ---------------------------------------------------------------------------------------------------------
// Trap 5: page size silently clamped (to 37, no total in the body)
// ---------------------------------------------------------------------------------------------------------

fn clamp_traps() -> Traps {
    Traps { clamp_page: Some(37), ..Traps::default() }
}

#[test]
fn trap_clamped_page_naive_fails_completeness() {
    let head = r#"      request: { path: /users }
      items: items
      pagination: { type: offset, limit: 100 }
"#;
    let yaml = connector("traps-clamp-naive", BASIC_AUTH, &user_type(head, USER_MAP));
    let r = run(clamp_traps(), &yaml);
    assert_fails_with(&r, "completeness");
}

#[test]
fn trap_clamped_page_correct_passes() {
    let head = r#"      request: { path: /users }
      items: items
      pagination: { type: offset, limit: 37 }
"#;
    let yaml = connector("traps-clamp-correct", BASIC_AUTH, &user_type(head, USER_MAP));
    let r = run(clamp_traps(), &yaml);
    assert_passes(&r);
    assert_eq!(r.counts.get("user"), Some(&120));
}

// ---------------------------------------------------------------------------------------------------------
// Trap 6: a bare array capped at 100 without any pagination hint
// ---------------------------------------------------------------------------------------------------------

fn cap_traps() -> Traps {
    Traps { cap_unpaginated: Some(100), ..Traps::default() }
}

#[test]
fn trap_capped_bare_array_naive_fails_completeness() {
    let head = "      request: { path: /users/all }\n";
    let yaml = connector("traps-cap-naive", BASIC_AUTH, &user_type(head, USER_MAP));
    let r = run(cap_traps(), &yaml);
    assert_eq!(r.counts.get("user"), Some(&100), "{}", describe(&r));
    assert_fails_with(&r, "completeness");
}

#[test]
fn trap_capped_bare_array_correct_passes() {
    let yaml = connector("traps-cap-correct", BASIC_AUTH, &user_type(USERS_PAGED, USER_MAP));
    let r = run(cap_traps(), &yaml);
    assert_passes(&r);
    assert_eq!(r.counts.get("user"), Some(&120));
}

// ---------------------------------------------------------------------------------------------------------
// Trap 7: an anonymous request returns a public subset
// ---------------------------------------------------------------------------------------------------------

fn anonymous_traps() -> Traps {
    Traps { anonymous_subset: true, ..Traps::default() }
}

#[test]
fn trap_anonymous_subset_naive_fails_auth() {
    let yaml = connector("traps-anonymous-naive", "", &user_type(USERS_PAGED, USER_MAP));
    let r = run(anonymous_traps(), &yaml);
    assert_eq!(r.counts.get("user"), Some(&(muster_testkit::ANONYMOUS_SUBSET as u64)), "{}", describe(&r));
    assert_fails_with(&r, "auth");
}

#[test]
fn trap_anonymous_subset_correct_passes() {
    let yaml = connector("traps-anonymous-correct", BASIC_AUTH, &user_type(USERS_PAGED, USER_MAP));
    let r = run(anonymous_traps(), &yaml);
    assert_passes(&r);
    assert_eq!(r.counts.get("user"), Some(&120));
}

// ---------------------------------------------------------------------------------------------------------
// The report: HTML, JSON, no secrets
// ---------------------------------------------------------------------------------------------------------

fn assert_report_artifacts(r: &TrustReport) {
    let html = muster_verify::html::render(r);
    assert!(html.contains(&r.connector), "the HTML should name the connector `{}`", r.connector);
    for c in &r.checks {
        assert!(html.contains(&c.name), "the HTML should show the check `{}`", c.name);
    }
    let json = serde_json::to_string(r).unwrap();
    let back: TrustReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back.connector, r.connector);
    assert_eq!(back.passed, r.passed);
    assert_eq!(back.score, r.score);
    assert_eq!(back.spec_hash, r.spec_hash);
    assert_eq!(back.checks.len(), r.checks.len());
    for (a, b) in back.checks.iter().zip(&r.checks) {
        assert_eq!((&a.name, a.status, &a.summary, &a.evidence), (&b.name, b.status, &b.summary, &b.evidence));
    }
    assert_eq!(back.counts, r.counts);
    assert_eq!(back.request_log.len(), r.request_log.len());
    // Compared as values parsed by the same parser: serde_json (without `float_roundtrip`) may change the
    // last digit of a float such as `duration_ms` on the way back.
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), parsed, "the JSON round-trips unchanged");
    for text in [&json, &html] {
        assert!(!text.contains(TRAPS_PASSWORD), "the report leaks the password");
    }
}

#[test]
fn report_html_and_json_of_a_passing_run() {
    let yaml =
        connector("traps-report-pass", BASIC_AUTH, &(user_type(USERS_PAGED, USER_MAP) + GROUP_TYPE_SKIPPING_PENDING));
    let r = run(Traps { pending_members: true, null_emails: true, anonymous_subset: true, ..Traps::default() }, &yaml);
    assert_passes(&r);
    assert!(!r.request_log.is_empty());
    assert_report_artifacts(&r);
}

#[test]
fn report_html_and_json_of_a_failing_run() {
    let head = r#"      request: { path: /users }
      items: items
      pagination: { type: offset, limit: 50, total: total }
      skip_if: "!item.active"
"#;
    let yaml = connector("traps-report-fail", BASIC_AUTH, &(user_type(head, USER_MAP) + GROUP_TYPE_NAIVE));
    let r = run(Traps { scope_hides_inactive: true, pending_members: true, ..Traps::default() }, &yaml);
    assert!(!r.passed, "{}", describe(&r));
    assert_report_artifacts(&r);
}

#[test]
fn report_of_a_failed_first_sync_renders() {
    let map = r#"      map:
        id: item.email
        user: { email: item.email }
"#;
    let yaml = connector("traps-report-sync-fail", BASIC_AUTH, &user_type(USERS_PAGED, map));
    let r = run(null_email_traps(), &yaml);
    assert!(!r.passed, "{}", describe(&r));
    assert_report_artifacts(&r);
}
