//! `muster test FILE` against the live API: the trust report.

use crate::check::{TestArgs, load};
use crate::sync::{now, open_store};
use crate::util::read_text;
use crate::{EXIT_CONFIG, EXIT_OK, EXIT_VERIFY};
use anyhow::Context as _;
use muster_verify::{Status, TrustReport, VerifyOptions};

/// Read an OpenAPI document (JSON or YAML).
pub fn read_openapi(path: &std::path::Path) -> Result<serde_json::Value, String> {
    let text = read_text(path)?;
    if let Ok(v) = serde_json::from_str(&text) {
        return Ok(v);
    }
    match muster_spec::yaml::parse(&text) {
        Ok(node) => Ok(muster_spec::validate::to_json(&node)),
        Err(d) => Err(format!("{}: not JSON, and not YAML either: {}", path.display(), d.message)),
    }
}

pub fn live(a: TestArgs) -> anyhow::Result<i32> {
    let Some((c, _)) = load(&a.file) else { return Ok(EXIT_CONFIG) };
    let openapi = match &a.openapi {
        Some(p) => match read_openapi(p) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_CONFIG);
            }
        },
        None => None,
    };
    let env = |n: &str| std::env::var(n).ok();
    let opts = VerifyOptions { limit: a.limit, openapi, now: now() };
    let report = match muster_verify::verify(&c, &env, &opts) {
        Ok(r) => r,
        Err(muster_verify::VerifyError::Config(e)) => {
            eprintln!("error: {e}");
            return Ok(EXIT_CONFIG);
        }
        Err(e) => return Err(e.into()),
    };
    let json = serde_json::to_string_pretty(&report)?;
    let mut store = open_store(&a.db)?;
    let id = keep_report(&mut store, &report, &json)?;
    if let Some(p) = &a.report {
        std::fs::write(p, &json).with_context(|| format!("cannot write {}", p.display()))?;
    }
    if let Some(p) = &a.html {
        std::fs::write(p, muster_verify::html::render(&report))
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    if a.json {
        println!("{json}");
    } else {
        print_summary(&report);
        println!("report #{id} kept in {} as evidence for {}", a.db.display(), report.spec_hash);
    }
    Ok(if report.passed { EXIT_OK } else { EXIT_VERIFY })
}

/// Keep a trust report in the store as evidence, and audit it. Returns the report's id.
pub fn keep_report(store: &mut muster_store::Store, report: &TrustReport, json: &str) -> anyhow::Result<i64> {
    let id = store
        .save_trust_report(
            &report.connector,
            &report.spec_hash,
            &report.base_url,
            &report.created_at,
            report.passed,
            report.score,
            json,
        )
        .context("cannot keep the trust report in the store")?;
    store.audit(
        &report.created_at,
        &crate::sync::actor(),
        "test",
        &report.connector,
        &serde_json::json!({ "version": report.spec_hash, "report": id, "score": report.score, "passed": report.passed, "base_url": report.base_url }),
    )?;
    Ok(id)
}

/// The compact terminal summary of a trust report.
pub fn print_summary(r: &TrustReport) {
    println!(
        "trust report for {} ({}), {} read of {}: score {}/100 — {}",
        r.connector,
        &r.spec_hash[..r.spec_hash.len().min(19)],
        r.mode,
        r.base_url,
        r.score,
        if r.passed { "PASSED" } else { "FAILED" }
    );
    for c in &r.checks {
        let mark = match c.status {
            Status::Pass => "pass",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        println!("  {mark}  {:<18} {}", c.name, c.summary);
        if matches!(c.status, Status::Fail | Status::Warn) {
            for e in c.evidence.iter().filter(|e| !e.starts_with("pass")).take(5) {
                println!("          {e}");
            }
        }
    }
}
