use crate::check::load;
use crate::{EXIT_CONFIG, EXIT_FAILURE, EXIT_HELD, EXIT_OK, FileArg};
use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
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
#[command(args_conflicts_with_subcommands = true)]
pub struct SyncArgs {
    #[command(subcommand)]
    pub action: Option<SyncAction>,
    /// The connector file. With --approved and no file, the approved version from the registry runs.
    pub file: Option<FileArg>,
    /// Production mode: run only the version of this connector (its app name) that was approved; a spec
    /// whose hash differs, or a base URL other than the one tested, is refused with the changes since.
    #[arg(long, value_name = "NAME")]
    pub approved: Option<String>,
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

#[derive(Subcommand, Debug)]
pub enum SyncAction {
    /// Make a sync held by the drift guard current, after reviewing what it drops (audited).
    Accept {
        /// The held sync's id (see `muster status` or `muster inspect syncs`).
        id: i64,
        /// Who accepts it: "Name <email>".
        #[arg(long = "as", value_name = "WHO")]
        actor: String,
        /// Why the drop is real.
        #[arg(long, default_value = "")]
        comment: String,
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
    },
}

/// The acting person, for audit entries of commands that take no `--as`.
pub fn actor() -> String {
    std::env::var("MUSTER_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "unknown".into())
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
    /// Complete but held by the drift guard: stored, not current.
    Held(Box<(SyncInfo, SyncReport, Vec<muster_govern::drift::DriftIssue>)>),
    Failed {
        sync_id: i64,
        error: String,
        config: bool,
    },
}

/// Run a connector into `store`, marking the sync completed or failed. Ctrl-C stops it (failed, previous
/// snapshot stays current).
pub fn sync_into(store: &mut Store, c: &CompiledConnector, env: &EnvFn, quiet: bool) -> anyhow::Result<SyncOutcome> {
    let opts = SyncOptions::default();
    let cancel = opts.cancel.clone();
    let _guard = CtrlC::install(cancel.clone());
    let bars = Bars::new(quiet);
    let current = store.current_sync(&c.name)?;
    store.audit(&now(), &actor(), "sync.start", &c.name, &serde_json::json!({ "version": c.spec_hash }))?;
    let mut writer = store.begin_sync(&c.name, &c.spec_hash, &now()).context("cannot start a sync in the store")?;
    let sync_id = writer.id();
    let result = muster_engine::sync::run(c, env, &mut writer, &opts, &bars);
    match result {
        Ok(report) => {
            let issues = match &current {
                Some(cur) => muster_govern::drift::evaluate(&cur.counts, &writer.counts()?, &c.drift),
                None => Vec::new(),
            };
            let report_json = serde_json::to_string(&report)?;
            if issues.is_empty() {
                let info = writer.finish(&now()).context("cannot complete the sync in the store")?;
                store.save_sync_report(info.id, &report_json)?;
                store.audit(
                    &now(),
                    &actor(),
                    "sync.end",
                    &c.name,
                    &serde_json::json!({ "sync": info.id, "status": "completed", "resources": info.counts.resources, "grants": info.counts.grants }),
                )?;
                Ok(SyncOutcome::Done(Box::new((info, report))))
            } else {
                let reason = issues.iter().map(|i| i.message.clone()).collect::<Vec<_>>().join("; ");
                let info = writer.finish_held(&now(), &reason).context("cannot store the held sync")?;
                store.save_sync_report(info.id, &report_json)?;
                store.audit(
                    &now(),
                    &actor(),
                    "sync.hold",
                    &c.name,
                    &serde_json::json!({ "sync": info.id, "reason": reason }),
                )?;
                Ok(SyncOutcome::Held(Box::new((info, report, issues))))
            }
        }
        Err(e) => {
            let config = e.is_config();
            let msg = if cancel.load(Ordering::SeqCst) && matches!(e, muster_engine::sync::EngineError::Cancelled) {
                "interrupted (Ctrl-C)".to_string()
            } else {
                e.to_string()
            };
            writer.fail(&now(), &msg).context("cannot record the failed sync")?;
            store.audit(
                &now(),
                &actor(),
                "sync.end",
                &c.name,
                &serde_json::json!({ "sync": sync_id, "status": "failed", "error": msg }),
            )?;
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
    if let Some(SyncAction::Accept { id, actor, comment, db }) = a.action {
        return accept(id, &actor, &comment, &db);
    }
    let mut store = open_store(&a.db)?;
    let loaded = match (&a.file, &a.approved) {
        (Some(f), _) => load(f),
        (None, Some(name)) => {
            match store.approved(name)?.and_then(|d| store.version(name, &d.spec_hash).ok().flatten()) {
                Some(v) => {
                    let checked = muster_spec::check(
                        &v.source,
                        &format!("registry:{name}@{}", muster_govern::short(&v.spec_hash)),
                    );
                    checked.connector.map(|c| (c, v.source.clone()))
                }
                None => {
                    eprintln!("error: `{name}` has no approved version in {}; see `muster status`", a.db.display());
                    return Ok(EXIT_CONFIG);
                }
            }
        }
        (None, None) => {
            eprintln!("error: give a connector FILE, or --approved NAME to run the approved version");
            return Ok(EXIT_CONFIG);
        }
    };
    let Some((c, _)) = loaded else { return Ok(EXIT_CONFIG) };
    let env = |n: &str| std::env::var(n).ok();
    if let Some(name) = &a.approved {
        if name != &c.name {
            eprintln!("error: the file is connector `{}`, not `{name}`", c.name);
            return Ok(EXIT_CONFIG);
        }
        let base = match muster_engine::sync::client_config(&c, &env) {
            Ok(cfg) => cfg.base_url,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_CONFIG);
            }
        };
        if let Err(e) = muster_govern::gate(&store, &c, &base) {
            store.audit(
                &now(),
                &actor(),
                "sync.refused",
                &c.name,
                &serde_json::json!({ "version": c.spec_hash, "reason": e.to_string() }),
            )?;
            eprintln!("error: production gate: {e}");
            return Ok(EXIT_CONFIG);
        }
    }
    let previous = store.current_sync(&c.name)?;
    match sync_into(&mut store, &c, &env, a.quiet || a.json)? {
        SyncOutcome::Done(done) => {
            let (info, report) = *done;
            let drift = coverage_drift(&store, previous.as_ref().map(|p| p.id), &report);
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "sync": info, "report": report, "coverage_drift": drift })
                    )?
                );
            } else {
                print_sync_summary(&info, &report);
                for d in &drift {
                    println!("  coverage drift: {d}");
                }
            }
            Ok(EXIT_OK)
        }
        SyncOutcome::Held(held) => {
            let (info, report, issues) = *held;
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "sync": info, "report": report, "held": issues })
                    )?
                );
            }
            eprintln!("sync #{} of {} is HELD by the drift guard: it is stored but not current.", info.id, c.name);
            for i in &issues {
                eprintln!("  - {}", i.message);
            }
            if let Some(p) = &previous {
                eprintln!(
                    "  the previous snapshot (sync #{}) stays current; compare: muster diff {} {} --db {}",
                    p.id,
                    p.id,
                    info.id,
                    a.db.display()
                );
            }
            eprintln!(
                "  if the loss is real: muster sync accept {} --as \"Name <email>\" --db {}",
                info.id,
                a.db.display()
            );
            Ok(EXIT_HELD)
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

fn accept(id: i64, who: &str, comment: &str, db: &Path) -> anyhow::Result<i32> {
    let mut store = open_store(db)?;
    match store.accept_held(id) {
        Ok(info) => {
            store.audit(
                &now(),
                who,
                "sync.accept",
                &info.connector,
                &serde_json::json!({ "sync": id, "comment": comment }),
            )?;
            println!("sync #{id} of {} accepted by {who}; it is now the current snapshot", info.connector);
            Ok(EXIT_OK)
        }
        Err(muster_store::StoreError::NotRunning { status, .. }) => {
            eprintln!("error: sync #{id} is {status}, not held; only held syncs can be accepted");
            Ok(EXIT_CONFIG)
        }
        Err(muster_store::StoreError::SyncNotFound { .. }) => {
            eprintln!("error: no sync #{id} in {}", db.display());
            Ok(EXIT_CONFIG)
        }
        Err(e) => Err(e.into()),
    }
}

/// Mapped fields whose non-null share fell sharply since the previous sync.
fn coverage_drift(store: &Store, previous: Option<i64>, report: &SyncReport) -> Vec<String> {
    let Some(prev) = previous.and_then(|p| store.sync_report(p).ok().flatten()) else { return Vec::new() };
    let Ok(prev) = serde_json::from_str::<SyncReport>(&prev) else { return Vec::new() };
    coverage_drop(&prev, report)
}

/// Fields whose non-null share fell by 25 points or more between two reports.
fn coverage_drop(prev: &SyncReport, report: &SyncReport) -> Vec<String> {
    let share = |f: &muster_engine::map::FieldCount| {
        let t = f.present + f.null + f.missing;
        if t == 0 { None } else { Some(f.present as f64 / t as f64) }
    };
    let mut out = Vec::new();
    for l in &report.resource_types {
        let Some(pl) = prev.resource_types.iter().find(|p| p.label == l.label) else { continue };
        for (field, fc) in &l.coverage.fields {
            let (Some(now_s), Some(before)) = (share(fc), pl.coverage.fields.get(field).and_then(share)) else {
                continue;
            };
            if before - now_s >= 0.25 {
                out.push(format!("{} › {field}: {:.0}% non-null, was {:.0}%", l.label, now_s * 100.0, before * 100.0));
            }
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use muster_engine::map::{Coverage, FieldCount};
    use muster_engine::sync::ListingReport;

    fn report(present: u64, null: u64) -> SyncReport {
        let mut cov = Coverage::default();
        cov.fields.insert("user.email".into(), FieldCount { present, null, ..Default::default() });
        SyncReport {
            resource_types: vec![ListingReport { label: "user".into(), coverage: cov, ..Default::default() }],
            ..Default::default()
        }
    }

    #[test]
    fn coverage_drift_reports_sharp_drops_only() {
        assert_eq!(
            coverage_drop(&report(95, 5), &report(40, 60)),
            vec!["user › user.email: 40% non-null, was 95%".to_string()]
        );
        assert!(coverage_drop(&report(95, 5), &report(85, 15)).is_empty());
        assert!(coverage_drop(&report(40, 60), &report(95, 5)).is_empty());
    }
}
