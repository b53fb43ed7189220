//! `muster draft`: a connector from an API description.
//!
//! Without a model the draft is deterministic (OpenAPI / Swagger only). With `--llm openai|anthropic|ollama`
//! (or `MUSTER_LLM_PROVIDER`) a model drafts inside a repair loop: its connector must pass `muster check`
//! (and, with `--base-url` and the connector's `${VARS}` set, a bounded test read); diagnostics go back to
//! the model for up to `--max-repairs` rounds, each logged to stderr. If every round fails, the deterministic
//! draft is written instead (loudly); without one the command fails. `--docs FILE` drafts from prose
//! (Markdown, HTML or text) and needs a model.
//!
//! Environment: `MUSTER_LLM_PROVIDER`, `MUSTER_LLM_MODEL`, `MUSTER_LLM_BASE_URL`, `MUSTER_LLM_API_KEY` (or
//! `OPENAI_API_KEY` / `ANTHROPIC_API_KEY`), `MUSTER_LLM_TIMEOUT_S` (default 300).
//!
//! Exit codes: 0 drafted, 1 the draft does not pass `muster check` (a drafter bug; the file is still written)
//! or the model failed every round with no deterministic draft to fall back to, or the model could not be
//! reached, 2 bad input (unreadable or not an OpenAPI/Swagger document, bad `--base-url`, output exists,
//! `--docs` without a model, bad LLM settings), 5 parked: no identity surface (nothing written).

use crate::{EXIT_CONFIG, EXIT_FAILURE, EXIT_OK};
use clap::Args;
use muster_draft::prompt::Docs;
use muster_draft::repair::EnvLookup;
use muster_draft::{Confidence, DraftOptions, DraftOutcome, LlmClient, LlmConfig, LlmDraftInput, LlmOutcome};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Exit code of `muster draft` when the spec has no identity surface.
pub const EXIT_PARKED: i32 = 5;

#[derive(Args, Debug, Default)]
pub struct DraftArgs {
    /// The API description: OpenAPI 3.0 / 3.1 or Swagger 2.0, as JSON or YAML.
    #[arg(long, value_name = "SPEC", required_unless_present = "docs")]
    pub openapi: Option<PathBuf>,
    /// Prose API documentation (Markdown, HTML or text) to draft from; needs an LLM (`--llm`).
    #[arg(long, value_name = "FILE")]
    pub docs: Option<PathBuf>,
    /// Use this literal base URL instead of a `${APP_URL}` environment reference. With an LLM it also enables
    /// a bounded test read of each candidate (when the connector's `${VARS}` are set).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Write the connector here instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The application's name (default: the spec's `info.title`); also the prefix of the environment variables.
    #[arg(long, value_name = "NAME")]
    pub app_name: Option<String>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Draft with a model: `openai` (any OpenAI-compatible server: vLLM, llama.cpp, ...), `anthropic` or
    /// `ollama`. The API key comes only from `MUSTER_LLM_API_KEY` (or `OPENAI_API_KEY` / `ANTHROPIC_API_KEY`).
    #[arg(long, value_name = "PROVIDER", env = "MUSTER_LLM_PROVIDER")]
    pub llm: Option<String>,
    /// The model name (default per provider).
    #[arg(long, value_name = "MODEL", env = "MUSTER_LLM_MODEL")]
    pub llm_model: Option<String>,
    /// The model server's base URL, e.g. `http://127.0.0.1:8000` for a local vLLM (default per provider).
    #[arg(long, value_name = "URL", env = "MUSTER_LLM_BASE_URL")]
    pub llm_base_url: Option<String>,
    /// Repair rounds after the model's first answer.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub max_repairs: u32,
    /// Prompt budget in estimated tokens (characters / 4); the least relevant documentation is trimmed first.
    #[arg(long, value_name = "TOKENS", default_value_t = muster_draft::prompt::DEFAULT_BUDGET_TOKENS)]
    pub token_budget: usize,
    /// Save every prompt and response (round-numbered JSON files) in this directory.
    #[arg(long, value_name = "DIR")]
    pub trace: Option<PathBuf>,
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

pub fn draft(a: DraftArgs) -> anyhow::Result<i32> {
    draft_with(a, &process_env, None)
}

fn read_text(path: &Path, what: &str) -> Result<String, String> {
    let name = path.display();
    let bytes = std::fs::read(path).map_err(|e| {
        if path.is_dir() {
            format!("{name}: is a directory, not a {what} file")
        } else {
            format!("{name}: cannot read: {e}")
        }
    })?;
    String::from_utf8(bytes).map_err(|e| {
        format!("{name}: not UTF-8 text (invalid byte at offset {}); pass a {what} file", e.utf8_error().valid_up_to())
    })
}

/// `muster draft` with the environment and (for tests) the model injected.
pub fn draft_with(a: DraftArgs, env: &EnvLookup, client: Option<&dyn LlmClient>) -> anyhow::Result<i32> {
    if let Some(b) = &a.base_url
        && !(b.starts_with("http://") || b.starts_with("https://"))
    {
        eprintln!("error: --base-url `{b}` is not an absolute http(s) URL");
        return Ok(EXIT_CONFIG);
    }
    if let Some(o) = &a.output
        && o.exists()
        && !a.force
    {
        eprintln!("error: {} exists; pass --force to overwrite it", o.display());
        return Ok(EXIT_CONFIG);
    }
    let llm_cfg = match LlmConfig::resolve(a.llm.as_deref(), a.llm_model.as_deref(), a.llm_base_url.as_deref(), env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_CONFIG);
        }
    };
    let use_llm = llm_cfg.is_some() || client.is_some();
    if a.docs.is_some() && !use_llm {
        eprintln!(
            "error: --docs drafts from prose and needs a model: pass --llm openai|anthropic|ollama or set MUSTER_LLM_PROVIDER"
        );
        return Ok(EXIT_CONFIG);
    }
    let docs_text = match &a.docs {
        Some(p) => match read_text(p, "documentation") {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_CONFIG);
            }
        },
        None => None,
    };

    // The OpenAPI document and its deterministic draft.
    let mut doc = None;
    let mut det: Option<DraftOutcome> = None;
    let mut spec_name = String::new();
    if let Some(spec) = &a.openapi {
        spec_name = spec.display().to_string();
        let text = match read_text(spec, "OpenAPI JSON or YAML") {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_CONFIG);
            }
        };
        let d = match muster_draft::parse_spec_text(&text) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {spec_name}: {e}");
                return Ok(EXIT_CONFIG);
            }
        };
        let source_name =
            spec.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| spec_name.clone());
        let opts = DraftOptions { base_url: a.base_url.clone(), app_name: a.app_name.clone(), source_name };
        let out = muster_draft::draft_from_openapi(&d, &opts);
        if let DraftOutcome::Park(report) = &out
            && docs_text.is_none()
        {
            // The go/no-go stands with a model too: the model is not asked to invent an identity surface.
            eprintln!("{spec_name}: no connector written\n{report}");
            if use_llm {
                eprintln!("(the model was not asked: the OpenAPI document has no identity surface to draft from)");
            }
            return Ok(EXIT_PARKED);
        }
        det = Some(out);
        doc = Some(d);
    }

    if !use_llm {
        return match det {
            Some(out) => Ok(emit_deterministic(&a, &spec_name, out)),
            None => {
                eprintln!("error: nothing to draft from: pass --openapi SPEC (or --docs FILE with --llm)");
                Ok(EXIT_CONFIG)
            }
        };
    }

    let http;
    let client: &dyn LlmClient = match (client, llm_cfg) {
        (Some(c), _) => c,
        (None, Some(cfg)) => match muster_draft::HttpLlm::new(cfg) {
            Ok(h) => {
                http = h;
                &http
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_CONFIG);
            }
        },
        (None, None) => return Ok(EXIT_CONFIG),
    };
    let det_yaml = match &det {
        Some(DraftOutcome::Connector { yaml, check_errors, .. }) if check_errors.is_empty() => Some(yaml.clone()),
        _ => None,
    };
    let docs_name = a.docs.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    let mut secrets = Vec::new();
    for k in ["MUSTER_LLM_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"] {
        if let Some(v) = env(k) {
            secrets.push((k.to_string(), v));
        }
    }
    let input = LlmDraftInput {
        openapi: doc.as_ref(),
        docs: docs_text.as_deref().map(|text| Docs { name: &docs_name, text }),
        deterministic: det_yaml.as_deref(),
        app_name: a.app_name.as_deref(),
        base_url: a.base_url.as_deref(),
        budget_tokens: a.token_budget,
        max_repairs: a.max_repairs,
        trace_dir: a.trace.as_deref(),
        test_read: a.base_url.is_some(),
        extra_secrets: secrets,
    };
    eprintln!("llm: drafting with {}", client.describe());
    let mut log = |line: &str| eprintln!("llm: {line}");
    let outcome = match muster_draft::draft_with_llm(client, &input, env, &mut log) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_FAILURE);
        }
    };
    let from = [spec_name.as_str(), docs_name.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" + ");
    match outcome {
        LlmOutcome::Passed { yaml, rounds, warnings, test_read } => {
            let mut report = String::new();
            let repairs = rounds.len().saturating_sub(1);
            let _ = writeln!(
                report,
                "drafted from {from} by {} ({} round{}, {repairs} repair{}); passes `muster check`",
                client.describe(),
                rounds.len(),
                if rounds.len() == 1 { "" } else { "s" },
                if repairs == 1 { "" } else { "s" }
            );
            if let Some(t) = test_read {
                let _ = writeln!(report, "test read: {t}");
            }
            let vars = muster_draft::redact::env_refs(&yaml);
            if !vars.is_empty() {
                let _ = writeln!(report, "environment: {}", vars.join(", "));
            }
            if !warnings.is_empty() {
                let _ = write!(report, "{}", muster_diag::render_human(&warnings, &yaml));
            }
            let _ = writeln!(report, "review it: a model wrote this connector; run `muster test` before approving it");
            Ok(write_output(&a, &yaml, report))
        }
        LlmOutcome::FellBack { rounds, last_feedback, .. } => {
            eprintln!("llm: last diagnostics:\n{last_feedback}");
            eprintln!("==============================================================================");
            eprintln!(
                "WARNING: the model's connector failed all {} round(s); writing the DETERMINISTIC draft instead",
                rounds.len()
            );
            eprintln!("==============================================================================");
            match det {
                Some(out) => Ok(emit_deterministic(&a, &spec_name, out)),
                None => Ok(EXIT_FAILURE),
            }
        }
        LlmOutcome::Failed { rounds, last_feedback, .. } => {
            eprintln!("{last_feedback}");
            eprintln!(
                "error: the model's connector failed all {} round(s) and there is no deterministic draft to fall back to; nothing written{}",
                rounds.len(),
                a.trace.as_ref().map(|t| format!(" (see the trace in {})", t.display())).unwrap_or_default()
            );
            Ok(EXIT_FAILURE)
        }
    }
}

/// Write `yaml` to `-o` (report to stdout) or to stdout (report to stderr).
fn write_output(a: &DraftArgs, yaml: &str, mut report: String) -> i32 {
    match &a.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, yaml) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return EXIT_FAILURE;
            }
            let _ = writeln!(report, "wrote {}; next: muster check {}", path.display(), path.display());
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{report}");
        }
        None => {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{yaml}");
            let _ = out.flush();
            eprint!("{report}");
        }
    }
    EXIT_OK
}

fn emit_deterministic(a: &DraftArgs, name: &str, out: DraftOutcome) -> i32 {
    match out {
        DraftOutcome::Park(report) => {
            eprintln!("{name}: no connector written\n{report}");
            EXIT_PARKED
        }
        DraftOutcome::Connector { yaml, choices, env, summary, check_errors, check_warnings } => {
            let mut report = String::new();
            let _ = writeln!(report, "drafted from {name}:");
            for s in &summary {
                let _ = writeln!(report, "  {s}");
            }
            if !env.is_empty() {
                let _ = writeln!(report, "environment:");
                for e in &env {
                    let _ = writeln!(report, "  {}  {}", e.name, e.description);
                }
            }
            let low: Vec<_> = choices.iter().filter(|c| c.confidence == Confidence::Low).collect();
            if !low.is_empty() {
                let _ = writeln!(report, "review these {} low-confidence choices:", low.len());
                for c in low {
                    let _ = writeln!(
                        report,
                        "  - {}: {}{}",
                        c.what,
                        c.why,
                        if c.provenance == "-" { String::new() } else { format!(" [{}]", c.provenance) }
                    );
                }
            }
            for w in &check_warnings {
                let _ = writeln!(report, "check warning: {w}");
            }
            for e in &check_errors {
                let _ = writeln!(report, "check error: {e}");
            }
            let code = write_output(a, &yaml, report);
            if code != EXIT_OK {
                return code;
            }
            if check_errors.is_empty() {
                EXIT_OK
            } else {
                eprintln!(
                    "error: the draft does not pass `muster check` (a bug in `muster draft`; please report it with the spec)"
                );
                EXIT_FAILURE
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "Cli-S3cret-Value-90210";

    fn env(name: &str) -> Option<String> {
        match name {
            "ACME_PASSWORD" | "APP_PASSWORD" | "ACME_TOKEN" => Some(SECRET.to_string()),
            "MUSTER_LLM_API_KEY" => Some("cli-test-key-abcdef0123456789".to_string()),
            _ => None,
        }
    }

    fn demo_spec(dir: &Path) -> PathBuf {
        let p = dir.join("demo-openapi.json");
        std::fs::write(&p, serde_json::to_string(&muster_testkit::demo_openapi()).unwrap_or_default())
            .expect("write spec");
        p
    }

    #[test]
    fn llm_draft_is_repaired_and_written_with_a_trace() {
        let good = muster_draft::prompt::WORKED_EXAMPLE.to_string();
        let broken = good.replacen("version: 1", "version: 1\nconnector_name: acme", 1);
        let server =
            muster_testkit::serve_scripted_llm(vec![format!("```yaml\n{broken}```"), format!("```yaml\n{good}```")])
                .expect("server");
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("connector.yaml");
        let trace = dir.path().join("trace");
        let args = DraftArgs {
            openapi: Some(demo_spec(dir.path())),
            output: Some(out.clone()),
            llm: Some("openai".into()),
            llm_base_url: Some(server.base_url()),
            max_repairs: 3,
            token_budget: 24_000,
            trace: Some(trace.clone()),
            ..Default::default()
        };
        let code = draft_with(args, &env, None).expect("runs");
        assert_eq!(code, EXIT_OK);
        assert_eq!(std::fs::read_to_string(&out).expect("written"), good);
        assert!(trace.join("round-1-response.json").exists());
        let reqs = server.requests();
        assert_eq!(reqs.len(), 2);
        assert!(reqs[1].body.contains("M0101"));
        for r in &reqs {
            assert!(!r.body.contains(SECRET) && !r.body.contains("cli-test-key-abcdef0123456789"));
        }
        assert_eq!(reqs[0].header("authorization"), Some("Bearer cli-test-key-abcdef0123456789"));
    }

    #[test]
    fn failing_model_falls_back_to_the_deterministic_draft() {
        let broken = "```yaml\nversion: 1\nbogus: true\n```".to_string();
        let server = muster_testkit::serve_scripted_llm(vec![broken; 2]).expect("server");
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("connector.yaml");
        let args = DraftArgs {
            openapi: Some(demo_spec(dir.path())),
            output: Some(out.clone()),
            llm: Some("openai".into()),
            llm_base_url: Some(server.base_url()),
            max_repairs: 1,
            token_budget: 24_000,
            ..Default::default()
        };
        assert_eq!(draft_with(args, &env, None).expect("runs"), EXIT_OK);
        let written = std::fs::read_to_string(&out).expect("written");
        assert!(!muster_spec::check(&written, "x.yaml").has_errors());
        assert!(!written.contains("bogus"));
    }

    #[test]
    fn docs_without_a_model_is_a_usage_error_and_failed_prose_drafts_exit_1() {
        let dir = tempfile::tempdir().expect("tempdir");
        let docs = dir.path().join("api.md");
        std::fs::write(&docs, "# Users\n\nGET /users\n").expect("write");
        let args = DraftArgs { docs: Some(docs.clone()), token_budget: 24_000, ..Default::default() };
        assert_eq!(draft_with(args, &|_: &str| None, None).expect("runs"), EXIT_CONFIG);

        let server = muster_testkit::serve_scripted_llm(vec!["no yaml here".to_string(); 2]).expect("server");
        let out = dir.path().join("c.yaml");
        let args = DraftArgs {
            docs: Some(docs),
            output: Some(out.clone()),
            llm: Some("ollama".into()),
            llm_base_url: Some(server.base_url()),
            max_repairs: 1,
            token_budget: 24_000,
            ..Default::default()
        };
        assert_eq!(draft_with(args, &env, None).expect("runs"), EXIT_FAILURE);
        assert!(!out.exists(), "nothing is written when every round fails without a fallback");
    }

    #[test]
    fn flags_parse() {
        use clap::Parser as _;
        let cli = crate::Cli::try_parse_from([
            "muster",
            "draft",
            "--docs",
            "api.html",
            "--llm",
            "anthropic",
            "--llm-model",
            "m",
            "--llm-base-url",
            "http://127.0.0.1:1",
            "--max-repairs",
            "5",
            "--token-budget",
            "9000",
            "--trace",
            "t",
        ])
        .expect("parses");
        let crate::Command::Draft(a) = cli.command else { panic!("not draft") };
        assert_eq!(a.llm.as_deref(), Some("anthropic"));
        assert_eq!((a.max_repairs, a.token_budget), (5, 9000));
        assert!(a.openapi.is_none());
        assert!(crate::Cli::try_parse_from(["muster", "draft"]).is_err(), "--openapi or --docs is required");
    }
}
