//! `muster test`: prove a connector against the live API. Two full (or bounded) syncs into a scratch store,
//! negative-auth probes, under-sync probes from the OpenAPI document, then checks with evidence and one
//! trust score.
//!
//! ## Trust score
//! Each check has a weight; a pass earns all of it, a warning half, a failure none; skipped checks are left
//! out and the rest rescaled to 0–100. Weights: auth 20, completeness 25, integrity 15, field coverage 15,
//! stability 10, under-sync probes 10, status & NHI sanity 5. Any failure fails the test, whatever the score.

pub mod html;
mod probes;

use muster_engine::sync::{self, EngineError, EnvFn, ListingReport, RequestRecord, Silent, SyncOptions, SyncReport};
use muster_model::{Resource, Trait};
use muster_spec::CompiledConnector;
use muster_store::{Store, finding_kind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }

    fn worst(a: Status, b: Status) -> Status {
        let rank = |s| match s {
            Status::Skip => 0,
            Status::Pass => 1,
            Status::Warn => 2,
            Status::Fail => 3,
        };
        if rank(b) > rank(a) { b } else { a }
    }
}

/// One check, with the evidence behind it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    /// One line: what was found.
    pub summary: String,
    pub evidence: Vec<String>,
    pub weight: u32,
}

impl Check {
    fn new(name: &str, weight: u32) -> Check {
        Check { name: name.into(), status: Status::Skip, summary: String::new(), evidence: Vec::new(), weight }
    }

    fn note(&mut self, status: Status, line: impl Into<String>) {
        self.status = Status::worst(self.status, status);
        self.evidence.push(format!("{}: {}", status.as_str(), line.into()));
    }

    fn finish(mut self, pass_summary: &str) -> Check {
        if self.status == Status::Skip && self.evidence.is_empty() {
            return self;
        }
        if self.status == Status::Skip {
            self.status = Status::Pass;
        }
        self.summary = match self.status {
            Status::Pass => pass_summary.to_string(),
            _ => self
                .evidence
                .iter()
                .find(|e| e.starts_with(self.status.as_str()))
                .map(|e| e.split_once(": ").map(|(_, r)| r.to_string()).unwrap_or_else(|| e.clone()))
                .unwrap_or_default(),
        };
        self
    }
}

/// The trust report: kept in the store as evidence, bound to the spec hash and base URL.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrustReport {
    pub connector: String,
    pub spec_hash: String,
    /// The base URL tested (redacted of credentials).
    pub base_url: String,
    pub created_at: String,
    /// `full`, or `limit N` for a bounded test read.
    pub mode: String,
    pub score: u8,
    pub passed: bool,
    pub checks: Vec<Check>,
    pub listings: Vec<ListingReport>,
    pub counts: BTreeMap<String, u64>,
    /// A few records per resource type, for a reviewer to eyeball.
    pub samples: BTreeMap<String, Vec<Resource>>,
    pub request_log: Vec<RequestRecord>,
    pub requests: u64,
    pub elapsed_ms: u64,
}

/// How to test.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Read at most this many records per resource type (a fast bounded read).
    pub limit: Option<u64>,
    /// The API's OpenAPI document, for under-sync probes.
    pub openapi: Option<serde_json::Value>,
    /// The time to stamp the report with (RFC 3339): the clock is the caller's.
    pub now: String,
}

/// The test could not run at all (configuration).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Config(String),
    #[error("scratch store: {0}")]
    Store(#[from] muster_store::StoreError),
}

const W_AUTH: u32 = 20;
const W_COMPLETE: u32 = 25;
const W_INTEGRITY: u32 = 15;
const W_COVERAGE: u32 = 15;
const W_STABILITY: u32 = 10;
const W_UNDERSYNC: u32 = 10;
const W_STATUS: u32 = 5;

/// Page sizes servers commonly cap unpaginated listings at.
const COMMON_CAPS: &[u64] = &[20, 25, 30, 50, 100, 200, 250, 500, 1000, 1024, 2000, 5000, 10000];

/// A sync's outcome: its id and report, or its id and why it failed.
type SyncResult = Result<(i64, SyncReport), Box<(i64, EngineError)>>;

fn sync_once(store: &mut Store, c: &CompiledConnector, env: &EnvFn, opts: &SyncOptions, now: &str) -> SyncResult {
    let mut w = match store.begin_sync(&c.name, &c.spec_hash, now) {
        Ok(w) => w,
        Err(e) => return Err(Box::new((0, EngineError::Sink(e.to_string())))),
    };
    let id = w.id();
    match sync::run(c, env, &mut w, opts, &Silent) {
        Ok(r) => match w.finish(now) {
            Ok(_) => Ok((id, r)),
            Err(e) => Err(Box::new((id, EngineError::Sink(e.to_string())))),
        },
        Err(e) => {
            let _ = w.fail(now, &e.to_string());
            Err(Box::new((id, e)))
        }
    }
}

/// Test a connector against its live API.
pub fn verify(c: &CompiledConnector, env: &EnvFn, opts: &VerifyOptions) -> Result<TrustReport, VerifyError> {
    let cfg = sync::client_config(c, env).map_err(|e| VerifyError::Config(e.to_string()))?;
    let base_url = redact_base(&cfg.base_url);
    let mut store = Store::open_in_memory()?;
    let sopts = SyncOptions { limit_per_type: opts.limit, ..SyncOptions::default() };
    let mode = match opts.limit {
        Some(n) => format!("limit {n}"),
        None => "full".to_string(),
    };
    let mut report = TrustReport {
        connector: c.name.clone(),
        spec_hash: c.spec_hash.clone(),
        base_url,
        created_at: opts.now.clone(),
        mode,
        score: 0,
        passed: false,
        checks: Vec::new(),
        listings: Vec::new(),
        counts: BTreeMap::new(),
        samples: BTreeMap::new(),
        request_log: Vec::new(),
        requests: 0,
        elapsed_ms: 0,
    };
    let mut auth = Check::new("auth", W_AUTH);
    let first = sync_once(&mut store, c, env, &sopts, &opts.now);
    let (s1, r1) = match first {
        Ok(x) => x,
        Err(boxed) => {
            let (_, e) = *boxed;
            if e.is_config() {
                return Err(VerifyError::Config(e.to_string()));
            }
            let is_auth = matches!(&e, EngineError::Http(h) if h.is_auth() || matches!(h.status(), Some(401 | 403)));
            let mut failed =
                Check::new(if is_auth { "auth" } else { "sync" }, if is_auth { W_AUTH } else { W_COMPLETE });
            failed.note(Status::Fail, format!("the first sync failed: {e}"));
            report.checks.push(failed.finish(""));
            finish(&mut report);
            return Ok(report);
        }
    };
    auth.note(Status::Pass, format!("every resource type's requests succeeded ({} requests)", r1.requests));
    probes::negative_auth(c, env, &r1, &mut auth);
    report.checks.push(auth.finish("credentials are required and the connector's are accepted"));

    let counts = store.counts(s1)?;
    let mut complete = completeness(c, &r1, &store, s1, opts.limit.is_some())?;
    probes::clamped_first_pages(c, env, &r1, &mut complete);
    probes::unread_identity_operations(c, opts, &mut complete);
    if matches!(complete.status, Status::Fail | Status::Warn) {
        let prefix = format!("{}: ", complete.status.as_str());
        complete.summary = complete
            .evidence
            .iter()
            .find(|e| e.starts_with(&prefix))
            .map(|e| e.trim_start_matches(&prefix).to_string())
            .unwrap_or_default();
    }
    report.checks.push(complete);
    report.checks.push(probes::under_sync(c, env, &r1, opts).finish("no scoping parameter hides rows"));
    report.checks.push(coverage(c, &r1));
    report.checks.push(integrity(&store, s1, &r1)?);
    let second = sync_once(&mut store, c, env, &sopts, &opts.now);
    report.checks.push(stability(&store, s1, second)?);
    report.checks.push(status_nhi(c, &store, s1)?);

    for rt in &c.resource_types {
        let sample: Vec<Resource> = store.resources(s1, Some(&rt.id))?.into_iter().take(5).collect();
        report.samples.insert(rt.id.clone(), sample);
    }
    report.counts = counts.by_type.clone();
    report.counts.insert("grants".into(), counts.grants);
    report.counts.insert("entitlements".into(), counts.entitlements);
    report.listings = r1.resource_types.iter().chain(r1.grants.iter()).cloned().collect();
    report.request_log = r1.request_log.clone();
    report.requests = r1.requests;
    report.elapsed_ms = r1.elapsed_ms;
    finish(&mut report);
    Ok(report)
}

fn finish(report: &mut TrustReport) {
    let mut got = 0.0;
    let mut max = 0.0;
    for c in &report.checks {
        let w = c.weight as f64;
        match c.status {
            Status::Pass => {
                got += w;
                max += w;
            }
            Status::Warn => {
                got += w / 2.0;
                max += w;
            }
            Status::Fail => max += w,
            Status::Skip => {}
        }
    }
    report.score = if max > 0.0 { ((got / max) * 100.0).round() as u8 } else { 0 };
    report.passed = !report.checks.iter().any(|c| c.status == Status::Fail) && !report.checks.is_empty();
}

fn redact_base(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => url.to_string(),
    }
}

fn completeness(
    c: &CompiledConnector,
    r: &SyncReport,
    store: &Store,
    sync_id: i64,
    bounded: bool,
) -> Result<Check, VerifyError> {
    let mut ch = Check::new("completeness", W_COMPLETE);
    for l in r.resource_types.iter().chain(r.grants.iter()) {
        let rows = l.coverage.rows;
        if l.truncated {
            ch.note(
                Status::Warn,
                format!("{}: bounded read stopped at {} records; totals not verified (use --full)", l.label, l.records),
            );
            continue;
        }
        match l.api_total {
            Some(t) if t == rows => {
                ch.note(Status::Pass, format!("{}: {} rows, equal to the API's total {t}", l.label, rows))
            }
            Some(t) if rows < t => ch.note(
                Status::Fail,
                format!(
                    "{}: read {rows} rows but the API reports {t}: {} missing (pagination stopped early?)",
                    l.label,
                    t - rows
                ),
            ),
            Some(t) => ch.note(
                Status::Fail,
                format!("{}: read {rows} rows but the API reports only {t}: rows repeated across pages?", l.label),
            ),
            None if !bounded => {
                ch.note(Status::Pass, format!("{}: {rows} rows; the API reports no total to compare with", l.label))
            }
            None => {}
        }
        if let (Some(asked), Some(first)) = (l.page_size_asked, l.first_page_rows)
            && first < asked
            && l.pages > 1
        {
            ch.note(
                Status::Warn,
                format!("{}: asked for {asked} per page, the server returned {first}: the page size is clamped (Muster kept paging)", l.label),
            );
        }
        if l.pagination == "none" && l.pages <= 1 && COMMON_CAPS.contains(&rows) {
            ch.note(
                Status::Fail,
                format!(
                    "{}: one unpaginated request returned exactly {rows} rows, a typical server cap: the list is probably truncated; find the API's paging parameters",
                    l.label
                ),
            );
        }
    }
    let dups: Vec<_> =
        store.findings(sync_id)?.into_iter().filter(|f| f.kind == finding_kind::DUPLICATE_RESOURCE).collect();
    if !dups.is_empty() {
        ch.note(Status::Fail, format!("{} id(s) repeated across pages, e.g. {}", dups.len(), dups[0].subject));
    }
    let _ = c;
    Ok(ch.finish("every listing ran to its end and matched the API's totals"))
}

fn coverage(c: &CompiledConnector, r: &SyncReport) -> Check {
    let mut ch = Check::new("field coverage", W_COVERAGE);
    for l in r.resource_types.iter() {
        let Some(rt) = c.resource_type(&l.label) else { continue };
        let mapped = l.coverage.rows.saturating_sub(l.coverage.skipped);
        if mapped == 0 {
            ch.note(Status::Warn, format!("{}: no records, so no mapping was exercised", l.label));
            continue;
        }
        let constants: Vec<String> =
            rt.list.map.fields().into_iter().filter(|(_, e)| e.is_constant()).map(|(n, _)| n).collect();
        for (field, fc) in &l.coverage.fields {
            let total = fc.present + fc.null + fc.missing;
            if total == 0 {
                continue;
            }
            let share = fc.present as f64 * 100.0 / total as f64;
            if fc.missing == total {
                ch.note(
                    Status::Fail,
                    format!(
                        "{} › {field}: the mapped path is absent from every row ({total}): a typo, or the wrong field",
                        l.label
                    ),
                );
            } else if fc.present == 0 {
                ch.note(Status::Warn, format!("{} › {field}: always null ({total} rows)", l.label));
            } else if fc.present == total
                && fc.samples.len() == 1
                && !fc.varied
                && total >= 5
                && !constants.contains(field)
            {
                ch.note(
                    Status::Warn,
                    format!("{} › {field}: the same value `{}` on all {total} rows", l.label, fc.samples[0]),
                );
            } else {
                ch.note(Status::Pass, format!("{} › {field}: {share:.0}% non-null", l.label));
            }
        }
    }
    for g in &r.grants {
        for (field, fc) in &g.coverage.fields {
            let total = fc.present + fc.null + fc.missing;
            if total > 0 && fc.missing == total {
                ch.note(Status::Fail, format!("{}.{field}: absent from every row ({total})", g.label));
            }
        }
    }
    ch.finish("every mapped field is present in the data")
}

/// State values that mean "not (yet) a real grant".
const NOT_YET: &[&str] =
    &["pending", "invited", "requested", "awaiting", "invitation_pending", "pending_approval", "proposed"];

fn integrity(store: &Store, sync_id: i64, r: &SyncReport) -> Result<Check, VerifyError> {
    let mut ch = Check::new("integrity", W_INTEGRITY);
    for g in &r.grants {
        for (field, vals) in &g.coverage.states {
            for (v, c) in vals {
                if c.kept > 0 && NOT_YET.contains(&v.to_lowercase().as_str()) {
                    ch.note(
                        Status::Fail,
                        format!(
                            "{}: {} rows with `{field}: {v}` were counted as grants: pending invitations are not access; add `skip_if: \"item.{field} == '{v}'\"`",
                            g.label, c.kept
                        ),
                    );
                }
            }
        }
    }
    let findings = store.findings(sync_id)?;
    let mut by_kind: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for f in &findings {
        by_kind.entry(f.kind.as_str()).or_default().push(format!("{} ({})", f.subject, f.detail));
    }
    for (kind, list) in &by_kind {
        let what = match *kind {
            k if k == finding_kind::DANGLING_PRINCIPAL => "grants whose principal was never synced",
            k if k == finding_kind::DANGLING_ENTITLEMENT => "grants whose entitlement was never synced",
            k if k == finding_kind::DUPLICATE_RESOURCE => "resources with a repeated id",
            k if k == finding_kind::DUPLICATE_GRANT => "grants listed twice",
            _ => "other findings",
        };
        let status = if *kind == finding_kind::DUPLICATE_GRANT { Status::Warn } else { Status::Fail };
        ch.note(
            status,
            format!("{} {what}: {}", list.len(), list.iter().take(10).cloned().collect::<Vec<_>>().join("; ")),
        );
    }
    let counts = store.counts(sync_id)?;
    if by_kind.is_empty() {
        ch.note(
            Status::Pass,
            format!(
                "{} resources with unique ids; all {} grants point at synced principals and entitlements",
                counts.resources, counts.grants
            ),
        );
    }
    Ok(ch.finish("ids are unique and every grant points at a synced principal and entitlement"))
}

fn stability(store: &Store, s1: i64, second: SyncResult) -> Result<Check, VerifyError> {
    let mut ch = Check::new("stability", W_STABILITY);
    match second {
        Err(boxed) => ch.note(Status::Fail, format!("the second run failed: {}", boxed.1)),
        Ok((s2, _)) => {
            let d = store.diff(s1, s2)?;
            let (a, b) = (store.counts(s1)?, store.counts(s2)?);
            if d.resources_added.is_empty()
                && d.resources_removed.is_empty()
                && d.grants_added.is_empty()
                && d.grants_removed.is_empty()
            {
                ch.note(
                    Status::Pass,
                    format!("two runs gave the same {} resources and {} grants", a.resources, a.grants),
                );
            } else {
                ch.note(
                    Status::Fail,
                    format!(
                        "two runs differ: resources {} → {} ({} added, {} removed), grants {} → {} ({} added, {} removed); ids must be stable",
                        a.resources,
                        b.resources,
                        d.resources_added.len(),
                        d.resources_removed.len(),
                        a.grants,
                        b.grants,
                        d.grants_added.len(),
                        d.grants_removed.len()
                    ),
                );
                for r in d.resources_added.iter().chain(d.resources_removed.iter()).take(5) {
                    ch.evidence.push(format!("changed: {r}"));
                }
            }
            if !d.resources_changed.is_empty() {
                ch.note(
                    Status::Warn,
                    format!("{} resources changed between two runs seconds apart", d.resources_changed.len()),
                );
            }
        }
    }
    Ok(ch.finish("two runs gave the same ids and counts"))
}

const STATUS_WORDS: &[&str] =
    &["active", "status", "state", "enabled", "disabled", "suspended", "deleted", "locked", "inactive", "deactivated"];

fn status_nhi(c: &CompiledConnector, store: &Store, sync_id: i64) -> Result<Check, VerifyError> {
    let mut ch = Check::new("status and NHI", W_STATUS);
    for rt in &c.resource_types {
        let resources = store.resources(sync_id, Some(&rt.id))?;
        if rt.has_trait(Trait::User) {
            if let Some(skip) = &rt.list.skip_if {
                let paths = skip.paths_of("item");
                if paths.iter().any(|p| STATUS_WORDS.iter().any(|w| p.to_lowercase().contains(w))) {
                    ch.note(
                        Status::Fail,
                        format!("{}: `skip_if: {}` drops accounts by their status: disabled accounts must be kept, as disabled", rt.id, skip.source()),
                    );
                }
            }
            if rt.list.map.status.is_none() {
                ch.note(Status::Warn, format!("{}: status is not mapped: disabled accounts would look enabled", rt.id));
            } else {
                let disabled = resources.iter().filter(|r| r.status != muster_model::Status::Enabled).count();
                ch.note(
                    Status::Pass,
                    format!(
                        "{}: {disabled} of {} accounts not enabled, kept with their status",
                        rt.id,
                        resources.len()
                    ),
                );
            }
            match rt.list.map.user.as_ref().and_then(|u| u.account_type.as_ref()) {
                None => ch.note(
                    Status::Warn,
                    format!("{}: account_type is not mapped: service accounts are not told apart from people", rt.id),
                ),
                Some(_) => {
                    let svc = resources
                        .iter()
                        .filter(|r| {
                            r.user.as_ref().and_then(|u| u.account_type) == Some(muster_model::AccountType::Service)
                        })
                        .count();
                    ch.note(Status::Pass, format!("{}: {svc} service accounts recognised", rt.id));
                }
            }
        }
        if rt.has_trait(Trait::Secret) {
            let leaked: Vec<&Resource> =
                resources.iter().filter(|r| r.profile.iter().any(|(k, v)| looks_like_secret_value(k, v))).collect();
            if leaked.is_empty() {
                ch.note(Status::Pass, format!("{}: {} credentials kept as metadata only", rt.id, resources.len()));
            } else {
                ch.note(
                    Status::Fail,
                    format!(
                        "{}: {} records carry what looks like a secret value in their profile",
                        rt.id,
                        leaked.len()
                    ),
                );
            }
        }
    }
    Ok(ch.finish("disabled accounts kept, service accounts and credentials recognised"))
}

fn looks_like_secret_value(key: &str, v: &serde_json::Value) -> bool {
    let k = key.to_lowercase();
    let secretish = ["secret", "password", "token", "apikey", "api_key", "private"].iter().any(|w| k.contains(w))
        && !k.contains("prefix");
    secretish && v.as_str().is_some_and(|s| s.len() >= 16)
}
