//! Governance: the connector registry and its semantic diff, approval rules bound to tested versions, the
//! production gate, and the drift guard. Storage lives in `muster-store`; the rules live here, so the CLI
//! and the web UI apply exactly the same ones.

pub mod diff;
pub mod drift;

use muster_spec::CompiledConnector;
use muster_store::{DecisionRow, Store, StoreError, VersionRow};
use serde::Serialize;

/// Why a governance action was refused.
#[derive(Debug, thiserror::Error)]
pub enum GovernError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Rules for approving a version.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalRules {
    /// The passing trust report must be younger than this, in hours.
    pub max_report_age_hours: i64,
    /// The approver must not be the version's author.
    pub four_eyes: bool,
}

impl Default for ApprovalRules {
    fn default() -> Self {
        ApprovalRules { max_report_age_hours: 24 * 7, four_eyes: false }
    }
}

/// Register a version of a connector (idempotent for an identical spec). Audited.
pub fn register(
    store: &mut Store,
    c: &CompiledConnector,
    source: &str,
    author: &str,
    message: &str,
    now: &str,
) -> Result<(VersionRow, bool), GovernError> {
    let canonical = muster_spec::canonical_json(c.raw());
    let (row, new) = store.add_version(&c.name, &c.spec_hash, &canonical, source, author, message, now)?;
    if new {
        store.audit(
            now,
            author,
            "registry.add",
            &c.name,
            &serde_json::json!({ "version": c.spec_hash, "message": message }),
        )?;
    }
    Ok((row, new))
}

/// Find a version by hash or prefix, with a helpful error.
pub fn find_version(store: &Store, connector: &str, hash: &str) -> Result<VersionRow, GovernError> {
    if let Some(v) = store.version(connector, hash)? {
        return Ok(v);
    }
    let versions = store.versions(connector)?;
    if versions.is_empty() {
        return Err(GovernError::Refused(format!(
            "no versions of `{connector}` are registered; run `muster registry add FILE` first"
        )));
    }
    let known: Vec<String> = versions.iter().take(5).map(|v| short(&v.spec_hash)).collect();
    Err(GovernError::Refused(format!(
        "no single version of `{connector}` matches `{hash}`; registered: {}",
        known.join(", ")
    )))
}

/// `sha256:0123456789ab`.
pub fn short(hash: &str) -> String {
    hash.chars().take(19).collect()
}

fn age_seconds(from: &str, now: &str) -> Option<i64> {
    let a = chrono::DateTime::parse_from_rfc3339(from).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(now).ok()?;
    let ms = (b - a).num_milliseconds().max(1);
    Some((ms + 999) / 1000)
}

/// Approve a version for production. Succeeds only when a passing trust report exists for that exact hash
/// and is younger than the rules allow; with four eyes, the approver is not the author. Audited.
pub fn approve(
    store: &mut Store,
    connector: &str,
    hash: &str,
    actor: &str,
    comment: &str,
    rules: &ApprovalRules,
    now: &str,
) -> Result<DecisionRow, GovernError> {
    let v = find_version(store, connector, hash)?;
    if rules.four_eyes && same_person(&v.author, actor) {
        let msg = format!("four-eyes rule: {actor} wrote version {} and cannot also approve it", short(&v.spec_hash));
        store.audit(
            now,
            actor,
            "approve.refused",
            connector,
            &serde_json::json!({ "version": v.spec_hash, "reason": msg }),
        )?;
        return Err(GovernError::Refused(msg));
    }
    let reports = store.trust_reports(connector, Some(&v.spec_hash))?;
    let refuse = |store: &mut Store, msg: String| -> Result<DecisionRow, GovernError> {
        store.audit(
            now,
            actor,
            "approve.refused",
            connector,
            &serde_json::json!({ "version": v.spec_hash, "reason": msg }),
        )?;
        Err(GovernError::Refused(msg))
    };
    let Some(latest) = reports.first() else {
        return refuse(
            store,
            format!(
                "version {} has never been tested; run `muster test` on it (a passing trust report is required)",
                short(&v.spec_hash)
            ),
        );
    };
    if !latest.passed {
        return refuse(
            store,
            format!(
                "the latest trust report for version {} (#{}, score {}) failed; fix the connector and test again",
                short(&v.spec_hash),
                latest.id,
                latest.score
            ),
        );
    }
    match age_seconds(&latest.created_at, now) {
        Some(secs) if secs <= rules.max_report_age_hours * 3600 => {}
        Some(secs) => {
            let h = secs / 3600;
            return refuse(
                store,
                format!(
                    "the passing trust report #{} is {h} hours old; approvals need one younger than {} hours: run `muster test` again",
                    latest.id, rules.max_report_age_hours
                ),
            );
        }
        None => return refuse(store, format!("trust report #{} has an unreadable date", latest.id)),
    }
    let d = store.add_decision(
        connector,
        &v.spec_hash,
        "approve",
        actor,
        comment,
        Some(latest.id),
        Some(&latest.base_url),
        now,
    )?;
    store.audit(
        now,
        actor,
        "approve",
        connector,
        &serde_json::json!({ "version": v.spec_hash, "report": latest.id, "score": latest.score, "base_url": latest.base_url, "comment": comment }),
    )?;
    Ok(d)
}

/// Reject a version (revokes a standing approval of it). Audited.
pub fn reject(
    store: &mut Store,
    connector: &str,
    hash: &str,
    actor: &str,
    reason: &str,
    now: &str,
) -> Result<DecisionRow, GovernError> {
    if reason.trim().is_empty() {
        return Err(GovernError::Refused("a rejection needs a reason (--reason)".into()));
    }
    let v = find_version(store, connector, hash)?;
    let d = store.add_decision(connector, &v.spec_hash, "reject", actor, reason, None, None, now)?;
    store.audit(now, actor, "reject", connector, &serde_json::json!({ "version": v.spec_hash, "reason": reason }))?;
    Ok(d)
}

fn same_person(a: &str, b: &str) -> bool {
    let email = |s: &str| s.split('<').nth(1).and_then(|r| r.split('>').next()).map(|e| e.trim().to_lowercase());
    match (email(a), email(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.trim().eq_ignore_ascii_case(b.trim()),
    }
}

/// The production gate: the spec about to run must be the approved version, against the approved base URL.
/// On refusal, the message holds the semantic diff since approval.
pub fn gate(store: &Store, c: &CompiledConnector, base_url: &str) -> Result<DecisionRow, GovernError> {
    let Some(ap) = store.approved(&c.name)? else {
        return Err(GovernError::Refused(format!(
            "`{}` has no approved version; production runs only approved connectors (muster approve)",
            c.name
        )));
    };
    if ap.spec_hash != c.spec_hash {
        let approved = store.version(&c.name, &ap.spec_hash)?;
        let changes = match approved {
            Some(v) => {
                let a: serde_json::Value = serde_json::from_str(&v.canonical).unwrap_or_default();
                let b: serde_json::Value =
                    serde_json::from_str(&muster_spec::canonical_json(c.raw())).unwrap_or_default();
                diff::render(&diff::semantic_diff(&a, &b))
            }
            None => "(the approved version is not in the registry)".to_string(),
        };
        return Err(GovernError::Refused(format!(
            "this spec ({}) is not the approved version ({}, approved by {} at {}); changes since approval:\n{changes}",
            short(&c.spec_hash),
            short(&ap.spec_hash),
            ap.actor,
            ap.created_at
        )));
    }
    if let Some(approved_url) = &ap.base_url
        && approved_url.trim_end_matches('/') != base_url.trim_end_matches('/')
    {
        return Err(GovernError::Refused(format!(
            "the approved version was tested against {approved_url}, but this run points at {base_url}; test and approve it for this base URL"
        )));
    }
    Ok(ap)
}

/// One row of `muster status`.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectorStatus {
    pub connector: String,
    pub latest_version: Option<String>,
    pub state: String,
    pub approved_version: Option<String>,
    pub last_score: Option<u8>,
    pub last_report_passed: Option<bool>,
    pub last_sync: Option<i64>,
    pub last_sync_status: Option<String>,
    pub last_sync_at: Option<String>,
    pub held: Vec<i64>,
}

/// The state of every connector the store knows.
pub fn status(store: &Store) -> Result<Vec<ConnectorStatus>, GovernError> {
    let mut names: Vec<String> = store.registered_connectors()?;
    for c in store.connectors()? {
        if !names.contains(&c) {
            names.push(c);
        }
    }
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let versions = store.versions(&name)?;
        let latest = versions.first().map(|v| v.spec_hash.clone());
        let approved = store.approved(&name)?;
        let reports = store.trust_reports(&name, None)?;
        let syncs = store.syncs(Some(&name))?;
        let held: Vec<i64> =
            syncs.iter().filter(|s| s.status == muster_store::SyncStatus::Held).map(|s| s.id).collect();
        let last = syncs.first();
        let latest_tested = latest.as_ref().and_then(|h| reports.iter().find(|r| &r.spec_hash == h));
        let state = if !held.is_empty() {
            "held"
        } else if approved.as_ref().is_some_and(|a| Some(&a.spec_hash) == latest.as_ref())
            && syncs
                .iter()
                .any(|s| s.status == muster_store::SyncStatus::Completed && Some(&s.spec_hash) == latest.as_ref())
        {
            "production"
        } else if approved.as_ref().is_some_and(|a| Some(&a.spec_hash) == latest.as_ref()) {
            "approved"
        } else if latest_tested.is_some() {
            "tested"
        } else {
            "draft"
        };
        out.push(ConnectorStatus {
            connector: name.clone(),
            latest_version: latest.as_deref().map(short),
            state: state.into(),
            approved_version: approved.as_ref().map(|a| short(&a.spec_hash)),
            last_score: reports.first().map(|r| r.score),
            last_report_passed: reports.first().map(|r| r.passed),
            last_sync: last.map(|s| s.id),
            last_sync_status: last.map(|s| s.status.as_str().to_string()),
            last_sync_at: last.map(|s| s.started_at.clone()),
            held,
        });
    }
    Ok(out)
}
