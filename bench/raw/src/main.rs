//! Raw fetch limit for the Muster benchmark: the same requests as `bench/connector.yaml` makes
//! (users pages, groups pages, then every group's members pages with `--concurrency` groups in
//! flight), each body parsed with serde_json into typed records, and nothing else — no mapping,
//! no storage. Prints one JSON line: {"records":N,"requests":R,"seconds":S}.
//!
//! usage: muster-bench-raw BASE_URL [--page-size 1000] [--concurrency 8] [--parse typed|value]

use futures::StreamExt as _;
use serde::Deserialize;
use std::time::Instant;

#[derive(Deserialize)]
#[allow(dead_code)]
struct User {
    id: String,
    name: String,
    email: String,
    active: bool,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Group {
    id: String,
    name: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Member {
    user_id: String,
}

#[derive(Deserialize)]
struct Page<T> {
    items: Vec<T>,
    total: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum Parse {
    Typed,
    Value,
}

struct Fetcher {
    client: reqwest::Client,
    base: String,
    page_size: u64,
    parse: Parse,
}

impl Fetcher {
    /// Every page of an offset-paginated list; returns (records, requests, items when `keep`).
    async fn list<T: serde::de::DeserializeOwned>(&self, path: &str, keep: bool) -> Result<(u64, u64, Vec<T>), String> {
        let mut offset = 0u64;
        let mut records = 0u64;
        let mut requests = 0u64;
        let mut kept = Vec::new();
        loop {
            let url = format!("{}{}?offset={}&limit={}", self.base, path, offset, self.page_size);
            let resp = self.client.get(&url).send().await.map_err(|e| format!("{url}: {e}"))?;
            if !resp.status().is_success() {
                return Err(format!("{url}: HTTP {}", resp.status()));
            }
            let body = resp.bytes().await.map_err(|e| format!("{url}: {e}"))?;
            requests += 1;
            let (n, total) = match self.parse {
                Parse::Typed => {
                    let page: Page<T> = serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))?;
                    let n = page.items.len() as u64;
                    if keep {
                        kept.extend(page.items);
                    }
                    (n, page.total)
                }
                Parse::Value => {
                    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))?;
                    let items = v.get("items").and_then(|i| i.as_array()).ok_or("no items")?;
                    let total = v.get("total").and_then(|t| t.as_u64()).ok_or("no total")?;
                    for it in items.iter().filter(|_| keep) {
                        kept.push(serde_json::from_value(it.clone()).map_err(|e| e.to_string())?);
                    }
                    (items.len() as u64, total)
                }
            };
            records += n;
            offset += n;
            if n == 0 || offset >= total {
                return Ok((records, requests, kept));
            }
        }
    }
}

#[tokio::main(worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(base) = args.first().cloned() else {
        eprintln!("usage: muster-bench-raw BASE_URL [--page-size 1000] [--concurrency 8] [--parse typed|value]");
        std::process::exit(2)
    };
    let mut page_size = 1000u64;
    let mut concurrency = 8usize;
    let mut parse = Parse::Typed;
    let mut i = 1;
    while i + 1 < args.len() {
        match (args[i].as_str(), args[i + 1].as_str()) {
            ("--page-size", v) => page_size = v.parse().expect("--page-size: a number"),
            ("--concurrency", v) => concurrency = v.parse().expect("--concurrency: a number"),
            ("--parse", "typed") => parse = Parse::Typed,
            ("--parse", "value") => parse = Parse::Value,
            (k, v) => {
                eprintln!("unknown option {k} {v}");
                std::process::exit(2)
            }
        }
        i += 2;
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("client");
    let f = Fetcher { client, base, page_size, parse };
    let start = Instant::now();
    let (users, mut requests, _): (u64, u64, Vec<User>) = f.list("/users", false).await.unwrap_or_else(|e| fail(&e));
    let (groups, r, group_list): (u64, u64, Vec<Group>) = f.list("/groups", true).await.unwrap_or_else(|e| fail(&e));
    requests += r;
    let f = &f;
    let mut members = 0u64;
    let mut stream = futures::stream::iter(group_list.iter())
        .map(|g| async move { f.list::<Member>(&format!("/groups/{}/members", g.id), false).await })
        .buffer_unordered(concurrency.max(1));
    while let Some(res) = stream.next().await {
        let (n, r, _) = res.unwrap_or_else(|e| fail(&e));
        members += n;
        requests += r;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{{\"records\":{},\"users\":{users},\"groups\":{groups},\"memberships\":{members},\"requests\":{requests},\"seconds\":{secs:.4}}}",
        users + groups + members
    );
}

fn fail(e: &str) -> ! {
    eprintln!("error: {e}");
    std::process::exit(1)
}
