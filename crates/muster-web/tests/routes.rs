//! Handler tests: every route, through the router (tower `oneshot`), on a small store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may unwrap

mod common;

use axum::http::StatusCode;
use common::*;
use std::collections::BTreeSet;

#[tokio::test]
async fn every_page_renders() {
    let f = fixture();
    let app = app(config(&f.db));
    let pages = [
        "/connectors".to_string(),
        format!("/connectors/{NAME_PATH}"),
        format!("/connectors/{NAME_PATH}?version={}", &f.v1[..20]),
        format!("/connectors/{NAME_PATH}/diff"),
        format!("/connectors/{NAME_PATH}/diff?from={}&to={}", f.v1, f.v2),
        format!("/reports/{}", f.report_v2),
        "/inventory".into(),
        "/inventory?type=service&status=enabled&connector=Acme%20Directory&q=bot&page=1".into(),
        format!("/identities/{NAME_PATH}/user/u1"),
        format!("/identities/{NAME_PATH}/api_token/t2"),
        "/nhi".into(),
        "/nhi?flag=expired".into(),
        "/syncs".into(),
        format!("/syncs/{}", f.second),
        format!("/syncs/{}", f.held),
        "/audit".into(),
        "/assets/style.css".into(),
        "/assets/app.js".into(),
    ];
    for p in &pages {
        let r = get(&app, p).await;
        assert_eq!(r.status, StatusCode::OK, "{p}: {}", r.body);
        assert!(r.headers.get("content-security-policy").is_some(), "{p}");
    }
    let r = get(&app, "/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers["location"], "/connectors");
    // login is only for servers with a token
    assert_eq!(get(&app, "/login").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn pages_show_what_matters() {
    let f = fixture();
    let app = app(config(&f.db));
    let r = get(&app, "/connectors").await;
    assert!(r.body.contains("Acme Directory") && r.body.contains(">held<"), "{}", r.body);
    assert!(r.body.contains(&format!("/syncs/{}\">#{}</a>", f.held, f.held)), "holds are listed");

    let r = get(&app, &format!("/connectors/{NAME_PATH}")).await;
    for want in [
        "id=\"approve-form\"",
        "id=\"reject-form\"",
        "name=\"csrf\"",
        "<span class=\"k\">base_url</span>",
        "<span class=\"env\">${ACME_URL}</span>/v2",
        "Open trust report #",
    ] {
        assert!(r.body.contains(want), "connector page lacks {want}");
    }

    let r = get(&app, &format!("/connectors/{NAME_PATH}/diff")).await;
    assert!(r.body.contains("! risky") && r.body.contains("source.http.base_url"), "{}", r.body);
    assert!(r.body.contains("class=\"del\"") && r.body.contains("class=\"add\""));

    let r = get(&app, &format!("/reports/{}", f.report_v2)).await;
    assert!(r.body.contains("credentials are required") && r.body.contains("Sample records"));
    assert!(!r.body.contains("must-not-show"), "a sensitive profile value was rendered");

    let r = get(&app, "/inventory").await;
    assert!(r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "names are escaped");
    assert!(!r.body.contains("<script>alert(1)"), "raw markup must not reach the page");
    assert!(r.body.contains("Cleo New") && !r.body.contains("Bob Stone"), "current snapshot only");

    let r = get(&app, &format!("/identities/{NAME_PATH}/user/u1")).await;
    assert!(r.body.contains("Admins") && r.body.contains("member"), "direct grant");
    assert!(r.body.contains("Superuser") && r.body.contains("group:g1"), "inherited through the group");
    assert!(r.body.contains("token t1"), "owned credential");

    let r = get(&app, &format!("/identities/{NAME_PATH}/api_token/t2")).await;
    assert!(!r.body.contains("must-not-show") && r.body.contains("(hidden)"));

    let r = get(&app, &format!("/syncs/{}", f.second)).await;
    assert!(r.body.contains("Lost access (1)") && r.body.contains("Bob Stone"), "{}", r.body);
    assert!(r.body.contains("Resources added (1)") && r.body.contains("Cleo New"));

    let r = get(&app, "/syncs").await;
    assert!(r.body.contains(&format!("id=\"accept-{}\"", f.held)), "held syncs offer Accept");

    let r = get(&app, "/audit").await;
    assert!(r.body.contains("Audit log intact") && r.body.contains("registry.add"));
}

#[tokio::test]
async fn api_routes_answer_json() {
    let f = fixture();
    let app = app(config(&f.db));
    let r = get(&app, "/api/connectors").await;
    assert_eq!(r.status, StatusCode::OK);
    let j = r.json();
    assert_eq!(j[0]["connector"], NAME);
    assert_eq!(j[0]["state"], "held");

    let j = get(&app, &format!("/api/connectors/{NAME_PATH}")).await.json();
    assert_eq!(j["versions"].as_array().unwrap().len(), 2);
    assert_eq!(j["latest_report"]["id"], f.report_v2);
    assert!(j["source"].as_str().unwrap().contains("${ACME_URL}/v2"));

    let j = get(&app, &format!("/api/connectors/{NAME_PATH}/versions")).await.json();
    assert_eq!(j[0]["spec_hash"], f.v2.as_str());
    assert_eq!(j[1]["report"]["passed"], false);

    let j = get(&app, &format!("/api/connectors/{NAME_PATH}/diff")).await.json();
    assert_eq!(j["from"], f.v1.as_str());
    assert!(j["risky"].as_u64().unwrap() >= 1);

    let j = get(&app, &format!("/api/reports/{}", f.report_v2)).await.json();
    assert_eq!(j["report"]["score"], 96);
    assert_eq!(j["report"]["samples"]["api_token"][0]["profile"]["client_secret"], "(hidden)");

    let j = get(&app, "/api/inventory?type=human&per_page=2&page=2").await.json();
    assert_eq!(j["total"], 3);
    assert_eq!(j["pages"], 2);
    assert_eq!(j["items"][0]["id"], "u4");

    let j = get(&app, "/api/inventory?q=ANN").await.json();
    assert_eq!(j["total"], 1, "search is case-insensitive");
    let j = get(&app, "/api/inventory?q=%25").await.json();
    assert_eq!(j["total"], 0, "% is a literal in search");

    let j = get(&app, &format!("/api/identities/{NAME_PATH}/user/svc1")).await.json();
    let codes: Vec<&str> = j["nhi"]["flags"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["no_owner", "human_login"]);

    let j = get(&app, "/api/nhi").await.json();
    assert_eq!(j["now"], NOW);
    assert_eq!(j["total"], 3);
    let t2 = j["items"].as_array().unwrap().iter().find(|n| n["id"] == "t2").unwrap();
    let codes: Vec<&str> = t2["flags"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["expired", "never_used", "long_lifetime", "no_owner"]);
    let t1 = j["items"].as_array().unwrap().iter().find(|n| n["id"] == "t1").unwrap();
    assert_eq!(t1["flags"].as_array().unwrap().len(), 0);
    assert_eq!(t1["age_days"], 153);
    let j = get(&app, "/api/nhi?flag=expired").await.json();
    assert_eq!(j["items"].as_array().unwrap().len(), 1);

    let j = get(&app, "/api/syncs").await.json();
    assert_eq!(j.as_array().unwrap().len(), 3);
    assert_eq!(j[0]["status"], "held");

    let j = get(&app, &format!("/api/syncs/{}/diff", f.second)).await.json();
    assert_eq!(j["previous"]["id"], f.first);
    assert_eq!(j["lost"][0]["principal"]["id"], "u2");
    assert_eq!(j["lost"][0]["principal_name"], "Bob Stone");
    let j = get(&app, &format!("/api/syncs/{}/diff?from={}", f.held, f.first)).await.json();
    assert_eq!(j["totals"]["lost"], 4);

    let j = get(&app, "/api/audit").await.json();
    assert_eq!(j["intact"], true);
    assert_eq!(j["count"], 2);

    let r = get(&app, "/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["openapi"], "3.1.0");
}

#[tokio::test]
async fn unknown_things_are_404() {
    let f = fixture();
    let app = app(config(&f.db));
    for uri in [
        "/connectors/nope",
        "/connectors/nope/diff",
        "/reports/999",
        "/syncs/999",
        &format!("/identities/{NAME_PATH}/user/nobody"),
        "/identities/nope/user/u1",
        "/no/such/page",
        "/api/connectors/nope",
        "/api/connectors/nope/versions",
        "/api/connectors/nope/diff",
        "/api/reports/999",
        "/api/syncs/999/diff",
        &format!("/api/syncs/{}/diff?from=999", f.second),
        &format!("/api/identities/{NAME_PATH}/user/nobody"),
        "/api/identities/nope/user/u1",
        "/api/nope",
        &format!("/api/connectors/{NAME_PATH}?version=abcdef12"),
    ] {
        let r = get(&app, uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", r.body);
        if uri.starts_with("/api/") {
            assert!(r.json()["error"]["message"].is_string(), "{uri}");
        }
    }
    let (cookie, csrf) = session(&app).await;
    let h = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let body = serde_json::json!({"version": "abcd1234", "name": "A", "email": "a@example.com", "comment": "x"});
    assert_eq!(post_json(&app, "/api/connectors/nope/approve", &h, body.clone()).await.status, StatusCode::NOT_FOUND);
    assert_eq!(post_json(&app, "/api/connectors/nope/reject", &h, body).await.status, StatusCode::NOT_FOUND);
    let body = serde_json::json!({"name": "A", "email": "a@example.com"});
    assert_eq!(post_json(&app, "/api/syncs/999/accept", &h, body).await.status, StatusCode::NOT_FOUND);
    let form =
        [("csrf", csrf.as_str()), ("name", "A"), ("email", "a@example.com"), ("version", "abcd1234"), ("reason", "r")];
    assert_eq!(post_form(&app, "/connectors/nope/approve", Some(&cookie), &form).await.status, StatusCode::NOT_FOUND);
    assert_eq!(post_form(&app, "/connectors/nope/reject", Some(&cookie), &form).await.status, StatusCode::NOT_FOUND);
    assert_eq!(post_form(&app, "/syncs/999/accept", Some(&cookie), &form).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_input_is_400() {
    let f = fixture();
    let app = app(config(&f.db));
    for uri in [
        "/inventory?page=-1",
        "/inventory?page=0",
        "/inventory?page=x",
        "/inventory?per_page=501",
        "/inventory?type=robot",
        "/inventory?status=active",
        "/api/inventory?page=-1",
        "/api/inventory?type=robot",
        "/api/inventory?per_page=0",
        &format!("/api/inventory?q={}", "a".repeat(201)),
        "/nhi?flag=spooky",
        "/api/nhi?flag=spooky",
        "/reports/abc",
        "/api/reports/-3",
        "/syncs/abc",
        "/api/syncs/abc/diff",
        &format!("/api/syncs/{}/diff?from=x", f.second),
        "/audit?page=0",
        &format!("/connectors/{NAME_PATH}?version=not-a-hash"),
        &format!("/api/connectors/{NAME_PATH}?version=zz"),
        &format!("/api/connectors/{NAME_PATH}/diff?from=../../etc"),
        &format!("/connectors/{NAME_PATH}/diff?to=%3Cscript%3E"),
    ] {
        let r = get(&app, uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.body);
        assert!(!r.body.contains("<script>"), "{uri}: input echoed unescaped");
    }
    let (cookie, csrf) = session(&app).await;
    let h = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let uri = format!("/api/connectors/{NAME_PATH}/approve");
    for body in [
        serde_json::json!({"version": "sha256:XYZ", "name": "A", "email": "a@example.com"}),
        serde_json::json!({"version": f.v2, "name": "", "email": "a@example.com"}),
        serde_json::json!({"version": f.v2, "name": "A", "email": "not-an-email"}),
        serde_json::json!({"version": f.v2}),
        serde_json::json!([1, 2]),
    ] {
        let r = post_json(&app, &uri, &h, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
    }
    let form = [("csrf", csrf.as_str()), ("name", "A"), ("email", "a@example.com"), ("version", "nothex!")];
    let r = post_form(&app, &format!("/connectors/{NAME_PATH}/approve"), Some(&cookie), &form).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let form = [("csrf", csrf.as_str()), ("name", ""), ("email", "a@example.com")];
    let r = post_form(&app, &format!("/syncs/{}/accept", f.held), Some(&cookie), &form).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r =
        post_json(&app, "/api/syncs/abc/accept", &h, serde_json::json!({"name": "A", "email": "a@example.com"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn posts_need_the_csrf_token() {
    let f = fixture();
    let app = app(config(&f.db));
    let (cookie, csrf) = session(&app).await;
    let approve = format!("/connectors/{NAME_PATH}/approve");
    let good = [("name", "Rita Review"), ("email", "rita@example.com"), ("version", f.v2.as_str()), ("comment", "ok")];
    // no session at all, a session without the token, a wrong token
    assert_eq!(post_form(&app, &approve, None, &good).await.status, StatusCode::FORBIDDEN);
    assert_eq!(post_form(&app, &approve, Some(&cookie), &good).await.status, StatusCode::FORBIDDEN);
    let mut wrong = good.to_vec();
    wrong.push(("csrf", "0000"));
    assert_eq!(post_form(&app, &approve, Some(&cookie), &wrong).await.status, StatusCode::FORBIDDEN);
    // another session's token does not work either
    let (_, other_csrf) = session(&app).await;
    let mut other = good.to_vec();
    other.push(("csrf", other_csrf.as_str()));
    assert_eq!(post_form(&app, &approve, Some(&cookie), &other).await.status, StatusCode::FORBIDDEN);
    for uri in [
        format!("/connectors/{NAME_PATH}/reject"),
        format!("/syncs/{}/accept", f.held),
        "/logout".into(),
        "/login".into(),
    ] {
        assert_eq!(post_form(&app, &uri, Some(&cookie), &good).await.status, StatusCode::FORBIDDEN, "{uri}");
    }
    let body = serde_json::json!({"version": f.v2, "name": "A", "email": "a@example.com"});
    for uri in [
        format!("/api/connectors/{NAME_PATH}/approve"),
        format!("/api/connectors/{NAME_PATH}/reject"),
        format!("/api/syncs/{}/accept", f.held),
    ] {
        let r = post_json(&app, &uri, &[("cookie", cookie.as_str())], body.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}");
        let r = post_json(&app, &uri, &[("cookie", cookie.as_str()), ("x-csrf-token", "nope")], body.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}");
    }
    // nothing was decided or accepted
    let j = get(&app, "/api/audit").await.json();
    assert_eq!(j["count"], 2);
    // with the token it goes through
    let mut ok = good.to_vec();
    ok.push(("csrf", csrf.as_str()));
    let r = post_form(&app, &approve, Some(&cookie), &ok).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn approval_follows_the_governance_rules_and_is_audited() {
    let f = fixture();
    let mut cfg = config(&f.db);
    cfg.rules.four_eyes = true;
    let app = app(cfg);
    let (cookie, csrf) = session(&app).await;
    let h = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let uri = format!("/api/connectors/{NAME_PATH}/approve");
    // v1's trust report failed: refused, and the refusal is audited
    let r =
        post_json(&app, &uri, &h, serde_json::json!({"version": f.v1, "name": "Rita", "email": "rita@example.com"}))
            .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("failed"));
    // four eyes: the author may not approve
    let r =
        post_json(&app, &uri, &h, serde_json::json!({"version": f.v2, "name": "Dev One", "email": "dev1@example.com"}))
            .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("four-eyes"));
    // an unknown (well-formed) version
    let r = post_json(
        &app,
        &uri,
        &h,
        serde_json::json!({"version": "abcdef0123", "name": "Rita", "email": "rita@example.com"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // the page form: approve v2 by prefix
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Rita Review"),
        ("email", "rita@example.com"),
        ("version", &f.v2[..20]),
        ("comment", "looks right"),
    ];
    let r = post_form(&app, &format!("/connectors/{NAME_PATH}/approve"), Some(&cookie), &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers["location"], format!("/connectors/{NAME_PATH}"));
    let page = get_with(&app, &format!("/connectors/{NAME_PATH}"), &cookie).await;
    assert!(page.body.contains("approved by Rita Review &lt;rita@example.com&gt;"), "the flash message shows");
    let again = get_with(&app, &format!("/connectors/{NAME_PATH}"), &cookie).await;
    assert!(!again.body.contains("class=\"flash ok\""), "the flash shows once");
    // the same as the CLI sees it
    let store = muster_store::Store::open(&f.db).unwrap();
    let approved = store.approved(NAME).unwrap().unwrap();
    assert_eq!(approved.spec_hash, f.v2);
    assert_eq!(approved.actor, "Rita Review <rita@example.com>");
    assert_eq!(approved.created_at, "2026-11-01T00:00:00.000Z", "the injected clock");
    let actions: Vec<(String, String)> =
        store.audit_entries().unwrap().into_iter().map(|e| (e.action, e.actor)).collect();
    assert_eq!(actions.iter().filter(|(a, _)| a == "approve.refused").count(), 2, "failed report, four eyes");
    assert!(actions.contains(&("approve".into(), "Rita Review <rita@example.com>".into())));
    assert!(store.audit_verify().unwrap().is_none());
    // a page refusal is shown, not swallowed
    let form = [("csrf", csrf.as_str()), ("name", "Rita"), ("email", "rita@example.com"), ("version", f.v1.as_str())];
    let r = post_form(&app, &format!("/connectors/{NAME_PATH}/approve"), Some(&cookie), &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = get_with(&app, &format!("/connectors/{NAME_PATH}"), &cookie).await;
    assert!(page.body.contains("class=\"flash err\"") && page.body.contains("Approval refused"), "{}", page.body);
    // reject: a reason is required (the CLI's rule), then revokes
    let r = post_json(
        &app,
        &format!("/api/connectors/{NAME_PATH}/reject"),
        &h,
        serde_json::json!({"version": f.v2, "name": "Rita", "email": "rita@example.com", "reason": " "}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = post_json(
        &app,
        &format!("/api/connectors/{NAME_PATH}/reject"),
        &h,
        serde_json::json!({"version": f.v2, "name": "Rita", "email": "rita@example.com", "reason": "base URL change"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["decision"], "reject");
    assert!(store.approved(NAME).unwrap().is_none());
}

#[tokio::test]
async fn approval_needs_a_recent_report() {
    let f = fixture();
    let mut cfg = config(&f.db);
    cfg.clock = std::sync::Arc::new(muster_web::FixedClock(now() + chrono::Duration::days(30)));
    let app = app(cfg);
    let (cookie, csrf) = session(&app).await;
    let h = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let r = post_json(
        &app,
        &format!("/api/connectors/{NAME_PATH}/approve"),
        &h,
        serde_json::json!({"version": f.v2, "name": "Rita", "email": "rita@example.com"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("hours old"));
}

#[tokio::test]
async fn held_syncs_can_be_accepted_once() {
    let f = fixture();
    let app = app(config(&f.db));
    let (cookie, csrf) = session(&app).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Ops Person"),
        ("email", "ops@example.com"),
        ("comment", "the grants really went"),
    ];
    let r = post_form(&app, &format!("/syncs/{}/accept", f.held), Some(&cookie), &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = get_with(&app, &format!("/syncs/{}", f.held), &cookie).await;
    assert!(page.body.contains("accepted: it is now the current snapshot"), "{}", page.body);
    let j = get(&app, "/api/connectors").await.json();
    assert_eq!(j[0]["held"].as_array().unwrap().len(), 0);
    // the inventory now reads the accepted snapshot
    let j = get(&app, &format!("/api/identities/{NAME_PATH}/user/u1")).await.json();
    assert_eq!(j["sync_id"], f.held);
    assert_eq!(j["grants"].as_array().unwrap().len(), 0);
    // again: refused, it is no longer held
    let h = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let r = post_json(
        &app,
        &format!("/api/syncs/{}/accept", f.held),
        &h,
        serde_json::json!({"name": "Ops", "email": "ops@example.com"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let audit = get(&app, "/api/audit").await.json();
    let e = &audit["entries"][0];
    assert_eq!(e["action"], "sync.accept");
    assert_eq!(e["actor"], "Ops Person <ops@example.com>");
    assert!(e["detail"].as_str().unwrap().contains("the grants really went"));
}

#[tokio::test]
async fn a_token_guards_everything() {
    let f = fixture();
    let mut cfg = config(&f.db);
    cfg.token = Some("s3cret-token-0123456789".into());
    let app = app(cfg);
    for uri in ["/api/connectors", "/api/inventory", "/api/audit", "/api/openapi.json", "/api/session"] {
        assert_eq!(get(&app, uri).await.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    let r = send(
        &app,
        axum::http::Request::get("/api/connectors")
            .header("authorization", "Bearer wrong")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    let bearer = [("authorization", "Bearer s3cret-token-0123456789")];
    let r = send(
        &app,
        axum::http::Request::get("/api/connectors")
            .header(bearer[0].0, bearer[0].1)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.cookie().is_none(), "bearer clients get no session");
    // bearer POSTs need no CSRF token (a browser never sends the header on its own)
    let r = post_json(
        &app,
        &format!("/api/syncs/{}/accept", f.held),
        &bearer,
        serde_json::json!({"name": "Bot", "email": "bot@example.com"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // the UI sends you to the login form
    let r = get(&app, "/connectors").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers["location"], "/login");
    let cookie = r.cookie().unwrap();
    let form_page = get_with(&app, "/login", &cookie).await;
    assert_eq!(form_page.status, StatusCode::OK);
    let csrf = form_page.body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert_eq!(get(&app, "/assets/style.css").await.status, StatusCode::OK, "assets are public");
    // a wrong token
    let r = post_form(&app, "/login", Some(&cookie), &[("csrf", &csrf), ("token", "nope")]).await;
    assert_eq!(r.headers["location"], "/login");
    assert_eq!(get_with(&app, "/connectors", &cookie).await.status, StatusCode::SEE_OTHER);
    // the right one: a new session id, HttpOnly and SameSite=Strict
    let r = post_form(&app, "/login", Some(&cookie), &[("csrf", &csrf), ("token", "s3cret-token-0123456789")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let set = r.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let logged_in = r.cookie().unwrap();
    assert_ne!(logged_in, cookie, "the session id is rotated at login");
    let r = get_with(&app, "/connectors", &logged_in).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Log out"));
    assert_eq!(get_with(&app, "/api/connectors", &logged_in).await.status, StatusCode::OK);
    assert_eq!(get_with(&app, "/connectors", &cookie).await.status, StatusCode::SEE_OTHER, "the old id is dead");
    // log out
    let csrf = r.body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = post_form(&app, "/logout", Some(&logged_in), &[("csrf", &csrf)]).await;
    assert_eq!(r.headers["location"], "/login");
    assert_eq!(get_with(&app, "/connectors", &logged_in).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn loopback_servers_refuse_foreign_hosts() {
    let f = fixture();
    let mut cfg = config(&f.db);
    cfg.check_bind("127.0.0.1:7878".parse().unwrap()).unwrap();
    let app = app(cfg);
    let req = |host: &str| {
        axum::http::Request::get("/api/connectors").header("host", host).body(axum::body::Body::empty()).unwrap()
    };
    assert_eq!(send(&app, req("127.0.0.1:7878")).await.status, StatusCode::OK);
    assert_eq!(send(&app, req("localhost:7878")).await.status, StatusCode::OK);
    assert_eq!(send(&app, req("evil.example:7878")).await.status, StatusCode::FORBIDDEN);

    let mut open = config(&f.db);
    assert!(open.check_bind("0.0.0.0:7878".parse().unwrap()).is_err(), "no token, no public bind");
    open.token = Some("short".into());
    assert!(open.check_bind("0.0.0.0:7878".parse().unwrap()).is_err(), "a short token is refused");
    open.token = Some("a-long-enough-token-123".into());
    assert!(open.check_bind("0.0.0.0:7878".parse().unwrap()).is_ok());
    assert!(open.allowed_hosts.is_none());
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let doc: serde_json::Value = serde_json::from_str(muster_web::OPENAPI).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> = muster_web::route_table().into_iter().collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(missing.is_empty(), "routes missing from openapi.json: {missing:?}");
    assert!(extra.is_empty(), "openapi.json documents routes the router lacks: {extra:?}");
    // and every documented route reaches a handler (not the fallback, not 405)
    let f = fixture();
    let app = app(config(&f.db));
    for (method, path) in &routed {
        let uri = path
            .replace("{name}", NAME_PATH)
            .replace("{connector}", NAME_PATH)
            .replace("{rtype}", "user")
            .replace("{id}", "1");
        let req =
            axum::http::Request::builder().method(method.as_str()).uri(&uri).body(axum::body::Body::empty()).unwrap();
        let r = send(&app, req).await;
        assert!(r.headers.get("x-muster-fallback").is_none(), "{method} {uri} fell through");
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
    }
}
