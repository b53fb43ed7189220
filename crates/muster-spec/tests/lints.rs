//! Every lint and schema diagnostic, rendered as a user reads it, from one fixture file per case.
//! The file name starts with the code the fixture must produce.

use std::path::Path;

fn render(path: &Path) -> (String, Vec<&'static str>) {
    let src = std::fs::read_to_string(path).expect("fixture");
    let name = format!("lints/{}", path.file_name().and_then(|f| f.to_str()).unwrap_or(""));
    let checked = muster_spec::check(&src, &name);
    let codes = checked.diagnostics.iter().map(|d| d.code).collect();
    (muster_diag::render_human(&checked.diagnostics, &src), codes)
}

#[test]
fn every_lint_fixture_produces_its_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lints");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("dir").filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    assert!(files.len() > 30, "fixtures missing");
    for f in files {
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("").to_string();
        let (out, codes) = render(&f);
        if stem == "valid" {
            assert!(codes.is_empty(), "valid.yaml produced diagnostics:\n{out}");
            continue;
        }
        let code = &stem[..5];
        assert!(codes.contains(&code), "{stem}: expected {code}, got {codes:?}\n{out}");
        insta::assert_snapshot!(stem, out);
    }
}

#[test]
fn all_problems_reported_in_one_run() {
    let src = "version: 1\napp: { name: T }\nsource: { http: { base_url: 'https://x.example.com', auth: { type: basic, username: u, password: p } } }\nresource_types:\n  user:\n    traits: [user]\n    list: { request: { path: /u }, itmes: x, map: { id: item.id } }\n";
    let c = muster_spec::check(src, "x.yaml");
    let codes: Vec<_> = c.diagnostics.iter().map(|d| d.code).collect();
    assert!(codes.contains(&"M0103"), "{codes:?}");
    assert!(codes.contains(&"M0101"), "{codes:?}");
}

#[test]
fn cel_error_caret_points_inside_the_expression() {
    let src =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lints/M0202-unknown-variable.yaml"))
            .expect("fixture");
    let c = muster_spec::check(&src, "x.yaml");
    let d = c.diagnostics.iter().find(|d| d.code == "M0202").expect("M0202");
    let span = d.span.expect("span");
    assert_eq!(&src[span.offset..span.offset + 4], "itme");
}

#[test]
fn hostile_inputs_get_diagnostics_not_panics() {
    let bomb = "a: &a [1,2,3,4,5,6,7,8,9]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n";
    assert_eq!(muster_spec::check(bomb, "x").diagnostics[0].code, "M0006");
    let deep = "a: ".to_string() + &"[".repeat(10_000);
    assert!(muster_spec::check(&deep, "x").has_errors());
    let big = "a: ".to_string() + &"x".repeat(muster_spec::yaml::MAX_FILE_BYTES + 1);
    assert_eq!(muster_spec::check(&big, "x").diagnostics[0].code, "M0002");
    let garbage: String = (0..4096u32).map(|i| char::from_u32((i * 7919) % 0xD7FF).unwrap_or('x')).collect();
    assert!(muster_spec::check(&garbage, "x").has_errors());
    assert!(muster_spec::check("- 1\n- 2\n", "x").has_errors());
    assert!(muster_spec::check("\u{0}\u{1}", "x").has_errors());
}

#[test]
fn hash_ignores_formatting_and_comments() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lints");
    let src = std::fs::read_to_string(dir.join("valid.yaml")).expect("fixture");
    let a = muster_spec::check(&src, "a").connector.expect("valid");
    let reformatted =
        format!("# a comment\n{}", src.replace("{ path: /users }", "{path:   /users}   # trailing comment"));
    let b = muster_spec::check(&reformatted, "b");
    let b = b.connector.expect("still valid");
    assert_eq!(a.spec_hash, b.spec_hash);
    let changed = muster_spec::check(&src.replace("/users", "/accounts"), "c").connector.expect("valid");
    assert_ne!(a.spec_hash, changed.spec_hash);
}

#[test]
fn generated_schema_and_reference_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let schema = serde_json::to_string_pretty(&muster_spec::json_schema()).expect("json") + "\n";
    let reference = muster_spec::docs::reference_markdown();
    if std::env::var_os("MUSTER_UPDATE_SCHEMA").is_some() {
        std::fs::write(root.join("schema/connector.v1.json"), &schema).expect("write");
        std::fs::write(root.join("docs/reference.md"), &reference).expect("write");
    }
    let on_disk = std::fs::read_to_string(root.join("schema/connector.v1.json")).unwrap_or_default();
    assert!(
        on_disk == schema,
        "schema/connector.v1.json is stale: run `MUSTER_UPDATE_SCHEMA=1 cargo test -p muster-spec --test lints`"
    );
    let on_disk = std::fs::read_to_string(root.join("docs/reference.md")).unwrap_or_default();
    assert!(
        on_disk == reference,
        "docs/reference.md is stale: run `MUSTER_UPDATE_SCHEMA=1 cargo test -p muster-spec --test lints`"
    );
}

#[test]
fn every_code_is_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/diagnostics.md")).expect("docs/diagnostics.md");
    let mut missing = Vec::new();
    for dir in ["crates/muster-spec/src", "crates/muster-cli/src"] {
        for f in std::fs::read_dir(root.join(dir)).expect("src").filter_map(|e| e.ok()) {
            let text = std::fs::read_to_string(f.path()).unwrap_or_default();
            for (i, _) in text.match_indices("\"M0") {
                let code = &text[i + 1..i + 6];
                if code.chars().skip(1).all(|c| c.is_ascii_digit()) && !doc.contains(&format!("| {code} |")) {
                    missing.push(code.to_string());
                }
            }
        }
    }
    assert!(missing.is_empty(), "codes missing from docs/diagnostics.md: {missing:?}");
    let exprs = std::fs::read_to_string(root.join("docs/expressions.md")).expect("docs/expressions.md");
    for (name, _) in muster_expr::FUNCTIONS {
        assert!(exprs.contains(&format!("`{name}(")), "docs/expressions.md does not document `{name}`");
    }
}
