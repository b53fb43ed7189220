//! # muster-eval
//!
//! `muster eval`: a deterministic, scored evaluation of drafting and verification (issue 9). No model
//! judges a model: every score is computed from recorded facts.
//!
//! * **Live cases** (`evals/cases/<name>/`, `kind: live`): a testkit API is started in-process; its
//!   description (`api.json`) is drafted, the draft is checked, tested (`muster test`) and synced; the
//!   synced records are scored against `truth.json` — precision and recall per entity type (users,
//!   groups, memberships, roles, tokens), exact parity, first-pass success, and every labelled trap as
//!   *avoided* (the draft handled it), *flagged* (`muster test` reported it with the right check) or
//!   *silently missed* (the worst outcome).
//! * **Spec-only cases** (`kind: spec`): a real spec and a `labels.json` written by reading it; the draft
//!   is scored on recall of the labelled operations, pagination accuracy and auth.
//! * **Negative cases** (`kind: negative`): APIs with no identity surface; the drafter should park.
//!
//! [`run::run_suite`] records a [`run::RunRecord`] (`evals/results/latest.json`); [`score::score_run`] is a
//! pure function of it; [`baseline::regressions`] compares scores with `evals/baseline.json`.
//!
//! Harness limits (not edits to the draft): the drafted client-side rate limit is lifted (local servers
//! need none) and listings stop at [`run::EVAL_MAX_PAGES`] pages.

pub mod baseline;
pub mod case;
pub mod report;
pub mod run;
pub mod scenarios;
pub mod score;

use std::path::{Path, PathBuf};

pub use case::{Case, CaseDef, load_cases};
pub use run::{RunOptions, RunRecord, run_suite};
pub use score::{Scores, score_run};

/// `evals/` of this repository (from the crate's location).
pub fn default_evals_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../evals")
}

/// The generated files of a live case, `(file name, content)`: `api.json` and `truth.json`.
pub fn generated_files(def: &CaseDef) -> Vec<(&'static str, String)> {
    let CaseDef::Live { server, .. } = def else { return Vec::new() };
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).map(|s| s + "\n").unwrap_or_default();
    let truth = serde_json::to_value(scenarios::truth(server)).unwrap_or(serde_json::Value::Null);
    vec![("api.json", pretty(&scenarios::api_doc(server))), ("truth.json", pretty(&truth))]
}

/// Write every live case's generated files. Returns the files that changed.
pub fn regenerate(evals_dir: &Path) -> Result<Vec<PathBuf>, case::CaseError> {
    let mut changed = Vec::new();
    for c in load_cases(evals_dir)? {
        for (file, content) in generated_files(&c.def) {
            let path = c.dir.join(file);
            if std::fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
                std::fs::write(&path, content).map_err(|e| case::CaseError::Io(path.display().to_string(), e))?;
                changed.push(path);
            }
        }
    }
    Ok(changed)
}

/// Serialize a value as pretty JSON with a trailing newline.
pub fn to_pretty<T: serde::Serialize>(v: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(v).map(|s| s + "\n")
}
