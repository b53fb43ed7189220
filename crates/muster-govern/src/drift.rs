//! The drift guard: a sync that would silently drop a large share of the current snapshot is held.

use muster_spec::compile::DriftC;
use muster_store::Counts;
use serde::Serialize;

/// One reason to hold a sync.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftIssue {
    /// A resource type id, or `grants`.
    pub what: String,
    pub before: u64,
    pub after: u64,
    /// The allowed drop, as a fraction.
    pub threshold: f64,
    pub message: String,
}

/// Compare the new sync's counts with the current snapshot's.
pub fn evaluate(current: &Counts, new: &Counts, guard: &DriftC) -> Vec<DriftIssue> {
    if !guard.enabled {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut check = |what: &str, before: u64, after: u64, threshold: f64| {
        if before == 0 || after >= before {
            return;
        }
        let lost = before - after;
        let share = lost as f64 / before as f64;
        if after == 0 {
            out.push(DriftIssue {
                what: what.into(),
                before,
                after,
                threshold,
                message: format!("{what}: would become empty (all {before} would be removed)"),
            });
        } else if share > threshold {
            out.push(DriftIssue {
                what: what.into(),
                before,
                after,
                threshold,
                message: format!(
                    "{what}: {lost} of {before} ({:.0}%) would be removed; the limit is {:.0}%",
                    share * 100.0,
                    threshold * 100.0
                ),
            });
        }
    };
    for (t, before) in &current.by_type {
        let after = new.by_type.get(t).copied().unwrap_or(0);
        check(t, *before, after, guard.for_type(t));
    }
    check("grants", current.grants, new.grants, guard.max_grant_drop);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn counts(users: u64, grants: u64) -> Counts {
        Counts {
            resources: users,
            grants,
            by_type: BTreeMap::from([("user".to_string(), users)]),
            ..Default::default()
        }
    }

    #[test]
    fn holds_large_drops_and_empty_types() {
        let g = DriftC { enabled: true, max_drop: 0.10, max_grant_drop: 0.10, per_type: vec![] };
        assert!(evaluate(&counts(100, 50), &counts(95, 48), &g).is_empty());
        let d = evaluate(&counts(100, 50), &counts(70, 50), &g);
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("30 of 100 (30%)"));
        assert_eq!(evaluate(&counts(100, 50), &counts(0, 0), &g).len(), 2);
        let off = DriftC { enabled: false, ..g.clone() };
        assert!(evaluate(&counts(100, 50), &counts(0, 0), &off).is_empty());
        let per = DriftC { per_type: vec![("user".into(), 0.5)], ..g };
        assert!(evaluate(&counts(100, 50), &counts(70, 50), &per).is_empty());
    }
}
