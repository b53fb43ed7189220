//! The JSON API: the same view data as the pages, described by `/api/openapi.json`.
//! Errors are `{"error": {"status": N, "message": "…"}}`.

use crate::auth::Ctx;
use crate::data;
use crate::{AppState, WebError, api_json};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;

type Params = Query<HashMap<String, String>>;

pub(crate) fn error_response(e: &WebError) -> Response {
    let mut r = api_json(
        e.status(),
        &serde_json::json!({ "error": { "status": e.status().as_u16(), "message": e.to_string() } }),
    );
    if matches!(e, WebError::Unauthorized) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
    }
    r
}

fn reply<T: serde::Serialize>(r: Result<T, WebError>) -> Response {
    match r {
        Ok(v) => api_json(StatusCode::OK, &v),
        Err(e) => error_response(&e),
    }
}

fn id_of(s: &str, what: &str) -> Result<i64, WebError> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| WebError::BadRequest(format!("`{}` is not a {what} id", s.chars().take(40).collect::<String>())))
}

fn body<T: serde::de::DeserializeOwned>(b: &Bytes) -> Result<T, WebError> {
    serde_json::from_slice(b).map_err(|e| WebError::BadRequest(format!("the JSON body is not valid: {e}")))
}

pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::OPENAPI).into_response()
}

/// The caller's CSRF token (for POSTs with a session cookie) and login state.
pub(crate) async fn session(Extension(ctx): Extension<Ctx>) -> Response {
    let csrf = if ctx.csrf.is_empty() { None } else { Some(ctx.csrf.clone()) };
    api_json(StatusCode::OK, &serde_json::json!({ "csrf": csrf, "authenticated": ctx.authed }))
}

pub(crate) async fn connectors(State(st): State<AppState>) -> Response {
    reply(st.blocking(data::connectors).await)
}

pub(crate) async fn connector(State(st): State<AppState>, Path(name): Path<String>, Query(q): Params) -> Response {
    let version = q.get("version").filter(|v| !v.is_empty()).cloned();
    reply(st.blocking(move |i| data::connector(i, &name, version.as_deref())).await)
}

pub(crate) async fn versions(State(st): State<AppState>, Path(name): Path<String>) -> Response {
    reply(st.blocking(move |i| data::versions(i, &name)).await)
}

pub(crate) async fn connector_diff(State(st): State<AppState>, Path(name): Path<String>, Query(q): Params) -> Response {
    let from = q.get("from").filter(|v| !v.is_empty()).cloned();
    let to = q.get("to").filter(|v| !v.is_empty()).cloned();
    reply(st.blocking(move |i| data::version_diff(i, &name, from.as_deref(), to.as_deref())).await)
}

pub(crate) async fn report(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let r = match id_of(&id, "report") {
        Ok(id) => st
            .blocking(move |i| data::report(i, id))
            .await
            .map(|(summary, report)| serde_json::json!({ "summary": summary, "report": report })),
        Err(e) => Err(e),
    };
    reply(r)
}

pub(crate) async fn inventory(State(st): State<AppState>, Query(q): Params) -> Response {
    let r = match data::inventory_filter(&q) {
        Ok(f) => st.blocking(move |i| data::inventory(i, &f)).await,
        Err(e) => Err(e),
    };
    reply(r)
}

pub(crate) async fn identity(
    State(st): State<AppState>,
    Path((connector, rtype, id)): Path<(String, String, String)>,
) -> Response {
    reply(st.blocking(move |i| data::identity(i, &connector, &rtype, &id)).await)
}

pub(crate) async fn nhi(State(st): State<AppState>, Query(q): Params) -> Response {
    let connector = q.get("connector").filter(|v| !v.is_empty()).cloned();
    let flag = q.get("flag").filter(|v| !v.is_empty()).cloned();
    reply(st.blocking(move |i| data::nhi_list(i, connector.as_deref(), flag.as_deref())).await)
}

pub(crate) async fn syncs(State(st): State<AppState>) -> Response {
    reply(st.blocking(data::syncs).await)
}

pub(crate) async fn sync_diff(State(st): State<AppState>, Path(id): Path<String>, Query(q): Params) -> Response {
    let from = match q.get("from").filter(|v| !v.is_empty()) {
        Some(f) => match id_of(f, "sync") {
            Ok(n) => Some(n),
            Err(e) => return error_response(&e),
        },
        None => None,
    };
    let r = match id_of(&id, "sync") {
        Ok(n) => st.blocking(move |i| data::sync_diff(i, n, from)).await,
        Err(e) => Err(e),
    };
    reply(r)
}

pub(crate) async fn audit(State(st): State<AppState>) -> Response {
    reply(st.blocking(data::audit).await)
}

#[derive(Deserialize)]
struct DecisionBody {
    version: String,
    name: String,
    email: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    reason: String,
}

async fn decide(st: AppState, name: String, b: Bytes, approve: bool) -> Response {
    let r = async {
        let d: DecisionBody = body(&b)?;
        let actor = data::actor(&d.name, &d.email)?;
        data::check_hash(&d.version)?;
        st.blocking(move |i| {
            if approve {
                data::approve(i, &name, &d.version, &actor, &d.comment)
            } else {
                data::reject(i, &name, &d.version, &actor, &d.reason)
            }
        })
        .await
    }
    .await;
    reply(r)
}

pub(crate) async fn approve(State(st): State<AppState>, Path(name): Path<String>, b: Bytes) -> Response {
    decide(st, name, b, true).await
}

pub(crate) async fn reject(State(st): State<AppState>, Path(name): Path<String>, b: Bytes) -> Response {
    decide(st, name, b, false).await
}

#[derive(Deserialize)]
struct AcceptBody {
    name: String,
    email: String,
    #[serde(default)]
    comment: String,
}

pub(crate) async fn accept(State(st): State<AppState>, Path(id): Path<String>, b: Bytes) -> Response {
    let r = async {
        let n = id_of(&id, "sync")?;
        let a: AcceptBody = body(&b)?;
        let actor = data::actor(&a.name, &a.email)?;
        st.blocking(move |i| data::accept(i, n, &actor, &a.comment)).await
    }
    .await;
    reply(r)
}
