//! Integration tests of the Acme demo API.
#![allow(clippy::unwrap_used)] // test helpers may unwrap

use std::collections::{BTreeSet, HashSet};

use muster_testkit::{
    DEMO_ADMIN_TOKEN, DEMO_PASSWORD, DEMO_REFERENCE_NOW, DEMO_USER, TestServer, demo_openapi, demo_truth, serve_demo,
};
use serde_json::Value;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn api(c: &reqwest::Client, s: &TestServer, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp =
        c.get(format!("{}{path}", s.base_url())).basic_auth(DEMO_USER, Some(DEMO_PASSWORD)).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap())
}

async fn admin(c: &reqwest::Client, url: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = c.get(url).bearer_auth(DEMO_ADMIN_TOKEN).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap())
}

const API_ROUTES: [&str; 5] =
    ["/api/v1/users", "/api/v1/groups", "/api/v1/groups/g01/members", "/api/v1/tokens", "/api/v1/me"];
const ADMIN_ROUTES: [&str; 2] = ["/admin/roles", "/admin/roles/r1/assignments"];

#[tokio::test]
async fn auth_is_enforced() {
    let s = serve_demo(None).unwrap();
    let c = client();
    let base = s.base_url();
    for path in API_ROUTES {
        for req in [
            c.get(format!("{base}{path}")),
            c.get(format!("{base}{path}")).basic_auth(DEMO_USER, Some("wrong")),
            c.get(format!("{base}{path}")).bearer_auth(DEMO_ADMIN_TOKEN),
        ] {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 401, "{path}");
            assert!(resp.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
            let v: Value = resp.json().await.unwrap();
            assert_eq!(v, serde_json::json!({"error":"unauthorized"}));
        }
    }
    for path in ADMIN_ROUTES {
        for req in [
            c.get(format!("{base}{path}")),
            c.get(format!("{base}{path}")).bearer_auth("nope"),
            c.get(format!("{base}{path}")).basic_auth(DEMO_USER, Some(DEMO_PASSWORD)),
        ] {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 401, "{path}");
            assert!(resp.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
        }
    }
    // openapi.json is public
    let resp = c.get(format!("{base}/openapi.json")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["servers"][0]["url"], base);
}

#[tokio::test]
async fn users_offset_pagination_matches_truth() {
    let s = serve_demo(None).unwrap();
    let c = client();
    let truth = demo_truth();
    let mut users = Vec::new();
    let mut offset = 0;
    loop {
        let (st, _, v) = api(&c, &s, &format!("/api/v1/users?offset={offset}&limit=70")).await;
        assert_eq!(st, 200);
        assert_eq!(v["total"], 300);
        assert_eq!(v["offset"], offset);
        assert_eq!(v["limit"], 70);
        let items = v["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        offset += items.len();
        users.extend(items.iter().cloned());
    }
    assert_eq!(users.len(), truth.user_count);
    let ids: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, truth.user_ids);
    assert_eq!(ids[0], "u0001");
    assert_eq!(ids[299], "u0300");
    let disabled: Vec<&str> =
        users.iter().filter(|u| u["active"] == false).map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(disabled, truth.disabled_user_ids);
    assert_eq!(disabled.len(), 1);
    let svc: Vec<&Value> = users.iter().filter(|u| u["type"] == "service").collect();
    assert_eq!(svc.len(), truth.service_account_ids.len());
    assert_eq!(svc.len(), 12);
    for u in &svc {
        assert!(u["userName"].as_str().unwrap().starts_with("svc-"));
        assert!(u["email"].is_null());
        assert_eq!(u["mfaEnabled"], false);
    }
    let no_email = users.iter().filter(|u| u["email"].is_null()).count();
    assert_eq!(no_email, truth.users_without_email.len());
    for u in &users {
        for key in
            ["id", "userName", "displayName", "email", "active", "type", "lastLoginAt", "mfaEnabled", "createdAt"]
        {
            assert!(u.get(key).is_some(), "{key} missing in {u}");
        }
        chrono::DateTime::parse_from_rfc3339(u["createdAt"].as_str().unwrap()).unwrap();
        if let Some(t) = u["lastLoginAt"].as_str() {
            chrono::DateTime::parse_from_rfc3339(t).unwrap();
        }
    }
    // default and clamped limits
    let (_, _, v) = api(&c, &s, "/api/v1/users").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 50);
    let (_, _, v) = api(&c, &s, "/api/v1/users?limit=1000").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 100);
    assert_eq!(v["limit"], 100);
    // whoami
    let (st, _, me) = api(&c, &s, "/api/v1/me").await;
    assert_eq!(st, 200);
    assert_eq!(me["userName"], DEMO_USER);
    assert_eq!(me, users[0]);
}

#[tokio::test]
async fn groups_and_members_match_truth() {
    let s = serve_demo(None).unwrap();
    let c = client();
    let truth = demo_truth();
    let mut groups = Vec::new();
    let mut page = 1;
    loop {
        let (st, _, v) = api(&c, &s, &format!("/api/v1/groups?page={page}&per_page=10")).await;
        assert_eq!(st, 200);
        assert_eq!(v["total"], 25);
        assert_eq!(v["total_pages"], 3);
        assert_eq!(v["page"], page);
        groups.extend(v["data"].as_array().unwrap().iter().cloned());
        if page == v["total_pages"].as_u64().unwrap() {
            break;
        }
        page += 1;
    }
    let gids: Vec<&str> = groups.iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert_eq!(gids, truth.group_ids);
    let (_, _, v) = api(&c, &s, "/api/v1/groups").await;
    assert_eq!(v["per_page"], 20);
    assert_eq!(v["data"].as_array().unwrap().len(), 20);

    let mut active = BTreeSet::new();
    let mut pending = BTreeSet::new();
    let mut pages = 0;
    for gid in &gids {
        let mut url = format!("/api/v1/groups/{gid}/members?limit=40");
        loop {
            let (st, _, v) = api(&c, &s, &url).await;
            assert_eq!(st, 200);
            pages += 1;
            for m in v["members"].as_array().unwrap() {
                let pair = (gid.to_string(), m["userId"].as_str().unwrap().to_owned());
                assert!(m["role"] == "member" || m["role"] == "owner");
                match m["state"].as_str().unwrap() {
                    "active" => assert!(active.insert(pair)),
                    "pending" => assert!(pending.insert(pair)),
                    other => panic!("{other}"),
                }
            }
            match v["next_cursor"].as_str() {
                Some(cur) => url = format!("/api/v1/groups/{gid}/members?limit=40&cursor={cur}"),
                None => break,
            }
        }
    }
    assert!(pages > gids.len(), "some group needs several pages");
    assert_eq!(active, truth.active_memberships.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(pending, truth.pending_memberships.iter().cloned().collect::<BTreeSet<_>>());
    assert!(!pending.is_empty());
    let resp = c
        .get(format!("{}/api/v1/groups/g99/members", s.base_url()))
        .basic_auth(DEMO_USER, Some(DEMO_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = c
        .get(format!("{}/api/v1/groups/g01/members?cursor=bogus", s.base_url()))
        .basic_auth(DEMO_USER, Some(DEMO_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn tokens_follow_relative_next_links() {
    let s = serve_demo(None).unwrap();
    let c = client();
    let truth = demo_truth();
    let mut tokens = Vec::new();
    let mut url = "/api/v1/tokens".to_owned();
    let mut pages = 0;
    loop {
        let (st, _, v) = api(&c, &s, &url).await;
        assert_eq!(st, 200);
        pages += 1;
        tokens.extend(v["tokens"].as_array().unwrap().iter().cloned());
        match v["links"]["next"].as_str() {
            Some(n) => {
                assert!(n.starts_with("/api/v1/tokens?after="));
                url = n.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(tokens.len(), 40);
    let ids: Vec<&str> = tokens.iter().map(|t| t["id"].as_str().unwrap()).collect();
    let truth_ids: Vec<&str> = truth.tokens.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, truth_ids);
    let reference = chrono::DateTime::parse_from_rfc3339(DEMO_REFERENCE_NOW).unwrap();
    for (t, tt) in tokens.iter().zip(&truth.tokens) {
        assert!(t["id"].as_str().unwrap().starts_with("tok_"));
        assert!(t["prefix"].as_str().unwrap().starts_with("acme_pat_"));
        assert!(t.get("secret").is_none());
        assert_eq!(t["lastUsedAt"].is_null(), tt.never_used);
        assert_eq!(t["expiresAt"].is_null(), tt.never_expires);
        let expired =
            t["expiresAt"].as_str().is_some_and(|e| chrono::DateTime::parse_from_rfc3339(e).unwrap() < reference);
        assert_eq!(expired, tt.expired);
        assert_eq!(t["ownerId"].as_str(), tt.owner_id.as_deref());
    }
    assert_eq!(tokens.iter().filter(|t| t["ownerId"].is_null()).count(), 3);
    let (_, _, v) = api(&c, &s, "/api/v1/tokens?limit=50").await;
    assert_eq!(v["tokens"].as_array().unwrap().len(), 40);
    assert!(v["links"]["next"].is_null());
}

#[tokio::test]
async fn roles_link_header_and_assignments() {
    let s = serve_demo(None).unwrap();
    let c = client();
    let truth = demo_truth();
    let mut url = format!("{}/admin/roles", s.base_url());
    let mut roles = Vec::new();
    let mut pages = 0;
    loop {
        let (st, h, v) = admin(&c, &url).await;
        assert_eq!(st, 200);
        pages += 1;
        roles.extend(v.as_array().unwrap().iter().cloned());
        match h.get("link") {
            Some(l) => {
                let l = l.to_str().unwrap();
                assert!(l.ends_with(r#">; rel="next""#), "{l}");
                let next = l.trim_start_matches('<').split('>').next().unwrap();
                assert!(next.starts_with(&s.base_url()));
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let ids: Vec<&str> = roles.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, truth.role_ids);
    assert_eq!(roles[0]["name"], "Org Admin");
    let mut got = Vec::new();
    for id in &ids {
        let (st, _, v) = admin(&c, &format!("{}/admin/roles/{id}/assignments", s.base_url())).await;
        assert_eq!(st, 200);
        for a in v["assignments"].as_array().unwrap() {
            got.push((
                id.to_string(),
                a["principalId"].as_str().unwrap().to_owned(),
                a["principalType"].as_str().unwrap().to_owned(),
            ));
        }
    }
    assert_eq!(got, truth.role_assignments);
    let (st, _, _) = admin(&c, &format!("{}/admin/roles/r99/assignments", s.base_url())).await;
    assert_eq!(st, 404);
}

fn resolve<'a>(doc: &'a Value, r: &str) -> &'a Value {
    doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling $ref {r}"))
}

fn check_refs(doc: &Value, v: &Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                resolve(doc, r);
            }
            m.values().for_each(|x| check_refs(doc, x));
        }
        Value::Array(a) => a.iter().for_each(|x| check_refs(doc, x)),
        _ => {}
    }
}

#[test]
fn openapi_document_describes_every_route() {
    let doc = demo_openapi();
    // round-trips as JSON
    let text = serde_json::to_string(&doc).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().unwrap();
    let expected: HashSet<&str> = [
        "/api/v1/users",
        "/api/v1/groups",
        "/api/v1/groups/{id}/members",
        "/api/v1/tokens",
        "/api/v1/me",
        "/admin/roles",
        "/admin/roles/{id}/assignments",
        "/openapi.json",
    ]
    .into_iter()
    .collect();
    assert_eq!(paths.keys().map(String::as_str).collect::<HashSet<_>>(), expected);
    check_refs(&doc, &doc);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["basicAuth"]["scheme"], "basic");
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    for (path, item) in paths {
        let op = &item["get"];
        assert!(op["responses"]["200"].is_object(), "{path}");
        let sec = op["security"].as_array().unwrap();
        if path.starts_with("/api/v1") {
            assert!(sec[0].get("basicAuth").is_some(), "{path}");
        } else if path.starts_with("/admin") {
            assert!(sec[0].get("bearerAuth").is_some(), "{path}");
        }
        // every {param} in the path is declared
        for seg in path.split('/').filter(|s| s.starts_with('{')) {
            let name = seg.trim_matches(|c| c == '{' || c == '}');
            let params = op["parameters"].as_array().unwrap();
            assert!(params.iter().any(|p| p["name"] == name && p["in"] == "path"));
        }
    }
    let names = |p: &str| -> Vec<String> {
        paths[p]["get"]["parameters"]
            .as_array()
            .map(|a| a.iter().map(|x| x["name"].as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    assert_eq!(names("/api/v1/users"), ["offset", "limit"]);
    assert_eq!(names("/api/v1/groups"), ["page", "per_page"]);
    assert_eq!(names("/api/v1/groups/{id}/members"), ["id", "cursor", "limit"]);
    assert_eq!(names("/api/v1/tokens"), ["limit", "after"]);
    assert_eq!(names("/admin/roles"), ["page", "per_page"]);
    let user = &doc["components"]["schemas"]["User"]["properties"];
    assert_eq!(user["email"]["nullable"], true);
    assert!(paths["/admin/roles"]["get"]["responses"]["200"]["headers"]["Link"].is_object());
}

#[tokio::test]
async fn response_shapes_match_openapi_required_fields() {
    let s = serve_demo(None).unwrap();
    let c = client();
    let doc = demo_openapi();
    let required = |schema: &str| -> Vec<String> {
        doc["components"]["schemas"][schema]["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect()
    };
    let check = |v: &Value, schema: &str| {
        let obj = v.as_object().unwrap();
        let req = required(schema);
        assert_eq!(obj.len(), req.len(), "{schema}: {v}");
        for k in req {
            assert!(obj.contains_key(&k), "{schema} lacks {k}");
        }
    };
    let (_, _, v) = api(&c, &s, "/api/v1/users?limit=1").await;
    check(&v, "UserList");
    check(&v["items"][0], "User");
    let (_, _, v) = api(&c, &s, "/api/v1/groups").await;
    check(&v, "GroupPage");
    check(&v["data"][0], "Group");
    let (_, _, v) = api(&c, &s, "/api/v1/groups/g02/members").await;
    check(&v, "MemberPage");
    check(&v["members"][0], "Membership");
    let (_, _, v) = api(&c, &s, "/api/v1/tokens").await;
    check(&v, "TokenPage");
    check(&v["tokens"][0], "Token");
    let (_, _, v) = admin(&c, &format!("{}/admin/roles", s.base_url())).await;
    check(&v[0], "Role");
    let (_, _, v) = admin(&c, &format!("{}/admin/roles/r1/assignments", s.base_url())).await;
    check(&v, "RoleAssignmentList");
    check(&v["assignments"][0], "RoleAssignment");
}

#[test]
fn serve_demo_on_a_fixed_port() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = serve_demo(Some(port)).unwrap();
    assert_eq!(s.port(), port);
    assert_eq!(s.base_url(), format!("http://127.0.0.1:{port}"));
    // the port is taken now
    assert!(serve_demo(Some(port)).is_err());
}

#[test]
fn truth_is_deterministic() {
    assert_eq!(demo_truth(), demo_truth());
    let t = demo_truth();
    assert_eq!(t.user_count, 300);
    assert_eq!(t.group_ids.len(), 25);
    assert_eq!(t.role_ids.len(), 12);
    assert_eq!(t.tokens.len(), 40);
    assert!(t.service_account_ids.len() >= 10);
}
