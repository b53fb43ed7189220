//! Running cases: draft → check → test → sync for live cases, draft-and-inspect for spec-only cases,
//! draft-and-expect-a-park for negative cases. Everything a score needs is recorded ([`RunRecord`]); the
//! scores themselves are computed from the record by [`crate::score`].

use crate::case::{Case, CaseDef, Labels, Truth, read_json};
use crate::scenarios;
use muster_draft::{Confidence, DraftOptions, DraftOutcome};
use muster_model::Trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Format version of `evals/results/*.json`.
pub const RECORD_VERSION: u32 = 1;

/// The fixed clock of every eval run (reports are stamped with it, so records do not change by the hour).
pub const EVAL_NOW: &str = "2026-11-01T00:00:00Z";

/// Longest listing the eval lets a drafted connector read, in pages (a runaway cursor stops here).
pub const EVAL_MAX_PAGES: u64 = 200;

/// One run of the suite: the raw results, from which [`crate::score::score_run`] computes every number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub version: u32,
    /// `no-llm` (the deterministic drafter).
    pub condition: String,
    /// The LLM condition: run, or why not.
    pub llm: LlmStatus,
    pub cases: Vec<CaseRecord>,
}

/// Whether the LLM condition ran.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LlmStatus {
    pub requested: bool,
    pub ran: bool,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaseRecord {
    pub name: String,
    pub description: String,
    pub elapsed_ms: u64,
    pub result: CaseResult,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaseResult {
    Live(Box<LiveRecord>),
    Spec(Box<SpecRecord>),
    Negative(NegativeRecord),
    /// The case could not run (e.g. its spec file is missing); not scored, not a regression.
    Skipped {
        reason: String,
    },
}

/// A live case's raw outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LiveRecord {
    pub truth: Truth,
    pub drafted: bool,
    pub park_reason: Option<String>,
    /// `user: GET /users` lines.
    pub draft_summary: Vec<String>,
    pub low_confidence: Vec<String>,
    pub check_errors: Vec<String>,
    pub check_warnings: Vec<String>,
    /// `muster test` (None when it could not run).
    pub test: Option<TestRecord>,
    pub test_error: Option<String>,
    pub sync_error: Option<String>,
    pub observed: Observed,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TestRecord {
    pub passed: bool,
    pub score: u8,
    pub checks: Vec<CheckRecord>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckRecord {
    pub name: String,
    pub status: String,
    pub summary: String,
}

/// What the sync stored, as id lists (sorted), in the shape of [`Truth`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Observed {
    pub users: Vec<String>,
    pub disabled_users: Vec<String>,
    pub service_users: Vec<String>,
    pub groups: Vec<String>,
    pub memberships: Vec<String>,
    pub roles: Vec<String>,
    pub tokens: Vec<String>,
}

impl Observed {
    pub fn get(&self, key: &str) -> Option<&Vec<String>> {
        Some(match key {
            "users" => &self.users,
            "disabled_users" => &self.disabled_users,
            "service_users" => &self.service_users,
            "groups" => &self.groups,
            "memberships" => &self.memberships,
            "roles" => &self.roles,
            "tokens" => &self.tokens,
            _ => return None,
        })
    }
}

impl Truth {
    pub fn get(&self, key: &str) -> Option<&Vec<String>> {
        Some(match key {
            "users" => &self.users,
            "disabled_users" => &self.disabled_users,
            "service_users" => &self.service_users,
            "groups" => &self.groups,
            "memberships" => &self.memberships,
            "roles" => &self.roles,
            "tokens" => &self.tokens,
            _ => return None,
        })
    }
}

/// A spec-only case's raw outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SpecRecord {
    pub spec: String,
    pub labels: Labels,
    pub parked: bool,
    pub check_errors: Vec<String>,
    pub drafted_ops: Vec<DraftedOp>,
    /// The source's auth type, then every per-request auth type.
    pub auth: Vec<String>,
}

/// One request the draft lists with.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DraftedOp {
    /// `user.list` or `group.member.grants`.
    pub at: String,
    pub traits: Vec<String>,
    pub method: String,
    pub path: String,
    pub pagination: String,
}

/// A negative case's raw outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NegativeRecord {
    pub parked: bool,
    pub reason: String,
    pub draft_summary: Vec<String>,
}

/// Run options.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Only the case with this name.
    pub case: Option<String>,
    /// The LLM condition was asked for (`--llm`).
    pub llm: Vec<String>,
    /// The repository root: spec-only cases name their spec relative to it.
    pub repo_root: PathBuf,
}

/// Run every case (or the one named) under `evals_dir`.
pub fn run_suite(cases: &[Case], opts: &RunOptions) -> RunRecord {
    let mut out = Vec::new();
    for case in cases {
        if opts.case.as_ref().is_some_and(|c| c != &case.name) {
            continue;
        }
        out.push(run_case(case, &opts.repo_root));
    }
    RunRecord { version: RECORD_VERSION, condition: "no-llm".into(), llm: llm_status(&opts.llm), cases: out }
}

fn llm_status(requested: &[String]) -> LlmStatus {
    // TODO(issue 9): run the LLM condition. `muster_draft::draft_with_llm` (the repair loop, landing in
    // muster-draft in parallel) is the entry point: per live case, build an `LlmClient` from the `--llm`
    // settings, draft with `LlmDraftInput { openapi, deterministic, .. }`, then check → test → sync exactly as
    // the no-LLM path does, and record `rounds.len()` as repair rounds next to the no-LLM scores.
    if requested.is_empty() {
        LlmStatus { requested: false, ran: false, note: "not requested".into() }
    } else {
        LlmStatus {
            requested: true,
            ran: false,
            note: format!(
                "the LLM condition was NOT run (asked for: {}): the eval does not yet call muster_draft::draft_with_llm; no numbers are reported for it",
                requested.join(" ")
            ),
        }
    }
}

/// Run one case.
pub fn run_case(case: &Case, repo_root: &Path) -> CaseRecord {
    let start = Instant::now();
    let result = match &case.def {
        CaseDef::Live { server, .. } => run_live(case, server),
        CaseDef::Spec { spec, .. } => run_spec(case, repo_root, spec),
        CaseDef::Negative { .. } => run_negative(case),
    };
    CaseRecord {
        name: case.name.clone(),
        description: case.def.description().to_string(),
        elapsed_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        result,
    }
}

fn read_api(dir: &Path) -> Result<Value, String> {
    let path = dir.join("api.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    muster_draft::parse_spec_text(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn draft(doc: &Value) -> DraftOutcome {
    muster_draft::draft_from_openapi(doc, &DraftOptions { source_name: "api.json".into(), ..DraftOptions::default() })
}

fn run_live(case: &Case, server: &crate::case::ServerDef) -> CaseResult {
    let truth: Truth = match read_json(&case.dir.join("truth.json")) {
        Ok(t) => t,
        Err(e) => return CaseResult::Skipped { reason: e.to_string() },
    };
    let mut rec = LiveRecord { truth, ..LiveRecord::default() };
    let doc = match read_api(&case.dir) {
        Ok(d) => d,
        Err(e) => return CaseResult::Skipped { reason: e },
    };
    let srv = match scenarios::start(server) {
        Ok(s) => s,
        Err(e) => return CaseResult::Skipped { reason: e },
    };
    let base = srv.base_url().to_string();
    let doc = scenarios::point_at(&doc, &base);
    let (yaml, env_names) = match draft(&doc) {
        DraftOutcome::Park(p) => {
            rec.park_reason = Some(p.reason);
            return CaseResult::Live(Box::new(rec));
        }
        DraftOutcome::Connector { yaml, choices, env, summary, check_errors, check_warnings } => {
            rec.drafted = true;
            rec.draft_summary = summary;
            rec.low_confidence = choices
                .iter()
                .filter(|c| c.confidence == Confidence::Low)
                .map(|c| format!("{}: {}", c.what, c.why))
                .collect();
            rec.check_errors = check_errors;
            rec.check_warnings = check_warnings;
            (yaml, env.into_iter().map(|e| e.name).collect::<Vec<_>>())
        }
    };
    let checked = muster_spec::check(&yaml, "draft.yaml");
    let Some(mut compiled) = checked.connector else {
        rec.check_errors.extend(checked.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.message.clone()));
        return CaseResult::Live(Box::new(rec));
    };
    // Harness limits, not edits: local servers need no client-side rate limit, and a runaway cursor must
    // not read 100k pages.
    compiled.http.rate_limit.per_second = None;
    compiled.http.max_pages = compiled.http.max_pages.min(EVAL_MAX_PAGES);
    let creds = scenarios::credentials(server);
    let env = make_env(&base, &creds, env_names.into_iter().chain(compiled.env_vars()).collect());
    let opts = muster_verify::VerifyOptions { limit: None, openapi: Some(doc.clone()), now: EVAL_NOW.into() };
    match muster_verify::verify(&compiled, &env, &opts) {
        Ok(r) => {
            rec.test = Some(TestRecord {
                passed: r.passed,
                score: r.score,
                checks: r
                    .checks
                    .iter()
                    .map(|c| CheckRecord {
                        name: c.name.clone(),
                        status: c.status.as_str().into(),
                        summary: c.summary.clone(),
                    })
                    .collect(),
            })
        }
        Err(e) => rec.test_error = Some(e.to_string()),
    }
    match sync_observed(&compiled, &env) {
        Ok(o) => rec.observed = o,
        Err(e) => rec.sync_error = Some(e),
    }
    drop(srv);
    CaseResult::Live(Box::new(rec))
}

type Env = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

fn make_env(base: &str, creds: &BTreeMap<String, String>, names: BTreeSet<String>) -> Env {
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for n in names {
        let v = if n.ends_with("_URL") {
            Some(base.to_string())
        } else {
            creds
                .iter()
                .filter(|(suffix, _)| n.ends_with(&format!("_{suffix}")) || n == **suffix)
                .max_by_key(|(suffix, _)| suffix.len())
                .map(|(_, v)| v.clone())
        };
        if let Some(v) = v {
            values.insert(n, v);
        }
    }
    Box::new(move |n: &str| values.get(n).cloned())
}

fn sync_observed(c: &muster_spec::CompiledConnector, env: &Env) -> Result<Observed, String> {
    let mut store = muster_store::Store::open_in_memory().map_err(|e| e.to_string())?;
    let sync_id = {
        let mut w = store.begin_sync(&c.name, &c.spec_hash, EVAL_NOW).map_err(|e| e.to_string())?;
        let id = w.id();
        let opts = muster_engine::sync::SyncOptions::default();
        if let Err(e) = muster_engine::sync::run(c, env.as_ref(), &mut w, &opts, &muster_engine::sync::Silent) {
            let _ = w.fail(EVAL_NOW, &e.to_string());
            return Err(e.to_string());
        }
        w.finish(EVAL_NOW).map_err(|e| e.to_string())?;
        id
    };
    let mut o = Observed::default();
    for rt in &c.resource_types {
        let rs = store.resources(sync_id, Some(&rt.id)).map_err(|e| e.to_string())?;
        for r in rs {
            if rt.has_trait(Trait::User) {
                o.users.push(r.id.clone());
                if r.status != muster_model::Status::Enabled {
                    o.disabled_users.push(r.id.clone());
                }
                if r.user.as_ref().and_then(|u| u.account_type) == Some(muster_model::AccountType::Service) {
                    o.service_users.push(r.id.clone());
                }
            }
            if rt.has_trait(Trait::Group) {
                o.groups.push(r.id.clone());
            }
            if rt.has_trait(Trait::Role) {
                o.roles.push(r.id.clone());
            }
            if rt.has_trait(Trait::Secret) {
                o.tokens.push(r.id.clone());
            }
        }
    }
    for g in store.grants(sync_id, None).map_err(|e| e.to_string())? {
        o.memberships.push(format!("{}/{}", g.entitlement.resource.id, g.principal.id));
    }
    for v in [
        &mut o.users,
        &mut o.disabled_users,
        &mut o.service_users,
        &mut o.groups,
        &mut o.memberships,
        &mut o.roles,
        &mut o.tokens,
    ] {
        v.sort();
        v.dedup();
    }
    Ok(o)
}

fn run_negative(case: &Case) -> CaseResult {
    let doc = match read_api(&case.dir) {
        Ok(d) => d,
        Err(e) => return CaseResult::Skipped { reason: e },
    };
    CaseResult::Negative(match draft(&doc) {
        DraftOutcome::Park(p) => NegativeRecord { parked: true, reason: p.reason, draft_summary: Vec::new() },
        DraftOutcome::Connector { summary, .. } => {
            NegativeRecord { parked: false, reason: String::new(), draft_summary: summary }
        }
    })
}

fn run_spec(case: &Case, repo_root: &Path, spec: &str) -> CaseResult {
    let labels: Labels = match read_json(&case.dir.join("labels.json")) {
        Ok(l) => l,
        Err(e) => return CaseResult::Skipped { reason: e.to_string() },
    };
    let path = repo_root.join(spec);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            return CaseResult::Skipped {
                reason: format!("{} is missing ({e}): spec-only case skipped", path.display()),
            };
        }
    };
    let doc = match muster_draft::parse_spec_text(&text) {
        Ok(d) => d,
        Err(e) => return CaseResult::Skipped { reason: format!("{}: {e}", path.display()) },
    };
    let mut rec = SpecRecord { spec: spec.to_string(), labels, ..SpecRecord::default() };
    let source_name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    match muster_draft::draft_from_openapi(&doc, &DraftOptions { source_name, ..DraftOptions::default() }) {
        DraftOutcome::Park(_) => rec.parked = true,
        DraftOutcome::Connector { yaml, check_errors, .. } => {
            rec.check_errors = check_errors;
            let raw = match muster_spec::yaml::parse(&yaml) {
                Ok(node) => muster_spec::validate::to_json(&node),
                Err(d) => {
                    rec.check_errors.push(d.message);
                    Value::Null
                }
            };
            let (ops, auth) = drafted_ops(&raw);
            rec.drafted_ops = ops;
            rec.auth = auth;
        }
    }
    CaseResult::Spec(Box::new(rec))
}

fn type_of(v: Option<&Value>, default: &str) -> String {
    v.and_then(|p| p.get("type")).and_then(Value::as_str).unwrap_or(default).to_string()
}

/// Every listing request of a drafted connector (as JSON), and its auth types.
pub fn drafted_ops(raw: &Value) -> (Vec<DraftedOp>, Vec<String>) {
    let mut ops = Vec::new();
    let mut auth = vec![type_of(raw.pointer("/source/http/auth"), "none")];
    let op = |at: String, traits: &[String], block: &Value, auth: &mut Vec<String>| -> DraftedOp {
        let req = block.get("request");
        if let Some(a) = req.and_then(|r| r.get("auth")) {
            auth.push(type_of(Some(a), "none"));
        }
        DraftedOp {
            at,
            traits: traits.to_vec(),
            method: req.and_then(|r| r.get("method")).and_then(Value::as_str).unwrap_or("GET").to_uppercase(),
            path: req.and_then(|r| r.get("path")).and_then(Value::as_str).unwrap_or("").to_string(),
            pagination: type_of(block.get("pagination"), "none"),
        }
    };
    if let Some(types) = raw.get("resource_types").and_then(Value::as_object) {
        for (id, rt) in types {
            let traits: Vec<String> = rt
                .get("traits")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
                .unwrap_or_default();
            if let Some(list) = rt.get("list") {
                ops.push(op(format!("{id}.list"), &traits, list, &mut auth));
            }
            for e in rt.get("entitlements").and_then(Value::as_array).into_iter().flatten() {
                if let Some(g) = e.get("grants") {
                    let slug = e.get("id").and_then(Value::as_str).unwrap_or("");
                    ops.push(op(format!("{id}.{slug}.grants"), &traits, g, &mut auth));
                }
            }
        }
    }
    (ops, auth)
}
