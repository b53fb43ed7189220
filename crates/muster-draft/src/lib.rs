//! # muster-draft
//!
//! Drafts a Muster connector (schema v1) from an API description: OpenAPI 3.0 / 3.1 or Swagger 2.0, JSON or
//! YAML. The deterministic drafter ([`draft_from_openapi`]) needs no model:
//!
//! 1. it finds the **identity surface** — listings of users / accounts, service accounts, groups / teams /
//!    orgs, roles, apps / clients and API tokens / keys, and membership or assignment listings
//!    (`/groups/{id}/members`, `/roles/{id}/users`, `/usergroups.users.list?usergroup=`);
//! 2. for each listing it infers where the rows are (`items`), how to page, and how each row maps to a
//!    resource (id, name, email, login, status, last login, MFA, account type, secret metadata — never a
//!    secret's value);
//! 3. it writes the connector as commented YAML: every block names where in the spec it came from and how
//!    sure the drafter is (`confidence: high|medium|low`);
//! 4. the YAML is checked with [`muster_spec::check`] before it is returned.
//!
//! With a model ([`draft_with_llm`], any [`LlmClient`]: OpenAI-compatible servers, Anthropic, Ollama), the
//! prompt ([`prompt`]) holds the JSON Schema, a worked example, the deterministic draft and the
//! identity-relevant operations (or prose) within a token budget; the answer is checked and the diagnostics
//! (and a bounded test read's errors) go back to the model for a few repair rounds ([`repair`]). Secrets
//! never enter a prompt ([`redact`]).
//!
//! When the document has no identity surface (only a whoami, only business objects) it **parks**
//! ([`DraftOutcome::Park`]): what it looked for, what it found, why it stopped. It never invents endpoints.

mod draft;
pub mod llm;
mod oas;
pub mod prompt;
pub mod redact;
pub mod repair;
mod words;
mod yaml_out;

pub use draft::{RelevantOp, identity_operations};
pub use llm::{HttpLlm, LlmClient, LlmConfig, LlmError, Message, Provider, Role};
pub use repair::{LlmDraftError, LlmDraftInput, LlmOutcome, RoundLog, draft_with_llm};

use serde_json::Value;

/// Options for [`draft_from_openapi`].
#[derive(Debug, Clone, Default)]
pub struct DraftOptions {
    /// A literal base URL for the connector (otherwise `${APP_URL}` plus the spec's server path).
    pub base_url: Option<String>,
    /// The application's name (otherwise the spec's `info.title`).
    pub app_name: Option<String>,
    /// The spec's file name, for provenance comments.
    pub source_name: String,
}

/// How sure the drafter is about one choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One decision the drafter made, for the reviewer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Choice {
    /// What was decided, e.g. `user.list.pagination`.
    pub what: String,
    pub confidence: Confidence,
    /// Why, in a sentence.
    pub why: String,
    /// Where in the spec it came from, e.g. `GET /users (operationId listUsers)`.
    pub provenance: String,
}

/// An environment variable the drafted connector reads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EnvVar {
    pub name: String,
    pub description: String,
}

/// What the drafter looked for, what it found and why it stopped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParkReport {
    pub looked_for: Vec<String>,
    pub found: Vec<String>,
    pub reason: String,
}

impl std::fmt::Display for ParkReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "parked: {}", self.reason)?;
        writeln!(f, "looked for:")?;
        for l in &self.looked_for {
            writeln!(f, "  - {l}")?;
        }
        writeln!(f, "found:")?;
        if self.found.is_empty() {
            writeln!(f, "  (nothing identity-related)")?;
        }
        for l in &self.found {
            writeln!(f, "  - {l}")?;
        }
        Ok(())
    }
}

/// The result of drafting.
#[derive(Debug, Clone)]
pub enum DraftOutcome {
    /// A connector was drafted.
    Connector {
        /// The connector as commented YAML (schema v1).
        yaml: String,
        /// Every decision, best first within each block; `Low` ones need a reviewer.
        choices: Vec<Choice>,
        /// The environment variables the connector reads.
        env: Vec<EnvVar>,
        /// Resource type ids drafted, with their listing (`user: GET /users`).
        summary: Vec<String>,
        /// Errors `muster check` reports on the draft: always empty unless the drafter has a bug.
        check_errors: Vec<String>,
        /// Warnings `muster check` reports on the draft.
        check_warnings: Vec<String>,
    },
    /// No identity surface: nothing was written.
    Park(ParkReport),
}

/// Draft a connector from an OpenAPI 3.x or Swagger 2.0 document.
pub fn draft_from_openapi(doc: &Value, opts: &DraftOptions) -> DraftOutcome {
    draft::draft(doc, opts)
}

/// Why an input document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("not JSON or YAML: {0}")]
    Syntax(String),
    #[error("not an OpenAPI or Swagger document: no `openapi`, `swagger` or `paths` key at the top level (found {0})")]
    NotOpenApi(String),
}

/// Parse an API description (JSON or YAML text) into a JSON value and check it looks like OpenAPI.
pub fn parse_spec_text(text: &str) -> Result<Value, InputError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let value = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        serde_json::from_str::<Value>(trimmed).map_err(|e| InputError::Syntax(format!("invalid JSON: {e}")))?
    } else {
        // YAML (a JSON superset for our purposes). The connector parser refuses files above its connector
        // size limit, so very large YAML specs should be converted to JSON first.
        match muster_spec::yaml::parse(trimmed) {
            Ok(node) => muster_spec::validate::to_json(&node),
            Err(d) => {
                let at = d.span.map(|s| format!(" at line {}, column {}", s.line, s.col)).unwrap_or_default();
                return Err(InputError::Syntax(format!("invalid YAML{at}: {}", d.message)));
            }
        }
    };
    let Some(obj) = value.as_object() else {
        return Err(InputError::NotOpenApi(match value {
            Value::Array(_) => "a list".into(),
            Value::String(_) => "a string".into(),
            _ => "a scalar".into(),
        }));
    };
    if !(obj.contains_key("openapi") || obj.contains_key("swagger") || obj.contains_key("paths")) {
        let keys: Vec<&str> = obj.keys().take(6).map(String::as_str).collect();
        return Err(InputError::NotOpenApi(if keys.is_empty() {
            "an empty mapping".into()
        } else {
            format!("keys {}", keys.join(", "))
        }));
    }
    Ok(value)
}
