//! Behaviour of the SQLite store.

use muster_model::{
    AccountType, Entitlement, EntitlementRef, Grant, Purpose, Record, RecordSink, Resource, ResourceRef, ResourceType,
    SecretTraits, Status, Trait, UserTraits,
};
use muster_store::{Store, StoreError, SyncStatus};

const T0: &str = "2026-01-01T00:00:00Z";
const T1: &str = "2026-01-01T00:01:00Z";

fn rref(ty: &str, id: &str) -> ResourceRef {
    ResourceRef { resource_type: ty.into(), id: id.into() }
}

fn plain(ty: &str, id: &str) -> Resource {
    Resource {
        resource_type: ty.into(),
        id: id.into(),
        parent: None,
        display_name: Some(format!("{ty} {id}")),
        description: None,
        status: Status::Enabled,
        user: None,
        secret: None,
        profile: serde_json::Map::new(),
    }
}

fn user(id: &str) -> Resource {
    Resource {
        user: Some(UserTraits {
            emails: vec![format!("{id}@example.com")],
            login: Some(id.into()),
            account_type: Some(AccountType::Human),
            last_login: None,
            mfa: Some(true),
        }),
        ..plain("user", id)
    }
}

fn types() -> Vec<Record> {
    vec![
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
    ]
}

fn member(group: &str) -> Entitlement {
    Entitlement {
        resource: rref("group", group),
        slug: "member".into(),
        display_name: Some(format!("member of {group}")),
        purpose: Purpose::Assignment,
        grantable_to: vec!["user".into()],
    }
}

fn grant(group: &str, user: &str) -> Grant {
    Grant {
        entitlement: EntitlementRef { resource: rref("group", group), slug: "member".into() },
        principal: rref("user", user),
    }
}

/// A completed sync of `connector` holding `records` (after the resource types).
fn sync_with(store: &mut Store, connector: &str, records: Vec<Record>) -> i64 {
    let mut w = store.begin_sync(connector, "hash", T0).expect("begin");
    let mut all = types();
    all.extend(records);
    w.write_batch(&all).expect("write");
    w.finish(T1).expect("finish").id
}

#[test]
fn a_resource_reads_back_equal() {
    let mut profile = serde_json::Map::new();
    profile.insert("department".into(), serde_json::json!("Finance"));
    profile.insert("cost".into(), serde_json::json!({"center": 42, "tags": ["a", "b"], "x": null}));
    let full = Resource {
        resource_type: "user".into(),
        id: "u1".into(),
        parent: Some(rref("org", "o1")),
        display_name: Some("Ada Lovelace".into()),
        description: Some("first programmer".into()),
        status: Status::Disabled,
        user: Some(UserTraits {
            emails: vec!["ada@example.com".into(), "ada@home.example".into()],
            login: Some("ada".into()),
            account_type: Some(AccountType::Service),
            last_login: Some("2025-12-31T23:59:59Z".into()),
            mfa: Some(false),
        }),
        secret: None,
        profile,
    };
    let key = Resource {
        resource_type: "api_key".into(),
        id: "k1".into(),
        parent: None,
        display_name: None,
        description: None,
        status: Status::Unknown,
        user: None,
        secret: Some(SecretTraits {
            kind: Some("api_key".into()),
            owner: Some(rref("user", "u1")),
            created_at: Some("2025-01-01T00:00:00Z".into()),
            expires_at: Some("2027-01-01T00:00:00Z".into()),
            last_used_at: Some("2026-01-01T00:00:00Z".into()),
        }),
        profile: serde_json::Map::new(),
    };
    // Present but empty traits must stay present.
    let empty_traits =
        Resource { user: Some(UserTraits::default()), secret: Some(SecretTraits::default()), ..plain("user", "u2") };
    let bare = Resource { display_name: None, status: Status::Deleted, ..plain("group", "g1") };
    let ent = Entitlement {
        resource: rref("group", "g1"),
        slug: "admin".into(),
        display_name: None,
        purpose: Purpose::Ownership,
        grantable_to: vec!["user".into(), "group".into()],
    };
    let types_in = vec![
        ResourceType { id: "user".into(), display_name: "User".into(), traits: vec![Trait::User] },
        ResourceType { id: "api_key".into(), display_name: "API key".into(), traits: vec![Trait::Secret, Trait::App] },
        ResourceType { id: "group".into(), display_name: "Group".into(), traits: vec![] },
    ];

    let mut store = Store::open_in_memory().expect("open");
    let mut w = store.begin_sync("okta", "h1", T0).expect("begin");
    let mut batch: Vec<Record> = types_in.iter().cloned().map(Record::ResourceType).collect();
    batch.extend([
        Record::Resource(full.clone()),
        Record::Resource(key.clone()),
        Record::Resource(empty_traits.clone()),
        Record::Resource(bare.clone()),
        Record::Entitlement(ent.clone()),
        Record::Grant(Grant { entitlement: ent.reference(), principal: rref("user", "u1") }),
    ]);
    let sink: &mut dyn RecordSink = &mut w;
    sink.write_batch(&batch).expect("write");
    let id = w.id();
    let info = w.finish(T1).expect("finish");
    assert_eq!(info.id, id);
    assert_eq!(info.status, SyncStatus::Completed);
    assert_eq!(info.finished_at.as_deref(), Some(T1));
    assert_eq!(info.spec_hash, "h1");

    let mut expected = vec![key, bare, empty_traits.clone(), full.clone()];
    expected.sort_by(|a, b| (&a.resource_type, &a.id).cmp(&(&b.resource_type, &b.id)));
    assert_eq!(store.resources(id, None).expect("resources"), expected);
    assert_eq!(store.resources(id, Some("user")).expect("users"), vec![full, empty_traits]);
    assert_eq!(store.resource_types(id).expect("types"), types_in);
    assert_eq!(store.entitlements(id, None).expect("ents"), vec![ent.clone()]);
    assert_eq!(store.entitlements(id, Some("user")).expect("ents"), vec![]);
    assert_eq!(
        store.grants(id, Some("group")).expect("grants"),
        vec![Grant { entitlement: ent.reference(), principal: rref("user", "u1") }]
    );
    assert_eq!(store.grants(id, Some("user")).expect("grants"), vec![]);
    assert_eq!(store.findings(id).expect("findings"), vec![]);
}

#[test]
fn counts_and_listing() {
    let mut store = Store::open_in_memory().expect("open");
    let a = sync_with(
        &mut store,
        "okta",
        vec![
            Record::Resource(user("u1")),
            Record::Resource(user("u2")),
            Record::Resource(plain("group", "g1")),
            Record::Entitlement(member("g1")),
            Record::Grant(grant("g1", "u1")),
        ],
    );
    let b = sync_with(&mut store, "github", vec![Record::Resource(user("x"))]);
    let c = store.counts(a).expect("counts");
    assert_eq!((c.resource_types, c.resources, c.entitlements, c.grants, c.findings), (2, 3, 1, 1, 0));
    assert_eq!(c.by_type.get("user"), Some(&2));
    assert_eq!(c.by_type.get("group"), Some(&1));
    assert_eq!(store.sync(a).expect("sync").expect("exists").counts, c);

    let all: Vec<i64> = store.syncs(None).expect("syncs").iter().map(|s| s.id).collect();
    assert_eq!(all, vec![b, a]);
    let okta: Vec<i64> = store.syncs(Some("okta")).expect("syncs").iter().map(|s| s.id).collect();
    assert_eq!(okta, vec![a]);
    assert_eq!(store.connectors().expect("connectors"), vec!["github", "okta"]);
    assert_eq!(store.sync(9999).expect("sync"), None);

    // A running sync is listed, with live counts, but is not current.
    let mut w = store.begin_sync("okta", "h2", T1).expect("begin");
    let running = w.id();
    w.write_batch(&[Record::Resource(user("u1"))]).expect("write");
    assert_eq!(w.counts().expect("live counts").resources, 1);
    // Dropped without finish: its open write transaction is rolled back; the sync stays `running` (the
    // next open marks it abandoned).
    drop(w);
    let info = store.sync(running).expect("sync").expect("exists");
    assert_eq!(info.status, SyncStatus::Running);
    assert_eq!(info.counts.resources, 0);
    assert_eq!(store.current_sync("okta").expect("current").map(|s| s.id), Some(a));

    let json = serde_json::to_value(store.sync(a).expect("sync")).expect("json");
    assert_eq!(json["status"], "completed");
    assert_eq!(json["counts"]["by_type"]["user"], 2);
}

#[test]
fn unknown_sync_is_an_error_naming_the_store() {
    let store = Store::open_in_memory().expect("open");
    let err = store.resources(42, None).expect_err("no such sync");
    assert!(matches!(err, StoreError::SyncNotFound { id: 42, .. }), "{err:?}");
    assert!(err.to_string().contains(":memory:"), "{err}");
    assert!(store.diff(1, 2).is_err());
    assert!(store.counts(3).is_err());
}

#[test]
fn a_failed_sync_leaves_the_previous_one_current() {
    let mut store = Store::open_in_memory().expect("open");
    let first = sync_with(&mut store, "okta", vec![Record::Resource(user("u1"))]);

    let mut w = store.begin_sync("okta", "h2", T1).expect("begin");
    let second = w.id();
    w.write_batch(&[Record::Resource(user("u2"))]).expect("write");
    w.fail(T1, "HTTP 500 from /users").expect("fail");

    let current = store.current_sync("okta").expect("current").expect("some");
    assert_eq!(current.id, first);
    let failed = store.sync(second).expect("sync").expect("exists");
    assert_eq!(failed.status, SyncStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("HTTP 500 from /users"));
    assert_eq!(failed.finished_at.as_deref(), Some(T1));
    assert_eq!(store.resources(second, None).expect("resources"), vec![]);
    assert_eq!(store.counts(second).expect("counts").resources, 0);
    assert_eq!(store.current_sync("github").expect("current"), None);
}

#[test]
fn a_sync_dropped_unfinished_is_abandoned_at_the_next_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("muster.db");
    let (first, second) = {
        let mut store = Store::open(&path).expect("open");
        assert!(store.abandoned_at_open().is_empty());
        let first = sync_with(&mut store, "okta", vec![Record::Resource(user("u1"))]);
        let mut w = store.begin_sync("okta", "h2", T1).expect("begin");
        w.write_batch(&[Record::Resource(user("u2"))]).expect("write");
        let second = w.id();
        drop(w); // as if the process had been killed
        (first, second)
    };
    let store = Store::open(&path).expect("reopen");
    assert_eq!(store.abandoned_at_open(), &[second]);
    let info = store.sync(second).expect("sync").expect("exists");
    assert_eq!(info.status, SyncStatus::Abandoned);
    assert!(info.error.is_some());
    assert_eq!(store.resources(second, None).expect("resources"), vec![]);
    assert_eq!(store.current_sync("okta").expect("current").map(|s| s.id), Some(first));
    drop(store);
    let store = Store::open(&path).expect("reopen again");
    assert!(store.abandoned_at_open().is_empty());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".lock"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn opening_the_store_while_another_handle_syncs_leaves_that_sync_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("muster.db");
    let mut writer_store = Store::open(&path).expect("open");
    let mut w = writer_store.begin_sync("okta", "h", T0).expect("begin");
    let mut batch = types();
    batch.push(Record::Resource(user("u1")));
    w.write_batch(&batch).expect("write");

    let reader = Store::open(&path).expect("second open");
    assert!(reader.abandoned_at_open().is_empty());
    let info = reader.sync(w.id()).expect("sync").expect("exists");
    assert_eq!(info.status, SyncStatus::Running);
    assert_eq!(reader.current_sync("okta").expect("current"), None);

    w.write_batch(&[Record::Resource(user("u2"))]).expect("write more");
    let done = w.finish(T1).expect("finish");
    assert_eq!(done.counts.resources, 2);
    // The other handle sees the completed snapshot.
    assert_eq!(reader.current_sync("okta").expect("current").map(|s| s.id), Some(done.id));
    assert_eq!(reader.resources(done.id, None).expect("resources").len(), 2);
}

#[test]
fn dangling_references_and_duplicates_become_findings() {
    let mut store = Store::open_in_memory().expect("open");
    let mut changed_copy = user("u1");
    changed_copy.display_name = Some("second copy".into());
    let id = sync_with(
        &mut store,
        "okta",
        vec![
            Record::Resource(user("u1")),
            Record::Resource(plain("group", "g1")),
            Record::Entitlement(member("g1")),
            Record::Entitlement(member("g1")),
            Record::Grant(grant("g1", "u1")),
            // principal never synced
            Record::Grant(grant("g1", "ghost")),
            // entitlement never synced
            Record::Grant(grant("g2", "u1")),
            // duplicates
            Record::Resource(changed_copy),
            Record::Grant(grant("g1", "u1")),
        ],
    );
    let findings = store.findings(id).expect("findings");
    let kinds: Vec<(&str, &str)> = findings.iter().map(|f| (f.kind.as_str(), f.subject.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            ("duplicate_entitlement", "group:g1:member"),
            ("duplicate_resource", "user:u1"),
            ("duplicate_grant", "group:g1:member -> user:u1"),
            ("dangling_principal", "user:ghost"),
            ("dangling_entitlement", "group:g2:member"),
        ]
    );
    assert!(findings.iter().all(|f| !f.detail.is_empty()));
    // The first copy is kept.
    let users = store.resources(id, Some("user")).expect("users");
    assert_eq!(users, vec![user("u1")]);
    // Dangling grants stay stored.
    assert_eq!(store.grants(id, None).expect("grants").len(), 3);
    let counts = store.counts(id).expect("counts");
    assert_eq!((counts.grants, counts.findings, counts.entitlements), (3, 5, 1));
}

#[test]
fn diff_between_two_syncs() {
    let mut store = Store::open_in_memory().expect("open");
    let a = sync_with(
        &mut store,
        "okta",
        vec![
            Record::Resource(user("keep")),
            Record::Resource(user("rename")),
            Record::Resource(user("mfa")),
            Record::Resource(user("profile_only")),
            Record::Resource(user("gone")),
            Record::Resource(plain("group", "g1")),
            Record::Entitlement(member("g1")),
            Record::Grant(grant("g1", "keep")),
            Record::Grant(grant("g1", "gone")),
        ],
    );
    let mut renamed = user("rename");
    renamed.display_name = Some("New Name".into());
    let mut no_mfa = user("mfa");
    if let Some(u) = no_mfa.user.as_mut() {
        u.mfa = None;
    }
    let mut profile_only = user("profile_only");
    profile_only.profile.insert("x".into(), serde_json::json!(1));
    let b = sync_with(
        &mut store,
        "okta",
        vec![
            Record::Resource(user("keep")),
            Record::Resource(renamed),
            Record::Resource(no_mfa),
            Record::Resource(profile_only),
            Record::Resource(user("new")),
            Record::Resource(plain("group", "g1")),
            Record::Entitlement(member("g1")),
            Record::Grant(grant("g1", "keep")),
            Record::Grant(grant("g1", "new")),
        ],
    );
    let d = store.diff(a, b).expect("diff");
    assert_eq!((d.from, d.to), (a, b));
    assert_eq!(d.resources_added, vec![rref("user", "new")]);
    assert_eq!(d.resources_removed, vec![rref("user", "gone")]);
    assert_eq!(d.resources_changed, vec![rref("user", "mfa"), rref("user", "rename")]);
    assert_eq!(d.grants_added, vec![grant("g1", "new")]);
    assert_eq!(d.grants_removed, vec![grant("g1", "gone")]);

    let back = store.diff(b, a).expect("diff back");
    assert_eq!(back.resources_added, d.resources_removed);
    assert_eq!(back.grants_removed, d.grants_added);

    let same = store.diff(a, a).expect("self diff");
    assert!(same.resources_added.is_empty() && same.resources_changed.is_empty());
    assert!(same.grants_added.is_empty() && same.grants_removed.is_empty());
}

#[test]
fn migrations_are_idempotent_on_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested.db");
    let id = {
        let mut store = Store::open(&path).expect("open");
        sync_with(&mut store, "okta", vec![Record::Resource(user("u1"))])
    };
    let first_version = {
        let store = Store::open(&path).expect("reopen");
        store.schema_version().expect("version")
    };
    let store = Store::open(&path).expect("reopen again");
    assert!(first_version >= 1);
    assert_eq!(store.schema_version().expect("version"), first_version);
    assert_eq!(store.resources(id, None).expect("resources"), vec![user("u1")]);
}

#[test]
fn open_fails_with_the_path_in_the_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing-dir").join("muster.db");
    let err = Store::open(&path).expect_err("no such directory");
    assert!(err.to_string().contains("missing-dir"), "{err}");
    assert!(err.to_string().contains("hint"), "{err}");
}

#[test]
fn two_hundred_thousand_resources_in_batches_of_a_thousand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.db");
    let mut store = Store::open(&path).expect("open");
    let mut w = store.begin_sync("big", "h", T0).expect("begin");
    w.write_batch(&types()).expect("types");
    let mut batch = Vec::with_capacity(1000);
    for chunk in 0..200 {
        batch.clear();
        for i in 0..1000 {
            batch.push(Record::Resource(user(&format!("u{chunk:03}-{i:04}"))));
        }
        w.write_batch(&batch).expect("batch");
    }
    let info = w.finish(T1).expect("finish");
    assert_eq!(info.counts.resources, 200_000);
    assert_eq!(info.counts.by_type.get("user"), Some(&200_000));
    assert_eq!(info.counts.findings, 0);
}
