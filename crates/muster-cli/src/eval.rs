//! `muster eval`: the scored evaluation of drafting and verification (issue 9).
//!
//! Exit codes: 0 no regression against `evals/baseline.json`, 1 a regression (or a failure to run),
//! 2 bad arguments or unreadable files.

use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Run only this case (a folder name under evals/cases).
    #[arg(long, value_name = "NAME")]
    pub case: Option<String>,
    /// Print the scores as JSON instead of the summary table.
    #[arg(long)]
    pub json: bool,
    /// Recompute the scores of a recorded run (e.g. evals/results/latest.json) instead of running the suite.
    #[arg(long, value_name = "FILE")]
    pub rescore: Option<PathBuf>,
    /// Also run the LLM condition with this model setting (reported side by side with no-LLM when a model
    /// is configured; otherwise the report says it was not run).
    #[arg(long, value_name = "MODEL")]
    pub llm: Vec<String>,
    /// Write these scores to evals/baseline.json (after an improvement; commit it with the change).
    #[arg(long)]
    pub update_baseline: bool,
    /// The evals directory.
    #[arg(long, value_name = "DIR", default_value = "evals")]
    pub evals: PathBuf,
    /// The repository root (spec-only cases name their specs relative to it). Default: the evals
    /// directory's parent.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

const EXIT_OK: i32 = 0;
const EXIT_FAILURE: i32 = 1;
const EXIT_CONFIG: i32 = 2;

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn eval(a: EvalArgs) -> anyhow::Result<i32> {
    let record: muster_eval::RunRecord = match &a.rescore {
        Some(file) => match read_json(file) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_CONFIG);
            }
        },
        None => {
            let cases = match muster_eval::load_cases(&a.evals) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(EXIT_CONFIG);
                }
            };
            if let Some(n) = &a.case
                && !cases.iter().any(|c| &c.name == n)
            {
                let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
                eprintln!("error: no case `{n}`; cases: {}", names.join(", "));
                return Ok(EXIT_CONFIG);
            }
            let root = a.root.clone().unwrap_or_else(|| {
                let abs = std::fs::canonicalize(&a.evals).unwrap_or_else(|_| a.evals.clone());
                abs.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
            });
            let opts = muster_eval::RunOptions { case: a.case.clone(), llm: a.llm.clone(), repo_root: root };
            let record = muster_eval::run_suite(&cases, &opts);
            let out = a.evals.join("results").join("latest.json");
            if let Some(dir) = out.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&out, muster_eval::to_pretty(&record)?)?;
            eprintln!("recorded {}", out.display());
            record
        }
    };
    let scores = muster_eval::score_run(&record);
    if a.json {
        println!("{}", muster_eval::to_pretty(&scores)?);
    } else {
        print!("{}", muster_eval::report::table(&scores));
    }
    let baseline_path = a.evals.join("baseline.json");
    if a.update_baseline {
        if a.case.is_some() || a.rescore.is_some() {
            eprintln!("error: --update-baseline needs a full run (no --case, no --rescore)");
            return Ok(EXIT_CONFIG);
        }
        std::fs::write(&baseline_path, muster_eval::to_pretty(&scores.for_baseline())?)?;
        eprintln!("wrote {}", baseline_path.display());
        return Ok(EXIT_OK);
    }
    let baseline: muster_eval::Scores = match read_json(&baseline_path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("note: no baseline to compare with ({e})");
            return Ok(EXIT_OK);
        }
    };
    let regressions = muster_eval::baseline::regressions(&baseline, &scores, a.case.as_deref());
    if regressions.is_empty() {
        eprintln!("no regression against {}", baseline_path.display());
        Ok(EXIT_OK)
    } else {
        eprintln!("{} regression(s) against {}:", regressions.len(), baseline_path.display());
        for r in &regressions {
            eprintln!("  - {r}");
        }
        Ok(EXIT_FAILURE)
    }
}
