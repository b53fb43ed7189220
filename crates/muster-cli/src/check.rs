use crate::util::read_text;
use crate::{EXIT_CONFIG, EXIT_OK, EXIT_VERIFY, FileArg};
use clap::{Args, ValueEnum};
use muster_diag::{Diagnostic, render_human, render_json, summary};
use std::io::Write as _;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Connector files to check.
    #[arg(required = true)]
    pub files: Vec<FileArg>,
    /// Output format: `human` (carets and hints) or `json` (an array of diagnostics, for tools).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Treat warnings as errors (exit 2 when any warning is reported).
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

pub fn check(a: CheckArgs) -> anyhow::Result<i32> {
    let mut all: Vec<Diagnostic> = Vec::new();
    let mut human = String::new();
    let mut failed = false;
    for f in &a.files {
        let name = f.display().to_string();
        let src = match read_text(f) {
            Ok(s) => s,
            Err(msg) => {
                failed = true;
                let d = Diagnostic::error("M0000", msg.clone()).with_file(&name);
                human.push_str(&format!("{msg}\n\n"));
                all.push(d);
                continue;
            }
        };
        let c = muster_spec::check(&src, &name);
        human.push_str(&render_human(&c.diagnostics, &src));
        if c.has_errors() || (a.deny_warnings && !c.diagnostics.is_empty()) {
            failed = true;
        }
        if !c.diagnostics.iter().any(Diagnostic::is_error) {
            let n = c.connector.as_ref().map(|c| c.resource_types.len()).unwrap_or(0);
            human.push_str(&format!("{name}: ok ({n} resource types)\n"));
        }
        all.extend(c.diagnostics);
    }
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Human => {
            let _ = write!(out, "{human}");
            let _ = writeln!(out, "{}", summary(&all));
        }
        Format::Json => {
            let _ = writeln!(out, "{}", render_json(&all));
        }
    }
    Ok(if failed { EXIT_CONFIG } else { EXIT_OK })
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// The connector file.
    pub file: FileArg,
    /// Run the spec's `tests:` blocks against their fixtures, without any network.
    #[arg(long)]
    pub offline: bool,
    /// A fast bounded test read: at most N records per resource type (totals are then not verified).
    #[arg(long, conflicts_with_all = ["full", "offline"])]
    pub limit: Option<u64>,
    /// Read everything (the default): every listing to its end, twice, into a scratch store.
    #[arg(long)]
    pub full: bool,
    /// The API's OpenAPI document (JSON or YAML), for under-sync probes of scoping parameters.
    #[arg(long, value_name = "SPEC")]
    pub openapi: Option<FileArg>,
    /// Write the trust report as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<FileArg>,
    /// Write the trust report as one self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<FileArg>,
    /// The store the report is kept in, as evidence for approval.
    #[arg(long, default_value = crate::sync::DEFAULT_DB)]
    pub db: std::path::PathBuf,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Compile a file, printing diagnostics on failure. Returns None (after printing) when invalid.
pub fn load(file: &FileArg) -> Option<(muster_spec::CompiledConnector, String)> {
    let name = file.display().to_string();
    let src = match read_text(file) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("{msg}");
            return None;
        }
    };
    let c = muster_spec::check(&src, &name);
    let errors: Vec<Diagnostic> = c.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
    match c.connector {
        Some(conn) => Some((conn, src)),
        None => {
            eprint!("{}", render_human(&errors, &src));
            eprintln!("{}: invalid connector ({}); run `muster check {name}` for details", name, summary(&errors));
            None
        }
    }
}

/// The connector's vars as a JSON object, with `${ENV}` references resolved where set (else left as written).
pub fn vars_json(c: &muster_spec::CompiledConnector) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (k, t) in &c.vars {
        let v = t.render(&crate::util::env_lookup, &|_, _| None).unwrap_or_else(|_| t.source.clone());
        m.insert(k.clone(), serde_json::Value::String(v));
    }
    serde_json::Value::Object(m)
}

pub fn test(a: TestArgs) -> anyhow::Result<i32> {
    if !a.offline {
        return crate::verify::live(a);
    }
    let Some((c, _)) = load(&a.file) else { return Ok(EXIT_CONFIG) };
    let outcomes = muster_engine::offline::run_tests(&c, &vars_json(&c));
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&outcomes)?);
    } else {
        if outcomes.is_empty() {
            println!("{}: no `tests:` blocks", a.file.display());
        }
        for o in &outcomes {
            if o.passed {
                println!("ok    {} ({} records)", o.name, o.records);
            } else {
                println!("FAIL  {}", o.name);
                if let Some(f) = &o.failure {
                    for line in f.lines() {
                        println!("      {line}");
                    }
                }
            }
        }
        println!("{} passed, {} failed", outcomes.len() - failed, failed);
    }
    Ok(if failed > 0 { EXIT_VERIFY } else { EXIT_OK })
}

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Print the Markdown field reference instead of the JSON Schema.
    #[arg(long)]
    pub markdown: bool,
}

pub fn schema(a: SchemaArgs) -> anyhow::Result<i32> {
    if a.markdown {
        print!("{}", muster_spec::docs::reference_markdown());
    } else {
        println!("{}", serde_json::to_string_pretty(&muster_spec::json_schema())?);
    }
    Ok(EXIT_OK)
}
