//! Integration tests of the generic API (`serve(Scenario)`).
#![allow(clippy::unwrap_used)] // test helpers may unwrap

use std::collections::HashSet;
use std::io::{Read, Write};

use base64::Engine;
use muster_testkit::{Auth, Faults, Pagination, RetryAfter, Scenario, TestServer, scenario_truth, serve};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// Credentials the test client attaches to data requests.
#[derive(Clone, Default)]
struct Creds {
    basic: Option<(String, String)>,
    bearer: Option<String>,
    header: Option<(String, String)>,
    query: Option<(String, String)>,
}

async fn creds_for(client: &reqwest::Client, server: &TestServer, auth: &Auth) -> Creds {
    let base = server.base_url();
    match auth {
        Auth::None => Creds::default(),
        Auth::Basic { user, password } => Creds { basic: Some((user.clone(), password.clone())), ..Creds::default() },
        Auth::Bearer { token } => Creds { bearer: Some(token.clone()), ..Creds::default() },
        Auth::ApiKeyHeader { header, key } => Creds { header: Some((header.clone(), key.clone())), ..Creds::default() },
        Auth::ApiKeyQuery { param, key } => Creds { query: Some((param.clone(), key.clone())), ..Creds::default() },
        Auth::OAuth2ClientCredentials { client_id, client_secret, .. } => {
            let resp = client
                .post(format!("{base}/oauth/token"))
                .basic_auth(client_id, Some(client_secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let v: Value = resp.json().await.unwrap();
            assert_eq!(v["token_type"], "Bearer");
            Creds { bearer: Some(v["access_token"].as_str().unwrap().to_owned()), ..Creds::default() }
        }
        Auth::OAuth2Password { client_id, username, password, .. } => {
            let resp = client
                .post(format!("{base}/oauth/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("grant_type=password&client_id={client_id}&username={username}&password={password}"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let v: Value = resp.json().await.unwrap();
            Creds { bearer: Some(v["access_token"].as_str().unwrap().to_owned()), ..Creds::default() }
        }
        Auth::Login { username, password, .. } => {
            let resp = client
                .post(format!("{base}/login"))
                .json(&serde_json::json!({"username": username, "password": password}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let v: Value = resp.json().await.unwrap();
            assert!(v["expires_at"].is_string());
            assert!(v["expires_in"].is_u64());
            Creds { bearer: Some(v["token"].as_str().unwrap().to_owned()), ..Creds::default() }
        }
    }
}

async fn get(client: &reqwest::Client, url: &str, creds: &Creds) -> (u16, HeaderMap, Vec<u8>) {
    let mut url = reqwest::Url::parse(url).unwrap();
    if let Some((p, k)) = &creds.query {
        url.query_pairs_mut().append_pair(p, k);
    }
    let mut req = client.get(url);
    if let Some((u, p)) = &creds.basic {
        req = req.basic_auth(u, Some(p));
    }
    if let Some(t) = &creds.bearer {
        req = req.bearer_auth(t);
    }
    if let Some((h, k)) = &creds.header {
        req = req.header(h.as_str(), k.as_str());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.unwrap().to_vec();
    (status, headers, body)
}

fn link_next(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    let (url, params) = link.split_once(';')?;
    assert!(params.contains(r#"rel="next""#));
    Some(url.trim().trim_start_matches('<').trim_end_matches('>').to_owned())
}

/// Walks a listing in the scenario's pagination style; returns all items.
async fn walk(
    client: &reqwest::Client,
    server: &TestServer,
    style: Pagination,
    path: &str,
    page_size: Option<u64>,
    creds: &Creds,
) -> Vec<Value> {
    let base = server.base_url();
    let size = |name: &str| page_size.map(|n| format!("&{name}={n}")).unwrap_or_default();
    let mut out = Vec::new();
    let mut url = match style {
        Pagination::None => format!("{base}{path}"),
        Pagination::Offset => format!("{base}{path}?offset=0{}", size("limit")),
        Pagination::Page | Pagination::LinkHeader => {
            format!("{base}{path}?page=1{}", size("per_page"))
        }
        Pagination::Scim => format!("{base}{path}?startIndex=1{}", size("count")),
        _ => format!("{base}{path}?{}", size("limit").trim_start_matches('&')),
    };
    let mut page = 1u64;
    for _ in 0..10_000 {
        let (status, headers, body) = get(client, &url, creds).await;
        assert_eq!(status, 200, "GET {url}: {}", String::from_utf8_lossy(&body));
        assert_eq!(headers["content-type"], "application/json");
        let v: Value = serde_json::from_slice(&body).unwrap();
        match style {
            Pagination::None => {
                out.extend(v.as_array().unwrap().iter().cloned());
                return out;
            }
            Pagination::Offset | Pagination::Page => {
                let items = v["items"].as_array().unwrap();
                let total = v["total"].as_u64().unwrap();
                if items.is_empty() {
                    assert_eq!(out.len() as u64, total);
                    return out;
                }
                out.extend(items.iter().cloned());
                page += 1;
                url = if style == Pagination::Offset {
                    format!("{base}{path}?offset={}{}", out.len(), size("limit"))
                } else {
                    format!("{base}{path}?page={page}{}", size("per_page"))
                };
            }
            Pagination::Scim => {
                assert_eq!(v["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:ListResponse");
                let items = v["Resources"].as_array().unwrap();
                assert_eq!(v["itemsPerPage"].as_u64().unwrap(), items.len() as u64);
                assert_eq!(v["startIndex"].as_u64().unwrap(), out.len() as u64 + 1);
                out.extend(items.iter().cloned());
                if out.len() as u64 >= v["totalResults"].as_u64().unwrap() || items.is_empty() {
                    return out;
                }
                url = format!("{base}{path}?startIndex={}{}", out.len() + 1, size("count"));
            }
            Pagination::CursorBody | Pagination::CursorHeader => {
                out.extend(v["items"].as_array().unwrap().iter().cloned());
                let next = if style == Pagination::CursorBody {
                    v["next_cursor"].as_str().map(str::to_owned)
                } else {
                    assert!(v.get("next_cursor").is_none());
                    headers.get("x-next-cursor").map(|h| h.to_str().unwrap().to_owned())
                };
                match next {
                    None => return out,
                    Some(c) => url = format!("{base}{path}?cursor={c}{}", size("limit")),
                }
            }
            Pagination::NextLinkAbsolute | Pagination::NextLinkRelative => {
                out.extend(v["items"].as_array().unwrap().iter().cloned());
                match v["next"].as_str() {
                    None => return out,
                    Some(n) => {
                        if style == Pagination::NextLinkAbsolute {
                            assert!(n.starts_with(&base), "{n}");
                            url = n.to_owned();
                        } else {
                            assert!(n.starts_with(path), "{n}");
                            url = format!("{base}{n}");
                        }
                    }
                }
            }
            Pagination::LinkHeader => {
                out.extend(v.as_array().unwrap().iter().cloned());
                match link_next(&headers) {
                    None => return out,
                    Some(n) => {
                        assert!(n.starts_with(&base));
                        url = n;
                    }
                }
            }
        }
    }
    panic!("pagination did not terminate");
}

fn ids(items: &[Value], key: &str) -> Vec<String> {
    items.iter().map(|v| v[key].as_str().unwrap().to_owned()).collect()
}

fn all_auths() -> Vec<Auth> {
    vec![
        Auth::Basic { user: "alice".into(), password: "s3cret:with:colons".into() },
        Auth::Bearer { token: "static-token".into() },
        Auth::ApiKeyHeader { header: "X-Api-Key".into(), key: "k-123".into() },
        Auth::ApiKeyQuery { param: "api_key".into(), key: "q-456".into() },
        Auth::OAuth2ClientCredentials { client_id: "cid".into(), client_secret: "csecret".into(), token_ttl_s: 3600 },
        Auth::OAuth2Password {
            client_id: "cid".into(),
            username: "bob".into(),
            password: "pw".into(),
            token_ttl_s: 3600,
        },
        Auth::Login { username: "carol".into(), password: "pw2".into(), token_ttl_s: 3600 },
    ]
}

#[tokio::test]
async fn every_pagination_style_walks_all_items() {
    let client = reqwest::Client::new();
    for style in Pagination::ALL {
        let scenario = Scenario {
            users: 237,
            groups: 7,
            members_per_group: 23,
            pagination: style,
            default_page_size: 40,
            max_page_size: 60,
            ..Scenario::default()
        };
        let truth = scenario_truth(&scenario);
        let server = serve(scenario).unwrap();
        let creds = Creds::default();
        // explicit page size, default page size, and a clamped page size
        for size in [Some(25), None, Some(1000)] {
            let users = walk(&client, &server, style, "/users", size, &creds).await;
            assert_eq!(users.len(), 237, "{style:?} {size:?}");
            assert_eq!(ids(&users, "id"), truth.user_ids().collect::<Vec<_>>());
        }
        let first = &walk(&client, &server, style, "/users", Some(5), &creds).await[..3];
        assert_eq!(first[0], serde_json::json!({"id":"u0","name":"User 0","email":"user0@example.com","active":false}));
        assert_eq!(first[1]["active"], true);
        let groups = walk(&client, &server, style, "/groups", Some(3), &creds).await;
        assert_eq!(ids(&groups, "id"), truth.group_ids().collect::<Vec<_>>());
        assert_eq!(groups[2], serde_json::json!({"id":"g2","name":"Group 2"}));
        let mut memberships = 0;
        for g in 0..7u64 {
            let members = walk(&client, &server, style, &format!("/groups/g{g}/members"), Some(10), &creds).await;
            assert_eq!(ids(&members, "user_id"), truth.group_member_ids(g));
            memberships += members.len() as u64;
        }
        assert_eq!(memberships, truth.memberships);
        assert_eq!(memberships, 7 * 23);
    }
}

#[tokio::test]
async fn page_sizes_are_clamped_and_defaulted() {
    let client = reqwest::Client::new();
    let server = serve(Scenario { default_page_size: 7, max_page_size: 30, ..Scenario::default() }).unwrap();
    let base = server.base_url();
    let c = Creds::default();
    let (_, _, b) = get(&client, &format!("{base}/users"), &c).await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 7);
    assert_eq!(v["total"], 250);
    let (_, _, b) = get(&client, &format!("{base}/users?limit=500"), &c).await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 30);
    let (_, _, b) = get(&client, &format!("{base}/users?offset=240&limit=30"), &c).await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 10);
    let (_, _, b) = get(&client, &format!("{base}/users?offset=9999"), &c).await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert!(v["items"].as_array().unwrap().is_empty());
    let (s, _, b) = get(&client, &format!("{base}/users?limit=abc"), &c).await;
    assert_eq!(s, 400);
    assert!(String::from_utf8_lossy(&b).contains("limit"));
    let (s, _, _) = get(&client, &format!("{base}/groups/g10/members"), &c).await;
    assert_eq!(s, 404);
    let (s, _, _) = get(&client, &format!("{base}/groups/x1/members"), &c).await;
    assert_eq!(s, 404);
    let (s, _, _) = get(&client, &format!("{base}/nope"), &c).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn invalid_cursor_is_rejected() {
    let client = reqwest::Client::new();
    let server = serve(Scenario { pagination: Pagination::CursorBody, ..Scenario::default() }).unwrap();
    let (s, _, _) = get(&client, &format!("{}/users?cursor=%%%garbage", server.base_url()), &Creds::default()).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn auth_is_enforced_for_every_style() {
    let client = reqwest::Client::new();
    for style in Pagination::ALL {
        for auth in all_auths() {
            let server = serve(Scenario {
                users: 31,
                groups: 2,
                members_per_group: 5,
                pagination: style,
                auth: auth.clone(),
                default_page_size: 10,
                ..Scenario::default()
            })
            .unwrap();
            let base = server.base_url();
            for path in ["/users", "/groups", "/groups/g1/members"] {
                let (s, h, b) = get(&client, &format!("{base}{path}"), &Creds::default()).await;
                assert_eq!(s, 401, "{style:?} {auth:?} {path}");
                assert!(h.contains_key("www-authenticate"));
                let v: Value = serde_json::from_slice(&b).unwrap();
                assert_eq!(v["error"], "unauthorized");
            }
            let creds = creds_for(&client, &server, &auth).await;
            let users = walk(&client, &server, style, "/users", None, &creds).await;
            assert_eq!(users.len(), 31, "{style:?} {auth:?}");
            let members = walk(&client, &server, style, "/groups/g1/members", Some(2), &creds).await;
            assert_eq!(members.len(), 5);
        }
    }
}

#[tokio::test]
async fn wrong_credentials_are_rejected() {
    let client = reqwest::Client::new();
    let wrong = [
        (
            Auth::Basic { user: "a".into(), password: "b".into() },
            Creds { basic: Some(("a".into(), "x".into())), ..Creds::default() },
        ),
        (Auth::Bearer { token: "t".into() }, Creds { bearer: Some("u".into()), ..Creds::default() }),
        (
            Auth::ApiKeyHeader { header: "X-Key".into(), key: "k".into() },
            Creds { header: Some(("X-Other".into(), "k".into())), ..Creds::default() },
        ),
        (
            Auth::ApiKeyQuery { param: "key".into(), key: "k".into() },
            Creds { query: Some(("key".into(), "nope".into())), ..Creds::default() },
        ),
        (
            Auth::Login { username: "u".into(), password: "p".into(), token_ttl_s: 60 },
            Creds { bearer: Some("made-up".into()), ..Creds::default() },
        ),
    ];
    for (auth, creds) in wrong {
        let server = serve(Scenario { auth, ..Scenario::default() }).unwrap();
        let (s, _, _) = get(&client, &format!("{}/users", server.base_url()), &creds).await;
        assert_eq!(s, 401);
    }
}

#[tokio::test]
async fn oauth_token_endpoint_variants() {
    let client = reqwest::Client::new();
    let server = serve(Scenario {
        auth: Auth::OAuth2ClientCredentials {
            client_id: "my client".into(),
            client_secret: "s&cret".into(),
            token_ttl_s: 120,
        },
        ..Scenario::default()
    })
    .unwrap();
    let base = server.base_url();
    // form-field client authentication (percent-encoded)
    let resp = client
        .post(format!("{base}/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=my+client&client_secret=s%26cret")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["expires_in"], 120);
    assert_eq!(v["token_type"], "Bearer");
    let token = v["access_token"].as_str().unwrap().to_owned();
    let (s, _, _) = get(&client, &format!("{base}/users"), &Creds { bearer: Some(token), ..Creds::default() }).await;
    assert_eq!(s, 200);
    // wrong secret
    let resp = client
        .post(format!("{base}/oauth/token"))
        .basic_auth("my client", Some("wrong"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client");
    // wrong grant type
    let resp = client.post(format!("{base}/oauth/token")).body("grant_type=password").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"], "unsupported_grant_type");
    // /login is not available for this auth
    let resp = client.post(format!("{base}/login")).json(&serde_json::json!({})).send().await.unwrap();
    assert_eq!(resp.status(), 404);

    // password grant with bad user password
    let server = serve(Scenario {
        auth: Auth::OAuth2Password {
            client_id: "cid".into(),
            username: "u".into(),
            password: "p".into(),
            token_ttl_s: 60,
        },
        ..Scenario::default()
    })
    .unwrap();
    let resp = client
        .post(format!("{}/oauth/token", server.base_url()))
        .body("grant_type=password&client_id=cid&username=u&password=bad")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"], "invalid_grant");
    let resp = client
        .post(format!("{}/oauth/token", server.base_url()))
        .basic_auth("cid", Option::<&str>::None)
        .body("grant_type=password&username=u&password=p")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn login_rejects_bad_credentials_and_ttl_expires() {
    let client = reqwest::Client::new();
    let server = serve(Scenario {
        auth: Auth::Login { username: "u".into(), password: "p".into(), token_ttl_s: 0 },
        ..Scenario::default()
    })
    .unwrap();
    let base = server.base_url();
    let resp = client
        .post(format!("{base}/login"))
        .json(&serde_json::json!({"username":"u","password":"nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = client.post(format!("{base}/login")).body("not json").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    // ttl 0: the token is already expired when used
    let creds =
        creds_for(&client, &server, &Auth::Login { username: "u".into(), password: "p".into(), token_ttl_s: 0 }).await;
    let (s, h, b) = get(&client, &format!("{base}/users"), &creds).await;
    assert_eq!(s, 401);
    assert!(h["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["error"], "invalid_token");
}

#[tokio::test]
async fn issued_tokens_expire_after_n_requests() {
    let client = reqwest::Client::new();
    let auth = Auth::OAuth2ClientCredentials { client_id: "c".into(), client_secret: "s".into(), token_ttl_s: 3600 };
    let server = serve(Scenario {
        auth: auth.clone(),
        faults: Faults { token_expires_after_requests: Some(3), ..Faults::default() },
        ..Scenario::default()
    })
    .unwrap();
    let url = format!("{}/users", server.base_url());
    let creds = creds_for(&client, &server, &auth).await;
    for _ in 0..3 {
        assert_eq!(get(&client, &url, &creds).await.0, 200);
    }
    assert_eq!(get(&client, &url, &creds).await.0, 401);
    let fresh = creds_for(&client, &server, &auth).await;
    assert_eq!(get(&client, &url, &fresh).await.0, 200);
    assert_eq!(get(&client, &url, &creds).await.0, 401);
}

#[tokio::test]
async fn rate_limit_and_server_error_faults() {
    let client = reqwest::Client::new();
    let server = serve(Scenario {
        faults: Faults {
            rate_limit_429_first_n: 2,
            error_500_burst: Some((4, 2)),
            slow_ms_every_nth: Some((5, 2)),
            ..Faults::default()
        },
        ..Scenario::default()
    })
    .unwrap();
    let url = format!("{}/users", server.base_url());
    let c = Creds::default();
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let (s, h, b) = get(&client, &url, &c).await;
        if s == 429 {
            assert_eq!(h["retry-after"], "1");
            let v: Value = serde_json::from_slice(&b).unwrap();
            assert_eq!(v["error"], "rate limited");
        }
        statuses.push(s);
    }
    assert_eq!(statuses, vec![429, 429, 200, 500, 500, 200, 200]);
    let log = server.requests();
    assert_eq!(log.len(), 7);
    assert_eq!(log.iter().map(|e| e.status).collect::<Vec<_>>(), vec![429, 429, 200, 500, 500, 200, 200]);
    assert!(log.iter().all(|e| e.method == "GET" && e.path == "/users"));
    assert_eq!(server.request_count(), 7);
    assert!(server.max_requests_in_any_window(3_600_000) == 7);
    assert!(server.max_requests_in_any_window(1) >= 1);
}

#[tokio::test]
async fn retry_after_http_date() {
    let client = reqwest::Client::new();
    let server = serve(Scenario {
        faults: Faults {
            rate_limit_429_first_n: 1,
            retry_after: RetryAfter::HttpDate { after_s: 2 },
            ..Faults::default()
        },
        ..Scenario::default()
    })
    .unwrap();
    let (s, h, _) = get(&client, &format!("{}/groups", server.base_url()), &Creds::default()).await;
    assert_eq!(s, 429);
    let date = h["retry-after"].to_str().unwrap();
    assert!(date.ends_with(" GMT"), "{date}");
    httpdate::parse_http_date(date).unwrap();
}

#[tokio::test]
async fn malformed_and_truncated_bodies() {
    let client = reqwest::Client::new();
    let server = serve(Scenario {
        faults: Faults { malformed_json_at_request: Some(2), truncated_body_at_request: Some(3), ..Faults::default() },
        ..Scenario::default()
    })
    .unwrap();
    let url = format!("{}/users", server.base_url());
    let (s, _, b) = get(&client, &url, &Creds::default()).await;
    assert_eq!(s, 200);
    serde_json::from_slice::<Value>(&b).unwrap();
    let (s, _, b) = get(&client, &url, &Creds::default()).await;
    assert_eq!(s, 200);
    assert!(serde_json::from_slice::<Value>(&b).is_err());
    // truncated: the body read must fail
    let resp = client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.is_err());
    // afterwards the server is healthy again
    let (s, _, b) = get(&client, &url, &Creds::default()).await;
    assert_eq!(s, 200);
    serde_json::from_slice::<Value>(&b).unwrap();
}

#[tokio::test]
async fn repeating_cursor_never_advances() {
    let client = reqwest::Client::new();
    for style in [
        Pagination::CursorBody,
        Pagination::CursorHeader,
        Pagination::NextLinkAbsolute,
        Pagination::NextLinkRelative,
        Pagination::LinkHeader,
    ] {
        let server = serve(Scenario {
            pagination: style,
            faults: Faults { repeating_cursor: true, ..Faults::default() },
            ..Scenario::default()
        })
        .unwrap();
        let base = server.base_url();
        let c = Creds::default();
        let next_of = |h: &HeaderMap, b: &[u8]| -> String {
            let v: Value = serde_json::from_slice(b).unwrap();
            match style {
                Pagination::CursorBody => v["next_cursor"].as_str().unwrap().to_owned(),
                Pagination::CursorHeader => h["x-next-cursor"].to_str().unwrap().to_owned(),
                Pagination::LinkHeader => link_next(h).unwrap(),
                _ => v["next"].as_str().unwrap().to_owned(),
            }
        };
        let (_, h, b) = get(&client, &format!("{base}/users"), &c).await;
        let first = next_of(&h, &b);
        let second_url = match style {
            Pagination::CursorBody | Pagination::CursorHeader => {
                format!("{base}/users?cursor={first}")
            }
            Pagination::NextLinkRelative => format!("{base}{first}"),
            _ => first.clone(),
        };
        let (_, h2, b2) = get(&client, &second_url, &c).await;
        assert_eq!(next_of(&h2, &b2), first, "{style:?}");
        assert_eq!(b, b2, "{style:?}: same page served again");
    }
}

#[tokio::test]
async fn dropped_users_and_memberships() {
    let client = reqwest::Client::new();
    let scenario = Scenario {
        users: 1000,
        groups: 20,
        members_per_group: 30,
        faults: Faults { drop_users_percent: 10, ..Faults::default() },
        ..Scenario::default()
    };
    let truth = scenario_truth(&scenario);
    assert_eq!(truth.users, 900);
    let server = serve(scenario).unwrap();
    let c = Creds::default();
    let users = walk(&client, &server, Pagination::Offset, "/users", Some(77), &c).await;
    assert_eq!(users.len(), 900);
    let served: HashSet<String> = ids(&users, "id").into_iter().collect();
    assert!(!served.contains("u5"));
    assert!(served.contains("u10"));
    assert_eq!(users.iter().filter(|u| u["active"] == false).count() as u64, truth.inactive_users);
    let mut total = 0u64;
    for g in 0..20 {
        let m = walk(&client, &server, Pagination::Offset, &format!("/groups/g{g}/members"), None, &c).await;
        for id in ids(&m, "user_id") {
            assert!(served.contains(&id));
        }
        total += m.len() as u64;
    }
    assert_eq!(total, truth.memberships);
    assert!(total < 20 * 30);
    assert_eq!(truth.memberships().count() as u64, truth.memberships);
}

#[tokio::test]
async fn large_scenario_pages_on_the_fly() {
    let client = reqwest::Client::new();
    let scenario = Scenario {
        users: 1_000_000,
        groups: 10_000,
        members_per_group: 100,
        pagination: Pagination::CursorBody,
        max_page_size: 1000,
        default_page_size: 1000,
        ..Scenario::default()
    };
    let truth = scenario_truth(&scenario);
    assert_eq!(truth.users, 1_000_000);
    assert_eq!(truth.memberships, 1_000_000);
    assert_eq!(truth.inactive_users, 20_000);
    let server = serve(scenario).unwrap();
    let base = server.base_url();
    let c = Creds::default();
    let (s, _, b) = get(&client, &format!("{base}/users?limit=1000"), &c).await;
    assert_eq!(s, 200);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1000);
    let members = walk(&client, &server, Pagination::CursorBody, "/groups/g9999/members", Some(30), &c).await;
    assert_eq!(ids(&members, "user_id"), truth.group_member_ids(9999));
}

#[tokio::test]
async fn latency_and_concurrency_bookkeeping() {
    let client = reqwest::Client::new();
    let server = serve(Scenario { latency_ms: 20, ..Scenario::default() }).unwrap();
    let url = format!("{}/users", server.base_url());
    let futs: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            let url = url.clone();
            async move { client.get(&url).send().await.unwrap().status() }
        })
        .collect();
    for s in futures::future::join_all(futs).await {
        assert_eq!(s, 200);
    }
    assert_eq!(server.request_count(), 8);
    assert!(server.max_concurrent_requests() >= 1);
    assert!(server.max_requests_in_any_window(60_000) == 8);
    server.clear_requests();
    assert!(server.requests().is_empty());
}

/// The server works from plain synchronous code, without any runtime.
#[test]
fn usable_from_sync_code_with_raw_http() {
    let server = serve(Scenario {
        users: 3,
        pagination: Pagination::None,
        auth: Auth::Basic { user: "u".into(), password: "p".into() },
        ..Scenario::default()
    })
    .unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode("u:p");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    write!(
        stream,
        "GET /users HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let body = resp.split("\r\n\r\n").nth(1).unwrap();
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(server.requests()[0].path, "/users");
    drop(server);
}

#[test]
fn dropping_the_server_frees_the_port() {
    let server = serve(Scenario::default()).unwrap();
    let port = server.port();
    drop(server);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
