use crate::check::load;
use crate::{EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, FileArg};
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use muster_engine::sync::{EnvFn, Progress, SyncOptions, SyncReport};
use muster_spec::CompiledConnector;
use muster_store::{Store, SyncInfo, SyncStatus};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Instant;

pub const DEFAULT_DB: &str = "muster.db";

/// The current time as RFC 3339 (the CLI is where the clock is read).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// The connector file.
    pub file: FileArg,
    /// The store (SQLite file). Created if missing.
    #[arg(long, default_value = DEFAULT_DB)]
    pub db: PathBuf,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Progress bars per listing: pages, records, records/s.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, (ProgressBar, Instant)>>,
    quiet: bool,
}

impl Bars {
    fn new(quiet: bool) -> Bars {
        let multi = MultiProgress::new();
        if quiet {
            multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        Bars { multi, bars: Mutex::new(HashMap::new()), quiet }
    }

    fn bar(&self, label: &str) -> Option<(ProgressBar, Instant)> {
        if self.quiet {
            return None;
        }
        let mut bars = self.bars.lock().ok()?;
        let entry = bars.entry(label.to_string()).or_insert_with(|| {
            let pb = self.multi.add(ProgressBar::new_spinner());
            let style = ProgressStyle::with_template("{spinner} {prefix:<28} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            pb.set_style(style);
            pb.set_prefix(label.to_string());
            (pb, Instant::now())
        });
        Some(entry.clone())
    }
}

impl Progress for Bars {
    fn page(&self, label: &str, pages: u64, records: u64) {
        if let Some((pb, start)) = self.bar(label) {
            let rate = muster_engine::sync::rate(records, start.elapsed());
            pb.set_message(format!("{pages} pages, {records} records, {rate:.0}/s"));
            pb.tick();
        }
    }

    fn done(&self, label: &str, records: u64) {
        if let Some((pb, start)) = self.bar(label) {
            let rate = muster_engine::sync::rate(records, start.elapsed());
            pb.finish_with_message(format!("{records} records ({rate:.0}/s) done"));
        }
    }
}

/// Outcome of running a connector into the store.
pub enum SyncOutcome {
    Done(Box<(SyncInfo, SyncReport)>),
    Failed { sync_id: i64, error: String, config: bool },
}

/// Run a connector into `store`, marking the sync completed or failed. Ctrl-C stops it (failed, previous
/// snapshot stays current).
pub fn sync_into(store: &mut Store, c: &CompiledConnector, env: &EnvFn, quiet: bool) -> anyhow::Result<SyncOutcome> {
    let opts = SyncOptions::default();
    let cancel = opts.cancel.clone();
    let _guard = CtrlC::install(cancel.clone());
    let bars = Bars::new(quiet);
    let mut writer = store.begin_sync(&c.name, &c.spec_hash, &now()).context("cannot start a sync in the store")?;
    let sync_id = writer.id();
    let result = muster_engine::sync::run(c, env, &mut writer, &opts, &bars);
    match result {
        Ok(report) => {
            let info = writer.finish(&now()).context("cannot complete the sync in the store")?;
            Ok(SyncOutcome::Done(Box::new((info, report))))
        }
        Err(e) => {
            let config = e.is_config();
            let msg = if cancel.load(Ordering::SeqCst) && matches!(e, muster_engine::sync::EngineError::Cancelled) {
                "interrupted (Ctrl-C)".to_string()
            } else {
                e.to_string()
            };
            writer.fail(&now(), &msg).context("cannot record the failed sync")?;
            Ok(SyncOutcome::Failed { sync_id, error: msg, config })
        }
    }
}

/// Sets the cancel flag on Ctrl-C while alive.
struct CtrlC {
    _thread: Option<std::thread::JoinHandle<()>>,
}

impl CtrlC {
    fn install(flag: std::sync::Arc<std::sync::atomic::AtomicBool>) -> CtrlC {
        let handle = std::thread::Builder::new().name("ctrl-c".into()).spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if tokio::signal::ctrl_c().await.is_ok() {
                    flag.store(true, Ordering::SeqCst);
                }
            });
        });
        CtrlC { _thread: handle.ok() }
    }
}

pub fn open_store(db: &Path) -> anyhow::Result<Store> {
    let store = Store::open(db).with_context(|| format!("cannot open the store {}", db.display()))?;
    let abandoned = store.abandoned_at_open();
    if !abandoned.is_empty() {
        eprintln!(
            "note: sync{} {} did not finish (the process was killed); marked abandoned, the previous snapshot stays current",
            if abandoned.len() == 1 { "" } else { "s" },
            abandoned.iter().map(|i| format!("#{i}")).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(store)
}

pub fn sync(a: SyncArgs) -> anyhow::Result<i32> {
    let Some((c, _)) = load(&a.file) else { return Ok(EXIT_CONFIG) };
    let mut store = open_store(&a.db)?;
    let env = |n: &str| std::env::var(n).ok();
    match sync_into(&mut store, &c, &env, a.quiet || a.json)? {
        SyncOutcome::Done(done) => {
            let (info, report) = *done;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "sync": info, "report": report }))?);
            } else {
                print_sync_summary(&info, &report);
            }
            Ok(EXIT_OK)
        }
        SyncOutcome::Failed { sync_id, error, config } => {
            if a.json {
                println!("{}", serde_json::json!({ "sync_id": sync_id, "status": "failed", "error": error }));
            }
            eprintln!("error: sync #{sync_id} of {} failed: {error}", c.name);
            let prev = store.current_sync(&c.name)?;
            match prev {
                Some(p) => eprintln!("  the previous snapshot (sync #{}) stays current", p.id),
                None => eprintln!("  no snapshot of {} exists yet", c.name),
            }
            Ok(if config { EXIT_CONFIG } else { EXIT_FAILURE })
        }
    }
}

pub fn print_sync_summary(info: &SyncInfo, report: &SyncReport) {
    let secs = report.elapsed_ms as f64 / 1000.0;
    println!(
        "sync #{} of {} completed in {:.2}s: {} resources, {} entitlements, {} grants ({} requests, {:.0} records/s)",
        info.id,
        info.connector,
        secs,
        info.counts.resources,
        info.counts.entitlements,
        info.counts.grants,
        report.requests,
        if secs > 0.0 { report.records() as f64 / secs } else { 0.0 }
    );
    for (t, n) in &info.counts.by_type {
        let total = report.resource_types.iter().find(|r| &r.label == t).and_then(|r| r.api_total);
        match total {
            Some(tot) => println!("  {t:<16} {n:>8}   (API reports {tot})"),
            None => println!("  {t:<16} {n:>8}"),
        }
    }
    if info.counts.findings > 0 {
        println!("  {} finding(s): run `muster inspect findings --sync {}`", info.counts.findings, info.id);
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    Syncs,
    Resources,
    Entitlements,
    Grants,
    Findings,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fmt {
    Table,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// What to list.
    #[arg(value_enum)]
    pub what: What,
    /// The store.
    #[arg(long, default_value = DEFAULT_DB)]
    pub db: PathBuf,
    /// Only this resource type (for grants: the type of the entitlement's resource).
    #[arg(long = "type")]
    pub resource_type: Option<String>,
    /// The sync to read. Default: the current snapshot of the connector (or of the newest synced connector).
    #[arg(long)]
    pub sync: Option<i64>,
    /// The connector (its app name). Default: the one most recently synced.
    #[arg(long)]
    pub connector: Option<String>,
    #[arg(long, value_enum, default_value_t = Fmt::Table)]
    pub format: Fmt,
}

fn pick_sync(store: &Store, sync: Option<i64>, connector: Option<&str>) -> anyhow::Result<Option<i64>> {
    if let Some(id) = sync {
        if store.sync(id)?.is_none() {
            anyhow::bail!("no sync #{id} in {}; run `muster inspect syncs` to list them", store.path());
        }
        return Ok(Some(id));
    }
    let name = match connector {
        Some(c) => c.to_string(),
        None => match store.syncs(None)?.into_iter().find(|s| s.status == SyncStatus::Completed) {
            Some(s) => s.connector,
            None => return Ok(None),
        },
    };
    Ok(store.current_sync(&name)?.map(|s| s.id))
}

fn print_rows(fmt: Fmt, header: &[&str], rows: Vec<Vec<String>>, json: serde_json::Value) -> anyhow::Result<()> {
    match fmt {
        Fmt::Json => println!("{}", serde_json::to_string_pretty(&json)?),
        Fmt::Csv => {
            println!("{}", header.join(","));
            for r in rows {
                println!("{}", r.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
            }
        }
        Fmt::Table => {
            let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
            for r in &rows {
                for (i, c) in r.iter().enumerate() {
                    widths[i] = widths[i].max(c.chars().count().min(48));
                }
            }
            let line = |cells: Vec<String>| {
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let c: String = c.chars().take(48).collect();
                        format!("{c:<w$}", w = widths[i])
                    })
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            println!("{}", line(header.iter().map(|h| h.to_string()).collect()));
            let n = rows.len();
            for r in rows {
                println!("{}", line(r));
            }
            println!("({n} row{})", if n == 1 { "" } else { "s" });
        }
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

pub fn inspect(a: InspectArgs) -> anyhow::Result<i32> {
    if !a.db.exists() {
        eprintln!("error: no store at {}; run `muster sync FILE --db {}` first", a.db.display(), a.db.display());
        return Ok(EXIT_CONFIG);
    }
    let store = open_store(&a.db)?;
    if a.what == What::Syncs {
        let syncs = store.syncs(a.connector.as_deref())?;
        let rows = syncs
            .iter()
            .map(|s| {
                vec![
                    s.id.to_string(),
                    s.connector.clone(),
                    s.status.as_str().to_string(),
                    s.started_at.clone(),
                    s.counts.resources.to_string(),
                    s.counts.grants.to_string(),
                    s.error.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print_rows(
            a.format,
            &["id", "connector", "status", "started", "resources", "grants", "error"],
            rows,
            serde_json::to_value(&syncs)?,
        )?;
        return Ok(EXIT_OK);
    }
    let Some(sync_id) = pick_sync(&store, a.sync, a.connector.as_deref())? else {
        eprintln!(
            "error: {} holds no completed sync yet; run `muster sync FILE --db {}`",
            a.db.display(),
            a.db.display()
        );
        return Ok(EXIT_CONFIG);
    };
    let t = a.resource_type.as_deref();
    match a.what {
        What::Resources => {
            let rs = store.resources(sync_id, t)?;
            let rows = rs
                .iter()
                .map(|r| {
                    let u = r.user.as_ref();
                    vec![
                        r.resource_type.clone(),
                        r.id.clone(),
                        r.display_name.clone().unwrap_or_default(),
                        r.status.as_str().to_string(),
                        u.and_then(|u| u.account_type).map(|a| a.as_str().to_string()).unwrap_or_default(),
                        u.map(|u| u.emails.join(" ")).unwrap_or_default(),
                        u.and_then(|u| u.login.clone()).unwrap_or_default(),
                    ]
                })
                .collect();
            print_rows(
                a.format,
                &["type", "id", "name", "status", "account", "email", "login"],
                rows,
                serde_json::to_value(&rs)?,
            )?;
        }
        What::Entitlements => {
            let es = store.entitlements(sync_id, t)?;
            let rows = es
                .iter()
                .map(|e| {
                    vec![
                        e.resource.to_string(),
                        e.slug.clone(),
                        e.purpose.as_str().to_string(),
                        e.grantable_to.join(" "),
                    ]
                })
                .collect();
            print_rows(a.format, &["resource", "slug", "purpose", "grantable_to"], rows, serde_json::to_value(&es)?)?;
        }
        What::Grants => {
            let gs = store.grants(sync_id, t)?;
            let rows = gs.iter().map(|g| vec![g.entitlement.to_string(), g.principal.to_string()]).collect();
            print_rows(a.format, &["entitlement", "principal"], rows, serde_json::to_value(&gs)?)?;
        }
        What::Findings => {
            let fs = store.findings(sync_id)?;
            let rows = fs.iter().map(|f| vec![f.kind.clone(), f.subject.clone(), f.detail.clone()]).collect();
            print_rows(a.format, &["kind", "subject", "detail"], rows, serde_json::to_value(&fs)?)?;
        }
        What::Syncs => {}
    }
    Ok(EXIT_OK)
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The older sync. With neither sync given: the connector's last two completed syncs.
    pub from: Option<i64>,
    /// The newer sync.
    pub to: Option<i64>,
    #[arg(long, default_value = DEFAULT_DB)]
    pub db: PathBuf,
    /// The connector (its app name). Default: the one most recently synced.
    #[arg(long)]
    pub connector: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn diff(a: DiffArgs) -> anyhow::Result<i32> {
    if !a.db.exists() {
        eprintln!("error: no store at {}", a.db.display());
        return Ok(EXIT_CONFIG);
    }
    let store = open_store(&a.db)?;
    let (from, to) = match (a.from, a.to) {
        (Some(f), Some(t)) => (f, t),
        (Some(_), None) | (None, Some(_)) => {
            eprintln!("error: give two sync ids, or none for the last two syncs of a connector");
            return Ok(EXIT_CONFIG);
        }
        (None, None) => {
            let name = match &a.connector {
                Some(c) => c.clone(),
                None => match store.syncs(None)?.into_iter().find(|s| s.status == SyncStatus::Completed) {
                    Some(s) => s.connector,
                    None => {
                        eprintln!("error: no completed sync in {}", a.db.display());
                        return Ok(EXIT_CONFIG);
                    }
                },
            };
            let done: Vec<i64> = store
                .syncs(Some(&name))?
                .into_iter()
                .filter(|s| s.status == SyncStatus::Completed)
                .map(|s| s.id)
                .collect();
            if done.len() < 2 {
                eprintln!("error: {name} has {} completed sync(s); a diff needs two", done.len());
                return Ok(EXIT_CONFIG);
            }
            (done[1], done[0])
        }
    };
    let d = store.diff(from, to)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
        return Ok(EXIT_OK);
    }
    println!("diff sync #{from} → #{to}");
    let section = |title: &str, sign: &str, items: Vec<String>| {
        println!("{title}: {}", items.len());
        for i in items.iter().take(50) {
            println!("  {sign} {i}");
        }
        if items.len() > 50 {
            println!("  … and {} more (use --json for all)", items.len() - 50);
        }
    };
    section("resources added", "+", d.resources_added.iter().map(|r| r.to_string()).collect());
    section("resources removed", "-", d.resources_removed.iter().map(|r| r.to_string()).collect());
    section("resources changed", "~", d.resources_changed.iter().map(|r| r.to_string()).collect());
    section(
        "grants added",
        "+",
        d.grants_added.iter().map(|g| format!("{} → {}", g.principal, g.entitlement)).collect(),
    );
    section(
        "grants removed",
        "-",
        d.grants_removed.iter().map(|g| format!("{} → {}", g.principal, g.entitlement)).collect(),
    );
    Ok(EXIT_OK)
}
