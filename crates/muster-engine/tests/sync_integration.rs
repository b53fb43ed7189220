//! End-to-end tests of the sync engine against the testkit's generic API, into a SQLite store in a
//! temporary directory: every pagination style, every auth style, fault injection, rate and concurrency
//! limits, mapping errors and secret redaction. No timing assertions: only counts and ids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use muster_engine::sync::EngineError;
use muster_http::HttpError;
use muster_store::SyncStatus;
use muster_testkit::{Faults, Pagination, RetryAfter, Scenario, scenario_truth};

// ---------------------------------------------------------------------------------------------------------
// 1. Pagination styles
// ---------------------------------------------------------------------------------------------------------

/// Sync `spec` against a server for `sc`; the snapshot holds exactly the scenario's data. Returns the
/// number of `GET /users` requests the server saw.
fn full_sync_is_exact(sc: Scenario, spec: Spec) -> usize {
    let truth = scenario_truth(&sc);
    let server = serve(sc);
    let env = Env::for_server(&server);
    let mut ts = temp_store();
    let (info, report) = sync_into(&mut ts.store, &spec.compile(), &env).done();
    assert_eq!(info.status, SyncStatus::Completed);
    assert_eq!(ts.store.current_sync(NAME).unwrap().map(|s| s.id), Some(info.id));
    assert_exact(&ts.store, info.id, &truth);
    assert_eq!(report.records(), truth.users + truth.groups + truth.memberships);
    data_requests(&server, "/users")
}

/// Page size 25 over 120 users (5 pages, the last one short), 6 groups (one page) and 10 members per
/// group (one page) — and page size 4 so members need several pages too.
fn pagination_case(p: Pagination) {
    let user_pages = full_sync_is_exact(scenario(p), Spec::new(p, 25));
    if p == Pagination::None {
        assert_eq!(user_pages, 1);
    } else {
        assert!(user_pages >= 5, "{p:?}: expected several pages of users, the server saw {user_pages}");
    }
    let sc = Scenario { users: 30, groups: 3, members_per_group: 10, ..scenario(p) };
    let user_pages = full_sync_is_exact(sc, Spec::new(p, 4));
    if p != Pagination::None {
        assert!(user_pages >= 8, "{p:?}: expected 8 pages of 4 users, the server saw {user_pages}");
    }
}

/// The server clamps page sizes to 20; the connector asks for 50.
fn clamped_case(p: Pagination) {
    let sc = Scenario { max_page_size: 20, default_page_size: 20, ..scenario(p) };
    let user_pages = full_sync_is_exact(sc, Spec::new(p, 50));
    if p != Pagination::None {
        assert!(user_pages >= 6, "{p:?}: 120 users in pages of 20 need 6 requests, the server saw {user_pages}");
    }
}

macro_rules! pagination_tests {
    ($($name:ident, $clamped:ident => $style:ident;)*) => {$(
        #[test]
        fn $name() {
            pagination_case(Pagination::$style);
        }
        #[test]
        fn $clamped() {
            clamped_case(Pagination::$style);
        }
    )*};
}

pagination_tests! {
    pagination_none, pagination_none_clamped => None;
    pagination_offset, pagination_offset_clamped => Offset;
    pagination_page, pagination_page_clamped => Page;
    pagination_cursor_body, pagination_cursor_body_clamped => CursorBody;
    pagination_cursor_header, pagination_cursor_header_clamped => CursorHeader;
    pagination_next_link_absolute, pagination_next_link_absolute_clamped => NextLinkAbsolute;
    pagination_next_link_relative, pagination_next_link_relative_clamped => NextLinkRelative;
    pagination_link_header, pagination_link_header_clamped => LinkHeader;
    pagination_scim, pagination_scim_clamped => Scim;
}

/// Offset paging without a total stops on the first short page. When the server clamps the page size
/// below the requested limit, every page is "short": the sync completes with only the first page.
#[test]
fn pagination_offset_without_total_survives_clamping() {
    let sc = Scenario { max_page_size: 20, default_page_size: 20, ..scenario(Pagination::Offset) };
    let mut spec = Spec::new(Pagination::Offset, 50);
    spec.use_total = false;
    full_sync_is_exact(sc, spec);
}

/// muster-http's SCIM pagination defaults the items path to `Resources` (paginate.rs `SCIM_ITEMS`), and
/// the pager counts and stops by it, but the engine maps rows with the spec's own `items` (None), so a
/// SCIM listing without `items:` fails on page 1.
#[test]
fn pagination_scim_without_items_uses_resources_default() {
    let mut spec = Spec::new(Pagination::Scim, 25);
    spec.scim_items_default = true;
    full_sync_is_exact(scenario(Pagination::Scim), spec);
}

#[test]
fn pagination_all_styles_are_covered() {
    // Guard: a new testkit style must get a test above.
    assert_eq!(Pagination::ALL.len(), 9);
}

// ---------------------------------------------------------------------------------------------------------
// 2. Auth styles
// ---------------------------------------------------------------------------------------------------------

fn auth_sync(style: AuthStyle, p: Pagination) -> muster_testkit::TestServer {
    let sc = Scenario { auth: style.server_auth(), ..scenario(p) };
    let truth = scenario_truth(&sc);
    let server = serve(sc);
    let env = Env::for_server(&server);
    let mut ts = temp_store();
    let (info, _) = sync_into(&mut ts.store, &Spec::new(p, 25).auth(style).compile(), &env).done();
    assert_exact(&ts.store, info.id, &truth);
    let denied: Vec<_> = server.requests().into_iter().filter(|r| r.status == 401).collect();
    assert!(denied.is_empty(), "{style:?}: requests were refused: {denied:?}");
    server
}

#[test]
fn auth_basic() {
    auth_sync(AuthStyle::Basic, Pagination::Offset);
}

#[test]
fn auth_bearer() {
    auth_sync(AuthStyle::Bearer, Pagination::CursorBody);
}

#[test]
fn auth_api_key_header_with_prefix() {
    auth_sync(AuthStyle::ApiKeyHeader, Pagination::Page);
}

/// The key must be re-added to every next link (the testkit never repeats it).
#[test]
fn auth_api_key_query_with_next_links() {
    for p in [Pagination::NextLinkAbsolute, Pagination::NextLinkRelative, Pagination::LinkHeader, Pagination::Offset] {
        auth_sync(AuthStyle::ApiKeyQuery, p);
    }
}

#[test]
fn auth_oauth2_client_credentials_fetches_one_token() {
    let server = auth_sync(AuthStyle::OAuth2ClientCredentials, Pagination::Offset);
    let data = data_requests(&server, "/");
    assert!(data >= 12, "expected many data requests, saw {data}");
    assert_eq!(token_requests(&server, "/oauth/token"), 1, "one token for {data} requests");
}

#[test]
fn auth_oauth2_client_credentials_in_body() {
    let server = auth_sync(AuthStyle::OAuth2ClientCredentialsBody, Pagination::Scim);
    assert_eq!(token_requests(&server, "/oauth/token"), 1);
}

#[test]
fn auth_oauth2_password() {
    let server = auth_sync(AuthStyle::OAuth2Password, Pagination::LinkHeader);
    assert_eq!(token_requests(&server, "/oauth/token"), 1);
}

#[test]
fn auth_login() {
    let server = auth_sync(AuthStyle::Login, Pagination::CursorHeader);
    assert_eq!(token_requests(&server, "/login"), 1);
}

/// A good sync, then one with `bad_var` set to a wrong value into the same store: it fails with an auth
/// error, the good snapshot stays current, and no secret (right or wrong) appears in the error.
fn wrong_credentials(style: AuthStyle, bad_var: &str) {
    const WRONG: &str = "wrong-Secret-9x8y7z";
    let p = Pagination::Offset;
    let sc = Scenario { auth: style.server_auth(), ..scenario(p) };
    let truth = scenario_truth(&sc);
    let server = serve(sc);
    let env = Env::for_server(&server);
    let c = Spec::new(p, 25).auth(style).compile();
    let mut ts = temp_store();
    let (good, _) = sync_into(&mut ts.store, &c, &env).done();

    let (failed, err) = sync_into(&mut ts.store, &c, &env.with(bad_var, WRONG)).failed();
    match &err {
        EngineError::Http(h) => assert!(h.is_auth(), "{style:?}: expected an auth error, got {err}\n{err:?}"),
        other => panic!("{style:?}: expected an HTTP auth error, got {other}\n{other:?}"),
    }
    assert_previous_current(&ts.store, good.id, failed, &truth);

    // 7. Secrets never leak.
    let display = err.to_string();
    let debug = format!("{err:?}");
    let stored = ts.store.sync(failed).unwrap().unwrap().error.unwrap_or_default();
    let mut secrets = style.secrets();
    secrets.push(WRONG);
    for s in secrets {
        for (what, text) in [("Display", &display), ("Debug", &debug), ("stored error", &stored)] {
            assert!(!text.contains(s), "{style:?}: the {what} of the error holds the secret {s:?}:\n{text}");
        }
    }
}

#[test]
fn auth_wrong_basic_password_keeps_previous_snapshot() {
    wrong_credentials(AuthStyle::Basic, "T_PASSWORD");
}

#[test]
fn auth_wrong_bearer_token_keeps_previous_snapshot() {
    wrong_credentials(AuthStyle::Bearer, "T_TOKEN");
}

#[test]
fn auth_wrong_api_key_header_keeps_previous_snapshot() {
    wrong_credentials(AuthStyle::ApiKeyHeader, "T_API_KEY");
}

#[test]
fn auth_wrong_api_key_query_keeps_previous_snapshot() {
    wrong_credentials(AuthStyle::ApiKeyQuery, "T_API_KEY");
}

#[test]
fn auth_wrong_client_secret_keeps_previous_snapshot() {
    wrong_credentials(AuthStyle::OAuth2ClientCredentials, "T_CLIENT_SECRET");
}

#[test]
fn auth_wrong_oauth2_password_keeps_previous_snapshot() {
    wrong_credentials(AuthStyle::OAuth2Password, "T_PASSWORD");
}

#[test]
fn auth_wrong_login_password_keeps_previous_snapshot() {
    wrong_credentials(AuthStyle::Login, "T_PASSWORD");
}

/// A missing environment variable is a configuration error (exit code 2), not an HTTP one.
#[test]
fn auth_missing_env_var_is_a_config_error() {
    let server = serve(scenario(Pagination::Offset));
    let mut env = Env::for_server(&server);
    env.0.remove("T_PASSWORD");
    let mut ts = temp_store();
    let (_, err) =
        sync_into(&mut ts.store, &Spec::new(Pagination::Offset, 25).auth(AuthStyle::Basic).compile(), &env).failed();
    assert!(err.is_config(), "{err}");
    assert!(err.to_string().contains("T_PASSWORD"), "{err}");
    assert_eq!(server.request_count(), 0);
}

// ---------------------------------------------------------------------------------------------------------
// 3. Faults
// ---------------------------------------------------------------------------------------------------------

/// A server with `faults` (else the default scenario in `p`); a first, clean sync into the store comes from
/// a clean server so a "previous snapshot" exists.
struct FaultRun {
    store: TempStore,
    good: i64,
    truth: muster_testkit::ScenarioTruth,
    server: muster_testkit::TestServer,
    env: Env,
}

fn with_previous_snapshot(sc: Scenario, spec: &Spec) -> FaultRun {
    let clean = Scenario { faults: Faults::default(), ..sc.clone() };
    let truth = scenario_truth(&clean);
    let clean_server = serve(clean);
    let mut store = temp_store();
    let (good, _) = sync_into(&mut store.store, &spec.compile(), &Env::for_server(&clean_server)).done();
    drop(clean_server);
    let server = serve(sc);
    let env = Env::for_server(&server);
    FaultRun { store, good: good.id, truth, server, env }
}

#[test]
fn fault_429_retry_after_seconds_completes_exactly() {
    let sc = Scenario {
        faults: Faults { rate_limit_429_first_n: 1, retry_after: RetryAfter::Seconds(1), ..Default::default() },
        ..scenario(Pagination::Offset)
    };
    let truth = scenario_truth(&sc);
    let server = serve(sc);
    let mut ts = temp_store();
    let (info, report) =
        sync_into(&mut ts.store, &Spec::new(Pagination::Offset, 25).compile(), &Env::for_server(&server)).done();
    assert_exact(&ts.store, info.id, &truth);
    assert!(report.retries >= 1, "{report:?}");
    assert_eq!(server.requests().iter().filter(|r| r.status == 429).count(), 1);
}

#[test]
fn fault_429_retry_after_http_date_completes_exactly() {
    let sc = Scenario {
        faults: Faults {
            rate_limit_429_first_n: 2,
            retry_after: RetryAfter::HttpDate { after_s: 1 },
            ..Default::default()
        },
        ..scenario(Pagination::CursorBody)
    };
    let truth = scenario_truth(&sc);
    let server = serve(sc);
    let mut ts = temp_store();
    let (info, report) =
        sync_into(&mut ts.store, &Spec::new(Pagination::CursorBody, 25).compile(), &Env::for_server(&server)).done();
    assert_exact(&ts.store, info.id, &truth);
    assert!(report.retries >= 2, "{report:?}");
    assert_eq!(server.requests().iter().filter(|r| r.status == 429).count(), 2);
}

const RETRY_500: &str = "{ max_attempts: 5, backoff_ms: 10, max_backoff_ms: 50, statuses: [429, 500, 502, 503, 504] }";

#[test]
fn fault_short_500_burst_completes_exactly() {
    // Requests 3, 4, 5 fail; the third retry of request 3 succeeds (4 attempts of 5).
    let sc = Scenario {
        faults: Faults { error_500_burst: Some((3, 3)), ..Default::default() },
        ..scenario(Pagination::Offset)
    };
    let truth = scenario_truth(&sc);
    let server = serve(sc);
    let mut ts = temp_store();
    let spec = Spec::new(Pagination::Offset, 25).retry(RETRY_500);
    let (info, report) = sync_into(&mut ts.store, &spec.compile(), &Env::for_server(&server)).done();
    assert_exact(&ts.store, info.id, &truth);
    assert_eq!(report.retries, 3, "{report:?}");
    assert_eq!(server.requests().iter().filter(|r| r.status == 500).count(), 3);
}

#[test]
fn fault_500_is_not_retried_by_default() {
    // The default statuses are [429, 502, 503, 504]: one 500 fails the sync.
    let sc = Scenario {
        faults: Faults { error_500_burst: Some((3, 1)), ..Default::default() },
        ..scenario(Pagination::Offset)
    };
    let spec = Spec::new(Pagination::Offset, 25).retry("{ max_attempts: 5, backoff_ms: 10 }");
    let mut run = with_previous_snapshot(sc, &spec);
    let (failed, err) = sync_into(&mut run.store.store, &spec.compile(), &run.env).failed();
    assert!(matches!(&err, EngineError::Http(h) if h.status() == Some(500)), "{err}\n{err:?}");
    assert!(err.to_string().contains("user page 3"), "{err}");
    assert_previous_current(&run.store.store, run.good, failed, &run.truth);
}

#[test]
fn fault_long_500_burst_fails_and_keeps_previous_snapshot() {
    let sc = Scenario {
        faults: Faults { error_500_burst: Some((3, 20)), ..Default::default() },
        ..scenario(Pagination::Offset)
    };
    let spec = Spec::new(Pagination::Offset, 25).retry(RETRY_500);
    let mut run = with_previous_snapshot(sc, &spec);
    let (failed, err) = sync_into(&mut run.store.store, &spec.compile(), &run.env).failed();
    match &err {
        EngineError::Http(HttpError::Status { status: 500, attempts: 5, .. }) => {}
        other => panic!("expected HTTP 500 after 5 attempts, got {other}\n{other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("user page 3"), "{msg}");
    assert_eq!(run.server.requests().iter().filter(|r| r.status == 500).count(), 5);
    assert_previous_current(&run.store.store, run.good, failed, &run.truth);
}

#[test]
fn fault_slow_responses_complete_exactly() {
    let sc = Scenario {
        faults: Faults { slow_ms_every_nth: Some((150, 3)), ..Default::default() },
        ..scenario(Pagination::Page)
    };
    let truth = scenario_truth(&sc);
    let server = serve(sc);
    let mut ts = temp_store();
    let (info, _) =
        sync_into(&mut ts.store, &Spec::new(Pagination::Page, 25).compile(), &Env::for_server(&server)).done();
    assert_exact(&ts.store, info.id, &truth);
}

/// Data request 2 is `GET /users` page 2 (pages are walked in order).
#[test]
fn fault_malformed_json_fails_naming_type_and_page() {
    let sc = Scenario {
        faults: Faults { malformed_json_at_request: Some(2), ..Default::default() },
        ..scenario(Pagination::Offset)
    };
    let spec = Spec::new(Pagination::Offset, 25);
    let mut run = with_previous_snapshot(sc, &spec);
    let (failed, err) = sync_into(&mut run.store.store, &spec.compile(), &run.env).failed();
    assert!(matches!(&err, EngineError::Http(HttpError::Json { .. })), "{err}\n{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("user page 2:"), "the error names the resource type and page: {msg}");
    assert!(msg.contains("not valid JSON"), "{msg}");
    assert_previous_current(&run.store.store, run.good, failed, &run.truth);
    let stored = run.store.store.sync(failed).unwrap().unwrap();
    assert!(stored.error.unwrap().contains("user page 2"));
    assert_eq!(stored.counts.resources, 0, "a failed sync keeps no records");
}

/// A malformed page in a per-group members listing names the group and the page.
#[test]
fn fault_malformed_json_in_members_names_the_group() {
    // Page size 25: requests 1-5 are users, 6 groups, 7-12 the members of the six groups (concurrently,
    // so which group gets request 9 is not fixed).
    let sc = Scenario {
        faults: Faults { malformed_json_at_request: Some(9), ..Default::default() },
        ..scenario(Pagination::CursorBody)
    };
    let spec = Spec::new(Pagination::CursorBody, 25);
    let mut run = with_previous_snapshot(sc, &spec);
    let (failed, err) = sync_into(&mut run.store.store, &spec.compile(), &run.env).failed();
    let msg = err.to_string();
    assert!(matches!(&err, EngineError::Http(HttpError::Json { .. })), "{msg}");
    assert!(msg.starts_with("group g"), "{msg}");
    assert!(msg.contains("member grants page"), "{msg}");
    assert_previous_current(&run.store.store, run.good, failed, &run.truth);
}

/// A truncated body is a transport error on an idempotent GET: it is retried, and the sync completes.
#[test]
fn fault_truncated_body_is_retried_and_completes_exactly() {
    let sc = Scenario {
        faults: Faults { truncated_body_at_request: Some(2), ..Default::default() },
        ..scenario(Pagination::Offset)
    };
    let truth = scenario_truth(&sc);
    let server = serve(sc);
    let mut ts = temp_store();
    let (info, report) =
        sync_into(&mut ts.store, &Spec::new(Pagination::Offset, 25).compile(), &Env::for_server(&server)).done();
    assert_exact(&ts.store, info.id, &truth);
    assert!(report.retries >= 1, "{report:?}");
}

/// Without retries a truncated body fails the sync, naming the type and page.
#[test]
fn fault_truncated_body_without_retries_fails_naming_type_and_page() {
    let sc = Scenario {
        faults: Faults { truncated_body_at_request: Some(2), ..Default::default() },
        ..scenario(Pagination::Offset)
    };
    let spec = Spec::new(Pagination::Offset, 25).retry("{ max_attempts: 1 }");
    let mut run = with_previous_snapshot(sc, &spec);
    let (failed, err) = sync_into(&mut run.store.store, &spec.compile(), &run.env).failed();
    assert!(matches!(&err, EngineError::Http(HttpError::Transport { .. })), "{err}\n{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("user page 2:"), "{msg}");
    assert_previous_current(&run.store.store, run.good, failed, &run.truth);
}

fn repeating_cursor(p: Pagination) {
    let sc = Scenario { faults: Faults { repeating_cursor: true, ..Default::default() }, ..scenario(p) };
    let server = serve(sc);
    let mut ts = temp_store();
    let (failed, err) = sync_into(&mut ts.store, &Spec::new(p, 25).compile(), &Env::for_server(&server)).failed();
    assert!(matches!(&err, EngineError::Http(HttpError::LoopDetected { .. })), "{p:?}: {err}\n{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("user page "), "{p:?}: the error names the resource type: {msg}");
    assert!(msg.contains("loop"), "{msg}");
    assert_eq!(status_of(&ts.store, failed), SyncStatus::Failed);
    assert!(ts.store.current_sync(NAME).unwrap().is_none());
    assert!(data_requests(&server, "/users") <= 3, "the loop is caught early");
}

#[test]
fn fault_repeating_cursor_is_a_loop() {
    for p in [
        Pagination::CursorBody,
        Pagination::CursorHeader,
        Pagination::NextLinkAbsolute,
        Pagination::NextLinkRelative,
        Pagination::LinkHeader,
    ] {
        repeating_cursor(p);
    }
}

#[test]
fn fault_token_expiry_mid_sync_refreshes_and_completes() {
    for style in [AuthStyle::OAuth2ClientCredentials, AuthStyle::Login] {
        // 120 users in pages of 10 + 1 groups page + 6 members pages = 19 data requests; tokens last 8.
        let sc = Scenario {
            auth: style.server_auth(),
            faults: Faults { token_expires_after_requests: Some(8), ..Default::default() },
            ..scenario(Pagination::Offset)
        };
        let truth = scenario_truth(&sc);
        let server = serve(sc);
        let mut ts = temp_store();
        let spec = Spec::new(Pagination::Offset, 10).auth(style);
        let (info, _) = sync_into(&mut ts.store, &spec.compile(), &Env::for_server(&server)).done();
        assert_exact(&ts.store, info.id, &truth);
        let path = if style == AuthStyle::Login { "/login" } else { "/oauth/token" };
        let tokens = token_requests(&server, path);
        assert!(tokens >= 3, "{style:?}: tokens must be refreshed after 401s, saw {tokens} token requests");
    }
}

#[test]
fn fault_dropped_users_yield_exactly_the_reduced_set() {
    let sc = Scenario {
        faults: Faults { drop_users_percent: 10, ..Default::default() },
        ..scenario(Pagination::NextLinkRelative)
    };
    let truth = scenario_truth(&sc);
    assert_eq!(truth.users, 100);
    let server = serve(sc);
    let mut ts = temp_store();
    let (info, _) =
        sync_into(&mut ts.store, &Spec::new(Pagination::NextLinkRelative, 25).compile(), &Env::for_server(&server))
            .done();
    assert_exact(&ts.store, info.id, &truth);
    let users = snapshot(&ts.store, info.id).users;
    assert!(!users.contains("u5") && !users.contains("u105") && users.contains("u10"));
}

// ---------------------------------------------------------------------------------------------------------
// 4. Rate limit, 5. concurrency
// ---------------------------------------------------------------------------------------------------------

#[test]
fn rate_limit_is_never_exceeded_in_any_second() {
    // 120 users / 10 = 12 requests, 40 groups / 10 = 4, 40 members listings of one page = 56 requests.
    let sc = Scenario { groups: 40, ..scenario(Pagination::Offset) };
    let truth = scenario_truth(&sc);
    let server = serve(sc);
    let mut ts = temp_store();
    let spec = Spec::new(Pagination::Offset, 10).rate_limit("{ per_second: 20, max_concurrency: 4 }");
    let (info, _) = sync_into(&mut ts.store, &spec.compile(), &Env::for_server(&server)).done();
    assert_exact(&ts.store, info.id, &truth);
    let n = server.request_count();
    assert!(n >= 50, "expected ~56 requests, saw {n}");
    let max = server.max_requests_in_any_window(1000);
    assert!(max <= 20, "{max} requests within one second (limit 20)");
    assert!(server.max_concurrent_requests() <= 4);
}

#[test]
fn per_resource_grants_respect_max_concurrency() {
    for limit in [1u64, 3] {
        let sc = Scenario { groups: 12, latency_ms: 15, ..scenario(Pagination::CursorBody) };
        let truth = scenario_truth(&sc);
        let server = serve(sc);
        let mut ts = temp_store();
        let spec = Spec::new(Pagination::CursorBody, 50)
            .rate_limit(&format!("{{ per_second: 1000, max_concurrency: {limit} }}"));
        let (info, _) = sync_into(&mut ts.store, &spec.compile(), &Env::for_server(&server)).done();
        assert_exact(&ts.store, info.id, &truth);
        let max = server.max_concurrent_requests();
        assert!((1..=limit).contains(&max), "max_concurrency {limit}, server saw {max} requests at once");
    }
}

// ---------------------------------------------------------------------------------------------------------
// 6. Mapping
// ---------------------------------------------------------------------------------------------------------

#[test]
fn mapping_missing_id_field_fails_naming_the_field() {
    let server = serve(scenario(Pagination::Offset));
    let mut ts = temp_store();
    let mut spec = Spec::new(Pagination::Offset, 25);
    spec.user_id_expr = "item.nope".into();
    let (failed, err) = sync_into(&mut ts.store, &spec.compile(), &Env::for_server(&server)).failed();
    match &err {
        EngineError::Map(m) => {
            assert_eq!(m.resource_type, "user");
            assert_eq!(m.field, "id");
            assert_eq!(m.row, 0);
        }
        other => panic!("expected a mapping error, got {other}\n{other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("mapping failed") && msg.contains("user") && msg.contains("`id`"), "{msg}");
    assert_eq!(status_of(&ts.store, failed), SyncStatus::Failed);
    assert!(ts.store.current_sync(NAME).unwrap().is_none());
}

/// The message of a missing id should say which path was missing (`item.nope`), as the grant principal's
/// message does ("the row has no `item.nope`").
#[test]
fn mapping_missing_id_error_names_the_missing_path() {
    let server = serve(scenario(Pagination::Offset));
    let mut ts = temp_store();
    let mut spec = Spec::new(Pagination::Offset, 25);
    spec.user_id_expr = "item.nope".into();
    let (_, err) = sync_into(&mut ts.store, &spec.compile(), &Env::for_server(&server)).failed();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn mapping_missing_principal_field_fails_naming_the_field() {
    let server = serve(scenario(Pagination::Offset));
    let mut ts = temp_store();
    let mut spec = Spec::new(Pagination::Offset, 25);
    spec.member_id_expr = "item.nope".into();
    let (failed, err) = sync_into(&mut ts.store, &spec.compile(), &Env::for_server(&server)).failed();
    match &err {
        EngineError::Map(m) => {
            assert_eq!(m.resource_type, "group");
            assert_eq!(m.field, "principal.id");
        }
        other => panic!("expected a mapping error, got {other}\n{other:?}"),
    }
    assert!(err.to_string().contains("item.nope"), "{err}");
    assert_eq!(status_of(&ts.store, failed), SyncStatus::Failed);
}

#[test]
fn mapping_skip_if_counts_skipped_rows() {
    let sc = scenario(Pagination::Offset);
    let truth = scenario_truth(&sc);
    assert_eq!(truth.inactive_users, 3);
    let server = serve(sc);
    let mut ts = temp_store();
    let mut spec = Spec::new(Pagination::Offset, 25);
    spec.user_skip_if = Some("!item.active".into());
    let (info, report) = sync_into(&mut ts.store, &spec.compile(), &Env::for_server(&server)).done();
    let users = report.resource_types.iter().find(|r| r.label == "user").unwrap();
    assert_eq!(users.coverage.rows, truth.users);
    assert_eq!(users.coverage.skipped, truth.inactive_users);
    assert_eq!(users.records, truth.users - truth.inactive_users);
    let stored = snapshot(&ts.store, info.id).users;
    let want: std::collections::BTreeSet<String> =
        truth.user_ids().filter(|id| id[1..].parse::<u64>().unwrap() % 50 != 0).collect();
    assert_eq!(stored, want);
}
