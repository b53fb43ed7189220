//! `muster draft`: a connector from an API description.
//!
//! Exit codes: 0 drafted, 1 the draft does not pass `muster check` (a drafter bug; the file is still written),
//! 2 bad input (unreadable or not an OpenAPI/Swagger document, bad `--base-url`, output exists),
//! 5 parked: no identity surface (nothing written).

use crate::{EXIT_CONFIG, EXIT_FAILURE, EXIT_OK};
use clap::Args;
use muster_draft::{Confidence, DraftOptions, DraftOutcome};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

/// Exit code of `muster draft` when the spec has no identity surface.
pub const EXIT_PARKED: i32 = 5;

#[derive(Args, Debug)]
pub struct DraftArgs {
    /// The API description: OpenAPI 3.0 / 3.1 or Swagger 2.0, as JSON or YAML.
    #[arg(long, value_name = "SPEC")]
    pub openapi: PathBuf,
    /// Use this literal base URL instead of a `${APP_URL}` environment reference.
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
}

pub fn draft(a: DraftArgs) -> anyhow::Result<i32> {
    let name = a.openapi.display().to_string();
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
    let bytes = match std::fs::read(&a.openapi) {
        Ok(b) => b,
        Err(e) => {
            let why = if a.openapi.is_dir() {
                "is a directory, not a spec file".to_string()
            } else {
                format!("cannot read: {e}")
            };
            eprintln!("error: {name}: {why}");
            return Ok(EXIT_CONFIG);
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "error: {name}: not UTF-8 text (invalid byte at offset {}); pass an OpenAPI JSON or YAML file",
                e.utf8_error().valid_up_to()
            );
            return Ok(EXIT_CONFIG);
        }
    };
    let doc = match muster_draft::parse_spec_text(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {name}: {e}");
            return Ok(EXIT_CONFIG);
        }
    };
    let source_name = a.openapi.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| name.clone());
    let opts = DraftOptions { base_url: a.base_url.clone(), app_name: a.app_name.clone(), source_name };
    match muster_draft::draft_from_openapi(&doc, &opts) {
        DraftOutcome::Park(report) => {
            eprintln!("{name}: no connector written\n{report}");
            Ok(EXIT_PARKED)
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
            match &a.output {
                Some(path) => {
                    if let Err(e) = std::fs::write(path, &yaml) {
                        eprintln!("error: cannot write {}: {e}", path.display());
                        return Ok(EXIT_FAILURE);
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
            if check_errors.is_empty() {
                Ok(EXIT_OK)
            } else {
                eprintln!(
                    "error: the draft does not pass `muster check` (a bug in `muster draft`; please report it with the spec)"
                );
                Ok(EXIT_FAILURE)
            }
        }
    }
}
