//! Serve a generic testkit scenario until killed, for benchmarks:
//! `muster-testkit-server --users N --groups G --members-per-group M [--page-size P] [--latency-ms L]`.
//! Prints `BASE_URL=http://127.0.0.1:PORT` on the first line of stdout.

use muster_testkit::{Pagination, Scenario, serve};
use std::io::Write as _;

fn main() {
    let mut s = Scenario { max_page_size: 1000, default_page_size: 100, ..Scenario::default() };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < args.len() {
        let v = &args[i + 1];
        let n: u64 = v.parse().unwrap_or_else(|_| {
            eprintln!("{}: `{v}` is not a number", args[i]);
            std::process::exit(2)
        });
        match args[i].as_str() {
            "--users" => s.users = n as usize,
            "--groups" => s.groups = n as usize,
            "--members-per-group" => s.members_per_group = n as usize,
            "--page-size" => s.max_page_size = n as usize,
            "--latency-ms" => s.latency_ms = n,
            other => {
                eprintln!("unknown option {other}");
                std::process::exit(2)
            }
        }
        i += 2;
    }
    s.pagination = Pagination::Offset;
    let server = match serve(s) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot start the server: {e}");
            std::process::exit(1)
        }
    };
    println!("BASE_URL={}", server.base_url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
