//! The configurable generic API ([`Scenario`]) used by engine tests and
//! benchmarks. See the crate documentation for the wire format.

use std::collections::HashMap;
use std::io::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post};

use crate::server::{self, TestServer};
use crate::util::{
    Query, basic_credentials, bearer_token, clamp_size, decode_cursor, encode_cursor, error, json, json_bytes,
    parse_form, percent_decode, unauthorized,
};

/// Realm used in every `WWW-Authenticate` challenge of the generic API.
pub const GENERIC_REALM: &str = "muster-test";

/// Configuration of a generic API server started with [`serve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Number of users (`u0` .. `u{users-1}`) before `faults.drop_users_percent`.
    pub users: usize,
    /// Number of groups (`g0` .. `g{groups-1}`).
    pub groups: usize,
    /// Membership candidates per group (see crate docs for the formula).
    pub members_per_group: usize,
    /// Pagination style of every list endpoint.
    pub pagination: Pagination,
    /// Authentication required by the data endpoints.
    pub auth: Auth,
    /// Fault injection.
    pub faults: Faults,
    /// Delay added to every request (all routes), in milliseconds.
    pub latency_ms: u64,
    /// Requested page sizes are silently clamped to this (minimum 1).
    pub max_page_size: usize,
    /// Page size used when the client does not send one.
    pub default_page_size: usize,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            users: 250,
            groups: 10,
            members_per_group: 20,
            pagination: Pagination::Offset,
            auth: Auth::None,
            faults: Faults::default(),
            latency_ms: 0,
            max_page_size: 200,
            default_page_size: 50,
        }
    }
}

/// Pagination style of the generic API (applies to `/users`, `/groups` and
/// `/groups/{id}/members` alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Pagination {
    /// No pagination: the whole list as one bare JSON array.
    None,
    /// `?offset=0&limit=N` → `{"items":[...],"total":T}`.
    #[default]
    Offset,
    /// `?page=1&per_page=N` (1-based) → `{"items":[...],"total":T}`.
    Page,
    /// `?cursor=C&limit=N` → `{"items":[...],"next_cursor":"C2"|null}`.
    CursorBody,
    /// `?cursor=C&limit=N` → `{"items":[...]}` + `X-Next-Cursor: C2` header (absent on the last page).
    CursorHeader,
    /// `?cursor=C&limit=N` → `{"items":[...],"next":"http://127.0.0.1:P/users?cursor=C2&limit=N"|null}`.
    NextLinkAbsolute,
    /// `?cursor=C&limit=N` → `{"items":[...],"next":"/users?cursor=C2&limit=N"|null}`.
    NextLinkRelative,
    /// `?page=1&per_page=N` → bare array + `Link: <http://127.0.0.1:P/users?page=2&per_page=N>; rel="next"`.
    LinkHeader,
    /// `?startIndex=1&count=N` → SCIM 2.0 ListResponse.
    Scim,
}

impl Pagination {
    /// Every pagination style, for exhaustive tests.
    pub const ALL: [Pagination; 9] = [
        Pagination::None,
        Pagination::Offset,
        Pagination::Page,
        Pagination::CursorBody,
        Pagination::CursorHeader,
        Pagination::NextLinkAbsolute,
        Pagination::NextLinkRelative,
        Pagination::LinkHeader,
        Pagination::Scim,
    ];
}

/// Authentication required by the generic API's data endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Auth {
    /// No authentication.
    #[default]
    None,
    /// `Authorization: Basic base64(user:password)`.
    Basic { user: String, password: String },
    /// `Authorization: Bearer <token>` with a static token.
    Bearer { token: String },
    /// API key in a request header, e.g. `X-Api-Key: <key>`.
    ApiKeyHeader { header: String, key: String },
    /// API key in a query parameter, e.g. `?api_key=<key>` (not repeated in next links).
    ApiKeyQuery { param: String, key: String },
    /// `POST /oauth/token` with `grant_type=client_credentials`; then `Authorization: Bearer <access_token>`.
    OAuth2ClientCredentials { client_id: String, client_secret: String, token_ttl_s: u64 },
    /// `POST /oauth/token` with `grant_type=password`; then `Authorization: Bearer <access_token>`.
    OAuth2Password { client_id: String, username: String, password: String, token_ttl_s: u64 },
    /// `POST /login` with JSON `{"username","password"}`; then `Authorization: Bearer <token>`.
    Login { username: String, password: String, token_ttl_s: u64 },
}

/// Form of the `Retry-After` header sent with injected 429 responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <n>` (delta-seconds).
    Seconds(u64),
    /// `Retry-After: <HTTP-date>` = wall-clock now + `after_s` seconds (IMF-fixdate).
    HttpDate { after_s: u64 },
}

impl Default for RetryAfter {
    fn default() -> Self {
        RetryAfter::Seconds(1)
    }
}

/// Fault injection. "Data request number" `n` counts (1-based) the requests
/// to `/users`, `/groups` and `/groups/{id}/members` that passed
/// authentication (including ones that later fail with 400/404);
/// unauthenticated requests and token/login requests do not consume numbers.
/// Faults are evaluated in this order: 429, 500, slow, then the normal body is
/// built and possibly corrupted (truncated, else malformed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Data requests `n <= N` answer `429 {"error":"rate limited"}` with `Retry-After` (see `retry_after`).
    pub rate_limit_429_first_n: u32,
    /// `Retry-After` form for injected 429s (default: `Seconds(1)`).
    pub retry_after: RetryAfter,
    /// `(start, count)`: data requests `start <= n < start + count` answer `500 {"error":"internal server error"}`.
    pub error_500_burst: Option<(u64, u32)>,
    /// `(delay_ms, every_nth)`: data requests with `n % every_nth == 0` are delayed by `delay_ms` more.
    pub slow_ms_every_nth: Option<(u64, u64)>,
    /// Data request `n` answers 200 with a correct `Content-Length` but a body that is not valid JSON.
    pub malformed_json_at_request: Option<u64>,
    /// Data request `n` announces the full `Content-Length`, sends about half the body, then closes the connection.
    pub truncated_body_at_request: Option<u64>,
    /// Cursors / next links / Link headers never advance (they point at the page just served).
    pub repeating_cursor: bool,
    /// Issued tokens (OAuth2 / Login) answer 401 `invalid_token` once they have served N data requests.
    pub token_expires_after_requests: Option<u64>,
    /// Drop `p`% of users: user `u{i}` is served only when `i % 100 >= p` (memberships of dropped users vanish too).
    pub drop_users_percent: u8,
}

// ---------------------------------------------------------------------------
// Deterministic data model
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Model {
    users: u64,
    groups: u64,
    mpg: u64,
    drop: u64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

enum Members {
    Formula { g: u64, count: u64 },
    List(Vec<u64>),
}

impl Members {
    fn len(&self) -> u64 {
        match self {
            Members::Formula { count, .. } => *count,
            Members::List(v) => v.len() as u64,
        }
    }
}

impl Model {
    fn new(s: &Scenario) -> Model {
        Model {
            users: s.users as u64,
            groups: s.groups as u64,
            mpg: s.members_per_group as u64,
            drop: u64::from(s.faults.drop_users_percent.min(100)),
        }
    }

    fn is_served(&self, i: u64) -> bool {
        i < self.users && i % 100 >= self.drop
    }

    fn served_users(&self) -> u64 {
        if self.drop >= 100 {
            return 0;
        }
        (self.users / 100) * (100 - self.drop) + (self.users % 100).saturating_sub(self.drop)
    }

    /// Index of the user served at list position `pos`.
    fn user_at(&self, pos: u64) -> u64 {
        if self.drop == 0 {
            return pos;
        }
        let keep = 100 - self.drop;
        (pos / keep) * 100 + self.drop + pos % keep
    }

    fn candidates(&self) -> u64 {
        if self.users == 0 {
            return 0;
        }
        let period = self.users / gcd(self.users, 13);
        self.mpg.min(period)
    }

    fn candidate(&self, g: u64, k: u64) -> u64 {
        (g.wrapping_mul(7) % self.users + (k % self.users) * 13 % self.users) % self.users
    }

    fn members(&self, g: u64) -> Members {
        let count = self.candidates();
        if self.drop == 0 {
            Members::Formula { g, count }
        } else {
            Members::List((0..count).map(|k| self.candidate(g, k)).filter(|&i| self.is_served(i)).collect())
        }
    }

    fn member_at(&self, m: &Members, pos: u64) -> u64 {
        match m {
            Members::Formula { g, .. } => self.candidate(*g, pos),
            Members::List(v) => usize::try_from(pos).ok().and_then(|p| v.get(p).copied()).unwrap_or(0),
        }
    }
}

/// Exact expected data of a [`Scenario`], for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioTruth {
    /// Number of users served by `/users` (after `drop_users_percent`).
    pub users: u64,
    /// Number of served users with `"active": false` (`i % 50 == 0`).
    pub inactive_users: u64,
    /// Number of groups.
    pub groups: u64,
    /// Total number of (group, user) memberships served by all `/groups/{id}/members`.
    pub memberships: u64,
    model: Model,
}

impl ScenarioTruth {
    /// Ids of the served users, in the order `/users` returns them.
    pub fn user_ids(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.users).map(move |p| format!("u{}", self.model.user_at(p)))
    }

    /// Ids of all groups, in the order `/groups` returns them.
    pub fn group_ids(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.groups).map(|g| format!("g{g}"))
    }

    /// Member user ids of group index `g`, in the order the API returns them.
    pub fn group_member_ids(&self, g: u64) -> Vec<String> {
        if g >= self.groups {
            return Vec::new();
        }
        let m = self.model.members(g);
        (0..m.len()).map(|p| format!("u{}", self.model.member_at(&m, p))).collect()
    }

    /// All `(group id, user id)` memberships, group by group.
    pub fn memberships(&self) -> impl Iterator<Item = (String, String)> + '_ {
        (0..self.groups).flat_map(move |g| {
            let gid = format!("g{g}");
            self.group_member_ids(g).into_iter().map(move |u| (gid.clone(), u))
        })
    }
}

/// Computes the exact data a [`Scenario`] serves.
pub fn scenario_truth(s: &Scenario) -> ScenarioTruth {
    let model = Model::new(s);
    let users = model.served_users();
    let inactive_users = if model.drop == 0 {
        model.users.div_ceil(50)
    } else {
        (0..users).filter(|&p| model.user_at(p).is_multiple_of(50)).count() as u64
    };
    let memberships = if model.drop == 0 {
        model.groups * model.candidates()
    } else {
        (0..model.groups).map(|g| model.members(g).len()).sum()
    };
    ScenarioTruth { users, inactive_users, groups: model.groups, memberships, model }
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

struct Issued {
    expires: Instant,
    uses: u64,
}

struct GenState {
    sc: Scenario,
    model: Model,
    base_url: String,
    data_requests: AtomicU64,
    tokens: Mutex<HashMap<String, Issued>>,
    token_seq: AtomicU64,
}

/// Starts the generic API on `127.0.0.1` (random free port).
pub fn serve(scenario: Scenario) -> io::Result<TestServer> {
    let latency = Duration::from_millis(scenario.latency_ms);
    server::spawn(None, latency, move |base_url| {
        let state = Arc::new(GenState {
            model: Model::new(&scenario),
            sc: scenario,
            base_url,
            data_requests: AtomicU64::new(0),
            tokens: Mutex::new(HashMap::new()),
            token_seq: AtomicU64::new(0),
        });
        Router::new()
            .route("/users", get(users))
            .route("/groups", get(groups))
            .route("/groups/{id}/members", get(members))
            .route("/oauth/token", post(oauth_token))
            .route("/login", post(login))
            .fallback(not_found)
            .with_state(state)
    })
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not found")
}

async fn users(State(st): State<Arc<GenState>>, headers: HeaderMap, uri: Uri) -> Response {
    st.data(&headers, &uri, None).await
}

async fn groups(State(st): State<Arc<GenState>>, headers: HeaderMap, uri: Uri) -> Response {
    st.data(&headers, &uri, Some(None)).await
}

async fn members(State(st): State<Arc<GenState>>, Path(id): Path<String>, headers: HeaderMap, uri: Uri) -> Response {
    st.data(&headers, &uri, Some(Some(id))).await
}

enum Items {
    Users,
    Groups,
    Members(Members),
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn rate_limited(ra: RetryAfter) -> Response {
    let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "rate limited");
    let value = match ra {
        RetryAfter::Seconds(s) => s.to_string(),
        RetryAfter::HttpDate { after_s } => httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(after_s)),
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

impl GenState {
    fn challenge(&self) -> String {
        match &self.sc.auth {
            Auth::Basic { .. } => format!("Basic realm=\"{GENERIC_REALM}\""),
            Auth::ApiKeyHeader { header, .. } => {
                format!("ApiKey realm=\"{GENERIC_REALM}\", header=\"{header}\"")
            }
            Auth::ApiKeyQuery { param, .. } => {
                format!("ApiKey realm=\"{GENERIC_REALM}\", query=\"{param}\"")
            }
            _ => format!("Bearer realm=\"{GENERIC_REALM}\""),
        }
    }

    fn authorize(&self, headers: &HeaderMap, q: &Query) -> Result<(), Response> {
        let deny = || unauthorized(&self.challenge(), "unauthorized");
        let ok = match &self.sc.auth {
            Auth::None => true,
            Auth::Basic { user, password } => {
                basic_credentials(headers).is_some_and(|(u, p)| u == *user && p == *password)
            }
            Auth::Bearer { token } => bearer_token(headers) == Some(token.as_str()),
            Auth::ApiKeyHeader { header, key } => {
                headers.get(header.as_str()).and_then(|v| v.to_str().ok()).is_some_and(|v| v == key)
            }
            Auth::ApiKeyQuery { param, key } => q.get(param) == Some(key.as_str()),
            Auth::OAuth2ClientCredentials { .. } | Auth::OAuth2Password { .. } | Auth::Login { .. } => {
                return self.check_issued(headers);
            }
        };
        if ok { Ok(()) } else { Err(deny()) }
    }

    fn check_issued(&self, headers: &HeaderMap) -> Result<(), Response> {
        let Some(token) = bearer_token(headers) else {
            return Err(unauthorized(&self.challenge(), "unauthorized"));
        };
        let invalid = |why: &str| {
            unauthorized(
                &format!("Bearer realm=\"{GENERIC_REALM}\", error=\"invalid_token\", error_description=\"{why}\""),
                "invalid_token",
            )
        };
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(info) = tokens.get_mut(token) else {
            return Err(invalid("unknown token"));
        };
        if Instant::now() >= info.expires {
            return Err(invalid("token expired"));
        }
        if let Some(limit) = self.sc.faults.token_expires_after_requests
            && info.uses >= limit
        {
            return Err(invalid("token expired"));
        }
        info.uses += 1;
        Ok(())
    }

    fn issue_token(&self, ttl_s: u64) -> String {
        let seq = self.token_seq.fetch_add(1, Ordering::Relaxed) + 1;
        let token = format!("mt_{:016x}{seq:04x}", splitmix(seq ^ 0x5eed));
        let expires = Instant::now() + Duration::from_secs(ttl_s);
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner).insert(token.clone(), Issued { expires, uses: 0 });
        token
    }

    /// `target`: `None` = users, `Some(None)` = groups, `Some(Some(id))` = members of group `id`.
    async fn data(&self, headers: &HeaderMap, uri: &Uri, target: Option<Option<String>>) -> Response {
        let q = Query::from_uri(uri);
        if let Err(resp) = self.authorize(headers, &q) {
            return resp;
        }
        let n = self.data_requests.fetch_add(1, Ordering::Relaxed) + 1;
        let f = &self.sc.faults;
        if n <= u64::from(f.rate_limit_429_first_n) {
            return rate_limited(f.retry_after);
        }
        if let Some((start, count)) = f.error_500_burst
            && n >= start
            && n < start.saturating_add(u64::from(count))
        {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "internal server error");
        }
        if let Some((delay_ms, every)) = f.slow_ms_every_nth
            && every > 0
            && n.is_multiple_of(every)
        {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        }
        let items = match target {
            None => Items::Users,
            Some(None) => Items::Groups,
            Some(Some(id)) => {
                let g = id
                    .strip_prefix('g')
                    .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|d| d.parse::<u64>().ok())
                    .filter(|&g| g < self.model.groups && format!("g{g}") == id);
                match g {
                    Some(g) => Items::Members(self.model.members(g)),
                    None => return error(StatusCode::NOT_FOUND, "group not found"),
                }
            }
        };
        let (body, extra) = match self.page(&q, uri.path(), &items) {
            Ok(v) => v,
            Err(resp) => return resp,
        };
        if f.truncated_body_at_request == Some(n) {
            return truncated(body);
        }
        let body = if f.malformed_json_at_request == Some(n) {
            let mut b = body[..body.len() / 2].to_vec();
            b.extend_from_slice(b"<<<malformed json>>>");
            b
        } else {
            body
        };
        let mut resp = json_bytes(StatusCode::OK, body);
        for (name, value) in extra {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
        resp
    }

    fn total(&self, items: &Items) -> u64 {
        match items {
            Items::Users => self.model.served_users(),
            Items::Groups => self.model.groups,
            Items::Members(m) => m.len(),
        }
    }

    fn write_items(&self, buf: &mut Vec<u8>, items: &Items, start: u64, end: u64) {
        buf.push(b'[');
        for pos in start..end {
            if pos > start {
                buf.push(b',');
            }
            // Writing to a Vec cannot fail.
            let _ = match items {
                Items::Users => {
                    let i = self.model.user_at(pos);
                    write!(
                        buf,
                        r#"{{"id":"u{i}","name":"User {i}","email":"user{i}@example.com","active":{}}}"#,
                        !i.is_multiple_of(50)
                    )
                }
                Items::Groups => write!(buf, r#"{{"id":"g{pos}","name":"Group {pos}"}}"#),
                Items::Members(m) => {
                    write!(buf, r#"{{"user_id":"u{}"}}"#, self.model.member_at(m, pos))
                }
            };
        }
        buf.push(b']');
    }

    fn page(&self, q: &Query, path: &str, items: &Items) -> Result<PageBody, Response> {
        let total = self.total(items);
        let default = self.sc.default_page_size as u64;
        let max = self.sc.max_page_size as u64;
        let repeat = self.sc.faults.repeating_cursor;
        let cursor_offset = || -> Result<u64, Response> {
            match q.get("cursor") {
                None | Some("") => Ok(0),
                Some(c) => decode_cursor("o", c).ok_or_else(|| error(StatusCode::BAD_REQUEST, "invalid cursor")),
            }
        };
        let mut extra = Vec::new();
        let mut buf = Vec::new();
        let estimate = |n: u64| usize::try_from(n.min(1 << 20)).unwrap_or(0) * 80 + 160;
        match self.sc.pagination {
            Pagination::None => {
                buf.reserve(estimate(total));
                self.write_items(&mut buf, items, 0, total);
            }
            Pagination::Offset | Pagination::Page => {
                let (offset, limit) = if self.sc.pagination == Pagination::Offset {
                    let limit = clamp_size(q.num("limit")?, default, max);
                    (q.num("offset")?.unwrap_or(0), limit)
                } else {
                    let per_page = clamp_size(q.num("per_page")?, default, max);
                    let page = q.num("page")?.unwrap_or(1).max(1);
                    ((page - 1).saturating_mul(per_page), per_page)
                };
                let (start, end) = window(offset, limit, total);
                buf.reserve(estimate(end - start));
                buf.extend_from_slice(br#"{"items":"#);
                self.write_items(&mut buf, items, start, end);
                let _ = write!(buf, r#","total":{total}}}"#);
            }
            Pagination::CursorBody
            | Pagination::CursorHeader
            | Pagination::NextLinkAbsolute
            | Pagination::NextLinkRelative => {
                let offset = cursor_offset()?;
                let limit = clamp_size(q.num("limit")?, default, max);
                let (start, end) = window(offset, limit, total);
                let next = (end < total).then(|| encode_cursor("o", if repeat { offset } else { end }));
                buf.reserve(estimate(end - start));
                buf.extend_from_slice(br#"{"items":"#);
                self.write_items(&mut buf, items, start, end);
                match self.sc.pagination {
                    Pagination::CursorBody => {
                        buf.extend_from_slice(br#","next_cursor":"#);
                        push_opt_str(&mut buf, next.as_deref());
                    }
                    Pagination::CursorHeader => {
                        if let Some(c) = next {
                            extra.push((HeaderName::from_static("x-next-cursor"), c));
                        }
                    }
                    _ => {
                        let base = if self.sc.pagination == Pagination::NextLinkAbsolute {
                            self.base_url.as_str()
                        } else {
                            ""
                        };
                        let link = next.map(|c| format!("{base}{path}?cursor={c}&limit={limit}"));
                        buf.extend_from_slice(br#","next":"#);
                        push_opt_str(&mut buf, link.as_deref());
                    }
                }
                buf.push(b'}');
            }
            Pagination::LinkHeader => {
                let per_page = clamp_size(q.num("per_page")?, default, max);
                let page = q.num("page")?.unwrap_or(1).max(1);
                let (start, end) = window((page - 1).saturating_mul(per_page), per_page, total);
                buf.reserve(estimate(end - start));
                self.write_items(&mut buf, items, start, end);
                if end < total {
                    let next_page = if repeat { page } else { page + 1 };
                    extra.push((
                        header::LINK,
                        format!("<{}{path}?page={next_page}&per_page={per_page}>; rel=\"next\"", self.base_url),
                    ));
                }
            }
            Pagination::Scim => {
                let start_index = q.num("startIndex")?.unwrap_or(1).max(1);
                let count = q.num("count")?.unwrap_or(default.max(1)).min(max.max(1));
                let (start, end) = window(start_index - 1, count, total);
                buf.reserve(estimate(end - start));
                let _ = write!(
                    buf,
                    r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":{total},"startIndex":{start_index},"itemsPerPage":{},"Resources":"#,
                    end - start
                );
                self.write_items(&mut buf, items, start, end);
                buf.push(b'}');
            }
        }
        Ok((buf, extra))
    }
}

/// A serialized page body plus extra response headers.
type PageBody = (Vec<u8>, Vec<(HeaderName, String)>);

fn window(offset: u64, limit: u64, total: u64) -> (u64, u64) {
    let start = offset.min(total);
    let end = offset.saturating_add(limit).min(total);
    (start, end)
}

fn push_opt_str(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => crate::util::push_json_str(buf, s),
        None => buf.extend_from_slice(b"null"),
    }
}

/// A 200 response announcing the full `Content-Length` that sends only the
/// first half of the body and then aborts the connection.
fn truncated(body: Vec<u8>) -> Response {
    let full_len = body.len();
    let half = Bytes::from(body[..full_len / 2].to_vec());
    let first = futures::stream::once(async move { Ok::<Bytes, io::Error>(half) });
    let fail = futures::stream::once(async {
        // Give hyper a chance to flush the head and the first half.
        tokio::time::sleep(Duration::from_millis(30)).await;
        Err::<Bytes, io::Error>(io::Error::other("injected truncated body"))
    });
    let stream = futures::StreamExt::chain(first, fail);
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(full_len));
    resp
}

// ---------------------------------------------------------------------------
// Token endpoints
// ---------------------------------------------------------------------------

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    let mut resp = json(status, &serde_json::json!({ "error": code, "error_description": description }));
    if status == StatusCode::UNAUTHORIZED {
        let challenge = format!("Basic realm=\"{GENERIC_REALM}\"");
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    resp
}

fn token_response(token: String, ttl_s: u64) -> Response {
    json(
        StatusCode::OK,
        &serde_json::json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl_s,
        }),
    )
}

async fn oauth_token(State(st): State<Arc<GenState>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = parse_form(&String::from_utf8_lossy(&body));
    let field = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    // RFC 6749 §2.3.1: client credentials in the Basic header are form-urlencoded.
    let basic = basic_credentials(&headers).map(|(u, p)| (percent_decode(&u), percent_decode(&p)));
    match &st.sc.auth {
        Auth::OAuth2ClientCredentials { client_id, client_secret, token_ttl_s } => {
            if field("grant_type") != Some("client_credentials") {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    "grant_type must be client_credentials",
                );
            }
            let (id, secret) = match basic {
                Some((u, p)) => (Some(u), Some(p)),
                None => (field("client_id").map(str::to_owned), field("client_secret").map(str::to_owned)),
            };
            if id.as_deref() != Some(client_id.as_str()) || secret.as_deref() != Some(client_secret.as_str()) {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
            }
            token_response(st.issue_token(*token_ttl_s), *token_ttl_s)
        }
        Auth::OAuth2Password { client_id, username, password, token_ttl_s } => {
            if field("grant_type") != Some("password") {
                return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "grant_type must be password");
            }
            let id = match basic {
                Some((u, _)) => Some(u),
                None => field("client_id").map(str::to_owned),
            };
            if id.as_deref() != Some(client_id.as_str()) {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client_id");
            }
            if field("username") != Some(username.as_str()) || field("password") != Some(password.as_str()) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "invalid resource owner credentials");
            }
            token_response(st.issue_token(*token_ttl_s), *token_ttl_s)
        }
        _ => error(StatusCode::NOT_FOUND, "not found"),
    }
}

async fn login(State(st): State<Arc<GenState>>, body: Bytes) -> Response {
    let Auth::Login { username, password, token_ttl_s } = &st.sc.auth else {
        return error(StatusCode::NOT_FOUND, "not found");
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "request body must be JSON");
    };
    let user = v.get("username").and_then(|x| x.as_str());
    let pass = v.get("password").and_then(|x| x.as_str());
    if user != Some(username.as_str()) || pass != Some(password.as_str()) {
        return error(StatusCode::UNAUTHORIZED, "invalid credentials");
    }
    let token = st.issue_token(*token_ttl_s);
    let ttl = i64::try_from(*token_ttl_s).unwrap_or(i64::MAX / 4_000_000);
    let expires_at = chrono::Utc::now()
        .checked_add_signed(chrono::TimeDelta::try_seconds(ttl).unwrap_or(chrono::TimeDelta::MAX))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json(
        StatusCode::OK,
        &serde_json::json!({
            "token": token,
            "expires_at": expires_at,
            "expires_in": token_ttl_s,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_mapping_matches_filter() {
        for users in [0usize, 1, 99, 100, 101, 250, 1234] {
            for p in [0u8, 1, 10, 37, 99, 100] {
                let s = Scenario {
                    users,
                    faults: Faults { drop_users_percent: p, ..Faults::default() },
                    ..Scenario::default()
                };
                let m = Model::new(&s);
                let expected: Vec<u64> = (0..users as u64).filter(|&i| m.is_served(i)).collect();
                let got: Vec<u64> = (0..m.served_users()).map(|pos| m.user_at(pos)).collect();
                assert_eq!(got, expected, "users={users} p={p}");
            }
        }
    }

    #[test]
    fn members_are_deduplicated() {
        for users in [1usize, 13, 26, 130, 250] {
            let s = Scenario { users, groups: 5, members_per_group: 40, ..Scenario::default() };
            let t = scenario_truth(&s);
            let mut total = 0;
            for g in 0..5 {
                let ids = t.group_member_ids(g);
                let mut naive: Vec<String> = Vec::new();
                for k in 0..40u64 {
                    let id = format!("u{}", (g * 7 + k * 13) % users as u64);
                    if !naive.contains(&id) {
                        naive.push(id);
                    }
                }
                assert_eq!(ids, naive);
                total += ids.len() as u64;
            }
            assert_eq!(total, t.memberships);
        }
    }
}
