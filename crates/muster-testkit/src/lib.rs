//! # muster-testkit
//!
//! Local HTTP API servers for Muster's tests, the built-in demo and
//! benchmarks. Every server listens on `127.0.0.1` (a random free port unless
//! stated otherwise) and runs on **its own OS thread with its own tokio
//! runtime**, so it works from plain `#[test]`s and from async tests alike.
//! Dropping the returned [`TestServer`] shuts it down.
//!
//! ```no_run
//! let server = muster_testkit::serve(muster_testkit::Scenario::default()).unwrap();
//! let url = format!("{}/users?offset=0&limit=50", server.base_url());
//! // ... issue requests ...
//! assert!(server.request_count() >= 1);
//! ```
//!
//! Two APIs are provided:
//!
//! 1. [`serve_demo`] — the **Acme demo API**, a realistic SaaS identity API with
//!    deterministic data (users, groups, memberships, API tokens, roles).
//!    [`demo_truth`] exposes its ground truth and [`demo_openapi`] an OpenAPI
//!    3.0 document describing it.
//! 2. [`serve`] — the **generic API**, configured by a [`Scenario`]: any
//!    number of users/groups/memberships (generated on the fly, suitable for
//!    1M users), nine pagination styles, eight authentication methods and
//!    fault injection. [`scenario_truth`] computes the exact expected data.
//!
//! Common conventions of both APIs:
//! * All bodies are JSON (`Content-Type: application/json`), including errors,
//!   which are `{"error": "<message>"}` (OAuth token errors additionally carry
//!   `"error_description"`).
//! * Unknown paths → `404 {"error":"not found"}`.
//! * A query parameter that must be a non-negative integer but is not →
//!   `400 {"error":"invalid value for query parameter '<name>': ..."}`; an
//!   undecodable cursor → `400 {"error":"invalid cursor"}`.
//! * Page sizes are clamped silently; pages past the end are empty.
//! * 401 responses carry a `WWW-Authenticate` header.
//!
//! ## Server handle
//!
//! [`TestServer`] offers [`base_url`](TestServer::base_url)
//! (`"http://127.0.0.1:PORT"`, no trailing slash), [`port`](TestServer::port),
//! a request log ([`requests`](TestServer::requests): method, path+query,
//! status, arrival time; capped at [`REQUEST_LOG_CAP`] entries),
//! [`request_count`](TestServer::request_count) (every request on every
//! route), [`max_requests_in_any_window`](TestServer::max_requests_in_any_window)
//! (for rate-limit assertions) and
//! [`max_concurrent_requests`](TestServer::max_concurrent_requests).
//!
//! ---
//!
//! ## 1. Acme demo API ([`serve_demo`])
//!
//! Authentication:
//! * `/api/v1/*`: HTTP Basic with [`DEMO_USER`] / [`DEMO_PASSWORD`]
//!   (`admin` / `acme-demo-password`). Failure → `401 {"error":"unauthorized"}`
//!   with `WWW-Authenticate: Basic realm="Acme API"`.
//! * `/admin/*`: `Authorization: Bearer acme-admin-token-3f9a`
//!   ([`DEMO_ADMIN_TOKEN`]). Failure → `401 {"error":"unauthorized"}` with
//!   `WWW-Authenticate: Bearer realm="Acme Admin"`.
//! * `/openapi.json`: no authentication.
//!
//! Data is fixed (no wall clock): 300 users, 25 groups, 40 tokens, 12 roles;
//! the data set's "now" is [`DEMO_REFERENCE_NOW`] (2026-11-01T00:00:00Z).
//! Timestamps are RFC 3339 UTC with second precision (`2026-03-04T05:06:07Z`).
//!
//! ### `GET /api/v1/users?offset=0&limit=50`
//! Offset pagination. `offset` default 0; `limit` default 50, clamped to
//! 1..=100. Response:
//! ```json
//! {"items":[User, ...], "total":300, "offset":0, "limit":50}
//! ```
//! `User`:
//! ```json
//! {"id":"u0007", "userName":"jdoe12", "displayName":"Jane Doe",
//!  "email":"jane.doe@acme.example" | null, "active":true,
//!  "type":"human" | "service", "lastLoginAt":"2026-07-01T10:00:00Z" | null,
//!  "mfaEnabled":true, "createdAt":"2023-03-22T04:00:00Z"}
//! ```
//! Ids `u0001`..`u0300` in order; `u0001` is the `admin` user. Every 25th
//! user (`u0025`, `u0050`, …, `u0300`; 12 in total) is a service account:
//! `userName` starts with `svc-`, `email` null, `mfaEnabled` false,
//! `lastLoginAt` null. Exactly one human is disabled (`active:false`). 15
//! users (the 12 service accounts and 3 humans) have `email: null`.
//!
//! ### `GET /api/v1/groups?page=1&per_page=20`
//! Page-number pagination (1-based; `page=0` is treated as 1). `per_page`
//! default 20, clamped to 1..=100. Response:
//! ```json
//! {"data":[{"id":"g01","name":"All Employees","description":"..."}, ...],
//!  "page":1, "per_page":20, "total_pages":2, "total":25}
//! ```
//! Ids `g01`..`g25`. `g24` ("Alumni") has no members.
//!
//! ### `GET /api/v1/groups/{id}/members?cursor=...&limit=50`
//! Cursor pagination with the cursor in the body. Omit `cursor` for the first
//! page; `limit` default 50, clamped to 1..=100. Response:
//! ```json
//! {"members":[{"userId":"u0007","role":"member" | "owner","state":"active" | "pending"}, ...],
//!  "next_cursor":"opaque-string" | null}
//! ```
//! `state:"pending"` marks an invitation (not an effective membership).
//! Unknown group → `404 {"error":"group not found"}`. `g01` ("All Employees")
//! has 288 members (every human, including the disabled one).
//!
//! ### `GET /api/v1/tokens?limit=20&after=...`
//! Keyset pagination with a relative next link. `limit` default 20, clamped to
//! 1..=100; `after` = last token id of the previous page. Response:
//! ```json
//! {"tokens":[Token, ...], "links":{"next":"/api/v1/tokens?after=tok_...&limit=20" | null}}
//! ```
//! `Token` (the secret value is never returned):
//! ```json
//! {"id":"tok_0a1b2c3d4e5f", "name":"nightly-backup", "ownerId":"u0025" | null,
//!  "createdAt":"...", "expiresAt":"..." | null, "lastUsedAt":"..." | null,
//!  "scopes":["users:read", ...], "prefix":"acme_pat_0a1b"}
//! ```
//! 40 tokens sorted by id; 3 have `ownerId: null`; `expiresAt: null` means
//! never expires; some `expiresAt` are before 2026-11-01 (expired);
//! `lastUsedAt: null` means never used.
//!
//! ### `GET /api/v1/me`
//! The authenticated user (`u0001`, `userName:"admin"`) as a bare `User`
//! object — a whoami, not an identity listing.
//!
//! ### `GET /admin/roles?page=1&per_page=5` (bearer)
//! Bare JSON array `[{"id":"r1","name":"Org Admin","description":"..."}, ...]`;
//! 12 roles `r1`..`r12`. `page` default 1 (1-based), `per_page` default 5,
//! clamped to 1..=100. While more pages exist the response has the header
//! `Link: <http://127.0.0.1:PORT/admin/roles?page=2&per_page=5>; rel="next"`
//! (absolute URL); it is absent on the last page.
//!
//! ### `GET /admin/roles/{id}/assignments` (bearer)
//! Not paginated:
//! `{"assignments":[{"principalId":"u0003","principalType":"user" | "group"}, ...]}`.
//! Group principals use group ids (`g04`). `r12` has no assignments. Unknown
//! role → `404 {"error":"role not found"}`.
//!
//! ### `GET /openapi.json`
//! [`demo_openapi`] with `servers[0].url` set to the server's base URL.
//!
//! ---
//!
//! ## 2. Generic API ([`serve`] + [`Scenario`])
//!
//! ### Data
//! * Users `u0` .. `u{users-1}`:
//!   `{"id":"u{i}","name":"User {i}","email":"user{i}@example.com","active":<i % 50 != 0>}`.
//!   With `faults.drop_users_percent = p`, only users with `i % 100 >= p` are
//!   served (order preserved).
//! * Groups `g0` .. `g{groups-1}`: `{"id":"g{i}","name":"Group {i}"}`.
//! * Members of group `g`: user `(g*7 + k*13) % users` for
//!   `k in 0..members_per_group`, duplicates removed (first occurrence kept,
//!   order by `k`), dropped users removed. Member object: `{"user_id":"u{i}"}`.
//! * [`scenario_truth`] returns the exact counts and id lists.
//!
//! ### Routes
//! * `GET /users`, `GET /groups`, `GET /groups/{id}/members` — the data
//!   routes. All three use the scenario's pagination style and auth. Unknown
//!   or malformed group id (anything but `g{n}` with `n < groups`) →
//!   `404 {"error":"group not found"}`.
//! * `POST /oauth/token` — only for the OAuth2 auth variants (else 404).
//! * `POST /login` — only for [`Auth::Login`] (else 404).
//!
//! ### Pagination ([`Pagination`])
//! `D` = `default_page_size`, `M` = `max_page_size`; page sizes absent → `D`,
//! clamped to `1..=M` (SCIM `count` to `0..=M`). Cursors are opaque strings
//! (URL-safe base64) valid for any of the three routes' own listing.
//!
//! | Style | Request params | Response |
//! |---|---|---|
//! | `None` | (ignored) | bare array of all items |
//! | `Offset` | `offset` (0), `limit` | `{"items":[...],"total":T}` |
//! | `Page` | `page` (1-based, 0→1), `per_page` | `{"items":[...],"total":T}` |
//! | `CursorBody` | `cursor` (absent = start), `limit` | `{"items":[...],"next_cursor":"..."\|null}` |
//! | `CursorHeader` | `cursor`, `limit` | `{"items":[...]}` + header `X-Next-Cursor: ...` (absent on last page) |
//! | `NextLinkAbsolute` | `cursor`, `limit` | `{"items":[...],"next":"http://127.0.0.1:P/users?cursor=...&limit=N"\|null}` |
//! | `NextLinkRelative` | `cursor`, `limit` | `{"items":[...],"next":"/users?cursor=...&limit=N"\|null}` |
//! | `LinkHeader` | `page` (1-based), `per_page` | bare array + `Link: <http://127.0.0.1:P/users?page=2&per_page=N>; rel="next"` (absent on last page) |
//! | `Scim` | `startIndex` (1-based, 0→1), `count` | `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":T,"startIndex":S,"itemsPerPage":n,"Resources":[...]}` |
//!
//! The path in next links / Link headers is the request path
//! (`/groups/g3/members?...`). There is no "next" when the current page
//! reaches the end (an exactly full last page has no next).
//! Next links never repeat an `ApiKeyQuery` key: clients must re-add it.
//!
//! ### Authentication ([`Auth`]) — applies to the data routes only
//! * `None`.
//! * `Basic{user,password}`: `Authorization: Basic ...`.
//! * `Bearer{token}`: `Authorization: Bearer <token>`.
//! * `ApiKeyHeader{header,key}`: header `<header>: <key>`.
//! * `ApiKeyQuery{param,key}`: query parameter `<param>=<key>`.
//! * `OAuth2ClientCredentials{client_id,client_secret,token_ttl_s}`:
//!   `POST /oauth/token`, body `application/x-www-form-urlencoded`
//!   `grant_type=client_credentials`; client authentication either with
//!   `Authorization: Basic base64(client_id:client_secret)` or with form
//!   fields `client_id` and `client_secret` (the header wins when present).
//!   Success → `200 {"access_token":"mt_...","token_type":"Bearer","expires_in":<ttl>}`.
//!   Wrong grant type → `400 {"error":"unsupported_grant_type",...}`; wrong
//!   client → `401 {"error":"invalid_client",...}`.
//! * `OAuth2Password{client_id,username,password,token_ttl_s}`: same endpoint
//!   with `grant_type=password&username=...&password=...`; `client_id` as a
//!   form field or as the user part of a Basic header (secret ignored). Wrong
//!   user/password → `400 {"error":"invalid_grant",...}`; wrong client →
//!   `401 {"error":"invalid_client",...}`.
//! * `Login{username,password,token_ttl_s}`: `POST /login` with JSON
//!   `{"username":"...","password":"..."}` →
//!   `200 {"token":"mt_...","expires_at":"<RFC 3339, wall clock + ttl>","expires_in":<ttl>}`;
//!   wrong credentials → `401 {"error":"invalid credentials"}`; non-JSON body → 400.
//!
//! Issued tokens (OAuth2 and Login) are sent as `Authorization: Bearer <token>`
//! and expire after `token_ttl_s` seconds (wall clock) or, with
//! `faults.token_expires_after_requests = Some(n)`, after serving `n` data
//! requests each; a fresh token works again.
//! Missing/wrong credentials → `401 {"error":"unauthorized"}`; an unknown or
//! expired issued token → `401 {"error":"invalid_token"}` with
//! `WWW-Authenticate: Bearer realm="muster-test", error="invalid_token", ...`.
//! Other challenges: `Basic realm="muster-test"`, `Bearer realm="muster-test"`,
//! `ApiKey realm="muster-test", header="<name>"` / `query="<name>"`.
//!
//! ### Faults ([`Faults`])
//! Data requests that pass authentication are numbered `n = 1, 2, ...`
//! (across all three data routes; requests that later fail with 400/404 still
//! consume a number; 401s and token/login requests do not). Evaluated in
//! this order:
//! 1. `rate_limit_429_first_n = N`: `n <= N` → `429 {"error":"rate limited"}`
//!    with `Retry-After: 1` (configurable via `retry_after`, including an
//!    HTTP-date form).
//! 2. `error_500_burst = Some((start, count))`: `start <= n < start+count` →
//!    `500 {"error":"internal server error"}`.
//! 3. `slow_ms_every_nth = Some((delay_ms, every))`: `n % every == 0` →
//!    extra `delay_ms` delay.
//! 4. `truncated_body_at_request = Some(n)`: status 200, full
//!    `Content-Length`, about half the body, then the connection is closed.
//! 5. `malformed_json_at_request = Some(n)`: status 200, consistent
//!    `Content-Length`, body is the first half of the real body followed by
//!    `<<<malformed json>>>`.
//!
//! `repeating_cursor`: cursors / next links / `Link` headers point at the page
//! just served (so the listing never advances). `latency_ms` delays every
//! request on every route.

// Handlers use `Result<_, Response>` to short-circuit with an HTTP error
// response; the large `Err` variant is irrelevant for a test server.
#![allow(clippy::result_large_err)]

mod demo;
mod eval_apis;
mod generic;
mod llm;
mod openapi;
mod server;
mod traps;
mod util;

pub use demo::{
    DEMO_ADMIN_TOKEN, DEMO_PASSWORD, DEMO_REFERENCE_NOW, DEMO_USER, DemoTokenTruth, DemoTruth, demo_truth, serve_demo,
};
pub use eval_apis::{
    DICT_KEY, EVAL_PLACEHOLDER_URL, EvalTruth, RPC_TOKEN, dict_openapi, dict_truth, generic_eval_truth,
    generic_openapi, rpc_openapi, rpc_truth, serve_dict_api, serve_rpc_api,
};
pub use generic::{
    Auth, Faults, GENERIC_REALM, Pagination, RetryAfter, Scenario, ScenarioTruth, scenario_truth, serve,
};
pub use llm::{LlmRequest, ScriptedLlm, serve_scripted_llm};
pub use openapi::demo_openapi;
pub use server::{REQUEST_LOG_CAP, RequestLogEntry, TestServer};
pub use traps::{
    ANONYMOUS_SUBSET, TRAPS_GROUPS, TRAPS_MEMBERS_PER_GROUP, TRAPS_PASSWORD, TRAPS_PENDING_PER_GROUP, TRAPS_USER,
    TRAPS_USERS, Traps, serve_traps, traps_active_memberships, traps_group_ids, traps_inactive_user_ids,
    traps_null_email_user_ids, traps_openapi, traps_pending_memberships, traps_user_ids,
};
