//! Small fixture specs: park reports, Swagger 2.0, OpenAPI 3.1 nullable types, dangling `$ref`s, and the
//! pagination / items / status inference.

use muster_draft::{Confidence, DraftOptions, DraftOutcome, draft_from_openapi, parse_spec_text};

fn fixture(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    parse_spec_text(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

struct Drafted {
    yaml: String,
    choices: Vec<muster_draft::Choice>,
}

fn drafted(name: &str) -> Drafted {
    match draft_from_openapi(&fixture(name), &DraftOptions { source_name: name.into(), ..Default::default() }) {
        DraftOutcome::Connector { yaml, choices, check_errors, check_warnings, .. } => {
            assert!(check_errors.is_empty(), "{name}: {check_errors:?}\n{yaml}");
            assert!(check_warnings.is_empty(), "{name}: {check_warnings:?}\n{yaml}");
            assert!(!muster_spec::check(&yaml, name).has_errors());
            Drafted { yaml, choices }
        }
        DraftOutcome::Park(p) => panic!("{name} parked: {p}"),
    }
}

fn assert_has(yaml: &str, needle: &str) {
    assert!(yaml.contains(needle), "expected `{needle}` in:\n{yaml}");
}

#[test]
fn business_objects_only_parks_with_a_report() {
    let out = draft_from_openapi(&fixture("park_business.json"), &DraftOptions::default());
    let DraftOutcome::Park(report) = out else { panic!("drafted a connector from business objects") };
    assert!(!report.looked_for.is_empty());
    assert!(report.reason.contains("none of its 3 GET operations"), "{}", report.reason);
    insta::assert_snapshot!("park_business", report.to_string());
}

#[test]
fn a_whoami_only_api_parks_and_says_it_found_the_whoami() {
    let out = draft_from_openapi(&fixture("park_me_only.yaml"), &DraftOptions::default());
    let DraftOutcome::Park(report) = out else { panic!("drafted a connector from /me") };
    assert!(report.found.iter().any(|f| f.contains("/me") && f.contains("whoami")), "{report}");
    insta::assert_snapshot!("park_me_only", report.to_string());
}

#[test]
fn swagger_2_page_pagination_status_enum_scoping_and_oauth_client_credentials() {
    let d = drafted("swagger2.json");
    insta::assert_snapshot!("swagger2", d.yaml);
    let y = &d.yaml;
    assert_has(y, "base_url: \"${WIDGET_URL}/api/v2\"");
    assert_has(y, "type: oauth2_client_credentials");
    assert_has(y, "token_url: \"https://auth.widget.example/oauth/token\"");
    assert_has(y, "client_secret: ${WIDGET_CLIENT_SECRET}");
    // page / per_page with the documented maximum
    assert_has(y, "type: page\n        size_param: per_page\n        size: 100");
    // the scoping parameter's documented "all"
    assert_has(y, "status: all");
    // status enum → CEL
    assert_has(
        y,
        "status: \"item.?status.orValue('') in ['deprovisioned'] ? 'deleted' : (item.?status.orValue('') in ['suspended'] ? 'disabled' : 'enabled')\"",
    );
    assert_has(y, "id: item.uuid");
    assert_has(y, "login: item.username");
    assert_has(y, "email: \"item.?email_address.orValue(null)\"");
    assert_has(y, "account_type: \"item.?is_bot.orValue(false) ? 'service' : 'human'\"");
    // cursor in a nested envelope field
    assert_has(y, "type: cursor\n        cursor_path: meta.next_cursor\n        size_param: limit\n        size: 25");
    assert_has(y, "items: data");
    // membership by path, rows are users (same schema as the user listing)
    assert_has(y, "path: \"/groups/{resource.id}/users\"");
    assert_has(y, "id: item.uuid\n");
    // never the password
    assert!(!y.contains("item.password") && !y.contains("item.?password"), "{y}");
    // one user's groups is not a listing of groups
    assert!(!y.contains("/users/{"), "{y}");
    assert!(d.choices.iter().any(|c| c.what.contains("status=all")));
}

#[test]
fn openapi_3_1_nullable_types_scim_link_header_next_link_and_pending_members() {
    let d = drafted("oas31.json");
    insta::assert_snapshot!("oas31", d.yaml);
    let y = &d.yaml;
    assert_has(y, "type: scim\n        count: 100");
    assert_has(y, "items: Resources");
    assert_has(y, "display_name: \"item.?displayName.orValue(null)\"");
    assert_has(y, "status: \"item.?active.orValue(true) ? 'enabled' : 'disabled'\"");
    assert_has(y, "account_type: \"item.?accountType.orValue('') == 'robot' ? 'service' : 'human'\"");
    assert_has(y, "last_login: \"item.?lastSignInAt.orValue(null)\"");
    assert_has(y, "type: link_header");
    assert_has(y, "type: next_link\n            path: nextLink");
    assert_has(y, "skip_if: \"item.?status.orValue('') in ['invited', 'requested']\"");
    assert_has(y, "id: \"item.?accountId.orValue(null)\"");
    assert_has(y, "type: bearer\n      token: ${SCIMLY_TOKEN}");
}

#[test]
fn dangling_refs_cycles_and_allof_are_tolerated() {
    let d = drafted("dangling.json");
    insta::assert_snapshot!("dangling", d.yaml);
    let y = &d.yaml;
    // allOf merged through a reference cycle (Base.parent → User → Base)
    assert_has(y, "id: item.id");
    assert_has(y, "login: \"item.?login.orValue(null)\"");
    assert_has(y, "items: users");
    assert_has(y, "type: next_link\n        path: next");
    assert_has(
        y,
        "status: \"item.?deleted.orValue(false) ? 'deleted' : (item.?enabled.orValue(true) ? 'enabled' : 'disabled')\"",
    );
    assert_has(y, "include_deleted: \"true\"");
    // the key's value is never mapped; its metadata is
    assert!(!y.contains("item.token") && !y.contains("item.?token"), "{y}");
    assert_has(y, "cursor_header: X-Next-Cursor");
    assert_has(y, "expires_at: \"item.?expires_at.orValue(null)\"");
    assert_has(y, "last_used_at: \"item.?last_used.orValue(null)\"");
    assert_has(y, "id: \"item.?user_id.orValue(null)\"");
    // documented prefix
    assert_has(y, "prefix: \"Token \"");
    // dangling response / schema: not listings, and no crash
    assert!(!y.contains("/ghosts") && !y.contains("/widgets"));
    assert!(d.choices.iter().any(|c| c.confidence == Confidence::Medium && c.what.contains("include_deleted")));
}

#[test]
fn base_url_and_app_name_options() {
    let out = draft_from_openapi(
        &fixture("oas31.json"),
        &DraftOptions {
            base_url: Some("https://dir.acme.test/scim/v2".into()),
            app_name: Some("Acme Dir".into()),
            source_name: "x".into(),
        },
    );
    let DraftOutcome::Connector { yaml, env, .. } = out else { panic!("parked") };
    assert_has(&yaml, "base_url: \"https://dir.acme.test/scim/v2\"");
    assert_has(&yaml, "name: \"Acme Dir\"");
    assert!(env.iter().all(|e| !e.name.ends_with("_URL")), "{env:?}");
    assert!(env.iter().any(|e| e.name == "ACME_TOKEN"), "{env:?}");
}

#[test]
fn not_openapi_input_is_a_clear_error() {
    assert!(parse_spec_text("{ not json").is_err());
    let e = parse_spec_text("name: x\nitems: [1]\n").expect_err("not openapi");
    assert!(e.to_string().contains("not an OpenAPI"), "{e}");
    let e = parse_spec_text("key: [unclosed\n").expect_err("bad yaml");
    assert!(e.to_string().contains("invalid YAML"), "{e}");
}

#[test]
fn a_bearer_scheme_with_a_documented_login_operation_drafts_login_auth() {
    let d = drafted("login_session.json");
    assert_has(&d.yaml, "type: login");
    assert_has(&d.yaml, "path: /auth/sessions");
    assert_has(&d.yaml, "login: ${SESSION_USER}");
    assert_has(&d.yaml, "password: ${SESSION_PASSWORD}");
    assert_has(&d.yaml, "token_path: data.access_token");
    assert_has(&d.yaml, "expires_at_path: data.expires_at");
    assert!(!d.yaml.contains("/reports"), "{}", d.yaml);
    let auth = d.choices.iter().find(|c| c.what == "source.http.auth").expect("auth choice");
    assert_eq!(auth.confidence, Confidence::Medium, "{auth:?}");
}
