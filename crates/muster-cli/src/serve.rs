//! `muster serve`: the web UI and JSON API over a store (see the `muster-web` crate).

use crate::sync::DEFAULT_DB;
use crate::{EXIT_CONFIG, EXIT_OK};
use clap::Args;
use muster_govern::ApprovalRules;
use muster_web::{ServeConfig, StartError};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The store (SQLite file) to serve; it must exist.
    #[arg(long, default_value = DEFAULT_DB)]
    pub db: PathBuf,
    /// The address to listen on. Anything but a loopback address needs --token.
    #[arg(long, default_value = muster_web::DEFAULT_BIND)]
    pub bind: SocketAddr,
    /// Require this token (16+ characters): as `Authorization: Bearer …` for /api, in a login form for the UI.
    #[arg(long, env = "MUSTER_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Approvals: require the approver to differ from the version's author (as `muster approve --four-eyes`).
    #[arg(long, env = "MUSTER_FOUR_EYES")]
    pub four_eyes: bool,
    /// Approvals: the passing trust report must be younger than this many hours.
    #[arg(long, default_value_t = 168, env = "MUSTER_MAX_REPORT_AGE_HOURS")]
    pub max_report_age_hours: i64,
}

pub fn serve(a: ServeArgs) -> anyhow::Result<i32> {
    if !a.db.exists() {
        eprintln!("error: no store at {}; create one with `muster sync` or `muster demo`", a.db.display());
        return Ok(EXIT_CONFIG);
    }
    let mut cfg = ServeConfig::new(&a.db);
    cfg.token = a.token;
    cfg.rules = ApprovalRules { max_report_age_hours: a.max_report_age_hours, four_eyes: a.four_eyes };
    let db = a.db.display().to_string();
    let result = muster_web::run_until_ctrl_c(cfg, a.bind, |addr| {
        println!("muster serve: http://{addr}/ (store {db}); Ctrl-C to stop");
    });
    match result {
        Ok(()) => Ok(EXIT_OK),
        Err(StartError::Config(m)) => {
            eprintln!("error: {m}");
            Ok(EXIT_CONFIG)
        }
        Err(e) => Err(e.into()),
    }
}
