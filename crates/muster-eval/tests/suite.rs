//! The no-LLM eval suite as a CI test: it runs every case, records `evals/results/latest.json`, checks that
//! rescoring the record gives the same numbers, and fails on any regression below `evals/baseline.json`.
//!
//! * `MUSTER_EVAL_UPDATE_BASELINE=1 cargo test -p muster-eval` writes the baseline from this run (after an
//!   improvement; commit it with the change).
//! * `MUSTER_EVAL_REGENERATE=1 cargo test -p muster-eval` rewrites the live cases' generated `api.json` and
//!   `truth.json`.

#[path = "../../muster-cli/src/eval.rs"]
mod eval;

use muster_eval::{baseline, default_evals_dir, generated_files, load_cases, run_suite, score_run};

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

#[test]
fn generated_case_files_are_current() {
    let dir = default_evals_dir();
    if flag("MUSTER_EVAL_REGENERATE") {
        let changed = muster_eval::regenerate(&dir).expect("regenerate");
        println!("regenerated {} file(s)", changed.len());
    }
    let mut stale = Vec::new();
    let mut live = 0;
    for c in load_cases(&dir).expect("cases") {
        for (file, want) in generated_files(&c.def) {
            live += 1;
            let have = std::fs::read_to_string(c.dir.join(file)).unwrap_or_default();
            if have != want {
                stale.push(format!("{}/{file}", c.name));
            }
        }
    }
    assert!(live >= 24, "at least 12 live cases, each with api.json and truth.json");
    assert!(stale.is_empty(), "stale generated files (run with MUSTER_EVAL_REGENERATE=1): {stale:?}");
}

#[test]
fn case_inventory_meets_the_issue() {
    let cases = load_cases(&default_evals_dir()).expect("cases");
    let count = |k: &str| cases.iter().filter(|c| c.def.kind() == k).count();
    assert!(count("live") >= 12, "live cases: {}", count("live"));
    assert!(count("negative") >= 3, "negative cases: {}", count("negative"));
    assert!(count("spec") >= 6, "spec-only cases: {}", count("spec"));
}

#[test]
fn suite_does_not_regress_below_the_baseline() {
    let dir = default_evals_dir();
    let cases = load_cases(&dir).expect("cases");
    let root = dir.join("..");
    let record = run_suite(&cases, &muster_eval::RunOptions { repo_root: root, ..Default::default() });
    let scores = score_run(&record);
    print!("{}", muster_eval::report::table(&scores));

    // Scoring is a pure function of the record: a JSON round trip rescores to the same numbers.
    let text = muster_eval::to_pretty(&record).expect("serialize");
    let again: muster_eval::RunRecord = serde_json::from_str(&text).expect("read back");
    assert_eq!(score_run(&again), scores, "rescoring the recorded run changed the numbers");
    let results = dir.join("results");
    let _ = std::fs::create_dir_all(&results);
    let latest = results.join("latest.json");
    std::fs::write(&latest, &text).expect("write latest.json");
    let from_disk: muster_eval::RunRecord =
        serde_json::from_str(&std::fs::read_to_string(&latest).expect("read latest.json")).expect("parse latest.json");
    assert_eq!(score_run(&from_disk), scores, "rescoring evals/results/latest.json changed the numbers");

    let baseline_path = dir.join("baseline.json");
    if flag("MUSTER_EVAL_UPDATE_BASELINE") {
        std::fs::write(&baseline_path, muster_eval::to_pretty(&scores.for_baseline()).expect("serialize"))
            .expect("write baseline");
        println!("wrote {}", baseline_path.display());
        return;
    }
    let base_text = std::fs::read_to_string(&baseline_path)
        .expect("evals/baseline.json (generate it with MUSTER_EVAL_UPDATE_BASELINE=1)");
    let base: muster_eval::Scores = serde_json::from_str(&base_text).expect("baseline.json");
    let regressions = baseline::regressions(&base, &scores, None);
    assert!(regressions.is_empty(), "regressions below evals/baseline.json:\n  {}", regressions.join("\n  "));

    // `muster eval --rescore evals/results/latest.json` recomputes the same scores: no regression either.
    let args = eval::EvalArgs {
        case: None,
        json: true,
        rescore: Some(latest),
        llm: Vec::new(),
        update_baseline: false,
        evals: dir.clone(),
        root: None,
    };
    assert_eq!(eval::eval(args).expect("muster eval --rescore"), 0, "muster eval --rescore reports a regression");
}
