//! API shapes for `muster eval` (issue 9), beyond the demo, generic and trap APIs:
//!
//! * [`generic_openapi`] — an OpenAPI 3.0 document describing a generic [`Scenario`] exactly (every
//!   pagination style and auth method), and [`generic_eval_truth`] — its users, disabled users, groups and
//!   memberships as id lists.
//! * [`serve_rpc_api`] — **Chatter**, a Slack-like RPC API (bearer token): `GET /api/users.list` with the
//!   cursor in `response_metadata.next_cursor` (an **empty string** on the last page), deleted users and
//!   bots, `GET /api/usergroups.list` (no pagination), `GET /api/usergroups.users.list?usergroup=S01`
//!   whose rows are **bare strings**, and `POST /api/tokens.list` whose cursor goes **in the JSON request
//!   body**. [`rpc_openapi`] describes it; [`rpc_truth`] is its data.
//! * [`serve_dict_api`] — **Ledger**, an API-key API (`X-Ledger-Key`): Django-style pages
//!   (`{"count","next","results"}`) with **integer user ids**, teams as a **dict keyed by id** with the
//!   member ids **embedded** in each team, roles with per-role user listings, and API keys.
//!   [`dict_openapi`] describes it; [`dict_truth`] is its data.
//!
//! The documents' `servers[0].url` is the placeholder `http://127.0.0.1:8080`; the eval replaces it with the
//! live server's base URL before drafting (as a live `/openapi.json` would).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::generic::{Auth, Pagination, Scenario, scenario_truth};
use crate::server::{self, TestServer};
use crate::util::{Query, bearer_token, decode_cursor, encode_cursor, error, json, unauthorized};

/// The placeholder server URL of every eval document.
pub const EVAL_PLACEHOLDER_URL: &str = "http://127.0.0.1:8080";

/// The ground truth of an eval API, as id lists. Memberships are `"{group or role id}/{principal id}"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvalTruth {
    pub users: Vec<String>,
    pub disabled_users: Vec<String>,
    pub service_users: Vec<String>,
    pub groups: Vec<String>,
    /// Group memberships and role assignments, `"{resource id}/{principal id}"`.
    pub memberships: Vec<String>,
    pub roles: Vec<String>,
    pub tokens: Vec<String>,
}

// ───────────────────────────── generic scenario: OpenAPI + truth ─────────────────────────────

/// The generic scenario's data as id lists.
pub fn generic_eval_truth(s: &Scenario) -> EvalTruth {
    let t = scenario_truth(s);
    let users: Vec<String> = t.user_ids().collect();
    let disabled_users = users
        .iter()
        .filter(|u| u.trim_start_matches('u').parse::<u64>().is_ok_and(|i| i.is_multiple_of(50)))
        .cloned()
        .collect();
    EvalTruth {
        users,
        disabled_users,
        groups: t.group_ids().collect(),
        memberships: t.memberships().map(|(g, u)| format!("{g}/{u}")).collect(),
        ..EvalTruth::default()
    }
}

fn int_param(name: &str, desc: &str, default: u64, max: Option<u64>) -> Value {
    let mut schema = json!({ "type": "integer", "minimum": 0, "default": default });
    if let (Some(m), Some(o)) = (max, schema.as_object_mut()) {
        o.insert("maximum".into(), json!(m));
    }
    json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": schema })
}

fn str_param(name: &str, desc: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": { "type": "string" } })
}

/// An OpenAPI 3.0.3 document describing the generic API for scenario `s` (`servers[0].url` is
/// [`EVAL_PLACEHOLDER_URL`]).
pub fn generic_openapi(s: &Scenario, title: &str) -> Value {
    let d = s.default_page_size as u64;
    let m = s.max_page_size as u64;
    let (params, envelope_note): (Vec<Value>, &str) = match s.pagination {
        Pagination::None => (vec![], "The whole list in one response, as a bare JSON array."),
        Pagination::Offset => (
            vec![
                int_param("offset", "Number of rows to skip.", 0, None),
                int_param("limit", &format!("Page size; at most {m}."), d, Some(m)),
            ],
            "Offset pagination: add the number of returned rows to `offset` until it reaches `total`.",
        ),
        Pagination::Page => (
            vec![
                int_param("page", "Page number, 1-based.", 1, None),
                int_param("per_page", &format!("Page size; at most {m}."), d, Some(m)),
            ],
            "Page-number pagination: iterate `page` from 1 until rows reach `total`.",
        ),
        Pagination::CursorBody => (
            vec![
                str_param(
                    "cursor",
                    "Opaque cursor from the previous response's `next_cursor`; omit for the first page.",
                ),
                int_param("limit", &format!("Page size; at most {m}."), d, Some(m)),
            ],
            "Cursor pagination: pass the previous response's `next_cursor` as `cursor` until it is null.",
        ),
        Pagination::CursorHeader => (
            vec![
                str_param(
                    "cursor",
                    "Opaque cursor from the previous response's `X-Next-Cursor` header; omit for the first page.",
                ),
                int_param("limit", &format!("Page size; at most {m}."), d, Some(m)),
            ],
            "Cursor pagination: the next page's cursor is in the `X-Next-Cursor` response header, absent on the last page.",
        ),
        Pagination::NextLinkAbsolute | Pagination::NextLinkRelative => (
            vec![
                str_param("cursor", "Opaque cursor; use the `next` URL instead of building it."),
                int_param("limit", &format!("Page size; at most {m}."), d, Some(m)),
            ],
            "Follow the body's `next` URL until it is null.",
        ),
        Pagination::LinkHeader => (
            vec![
                int_param("page", "Page number, 1-based.", 1, None),
                int_param("per_page", &format!("Page size; at most {m}."), d, Some(m)),
            ],
            "A bare JSON array; while more pages exist the response carries an RFC 8288 `Link` header with rel=\"next\".",
        ),
        Pagination::Scim => (
            vec![
                int_param("startIndex", "1-based index of the first result (SCIM).", 1, None),
                int_param("count", &format!("Page size; at most {m} (SCIM)."), d, Some(m)),
            ],
            "SCIM 2.0 ListResponse paging with `startIndex` and `count`; stop at `totalResults`.",
        ),
    };
    let page_of = |schema: &str| -> Value {
        let r = json!({ "$ref": format!("#/components/schemas/{schema}") });
        let arr = json!({ "type": "array", "items": r });
        match s.pagination {
            Pagination::None | Pagination::LinkHeader => arr,
            Pagination::Offset | Pagination::Page => json!({
                "type": "object", "required": ["items", "total"],
                "properties": { "items": arr, "total": { "type": "integer", "description": "Total number of rows." } }
            }),
            Pagination::CursorBody => json!({
                "type": "object", "required": ["items", "next_cursor"],
                "properties": { "items": arr, "next_cursor": { "type": "string", "nullable": true, "description": "Cursor of the next page; null on the last page." } }
            }),
            Pagination::CursorHeader => json!({
                "type": "object", "required": ["items"], "properties": { "items": arr }
            }),
            Pagination::NextLinkAbsolute | Pagination::NextLinkRelative => json!({
                "type": "object", "required": ["items", "next"],
                "properties": { "items": arr, "next": { "type": "string", "nullable": true, "description": if s.pagination == Pagination::NextLinkAbsolute { "Absolute URL of the next page; null on the last page." } else { "URL of the next page, relative to the server root; null on the last page." } } }
            }),
            Pagination::Scim => json!({
                "type": "object", "required": ["schemas", "totalResults", "Resources"],
                "properties": {
                    "schemas": { "type": "array", "items": { "type": "string" } },
                    "totalResults": { "type": "integer" },
                    "startIndex": { "type": "integer" },
                    "itemsPerPage": { "type": "integer" },
                    "Resources": arr
                }
            }),
        }
    };
    let headers = match s.pagination {
        Pagination::CursorHeader => json!({
            "X-Next-Cursor": { "description": "Cursor of the next page; absent on the last page.", "schema": { "type": "string" } }
        }),
        Pagination::LinkHeader => json!({
            "Link": { "description": "RFC 8288 link with rel=\"next\" to the next page; absent on the last page.", "schema": { "type": "string" } }
        }),
        _ => json!({}),
    };
    let ok = |desc: &str, schema: &str| -> Value {
        json!({
            "200": { "description": desc, "headers": headers.clone(), "content": { "application/json": { "schema": page_of(schema) } } },
            "401": { "description": "Missing or invalid credentials." }
        })
    };
    let mut member_params = vec![
        json!({ "name": "id", "in": "path", "required": true, "description": "Group id.", "schema": { "type": "string" } }),
    ];
    member_params.extend(params.iter().cloned());
    let mut paths = json!({
        "/users": { "get": {
            "operationId": "listUsers", "summary": "List users",
            "description": format!("Lists every user account. {envelope_note}"),
            "parameters": params, "responses": ok("A page of users.", "User")
        }},
        "/groups": { "get": {
            "operationId": "listGroups", "summary": "List groups",
            "description": format!("Lists every group. {envelope_note}"),
            "parameters": params, "responses": ok("A page of groups.", "Group")
        }},
        "/groups/{id}/members": { "get": {
            "operationId": "listGroupMembers", "summary": "List the members of a group",
            "description": format!("Lists the users in one group. {envelope_note}"),
            "parameters": member_params, "responses": ok("A page of members.", "Member")
        }}
    });
    let (schemes, security) = generic_security(&s.auth);
    if let (Auth::Login { .. }, Some(p)) = (&s.auth, paths.as_object_mut()) {
        p.insert(
            "/login".into(),
            json!({ "post": {
                "operationId": "login", "summary": "Log in",
                "description": "Exchange a user name and password for a short-lived token; send it as `Authorization: Bearer <token>`.",
                "security": [],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["username", "password"],
                    "properties": { "username": { "type": "string" }, "password": { "type": "string", "format": "password" } }
                }}}},
                "responses": { "200": { "description": "A token.", "content": { "application/json": { "schema": {
                    "type": "object",
                    "properties": { "token": { "type": "string" }, "expires_at": { "type": "string", "format": "date-time" }, "expires_in": { "type": "integer" } }
                }}}}, "401": { "description": "Wrong credentials." } }
            }}),
        );
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": title, "version": "1.0.0", "description": "A small identity API: users, groups and group members." },
        "servers": [ { "url": EVAL_PLACEHOLDER_URL } ],
        "security": security,
        "paths": paths,
        "components": {
            "securitySchemes": schemes,
            "schemas": {
                "User": { "type": "object", "required": ["id", "name", "email", "active"], "properties": {
                    "id": { "type": "string", "example": "u7" },
                    "name": { "type": "string", "description": "Display name." },
                    "email": { "type": "string", "format": "email" },
                    "active": { "type": "boolean", "description": "False when the account is deactivated." }
                }},
                "Group": { "type": "object", "required": ["id", "name"], "properties": {
                    "id": { "type": "string", "example": "g3" }, "name": { "type": "string" }
                }},
                "Member": { "type": "object", "required": ["user_id"], "properties": {
                    "user_id": { "type": "string", "description": "Id of the member user.", "example": "u7" }
                }}
            }
        }
    })
}

fn generic_security(auth: &Auth) -> (Value, Value) {
    let one = |name: &str, scheme: Value| (json!({ name: scheme }), json!([{ name: [] }]));
    match auth {
        Auth::None => (json!({}), json!([])),
        Auth::Basic { .. } => one("basicAuth", json!({ "type": "http", "scheme": "basic" })),
        Auth::Bearer { .. } => one("bearerAuth", json!({ "type": "http", "scheme": "bearer" })),
        Auth::ApiKeyHeader { header, .. } => one("apiKey", json!({ "type": "apiKey", "in": "header", "name": header })),
        Auth::ApiKeyQuery { param, .. } => one("apiKey", json!({ "type": "apiKey", "in": "query", "name": param })),
        Auth::OAuth2ClientCredentials { .. } => one(
            "oauth",
            json!({ "type": "oauth2", "flows": { "clientCredentials": { "tokenUrl": "/oauth/token", "scopes": {} } } }),
        ),
        Auth::OAuth2Password { .. } => one(
            "oauth",
            json!({ "type": "oauth2", "flows": { "password": { "tokenUrl": "/oauth/token", "scopes": {} } } }),
        ),
        Auth::Login { .. } => one(
            "sessionToken",
            json!({ "type": "http", "scheme": "bearer", "description": "A token from `POST /login` (user name and password in a JSON body); it expires." }),
        ),
    }
}

// ───────────────────────────── Chatter: a Slack-like RPC API ─────────────────────────────

/// The Chatter API's bearer token.
pub const RPC_TOKEN: &str = "xoxb-chatter-eval-token";
const RPC_USERS: usize = 45;
const RPC_GROUPS: usize = 4;
const RPC_TOKENS: usize = 12;
const RPC_PAGE_MAX: u64 = 20;

fn rpc_user_id(i: usize) -> String {
    format!("U{i:03}")
}

fn rpc_deleted(i: usize) -> bool {
    i.is_multiple_of(9)
}

fn rpc_bot(i: usize) -> bool {
    i.is_multiple_of(10)
}

fn rpc_group_members(g: usize) -> Vec<usize> {
    (1..=RPC_USERS).filter(|i| (i + g).is_multiple_of(3) && !rpc_deleted(*i)).take(6 + g).collect()
}

fn rpc_user(i: usize) -> Value {
    let mut profile = json!({ "real_name": format!("Person {i}"), "display_name": format!("p{i}") });
    if !rpc_bot(i)
        && let Some(o) = profile.as_object_mut()
    {
        o.insert("email".into(), json!(format!("p{i}@chatter.example")));
    }
    json!({
        "id": rpc_user_id(i), "name": format!("p{i}"), "real_name": format!("Person {i}"),
        "deleted": rpc_deleted(i), "is_bot": rpc_bot(i), "is_admin": i == 1, "profile": profile
    })
}

/// The Chatter API's data.
pub fn rpc_truth() -> EvalTruth {
    EvalTruth {
        users: (1..=RPC_USERS).map(rpc_user_id).collect(),
        disabled_users: (1..=RPC_USERS).filter(|&i| rpc_deleted(i)).map(rpc_user_id).collect(),
        service_users: (1..=RPC_USERS).filter(|&i| rpc_bot(i)).map(rpc_user_id).collect(),
        groups: (1..=RPC_GROUPS).map(|g| format!("S{g:02}")).collect(),
        memberships: (1..=RPC_GROUPS)
            .flat_map(|g| rpc_group_members(g).into_iter().map(move |u| format!("S{g:02}/{}", rpc_user_id(u))))
            .collect(),
        roles: Vec::new(),
        tokens: (1..=RPC_TOKENS).map(|t| format!("T{t:03}")).collect(),
    }
}

fn rpc_auth(headers: &HeaderMap) -> Result<(), Response> {
    if bearer_token(headers) == Some(RPC_TOKEN) {
        Ok(())
    } else {
        Err(unauthorized("Bearer realm=\"chatter\"", "not_authed"))
    }
}

/// Starts the Chatter RPC API on `127.0.0.1` (random free port).
pub fn serve_rpc_api() -> io::Result<TestServer> {
    server::spawn(None, Duration::ZERO, |_base| {
        Router::new()
            .route("/api/users.list", get(rpc_users))
            .route("/api/usergroups.list", get(rpc_groups))
            .route("/api/usergroups.users.list", get(rpc_group_users))
            .route("/api/tokens.list", post(rpc_tokens))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "unknown_method") })
    })
}

fn rpc_window(cursor: Option<&str>, limit: Option<u64>, total: usize) -> Result<(usize, usize, String), Response> {
    let start = match cursor {
        None | Some("") => 0,
        Some(c) => decode_cursor("c", c).ok_or_else(|| error(StatusCode::BAD_REQUEST, "invalid_cursor"))?,
    };
    let limit = limit.unwrap_or(RPC_PAGE_MAX).clamp(1, RPC_PAGE_MAX);
    let start = usize::try_from(start).unwrap_or(usize::MAX).min(total);
    let end = start.saturating_add(usize::try_from(limit).unwrap_or(usize::MAX)).min(total);
    // Slack style: the last page's cursor is an empty string, not null.
    let next = if end < total { encode_cursor("c", end as u64) } else { String::new() };
    Ok((start, end, next))
}

async fn rpc_users(headers: HeaderMap, uri: Uri) -> Response {
    if let Err(r) = rpc_auth(&headers) {
        return r;
    }
    let q = Query::from_uri(&uri);
    let limit = match q.num("limit") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let (start, end, next) = match rpc_window(q.get("cursor"), limit, RPC_USERS) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let members: Vec<Value> = (start + 1..=end).map(rpc_user).collect();
    json(StatusCode::OK, &json!({ "ok": true, "members": members, "response_metadata": { "next_cursor": next } }))
}

async fn rpc_groups(headers: HeaderMap) -> Response {
    if let Err(r) = rpc_auth(&headers) {
        return r;
    }
    let groups: Vec<Value> = (1..=RPC_GROUPS)
        .map(|g| json!({ "id": format!("S{g:02}"), "name": format!("Team {g}"), "handle": format!("team-{g}"), "user_count": rpc_group_members(g).len() }))
        .collect();
    json(StatusCode::OK, &json!({ "ok": true, "usergroups": groups }))
}

async fn rpc_group_users(headers: HeaderMap, uri: Uri) -> Response {
    if let Err(r) = rpc_auth(&headers) {
        return r;
    }
    let q = Query::from_uri(&uri);
    let g = q
        .get("usergroup")
        .and_then(|s| s.strip_prefix('S'))
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|g| (1..=RPC_GROUPS).contains(g));
    let Some(g) = g else {
        return json(StatusCode::OK, &json!({ "ok": false, "error": "no_such_subteam" }));
    };
    let users: Vec<String> = rpc_group_members(g).into_iter().map(rpc_user_id).collect();
    json(StatusCode::OK, &json!({ "ok": true, "users": users }))
}

async fn rpc_tokens(headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = rpc_auth(&headers) {
        return r;
    }
    let req: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => return error(StatusCode::BAD_REQUEST, "invalid_json"),
        }
    };
    let cursor = req.get("cursor").and_then(Value::as_str);
    let limit = req.get("limit").and_then(Value::as_u64).map(|l| l.min(5)).or(Some(5));
    let (start, end, next) = match rpc_window(cursor, limit, RPC_TOKENS) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let tokens: Vec<Value> = (start + 1..=end)
        .map(|t| {
            json!({ "id": format!("T{t:03}"), "name": format!("integration-{t}"), "owner": rpc_user_id(t * 3),
                    "created": 1_700_000_000u64 + t as u64 * 86_400, "expires": Value::Null })
        })
        .collect();
    json(StatusCode::OK, &json!({ "ok": true, "tokens": tokens, "next_cursor": next }))
}

/// An OpenAPI 3.0.3 document describing the Chatter RPC API.
pub fn rpc_openapi() -> Value {
    let ok = |desc: &str, schema: Value| -> Value {
        json!({ "200": { "description": desc, "content": { "application/json": { "schema": schema } } },
                "401": { "description": "`{\"error\":\"not_authed\"}`" } })
    };
    json!({
        "openapi": "3.0.3",
        "info": { "title": "Chatter Web API", "version": "2.1.0", "description": "RPC-style methods: `/api/<family>.<method>`. Every response has `ok`." },
        "servers": [ { "url": format!("{EVAL_PLACEHOLDER_URL}/api") } ],
        "security": [ { "botToken": [] } ],
        "paths": {
            "/users.list": { "get": {
                "operationId": "users_list", "summary": "Lists all users in the workspace, including deactivated ones and bots.",
                "description": "Cursor pagination: pass `response_metadata.next_cursor` as `cursor`; an empty string means there are no more pages.",
                "parameters": [
                    str_param("cursor", "Cursor from the previous page's `response_metadata.next_cursor`."),
                    int_param("limit", "Page size; at most 20.", 20, Some(20))
                ],
                "responses": ok("Users.", json!({ "type": "object", "properties": {
                    "ok": { "type": "boolean" },
                    "members": { "type": "array", "items": { "$ref": "#/components/schemas/User" } },
                    "response_metadata": { "type": "object", "properties": { "next_cursor": { "type": "string" } } }
                }}))
            }},
            "/usergroups.list": { "get": {
                "operationId": "usergroups_list", "summary": "Lists the workspace's user groups.",
                "responses": ok("User groups.", json!({ "type": "object", "properties": {
                    "ok": { "type": "boolean" },
                    "usergroups": { "type": "array", "items": { "$ref": "#/components/schemas/Usergroup" } }
                }}))
            }},
            "/usergroups.users.list": { "get": {
                "operationId": "usergroups_users_list", "summary": "Lists the users in a user group.",
                "parameters": [ { "name": "usergroup", "in": "query", "required": true, "description": "The user group's id.", "schema": { "type": "string" } } ],
                "responses": ok("The user ids in the group.", json!({ "type": "object", "properties": {
                    "ok": { "type": "boolean" },
                    "users": { "type": "array", "items": { "type": "string", "description": "A user id." } }
                }}))
            }},
            "/tokens.list": { "post": {
                "operationId": "tokens_list", "summary": "Lists the workspace's integration tokens (metadata only).",
                "description": "The cursor goes in the JSON request body; the response's `next_cursor` is an empty string on the last page.",
                "requestBody": { "content": { "application/json": { "schema": { "type": "object", "properties": {
                    "cursor": { "type": "string" }, "limit": { "type": "integer", "maximum": 5 }
                }}}}},
                "responses": ok("Tokens.", json!({ "type": "object", "properties": {
                    "ok": { "type": "boolean" },
                    "tokens": { "type": "array", "items": { "$ref": "#/components/schemas/Token" } },
                    "next_cursor": { "type": "string" }
                }}))
            }}
        },
        "components": {
            "securitySchemes": { "botToken": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "User": { "type": "object", "properties": {
                    "id": { "type": "string" }, "name": { "type": "string" }, "real_name": { "type": "string" },
                    "deleted": { "type": "boolean", "description": "True when the account is deactivated." },
                    "is_bot": { "type": "boolean" }, "is_admin": { "type": "boolean" },
                    "profile": { "type": "object", "properties": {
                        "email": { "type": "string", "format": "email", "description": "Absent for bots." },
                        "real_name": { "type": "string" }, "display_name": { "type": "string" }
                    }}
                }},
                "Usergroup": { "type": "object", "properties": {
                    "id": { "type": "string" }, "name": { "type": "string" }, "handle": { "type": "string" }, "user_count": { "type": "integer" }
                }},
                "Token": { "type": "object", "properties": {
                    "id": { "type": "string" }, "name": { "type": "string" }, "owner": { "type": "string", "description": "Owning user id." },
                    "created": { "type": "integer", "description": "Unix time." },
                    "expires": { "type": "integer", "nullable": true, "description": "Unix time; null: never." }
                }}
            }
        }
    })
}

// ───────────────────────────── Ledger: dict-shaped collections ─────────────────────────────

/// The Ledger API's key (header `X-Ledger-Key`).
pub const DICT_KEY: &str = "ledger-eval-key";
const DICT_USERS: usize = 57;
const DICT_PAGE_MAX: u64 = 25;
const DICT_TEAMS: [&str; 4] = ["alpha", "bravo", "charlie", "delta"];
const DICT_ROLES: [&str; 3] = ["admin", "auditor", "billing"];

fn dict_team_members(t: usize) -> Vec<usize> {
    (1..=DICT_USERS).filter(|i| i % 4 == t).take(9).collect()
}

fn dict_role_users(r: usize) -> Vec<usize> {
    (1..=DICT_USERS).filter(|i| i % 11 == r).collect()
}

fn dict_inactive(i: usize) -> bool {
    i.is_multiple_of(8)
}

/// The Ledger API's data.
pub fn dict_truth() -> EvalTruth {
    let mut memberships: Vec<String> = Vec::new();
    for (t, name) in DICT_TEAMS.iter().enumerate() {
        memberships.extend(dict_team_members(t).into_iter().map(|u| format!("{name}/{u}")));
    }
    for (r, name) in DICT_ROLES.iter().enumerate() {
        memberships.extend(dict_role_users(r).into_iter().map(|u| format!("{name}/{u}")));
    }
    EvalTruth {
        users: (1..=DICT_USERS).map(|i| i.to_string()).collect(),
        disabled_users: (1..=DICT_USERS).filter(|&i| dict_inactive(i)).map(|i| i.to_string()).collect(),
        service_users: Vec::new(),
        groups: DICT_TEAMS.iter().map(|t| t.to_string()).collect(),
        memberships,
        roles: DICT_ROLES.iter().map(|r| r.to_string()).collect(),
        tokens: (1..=7).map(|k| format!("ak_{k:02}")).collect(),
    }
}

struct DictState {
    base_url: String,
}

fn dict_auth(headers: &HeaderMap) -> Result<(), Response> {
    if headers.get("x-ledger-key").and_then(|v| v.to_str().ok()) == Some(DICT_KEY) {
        Ok(())
    } else {
        Err(unauthorized("ApiKey realm=\"ledger\", header=\"X-Ledger-Key\"", "unauthorized"))
    }
}

/// Starts the Ledger API on `127.0.0.1` (random free port).
pub fn serve_dict_api() -> io::Result<TestServer> {
    server::spawn(None, Duration::ZERO, |base_url| {
        Router::new()
            .route("/v1/users", get(dict_users))
            .route("/v1/teams", get(dict_teams))
            .route("/v1/roles", get(dict_roles))
            .route("/v1/roles/{key}/users", get(dict_role_members))
            .route("/v1/api-keys", get(dict_keys))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "not found") })
            .with_state(Arc::new(DictState { base_url }))
    })
}

async fn dict_users(State(st): State<Arc<DictState>>, headers: HeaderMap, uri: Uri) -> Response {
    if let Err(r) = dict_auth(&headers) {
        return r;
    }
    let q = Query::from_uri(&uri);
    let (page, size) = match (q.num("page"), q.num("page_size")) {
        (Ok(p), Ok(s)) => (p.unwrap_or(1).max(1), s.unwrap_or(10).clamp(1, DICT_PAGE_MAX)),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let start = usize::try_from((page - 1) * size).unwrap_or(usize::MAX).min(DICT_USERS);
    let end = start.saturating_add(usize::try_from(size).unwrap_or(usize::MAX)).min(DICT_USERS);
    let results: Vec<Value> = (start + 1..=end)
        .map(|i| {
            let email = if i.is_multiple_of(6) { Value::Null } else { json!(format!("user{i}@ledger.example")) };
            json!({ "id": i, "username": format!("user{i}"), "full_name": format!("User {i}"), "email": email, "is_active": !dict_inactive(i) })
        })
        .collect();
    let next = (end < DICT_USERS).then(|| format!("{}/v1/users?page={}&page_size={size}", st.base_url, page + 1));
    json(StatusCode::OK, &json!({ "count": DICT_USERS, "next": next, "previous": Value::Null, "results": results }))
}

async fn dict_teams(headers: HeaderMap) -> Response {
    if let Err(r) = dict_auth(&headers) {
        return r;
    }
    let mut teams = serde_json::Map::new();
    for (t, name) in DICT_TEAMS.iter().enumerate() {
        teams.insert(name.to_string(), json!({ "name": format!("Team {name}"), "member_ids": dict_team_members(t) }));
    }
    json(StatusCode::OK, &json!({ "teams": teams }))
}

async fn dict_roles(headers: HeaderMap) -> Response {
    if let Err(r) = dict_auth(&headers) {
        return r;
    }
    let roles: Vec<Value> =
        DICT_ROLES.iter().map(|r| json!({ "key": r, "label": format!("Role {r}"), "builtin": true })).collect();
    json(StatusCode::OK, &json!({ "data": roles }))
}

async fn dict_role_members(headers: HeaderMap, Path(key): Path<String>) -> Response {
    if let Err(r) = dict_auth(&headers) {
        return r;
    }
    let Some(r) = DICT_ROLES.iter().position(|x| *x == key) else {
        return error(StatusCode::NOT_FOUND, "role not found");
    };
    let users: Vec<Value> = dict_role_users(r).into_iter().map(|u| json!({ "user_id": u })).collect();
    json(StatusCode::OK, &json!({ "data": users }))
}

async fn dict_keys(headers: HeaderMap) -> Response {
    if let Err(r) = dict_auth(&headers) {
        return r;
    }
    let keys: Vec<Value> = (1..=7)
        .map(|k| {
            json!({ "id": format!("ak_{k:02}"), "label": format!("key {k}"), "owner_id": k * 5,
                    "created_at": format!("2026-0{k}-01T00:00:00Z"), "expires_at": if k % 2 == 0 { Value::Null } else { json!("2027-01-01T00:00:00Z") } })
        })
        .collect();
    json(StatusCode::OK, &json!({ "api_keys": keys }))
}

/// An OpenAPI 3.0.3 document describing the Ledger API.
pub fn dict_openapi() -> Value {
    let ok = |desc: &str, schema: Value| -> Value {
        json!({ "200": { "description": desc, "content": { "application/json": { "schema": schema } } },
                "401": { "description": "Missing or wrong key." } })
    };
    json!({
        "openapi": "3.0.3",
        "info": { "title": "Ledger Admin API", "version": "1.0.0" },
        "servers": [ { "url": EVAL_PLACEHOLDER_URL } ],
        "security": [ { "ledgerKey": [] } ],
        "paths": {
            "/v1/users": { "get": {
                "operationId": "listUsers", "summary": "List users",
                "description": "Django-style pages: follow `next` (an absolute URL) until it is null.",
                "parameters": [ int_param("page", "1-based page number.", 1, None), int_param("page_size", "Page size; at most 25.", 10, Some(25)) ],
                "responses": ok("A page of users.", json!({ "type": "object", "properties": {
                    "count": { "type": "integer" }, "next": { "type": "string", "format": "uri", "nullable": true },
                    "previous": { "type": "string", "format": "uri", "nullable": true },
                    "results": { "type": "array", "items": { "$ref": "#/components/schemas/User" } }
                }}))
            }},
            "/v1/teams": { "get": {
                "operationId": "listTeams", "summary": "List teams",
                "description": "All teams as an object keyed by team id; each team embeds its member user ids.",
                "responses": ok("Teams by id.", json!({ "type": "object", "properties": {
                    "teams": { "type": "object", "additionalProperties": { "$ref": "#/components/schemas/Team" } }
                }}))
            }},
            "/v1/roles": { "get": {
                "operationId": "listRoles", "summary": "List roles",
                "responses": ok("Roles.", json!({ "type": "object", "properties": {
                    "data": { "type": "array", "items": { "$ref": "#/components/schemas/Role" } }
                }}))
            }},
            "/v1/roles/{key}/users": { "get": {
                "operationId": "listRoleUsers", "summary": "List the users holding a role",
                "parameters": [ { "name": "key", "in": "path", "required": true, "schema": { "type": "string" } } ],
                "responses": ok("Role holders.", json!({ "type": "object", "properties": {
                    "data": { "type": "array", "items": { "type": "object", "properties": { "user_id": { "type": "integer" } } } }
                }}))
            }},
            "/v1/api-keys": { "get": {
                "operationId": "listApiKeys", "summary": "List API keys (metadata only)",
                "responses": ok("API keys.", json!({ "type": "object", "properties": {
                    "api_keys": { "type": "array", "items": { "$ref": "#/components/schemas/ApiKey" } }
                }}))
            }}
        },
        "components": {
            "securitySchemes": { "ledgerKey": { "type": "apiKey", "in": "header", "name": "X-Ledger-Key" } },
            "schemas": {
                "User": { "type": "object", "properties": {
                    "id": { "type": "integer" }, "username": { "type": "string" }, "full_name": { "type": "string" },
                    "email": { "type": "string", "format": "email", "nullable": true },
                    "is_active": { "type": "boolean", "description": "False when the account is deactivated." }
                }},
                "Team": { "type": "object", "properties": {
                    "name": { "type": "string" },
                    "member_ids": { "type": "array", "items": { "type": "integer" }, "description": "User ids of the members." }
                }},
                "Role": { "type": "object", "properties": {
                    "key": { "type": "string", "description": "The role's id." }, "label": { "type": "string" }, "builtin": { "type": "boolean" }
                }},
                "ApiKey": { "type": "object", "properties": {
                    "id": { "type": "string" }, "label": { "type": "string" }, "owner_id": { "type": "integer" },
                    "created_at": { "type": "string", "format": "date-time" },
                    "expires_at": { "type": "string", "format": "date-time", "nullable": true }
                }}
            }
        }
    })
}
