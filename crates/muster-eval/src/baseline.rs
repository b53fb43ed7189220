//! The committed baseline (`evals/baseline.json`: the scores of a real no-LLM run) and the regression
//! check against it. Per case, a regression is: an entity's precision or recall that went down, exact
//! parity or first-pass success lost, a lower trust score, a trap whose outcome got worse (avoided →
//! flagged → silently missed), a spec case with lower recall, pagination or auth accuracy, a negative case
//! that stopped parking, or a baseline case that no longer runs. Improvements pass.

use crate::score::{CaseScore, Scores};

const EPS: f64 = 1e-9;

fn worse(base: Option<f64>, now: Option<f64>) -> bool {
    match (base, now) {
        (Some(b), Some(n)) => n + EPS < b,
        (Some(b), None) => b > 0.0,
        _ => false,
    }
}

/// Every regression of `now` against `base`, one line each. `only`: the run was limited to one case.
pub fn regressions(base: &Scores, now: &Scores, only: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    for b in &base.cases {
        if only.is_some_and(|o| o != b.name) {
            continue;
        }
        let Some(n) = now.cases.iter().find(|c| c.name == b.name) else {
            out.push(format!("{}: in the baseline but not run (deleted case? update the baseline)", b.name));
            continue;
        };
        compare(b, n, &mut out);
    }
    out
}

fn compare(b: &CaseScore, n: &CaseScore, out: &mut Vec<String>) {
    let name = &b.name;
    if b.skipped.is_none() && n.skipped.is_some() {
        // A missing external spec is not the drafter's fault; anything else is.
        let why = n.skipped.clone().unwrap_or_default();
        if !why.contains("is missing") {
            out.push(format!("{name}: ran in the baseline, now skipped: {why}"));
        }
        return;
    }
    if let (Some(b), Some(n)) = (&b.live, &n.live) {
        for (k, be) in &b.entities {
            let ne = n.entities.get(k).cloned().unwrap_or_default();
            if worse(be.precision, ne.precision) {
                out.push(format!("{name}: {k} precision {:?} → {:?}", be.precision, ne.precision));
            }
            if worse(be.recall, ne.recall) {
                out.push(format!("{name}: {k} recall {:?} → {:?}", be.recall, ne.recall));
            }
        }
        if b.exact_parity && !n.exact_parity {
            out.push(format!("{name}: lost exact parity with the truth"));
        }
        if b.first_pass && !n.first_pass {
            out.push(format!("{name}: no longer passes check and test first time"));
        }
        if n.trust_score < b.trust_score {
            out.push(format!("{name}: trust score {} → {}", b.trust_score, n.trust_score));
        }
        for bt in &b.traps {
            match n.traps.iter().find(|t| t.name == bt.name) {
                Some(nt) if nt.outcome < bt.outcome => {
                    out.push(format!("{name}: trap `{}` {} → {}", bt.name, bt.outcome.as_str(), nt.outcome.as_str()))
                }
                None => out.push(format!("{name}: trap `{}` is no longer scored", bt.name)),
                _ => {}
            }
        }
    } else if b.live.is_some() {
        out.push(format!("{name}: no longer a scored live case"));
    }
    if let (Some(b), Some(n)) = (&b.spec, &n.spec) {
        if n.recall + EPS < b.recall {
            out.push(format!("{name}: recall {} → {} (missed: {})", b.recall, n.recall, n.missed.join(", ")));
        }
        if n.pagination_accuracy + EPS < b.pagination_accuracy {
            out.push(format!("{name}: pagination accuracy {} → {}", b.pagination_accuracy, n.pagination_accuracy));
        }
        if b.auth_correct && !n.auth_correct {
            out.push(format!("{name}: auth now wrong ({})", n.drafted_auth));
        }
    }
    if let (Some(b), Some(n)) = (&b.negative, &n.negative)
        && b.parked
        && !n.parked
    {
        out.push(format!("{name}: no longer parks (drafted a connector from an API with no identity surface)"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{LiveScore, NegativeScore, TrapOutcome, TrapScore};

    fn scores(cases: Vec<CaseScore>) -> Scores {
        Scores { condition: "no-llm".into(), llm_note: String::new(), cases, totals: Default::default() }
    }

    fn live(name: &str, outcome: TrapOutcome, recall: f64) -> CaseScore {
        let mut l = LiveScore::default();
        l.traps.push(TrapScore { name: "pending rows".into(), outcome, flagged_by: None });
        l.entities.insert(
            "users".into(),
            crate::score::EntityScore { recall: Some(recall), precision: Some(1.0), ..Default::default() },
        );
        CaseScore {
            name: name.into(),
            kind: "live".into(),
            elapsed_ms: 0,
            live: Some(l),
            spec: None,
            negative: None,
            skipped: None,
        }
    }

    fn negative(parked: bool) -> CaseScore {
        CaseScore {
            name: "neg".into(),
            kind: "negative".into(),
            elapsed_ms: 0,
            live: None,
            spec: None,
            negative: Some(NegativeScore { parked }),
            skipped: None,
        }
    }

    #[test]
    fn a_trap_that_becomes_silently_missed_is_a_regression() {
        let base = scores(vec![live("a", TrapOutcome::Avoided, 1.0)]);
        let now = scores(vec![live("a", TrapOutcome::SilentlyMissed, 1.0)]);
        let r = regressions(&base, &now, None);
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(r[0].contains("avoided → silently missed"), "{r:?}");
    }

    #[test]
    fn lower_recall_and_a_negative_that_stops_parking_are_regressions_improvements_are_not() {
        let base = scores(vec![live("a", TrapOutcome::Flagged, 0.5), negative(true)]);
        let worse = scores(vec![live("a", TrapOutcome::Flagged, 0.4), negative(false)]);
        assert_eq!(regressions(&base, &worse, None).len(), 2);
        let better = scores(vec![live("a", TrapOutcome::Avoided, 1.0), negative(true)]);
        assert!(regressions(&base, &better, None).is_empty());
    }

    #[test]
    fn a_case_missing_from_a_full_run_is_a_regression_but_not_from_a_single_case_run() {
        let base = scores(vec![live("a", TrapOutcome::Avoided, 1.0), negative(true)]);
        let now = scores(vec![live("a", TrapOutcome::Avoided, 1.0)]);
        assert_eq!(regressions(&base, &now, None).len(), 1);
        assert!(regressions(&base, &now, Some("a")).is_empty());
    }
}
