//! The inventory stays paginated in SQL with 100k identities: page 1000 holds exactly the right rows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may unwrap

mod common;

use axum::http::StatusCode;
use common::*;
use muster_model::*;
use muster_store::Store;

const N: usize = 100_000;

fn user(i: usize) -> Record {
    let service = i.is_multiple_of(10);
    Record::Resource(Resource {
        resource_type: "user".into(),
        id: format!("u{i:06}"),
        parent: None,
        display_name: Some(format!("Person {i}")),
        description: None,
        status: if i.is_multiple_of(7) { Status::Disabled } else { Status::Enabled },
        user: Some(UserTraits {
            emails: vec![format!("p{i}@example.com")],
            login: Some(format!("login{i}")),
            account_type: Some(if service { AccountType::Service } else { AccountType::Human }),
            last_login: None,
            mfa: None,
        }),
        secret: None,
        profile: serde_json::Map::new(),
    })
}

fn sync(store: &mut Store, connector: &str, ids: impl Iterator<Item = usize>) {
    let mut w = store.begin_sync(connector, "sha256:00", "2026-10-01T00:00:00Z").unwrap();
    let rt = Record::ResourceType(ResourceType {
        id: "user".into(),
        display_name: "User".into(),
        traits: vec![Trait::User],
    });
    RecordSink::write_batch(&mut w, &[rt]).unwrap();
    let all: Vec<Record> = ids.map(user).collect();
    for batch in all.chunks(10_000) {
        RecordSink::write_batch(&mut w, batch).unwrap();
    }
    w.finish("2026-10-01T00:10:00Z").unwrap();
}

#[tokio::test]
async fn page_1000_of_100k_identities() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    {
        let mut store = Store::open(&db).unwrap();
        // An older snapshot of "big" that must not be counted, then the current one.
        sync(&mut store, "big", 1..=500);
        sync(&mut store, "big", 1..=N);
        sync(&mut store, "small", 1..=10);
    }
    let app = app(config(&db));

    let j = get(&app, "/api/inventory?per_page=100&page=1000").await.json();
    assert_eq!(j["total"], N as u64 + 10);
    assert_eq!(j["pages"], 1001);
    let items = j["items"].as_array().unwrap();
    assert_eq!(items.len(), 100);
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let want: Vec<String> = (99_901..=N).map(|i| format!("u{i:06}")).collect();
    assert_eq!(ids, want.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(items.iter().all(|i| i["connector"] == "big"));
    assert_eq!(items[0]["emails"][0], "p99901@example.com");

    let j = get(&app, "/api/inventory?per_page=100&page=1001").await.json();
    let items = j["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert!(items.iter().all(|i| i["connector"] == "small"));
    let j = get(&app, "/api/inventory?per_page=100&page=1002").await.json();
    assert_eq!(j["items"].as_array().unwrap().len(), 0);

    // filters and search stay in SQL
    let j = get(&app, "/api/inventory?connector=big&type=service&status=disabled&per_page=5&page=3").await.json();
    assert_eq!(j["total"], (1..=N).filter(|i| i.is_multiple_of(10) && i.is_multiple_of(7)).count() as u64);
    let want: Vec<String> =
        (1..=N).filter(|i| i.is_multiple_of(70)).skip(10).take(5).map(|i| format!("u{i:06}")).collect();
    let ids: Vec<String> =
        j["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, want);
    let j = get(&app, "/api/inventory?q=p54321@&connector=big").await.json();
    assert_eq!(j["total"], 1);
    assert_eq!(j["items"][0]["id"], "u054321");

    // the page renders its pager
    let r = get(&app, "/inventory?per_page=100&page=1000").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("page 1000 of 1001 · 100010 identities"), "{}", &r.body[..r.body.len().min(3000)]);
    assert!(r.body.contains("u099901") && r.body.contains("u100000"));
}
