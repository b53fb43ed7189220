//! `cargo run -p muster-draft --example draft_file -- SPEC [demo]`: print a draft (development aid).
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let doc = if args.get(1).map(String::as_str) == Some("demo") {
        muster_testkit::demo_openapi()
    } else {
        let Some(path) = args.get(1) else {
            eprintln!("usage: draft_file SPEC|demo");
            std::process::exit(2);
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        match muster_draft::parse_spec_text(&text) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(2);
            }
        }
    };
    let t = std::time::Instant::now();
    let out = muster_draft::draft_from_openapi(
        &doc,
        &muster_draft::DraftOptions { source_name: args[1].clone(), ..Default::default() },
    );
    eprintln!("drafted in {:?}", t.elapsed());
    match out {
        muster_draft::DraftOutcome::Connector { yaml, choices, summary, check_errors, check_warnings, .. } => {
            println!("{yaml}");
            for s in summary {
                eprintln!("SUMMARY {s}");
            }
            for c in choices {
                eprintln!("CHOICE [{}] {}: {} ({})", c.confidence, c.what, c.why, c.provenance);
            }
            for e in check_errors {
                eprintln!("CHECK ERROR {e}");
            }
            for w in check_warnings {
                eprintln!("CHECK WARNING {w}");
            }
        }
        muster_draft::DraftOutcome::Park(p) => println!("{p}"),
    }
}
