//! Informal write throughput: `cargo run --release -p muster-store --example write_bench [-- N]`.
//!
//! Writes N users (default 1,000,000) plus one group membership grant each, in batches of 1000, into a
//! fresh file in a temporary directory, and prints records per second. Not a test: nothing is asserted.

use muster_model::{
    AccountType, EntitlementRef, Grant, Purpose, Record, RecordSink, Resource, ResourceRef, ResourceType, Status,
    Trait, UserTraits,
};
use muster_store::Store;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let mut store = Store::open(&path)?;
    let start = Instant::now();
    let mut w = store.begin_sync("bench", "h", "2026-01-01T00:00:00Z")?;
    let mut batch = vec![
        Record::ResourceType(ResourceType {
            id: "user".into(),
            display_name: "User".into(),
            traits: vec![Trait::User],
        }),
        Record::ResourceType(ResourceType {
            id: "group".into(),
            display_name: "Group".into(),
            traits: vec![Trait::Group],
        }),
    ];
    for g in 0..100 {
        batch.push(Record::Resource(Resource {
            resource_type: "group".into(),
            id: format!("g{g}"),
            parent: None,
            display_name: Some(format!("Group {g}")),
            description: None,
            status: Status::Enabled,
            user: None,
            secret: None,
            profile: serde_json::Map::new(),
        }));
        batch.push(Record::Entitlement(muster_model::Entitlement {
            resource: ResourceRef { resource_type: "group".into(), id: format!("g{g}") },
            slug: "member".into(),
            display_name: None,
            purpose: Purpose::Assignment,
            grantable_to: vec!["user".into()],
        }));
    }
    let mut records = batch.len();
    w.write_batch(&batch)?;
    let mut i = 0;
    let mut in_store = std::time::Duration::ZERO;
    while i < n {
        batch.clear();
        while batch.len() < 1000 && i < n {
            let id = format!("00u{i:010}");
            let mut profile = serde_json::Map::new();
            profile.insert("department".into(), serde_json::json!("Engineering"));
            profile.insert("title".into(), serde_json::json!("Engineer"));
            batch.push(Record::Resource(Resource {
                resource_type: "user".into(),
                id: id.clone(),
                parent: None,
                display_name: Some(format!("User {i}")),
                description: None,
                status: Status::Enabled,
                user: Some(UserTraits {
                    emails: vec![format!("user{i}@example.com")],
                    login: Some(format!("user{i}")),
                    account_type: Some(AccountType::Human),
                    last_login: Some("2026-01-01T00:00:00Z".into()),
                    mfa: Some(true),
                }),
                secret: None,
                profile,
            }));
            batch.push(Record::Grant(Grant {
                entitlement: EntitlementRef {
                    resource: ResourceRef { resource_type: "group".into(), id: format!("g{}", i % 100) },
                    slug: "member".into(),
                },
                principal: ResourceRef { resource_type: "user".into(), id },
            }));
            i += 1;
        }
        records += batch.len();
        let t = Instant::now();
        w.write_batch(&batch)?;
        in_store += t.elapsed();
    }
    let written = start.elapsed();
    let info = w.finish("2026-01-01T00:10:00Z")?;
    let total = start.elapsed();
    let size = std::fs::metadata(&path)?.len();
    println!(
        "{records} records: inside write_batch {:.2}s ({:.0} records/s); write incl. building records {:.2}s ({:.0} records/s), finish {:.2}s, total {:.0} records/s; \
         findings {}; file {} MiB",
        in_store.as_secs_f64(),
        records as f64 / in_store.as_secs_f64(),
        written.as_secs_f64(),
        records as f64 / written.as_secs_f64(),
        (total - written).as_secs_f64(),
        records as f64 / total.as_secs_f64(),
        info.counts.findings,
        size / (1 << 20),
    );
    Ok(())
}
