//! Governance commands: registry, approve / reject, audit, status.

use crate::check::load;
use crate::sync::{DEFAULT_DB, actor, now, open_store};
use crate::{EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, FileArg};
use clap::{Args, Subcommand};
use muster_govern::{ApprovalRules, GovernError, short};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub cmd: RegistryCmd,
    #[arg(long, default_value = DEFAULT_DB, global = true)]
    pub db: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum RegistryCmd {
    /// Record a version of a connector: content hash, canonical spec, source, author, message, time.
    Add {
        file: FileArg,
        #[arg(long, short, default_value = "")]
        message: String,
        /// The author: "Name <email>" (default: $MUSTER_USER or $USER).
        #[arg(long = "as", value_name = "WHO")]
        author: Option<String>,
    },
    /// The versions of a connector, newest first, with their decisions and test results.
    Log { name: String },
    /// Semantic diff between two versions (hashes or unique prefixes); risky changes are marked `!`.
    Diff { name: String, from: String, to: String },
    /// A version's source (default: the newest).
    Show { name: String, version: Option<String> },
}

fn refused(e: GovernError) -> anyhow::Result<i32> {
    match e {
        GovernError::Refused(m) => {
            eprintln!("error: {m}");
            Ok(EXIT_CONFIG)
        }
        GovernError::Store(s) => Err(s.into()),
    }
}

pub fn registry(a: RegistryArgs) -> anyhow::Result<i32> {
    let mut store = open_store(&a.db)?;
    match a.cmd {
        RegistryCmd::Add { file, message, author } => {
            let Some((c, src)) = load(&file) else { return Ok(EXIT_CONFIG) };
            let author = author.unwrap_or_else(actor);
            match muster_govern::register(&mut store, &c, &src, &author, &message, &now()) {
                Ok((v, true)) => println!("{}: registered version {} by {}", c.name, short(&v.spec_hash), v.author),
                Ok((v, false)) => println!(
                    "{}: version {} is already registered (by {} at {})",
                    c.name,
                    short(&v.spec_hash),
                    v.author,
                    v.created_at
                ),
                Err(e) => return refused(e),
            }
            Ok(EXIT_OK)
        }
        RegistryCmd::Log { name } => {
            let versions = store.versions(&name)?;
            if versions.is_empty() {
                eprintln!("error: no versions of `{name}` in {}", a.db.display());
                return Ok(EXIT_CONFIG);
            }
            let decisions = store.decisions(&name)?;
            let reports = store.trust_reports(&name, None)?;
            for v in versions {
                println!("{}  {}  {}  {}", short(&v.spec_hash), v.created_at, v.author, v.message);
                if let Some(r) = reports.iter().find(|r| r.spec_hash == v.spec_hash) {
                    println!(
                        "    tested   report #{} score {} {} ({})",
                        r.id,
                        r.score,
                        if r.passed { "passed" } else { "FAILED" },
                        r.created_at
                    );
                }
                for d in decisions.iter().filter(|d| d.spec_hash == v.spec_hash) {
                    println!(
                        "    {:<8} by {} at {}{}",
                        d.decision,
                        d.actor,
                        d.created_at,
                        if d.comment.is_empty() { String::new() } else { format!(": {}", d.comment) }
                    );
                }
            }
            Ok(EXIT_OK)
        }
        RegistryCmd::Diff { name, from, to } => {
            let (a1, b1) = match (
                muster_govern::find_version(&store, &name, &from),
                muster_govern::find_version(&store, &name, &to),
            ) {
                (Ok(x), Ok(y)) => (x, y),
                (Err(e), _) | (_, Err(e)) => return refused(e),
            };
            let va: serde_json::Value = serde_json::from_str(&a1.canonical)?;
            let vb: serde_json::Value = serde_json::from_str(&b1.canonical)?;
            let changes = muster_govern::diff::semantic_diff(&va, &vb);
            println!(
                "{name}: {} → {} ({} changes, {} risky)",
                short(&a1.spec_hash),
                short(&b1.spec_hash),
                changes.len(),
                changes.iter().filter(|c| c.risky).count()
            );
            print!("{}", muster_govern::diff::render(&changes));
            Ok(EXIT_OK)
        }
        RegistryCmd::Show { name, version } => {
            let v = match version {
                Some(h) => match muster_govern::find_version(&store, &name, &h) {
                    Ok(v) => v,
                    Err(e) => return refused(e),
                },
                None => match store.versions(&name)?.into_iter().next() {
                    Some(v) => v,
                    None => {
                        eprintln!("error: no versions of `{name}` in {}", a.db.display());
                        return Ok(EXIT_CONFIG);
                    }
                },
            };
            println!("# {} version {} by {} at {}", name, v.spec_hash, v.author, v.created_at);
            print!("{}", v.source);
            Ok(EXIT_OK)
        }
    }
}

#[derive(Args, Debug)]
pub struct ApproveArgs {
    /// The connector (its app name).
    pub name: String,
    /// The version: its hash or a unique prefix.
    #[arg(long)]
    pub version: String,
    /// Who approves: "Name <email>".
    #[arg(long = "as", value_name = "WHO")]
    pub actor: String,
    #[arg(long, default_value = "")]
    pub comment: String,
    /// Require the approver to differ from the version's author.
    #[arg(long, env = "MUSTER_FOUR_EYES")]
    pub four_eyes: bool,
    /// The passing trust report must be younger than this many hours.
    #[arg(long, default_value_t = 168, env = "MUSTER_MAX_REPORT_AGE_HOURS")]
    pub max_report_age_hours: i64,
    #[arg(long, default_value = DEFAULT_DB)]
    pub db: PathBuf,
}

pub fn approve(a: ApproveArgs) -> anyhow::Result<i32> {
    let mut store = open_store(&a.db)?;
    let rules = ApprovalRules { max_report_age_hours: a.max_report_age_hours, four_eyes: a.four_eyes };
    match muster_govern::approve(&mut store, &a.name, &a.version, &a.actor, &a.comment, &rules, &now()) {
        Ok(d) => {
            println!(
                "{}: version {} approved by {} (trust report #{}); `muster sync --approved \"{}\"` now runs it",
                a.name,
                short(&d.spec_hash),
                d.actor,
                d.report_id.unwrap_or_default(),
                a.name
            );
            Ok(EXIT_OK)
        }
        Err(e) => refused(e),
    }
}

#[derive(Args, Debug)]
pub struct RejectArgs {
    pub name: String,
    #[arg(long)]
    pub version: String,
    #[arg(long = "as", value_name = "WHO")]
    pub actor: String,
    /// Why (required).
    #[arg(long)]
    pub reason: String,
    #[arg(long, default_value = DEFAULT_DB)]
    pub db: PathBuf,
}

pub fn reject(a: RejectArgs) -> anyhow::Result<i32> {
    let mut store = open_store(&a.db)?;
    match muster_govern::reject(&mut store, &a.name, &a.version, &a.actor, &a.reason, &now()) {
        Ok(d) => {
            println!("{}: version {} rejected by {}: {}", a.name, short(&d.spec_hash), d.actor, d.comment);
            Ok(EXIT_OK)
        }
        Err(e) => refused(e),
    }
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub cmd: AuditCmd,
    #[arg(long, default_value = DEFAULT_DB, global = true)]
    pub db: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// The audit log, oldest first.
    Log {
        #[arg(long)]
        json: bool,
    },
    /// Recompute the hash chain; exit 1 and name the first bad entry if any entry was edited, deleted,
    /// inserted or reordered.
    Verify,
}

pub fn audit(a: AuditArgs) -> anyhow::Result<i32> {
    if !a.db.exists() {
        eprintln!("error: no store at {}", a.db.display());
        return Ok(EXIT_CONFIG);
    }
    let store = open_store(&a.db)?;
    match a.cmd {
        AuditCmd::Log { json } => {
            let entries = store.audit_entries()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else {
                for e in &entries {
                    println!("#{:<4} {}  {:<24} {:<16} {}  {}", e.seq, e.at, e.actor, e.action, e.subject, e.detail);
                }
                println!("({} entries)", entries.len());
            }
            Ok(EXIT_OK)
        }
        AuditCmd::Verify => {
            let n = store.audit_entries()?.len();
            match store.audit_verify()? {
                None => {
                    println!("audit log intact: {n} entries, hash chain verified");
                    Ok(EXIT_OK)
                }
                Some(p) => {
                    eprintln!("audit log TAMPERED: {} (first bad entry: #{})", p.problem, p.seq);
                    Ok(EXIT_FAILURE)
                }
            }
        }
    }
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[arg(long, default_value = DEFAULT_DB)]
    pub db: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub fn status(a: StatusArgs) -> anyhow::Result<i32> {
    if !a.db.exists() {
        eprintln!("error: no store at {}", a.db.display());
        return Ok(EXIT_CONFIG);
    }
    let store = open_store(&a.db)?;
    let rows = match muster_govern::status(&store) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(EXIT_OK);
    }
    println!(
        "{:<24} {:<11} {:<20} {:<20} {:>5}  {:<22} holds",
        "connector", "state", "latest version", "approved", "score", "last sync"
    );
    for r in &rows {
        println!(
            "{:<24} {:<11} {:<20} {:<20} {:>5}  {:<22} {}",
            r.connector,
            r.state,
            r.latest_version.clone().unwrap_or_else(|| "—".into()),
            r.approved_version.clone().unwrap_or_else(|| "—".into()),
            r.last_score.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
            r.last_sync
                .map(|i| format!("#{i} {}", r.last_sync_status.clone().unwrap_or_default()))
                .unwrap_or_else(|| "—".into()),
            if r.held.is_empty() {
                "—".to_string()
            } else {
                r.held.iter().map(|h| format!("#{h}")).collect::<Vec<_>>().join(" ")
            }
        );
    }
    Ok(EXIT_OK)
}
