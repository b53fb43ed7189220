//! Drafts for every real spec in /work/shared/specs: snapshot-tested, and each passes `muster check`.

use muster_draft::{DraftOptions, DraftOutcome, draft_from_openapi, parse_spec_text};
use std::path::PathBuf;

fn specs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs")
}

#[test]
fn every_real_spec_drafts_a_connector_that_passes_check_or_parks() {
    let dir = specs_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("note: {} is missing; the real-spec snapshots are skipped", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    files.sort();
    assert!(!files.is_empty(), "no specs in {}", dir.display());
    for path in files {
        let name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let stem =
            name.trim_end_matches(".json").trim_end_matches(".yaml").trim_end_matches(".apis-guru").replace('.', "_");
        let text = std::fs::read_to_string(&path).expect("spec text");
        let doc = parse_spec_text(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = draft_from_openapi(&doc, &DraftOptions { source_name: name.clone(), ..Default::default() });
        match out {
            DraftOutcome::Connector { yaml, choices, summary, check_errors, check_warnings, .. } => {
                assert!(check_errors.is_empty(), "{name}: {check_errors:?}\n{yaml}");
                assert!(check_warnings.is_empty(), "{name}: {check_warnings:?}");
                let checked = muster_spec::check(&yaml, &name);
                assert!(!checked.has_errors(), "{name}: {:?}", checked.diagnostics);
                // deterministic
                let again = draft_from_openapi(&doc, &DraftOptions { source_name: name.clone(), ..Default::default() });
                assert!(
                    matches!(&again, DraftOutcome::Connector { yaml: y2, .. } if *y2 == yaml),
                    "{name}: not deterministic"
                );
                insta::assert_snapshot!(format!("spec_{stem}"), yaml);
                let report: Vec<String> = summary
                    .into_iter()
                    .chain(choices.into_iter().map(|c| format!("[{}] {}: {}", c.confidence, c.what, c.why)))
                    .collect();
                insta::assert_snapshot!(format!("spec_{stem}_choices"), report.join("\n"));
            }
            DraftOutcome::Park(report) => {
                insta::assert_snapshot!(format!("spec_{stem}_parked"), report.to_string());
            }
        }
    }
}
