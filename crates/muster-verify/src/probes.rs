//! Probes that go beyond the sync: requests without (or with corrupted) credentials, and listings with
//! scoping parameters set to their documented "all" value.

use crate::{Check, Status, VerifyOptions, W_UNDERSYNC};
use muster_engine::map;
use muster_engine::sync::{self, EnvFn, SyncReport, TemplateCtx};
use muster_http::{AuthConfig, HttpClient, Secret};
use muster_spec::CompiledConnector;
use muster_spec::schema::Auth;
use serde_json::Value;
use std::sync::Arc;

const INVALID: &str = "muster-invalid-credential";

fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().ok()
}

fn corrupt(a: &AuthConfig) -> AuthConfig {
    let bad = || Secret::new(INVALID);
    match a.clone() {
        AuthConfig::None => AuthConfig::Bearer { token: bad() },
        AuthConfig::Basic { username, .. } => AuthConfig::Basic { username, password: bad() },
        AuthConfig::Bearer { .. } => AuthConfig::Bearer { token: bad() },
        AuthConfig::ApiKeyHeader { header, prefix, .. } => AuthConfig::ApiKeyHeader { header, key: bad(), prefix },
        AuthConfig::ApiKeyQuery { param, .. } => AuthConfig::ApiKeyQuery { param, key: bad() },
        AuthConfig::OAuth2ClientCredentials { token_url, client_id, scopes, audience, client_auth, .. } => {
            AuthConfig::OAuth2ClientCredentials {
                token_url,
                client_id,
                client_secret: bad(),
                scopes,
                audience,
                client_auth,
            }
        }
        AuthConfig::OAuth2Password { token_url, client_id, client_secret, username, scopes, .. } => {
            AuthConfig::OAuth2Password { token_url, client_id, client_secret, username, password: bad(), scopes }
        }
        AuthConfig::Login { url, method, token_path, expires_in_path, expires_at_path, header, prefix, .. } => {
            AuthConfig::Login {
                url,
                method,
                body: Secret::new(format!("{{\"username\":\"{INVALID}\",\"password\":\"{INVALID}\"}}")),
                token_path,
                expires_in_path,
                expires_at_path,
                header,
                prefix,
            }
        }
    }
}

/// The outcome of one probe request: a status, or an error that means "refused" (token endpoint said no).
enum Probe {
    Status(u16, Option<usize>),
    Refused(String),
    Error(String),
}

/// Requests without credentials and with corrupted ones must be refused.
pub(crate) fn negative_auth(c: &CompiledConnector, env: &EnvFn, r1: &SyncReport, check: &mut Check) {
    let Some(rt) = c.resource_types.first() else { return };
    let Some(rt_rows) = r1.resource_types.iter().find(|l| l.label == rt.id).and_then(|l| l.first_page_rows) else {
        return;
    };
    let Ok(mut cfg) = sync::client_config(c, env) else { return };
    cfg.retry.max_attempts = 1;
    let spec_auth = rt.list.request.auth.clone().unwrap_or_else(|| c.http.auth.clone());
    let Ok(real) = sync::auth_config(&spec_auth, env, "auth") else { return };
    let Ok(vars) = sync::resolve_vars(c, env) else { return };
    let Ok(client) = HttpClient::new(cfg) else { return };
    let Some(rt_) = runtime() else { return };
    let probe = |auth: AuthConfig| -> Probe {
        let req = match sync::build_request(&rt.list.request, env, &vars, &TemplateCtx::default(), Some(Arc::new(auth)))
        {
            Ok(r) => r,
            Err(e) => return Probe::Error(e.to_string()),
        };
        match rt_.block_on(client.send(&req)) {
            Ok(resp) => {
                let rows =
                    resp.json().ok().and_then(|b| map::rows(&b, rt.list.items.as_deref()).ok().map(<[Value]>::len));
                Probe::Status(resp.status, rows)
            }
            Err(e) if e.is_auth() || matches!(e.status(), Some(401 | 403)) => Probe::Refused(e.to_string()),
            Err(e) => Probe::Error(e.to_string()),
        }
    };
    let first = format!("the first `{}` request", rt.id);
    if matches!(spec_auth, Auth::None {}) {
        let refused = |how: String| {
            format!(
                "the connector sends no credentials, yet the API refuses made-up ones ({first} with a bogus token: {how}): it has authentication, and anonymous callers may see only a public subset; configure `auth`"
            )
        };
        match probe(corrupt(&AuthConfig::None)) {
            Probe::Status(s, _) if s == 401 || s == 403 => check.note(Status::Fail, refused(s.to_string())),
            Probe::Refused(e) => check.note(Status::Fail, refused(e)),
            Probe::Status(s, _) => check.note(
                Status::Warn,
                format!("the connector sends no credentials and the API answers {s} even to made-up ones: make sure it is not serving a public subset"),
            ),
            Probe::Error(e) => check.note(Status::Warn, format!("negative-auth probe could not run: {e}")),
        }
        return;
    }
    match probe(AuthConfig::None) {
        Probe::Status(s, _) if s == 401 || s == 403 => {
            check.note(Status::Pass, format!("{first} without credentials is refused ({s})"))
        }
        Probe::Refused(_) => check.note(Status::Pass, format!("{first} without credentials is refused")),
        Probe::Status(s, rows) if (200..300).contains(&s) => {
            let anon = rows.unwrap_or(0) as u64;
            if anon < rt_rows {
                check.note(
                    Status::Warn,
                    format!("{first} without credentials answers {s} with {anon} rows (vs {rt_rows} with credentials): the API serves a public subset to anonymous callers"),
                );
            } else {
                check.note(
                    Status::Warn,
                    format!(
                        "{first} without credentials answers {s}: the data may be public, or credentials are ignored"
                    ),
                );
            }
        }
        Probe::Status(s, _) => check.note(Status::Pass, format!("{first} without credentials is refused ({s})")),
        Probe::Error(e) => check.note(Status::Warn, format!("probe without credentials could not run: {e}")),
    }
    match probe(corrupt(&real)) {
        Probe::Status(s, _) if s == 401 || s == 403 => {
            check.note(Status::Pass, format!("{first} with corrupted credentials is refused ({s})"))
        }
        Probe::Refused(_) => {
            check.note(Status::Pass, format!("{first} with corrupted credentials is refused (by the token endpoint)"))
        }
        Probe::Status(s, _) if (200..300).contains(&s) => check.note(
            Status::Warn,
            format!("{first} with corrupted credentials answers {s}: the API does not check the credentials sent"),
        ),
        Probe::Status(s, _) => check.note(Status::Pass, format!("{first} with corrupted credentials is refused ({s})")),
        Probe::Error(e) => check.note(Status::Warn, format!("probe with corrupted credentials could not run: {e}")),
    }
}

const SCOPE_NAMES: &[&str] = &[
    "status",
    "state",
    "domain",
    "scope",
    "filter",
    "type",
    "account_id",
    "accountid",
    "deleted",
    "archived",
    "active",
    "enabled",
    "visibility",
    "all",
    "limit_to",
];
const ALL_VALUES: &[&str] = &["all", "any", "*", "everything", "include_all"];

/// A scoping parameter of a list operation and the value that widens it.
struct Widening {
    param: String,
    value: String,
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    let mut cur = v;
    for _ in 0..8 {
        let Some(r) = cur.get("$ref").and_then(Value::as_str) else { break };
        let ptr = r.trim_start_matches('#');
        match doc.pointer(ptr) {
            Some(t) => cur = t,
            None => break,
        }
    }
    cur
}

fn widenings(doc: &Value, path_item: &Value, op: &Value) -> Vec<Widening> {
    let mut out = Vec::new();
    let params = path_item
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(op.get("parameters").and_then(Value::as_array).into_iter().flatten());
    for p in params {
        let p = resolve(doc, p);
        if p.get("in").and_then(Value::as_str) != Some("query") {
            continue;
        }
        let Some(name) = p.get("name").and_then(Value::as_str) else { continue };
        let lname = name.to_lowercase();
        let schema = p.get("schema").map(|s| resolve(doc, s)).unwrap_or(p);
        let enums: Vec<String> = schema
            .get("enum")
            .or_else(|| schema.get("items").and_then(|i| resolve(doc, i).get("enum")))
            .and_then(Value::as_array)
            .map(|e| e.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let is_bool = schema.get("type").and_then(Value::as_str) == Some("boolean");
        let include_like =
            lname.starts_with("include") || lname.starts_with("show") || lname.starts_with("with_") || lname == "all";
        if is_bool && include_like {
            out.push(Widening { param: name.to_string(), value: "true".into() });
        } else if (SCOPE_NAMES.contains(&lname.as_str()) || include_like)
            && let Some(all) = enums.iter().find(|e| ALL_VALUES.contains(&e.to_lowercase().as_str()))
        {
            out.push(Widening { param: name.to_string(), value: all.clone() });
        }
    }
    out
}

/// Does an OpenAPI path template (`/groups/{id}/members`) match the end of a concrete path?
fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.split('?').next().unwrap_or("").trim_matches('/').split('/').collect();
    if t.len() > p.len() {
        return false;
    }
    let tail = &p[p.len() - t.len()..];
    t.iter().zip(tail).all(|(a, b)| (a.starts_with('{') && a.ends_with('}')) || a == b)
}

/// Compare each listing's row count with the count under a documented "all" value of its scoping params.
pub(crate) fn under_sync(c: &CompiledConnector, env: &EnvFn, r1: &SyncReport, opts: &VerifyOptions) -> Check {
    let mut check = Check::new("under-sync probes", W_UNDERSYNC);
    let Some(doc) = &opts.openapi else {
        check.summary = "not run: pass --openapi SPEC to probe scoping parameters".into();
        return check;
    };
    if opts.limit.is_some() {
        check.summary = "not run on a bounded read (--limit): counts are not comparable".into();
        return check;
    }
    let Ok(cfg) = sync::client_config(c, env) else { return check };
    let Ok(vars) = sync::resolve_vars(c, env) else { return check };
    let Ok(client) = HttpClient::new(cfg) else { return check };
    let Some(rt_) = runtime() else { return check };
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        check.note(Status::Warn, "the OpenAPI document has no `paths`");
        return check;
    };
    for rt in &c.resource_types {
        let Some(listing) = r1.resource_types.iter().find(|l| l.label == rt.id) else { continue };
        let Ok(req) = sync::build_request(&rt.list.request, env, &vars, &TemplateCtx::default(), None) else {
            continue;
        };
        let Some((_, item, op)) = paths.iter().find_map(|(t, item)| {
            let op = item.get("get")?;
            path_matches(t, &req.path).then_some((t, item, op))
        }) else {
            continue;
        };
        for w in widenings(doc, item, op) {
            if req.query.iter().any(|(k, _)| k == &w.param) {
                check.note(
                    Status::Pass,
                    format!("{}: the connector already sets `{}={}`", rt.id, w.param, rt_query_value(&req, &w.param)),
                );
                continue;
            }
            let mut probe = req.clone();
            probe.auth =
                rt.list.request.auth.as_ref().and_then(|a| sync::auth_config(a, env, "auth").ok()).map(Arc::new);
            probe.query.push((w.param.clone(), w.value.clone()));
            let mut pager = client.paginate(
                probe,
                sync::pagination(&rt.list.pagination),
                rt.list.items.clone(),
                format!("{} probe", rt.id),
            );
            let mut rows = 0u64;
            let result = rt_.block_on(async {
                while let Some(page) = pager.next_page().await? {
                    rows += page.item_count as u64;
                }
                Ok::<(), muster_http::HttpError>(())
            });
            match result {
                Err(e) => check.note(Status::Warn, format!("{}: probe with `{}={}` failed: {e}", rt.id, w.param, w.value)),
                Ok(()) if rows > listing.coverage.rows => check.note(
                    Status::Fail,
                    format!(
                        "{}: with `{}={}` the API lists {rows} rows; the connector sees {}: the default scope hides {} rows; add `query: {{ {}: \"{}\" }}` to the list request",
                        rt.id,
                        w.param,
                        w.value,
                        listing.coverage.rows,
                        rows - listing.coverage.rows,
                        w.param,
                        w.value
                    ),
                ),
                Ok(()) => check.note(
                    Status::Pass,
                    format!("{}: `{}={}` lists {rows} rows, the connector sees {}", rt.id, w.param, w.value, listing.coverage.rows),
                ),
            }
        }
    }
    if check.evidence.is_empty() {
        check.note(
            Status::Pass,
            "the OpenAPI document shows no scoping parameter with an \"all\" value on the listed operations",
        );
    }
    check
}

/// A listing that ended after one page shorter than the page size asked for either holds everything, or
/// met a server that silently clamps its page size. Fetch the next page to tell which.
pub(crate) fn clamped_first_pages(c: &CompiledConnector, env: &EnvFn, r1: &SyncReport, check: &mut Check) {
    let Ok(cfg) = sync::client_config(c, env) else { return };
    let Ok(vars) = sync::resolve_vars(c, env) else { return };
    let Ok(client) = HttpClient::new(cfg) else { return };
    let Some(rt_) = runtime() else { return };
    for rt in &c.resource_types {
        let Some(l) = r1.resource_types.iter().find(|l| l.label == rt.id) else { continue };
        let (Some(asked), Some(first)) = (l.page_size_asked, l.first_page_rows) else { continue };
        if l.pages != 1 || first == 0 || first >= asked || l.truncated || l.api_total == Some(l.coverage.rows) {
            continue;
        }
        let Ok(mut req) = sync::build_request(&rt.list.request, env, &vars, &TemplateCtx::default(), None) else {
            continue;
        };
        req.auth = rt.list.request.auth.as_ref().and_then(|a| sync::auth_config(a, env, "auth").ok()).map(Arc::new);
        use muster_spec::schema::Pagination as P;
        match &rt.list.pagination {
            P::Offset { offset_param, limit_param, limit, start, .. } => {
                req.set_query(offset_param.as_deref().unwrap_or("offset"), (start.unwrap_or(0) + first).to_string());
                req.set_query(limit_param.as_deref().unwrap_or("limit"), limit.unwrap_or(100).to_string());
            }
            P::Page { page_param, size_param, size, start, .. } => {
                req.set_query(page_param.as_deref().unwrap_or("page"), (start.unwrap_or(1) + 1).to_string());
                if let (Some(sp), Some(sz)) = (size_param, size) {
                    req.set_query(sp, sz.to_string());
                }
            }
            _ => continue,
        }
        let rows = rt_
            .block_on(client.send(&req))
            .ok()
            .filter(|r| r.is_success())
            .and_then(|r| r.json().ok())
            .and_then(|b| map::rows(&b, rt.list.items.as_deref()).ok().map(<[Value]>::len))
            .unwrap_or(0);
        if rows > 0 {
            check.note(
                Status::Fail,
                format!(
                    "{}: asked for {asked} per page, got {first}, and stopped; the next page holds {rows} more rows: the server clamps its page size to {first}; set the page size to {first}",
                    rt.id
                ),
            );
        } else {
            check.note(
                Status::Pass,
                format!(
                    "{}: one short page ({first} < {asked}); the next page is empty, so the listing is complete",
                    rt.id
                ),
            );
        }
    }
}

const IDENTITY_WORDS: &[&str] = &[
    "users",
    "accounts",
    "members",
    "memberships",
    "people",
    "employees",
    "groups",
    "teams",
    "roles",
    "tokens",
    "keys",
    "apikeys",
    "api_keys",
    "api-keys",
    "credentials",
    "service_accounts",
    "service-accounts",
    "serviceaccounts",
    "apps",
    "applications",
    "clients",
    "organizations",
    "orgs",
    "assignments",
    "permissions",
];

fn segments(path: &str) -> Vec<String> {
    path.split('?').next().unwrap_or("").trim_matches('/').split('/').map(|s| s.to_lowercase()).collect()
}

fn is_var(seg: &str) -> bool {
    seg.starts_with('{') && seg.ends_with('}')
}

/// Does a documented path template match the end of a connector path template?
fn template_matches(doc_path: &str, conn_path: &str) -> bool {
    let d = segments(doc_path);
    let c = segments(conn_path);
    if d.len() > c.len() {
        return false;
    }
    let tail = &c[c.len() - d.len()..];
    d.iter().zip(tail).all(|(a, b)| is_var(a) || is_var(b) || a == b)
}

/// With an OpenAPI document: identity listings it documents that no request of the connector reads.
pub(crate) fn unread_identity_operations(c: &CompiledConnector, opts: &VerifyOptions, check: &mut Check) {
    let Some(paths) = opts.openapi.as_ref().and_then(|d| d.get("paths")).and_then(Value::as_object) else { return };
    let mut read: Vec<&str> = Vec::new();
    for rt in &c.resource_types {
        read.push(&rt.list.request.path.source);
        for e in &rt.entitlements {
            if let Some(g) = &e.grants {
                read.push(&g.request.path.source);
            }
        }
    }
    let mut unread = Vec::new();
    for (path, item) in paths {
        if item.get("get").is_none() {
            continue;
        }
        let segs = segments(path);
        let Some(last) = segs.iter().rev().find(|s| !is_var(s)) else { continue };
        if segs.last().is_some_and(|s| is_var(s)) || !IDENTITY_WORDS.contains(&last.as_str()) {
            continue;
        }
        if !read.iter().any(|r| template_matches(path, r)) {
            unread.push(format!("GET {path}"));
        }
    }
    if !unread.is_empty() {
        check.note(
            Status::Warn,
            format!(
                "the OpenAPI document lists identity data this connector never reads: {}; identities there are not covered",
                unread.join(", ")
            ),
        );
    }
}

fn rt_query_value(req: &muster_http::Request, name: &str) -> String {
    req.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connector_templates_match_documented_paths() {
        assert!(template_matches("/groups/{id}/members", "/api/v1/groups/{resource.id}/members"));
        assert!(!template_matches("/teams", "/api/v1/groups"));
    }

    #[test]
    fn path_templates_match_suffixes() {
        assert!(path_matches("/users", "/api/v1/users"));
        assert!(path_matches("/groups/{id}/members", "/groups/g1/members?x=1"));
        assert!(!path_matches("/groups/{id}/members", "/groups/g1"));
        assert!(!path_matches("/teams", "/users"));
    }

    #[test]
    fn finds_all_like_values() {
        let doc = serde_json::json!({});
        let op = serde_json::json!({"parameters": [
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["active", "all"]}},
            {"name": "include_inactive", "in": "query", "schema": {"type": "boolean"}},
            {"name": "q", "in": "query", "schema": {"type": "string"}}
        ]});
        let w = widenings(&doc, &serde_json::json!({}), &op);
        let got: Vec<(String, String)> = w.into_iter().map(|w| (w.param, w.value)).collect();
        assert_eq!(got, vec![("status".into(), "all".into()), ("include_inactive".into(), "true".into())]);
    }
}
