//! Scores: a pure function of a [`RunRecord`]. `muster eval --rescore FILE` recomputes them from a recorded
//! run and must give the same numbers.

use crate::case::{LabelledOp, Trap};
use crate::run::{CaseRecord, CaseResult, LiveRecord, Observed, RunRecord, SpecRecord};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The entity types scored for precision and recall.
pub const ENTITIES: [&str; 5] = ["users", "groups", "memberships", "roles", "tokens"];

/// Scores of a whole run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Scores {
    pub condition: String,
    pub llm_note: String,
    pub cases: Vec<CaseScore>,
    pub totals: Totals,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Totals {
    pub live_cases: usize,
    pub live_exact_parity: usize,
    pub live_first_pass: usize,
    pub traps: usize,
    pub traps_avoided: usize,
    pub traps_flagged: usize,
    pub traps_silently_missed: usize,
    pub spec_cases: usize,
    pub spec_mean_recall: f64,
    pub negative_cases: usize,
    pub negative_parked: usize,
    pub skipped: usize,
}

/// One case's scores.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaseScore {
    pub name: String,
    pub kind: String,
    /// Wall time (informational; never compared with the baseline).
    pub elapsed_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveScore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<SpecScore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative: Option<NegativeScore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LiveScore {
    pub drafted: bool,
    pub check_ok: bool,
    pub test_passed: bool,
    pub trust_score: u8,
    /// Drafted, passes `check` and `test`, no edit and no repair round.
    pub first_pass: bool,
    pub synced: bool,
    /// Every entity set, the disabled users and the service accounts equal the truth.
    pub exact_parity: bool,
    pub entities: BTreeMap<String, EntityScore>,
    pub disabled_ok: bool,
    pub service_ok: bool,
    pub traps: Vec<TrapScore>,
    pub silently_missed: usize,
    /// Short notes on what went wrong.
    pub notes: Vec<String>,
}

/// Precision and recall of one entity type. `None` when undefined (nothing expected / nothing synced).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EntityScore {
    pub expected: usize,
    pub synced: usize,
    pub correct: usize,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrapOutcome {
    /// The worst outcome: the draft fell in and `muster test` did not say so.
    SilentlyMissed,
    /// The draft fell in and `muster test` flagged it with the right check.
    Flagged,
    /// The draft handled it.
    Avoided,
}

impl TrapOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            TrapOutcome::SilentlyMissed => "silently missed",
            TrapOutcome::Flagged => "flagged",
            TrapOutcome::Avoided => "avoided",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrapScore {
    pub name: String,
    pub outcome: TrapOutcome,
    /// The check that flagged it, when flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flagged_by: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SpecScore {
    pub parked: bool,
    pub labelled: usize,
    pub found: usize,
    pub recall: f64,
    /// Of the found operations, the share drafted with the labelled pagination style (1.0 when none found).
    pub pagination_accuracy: f64,
    pub auth_correct: bool,
    pub missed: Vec<String>,
    pub wrong_pagination: Vec<String>,
    pub drafted_auth: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NegativeScore {
    pub parked: bool,
}

impl Scores {
    /// These scores as committed in `evals/baseline.json`: wall times zeroed, so the file changes only
    /// when a score does.
    pub fn for_baseline(&self) -> Scores {
        let mut s = self.clone();
        for c in &mut s.cases {
            c.elapsed_ms = 0;
        }
        s
    }
}

/// Score a recorded run.
pub fn score_run(r: &RunRecord) -> Scores {
    let cases: Vec<CaseScore> = r.cases.iter().map(score_case).collect();
    let mut t = Totals::default();
    let mut recall_sum = 0.0;
    for c in &cases {
        if c.skipped.is_some() {
            t.skipped += 1;
        }
        if let Some(l) = &c.live {
            t.live_cases += 1;
            t.live_exact_parity += usize::from(l.exact_parity);
            t.live_first_pass += usize::from(l.first_pass);
            for tr in &l.traps {
                t.traps += 1;
                match tr.outcome {
                    TrapOutcome::Avoided => t.traps_avoided += 1,
                    TrapOutcome::Flagged => t.traps_flagged += 1,
                    TrapOutcome::SilentlyMissed => t.traps_silently_missed += 1,
                }
            }
        }
        if let Some(s) = &c.spec {
            t.spec_cases += 1;
            recall_sum += s.recall;
        }
        if let Some(n) = &c.negative {
            t.negative_cases += 1;
            t.negative_parked += usize::from(n.parked);
        }
    }
    t.spec_mean_recall = if t.spec_cases > 0 { round3(recall_sum / t.spec_cases as f64) } else { 0.0 };
    Scores { condition: r.condition.clone(), llm_note: r.llm.note.clone(), cases, totals: t }
}

fn score_case(c: &CaseRecord) -> CaseScore {
    let mut s = CaseScore {
        name: c.name.clone(),
        kind: String::new(),
        elapsed_ms: c.elapsed_ms,
        live: None,
        spec: None,
        negative: None,
        skipped: None,
    };
    match &c.result {
        CaseResult::Live(l) => {
            s.kind = "live".into();
            s.live = Some(score_live(l));
        }
        CaseResult::Spec(sp) => {
            s.kind = "spec".into();
            s.spec = Some(score_spec(sp));
        }
        CaseResult::Negative(n) => {
            s.kind = "negative".into();
            s.negative = Some(NegativeScore { parked: n.parked });
        }
        CaseResult::Skipped { reason } => {
            s.kind = "skipped".into();
            s.skipped = Some(reason.clone());
        }
    }
    s
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn set(v: &[String]) -> BTreeSet<&str> {
    v.iter().map(String::as_str).collect()
}

fn entity(expected: &[String], synced: &[String]) -> EntityScore {
    let e = set(expected);
    let s = set(synced);
    let correct = e.intersection(&s).count();
    EntityScore {
        expected: e.len(),
        synced: s.len(),
        correct,
        precision: (!s.is_empty()).then(|| round3(correct as f64 / s.len() as f64)),
        recall: (!e.is_empty()).then(|| round3(correct as f64 / e.len() as f64)),
    }
}

fn trap_avoided(t: &Trap, o: &Observed) -> bool {
    let has = |k: &str, id: &str| o.get(k).is_some_and(|v| v.iter().any(|x| x == id));
    t.must_include.iter().all(|(k, ids)| ids.iter().all(|id| has(k, id)))
        && t.must_exclude.iter().all(|(k, ids)| ids.iter().all(|id| !has(k, id)))
}

fn score_live(l: &LiveRecord) -> LiveScore {
    let o = &l.observed;
    let t = &l.truth;
    let mut s = LiveScore {
        drafted: l.drafted,
        check_ok: l.drafted && l.check_errors.is_empty(),
        test_passed: l.test.as_ref().is_some_and(|r| r.passed),
        trust_score: l.test.as_ref().map(|r| r.score).unwrap_or(0),
        synced: l.drafted && l.sync_error.is_none() && l.check_errors.is_empty(),
        ..LiveScore::default()
    };
    s.first_pass = s.check_ok && s.test_passed;
    for k in ENTITIES {
        let (e, g) = (t.get(k).cloned().unwrap_or_default(), o.get(k).cloned().unwrap_or_default());
        s.entities.insert(k.to_string(), entity(&e, &g));
    }
    s.disabled_ok = set(&t.disabled_users) == set(&o.disabled_users);
    s.service_ok = set(&t.service_users) == set(&o.service_users);
    s.exact_parity = s.synced
        && s.disabled_ok
        && s.service_ok
        && s.entities.values().all(|e| e.correct == e.expected && e.synced == e.expected);
    let checks: Vec<(&str, &str)> = l
        .test
        .as_ref()
        .map(|r| r.checks.iter().map(|c| (c.name.as_str(), c.status.as_str())).collect())
        .unwrap_or_default();
    // A connector that is refused loudly (parked, fails `check`, `muster test` cannot run or its first
    // sync fails) hides nothing: its traps count as flagged by that refusal, never as silently missed.
    let loud: Option<String> = if !l.drafted {
        Some("draft parked".into())
    } else if !l.check_errors.is_empty() {
        Some("check".into())
    } else if l.test_error.is_some() {
        Some("test refused to run".into())
    } else if checks.iter().any(|(n, st)| *n == "sync" && *st == "fail") {
        Some("sync".into())
    } else {
        None
    };
    for trap in &t.traps {
        let (outcome, by) = if s.synced && trap_avoided(trap, o) {
            (TrapOutcome::Avoided, None)
        } else {
            let hit = trap
                .checks
                .iter()
                .find(|want| checks.iter().any(|(n, st)| n == want && (*st == "fail" || *st == "warn")));
            match (hit, &loud) {
                (Some(h), _) => (TrapOutcome::Flagged, Some(h.clone())),
                (None, Some(why)) => (TrapOutcome::Flagged, Some(why.clone())),
                (None, None) => (TrapOutcome::SilentlyMissed, None),
            }
        };
        if outcome == TrapOutcome::SilentlyMissed {
            s.silently_missed += 1;
        }
        s.traps.push(TrapScore { name: trap.name.clone(), outcome, flagged_by: by });
    }
    if let Some(p) = &l.park_reason {
        s.notes.push(format!("parked: {p}"));
    }
    s.notes.extend(l.check_errors.iter().map(|e| format!("check: {e}")));
    if let Some(e) = &l.test_error {
        s.notes.push(format!("test: {e}"));
    }
    if let Some(e) = &l.sync_error {
        s.notes.push(format!("sync: {e}"));
    }
    if let Some(r) = &l.test {
        for c in r.checks.iter().filter(|c| c.status == "fail") {
            s.notes.push(format!("test {}: {}", c.name, c.summary));
        }
    }
    s
}

/// `/groups/{id}/members` and `/groups/{resource.id}/members` compare equal.
pub fn normalize_path(p: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for ch in p.split('?').next().unwrap_or("").chars() {
        match ch {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push_str("{}");
                }
            }
            '}' => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(ch),
        }
    }
    out.trim_end_matches('/').to_string()
}

fn op_matches(method: &str, path: &str, drafted_method: &str, drafted_path: &str) -> bool {
    method.eq_ignore_ascii_case(drafted_method) && normalize_path(path) == normalize_path(drafted_path)
}

fn score_spec(r: &SpecRecord) -> SpecScore {
    let mut s = SpecScore { parked: r.parked, labelled: r.labels.operations.len(), ..SpecScore::default() };
    let mut right_pag = 0;
    for op in &r.labels.operations {
        match find_op(op, r) {
            Some((pag_wanted, pag_got)) => {
                s.found += 1;
                if pag_wanted.split('|').any(|w| w == pag_got) {
                    right_pag += 1;
                } else {
                    s.wrong_pagination
                        .push(format!("{} {} ({}): {pag_got}, labelled {pag_wanted}", op.method, op.path, op.entity));
                }
            }
            None => s.missed.push(format!("{} {} ({})", op.method, op.path, op.entity)),
        }
    }
    s.recall = if s.labelled > 0 { round3(s.found as f64 / s.labelled as f64) } else { 1.0 };
    s.pagination_accuracy = if s.found > 0 { round3(right_pag as f64 / s.found as f64) } else { 0.0 };
    s.drafted_auth = r.auth.first().cloned().unwrap_or_else(|| "none".into());
    s.auth_correct = !r.parked && r.labels.auth.contains(&s.drafted_auth);
    s
}

/// `(labelled pagination, drafted pagination)` when the draft lists with the operation or an alternative.
fn find_op(op: &LabelledOp, r: &SpecRecord) -> Option<(String, String)> {
    let mut candidates = vec![(op.method.as_str(), op.path.as_str(), op.pagination.clone())];
    for a in &op.alternatives {
        candidates.push((
            a.method.as_str(),
            a.path.as_str(),
            a.pagination.clone().unwrap_or_else(|| op.pagination.clone()),
        ));
    }
    for (m, p, pag) in &candidates {
        if let Some(d) = r.drafted_ops.iter().find(|d| op_matches(m, p, &d.method, &d.path)) {
            return Some((pag.clone(), d.pagination.clone()));
        }
    }
    None
}
