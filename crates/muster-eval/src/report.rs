//! The terminal summary table.

use crate::score::{ENTITIES, Scores, TrapOutcome};
use std::fmt::Write as _;

fn pct(x: Option<f64>) -> String {
    match x {
        Some(v) => format!("{:.0}", v * 100.0),
        None => "-".into(),
    }
}

/// The summary: one row per case, then totals and notes.
pub fn table(s: &Scores) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "muster eval — condition: {}", s.condition);
    let _ = writeln!(o);
    let _ = writeln!(o, "LIVE (precision/recall % per entity; traps A=avoided F=flagged M=silently missed)");
    let _ = writeln!(
        o,
        "{:<28} {:>5} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6} {:>6} {:>8}",
        "case", "1st", "trust", "users", "groups", "members", "roles", "tokens", "parity", "A/F/M", "ms"
    );
    for c in &s.cases {
        let Some(l) = &c.live else { continue };
        let mut cols = Vec::new();
        for k in ENTITIES {
            let e = l.entities.get(k).cloned().unwrap_or_default();
            cols.push(if e.expected == 0 && e.synced == 0 {
                "-".to_string()
            } else {
                format!("{}/{}", pct(e.precision), pct(e.recall))
            });
        }
        let count = |o: TrapOutcome| l.traps.iter().filter(|t| t.outcome == o).count();
        let _ = writeln!(
            o,
            "{:<28} {:>5} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6} {:>6} {:>8}",
            c.name,
            if l.first_pass { "yes" } else { "no" },
            l.trust_score,
            cols[0],
            cols[1],
            cols[2],
            cols[3],
            cols[4],
            if l.exact_parity { "EXACT" } else { "no" },
            format!(
                "{}/{}/{}",
                count(TrapOutcome::Avoided),
                count(TrapOutcome::Flagged),
                count(TrapOutcome::SilentlyMissed)
            ),
            c.elapsed_ms
        );
        for t in l.traps.iter().filter(|t| t.outcome != TrapOutcome::Avoided) {
            let by = t.flagged_by.as_ref().map(|b| format!(" by `{b}`")).unwrap_or_default();
            let _ = writeln!(o, "    trap {:<34} {}{by}", t.name, t.outcome.as_str());
        }
        for n in l.notes.iter().take(4) {
            let short: String = n.chars().take(150).collect();
            let _ = writeln!(o, "    {short}");
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "SPEC-ONLY (recall of labelled operations, pagination accuracy, auth)");
    let _ = writeln!(o, "{:<28} {:>8} {:>10} {:>26} {:>8}", "case", "recall", "pagination", "auth", "ms");
    for c in &s.cases {
        let Some(sp) = &c.spec else { continue };
        let _ = writeln!(
            o,
            "{:<28} {:>8} {:>10} {:>26} {:>8}",
            c.name,
            format!("{}/{}", sp.found, sp.labelled),
            format!("{:.0}%", sp.pagination_accuracy * 100.0),
            format!("{} {}", sp.drafted_auth, if sp.auth_correct { "ok" } else { "WRONG" }),
            c.elapsed_ms
        );
        for m in &sp.missed {
            let _ = writeln!(o, "    missed {m}");
        }
        for m in &sp.wrong_pagination {
            let _ = writeln!(o, "    pagination {m}");
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "NEGATIVE (no identity surface: should park)");
    for c in &s.cases {
        let Some(n) = &c.negative else { continue };
        let _ = writeln!(o, "{:<28} {:>8} {:>8}", c.name, if n.parked { "parked" } else { "DRAFTED" }, c.elapsed_ms);
    }
    for c in s.cases.iter().filter(|c| c.skipped.is_some()) {
        let _ = writeln!(o, "{:<28} skipped: {}", c.name, c.skipped.clone().unwrap_or_default());
    }
    let t = &s.totals;
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "totals: {} live cases, {} at exact parity, {} first-pass; traps {}: {} avoided, {} flagged, {} SILENTLY MISSED; spec-only mean recall {:.0}% over {} specs; negative {}/{} parked{}",
        t.live_cases,
        t.live_exact_parity,
        t.live_first_pass,
        t.traps,
        t.traps_avoided,
        t.traps_flagged,
        t.traps_silently_missed,
        t.spec_mean_recall * 100.0,
        t.spec_cases,
        t.negative_parked,
        t.negative_cases,
        if t.skipped > 0 { format!("; {} skipped", t.skipped) } else { String::new() }
    );
    let _ = writeln!(o, "LLM condition: {}", s.llm_note);
    o
}
