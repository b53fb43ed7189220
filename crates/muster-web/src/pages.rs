//! The HTML pages. Each handler loads view data from [`crate::data`] off the async threads and renders it
//! inside the shared layout; actions redirect back with a one-time message (post/redirect/get).

use crate::auth::{Ctx, Flash, session_cookie};
use crate::data::{self, ConnectorDetail, IdentityDetail, NhiList, SyncDiffView};
use crate::html::{self, Layout, Nav, badge, esc, opt, pct};
use crate::queries::{HeldGrant, InventoryPage};
use crate::{AppState, WebError};
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use muster_govern::short;
use muster_store::{SyncInfo, SyncStatus};
use std::collections::HashMap;
use std::fmt::Write as _;

type Params = Query<HashMap<String, String>>;
type FormData = Form<HashMap<String, String>>;

const STYLE: &str = include_str!("assets/style.css");
const SCRIPT: &str = include_str!("assets/app.js");

fn field<'a>(f: &'a HashMap<String, String>, k: &str) -> &'a str {
    f.get(k).map(String::as_str).unwrap_or("")
}

/// An error as a page (no session needed).
pub(crate) fn error_page(e: &WebError) -> Response {
    let title = match e.status() {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::BAD_REQUEST => "Bad request",
        StatusCode::UNAUTHORIZED => "Log in required",
        StatusCode::FORBIDDEN => "Forbidden",
        StatusCode::CONFLICT => "Refused",
        _ => "Error",
    };
    let body = format!(
        "<h1>{title}</h1><p class=\"error-msg\">{}</p><p><a href=\"/connectors\">Back to the connectors</a></p>",
        esc(&e.to_string())
    );
    let l = Layout { title, nav: Nav::None, flash: None, logout_csrf: None };
    (e.status(), Html(html::page(&l, &body))).into_response()
}

fn render(st: &AppState, ctx: &Ctx, title: &str, nav: Nav, body: Result<String, WebError>) -> Response {
    match body {
        Ok(body) => {
            let flash = ctx.session.as_deref().and_then(|s| st.inner().sessions.take_flash(s));
            let logout = (ctx.token_required && ctx.session.is_some()).then_some(ctx.csrf.as_str());
            let l = Layout { title, nav, flash: flash.map(|f| (f.ok, f.msg)), logout_csrf: logout };
            Html(html::page(&l, &body)).into_response()
        }
        Err(e) => error_page(&e),
    }
}

fn flash_redirect(st: &AppState, ctx: &Ctx, ok: bool, msg: String, to: &str) -> Response {
    if let Some(s) = &ctx.session {
        st.inner().sessions.set_flash(s, Flash { ok, msg });
    }
    Redirect::to(to).into_response()
}

fn csrf_field(ctx: &Ctx) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(&ctx.csrf))
}

fn connector_href(name: &str) -> String {
    format!("/connectors/{}", pct(name))
}

fn identity_href(connector: &str, rtype: &str, id: &str) -> String {
    format!("/identities/{}/{}/{}", pct(connector), pct(rtype), pct(id))
}

fn when(s: Option<&str>) -> String {
    match s {
        Some(t) if !t.is_empty() => {
            let t = t.split('.').next().unwrap_or(t).trim_end_matches('Z').replace('T', " ");
            format!("<time>{}</time>", esc(&t))
        }
        _ => "<span class=\"muted\">—</span>".into(),
    }
}

fn actor_fields(prefix: &str) -> String {
    format!(
        "<label>Your name <input name=\"name\" id=\"{prefix}-name\" required maxlength=\"100\" autocomplete=\"name\"></label>\
         <label>E-mail <input name=\"email\" id=\"{prefix}-email\" type=\"email\" required maxlength=\"254\" autocomplete=\"email\"></label>"
    )
}

// ---------------------------------------------------------------------------------------------------------
// Assets, home, login
// ---------------------------------------------------------------------------------------------------------

pub(crate) async fn home() -> Redirect {
    Redirect::to("/connectors")
}

pub(crate) async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], STYLE)
        .into_response()
}

pub(crate) async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], SCRIPT)
        .into_response()
}

pub(crate) async fn login_form(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    if !ctx.token_required || ctx.authed {
        return Redirect::to("/connectors").into_response();
    }
    let body = format!(
        "<section class=\"login\"><h1>Log in</h1><p>This server was started with <code>--token</code>. Enter it to continue.</p>\
         <form method=\"post\" action=\"/login\">{}<label>Token <input type=\"password\" name=\"token\" required autocomplete=\"current-password\"></label>\
         <button type=\"submit\">Log in</button></form></section>",
        csrf_field(&ctx)
    );
    render(&st, &ctx, "Log in", Nav::None, Ok(body))
}

pub(crate) async fn login(State(st): State<AppState>, Extension(ctx): Extension<Ctx>, Form(f): FormData) -> Response {
    let inner = st.inner();
    let Some(token) = inner.cfg.token.as_deref() else { return Redirect::to("/connectors").into_response() };
    if !crate::auth::ct_eq(field(&f, "token"), token) {
        return flash_redirect(&st, &ctx, false, "That token is not right.".into(), "/login");
    }
    match inner.sessions.login(ctx.session.as_deref()) {
        Some((id, _)) => {
            let mut r = Redirect::to("/connectors").into_response();
            r.headers_mut().insert(header::SET_COOKIE, session_cookie(&id));
            r
        }
        None => error_page(&WebError::Internal("the session table is unavailable".into())),
    }
}

pub(crate) async fn logout(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    if let Some(s) = &ctx.session {
        st.inner().sessions.logout(s);
    }
    Redirect::to(if ctx.token_required { "/login" } else { "/connectors" }).into_response()
}

// ---------------------------------------------------------------------------------------------------------
// Connectors
// ---------------------------------------------------------------------------------------------------------

pub(crate) async fn connectors(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    let body = st.blocking(data::connectors).await.map(|rows| {
        let mut h = String::from(
            "<h1>Connectors</h1><p class=\"lead\">Every connector in the store, with the state the CLI's <code>muster status</code> reports: \
             <b>draft</b> (registered, untested) → <b>tested</b> (has a trust report) → <b>approved</b> → <b>production</b> \
             (approved and synced); <b>held</b> when the drift guard holds a sync.</p>",
        );
        if rows.is_empty() {
            h.push_str("<p class=\"empty\">No connectors yet: register one with <code>muster registry add FILE</code>.</p>");
            return h;
        }
        h.push_str("<table class=\"grid\" id=\"connectors\"><thead><tr><th>Connector</th><th>State</th><th>Latest version</th>\
             <th>Approved version</th><th>Trust score</th><th>Last sync</th><th>Holds</th></tr></thead><tbody>");
        for r in &rows {
            let score = match (r.last_score, r.last_report_passed) {
                (Some(s), Some(p)) => format!("<span class=\"score {}\">{s}</span>", if p { "good" } else { "bad" }),
                _ => "<span class=\"muted\">—</span>".into(),
            };
            let last = match r.last_sync {
                Some(id) => format!(
                    "<a href=\"/syncs/{id}\">#{id}</a> {} {}",
                    badge(r.last_sync_status.as_deref().unwrap_or("")),
                    when(r.last_sync_at.as_deref())
                ),
                None => "<span class=\"muted\">never</span>".into(),
            };
            let holds = if r.held.is_empty() {
                "<span class=\"muted\">—</span>".to_string()
            } else {
                r.held.iter().map(|i| format!("<a href=\"/syncs/{i}\">#{i}</a>")).collect::<Vec<_>>().join(" ")
            };
            let _ = write!(
                h,
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{score}</td><td>{last}</td><td>{holds}</td></tr>",
                esc(&connector_href(&r.connector)),
                esc(&r.connector),
                badge(&r.state),
                opt(r.latest_version.as_deref()),
                opt(r.approved_version.as_deref()),
            );
        }
        h.push_str("</tbody></table>");
        h
    });
    render(&st, &ctx, "Connectors", Nav::Connectors, body)
}

fn checks_table(checks: &[muster_verify::Check], evidence: bool) -> String {
    let mut h = String::from(
        "<table class=\"grid checks\"><thead><tr><th>Check</th><th>Status</th><th>Finding</th><th>Weight</th></tr></thead><tbody>",
    );
    for c in checks {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td><td>{}", esc(&c.name), badge(c.status.as_str()), esc(&c.summary));
        if evidence && !c.evidence.is_empty() {
            let _ = write!(h, "<details><summary>{} evidence lines</summary><ul class=\"ev\">", c.evidence.len());
            for e in c.evidence.iter().take(200) {
                let _ = write!(h, "<li>{}</li>", esc(e));
            }
            h.push_str("</ul></details>");
        }
        let _ = write!(h, "</td><td>{}</td></tr>", c.weight);
    }
    h.push_str("</tbody></table>");
    h
}

fn connector_body(d: &ConnectorDetail, ctx: &Ctx) -> String {
    let s = &d.status;
    let name = &s.connector;
    let href = connector_href(name);
    let mut h = String::new();
    let _ = write!(
        h,
        "<p class=\"crumbs\"><a href=\"/connectors\">Connectors</a> ›</p><h1>{} {}</h1>",
        esc(name),
        badge(&s.state)
    );
    if let Some(desc) = d.app.get("description").and_then(|v| v.as_str()) {
        let _ = write!(h, "<p class=\"lead\">{}</p>", esc(desc));
    }
    let _ = write!(
        h,
        "<dl class=\"facts\"><dt>Owner</dt><dd>{}</dd><dt>Latest version</dt><dd><code>{}</code></dd>\
         <dt>Approved version</dt><dd><code>{}</code></dd><dt>Holds</dt><dd>{}</dd></dl>",
        opt(d.app.get("owner").and_then(|v| v.as_str())),
        opt(s.latest_version.as_deref()),
        opt(s.approved_version.as_deref()),
        if s.held.is_empty() {
            "none".to_string()
        } else {
            s.held.iter().map(|i| format!("<a href=\"/syncs/{i}\">sync #{i}</a>")).collect::<Vec<_>>().join(", ")
        }
    );

    // Trust report
    h.push_str("<section id=\"trust\"><h2>Latest trust report</h2>");
    match &d.latest_report {
        Some(r) => {
            let _ = write!(
                h,
                "<p class=\"report-head\"><span class=\"score big {}\">{}</span><span class=\"of\">/100</span> {} \
                 for version <code>{}</code>, tested {} against <code>{}</code> · \
                 <a id=\"open-report\" href=\"/reports/{}\">Open trust report #{}</a></p>",
                if r.passed { "good" } else { "bad" },
                r.score,
                badge(if r.passed { "passed" } else { "failed" }),
                esc(&short(&r.spec_hash)),
                when(Some(&r.created_at)),
                esc(&r.base_url),
                r.id,
                r.id
            );
            h.push_str(&checks_table(&d.latest_report_checks, false));
        }
        None => {
            h.push_str("<p class=\"empty\">Never tested: run <code>muster test</code> to produce a trust report.</p>")
        }
    }
    h.push_str("</section>");

    // Decide
    if let Some(latest) = d.versions.first() {
        let version_opts: Vec<(String, String)> = d
            .versions
            .iter()
            .map(|v| (v.spec_hash.clone(), format!("{} — {} ({})", v.short, v.author, v.created_at)))
            .collect();
        let opts: Vec<(&str, &str)> = version_opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let select = html::options(&opts, Some(&latest.spec_hash));
        let _ = write!(
            h,
            "<section id=\"decide\"><h2>Decide</h2><p class=\"rules\">Rules (the same as <code>muster approve</code>): a passing trust report \
             for that exact version, younger than {} hours{}. Every decision and refusal goes to the audit log.</p>\
             <div class=\"forms\"><form method=\"post\" action=\"{}/approve\" class=\"card\" id=\"approve-form\">{}<h3>Approve</h3>\
             <label>Version <select name=\"version\">{select}</select></label>{}\
             <label>Comment <textarea name=\"comment\" rows=\"2\" maxlength=\"2000\"></textarea></label>\
             <button type=\"submit\" class=\"primary\">Approve</button></form>\
             <form method=\"post\" action=\"{}/reject\" class=\"card\" id=\"reject-form\">{}<h3>Reject</h3>\
             <label>Version <select name=\"version\">{select}</select></label>{}\
             <label>Reason (required) <textarea name=\"reason\" rows=\"2\" required maxlength=\"2000\"></textarea></label>\
             <button type=\"submit\" class=\"danger\">Reject</button></form></div></section>",
            d.rules.max_report_age_hours,
            if d.rules.four_eyes { "; four eyes: the approver must not be the version's author" } else { "" },
            esc(&href),
            csrf_field(ctx),
            actor_fields("approve"),
            esc(&href),
            csrf_field(ctx),
            actor_fields("reject"),
        );
    }

    // Versions
    h.push_str("<section id=\"versions\"><h2>Version history</h2>");
    if d.versions.is_empty() {
        h.push_str("<p class=\"empty\">No registered versions (this connector was synced from a file). Register it with <code>muster registry add</code>.</p>");
    } else {
        h.push_str("<table class=\"grid\"><thead><tr><th>Version</th><th>Author</th><th>Registered</th><th>Message</th><th>Tested</th><th>Decisions</th></tr></thead><tbody>");
        for v in &d.versions {
            let tested = match &v.report {
                Some(r) => format!(
                    "<a href=\"/reports/{}\">#{}</a> score {} {}",
                    r.id,
                    r.id,
                    r.score,
                    badge(if r.passed { "passed" } else { "failed" })
                ),
                None => "<span class=\"muted\">untested</span>".into(),
            };
            let decisions = v
                .decisions
                .iter()
                .map(|x| {
                    format!(
                        "{} by {} {}{}",
                        badge(&x.decision),
                        esc(&x.actor),
                        when(Some(&x.created_at)),
                        if x.comment.is_empty() { String::new() } else { format!(": <q>{}</q>", esc(&x.comment)) }
                    )
                })
                .collect::<Vec<_>>()
                .join("<br>");
            let _ = write!(
                h,
                "<tr><td><a href=\"{}?version={}\"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td><td>{tested}</td><td>{}</td></tr>",
                esc(&href),
                pct(&v.spec_hash),
                esc(&v.short),
                esc(&v.author),
                when(Some(&v.created_at)),
                esc(&v.message),
                if decisions.is_empty() { "<span class=\"muted\">—</span>".into() } else { decisions }
            );
        }
        h.push_str("</tbody></table>");
        if d.versions.len() >= 2 {
            let version_opts: Vec<(String, String)> =
                d.versions.iter().map(|v| (v.spec_hash.clone(), format!("{} ({})", v.short, v.created_at))).collect();
            let opts: Vec<(&str, &str)> = version_opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let _ = write!(
                h,
                "<form method=\"get\" action=\"{}/diff\" class=\"inline\"><label>Compare <select name=\"from\">{}</select></label>\
                 <label>with <select name=\"to\">{}</select></label><button type=\"submit\">Show diff</button></form>",
                esc(&href),
                html::options(&opts, Some(&d.versions[1].spec_hash)),
                html::options(&opts, Some(&d.versions[0].spec_hash)),
            );
        }
    }
    h.push_str("</section>");

    // Source
    if let (Some(src), Some(v)) = (&d.source, &d.source_version) {
        let _ = write!(
            h,
            "<section id=\"source\"><h2>Source of version <code>{}</code></h2><p class=\"muted\">As registered, comments included; \
             provenance comments (<span class=\"c prov\"># from …</span>) say where each block came from. \
             <code>${{VAR}}</code> references are read from the environment at run time and never stored.</p>{}</section>",
            esc(&short(v)),
            html::yaml(src)
        );
    }

    // Syncs
    if !d.syncs.is_empty() {
        h.push_str("<section><h2>Recent syncs</h2>");
        h.push_str(&syncs_table(&d.syncs, ctx, false));
        h.push_str("</section>");
    }
    if !d.decisions.is_empty() {
        h.push_str("<section><h2>Decisions</h2><table class=\"grid\" id=\"decisions-table\"><thead><tr><th>When</th><th>Decision</th><th>Version</th><th>By</th><th>Comment</th><th>Report</th></tr></thead><tbody>");
        for x in &d.decisions {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                when(Some(&x.created_at)),
                badge(&x.decision),
                esc(&short(&x.spec_hash)),
                esc(&x.actor),
                esc(&x.comment),
                x.report_id.map(|r| format!("<a href=\"/reports/{r}\">#{r}</a>")).unwrap_or_default()
            );
        }
        h.push_str("</tbody></table></section>");
    }
    h
}

pub(crate) async fn connector(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
    Query(q): Params,
) -> Response {
    let version = q.get("version").filter(|v| !v.is_empty()).cloned();
    let title = name.clone();
    let c = ctx.clone();
    let body =
        st.blocking(move |i| data::connector(i, &name, version.as_deref())).await.map(|d| connector_body(&d, &c));
    render(&st, &ctx, &title, Nav::Connectors, body)
}

pub(crate) async fn connector_diff(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
    Query(q): Params,
) -> Response {
    let from = q.get("from").filter(|v| !v.is_empty()).cloned();
    let to = q.get("to").filter(|v| !v.is_empty()).cloned();
    let title = format!("{name} · diff");
    let body = st.blocking(move |i| data::version_diff(i, &name, from.as_deref(), to.as_deref())).await.map(|d| {
        let mut h = String::new();
        let _ = write!(
            h,
            "<p class=\"crumbs\"><a href=\"/connectors\">Connectors</a> › <a href=\"{}\">{}</a> ›</p>\
             <h1>Diff <code>{}</code> → <code>{}</code></h1><h2>Semantic changes ({} changes, {} risky)</h2>",
            esc(&connector_href(&d.connector)),
            esc(&d.connector),
            esc(&short(&d.from)),
            esc(&short(&d.to)),
            d.changes.len(),
            d.risky
        );
        if d.changes.is_empty() {
            h.push_str("<p class=\"empty\">No semantic changes (only comments or formatting differ).</p>");
        } else {
            h.push_str("<table class=\"grid\" id=\"semantic\"><thead><tr><th></th><th>Category</th><th>Path</th><th>Change</th><th>Before</th><th>After</th></tr></thead><tbody>");
            for c in &d.changes {
                let _ = write!(
                    h,
                    "<tr class=\"{}\"><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                    if c.risky { "risky" } else { "" },
                    if c.risky { "<span class=\"badge bad\" title=\"risky change\">! risky</span>" } else { "" },
                    esc(&c.category),
                    esc(&c.path),
                    esc(&c.kind),
                    opt(c.old.as_deref()),
                    opt(c.new.as_deref())
                );
            }
            h.push_str("</tbody></table>");
        }
        h.push_str("<h2>Source, side by side</h2>");
        h.push_str(&html::side_by_side(&d.from_source, &d.to_source, &short(&d.from), &short(&d.to)));
        h
    });
    render(&st, &ctx, &title, Nav::Connectors, body)
}

async fn decide(st: AppState, ctx: Ctx, name: String, f: HashMap<String, String>, approve: bool) -> Response {
    let back = connector_href(&name);
    let actor = match data::actor(field(&f, "name"), field(&f, "email")) {
        Ok(a) => a,
        Err(e) => return error_page(&e),
    };
    let version = field(&f, "version").to_string();
    let text = field(&f, if approve { "comment" } else { "reason" }).to_string();
    let n = name.clone();
    let res = st
        .blocking(move |i| {
            if approve {
                data::approve(i, &n, &version, &actor, &text)
            } else {
                data::reject(i, &n, &version, &actor, &text)
            }
        })
        .await;
    match res {
        Ok(d) => {
            let msg = if approve {
                format!(
                    "Version {} approved by {} (trust report #{}).",
                    short(&d.spec_hash),
                    d.actor,
                    d.report_id.unwrap_or_default()
                )
            } else {
                format!("Version {} rejected by {}: {}", short(&d.spec_hash), d.actor, d.comment)
            };
            flash_redirect(&st, &ctx, true, msg, &back)
        }
        Err(WebError::Refused(m)) => flash_redirect(
            &st,
            &ctx,
            false,
            format!("{} refused: {m}", if approve { "Approval" } else { "Rejection" }),
            &back,
        ),
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn approve(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
    Form(f): FormData,
) -> Response {
    decide(st, ctx, name, f, true).await
}

pub(crate) async fn reject(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
    Form(f): FormData,
) -> Response {
    decide(st, ctx, name, f, false).await
}

fn parse_id(s: &str, what: &str) -> Result<i64, WebError> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| WebError::BadRequest(format!("`{}` is not a {what} id", s.chars().take(40).collect::<String>())))
}

pub(crate) async fn report(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let body = match parse_id(&id, "report") {
        Ok(id) => st.blocking(move |i| data::report(i, id)).await.map(|(s, r)| report_body(&s, &r)),
        Err(e) => Err(e),
    };
    render(&st, &ctx, &format!("Trust report #{id}"), Nav::Connectors, body)
}

fn report_body(s: &data::ReportSummary, r: &muster_verify::TrustReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<p class=\"crumbs\"><a href=\"/connectors\">Connectors</a> › <a href=\"{}\">{}</a> ›</p>\
         <h1>Trust report #{}</h1><p class=\"report-head\"><span class=\"score big {}\">{}</span><span class=\"of\">/100</span> {} \
         · version <code>{}</code> · base URL <code>{}</code> · tested {} · mode {} · {} requests in {:.1}s</p>",
        esc(&connector_href(&r.connector)),
        esc(&r.connector),
        s.id,
        if r.passed { "good" } else { "bad" },
        r.score,
        badge(if r.passed { "passed" } else { "failed" }),
        esc(&short(&r.spec_hash)),
        esc(&r.base_url),
        when(Some(&r.created_at)),
        esc(&r.mode),
        r.requests,
        r.elapsed_ms as f64 / 1000.0
    );
    h.push_str("<h2>Checks</h2>");
    h.push_str(&checks_table(&r.checks, true));
    h.push_str("<h2>Counts</h2><dl class=\"facts\">");
    for (k, v) in &r.counts {
        let _ = write!(h, "<dt>{}</dt><dd>{v}</dd>", esc(k));
    }
    h.push_str("</dl><h2>Listings</h2><table class=\"grid\"><thead><tr><th>Listing</th><th>Pagination</th><th>Pages</th><th>Rows</th><th>Records</th><th>API total</th></tr></thead><tbody>");
    for l in &r.listings {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&l.label),
            esc(&l.pagination),
            l.pages,
            l.coverage.rows,
            l.records,
            l.api_total.map(|t| t.to_string()).unwrap_or_else(|| "—".into())
        );
    }
    h.push_str("</tbody></table><h2 id=\"samples\">Sample records</h2>");
    for (t, recs) in &r.samples {
        let _ = write!(h, "<h3>{} <span class=\"muted\">({} shown)</span></h3>", esc(t), recs.len());
        h.push_str("<table class=\"grid\"><thead><tr><th>Id</th><th>Name</th><th>Status</th><th>Traits</th></tr></thead><tbody>");
        for rec in recs {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&rec.id),
                opt(rec.display_name.as_deref()),
                badge(rec.status.as_str()),
                traits_summary(rec)
            );
        }
        h.push_str("</tbody></table>");
    }
    let _ = write!(
        h,
        "<h2 id=\"requests\">Request log</h2><p class=\"muted\">{} requests (URLs redacted; headers and bodies are never kept).</p>\
         <details><summary>Show the request log</summary><table class=\"grid\"><thead><tr><th>Method</th><th>URL</th><th>Status</th><th>ms</th><th>Bytes</th></tr></thead><tbody>",
        r.request_log.len()
    );
    for q in r.request_log.iter().take(500) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
            esc(&q.method),
            esc(&q.url),
            q.status.map(|s| s.to_string()).unwrap_or_else(|| esc(q.error.as_deref().unwrap_or("error"))),
            q.duration_ms,
            q.bytes
        );
    }
    h.push_str("</tbody></table></details>");
    h
}

fn traits_summary(r: &muster_model::Resource) -> String {
    let mut parts = Vec::new();
    if let Some(u) = &r.user {
        if let Some(a) = u.account_type {
            parts.push(format!("account {}", a.as_str()));
        }
        if let Some(l) = &u.login {
            parts.push(format!("login {}", esc(l)));
        }
        if !u.emails.is_empty() {
            parts.push(esc(&u.emails.join(", ")));
        }
        if let Some(m) = u.mfa {
            parts.push(format!("MFA {}", if m { "on" } else { "off" }));
        }
    }
    if let Some(s) = &r.secret {
        parts.push(format!("credential {}", esc(s.kind.as_deref().unwrap_or("secret"))));
        if let Some(o) = &s.owner {
            parts.push(format!("owner {}", esc(&o.to_string())));
        }
        if let Some(e) = &s.expires_at {
            parts.push(format!("expires {}", esc(e)));
        }
    }
    if parts.is_empty() { "<span class=\"muted\">—</span>".into() } else { parts.join(" · ") }
}

// ---------------------------------------------------------------------------------------------------------
// Inventory and identities
// ---------------------------------------------------------------------------------------------------------

fn inventory_body(p: &InventoryPage, connectors: &[String]) -> String {
    let f = &p.filter;
    let mut h = String::from(
        "<h1>Inventory</h1><p class=\"lead\">Identities (accounts) in each connector's current snapshot.</p>",
    );
    let conn_opts: Vec<(&str, &str)> =
        std::iter::once(("", "any connector")).chain(connectors.iter().map(|c| (c.as_str(), c.as_str()))).collect();
    let _ = write!(
        h,
        "<form method=\"get\" action=\"/inventory\" class=\"filters\" id=\"inventory-filters\">\
         <label>Search <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"name, e-mail, login or id\" maxlength=\"200\"></label>\
         <label>Account type <select name=\"type\" data-autosubmit>{}</select></label>\
         <label>Status <select name=\"status\" data-autosubmit>{}</select></label>\
         <label>Connector <select name=\"connector\" data-autosubmit>{}</select></label>\
         <button type=\"submit\">Filter</button></form>",
        esc(f.q.as_deref().unwrap_or("")),
        html::options(
            &[("", "any"), ("human", "human"), ("service", "service"), ("system", "system"), ("unknown", "unknown")],
            Some(f.account_type.as_deref().unwrap_or(""))
        ),
        html::options(
            &[
                ("", "any"),
                ("enabled", "enabled"),
                ("disabled", "disabled"),
                ("deleted", "deleted"),
                ("unknown", "unknown")
            ],
            Some(f.status.as_deref().unwrap_or(""))
        ),
        html::options(&conn_opts, Some(f.connector.as_deref().unwrap_or(""))),
    );
    let href = |page: u64| {
        let mut q = vec![format!("page={page}")];
        for (k, v) in [("q", &f.q), ("type", &f.account_type), ("status", &f.status), ("connector", &f.connector)] {
            if let Some(v) = v {
                q.push(format!("{k}={}", pct(v)));
            }
        }
        if f.per_page != 50 {
            q.push(format!("per_page={}", f.per_page));
        }
        format!("/inventory?{}", q.join("&"))
    };
    let pager = html::pager(u64::from(f.page), p.pages, p.total, "identities", href);
    h.push_str(&pager);
    if p.items.is_empty() {
        h.push_str("<p class=\"empty\">No identities match.</p>");
        return h;
    }
    h.push_str("<table class=\"grid\" id=\"inventory\"><thead><tr><th>Name</th><th>Login</th><th>E-mail</th><th>Account</th><th>Status</th><th>Last login</th><th>MFA</th><th>Connector</th><th>Id</th></tr></thead><tbody>");
    for i in &p.items {
        let _ = write!(
            h,
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&identity_href(&i.connector, &i.resource_type, &i.id)),
            esc(i.display_name.as_deref().unwrap_or(&i.id)),
            opt(i.login.as_deref()),
            opt(i.emails.first().map(String::as_str)),
            opt(i.account_type.as_deref()),
            badge(&i.status),
            when(i.last_login.as_deref()),
            match i.mfa {
                Some(true) => "on",
                Some(false) => "off",
                None => "—",
            },
            esc(&i.connector),
            esc(&i.id)
        );
    }
    h.push_str("</tbody></table>");
    h.push_str(&pager);
    h
}

pub(crate) async fn inventory(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Params,
) -> Response {
    let body = match data::inventory_filter(&q) {
        Ok(f) => st
            .blocking(move |i| Ok((data::inventory(i, &f)?, data::current_connectors(i)?)))
            .await
            .map(|(p, c)| inventory_body(&p, &c)),
        Err(e) => Err(e),
    };
    render(&st, &ctx, "Inventory", Nav::Inventory, body)
}

fn grants_table(list: &[HeldGrant], connector: &str, id: &str) -> String {
    let mut h = format!("<table class=\"grid\" id=\"{id}\"><thead><tr><th>On</th><th>Entitlement</th><th>Purpose</th>");
    let inherited = list.iter().any(|g| g.via.is_some());
    if inherited {
        h.push_str("<th>Through</th>");
    }
    h.push_str("</tr></thead><tbody>");
    for g in list {
        let _ = write!(
            h,
            "<tr><td><a href=\"{}\">{}</a> <span class=\"muted\">{}:{}</span></td><td>{} <code>{}</code></td><td>{}</td>",
            esc(&identity_href(connector, &g.resource_type, &g.resource_id)),
            esc(g.resource_name.as_deref().unwrap_or(&g.resource_id)),
            esc(&g.resource_type),
            esc(&g.resource_id),
            opt(g.entitlement_name.as_deref()),
            esc(&g.slug),
            opt(g.purpose.as_deref())
        );
        if inherited {
            let via = g.via.as_ref().map(|v| {
                format!(
                    "<a href=\"{}\">{}</a>",
                    esc(&identity_href(connector, &v.resource_type, &v.id)),
                    esc(&v.to_string())
                )
            });
            let _ = write!(h, "<td>{}</td>", via.unwrap_or_default());
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    h
}

fn flags_html(flags: &[crate::nhi::Flag]) -> String {
    if flags.is_empty() {
        return "<span class=\"muted\">none</span>".into();
    }
    flags
        .iter()
        .map(|f| format!("<span class=\"flag {}\" title=\"{}\">{}</span>", esc(f.code), esc(&f.detail), esc(f.label)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn identity_body(d: &IdentityDetail) -> String {
    let r = &d.resource;
    let mut h = String::new();
    let _ = write!(
        h,
        "<p class=\"crumbs\"><a href=\"/inventory\">Inventory</a> › <a href=\"/inventory?connector={}\">{}</a> ›</p>\
         <h1>{} {}</h1><dl class=\"facts\"><dt>Type</dt><dd>{}</dd><dt>Id</dt><dd><code>{}</code></dd>\
         <dt>Connector</dt><dd><a href=\"{}\">{}</a> (snapshot <a href=\"/syncs/{}\">#{}</a>)</dd>",
        pct(&d.connector),
        esc(&d.connector),
        esc(r.display_name.as_deref().unwrap_or(&r.id)),
        badge(r.status.as_str()),
        esc(&r.resource_type),
        esc(&r.id),
        esc(&connector_href(&d.connector)),
        esc(&d.connector),
        d.sync_id,
        d.sync_id
    );
    if let Some(p) = &r.parent {
        let _ = write!(
            h,
            "<dt>Parent</dt><dd><a href=\"{}\">{}</a></dd>",
            esc(&identity_href(&d.connector, &p.resource_type, &p.id)),
            esc(&p.to_string())
        );
    }
    if let Some(desc) = &r.description {
        let _ = write!(h, "<dt>Description</dt><dd>{}</dd>", esc(desc));
    }
    if let Some(u) = &r.user {
        let _ = write!(
            h,
            "<dt>Account type</dt><dd>{}</dd><dt>Login</dt><dd>{}</dd><dt>E-mail</dt><dd>{}</dd><dt>Last login</dt><dd>{}</dd><dt>MFA</dt><dd>{}</dd>",
            opt(u.account_type.map(|a| a.as_str())),
            opt(u.login.as_deref()),
            if u.emails.is_empty() { opt(None) } else { esc(&u.emails.join(", ")) },
            when(u.last_login.as_deref()),
            match u.mfa {
                Some(true) => "on",
                Some(false) => "off",
                None => "—",
            }
        );
    }
    if let Some(s) = &r.secret {
        let owner = match &s.owner {
            Some(o) => format!(
                "<a href=\"{}\">{}</a>",
                esc(&identity_href(&d.connector, &o.resource_type, &o.id)),
                esc(&o.to_string())
            ),
            None => opt(None),
        };
        let _ = write!(
            h,
            "<dt>Credential kind</dt><dd>{}</dd><dt>Owner</dt><dd>{owner}</dd><dt>Created</dt><dd>{}</dd><dt>Expires</dt><dd>{}</dd><dt>Last used</dt><dd>{}</dd>",
            opt(s.kind.as_deref()),
            when(s.created_at.as_deref()),
            when(s.expires_at.as_deref()),
            when(s.last_used_at.as_deref())
        );
    }
    h.push_str("</dl>");
    if let Some(n) = &d.nhi {
        let _ = write!(h, "<p><b>Non-human identity risk flags:</b> {}</p>", flags_html(&n.flags));
    }
    if !r.profile.is_empty() {
        h.push_str("<h2>Profile</h2><dl class=\"facts\">");
        for (k, v) in &r.profile {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v));
        }
        h.push_str("</dl>");
    }
    let _ = write!(h, "<h2>Grants held ({})</h2>", d.grants.len());
    if d.grants.is_empty() {
        h.push_str("<p class=\"empty\">No direct grants.</p>");
    } else {
        h.push_str(&grants_table(&d.grants, &d.connector, "grants"));
    }
    if !d.inherited.is_empty() {
        let _ = write!(h, "<h2>Inherited through groups and roles ({})</h2>", d.inherited.len());
        h.push_str(&grants_table(&d.inherited, &d.connector, "inherited"));
    }
    if !d.owned_credentials.is_empty() {
        h.push_str("<h2>Credentials it owns</h2><table class=\"grid\"><thead><tr><th>Credential</th><th>Kind</th><th>Expires</th><th>Last used</th></tr></thead><tbody>");
        for c in &d.owned_credentials {
            let _ = write!(
                h,
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&identity_href(&d.connector, &c.resource_type, &c.id)),
                esc(c.display_name.as_deref().unwrap_or(&c.id)),
                opt(c.kind.as_deref()),
                when(c.expires_at.as_deref()),
                when(c.last_used_at.as_deref())
            );
        }
        h.push_str("</tbody></table>");
    }
    h
}

pub(crate) async fn identity(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((connector, rtype, id)): Path<(String, String, String)>,
) -> Response {
    let title = id.clone();
    let body = st.blocking(move |i| data::identity(i, &connector, &rtype, &id)).await.map(|d| identity_body(&d));
    render(&st, &ctx, &title, Nav::Inventory, body)
}

fn nhi_body(l: &NhiList, connectors: &[String], connector: Option<&str>, flag: Option<&str>) -> String {
    let mut h = format!(
        "<h1>Non-human identities</h1><p class=\"lead\">Service and system accounts and credentials (API tokens, keys) in the current \
         snapshots: {} in all. Ages and flags are computed as of <time>{}</time>.</p><p class=\"chips\">",
        l.total,
        esc(&l.now)
    );
    let conn_q = connector.map(|c| format!("&connector={}", pct(c))).unwrap_or_default();
    for (code, n) in &l.counts {
        let label = crate::nhi::FLAGS.iter().find(|(c, _)| c == code).map(|(_, l)| *l).unwrap_or(code);
        let active = if flag == Some(code.as_str()) { " active" } else { "" };
        let _ = write!(
            h,
            "<a class=\"chip flag {}{active}\" href=\"/nhi?flag={}{conn_q}\">{} <b>{n}</b></a>",
            esc(code),
            pct(code),
            esc(label)
        );
    }
    if flag.is_some() {
        let _ = write!(
            h,
            "<a class=\"chip\" href=\"/nhi{}\">show all</a>",
            connector.map(|c| format!("?connector={}", pct(c))).unwrap_or_default()
        );
    }
    h.push_str("</p>");
    let conn_opts: Vec<(&str, &str)> =
        std::iter::once(("", "any connector")).chain(connectors.iter().map(|c| (c.as_str(), c.as_str()))).collect();
    let flag_opts: Vec<(&str, &str)> =
        std::iter::once(("", "any flag")).chain(crate::nhi::FLAGS.iter().copied()).collect();
    let _ = write!(
        h,
        "<form method=\"get\" action=\"/nhi\" class=\"filters\"><label>Connector <select name=\"connector\" data-autosubmit>{}</select></label>\
         <label>Flag <select name=\"flag\" data-autosubmit>{}</select></label><button type=\"submit\">Filter</button></form>",
        html::options(&conn_opts, Some(connector.unwrap_or(""))),
        html::options(&flag_opts, Some(flag.unwrap_or("")))
    );
    if l.items.is_empty() {
        h.push_str("<p class=\"empty\">Nothing to show.</p>");
        return h;
    }
    h.push_str("<table class=\"grid\" id=\"nhi\"><thead><tr><th>Name</th><th>Kind</th><th>Owner</th><th>Age</th><th>Expires</th><th>Last use</th><th>Risk flags</th><th>Connector</th></tr></thead><tbody>");
    for n in &l.items {
        let owner = match (&n.owner, &n.owner_name) {
            (Some(o), Some(name)) => format!("{} <span class=\"muted\">{}</span>", esc(name), esc(o)),
            (Some(o), None) => esc(o),
            _ => opt(None),
        };
        let _ = write!(
            h,
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{owner}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&identity_href(&n.connector, &n.resource_type, &n.id)),
            esc(n.display_name.as_deref().unwrap_or(&n.id)),
            esc(&n.kind),
            n.age_days.map(|d| format!("{d} days")).unwrap_or_else(|| "—".into()),
            when(n.expires_at.as_deref()),
            when(n.last_used.as_deref()),
            flags_html(&n.flags),
            esc(&n.connector)
        );
    }
    h.push_str("</tbody></table><p class=\"muted rules\">Rules: <b>expired but present</b> — past its expiry, still in the snapshot; \
        <b>never used</b> — no last use / last login; <b>unused for 90 days</b>; <b>lifetime over a year</b> — valid for more than 365 days, or never expires; \
        <b>no owner</b> — no owner recorded, owner missing from the snapshot or disabled (accounts: no <code>owner</code> in the profile); \
        <b>human-style login</b> — a service account with MFA enabled, or with a mailbox and an interactive sign-in in the last 90 days.</p>");
    h
}

pub(crate) async fn nhi(State(st): State<AppState>, Extension(ctx): Extension<Ctx>, Query(q): Params) -> Response {
    let connector = q.get("connector").filter(|v| !v.is_empty()).cloned();
    let flag = q.get("flag").filter(|v| !v.is_empty()).cloned();
    let body = st
        .blocking(move |i| {
            let l = data::nhi_list(i, connector.as_deref(), flag.as_deref())?;
            Ok(nhi_body(&l, &data::current_connectors(i)?, connector.as_deref(), flag.as_deref()))
        })
        .await;
    render(&st, &ctx, "Non-human identities", Nav::Nhi, body)
}

// ---------------------------------------------------------------------------------------------------------
// Syncs
// ---------------------------------------------------------------------------------------------------------

fn accept_form(id: i64, ctx: &Ctx) -> String {
    format!(
        "<form method=\"post\" action=\"/syncs/{id}/accept\" class=\"card accept\" id=\"accept-{id}\">{}<b>Accept sync #{id}</b> \
         (make it current after reviewing what it drops){}<label>Comment <input name=\"comment\" maxlength=\"2000\"></label>\
         <button type=\"submit\" class=\"primary\">Accept</button></form>",
        csrf_field(ctx),
        actor_fields(&format!("accept-{id}"))
    )
}

fn syncs_table(syncs: &[SyncInfo], ctx: &Ctx, with_accept: bool) -> String {
    let mut h = String::from(
        "<table class=\"grid\" id=\"syncs\"><thead><tr><th>Sync</th><th>Connector</th><th>Status</th><th>Started</th><th>Finished</th><th>Resources</th><th>Grants</th><th>Findings</th><th>Note</th></tr></thead><tbody>",
    );
    for s in syncs {
        let _ = write!(
            h,
            "<tr class=\"{}\"><td><a href=\"/syncs/{}\">#{}</a></td><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if s.status == SyncStatus::Held { "held" } else { "" },
            s.id,
            s.id,
            esc(&connector_href(&s.connector)),
            esc(&s.connector),
            badge(s.status.as_str()),
            when(Some(&s.started_at)),
            when(s.finished_at.as_deref()),
            s.counts.resources,
            s.counts.grants,
            s.counts.findings,
            opt(s.error.as_deref())
        );
        if with_accept && s.status == SyncStatus::Held {
            let _ = write!(h, "<tr class=\"held\"><td colspan=\"9\">{}</td></tr>", accept_form(s.id, ctx));
        }
    }
    h.push_str("</tbody></table>");
    h
}

pub(crate) async fn syncs(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    let c = ctx.clone();
    let body = st.blocking(data::syncs).await.map(|list| {
        let held = list.iter().filter(|s| s.status == SyncStatus::Held).count();
        let mut h = format!(
            "<h1>Syncs</h1><p class=\"lead\">Every sync, newest first. A <b>held</b> sync was stored in full but kept from becoming \
             current by the drift guard: review its diff, then accept it if the loss is real. {held} held.</p>"
        );
        if list.is_empty() {
            h.push_str("<p class=\"empty\">No syncs yet.</p>");
        } else {
            h.push_str(&syncs_table(&list, &c, true));
        }
        h
    });
    render(&st, &ctx, "Syncs", Nav::Syncs, body)
}

fn changes_list(title: &str, sign: &str, total: usize, items: Vec<String>) -> String {
    let mut h = format!("<h3>{title} ({total})</h3>");
    if items.is_empty() {
        h.push_str("<p class=\"muted\">none</p>");
        return h;
    }
    let _ = write!(
        h,
        "<ul class=\"changes {}\">",
        if sign == "+" {
            "add"
        } else if sign == "-" {
            "del"
        } else {
            "chg"
        }
    );
    for i in &items {
        let _ = write!(h, "<li><span class=\"sign\">{sign}</span> {i}</li>");
    }
    if total > items.len() {
        let _ = write!(
            h,
            "<li class=\"muted\">… and {} more (the JSON API lists the first {})</li>",
            total - items.len(),
            data::DIFF_LIMIT
        );
    }
    h.push_str("</ul>");
    h
}

fn sync_body(v: &SyncDiffView, ctx: &Ctx) -> String {
    let s = &v.sync;
    let mut h = format!(
        "<p class=\"crumbs\"><a href=\"/syncs\">Syncs</a> ›</p><h1>Sync #{} of <a href=\"{}\">{}</a> {}</h1>\
         <dl class=\"facts\"><dt>Version</dt><dd><code>{}</code></dd><dt>Started</dt><dd>{}</dd><dt>Finished</dt><dd>{}</dd>\
         <dt>Resources</dt><dd>{}</dd><dt>Grants</dt><dd>{}</dd><dt>Findings</dt><dd>{}</dd></dl>",
        s.id,
        esc(&connector_href(&s.connector)),
        esc(&s.connector),
        badge(s.status.as_str()),
        esc(&short(&s.spec_hash)),
        when(Some(&s.started_at)),
        when(s.finished_at.as_deref()),
        s.counts.resources,
        s.counts.grants,
        s.counts.findings
    );
    if let Some(e) = &s.error {
        let _ = write!(
            h,
            "<p class=\"flash {}\">{}</p>",
            if s.status == SyncStatus::Held { "warn" } else { "err" },
            esc(e)
        );
    }
    if s.status == SyncStatus::Held {
        h.push_str(&accept_form(s.id, ctx));
    }
    let Some(prev) = &v.previous else {
        h.push_str("<p class=\"empty\">No earlier completed sync of this connector to compare with.</p>");
        return h;
    };
    if !matches!(s.status, SyncStatus::Completed | SyncStatus::Held) {
        let _ =
            write!(h, "<p class=\"empty\">This sync is {}: it kept no records to compare.</p>", esc(s.status.as_str()));
        return h;
    }
    let _ = write!(h, "<h2>Changes since sync <a href=\"/syncs/{}\">#{}</a></h2>", prev.id, prev.id);
    let who = |r: &muster_model::ResourceRef, name: &Option<String>| -> String {
        format!(
            "<a href=\"{}\">{}</a> <span class=\"muted\">{}</span>",
            esc(&identity_href(&s.connector, &r.resource_type, &r.id)),
            esc(name.as_deref().unwrap_or(&r.id)),
            esc(&r.to_string())
        )
    };
    let grant = |g: &data::GrantChange| -> String {
        format!(
            "{} — <code>{}</code>{}",
            who(&g.principal, &g.principal_name),
            esc(&g.entitlement),
            g.resource_name.as_deref().map(|n| format!(" ({})", esc(n))).unwrap_or_default()
        )
    };
    h.push_str("<div class=\"cols\"><div>");
    h.push_str(&changes_list("Gained access", "+", v.totals.gained, v.gained.iter().map(grant).collect()));
    h.push_str("</div><div>");
    h.push_str(&changes_list("Lost access", "-", v.totals.lost, v.lost.iter().map(grant).collect()));
    h.push_str("</div></div><div class=\"cols\"><div>");
    h.push_str(&changes_list(
        "Resources added",
        "+",
        v.totals.resources_added,
        v.resources_added.iter().map(|r| who(&r.resource, &r.name)).collect(),
    ));
    h.push_str("</div><div>");
    h.push_str(&changes_list(
        "Resources removed",
        "-",
        v.totals.resources_removed,
        v.resources_removed
            .iter()
            .map(|r| {
                format!(
                    "{} <span class=\"muted\">{}</span>",
                    esc(r.name.as_deref().unwrap_or(&r.resource.id)),
                    esc(&r.resource.to_string())
                )
            })
            .collect(),
    ));
    h.push_str("</div></div>");
    h.push_str(&changes_list(
        "Resources changed",
        "~",
        v.totals.resources_changed,
        v.resources_changed.iter().map(|r| who(&r.resource, &r.name)).collect(),
    ));
    h
}

pub(crate) async fn sync(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let c = ctx.clone();
    let body = match parse_id(&id, "sync") {
        Ok(n) => st.blocking(move |i| data::sync_diff(i, n, None)).await.map(|v| sync_body(&v, &c)),
        Err(e) => Err(e),
    };
    render(&st, &ctx, &format!("Sync #{id}"), Nav::Syncs, body)
}

pub(crate) async fn accept(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Form(f): FormData,
) -> Response {
    let n = match parse_id(&id, "sync") {
        Ok(n) => n,
        Err(e) => return error_page(&e),
    };
    let actor = match data::actor(field(&f, "name"), field(&f, "email")) {
        Ok(a) => a,
        Err(e) => return error_page(&e),
    };
    let comment = field(&f, "comment").to_string();
    let back = format!("/syncs/{n}");
    match st.blocking(move |i| data::accept(i, n, &actor, &comment)).await {
        Ok(info) => flash_redirect(
            &st,
            &ctx,
            true,
            format!("Sync #{n} of {} accepted: it is now the current snapshot.", info.connector),
            &back,
        ),
        Err(WebError::Refused(m)) => flash_redirect(&st, &ctx, false, format!("Accept refused: {m}"), &back),
        Err(e) => error_page(&e),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------------------------

const AUDIT_PAGE: usize = 100;

pub(crate) async fn audit(State(st): State<AppState>, Extension(ctx): Extension<Ctx>, Query(q): Params) -> Response {
    let page = match q.get("page").map(|p| p.parse::<usize>()) {
        None => Ok(1),
        Some(Ok(p)) if p >= 1 => Ok(p),
        Some(_) => Err(WebError::BadRequest("page must be a whole number from 1".into())),
    };
    let body = match page {
        Ok(page) => st.blocking(data::audit).await.map(|a| {
            let mut h = String::from("<h1>Audit log</h1>");
            match &a.problem {
                None => {
                    let _ = write!(
                        h,
                        "<p class=\"flash ok\" id=\"audit-status\">{} Audit log intact: {} entries, hash chain verified.</p>",
                        badge("intact"),
                        a.count
                    );
                }
                Some(p) => {
                    let _ = write!(
                        h,
                        "<p class=\"flash err\" id=\"audit-status\">{} {} (first bad entry: #{})</p>",
                        badge("tampered"),
                        esc(&p.problem),
                        p.seq
                    );
                }
            }
            let pages = a.count.div_ceil(AUDIT_PAGE) as u64;
            let pager = html::pager(page as u64, pages, a.count as u64, "entries", |p| format!("/audit?page={p}"));
            h.push_str(&pager);
            h.push_str("<table class=\"grid\" id=\"audit\"><thead><tr><th>#</th><th>When</th><th>Actor</th><th>Action</th><th>Subject</th><th>Detail</th></tr></thead><tbody>");
            for e in a.entries.iter().skip((page - 1) * AUDIT_PAGE).take(AUDIT_PAGE) {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code class=\"detail\">{}</code></td></tr>",
                    e.seq,
                    when(Some(&e.at)),
                    esc(&e.actor),
                    badge(&e.action),
                    esc(&e.subject),
                    esc(&e.detail)
                );
            }
            h.push_str("</tbody></table>");
            h
        }),
        Err(e) => Err(e),
    };
    render(&st, &ctx, "Audit log", Nav::Audit, body)
}
