//! The **trap API** ([`serve_traps`] + [`Traps`]): a small identity API whose
//! traps catch connectors that look right but are silently wrong. Used by the
//! `muster test` (trust report) tests: with each trap switched on, a naive
//! connector must fail the named check and a correct one must pass.
//!
//! ## Data (fixed, deterministic)
//! * 120 users `u001`..`u120`:
//!   `{"id":"u007","name":"User 7","email":"user7@traps.example" | null,"active":true}`.
//!   Every 10th user (`u010`, `u020`, …, `u120`; 12 in total) is inactive
//!   (`active:false`). With [`Traps::null_emails`] every 7th user's email
//!   (`u007`, `u014`, …) is `null`.
//! * 5 groups `g1`..`g5`: `{"id":"g1","name":"Group 1"}`.
//! * Group `g{i}` has 10 active members
//!   `u{(i-1)*20 + 1}, u{(i-1)*20 + 3}, …, u{(i-1)*20 + 19}` (odd ids, never an
//!   inactive user). With [`Traps::pending_members`] it also lists 3
//!   invitations `u{(i-1)*20 + 2}`, `+4`, `+6` with `"state":"pending"`
//!   (existing users, but not members).
//!
//! ## Authentication
//! HTTP Basic [`TRAPS_USER`] / [`TRAPS_PASSWORD`] (`admin` / `traps-secret`)
//! on every data route. Wrong credentials (or any other scheme) →
//! `401 {"error":"unauthorized"}` with `WWW-Authenticate: Basic realm="traps"`.
//! A request with no `Authorization` header is refused the same way — except
//! with [`Traps::anonymous_subset`], where `/users` and `/users/all` answer
//! 200 with only the first [`ANONYMOUS_SUBSET`] users (a "public directory").
//! `/openapi.json` needs no authentication.
//!
//! ## Routes
//! * `GET /users?offset=0&limit=50[&status=active|all]` →
//!   `{"items":[User…],"total":N}`. `limit` default 50, at most 1000.
//!   [`Traps::scope_hides_inactive`]: unless `status=all`, inactive users are
//!   not served and `total` counts only the served ones.
//!   [`Traps::clamp_page`] `= Some(n)`: `limit` is silently clamped to `n` and
//!   the `total` field is omitted.
//! * `GET /users/all` → bare JSON array of every user (no pagination);
//!   [`Traps::cap_unpaginated`] `= Some(n)`: only the first `n`.
//! * `GET /groups` → `{"items":[Group…],"total":5}` (same `offset`/`limit`).
//! * `GET /groups/{id}/members?offset&limit` →
//!   `{"items":[{"user_id":"u001","state":"active"|"pending"}…],"total":N}`;
//!   unknown group → `404 {"error":"group not found"}`.
//! * `GET /openapi.json` → [`traps_openapi`] for the server's base URL.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::server::{self, TestServer};
use crate::util::{Query, basic_credentials, error, json, unauthorized};

/// Basic-auth user name of the trap API.
pub const TRAPS_USER: &str = "admin";
/// Basic-auth password of the trap API.
pub const TRAPS_PASSWORD: &str = "traps-secret";
/// Number of users served to anonymous callers with [`Traps::anonymous_subset`].
pub const ANONYMOUS_SUBSET: usize = 30;
/// Number of users.
pub const TRAPS_USERS: usize = 120;
/// Number of groups.
pub const TRAPS_GROUPS: usize = 5;
/// Active members per group.
pub const TRAPS_MEMBERS_PER_GROUP: usize = 10;
/// Pending invitations per group (with [`Traps::pending_members`]).
pub const TRAPS_PENDING_PER_GROUP: usize = 3;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 1000;
const CHALLENGE: &str = "Basic realm=\"traps\"";

/// Which traps are switched on. `Default`: none (a well-behaved API).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traps {
    /// `/users` without `status=all` hides the inactive users (and its total counts only the served ones).
    pub scope_hides_inactive: bool,
    /// Group member listings include 3 extra `"state":"pending"` invitations per group.
    pub pending_members: bool,
    /// Every 7th user's email is `null`.
    pub null_emails: bool,
    /// `/users` silently clamps `limit` to this and omits `total`.
    pub clamp_page: Option<usize>,
    /// `/users/all` (a bare array, no pagination) returns only the first `n` users.
    pub cap_unpaginated: Option<usize>,
    /// A request without an `Authorization` header gets 200 with the first [`ANONYMOUS_SUBSET`] users.
    pub anonymous_subset: bool,
}

/// All user ids, `u001`..`u120`, in order.
pub fn traps_user_ids() -> Vec<String> {
    (1..=TRAPS_USERS).map(user_id).collect()
}

/// Ids of the inactive users (`u010`, `u020`, …, `u120`).
pub fn traps_inactive_user_ids() -> Vec<String> {
    (1..=TRAPS_USERS).filter(|&i| !is_active(i)).map(user_id).collect()
}

/// Ids of the users whose email is `null` with [`Traps::null_emails`] (`u007`, `u014`, …).
pub fn traps_null_email_user_ids() -> Vec<String> {
    (1..=TRAPS_USERS).filter(|i| i.is_multiple_of(7)).map(user_id).collect()
}

/// Group ids `g1`..`g5`.
pub fn traps_group_ids() -> Vec<String> {
    (1..=TRAPS_GROUPS).map(|g| format!("g{g}")).collect()
}

/// The real (active) memberships as `(group id, user id)` pairs, in listing order.
pub fn traps_active_memberships() -> Vec<(String, String)> {
    (1..=TRAPS_GROUPS).flat_map(|g| active_members(g).into_iter().map(move |u| (format!("g{g}"), user_id(u)))).collect()
}

/// The pending invitations (with [`Traps::pending_members`]) as `(group id, user id)` pairs.
pub fn traps_pending_memberships() -> Vec<(String, String)> {
    (1..=TRAPS_GROUPS)
        .flat_map(|g| pending_members(g).into_iter().map(move |u| (format!("g{g}"), user_id(u))))
        .collect()
}

fn user_id(i: usize) -> String {
    format!("u{i:03}")
}

fn is_active(i: usize) -> bool {
    !i.is_multiple_of(10)
}

fn active_members(g: usize) -> Vec<usize> {
    let base = (g - 1) * 20;
    (0..TRAPS_MEMBERS_PER_GROUP).map(|k| base + 2 * k + 1).collect()
}

fn pending_members(g: usize) -> Vec<usize> {
    let base = (g - 1) * 20;
    (1..=TRAPS_PENDING_PER_GROUP).map(|k| base + 2 * k).collect()
}

fn user_json(i: usize, traps: &Traps) -> Value {
    let email =
        if traps.null_emails && i.is_multiple_of(7) { Value::Null } else { json!(format!("user{i}@traps.example")) };
    json!({ "id": user_id(i), "name": format!("User {i}"), "email": email, "active": is_active(i) })
}

struct TrapState {
    traps: Traps,
    base_url: String,
}

/// Who is asking.
enum Caller {
    Authenticated,
    Anonymous,
}

impl TrapState {
    /// `Ok(Caller)` or the 401 to answer. `anonymous_ok`: the route serves anonymous callers under the trap.
    fn caller(&self, headers: &HeaderMap, anonymous_ok: bool) -> Result<Caller, Response> {
        if !headers.contains_key(header::AUTHORIZATION) {
            if anonymous_ok && self.traps.anonymous_subset {
                return Ok(Caller::Anonymous);
            }
            return Err(unauthorized(CHALLENGE, "unauthorized"));
        }
        match basic_credentials(headers) {
            Some((u, p)) if u == TRAPS_USER && p == TRAPS_PASSWORD => Ok(Caller::Authenticated),
            _ => Err(unauthorized(CHALLENGE, "unauthorized")),
        }
    }
}

fn page_params(q: &Query, clamp: Option<usize>) -> Result<(usize, usize), Response> {
    let offset = q.num("offset")?.unwrap_or(0);
    let mut limit = q.num("limit")?.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    if let Some(n) = clamp {
        limit = limit.min((n as u64).max(1));
    }
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    Ok((offset, limit))
}

fn page<T: Clone>(all: &[T], offset: usize, limit: usize) -> Vec<T> {
    all.iter().skip(offset).take(limit).cloned().collect()
}

/// Starts the trap API on `127.0.0.1` (random free port).
pub fn serve_traps(traps: Traps) -> io::Result<TestServer> {
    server::spawn(None, Duration::ZERO, move |base_url| {
        let state = Arc::new(TrapState { traps, base_url });
        Router::new()
            .route("/users", get(users))
            .route("/users/all", get(users_all))
            .route("/groups", get(groups))
            .route("/groups/{id}/members", get(members))
            .route("/openapi.json", get(openapi))
            .fallback(not_found)
            .with_state(state)
    })
}

type St = State<Arc<TrapState>>;

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not found")
}

async fn users(State(st): St, headers: HeaderMap, uri: Uri) -> Response {
    let caller = match st.caller(&headers, true) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let q = Query::from_uri(&uri);
    let (offset, limit) = match page_params(&q, st.traps.clamp_page) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let everyone = q.get("status") == Some("all");
    let mut ids: Vec<usize> = (1..=TRAPS_USERS).collect();
    if st.traps.scope_hides_inactive && !everyone {
        ids.retain(|&i| is_active(i));
    }
    if matches!(caller, Caller::Anonymous) {
        ids.truncate(ANONYMOUS_SUBSET);
    }
    let items: Vec<Value> = page(&ids, offset, limit).into_iter().map(|i| user_json(i, &st.traps)).collect();
    let body = if st.traps.clamp_page.is_some() {
        json!({ "items": items })
    } else {
        json!({ "items": items, "total": ids.len() })
    };
    json(StatusCode::OK, &body)
}

async fn users_all(State(st): St, headers: HeaderMap) -> Response {
    let caller = match st.caller(&headers, true) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut n = TRAPS_USERS;
    if let Some(cap) = st.traps.cap_unpaginated {
        n = n.min(cap);
    }
    if matches!(caller, Caller::Anonymous) {
        n = n.min(ANONYMOUS_SUBSET);
    }
    let items: Vec<Value> = (1..=n).map(|i| user_json(i, &st.traps)).collect();
    json(StatusCode::OK, &items)
}

async fn groups(State(st): St, headers: HeaderMap, uri: Uri) -> Response {
    if let Err(r) = st.caller(&headers, false) {
        return r;
    }
    let (offset, limit) = match page_params(&Query::from_uri(&uri), None) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let all: Vec<Value> =
        (1..=TRAPS_GROUPS).map(|g| json!({ "id": format!("g{g}"), "name": format!("Group {g}") })).collect();
    json(StatusCode::OK, &json!({ "items": page(&all, offset, limit), "total": all.len() }))
}

async fn members(State(st): St, Path(id): Path<String>, headers: HeaderMap, uri: Uri) -> Response {
    if let Err(r) = st.caller(&headers, false) {
        return r;
    }
    let (offset, limit) = match page_params(&Query::from_uri(&uri), None) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let g = match id.strip_prefix('g').and_then(|n| n.parse::<usize>().ok()) {
        Some(g) if (1..=TRAPS_GROUPS).contains(&g) && id == format!("g{g}") => g,
        _ => return error(StatusCode::NOT_FOUND, "group not found"),
    };
    // Invitations are interleaved with the real members, as real APIs list them.
    let mut all: Vec<Value> = Vec::new();
    let pending = if st.traps.pending_members { pending_members(g) } else { Vec::new() };
    for (k, u) in active_members(g).into_iter().enumerate() {
        all.push(json!({ "user_id": user_id(u), "state": "active" }));
        if let Some(p) = pending.get(k) {
            all.push(json!({ "user_id": user_id(*p), "state": "pending" }));
        }
    }
    json(StatusCode::OK, &json!({ "items": page(&all, offset, limit), "total": all.len() }))
}

async fn openapi(State(st): St) -> Response {
    json(StatusCode::OK, &traps_openapi(&st.base_url))
}

fn page_query_params() -> Value {
    json!([
        { "name": "offset", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "default": 0 } },
        { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "default": 50 } }
    ])
}

fn list_of(schema_ref: &str) -> Value {
    json!({
        "type": "object",
        "properties": {
            "items": { "type": "array", "items": { "$ref": schema_ref } },
            "total": { "type": "integer" }
        }
    })
}

fn ok(schema: Value) -> Value {
    json!({
        "200": { "description": "OK", "content": { "application/json": { "schema": schema } } },
        "401": { "description": "Missing or invalid credentials." }
    })
}

/// A minimal OpenAPI 3.0 document describing the trap API, with `servers[0].url = base_url`.
/// `/users` documents the scoping parameter `status` with `enum: [active, all]`.
pub fn traps_openapi(base_url: &str) -> Value {
    let mut users_params = page_query_params();
    if let Some(a) = users_params.as_array_mut() {
        a.push(json!({
            "name": "status",
            "in": "query",
            "required": false,
            "description": "Which users to list: `active` (the default) or `all` (including deactivated users).",
            "schema": { "type": "string", "enum": ["active", "all"], "default": "active" }
        }));
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": "Traps API", "version": "1.0.0" },
        "servers": [ { "url": base_url } ],
        "security": [ { "basic": [] } ],
        "paths": {
            "/users": {
                "get": {
                    "operationId": "listUsers",
                    "summary": "List users (offset pagination)",
                    "parameters": users_params,
                    "responses": ok(list_of("#/components/schemas/User"))
                }
            },
            "/users/all": {
                "get": {
                    "operationId": "listAllUsers",
                    "summary": "All users as one array",
                    "responses": ok(json!({ "type": "array", "items": { "$ref": "#/components/schemas/User" } }))
                }
            },
            "/groups": {
                "get": {
                    "operationId": "listGroups",
                    "summary": "List groups (offset pagination)",
                    "parameters": page_query_params(),
                    "responses": ok(list_of("#/components/schemas/Group"))
                }
            },
            "/groups/{id}/members": {
                "get": {
                    "operationId": "listGroupMembers",
                    "summary": "List a group's members (offset pagination)",
                    "parameters": [
                        { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                        { "name": "offset", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "default": 0 } },
                        { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "default": 50 } }
                    ],
                    "responses": ok(list_of("#/components/schemas/Member"))
                }
            }
        },
        "components": {
            "securitySchemes": { "basic": { "type": "http", "scheme": "basic" } },
            "schemas": {
                "User": {
                    "type": "object",
                    "required": ["id", "name", "active"],
                    "properties": {
                        "id": { "type": "string" },
                        "name": { "type": "string" },
                        "email": { "type": "string", "nullable": true },
                        "active": { "type": "boolean" }
                    }
                },
                "Group": {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": { "id": { "type": "string" }, "name": { "type": "string" } }
                },
                "Member": {
                    "type": "object",
                    "required": ["user_id", "state"],
                    "properties": {
                        "user_id": { "type": "string" },
                        "state": { "type": "string", "enum": ["active", "pending"] }
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_helpers() {
        assert_eq!(traps_user_ids().len(), 120);
        assert_eq!(traps_user_ids()[0], "u001");
        assert_eq!(traps_inactive_user_ids().len(), 12);
        assert_eq!(traps_active_memberships().len(), 50);
        assert_eq!(traps_pending_memberships().len(), 15);
        let inactive = traps_inactive_user_ids();
        assert!(traps_active_memberships().iter().all(|(_, u)| !inactive.contains(u)));
        assert!(traps_pending_memberships().iter().all(|(_, u)| !inactive.contains(u)));
        assert_eq!(traps_null_email_user_ids().len(), 17);
    }
}
