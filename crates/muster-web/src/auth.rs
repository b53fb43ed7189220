//! Sessions, authentication, CSRF and security headers: one middleware in front of every route.

use crate::{AppState, WebError, api, pages};
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use rand::Rng as _;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "muster_session";

/// Form posts and JSON bodies larger than this are refused.
const MAX_BODY: usize = 256 * 1024;
const MAX_SESSIONS: usize = 10_000;
const IDLE: Duration = Duration::from_secs(12 * 3600);

/// A one-time message shown on the next page (after a POST redirects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub ok: bool,
    pub msg: String,
}

struct Session {
    csrf: String,
    authed: bool,
    flash: Option<Flash>,
    seen: Instant,
}

/// The server's sessions, in memory (a restart logs everyone out).
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

fn random_hex() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill(&mut b);
    hex::encode(b)
}

/// Compare secrets without an early exit.
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Sessions {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Session>) -> T) -> Option<T> {
        self.map.lock().ok().map(|mut m| f(&mut m))
    }

    /// A new session; returns its id and CSRF token.
    pub(crate) fn create(&self, authed: bool) -> Option<(String, String)> {
        let id = random_hex();
        let csrf = random_hex();
        self.with(|m| {
            if m.len() >= MAX_SESSIONS {
                m.retain(|_, s| s.seen.elapsed() < IDLE);
            }
            if m.len() >= MAX_SESSIONS
                && let Some(oldest) = m.iter().min_by_key(|(_, s)| s.seen).map(|(k, _)| k.clone())
            {
                m.remove(&oldest);
            }
            m.insert(id.clone(), Session { csrf: csrf.clone(), authed, flash: None, seen: Instant::now() });
        })?;
        Some((id, csrf))
    }

    /// The CSRF token and login state of a live session.
    fn touch(&self, id: &str) -> Option<(String, bool)> {
        self.with(|m| {
            let s = m.get_mut(id)?;
            if s.seen.elapsed() >= IDLE {
                m.remove(id);
                return None;
            }
            s.seen = Instant::now();
            Some((s.csrf.clone(), s.authed))
        })
        .flatten()
    }

    /// Replace a session by a new, logged-in one (a fresh id defeats session fixation).
    pub(crate) fn login(&self, old: Option<&str>) -> Option<(String, String)> {
        if let Some(old) = old {
            self.with(|m| m.remove(old));
        }
        self.create(true)
    }

    pub(crate) fn logout(&self, id: &str) {
        self.with(|m| m.remove(id));
    }

    pub(crate) fn set_flash(&self, id: &str, flash: Flash) {
        self.with(|m| {
            if let Some(s) = m.get_mut(id) {
                s.flash = Some(flash);
            }
        });
    }

    pub(crate) fn take_flash(&self, id: &str) -> Option<Flash> {
        self.with(|m| m.get_mut(id).and_then(|s| s.flash.take())).flatten()
    }
}

/// What a handler knows about the caller.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// The session id, when the caller has a session (bearer-only API clients have none).
    pub session: Option<String>,
    /// The session's CSRF token (empty without a session).
    pub csrf: String,
    /// Logged in, by session or bearer (always true without a configured token).
    pub authed: bool,
    /// A token is configured (the UI shows a log-out button).
    pub token_required: bool,
}

pub(crate) fn session_cookie(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict"))
        .unwrap_or_else(|_| HeaderValue::from_static("muster_session=; Path=/"))
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

fn reject(is_api: bool, e: WebError) -> Response {
    if is_api { api::error_response(&e) } else { pages::error_page(&e) }
}

/// The host of a `Host` header, without its port (`[::1]:80` → `[::1]`, `localhost:7878` → `localhost`).
fn host_name(h: &str) -> &str {
    if h.starts_with('[') {
        return h.find(']').map(|i| &h[..=i]).unwrap_or(h);
    }
    h.rsplit_once(':').map(|(name, _)| name).unwrap_or(h)
}

/// The middleware: host check, session, authentication, CSRF, security headers.
pub(crate) async fn guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let inner = st.inner();
    let path = req.uri().path().to_string();
    let is_api = path.starts_with("/api/");
    if let Some(allowed) = &inner.cfg.allowed_hosts
        && let Some(host) = req.headers().get(header::HOST)
        && !host.to_str().is_ok_and(|h| allowed.iter().any(|a| a.eq_ignore_ascii_case(host_name(h))))
    {
        return reject(is_api, WebError::Forbidden("this server answers only to its loopback address".into()));
    }
    let token = inner.cfg.token.as_deref();
    let presented = bearer(req.headers());
    let bearer_ok = match (token, presented) {
        (Some(t), Some(b)) => ct_eq(b, t),
        _ => false,
    };
    if is_api && token.is_some() && presented.is_some() && !bearer_ok {
        return reject(true, WebError::Unauthorized);
    }
    let mut new_cookie = None;
    let existing = cookie(req.headers(), SESSION_COOKIE).and_then(|id| inner.sessions.touch(&id).map(|s| (id, s)));
    let (session, csrf, session_authed) = match existing {
        Some((id, (csrf, authed))) => (Some(id), csrf, authed),
        None if bearer_ok => (None, String::new(), false),
        None => match inner.sessions.create(token.is_none()) {
            Some((id, csrf)) => {
                new_cookie = Some(id.clone());
                (Some(id), csrf, token.is_none())
            }
            None => return reject(is_api, WebError::Internal("the session table is unavailable".into())),
        },
    };
    let authed = token.is_none() || session_authed || bearer_ok;
    let public = path == "/login" || path.starts_with("/assets/");
    let method = req.method().clone();
    if !authed && !public {
        let mut r = if is_api {
            api::error_response(&WebError::Unauthorized)
        } else if method == Method::GET {
            Redirect::to("/login").into_response()
        } else {
            pages::error_page(&WebError::Unauthorized)
        };
        if let Some(id) = &new_cookie {
            r.headers_mut().insert(header::SET_COOKIE, session_cookie(id));
        }
        return r;
    }
    let mut req = req;
    if method == Method::POST && !bearer_ok {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
            return reject(is_api, WebError::BadRequest("the request body is too large".into()));
        };
        let from_header = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string);
        let from_form = || url::form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
        let sent = from_header.or_else(from_form);
        let ok = session.is_some() && !csrf.is_empty() && sent.as_deref().is_some_and(|s| ct_eq(s, &csrf));
        if !ok {
            let mut r = reject(
                is_api,
                WebError::Forbidden(
                    "missing or wrong CSRF token (reload the page; API clients send X-CSRF-Token from GET /api/session)"
                        .into(),
                ),
            );
            if let Some(id) = &new_cookie {
                r.headers_mut().insert(header::SET_COOKIE, session_cookie(id));
            }
            return r;
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(Ctx { session, csrf, authed, token_required: token.is_some() });
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if let Some(id) = &new_cookie
        && !h.contains_key(header::SET_COOKIE)
    {
        h.insert(header::SET_COOKIE, session_cookie(id));
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !path.starts_with("/assets/") {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED && is_api {
        return api::error_response(&WebError::BadRequest(format!("{method} is not allowed on {path}")));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_compare() {
        assert!(ct_eq("abc", "abc"));
        assert!(!ct_eq("abc", "abd"));
        assert!(!ct_eq("abc", "abcd"));
    }

    #[test]
    fn sessions_rotate_on_login_and_keep_flash_once() {
        let s = Sessions::default();
        let (id, csrf) = s.create(false).unwrap();
        assert_eq!(s.touch(&id), Some((csrf, false)));
        s.set_flash(&id, Flash { ok: true, msg: "hi".into() });
        assert_eq!(s.take_flash(&id).map(|f| f.msg), Some("hi".into()));
        assert_eq!(s.take_flash(&id), None);
        let (new, _) = s.login(Some(&id)).unwrap();
        assert_ne!(new, id);
        assert!(s.touch(&id).is_none());
        assert_eq!(s.touch(&new).map(|x| x.1), Some(true));
    }

    #[test]
    fn host_names_drop_the_port() {
        assert_eq!(host_name("127.0.0.1:7878"), "127.0.0.1");
        assert_eq!(host_name("[::1]:80"), "[::1]");
        assert_eq!(host_name("localhost"), "localhost");
        assert_eq!(host_name("evil.example:7878"), "evil.example");
    }

    #[test]
    fn reads_cookie_and_bearer() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; muster_session=xyz; b=2"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer tok"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(bearer(&h), Some("tok"));
    }
}
