//! The `muster` command line. `main` maps outcomes to documented exit codes:
//! 0 ok, 1 failure, 2 usage or configuration error, 3 verification failed, 4 held by the drift guard.

mod check;
mod demo;
mod draft;
mod eval;
mod govern;
mod serve;
mod sync;
mod util;
mod verify;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_CONFIG: i32 = 2;
pub const EXIT_VERIFY: i32 = 3;
pub const EXIT_HELD: i32 = 4;
pub const EXIT_PARKED: i32 = draft::EXIT_PARKED;

/// Muster: identity connectors as reviewed YAML — draft, check, test, approve, sync, govern.
#[derive(Parser, Debug)]
#[command(name = "muster", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 verification failed, 4 held by the drift guard, 5 parked: no identity surface (draft)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Draft a connector from an OpenAPI/Swagger description — deterministically with no model, or better
    /// with an LLM (--llm, --docs for prose) inside a repair loop that feeds `check` and test-read errors
    /// back — with provenance comments and a summary of low-confidence choices. Exit 0 drafted, 2 bad
    /// input, 5 parked: no identity surface.
    Draft(draft::DraftArgs),
    /// Validate connector files: schema, references, expressions, and lints for silent traps.
    ///
    /// Every problem in every file is reported in one run, as `file:line:col` with a caret under the
    /// offending text, a stable code (see docs/diagnostics.md) and a hint. Exit 0 when valid (warnings
    /// allowed unless --deny-warnings), 2 when any file has errors.
    ///
    /// A connector file has: `version: 1`; `app` (name, owner, description); `vars`; `source.http`
    /// (base_url, headers, query, timeout_s, tls, auth, retry, rate_limit, max_pages); `resource_types.<id>`
    /// (traits, list {request, items, pagination, skip_if, map}, entitlements {id, purpose, grantable_to,
    /// grants, provisioning}); `drift_guard`; `tests`. Every field is explained in docs/reference.md, also
    /// printed by `muster schema --markdown`; expressions in docs/expressions.md.
    Check(check::CheckArgs),
    /// Prove a connector against its live API: a trust report with auth, completeness, under-sync,
    /// coverage, integrity, stability and status/NHI checks and one score, kept in the store as evidence.
    /// With --offline, run the spec's `tests:` blocks (fixture responses in, expected records out) without
    /// any network. Exit 0 pass, 3 verification failed, 2 invalid spec or configuration.
    Test(check::TestArgs),
    /// Print the connector JSON Schema (v1) or its Markdown field reference.
    Schema(check::SchemaArgs),
    /// Run a connector against its API and store a new snapshot. The snapshot becomes current only when
    /// the sync completes; a failed or interrupted sync leaves the previous one current. Exit 0 ok,
    /// 1 failed, 2 invalid spec or missing configuration.
    Sync(sync::SyncArgs),
    /// List what a snapshot holds: syncs, resources, entitlements, grants or findings.
    Inspect(sync::InspectArgs),
    /// Resources and grants added and removed between two syncs (default: a connector's last two).
    Diff(sync::DiffArgs),
    /// Run the built-in demo end to end: a local Acme API, its connector, check, tests and a sync into
    /// ./muster-demo/muster.db. `--api-only` serves the API alone for trying other commands.
    Demo(demo::DemoArgs),
    /// The connector registry: add versions, see their history, diff them semantically.
    Registry(govern::RegistryArgs),
    /// Approve a tested version for production (needs a passing, recent trust report for that exact hash).
    Approve(govern::ApproveArgs),
    /// Reject a version, with a reason (revokes its approval).
    Reject(govern::RejectArgs),
    /// The tamper-evident audit log: `log` and `verify`.
    Audit(govern::AuditArgs),
    /// Every connector with its latest version, approval state, last trust score, last sync and holds.
    Status(govern::StatusArgs),
    /// Score drafting and verification against the labelled cases in evals/ (exit 1 on a regression
    /// below evals/baseline.json).
    Eval(eval::EvalArgs),
    /// Serve the web UI and JSON API over the store: connectors and approvals, trust reports, inventory,
    /// non-human identities, syncs and the audit log. Loopback only unless --token is given.
    Serve(serve::ServeArgs),
}

/// Run the CLI with the process arguments; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_CONFIG } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    run(cli)
}

pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Draft(a) => draft::draft(a),
        Command::Check(a) => check::check(a),
        Command::Test(a) => check::test(a),
        Command::Schema(a) => check::schema(a),
        Command::Sync(a) => sync::sync(a),
        Command::Inspect(a) => sync::inspect(a),
        Command::Diff(a) => sync::diff(a),
        Command::Demo(a) => demo::demo(a),
        Command::Registry(a) => govern::registry(a),
        Command::Approve(a) => govern::approve(a),
        Command::Reject(a) => govern::reject(a),
        Command::Audit(a) => govern::audit(a),
        Command::Status(a) => govern::status(a),
        Command::Eval(a) => eval::eval(a),
        Command::Serve(a) => serve::serve(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            EXIT_FAILURE
        }
    }
}

/// A file argument.
pub(crate) type FileArg = PathBuf;

#[cfg(test)]
mod tests {
    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
