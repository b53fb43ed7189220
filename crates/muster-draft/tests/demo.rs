//! THE acceptance test: the demo API's OpenAPI document drafts — with zero edits — into a connector that syncs
//! exactly the demo's data.

use muster_draft::{DraftOptions, DraftOutcome, draft_from_openapi};
use std::collections::BTreeSet;

#[test]
fn demo_openapi_drafts_into_a_connector_that_syncs_exactly_the_demo_data() {
    let doc = muster_testkit::demo_openapi();
    let out = draft_from_openapi(&doc, &DraftOptions { source_name: "demo-openapi.json".into(), ..Default::default() });
    let DraftOutcome::Connector { yaml, env, check_errors, check_warnings, .. } = out else {
        panic!("the demo API parked: {out:?}");
    };
    assert!(check_errors.is_empty(), "{check_errors:?}\n{yaml}");
    assert!(check_warnings.is_empty(), "{check_warnings:?}\n{yaml}");
    insta::assert_snapshot!("demo_connector", yaml);

    let checked = muster_spec::check(&yaml, "demo-draft.yaml");
    let compiled = checked.connector.expect("the draft compiles");

    // The drafted environment: the URL, basic-auth user/password and the admin API's bearer token.
    let server = muster_testkit::serve_demo(None).expect("demo server");
    let base = server.base_url().to_string();
    let names: Vec<String> = env.iter().map(|e| e.name.clone()).collect();
    let env_fn = move |name: &str| -> Option<String> {
        if !names.iter().any(|n| n == name) {
            return None;
        }
        if name.ends_with("_URL") {
            Some(base.clone())
        } else if name.ends_with("_USER") {
            Some(muster_testkit::DEMO_USER.into())
        } else if name.ends_with("_PASSWORD") {
            Some(muster_testkit::DEMO_PASSWORD.into())
        } else if name.ends_with("_TOKEN") {
            Some(muster_testkit::DEMO_ADMIN_TOKEN.into())
        } else {
            None
        }
    };

    let tmp = tempfile::tempdir().expect("tempdir");
    let mut store = muster_store::Store::open(&tmp.path().join("x.db")).expect("store");
    let ts = "2026-11-01T00:00:00Z";
    let sync_id = {
        let mut writer = store.begin_sync(&compiled.name, &compiled.spec_hash, ts).expect("begin");
        let id = writer.id();
        let report = muster_engine::sync::run(
            &compiled,
            &env_fn,
            &mut writer,
            &muster_engine::sync::SyncOptions::default(),
            &muster_engine::sync::Silent,
        );
        if let Err(e) = &report {
            panic!("sync failed: {e}\n{yaml}");
        }
        writer.finish(ts).expect("finish");
        id
    };

    let truth = muster_testkit::demo_truth();
    let users = store.resources(sync_id, Some("user")).expect("users");
    let ids: BTreeSet<String> = users.iter().map(|u| u.id.clone()).collect();
    assert_eq!(ids, truth.user_ids.iter().cloned().collect(), "all users");
    let disabled: BTreeSet<String> =
        users.iter().filter(|u| u.status == muster_model::Status::Disabled).map(|u| u.id.clone()).collect();
    assert_eq!(disabled, truth.disabled_user_ids.iter().cloned().collect(), "the disabled user is kept, as disabled");
    let services: BTreeSet<String> = users
        .iter()
        .filter(|u| u.user.as_ref().and_then(|t| t.account_type) == Some(muster_model::AccountType::Service))
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(services, truth.service_account_ids.iter().cloned().collect(), "service accounts typed as service");

    let groups = store.resources(sync_id, Some("group")).expect("groups");
    let gids: BTreeSet<String> = groups.iter().map(|g| g.id.clone()).collect();
    assert_eq!(gids, truth.group_ids.iter().cloned().collect(), "all groups across pages");

    let grants = store.grants(sync_id, None).expect("grants");
    let members: BTreeSet<(String, String)> = grants
        .iter()
        .filter(|g| g.entitlement.slug == "member")
        .map(|g| (g.entitlement.resource.id.clone(), g.principal.id.clone()))
        .collect();
    assert_eq!(members, truth.active_memberships.iter().cloned().collect(), "pending invitations are not grants");

    let roles = store.resources(sync_id, Some("role")).expect("roles");
    let rids: BTreeSet<String> = roles.iter().map(|r| r.id.clone()).collect();
    assert_eq!(rids, truth.role_ids.iter().cloned().collect(), "roles across Link-header pages");
    let assigned: BTreeSet<(String, String, String)> = grants
        .iter()
        .filter(|g| g.entitlement.slug == "assigned")
        .map(|g| (g.entitlement.resource.id.clone(), g.principal.id.clone(), g.principal.resource_type.clone()))
        .collect();
    assert_eq!(assigned, truth.role_assignments.iter().cloned().collect(), "role assignments, with group principals");

    let tokens = store.resources(sync_id, Some("api_token")).expect("tokens");
    assert_eq!(tokens.len(), truth.tokens.len(), "all tokens across next links");
    for t in &truth.tokens {
        let r = tokens.iter().find(|r| r.id == t.id).unwrap_or_else(|| panic!("token {}", t.id));
        assert!(r.profile.get("token").is_none(), "never a token's value");
        let s = r.secret.as_ref().expect("secret traits");
        assert_eq!(s.owner.as_ref().map(|o| o.id.clone()), t.owner_id, "owner of {}", t.id);
        assert!(s.created_at.is_some(), "created of {}", t.id);
        assert_eq!(s.expires_at.is_none(), t.never_expires, "expires of {}", t.id);
        assert_eq!(s.last_used_at.is_none(), t.never_used, "last used of {}", t.id);
    }
}
