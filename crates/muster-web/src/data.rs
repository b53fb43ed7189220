//! The view data behind both the pages and the JSON API, and the actions (approve, reject, accept).
//! Governance goes through `muster_govern` so the UI applies exactly the CLI's rules.

use crate::nhi::{self, Nhi};
use crate::queries::{self, HeldGrant, InventoryFilter, InventoryPage, OwnedSecret};
use crate::{Inner, WebError};
use muster_govern::ConnectorStatus;
use muster_govern::diff::Change;
use muster_model::{Resource, ResourceRef};
use muster_store::{AuditEntry, AuditProblem, DecisionRow, StoreError, SyncInfo, SyncStatus, VersionRow};
use muster_verify::TrustReport;
use serde::Serialize;

// ---------------------------------------------------------------------------------------------------------
// Input validation and redaction
// ---------------------------------------------------------------------------------------------------------

/// A version reference: `sha256:` and/or 4–64 lowercase hex digits.
pub fn valid_hash(s: &str) -> bool {
    let h = s.trim().strip_prefix("sha256:").unwrap_or(s.trim());
    (4..=64).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Check a version reference, as a 400 when malformed.
pub fn check_hash(s: &str) -> Result<(), WebError> {
    if valid_hash(s) {
        Ok(())
    } else {
        Err(WebError::BadRequest(format!(
            "`{}` is not a version hash (expected sha256:<hex> or a hex prefix of at least 4 digits)",
            s.chars().take(80).collect::<String>()
        )))
    }
}

/// The actor of an action, `Name <email>` as the CLI's `--as` takes it, from a form's name and email.
pub fn actor(name: &str, email: &str) -> Result<String, WebError> {
    let (name, email) = (name.trim(), email.trim());
    let bad = |c: char| c.is_control() || c == '<' || c == '>';
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(bad) {
        return Err(WebError::BadRequest("give your name (up to 100 characters, no < or >)".into()));
    }
    let parts: Vec<&str> = email.split('@').collect();
    if email.len() > 254
        || parts.len() != 2
        || parts.iter().any(|p| p.is_empty())
        || email.chars().any(|c| bad(c) || c.is_whitespace())
    {
        return Err(WebError::BadRequest("give a valid e-mail address".into()));
    }
    Ok(format!("{name} <{email}>"))
}

/// Keys whose values are never shown (profile attributes, query parameters).
pub fn is_sensitive_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['-', '_'], "");
    [
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "authorization",
        "credential",
        "privatekey",
        "cookie",
        "session",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// Mask sensitive keys of a profile, recursively.
pub fn mask_profile(map: &mut serde_json::Map<String, serde_json::Value>) {
    for (k, v) in map.iter_mut() {
        if is_sensitive_key(k) {
            *v = serde_json::Value::String("(hidden)".into());
        } else if let serde_json::Value::Object(inner) = v {
            mask_profile(inner);
        }
    }
}

fn mask_resource(r: &mut Resource) {
    mask_profile(&mut r.profile);
}

/// Drop credentials from a URL: user info, and the values of sensitive query parameters.
pub fn redact_url(s: &str) -> String {
    let Ok(mut u) = url::Url::parse(s) else { return s.to_string() };
    let _ = u.set_username("");
    let _ = u.set_password(None);
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_sensitive_key(&k) || k.eq_ignore_ascii_case("key") { "REDACTED".into() } else { v };
                (k.into_owned(), v.into_owned())
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

fn not_found_connector(name: &str) -> WebError {
    WebError::NotFound(format!("no connector named `{name}` in this store"))
}

// ---------------------------------------------------------------------------------------------------------
// Connectors, versions, reports
// ---------------------------------------------------------------------------------------------------------

/// Every connector with its state (draft/tested/approved/production/held), as `muster status` shows it.
pub fn connectors(inner: &Inner) -> Result<Vec<ConnectorStatus>, WebError> {
    let store = inner.store()?;
    Ok(muster_govern::status(&store)?)
}

/// A trust report's headline.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSummary {
    pub id: i64,
    pub spec_hash: String,
    pub base_url: String,
    pub created_at: String,
    pub passed: bool,
    pub score: u8,
}

/// A registered version with its test and decisions (without its source).
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    pub id: i64,
    pub spec_hash: String,
    pub short: String,
    pub author: String,
    pub message: String,
    pub created_at: String,
    /// The newest trust report of this exact version.
    pub report: Option<ReportSummary>,
    pub decisions: Vec<DecisionRow>,
}

/// The connector page.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectorDetail {
    pub status: ConnectorStatus,
    /// The `app` block of the newest version (name, owner, description).
    pub app: serde_json::Value,
    pub versions: Vec<VersionInfo>,
    pub decisions: Vec<DecisionRow>,
    /// The newest trust report of the newest version (else of any version).
    pub latest_report: Option<ReportSummary>,
    pub latest_report_checks: Vec<muster_verify::Check>,
    pub syncs: Vec<SyncInfo>,
    pub rules: muster_govern::ApprovalRules,
    /// The YAML of the version shown (the newest unless asked), comments included.
    pub source: Option<String>,
    pub source_version: Option<String>,
}

fn summary(r: &muster_store::TrustReportRow) -> ReportSummary {
    ReportSummary {
        id: r.id,
        spec_hash: r.spec_hash.clone(),
        base_url: r.base_url.clone(),
        created_at: r.created_at.clone(),
        passed: r.passed,
        score: r.score,
    }
}

fn version_infos(store: &muster_store::Store, name: &str) -> Result<Vec<(VersionInfo, VersionRow)>, WebError> {
    let reports = store.trust_reports(name, None)?;
    let decisions = store.decisions(name)?;
    Ok(store
        .versions(name)?
        .into_iter()
        .map(|v| {
            let info = VersionInfo {
                id: v.id,
                spec_hash: v.spec_hash.clone(),
                short: muster_govern::short(&v.spec_hash),
                author: v.author.clone(),
                message: v.message.clone(),
                created_at: v.created_at.clone(),
                report: reports.iter().find(|r| r.spec_hash == v.spec_hash).map(summary),
                decisions: decisions.iter().filter(|d| d.spec_hash == v.spec_hash).cloned().collect(),
            };
            (info, v)
        })
        .collect())
}

/// One connector: state, versions, decisions, latest report, recent syncs, source.
pub fn connector(inner: &Inner, name: &str, version: Option<&str>) -> Result<ConnectorDetail, WebError> {
    if let Some(v) = version {
        check_hash(v)?;
    }
    let store = inner.store()?;
    let status = muster_govern::status(&store)?
        .into_iter()
        .find(|s| s.connector == name)
        .ok_or_else(|| not_found_connector(name))?;
    let versions = version_infos(&store, name)?;
    let shown = match version {
        Some(h) => Some(muster_govern::find_version(&store, name, h).map_err(|e| match e {
            muster_govern::GovernError::Refused(m) => WebError::NotFound(m),
            other => other.into(),
        })?),
        None => versions.first().map(|(_, v)| v.clone()),
    };
    let reports = store.trust_reports(name, None)?;
    let latest = versions
        .first()
        .and_then(|(_, v)| reports.iter().find(|r| r.spec_hash == v.spec_hash))
        .or_else(|| reports.first());
    let checks =
        latest.and_then(|r| serde_json::from_str::<TrustReport>(&r.report).ok()).map(|r| r.checks).unwrap_or_default();
    let app = versions
        .first()
        .and_then(|(_, v)| serde_json::from_str::<serde_json::Value>(&v.canonical).ok())
        .and_then(|c| c.get("app").cloned())
        .unwrap_or(serde_json::Value::Null);
    Ok(ConnectorDetail {
        status,
        app,
        decisions: store.decisions(name)?,
        latest_report: latest.map(summary),
        latest_report_checks: checks,
        syncs: store.syncs(Some(name))?.into_iter().take(10).collect(),
        rules: inner.cfg.rules.clone(),
        source: shown.as_ref().map(|v| v.source.clone()),
        source_version: shown.map(|v| v.spec_hash),
        versions: versions.into_iter().map(|(i, _)| i).collect(),
    })
}

/// The versions of a connector, newest first.
pub fn versions(inner: &Inner, name: &str) -> Result<Vec<VersionInfo>, WebError> {
    let store = inner.store()?;
    let v = version_infos(&store, name)?;
    if v.is_empty() && !store.connectors()?.iter().any(|c| c == name) {
        return Err(not_found_connector(name));
    }
    Ok(v.into_iter().map(|(i, _)| i).collect())
}

/// Two versions compared: the semantic changes (risky first) and both sources for a line diff.
#[derive(Debug, Clone, Serialize)]
pub struct VersionDiff {
    pub connector: String,
    pub from: String,
    pub to: String,
    pub changes: Vec<Change>,
    pub risky: usize,
    pub from_source: String,
    pub to_source: String,
}

/// Compare two versions (hashes or prefixes); with neither given, the newest two.
pub fn version_diff(inner: &Inner, name: &str, from: Option<&str>, to: Option<&str>) -> Result<VersionDiff, WebError> {
    for h in [from, to].into_iter().flatten() {
        check_hash(h)?;
    }
    let store = inner.store()?;
    let all = store.versions(name)?;
    if all.is_empty() {
        return Err(not_found_connector(name));
    }
    let pick = |h: Option<&str>, default: Option<&VersionRow>| -> Result<VersionRow, WebError> {
        match h {
            Some(h) => muster_govern::find_version(&store, name, h).map_err(|e| match e {
                muster_govern::GovernError::Refused(m) => WebError::NotFound(m),
                other => other.into(),
            }),
            None => default.cloned().ok_or_else(|| {
                WebError::BadRequest(format!("`{name}` has one version; there is nothing to compare it with"))
            }),
        }
    };
    let b = pick(to, all.first())?;
    let a = pick(from, all.iter().find(|v| v.id < b.id).or(all.get(1)))?;
    let va: serde_json::Value = serde_json::from_str(&a.canonical).map_err(|e| WebError::Internal(e.to_string()))?;
    let vb: serde_json::Value = serde_json::from_str(&b.canonical).map_err(|e| WebError::Internal(e.to_string()))?;
    let changes = muster_govern::diff::semantic_diff(&va, &vb);
    Ok(VersionDiff {
        connector: name.to_string(),
        risky: changes.iter().filter(|c| c.risky).count(),
        from: a.spec_hash,
        to: b.spec_hash,
        changes,
        from_source: a.source,
        to_source: b.source,
    })
}

/// A stored trust report, parsed and sanitized (request-log URLs re-redacted, sensitive profile keys of
/// the sample records masked).
pub fn report(inner: &Inner, id: i64) -> Result<(ReportSummary, TrustReport), WebError> {
    let store = inner.store()?;
    let row = store.trust_report(id)?.ok_or_else(|| WebError::NotFound(format!("no trust report #{id}")))?;
    let mut r: TrustReport = serde_json::from_str(&row.report)
        .map_err(|e| WebError::Internal(format!("trust report #{id} cannot be read: {e}")))?;
    for q in &mut r.request_log {
        q.url = redact_url(&q.url);
    }
    for recs in r.samples.values_mut() {
        recs.iter_mut().for_each(mask_resource);
    }
    Ok((summary(&row), r))
}

// ---------------------------------------------------------------------------------------------------------
// Inventory, identities, non-human identities
// ---------------------------------------------------------------------------------------------------------

/// Parse the inventory's query parameters (shared by the page and the API).
pub fn inventory_filter(q: &std::collections::HashMap<String, String>) -> Result<InventoryFilter, WebError> {
    let opt = |k: &str| q.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let account_type = opt("type");
    if let Some(t) = &account_type
        && !["human", "service", "system", "unknown"].contains(&t.as_str())
    {
        return Err(WebError::BadRequest(format!("type must be human, service, system or unknown, not `{t}`")));
    }
    let status = opt("status");
    if let Some(s) = &status
        && !["enabled", "disabled", "deleted", "unknown"].contains(&s.as_str())
    {
        return Err(WebError::BadRequest(format!("status must be enabled, disabled, deleted or unknown, not `{s}`")));
    }
    let num = |k: &str, default: u32, max: u32| -> Result<u32, WebError> {
        match opt(k) {
            None => Ok(default),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(WebError::BadRequest(format!("{k} must be a whole number from 1 to {max}, not `{v}`"))),
            },
        }
    };
    let q_text = opt("q");
    if q_text.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(WebError::BadRequest("the search text is longer than 200 characters".into()));
    }
    Ok(InventoryFilter {
        account_type,
        status,
        connector: opt("connector"),
        q: q_text,
        page: num("page", 1, 10_000_000)?,
        per_page: num("per_page", 50, queries::MAX_PER_PAGE)?,
    })
}

/// One page of the inventory.
pub fn inventory(inner: &Inner, f: &InventoryFilter) -> Result<InventoryPage, WebError> {
    let conn = inner.read()?;
    Ok(queries::inventory(&conn, f)?)
}

/// Connectors with a current snapshot (for filters).
pub fn current_connectors(inner: &Inner) -> Result<Vec<String>, WebError> {
    let conn = inner.read()?;
    Ok(queries::current_syncs(&conn)?.into_iter().map(|(c, _)| c).collect())
}

/// An identity (or any resource) of a connector's current snapshot, with every grant it holds.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityDetail {
    pub connector: String,
    pub sync_id: i64,
    pub resource: Resource,
    pub grants: Vec<HeldGrant>,
    /// Grants that reach it through a group (or other principal) it holds a grant on.
    pub inherited: Vec<HeldGrant>,
    pub owned_credentials: Vec<OwnedSecret>,
    /// The non-human-identity assessment, for service/system accounts and credentials.
    pub nhi: Option<Nhi>,
}

pub fn identity(inner: &Inner, connector: &str, rtype: &str, id: &str) -> Result<IdentityDetail, WebError> {
    let conn = inner.read()?;
    let sync_id = queries::current_sync(&conn, connector)?
        .ok_or_else(|| WebError::NotFound(format!("`{connector}` has no current snapshot")))?;
    let mut resource = queries::resource(&conn, sync_id, rtype, id)?
        .ok_or_else(|| WebError::NotFound(format!("no {rtype} `{id}` in the current snapshot of `{connector}`")))?;
    mask_resource(&mut resource);
    let grants = queries::grants_of(&conn, sync_id, rtype, id)?;
    let inherited = queries::inherited_grants(&conn, sync_id, &grants)?;
    let owned_credentials = queries::owned_secrets(&conn, sync_id, rtype, id)?;
    let is_nhi = resource.secret.is_some()
        || resource.user.as_ref().is_some_and(|u| {
            matches!(u.account_type, Some(muster_model::AccountType::Service | muster_model::AccountType::System))
        });
    let nhi = if is_nhi {
        let owner_found = match resource.secret.as_ref().and_then(|s| s.owner.as_ref()) {
            Some(o) => queries::resource(&conn, sync_id, &o.resource_type, &o.id)?
                .map(|r| (r.display_name, r.status.as_str().to_string())),
            None => None,
        };
        let row = queries::NhiRow { connector: connector.into(), sync_id, resource: resource.clone(), owner_found };
        Some(nhi::assess(&row, inner.cfg.clock.now()))
    } else {
        None
    };
    Ok(IdentityDetail { connector: connector.into(), sync_id, resource, grants, inherited, owned_credentials, nhi })
}

/// The non-human identities with their flags.
#[derive(Debug, Clone, Serialize)]
pub struct NhiList {
    /// The "now" the flags were computed against.
    pub now: String,
    /// Identities per flag code (before the flag filter).
    pub counts: Vec<(String, usize)>,
    pub total: usize,
    pub items: Vec<Nhi>,
}

pub fn nhi_list(inner: &Inner, connector: Option<&str>, flag: Option<&str>) -> Result<NhiList, WebError> {
    if let Some(f) = flag
        && !nhi::FLAGS.iter().any(|(c, _)| *c == f)
    {
        let codes: Vec<&str> = nhi::FLAGS.iter().map(|(c, _)| *c).collect();
        return Err(WebError::BadRequest(format!("flag must be one of {}, not `{f}`", codes.join(", "))));
    }
    let now = inner.cfg.clock.now();
    let rows = {
        let conn = inner.read()?;
        queries::nhi_rows(&conn, connector)?
    };
    let all: Vec<Nhi> = rows.iter().map(|r| nhi::assess(r, now)).collect();
    let counts = nhi::FLAGS
        .iter()
        .map(|(c, _)| (c.to_string(), all.iter().filter(|n| n.flags.iter().any(|f| f.code == *c)).count()))
        .collect();
    let total = all.len();
    let items = match flag {
        Some(f) => all.into_iter().filter(|n| n.flags.iter().any(|x| x.code == f)).collect(),
        None => all,
    };
    Ok(NhiList { now: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), counts, total, items })
}

// ---------------------------------------------------------------------------------------------------------
// Syncs and their diffs
// ---------------------------------------------------------------------------------------------------------

/// All syncs, newest first.
pub fn syncs(inner: &Inner) -> Result<Vec<SyncInfo>, WebError> {
    Ok(inner.store()?.syncs(None)?)
}

/// A grant that appeared or disappeared, with names.
#[derive(Debug, Clone, Serialize)]
pub struct GrantChange {
    pub principal: ResourceRef,
    pub principal_name: Option<String>,
    pub entitlement: String,
    pub resource_name: Option<String>,
}

/// A resource that appeared, disappeared or changed.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceChange {
    pub resource: ResourceRef,
    pub name: Option<String>,
}

/// A sync compared with the snapshot before it: who gained or lost what.
#[derive(Debug, Clone, Serialize)]
pub struct SyncDiffView {
    pub sync: SyncInfo,
    /// The completed sync compared against: the newest completed sync of the connector before this one.
    pub previous: Option<SyncInfo>,
    pub resources_added: Vec<ResourceChange>,
    pub resources_removed: Vec<ResourceChange>,
    pub resources_changed: Vec<ResourceChange>,
    pub gained: Vec<GrantChange>,
    pub lost: Vec<GrantChange>,
    /// Totals (the lists are cut at [`DIFF_LIMIT`] entries each).
    pub totals: DiffTotals,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffTotals {
    pub resources_added: usize,
    pub resources_removed: usize,
    pub resources_changed: usize,
    pub gained: usize,
    pub lost: usize,
}

/// The most entries of each list a diff shows.
pub const DIFF_LIMIT: usize = 1000;

pub fn sync_diff(inner: &Inner, id: i64, from: Option<i64>) -> Result<SyncDiffView, WebError> {
    let store = inner.store()?;
    let sync = store.sync(id)?.ok_or_else(|| WebError::NotFound(format!("no sync #{id}")))?;
    let previous = match from {
        Some(f) => Some(store.sync(f)?.ok_or_else(|| WebError::NotFound(format!("no sync #{f}")))?),
        None => {
            store.syncs(Some(&sync.connector))?.into_iter().find(|s| s.id < id && s.status == SyncStatus::Completed)
        }
    };
    let mut view = SyncDiffView {
        sync: sync.clone(),
        previous: previous.clone(),
        resources_added: Vec::new(),
        resources_removed: Vec::new(),
        resources_changed: Vec::new(),
        gained: Vec::new(),
        lost: Vec::new(),
        totals: DiffTotals::default(),
    };
    let has_rows = matches!(sync.status, SyncStatus::Completed | SyncStatus::Held);
    let Some(prev) = previous.filter(|_| has_rows) else { return Ok(view) };
    let d = store.diff(prev.id, id)?;
    drop(store);
    let conn = inner.read()?;
    let name = |sync: i64, r: &ResourceRef| queries::display_name(&conn, sync, &r.resource_type, &r.id);
    let res = |list: &[ResourceRef], sync: i64| -> Result<Vec<ResourceChange>, WebError> {
        list.iter().take(DIFF_LIMIT).map(|r| Ok(ResourceChange { resource: r.clone(), name: name(sync, r)? })).collect()
    };
    let grants = |list: &[muster_model::Grant], sync: i64| -> Result<Vec<GrantChange>, WebError> {
        list.iter()
            .take(DIFF_LIMIT)
            .map(|g| {
                Ok(GrantChange {
                    principal: g.principal.clone(),
                    principal_name: name(sync, &g.principal)?,
                    entitlement: g.entitlement.to_string(),
                    resource_name: name(sync, &g.entitlement.resource)?,
                })
            })
            .collect()
    };
    view.totals = DiffTotals {
        resources_added: d.resources_added.len(),
        resources_removed: d.resources_removed.len(),
        resources_changed: d.resources_changed.len(),
        gained: d.grants_added.len(),
        lost: d.grants_removed.len(),
    };
    view.resources_added = res(&d.resources_added, id)?;
    view.resources_removed = res(&d.resources_removed, prev.id)?;
    view.resources_changed = res(&d.resources_changed, id)?;
    view.gained = grants(&d.grants_added, id)?;
    view.lost = grants(&d.grants_removed, prev.id)?;
    Ok(view)
}

// ---------------------------------------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct AuditView {
    pub intact: bool,
    pub problem: Option<AuditProblem>,
    pub count: usize,
    /// Newest first.
    pub entries: Vec<AuditEntry>,
}

pub fn audit(inner: &Inner) -> Result<AuditView, WebError> {
    let store = inner.store()?;
    let problem = store.audit_verify()?;
    let mut entries = store.audit_entries()?;
    entries.reverse();
    Ok(AuditView { intact: problem.is_none(), problem, count: entries.len(), entries })
}

// ---------------------------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------------------------

/// Approve a version under `muster_govern`'s rules (audited there, refusals included).
pub fn approve(
    inner: &Inner,
    connector: &str,
    version: &str,
    actor: &str,
    comment: &str,
) -> Result<DecisionRow, WebError> {
    check_hash(version)?;
    let mut store = inner.store()?;
    if store.versions(connector)?.is_empty() {
        return Err(not_found_connector(connector));
    }
    let now = inner.now();
    Ok(muster_govern::approve(&mut store, connector, version, actor, comment, &inner.cfg.rules, &now)?)
}

/// Reject a version (audited by `muster_govern`).
pub fn reject(
    inner: &Inner,
    connector: &str,
    version: &str,
    actor: &str,
    reason: &str,
) -> Result<DecisionRow, WebError> {
    check_hash(version)?;
    let mut store = inner.store()?;
    if store.versions(connector)?.is_empty() {
        return Err(not_found_connector(connector));
    }
    let now = inner.now();
    Ok(muster_govern::reject(&mut store, connector, version, actor, reason, &now)?)
}

/// Make a held sync current, audited as `sync.accept` like `muster sync accept`.
pub fn accept(inner: &Inner, id: i64, actor: &str, comment: &str) -> Result<SyncInfo, WebError> {
    let mut store = inner.store()?;
    let now = inner.now();
    match store.accept_held(id) {
        Ok(info) => {
            store.audit(
                &now,
                actor,
                "sync.accept",
                &info.connector,
                &serde_json::json!({ "sync": id, "comment": comment }),
            )?;
            Ok(info)
        }
        Err(StoreError::NotRunning { status, .. }) => {
            Err(WebError::Refused(format!("sync #{id} is {status}, not held; only held syncs can be accepted")))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_actors_are_validated() {
        assert!(valid_hash("sha256:0123abcd"));
        assert!(valid_hash("0123"));
        assert!(!valid_hash("xyz1"));
        assert!(!valid_hash("012"));
        assert!(!valid_hash("sha256:ABCD"));
        assert_eq!(actor(" Ann Lee ", "ann@example.com").unwrap(), "Ann Lee <ann@example.com>");
        assert!(actor("", "ann@example.com").is_err());
        assert!(actor("Ann <x>", "ann@example.com").is_err());
        assert!(actor("Ann", "ann").is_err());
        assert!(actor("Ann", "a b@example.com").is_err());
    }

    #[test]
    fn secrets_are_masked() {
        assert_eq!(
            redact_url("https://u:p@api.example.com/v1?access_token=abc&page=2&key=k"),
            "https://api.example.com/v1?access_token=REDACTED&page=2&key=REDACTED"
        );
        let mut p = serde_json::json!({"prefix": "ab12", "apiKey": "x", "nested": {"client_secret": "y"}});
        if let serde_json::Value::Object(m) = &mut p {
            mask_profile(m);
        }
        assert_eq!(
            p,
            serde_json::json!({"prefix": "ab12", "apiKey": "(hidden)", "nested": {"client_secret": "(hidden)"}})
        );
    }
}
