//! One self-contained HTML page for a trust report (no external assets), for reviewers.

use crate::{Status, TrustReport};
use std::fmt::Write as _;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn badge(s: Status) -> String {
    format!("<span class=\"b {0}\">{0}</span>", s.as_str())
}

/// Render the report as a standalone HTML document.
pub fn render(r: &TrustReport) -> String {
    let mut h = String::new();
    let verdict = if r.passed { "PASSED" } else { "FAILED" };
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Trust report — {name}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}}
header{{background:#fff;border-bottom:1px solid #dde1e6;padding:20px 32px;display:flex;gap:32px;align-items:center}}
main{{padding:20px 32px;max-width:1200px}}
h1{{font-size:20px;margin:0 0 4px}} h2{{font-size:16px;margin:28px 0 8px}}
.meta{{color:#57606a;font-size:13px}} code{{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}}
.score{{font-size:40px;font-weight:700;line-height:1}} .score small{{font-size:14px;font-weight:400;color:#57606a}}
.verdict{{font-weight:700;padding:4px 10px;border-radius:6px;color:#fff}} .verdict.PASSED{{background:#1a7f37}} .verdict.FAILED{{background:#cf222e}}
table{{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde1e6}}
th,td{{text-align:left;padding:6px 10px;border-bottom:1px solid #eef0f2;vertical-align:top}} th{{background:#f0f2f4;font-weight:600}}
.b{{display:inline-block;min-width:38px;text-align:center;border-radius:4px;padding:1px 6px;font-size:12px;font-weight:600;color:#fff}}
.pass{{background:#1a7f37}} .warn{{background:#bf8700}} .fail{{background:#cf222e}} .skip{{background:#8c959f}}
ul.ev{{margin:4px 0 0;padding-left:18px;color:#424a53;font-size:13px}}
pre{{background:#fff;border:1px solid #dde1e6;padding:10px;overflow:auto;font-size:12px;max-height:260px}}
details summary{{cursor:pointer;margin:6px 0}}
</style></head><body>
<header><div><div class="score">{score}<small>/100</small></div><div class="meta">trust score</div></div>
<div><h1>{name}</h1><div class="meta">spec <code>{hash}</code><br>base URL <code>{base}</code> · tested {time} · mode {mode} · {requests} requests in {secs:.1}s</div></div>
<div><span class="verdict {verdict}">{verdict}</span></div></header><main>
"#,
        name = esc(&r.connector),
        score = r.score,
        hash = esc(&r.spec_hash),
        base = esc(&r.base_url),
        time = esc(&r.created_at),
        mode = esc(&r.mode),
        requests = r.requests,
        secs = r.elapsed_ms as f64 / 1000.0,
    );
    h.push_str(
        "<h2>Checks</h2><table><tr><th>check</th><th>status</th><th>finding and evidence</th><th>weight</th></tr>",
    );
    for c in &r.checks {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td><td>{}", esc(&c.name), badge(c.status), esc(&c.summary));
        if !c.evidence.is_empty() {
            h.push_str("<ul class=\"ev\">");
            for e in c.evidence.iter().take(60) {
                let _ = write!(h, "<li>{}</li>", esc(e));
            }
            if c.evidence.len() > 60 {
                let _ = write!(h, "<li>… {} more</li>", c.evidence.len() - 60);
            }
            h.push_str("</ul>");
        }
        let _ = write!(h, "</td><td>{}</td></tr>", c.weight);
    }
    h.push_str("</table><h2>Listings</h2><table><tr><th>listing</th><th>pagination</th><th>pages</th><th>rows</th><th>skipped</th><th>records</th><th>API total</th><th>field coverage (non-null)</th></tr>");
    for l in &r.listings {
        let cov: Vec<String> = l
            .coverage
            .fields
            .iter()
            .map(|(k, f)| {
                let t = f.present + f.null + f.missing;
                let pct = (f.present * 100).checked_div(t).unwrap_or(0);
                format!("{k} {pct}%")
            })
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&l.label),
            esc(&l.pagination),
            l.pages,
            l.coverage.rows,
            l.coverage.skipped,
            l.records,
            l.api_total.map(|t| t.to_string()).unwrap_or_else(|| "—".into()),
            esc(&cov.join(" · "))
        );
    }
    h.push_str("</table><h2>Sample records</h2>");
    for (t, recs) in &r.samples {
        let json = serde_json::to_string_pretty(recs).unwrap_or_default();
        let _ = write!(
            h,
            "<details><summary>{} — {} shown</summary><pre>{}</pre></details>",
            esc(t),
            recs.len(),
            esc(&json)
        );
    }
    let _ = write!(
        h,
        "<h2>Request log</h2><details><summary>{} requests (showing up to 300)</summary><table><tr><th>method</th><th>URL (redacted)</th><th>status</th><th>ms</th><th>bytes</th></tr>",
        r.request_log.len()
    );
    for q in r.request_log.iter().take(300) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
            esc(&q.method),
            esc(&q.url),
            q.status.map(|s| s.to_string()).unwrap_or_else(|| esc(q.error.as_deref().unwrap_or("error"))),
            q.duration_ms,
            q.bytes
        );
    }
    h.push_str("</table></details>\n<p class=\"meta\">Scoring: auth 20, completeness 25, integrity 15, field coverage 15, stability 10, under-sync probes 10, status &amp; NHI 5; a warning earns half, a skipped check is left out. Any failure fails the report.</p></main></body></html>\n");
    h
}
