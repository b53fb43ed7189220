//! The repair loop: ask the model for a connector, check it (`muster check`, errors only; with a base URL
//! also a bounded test read), and send the diagnostics back — up to `max_repairs` times.
//!
//! Every outgoing message is redacted first ([`crate::redact`]): only `${VAR}` names reach a model.

use crate::llm::{LlmClient, LlmError, Message};
use crate::prompt::{self, Docs, PromptInput};
use crate::redact::{Redactions, Redactor, env_refs};
use muster_diag::Diagnostic;
use serde_json::json;
use std::path::{Path, PathBuf};

/// Looks up environment variables; `Send + Sync` so a test read can use it.
pub type EnvLookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// What to draft from, and how hard to try.
#[derive(Debug, Clone, Default)]
pub struct LlmDraftInput<'a> {
    pub openapi: Option<&'a serde_json::Value>,
    pub docs: Option<Docs<'a>>,
    /// The deterministic draft: part of the prompt, and the fallback when every round fails.
    pub deterministic: Option<&'a str>,
    pub app_name: Option<&'a str>,
    /// A literal base URL: the connector must use it, and it enables the bounded test read.
    pub base_url: Option<&'a str>,
    /// Estimated-token budget of the prompt (0 = default).
    pub budget_tokens: usize,
    /// Repair rounds after the first answer.
    pub max_repairs: u32,
    /// Save every prompt and response here (`round-N-request.json`, `round-N-response.json`).
    pub trace_dir: Option<&'a Path>,
    /// Run a bounded test read (20 records per type) when `base_url` is set and the connector's `${VARS}`
    /// are all in the environment.
    pub test_read: bool,
    /// Known secret values that must never be sent (e.g. the LLM API key), as (name, value).
    pub extra_secrets: Vec<(String, String)>,
}

/// One round, as logged.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoundLog {
    /// 0 is the first answer; 1.. are repairs.
    pub round: u32,
    pub errors: usize,
    pub warnings: usize,
    /// Error codes, in file order (`M0101`, ...; `SYNC` for a failed test read).
    pub codes: Vec<String>,
    /// The test read's result, when one ran.
    pub test_read: Option<String>,
}

/// How the loop ended.
#[derive(Debug, Clone)]
pub enum LlmOutcome {
    /// The model's connector passes `muster check` (and the test read, when one ran).
    Passed { yaml: String, rounds: Vec<RoundLog>, warnings: Vec<Diagnostic>, test_read: Option<String> },
    /// Every round failed; this is the deterministic draft.
    FellBack { yaml: String, rounds: Vec<RoundLog>, last_feedback: String },
    /// Every round failed and there is no deterministic draft.
    Failed { last_yaml: String, rounds: Vec<RoundLog>, last_feedback: String },
}

/// Why the loop could not run.
#[derive(Debug, thiserror::Error)]
pub enum LlmDraftError {
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error("cannot write the trace to {path}: {message}")]
    Trace { path: String, message: String },
    #[error("nothing to draft from: give an OpenAPI document or prose documentation")]
    NoInput,
}

/// The name diagnostics use for the model's connector.
pub const CANDIDATE_FILE: &str = "candidate.yaml";

/// Run the loop. `log` gets one line per event (round results, redactions, test reads, fallback).
pub fn draft_with_llm(
    client: &dyn LlmClient,
    input: &LlmDraftInput<'_>,
    env: &EnvLookup,
    log: &mut dyn FnMut(&str),
) -> Result<LlmOutcome, LlmDraftError> {
    if input.openapi.is_none() && input.docs.is_none() {
        return Err(LlmDraftError::NoInput);
    }
    if let Some(dir) = input.trace_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| LlmDraftError::Trace { path: dir.display().to_string(), message: e.to_string() })?;
    }
    let p = prompt::build_prompt(&PromptInput {
        openapi: input.openapi,
        docs: input.docs,
        deterministic: input.deterministic,
        app_name: input.app_name,
        base_url: input.base_url,
        budget_tokens: input.budget_tokens,
    });
    log(&format!(
        "prompt: ~{} tokens, {} part(s) of the documentation included{}",
        p.estimated_tokens,
        p.included.len(),
        if p.trimmed.is_empty() { String::new() } else { format!(", {} trimmed to fit the budget", p.trimmed.len()) }
    ));

    // Secrets: values of every variable the inputs reference, plus the caller's (the API key).
    let mut texts: Vec<&str> = vec![prompt::WORKED_EXAMPLE];
    if let Some(d) = input.deterministic {
        texts.push(d);
    }
    if let Some(d) = input.docs {
        texts.push(d.text);
    }
    let mut redactor = Redactor::for_texts(texts, &|n| secret_value(n, env), input.extra_secrets.clone());

    let system = Message::system(p.system);
    let first = Message::user(p.user);
    let mut convo: Vec<Message> = vec![system, first];
    let mut rounds: Vec<RoundLog> = Vec::new();
    let mut last_yaml = String::new();
    let mut last_feedback = String::new();
    let mut test_read_skip_logged = false;

    for round in 0..=input.max_repairs {
        // redact every message right before it leaves
        let mut total = Redactions::default();
        let outgoing: Vec<Message> = convo
            .iter()
            .map(|m| {
                let (c, r) = redactor.redact(&m.content);
                total.merge(&r);
                Message { role: m.role, content: c }
            })
            .collect();
        if total.total() > 0 {
            log(&format!("round {round}: redacted from the prompt: {total}"));
        }
        trace(
            input.trace_dir,
            round,
            "request",
            &json!({ "round": round, "client": client.describe(), "messages": outgoing }),
        )?;
        let answer = client.complete(&outgoing)?;
        let yaml = prompt::extract_yaml(&answer);
        // variables the answer references are secrets too from now on
        redactor.extend(env_refs(&yaml).into_iter().filter_map(|n| secret_value(&n, env).map(|v| (n, v))));

        let checked = muster_spec::check(&yaml, CANDIDATE_FILE);
        let errors: Vec<&Diagnostic> = checked.diagnostics.iter().filter(|d| d.is_error()).collect();
        let warnings: Vec<Diagnostic> = checked.diagnostics.iter().filter(|d| !d.is_error()).cloned().collect();
        let mut entry = RoundLog {
            round,
            errors: errors.len(),
            warnings: warnings.len(),
            codes: errors.iter().map(|d| d.code.to_string()).collect(),
            test_read: None,
        };
        let mut feedback = None;
        if !errors.is_empty() {
            let errs: Vec<Diagnostic> = errors.iter().map(|d| (*d).clone()).collect();
            let mut codes = entry.codes.clone();
            codes.dedup();
            feedback = Some(format!(
                "Your connector does not pass `muster check`: {} error(s) ({}). Diagnostics:\n\n{}\n\
                 Fix every error. Return the complete corrected connector as one YAML document in a ```yaml fenced block.",
                errs.len(),
                codes.join(", "),
                muster_diag::render_human(&errs, &yaml)
            ));
        } else if let Some(c) = &checked.connector
            && input.test_read
            && let Some(base) = input.base_url
        {
            let missing: Vec<String> = env_refs(&yaml).into_iter().filter(|n| env(n).is_none()).collect();
            if missing.is_empty() {
                match test_read(c, &yaml, env) {
                    Ok(summary) => entry.test_read = Some(format!("ok: {summary}")),
                    Err(e) => {
                        entry.test_read = Some(format!("failed: {e}"));
                        entry.codes.push("SYNC".into());
                        feedback = Some(format!(
                            "Your connector passes `muster check`, but a bounded test read (20 records per type) against {base} failed:\n\n{e}\n\n\
                             Fix the connector so it reads the API as documented. Return the complete corrected connector as one YAML document in a ```yaml fenced block."
                        ));
                    }
                }
            } else if !test_read_skip_logged {
                test_read_skip_logged = true;
                log(&format!("test read skipped: {} not set in the environment", missing.join(", ")));
            }
        }
        log(&format!(
            "round {round}: {} error(s){}{}{}",
            entry.errors,
            if entry.codes.is_empty() { String::new() } else { format!(" [{}]", entry.codes.join(", ")) },
            if entry.warnings > 0 { format!(", {} warning(s)", entry.warnings) } else { String::new() },
            entry.test_read.as_ref().map(|t| format!(", test read {t}")).unwrap_or_default()
        ));
        let (clean_answer, _) = redactor.redact(&answer);
        trace(
            input.trace_dir,
            round,
            "response",
            &json!({
                "round": round,
                "answer": clean_answer,
                "yaml": redactor.redact(&yaml).0,
                "errors": entry.errors,
                "warnings": entry.warnings,
                "codes": entry.codes,
                "test_read": entry.test_read,
                "feedback": feedback.as_ref().map(|f| redactor.redact(f).0),
            }),
        )?;
        rounds.push(entry);
        match feedback {
            None => {
                let test_read = rounds.last().and_then(|r| r.test_read.clone());
                return Ok(LlmOutcome::Passed { yaml, rounds, warnings, test_read });
            }
            Some(f) => {
                // keep the conversation bounded: the task, the last answer and its diagnostics
                convo.truncate(2);
                convo.push(Message::assistant(answer));
                convo.push(Message::user(f.clone()));
                last_feedback = f;
                last_yaml = yaml;
            }
        }
    }
    match input.deterministic {
        Some(d) => {
            log(&format!(
                "WARNING: the model's connector still failed after {} repair round(s); falling back to the deterministic draft",
                input.max_repairs
            ));
            Ok(LlmOutcome::FellBack { yaml: d.to_string(), rounds, last_feedback })
        }
        None => Ok(LlmOutcome::Failed { last_yaml, rounds, last_feedback }),
    }
}

/// The value of `name` if it may be a secret (URL-like variables are not, unless they carry credentials).
fn secret_value(name: &str, env: &EnvLookup) -> Option<String> {
    let v = env(name)?;
    let url_like = ["_URL", "_HOST", "_BASE", "_DOMAIN", "_ENDPOINT"].iter().any(|s| name.ends_with(s));
    if url_like && !v.contains('@') { None } else { Some(v) }
}

fn trace(dir: Option<&Path>, round: u32, kind: &str, v: &serde_json::Value) -> Result<(), LlmDraftError> {
    let Some(dir) = dir else { return Ok(()) };
    let path: PathBuf = dir.join(format!("round-{round}-{kind}.json"));
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    std::fs::write(&path, text)
        .map_err(|e| LlmDraftError::Trace { path: path.display().to_string(), message: e.to_string() })
}

/// A bounded test read: up to 20 records per resource type into an in-memory store.
pub fn test_read(c: &muster_spec::CompiledConnector, yaml: &str, env: &EnvLookup) -> Result<String, String> {
    // the engine wants a 'static lookup: copy the variables the connector references
    let vars: std::collections::BTreeMap<String, String> =
        env_refs(yaml).into_iter().filter_map(|n| env(&n).map(|v| (n, v))).collect();
    let mut store = muster_store::Store::open_in_memory().map_err(|e| format!("cannot open a scratch store: {e}"))?;
    let ts = "1970-01-01T00:00:00Z";
    let mut writer =
        store.begin_sync(&c.name, &c.spec_hash, ts).map_err(|e| format!("cannot start a scratch sync: {e}"))?;
    let opts = muster_engine::sync::SyncOptions { limit_per_type: Some(20), ..Default::default() };
    let env_fn = move |n: &str| vars.get(n).cloned();
    let report = muster_engine::sync::run(c, &env_fn, &mut writer, &opts, &muster_engine::sync::Silent);
    match report {
        Ok(r) => {
            let _ = writer.finish(ts);
            let parts: Vec<String> = r
                .resource_types
                .iter()
                .chain(r.grants.iter())
                .map(|l| format!("{} {}{}", l.label, l.records, if l.truncated { "+" } else { "" }))
                .collect();
            Ok(format!("{} records in {} requests ({})", r.records(), r.requests, parts.join(", ")))
        }
        Err(e) => {
            let _ = writer.fail(ts, &e.to_string());
            Err(e.to_string())
        }
    }
}
