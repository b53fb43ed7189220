//! `muster demo`: a built-in Acme identity API on 127.0.0.1, a hand-written connector for it, and a full
//! check → offline tests → sync into `./muster-demo/muster.db`, ending with a summary.

use crate::sync::{SyncOutcome, open_store, print_sync_summary, sync_into};
use crate::{EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_VERIFY};
use anyhow::Context as _;
use clap::Args;
use muster_model::{AccountType, Status};
use std::path::PathBuf;

/// The demo connector, as written to `muster-demo/connector.yaml`.
pub const DEMO_CONNECTOR: &str = include_str!("../assets/demo-connector.yaml");

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where to write openapi.json, connector.yaml and muster.db.
    #[arg(long, default_value = "muster-demo")]
    pub dir: PathBuf,
    /// Serve the demo API alone until interrupted, printing `export` lines for its environment.
    #[arg(long)]
    pub api_only: bool,
    /// Port for the API (default: any free port; with --api-only, 7979).
    #[arg(long)]
    pub port: Option<u16>,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

fn demo_env(base_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ACME_URL", base_url.to_string()),
        ("ACME_USER", muster_testkit::DEMO_USER.to_string()),
        ("ACME_PASSWORD", muster_testkit::DEMO_PASSWORD.to_string()),
        ("ACME_ADMIN_TOKEN", muster_testkit::DEMO_ADMIN_TOKEN.to_string()),
    ]
}

pub fn demo(a: DemoArgs) -> anyhow::Result<i32> {
    if a.api_only {
        let server = muster_testkit::serve_demo(Some(a.port.unwrap_or(7979)))
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", a.port.unwrap_or(7979)))?;
        println!("# Acme demo API on {} — paste these lines into your shell:", server.base_url());
        for (k, v) in demo_env(&server.base_url()) {
            println!("export {k}={v}");
        }
        println!("# OpenAPI document: {}/openapi.json   (Ctrl-C to stop)", server.base_url());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        drop(server);
        return Ok(EXIT_OK);
    }
    std::fs::create_dir_all(&a.dir).with_context(|| format!("cannot create {}", a.dir.display()))?;
    let server = muster_testkit::serve_demo(a.port).context("cannot start the demo API on 127.0.0.1")?;
    let base = server.base_url();
    println!("Acme demo API listening on {base}");
    let mut openapi = muster_testkit::demo_openapi();
    if let Some(s) = openapi.pointer_mut("/servers/0/url") {
        *s = serde_json::Value::String(base.clone());
    }
    let spec_path = a.dir.join("openapi.json");
    std::fs::write(&spec_path, serde_json::to_string_pretty(&openapi)?)?;
    let conn_path = a.dir.join("connector.yaml");
    std::fs::write(&conn_path, DEMO_CONNECTOR)?;
    println!("wrote {} and {}", spec_path.display(), conn_path.display());

    // check
    let name = conn_path.display().to_string();
    let checked = muster_spec::check(DEMO_CONNECTOR, &name);
    print!("{}", muster_diag::render_human(&checked.diagnostics, DEMO_CONNECTOR));
    let Some(c) = checked.connector else {
        eprintln!("error: the demo connector does not pass `muster check`");
        return Ok(EXIT_CONFIG);
    };
    println!("check: ok ({} resource types, {})", c.resource_types.len(), muster_diag::summary(&checked.diagnostics));

    // offline tests
    let outcomes = muster_engine::offline::run_tests(&c, &serde_json::json!({}));
    let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed).collect();
    println!("offline tests: {} passed, {} failed", outcomes.len() - failed.len(), failed.len());
    if !failed.is_empty() {
        for f in failed {
            eprintln!("FAIL {}: {}", f.name, f.failure.clone().unwrap_or_default());
        }
        return Ok(EXIT_VERIFY);
    }

    // live test: the trust report, kept in the store as evidence
    let env_pairs = demo_env(&base);
    let env = move |n: &str| env_pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
    let db = a.dir.join("muster.db");
    let mut store = open_store(&db)?;
    let opts = muster_verify::VerifyOptions { limit: None, openapi: Some(openapi.clone()), now: crate::sync::now() };
    let report = muster_verify::verify(&c, &env, &opts).map_err(|e| anyhow::anyhow!("muster test: {e}"))?;
    let json = serde_json::to_string_pretty(&report)?;
    crate::verify::keep_report(&mut store, &report, &json)?;
    let html_path = a.dir.join("report.html");
    std::fs::write(&html_path, muster_verify::html::render(&report))?;
    crate::verify::print_summary(&report);
    println!("wrote {}", html_path.display());
    if !report.passed {
        eprintln!("error: the demo connector failed its trust report");
        return Ok(EXIT_VERIFY);
    }

    // sync
    let info = match sync_into(&mut store, &c, &env, a.quiet)? {
        SyncOutcome::Done(done) => {
            let (info, report) = *done;
            print_sync_summary(&info, &report);
            info
        }
        SyncOutcome::Failed { error, .. } => {
            eprintln!("error: the demo sync failed: {error}");
            return Ok(EXIT_FAILURE);
        }
        SyncOutcome::Held(held) => {
            let (info, _, issues) = *held;
            eprintln!("sync #{} is held by the drift guard (an earlier demo store is in {}):", info.id, db.display());
            for i in issues {
                eprintln!("  - {}", i.message);
            }
            return Ok(crate::EXIT_HELD);
        }
    };

    // summary
    let users = store.resources(info.id, Some("user"))?;
    let humans =
        users.iter().filter(|u| u.user.as_ref().and_then(|t| t.account_type) == Some(AccountType::Human)).count();
    let services =
        users.iter().filter(|u| u.user.as_ref().and_then(|t| t.account_type) == Some(AccountType::Service)).count();
    let disabled = users.iter().filter(|u| u.status == Status::Disabled).count();
    let no_email = users.iter().filter(|u| u.user.as_ref().is_none_or(|t| t.emails.is_empty())).count();
    let groups = info.counts.by_type.get("group").copied().unwrap_or(0);
    let roles = info.counts.by_type.get("role").copied().unwrap_or(0);
    let tokens = store.resources(info.id, Some("api_token"))?;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let expired = tokens
        .iter()
        .filter(|t| t.secret.as_ref().and_then(|s| s.expires_at.as_deref()).is_some_and(|e| e < now.as_str()))
        .count();
    let unused = tokens.iter().filter(|t| t.secret.as_ref().is_some_and(|s| s.last_used_at.is_none())).count();
    let ownerless = tokens.iter().filter(|t| t.secret.as_ref().is_some_and(|s| s.owner.is_none())).count();
    println!();
    println!("Acme Directory — summary of sync #{} (trust score {}/100)", info.id, report.score);
    println!(
        "  users       {:>5}  ({humans} human, {services} service; {disabled} disabled; {no_email} without email)",
        users.len()
    );
    println!("  groups      {groups:>5}");
    println!("  roles       {roles:>5}");
    println!("  grants      {:>5}", info.counts.grants);
    println!("  API tokens  {:>5}  ({expired} expired, {unused} never used, {ownerless} without owner)", tokens.len());
    println!();
    println!("Store: {}   try: muster inspect resources --db {} --type user", db.display(), db.display());
    Ok(EXIT_OK)
}
