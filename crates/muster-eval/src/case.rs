//! Case folders: `evals/cases/<name>/case.json` (what to run), `api.json` (the API description),
//! `truth.json` (live and negative cases: what the API really holds, and its traps) or `labels.json`
//! (spec-only cases: the labelled operations, written by reading the spec).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `case.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CaseDef {
    /// A local API is started in-process; the draft is checked, tested and synced against it.
    Live { description: String, server: ServerDef },
    /// A real spec: the draft is scored on finding the labelled operations (`labels.json`).
    Spec {
        description: String,
        /// The spec's path, relative to the repository root (e.g. `../shared/specs/gitea-1.20.apis-guru.json`).
        spec: String,
    },
    /// An API with no identity surface (`api.json`): the drafter should park.
    Negative { description: String },
}

impl CaseDef {
    pub fn description(&self) -> &str {
        match self {
            CaseDef::Live { description, .. }
            | CaseDef::Spec { description, .. }
            | CaseDef::Negative { description } => description,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            CaseDef::Live { .. } => "live",
            CaseDef::Spec { .. } => "spec",
            CaseDef::Negative { .. } => "negative",
        }
    }
}

/// Which in-process testkit server a live case starts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "api", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerDef {
    /// The Acme demo API (`muster_testkit::serve_demo`).
    Demo,
    /// The generic API (`muster_testkit::serve`) with a scenario.
    Generic {
        title: String,
        users: usize,
        groups: usize,
        members_per_group: usize,
        /// `none`, `offset`, `page`, `cursor_body`, `cursor_header`, `next_link_absolute`, `next_link_relative`,
        /// `link_header`, `scim`.
        pagination: String,
        auth: AuthDef,
        default_page_size: usize,
        max_page_size: usize,
    },
    /// The trap API (`muster_testkit::serve_traps`).
    Traps {
        #[serde(default)]
        scope_hides_inactive: bool,
        #[serde(default)]
        pending_members: bool,
        #[serde(default)]
        null_emails: bool,
        #[serde(default)]
        clamp_page: Option<usize>,
        #[serde(default)]
        cap_unpaginated: Option<usize>,
        #[serde(default)]
        anonymous_subset: bool,
    },
    /// Chatter, the Slack-like RPC API (`muster_testkit::serve_rpc_api`).
    Rpc,
    /// Ledger, dict-shaped collections (`muster_testkit::serve_dict_api`).
    Dict,
}

/// Credentials of the generic API. The eval hands them to the drafted connector's environment variables
/// by suffix (`_USER`, `_PASSWORD`, `_TOKEN`, `_CLIENT_ID`, `_CLIENT_SECRET`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthDef {
    None,
    Basic { user: String, password: String },
    Bearer { token: String },
    ApiKeyHeader { header: String, key: String },
    ApiKeyQuery { param: String, key: String },
    Oauth2ClientCredentials { client_id: String, client_secret: String },
    Oauth2Password { client_id: String, username: String, password: String },
    Login { username: String, password: String },
}

/// `truth.json` of a live or negative case.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Truth {
    /// Every user id the API holds (people, service accounts, bots; disabled ones too).
    pub users: Vec<String>,
    /// Users that are disabled / deactivated / deleted: they must be synced, with a non-enabled status.
    pub disabled_users: Vec<String>,
    /// Service accounts and bots: they must be synced with `account_type: service`.
    pub service_users: Vec<String>,
    pub groups: Vec<String>,
    /// Group memberships and role assignments, `"{group or role id}/{principal id}"`.
    pub memberships: Vec<String>,
    pub roles: Vec<String>,
    /// API tokens / keys (ids).
    pub tokens: Vec<String>,
    pub traps: Vec<Trap>,
}

/// One trap: something that makes a plausible connector silently wrong.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Trap {
    pub name: String,
    pub description: String,
    /// The `muster test` check(s) that should flag it when the draft falls into it.
    pub checks: Vec<String>,
    /// Avoided only if every listed record was synced (keys: the [`Truth`] list names).
    #[serde(default)]
    pub must_include: BTreeMap<String, Vec<String>>,
    /// ... and none of these was.
    #[serde(default)]
    pub must_exclude: BTreeMap<String, Vec<String>>,
}

/// `labels.json` of a spec-only case, written by reading the spec.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    /// Acceptable source auth types (schema v1 names: `basic`, `bearer`, `api_key`,
    /// `oauth2_client_credentials`, `oauth2_password`, `login`), any of which counts as right.
    pub auth: Vec<String>,
    pub notes: String,
    pub operations: Vec<LabelledOp>,
}

/// One labelled listing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LabelledOp {
    /// `users`, `groups`, `memberships`, `roles` or `tokens`.
    pub entity: String,
    pub method: String,
    /// The path as the spec writes it (a key of `paths`).
    pub path: String,
    /// Schema v1 pagination type: `none`, `offset`, `page`, `cursor`, `next_link`, `link_header`, `scim`;
    /// several acceptable styles are separated by `|` (`offset|next_link`).
    pub pagination: String,
    /// Other operations that list the same thing equally well (same pagination unless given).
    #[serde(default)]
    pub alternatives: Vec<AltOp>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AltOp {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub pagination: Option<String>,
}

/// A case loaded from its folder.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub dir: PathBuf,
    pub def: CaseDef,
}

/// Why cases could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: {1}")]
    Json(String, serde_json::Error),
    #[error("{0}")]
    Other(String),
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, CaseError> {
    let text = std::fs::read_to_string(path).map_err(|e| CaseError::Io(path.display().to_string(), e))?;
    serde_json::from_str(&text).map_err(|e| CaseError::Json(path.display().to_string(), e))
}

/// Every case under `evals_dir/cases`, sorted by name.
pub fn load_cases(evals_dir: &Path) -> Result<Vec<Case>, CaseError> {
    let dir = evals_dir.join("cases");
    let entries = std::fs::read_dir(&dir).map_err(|e| CaseError::Io(dir.display().to_string(), e))?;
    let mut out = Vec::new();
    for e in entries {
        let e = e.map_err(|err| CaseError::Io(dir.display().to_string(), err))?;
        let path = e.path();
        if !path.join("case.json").is_file() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let def: CaseDef = read_json(&path.join("case.json"))?;
        out.push(Case { name, dir: path, def });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    if out.is_empty() {
        return Err(CaseError::Other(format!("no cases in {}", dir.display())));
    }
    Ok(out)
}
