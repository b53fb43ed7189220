//! The drafting prompt: schema v1's JSON Schema, one worked example (the demo connector), the deterministic
//! draft, and only the identity-relevant parts of the documentation, within a token budget.
//!
//! Tokens are estimated as characters / 4. When the documentation does not fit, the least relevant
//! operations (or prose sections) go first, and the prompt says what was left out.

use crate::draft::{RelevantOp, identity_operations};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The worked example: the demo connector `muster demo` runs.
pub const WORKED_EXAMPLE: &str = include_str!("../../muster-cli/assets/demo-connector.yaml");

/// At most this many "left out" lines are listed in a prompt.
const MAX_TRIM_NOTES: usize = 40;
/// Tokens kept free for that list (40 lines of about 30 tokens).
const NOTE_RESERVE: usize = 1_200;

/// Default prompt budget, in estimated tokens.
pub const DEFAULT_BUDGET_TOKENS: usize = 24_000;

/// Estimated tokens of `s` (characters / 4, rounded up).
pub fn estimate_tokens(s: &str) -> usize {
    s.chars().count().div_ceil(4)
}

/// Prose documentation (Markdown, HTML or text).
#[derive(Debug, Clone, Copy)]
pub struct Docs<'a> {
    /// The file name, for the prompt and provenance.
    pub name: &'a str,
    pub text: &'a str,
}

/// What goes into a prompt.
#[derive(Debug, Clone, Copy, Default)]
pub struct PromptInput<'a> {
    pub openapi: Option<&'a Value>,
    pub docs: Option<Docs<'a>>,
    /// The deterministic draft, when there is one.
    pub deterministic: Option<&'a str>,
    pub app_name: Option<&'a str>,
    /// A literal base URL the connector must use.
    pub base_url: Option<&'a str>,
    /// Estimated-token budget for the whole prompt (0 = [`DEFAULT_BUDGET_TOKENS`]).
    pub budget_tokens: usize,
}

/// A built prompt.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub system: String,
    pub user: String,
    /// What was left out to fit the budget, one line each.
    pub trimmed: Vec<String>,
    /// Operations (`GET /users`) or sections included.
    pub included: Vec<String>,
    pub estimated_tokens: usize,
}

const RULES: &str = r#"You write Muster connectors: YAML files in Muster's connector schema, version 1. A connector tells Muster how to read an application's identity data (users / accounts, service accounts, groups, roles, apps, API tokens and who has which access) from its HTTP API.

Rules:
1. Answer with exactly one YAML document: the complete connector, in a ```yaml fenced block. No other YAML.
2. Use only fields the JSON Schema below defines; unknown keys are errors. Start with `version: 1`.
3. Every `map` value is a CEL expression over `item` (e.g. `item.email`). String literals are quoted CEL: "'human'". Use `has(item.x)` or `item.?x.orValue(...)` for optional fields.
4. Secrets never appear in a connector: credentials and URLs come from environment references such as `${APP_TOKEN}` / `${APP_URL}`. Never write a password, token or key literally. Only `${VAR}` names.
5. Use only endpoints, fields and parameters the documentation shows. Never invent endpoints. If something is unknown, leave it out and say so in a YAML comment.
6. Keep disabled / suspended accounts, mapped to `status: disabled`; do not filter them out. Pending or invited memberships are not access: skip them with `skip_if` and a comment.
7. Type service accounts / bots as `account_type: "'service'"`. Map a secret's metadata (created, expires, last used), never its value.
8. Page through every listing the way the documentation describes (offset, page, cursor, next link, Link header, SCIM).
9. Put a short YAML comment above each block saying which documented operation it comes from."#;

/// Build the prompt for `input`.
pub fn build_prompt(input: &PromptInput<'_>) -> Prompt {
    let budget = if input.budget_tokens == 0 { DEFAULT_BUDGET_TOKENS } else { input.budget_tokens };
    let schema = serde_json::to_string(&muster_spec::json_schema()).unwrap_or_default();
    let mut trimmed = Vec::new();

    let system_with = |example: bool| {
        let mut s = String::new();
        s.push_str(RULES);
        s.push_str("\n\n## Connector schema v1 (JSON Schema)\n\n");
        s.push_str(&schema);
        if example {
            s.push_str("\n\n## A worked example (a complete, valid connector for another API)\n\n```yaml\n");
            s.push_str(WORKED_EXAMPLE.trim_end());
            s.push_str("\n```\n");
        }
        s
    };
    let mut system = system_with(true);

    let mut head = String::new();
    let app = input
        .app_name
        .map(str::to_string)
        .or_else(|| input.openapi.and_then(|d| d.get("info")?.get("title")?.as_str().map(str::to_string)))
        .unwrap_or_else(|| "the application".to_string());
    let _ = writeln!(head, "Draft a Muster connector (schema v1) for {app}.");
    match input.base_url {
        Some(b) => {
            let _ = writeln!(head, "Use this literal base URL: `base_url: {b}`.");
        }
        None => {
            let _ = writeln!(head, "Take the base URL from an environment reference (e.g. `base_url: ${{APP_URL}}`).");
        }
    }
    let mut tail = String::new();
    if let Some(d) = input.deterministic {
        let _ = writeln!(
            tail,
            "\n## Deterministic draft\n\nA rule-based drafter produced this connector from the same documentation; it passes `muster check`. \
             Start from it: keep what is right, fix what the documentation contradicts, add what it missed, keep its comments.\n\n```yaml\n{}\n```",
            d.trim_end()
        );
    }
    let _ = writeln!(tail, "\nAnswer with the complete connector as one YAML document in a ```yaml fenced block.");

    let fixed = |system: &str| estimate_tokens(system) + estimate_tokens(&head) + estimate_tokens(&tail) + 200;
    if fixed(&system) > budget {
        system = system_with(false);
        trimmed.push("the worked example (over the token budget)".to_string());
    }
    let mut remaining = budget.saturating_sub(fixed(&system));
    let mut included = Vec::new();
    let mut body = String::new();

    if let Some(doc) = input.openapi {
        let (text, inc, trim) = openapi_section(doc, remaining);
        remaining = remaining.saturating_sub(estimate_tokens(&text));
        body.push_str(&text);
        included.extend(inc);
        trimmed.extend(trim);
    }
    if let Some(d) = input.docs {
        let (text, inc, trim) = docs_section(d, remaining);
        body.push_str(&text);
        included.extend(inc);
        trimmed.extend(trim);
    }
    let mut user = head;
    user.push_str(&body);
    if !trimmed.is_empty() {
        let _ = writeln!(user, "\n## Left out to fit the prompt budget ({budget} tokens)\n");
        for t in trimmed.iter().take(MAX_TRIM_NOTES) {
            let _ = writeln!(user, "- {t}");
        }
        if trimmed.len() > MAX_TRIM_NOTES {
            let _ = writeln!(user, "- ... and {} more", trimmed.len() - MAX_TRIM_NOTES);
        }
        let _ = writeln!(user, "Do not guess what these contain; leave them out of the connector.");
    }
    user.push_str(&tail);
    let estimated_tokens = estimate_tokens(&system) + estimate_tokens(&user);
    Prompt { system, user, trimmed, included, estimated_tokens }
}

// ───────────────────────────── OpenAPI ─────────────────────────────

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

/// A copy of `v` without vendor extensions and examples, with long descriptions cut.
fn clean(v: &Value, depth: usize) -> Value {
    if depth > 14 {
        return Value::String("…".into());
    }
    match v {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, x) in o {
                if k.starts_with("x-") || k == "example" || k == "examples" || k == "externalDocs" || k == "xml" {
                    continue;
                }
                let x = match (k.as_str(), x) {
                    ("description" | "summary", Value::String(s)) => Value::String(truncate(s, 300)),
                    ("enum", Value::Array(a)) if a.len() > 30 => {
                        let mut a: Vec<Value> = a.iter().take(30).cloned().collect();
                        a.push(Value::String("…".into()));
                        Value::Array(a)
                    }
                    _ => clean(x, depth + 1),
                };
                out.insert(k.clone(), x);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| clean(x, depth + 1)).collect()),
        other => other.clone(),
    }
}

fn refs_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == "$ref"
                    && let Some(r) = x.as_str()
                    && r.starts_with("#/")
                {
                    out.push(r.to_string());
                } else {
                    refs_in(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs_in(x, out)),
        _ => {}
    }
}

fn pointer<'a>(root: &'a Value, r: &str) -> Option<&'a Value> {
    root.pointer(r.trim_start_matches('#'))
}

/// The operation, cleaned: summary, parameters (path-level ones too), success responses, security.
fn op_json(root: &Value, method: &str, path: &str) -> Option<Value> {
    let item = root.get("paths")?.get(path)?;
    let item = match item.get("$ref").and_then(Value::as_str) {
        Some(r) => pointer(root, r)?,
        None => item,
    };
    let op = item.get(method)?;
    let mut out = Map::new();
    for k in ["operationId", "summary", "description", "deprecated", "security"] {
        if let Some(v) = op.get(k) {
            out.insert(k.into(), clean(v, 0));
        }
    }
    let mut params: Vec<Value> = Vec::new();
    for src in [item.get("parameters"), op.get("parameters")] {
        if let Some(Value::Array(a)) = src {
            params.extend(a.iter().map(|p| clean(p, 0)));
        }
    }
    if !params.is_empty() {
        out.insert("parameters".into(), Value::Array(params));
    }
    if let Some(resp) = op.get("responses").and_then(Value::as_object) {
        let ok: Map<String, Value> = resp
            .iter()
            .filter(|(k, _)| k.starts_with('2') || k.as_str() == "default")
            .take(2)
            .map(|(k, v)| (k.clone(), clean(v, 0)))
            .collect();
        out.insert("responses".into(), Value::Object(ok));
    }
    Some(Value::Object(out))
}

fn openapi_section(doc: &Value, budget: usize) -> (String, Vec<String>, Vec<String>) {
    let mut text = String::new();
    let mut included = Vec::new();
    let mut trimmed = Vec::new();
    let ops = identity_operations(doc);
    let total_ops = doc
        .get("paths")
        .and_then(Value::as_object)
        .map(|p| {
            p.values()
                .filter_map(Value::as_object)
                .map(|i| i.keys().filter(|k| matches!(k.as_str(), "get" | "put" | "post" | "delete" | "patch")).count())
                .sum::<usize>()
        })
        .unwrap_or(0);

    // the document's frame: title, servers, auth
    let mut frame = Map::new();
    for k in ["openapi", "swagger", "info", "servers", "host", "basePath", "schemes", "security", "securityDefinitions"]
    {
        if let Some(v) = doc.get(k) {
            let v = if k == "info" {
                let mut i = Map::new();
                for f in ["title", "version", "description"] {
                    if let Some(x) = v.get(f) {
                        i.insert(f.into(), clean(x, 0));
                    }
                }
                Value::Object(i)
            } else {
                clean(v, 0)
            };
            frame.insert(k.into(), v);
        }
    }
    if let Some(s) = doc.get("components").and_then(|c| c.get("securitySchemes")) {
        frame.insert("components.securitySchemes".into(), clean(s, 0));
    }
    let _ = writeln!(
        text,
        "\n## The API's documentation (OpenAPI): identity-relevant operations only\n\nDocument frame:\n```json\n{}\n```",
        serde_json::to_string(&Value::Object(frame)).unwrap_or_default()
    );

    let mut defs: BTreeMap<String, String> = BTreeMap::new();
    let mut op_texts: Vec<String> = Vec::new();
    // the frame, the closing count line and the "left out" heading
    // the frame, the closing count line, and the "left out" list (up to MAX_TRIM_NOTES short lines)
    let mut used = estimate_tokens(&text) + 120 + if ops.is_empty() { 0 } else { NOTE_RESERVE };
    for (i, o) in ops.iter().enumerate() {
        let Some(j) = op_json(doc, &o.method, &o.path) else { continue };
        let label = format!("{} {}", o.method.to_uppercase(), o.path);
        let op_text = format!(
            "\n### {label}\nWhy shown: {}\n```json\n{}\n```\n",
            o.why,
            serde_json::to_string(&j).unwrap_or_default()
        );
        // definitions this operation needs that are not in yet
        let mut new_defs: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = Vec::new();
        refs_in(&j, &mut queue);
        let mut seen: BTreeSet<String> = BTreeSet::new();
        while let Some(r) = queue.pop() {
            if defs.contains_key(&r) || new_defs.contains_key(&r) || !seen.insert(r.clone()) || seen.len() > 200 {
                continue;
            }
            if let Some(t) = pointer(doc, &r) {
                let c = clean(t, 0);
                refs_in(&c, &mut queue);
                new_defs.insert(r, serde_json::to_string(&c).unwrap_or_default());
            }
        }
        let cost = estimate_tokens(&op_text)
            + new_defs.iter().map(|(k, v)| estimate_tokens(k) + estimate_tokens(v) + 4).sum::<usize>();
        if used + cost > budget {
            trimmed.push(format!("{} (rank {} of {})", truncate(&label, 100), i + 1, ops.len()));
            continue;
        }
        used += cost;
        defs.extend(new_defs);
        op_texts.push(op_text);
        included.push(label);
    }
    for t in &op_texts {
        text.push_str(t);
    }
    if !defs.is_empty() {
        let _ = writeln!(text, "\n### Referenced definitions\n");
        for (k, v) in &defs {
            let _ = writeln!(text, "{k}:\n```json\n{v}\n```");
        }
    }
    let _ = writeln!(
        text,
        "\n({} of the document's {} operations shown: the ones about identity; the rest are not about accounts or access.)",
        included.len(),
        total_ops
    );
    if ops.is_empty() {
        trimmed.push("no identity-relevant operation was recognised in the OpenAPI document".to_string());
    }
    (text, included, trimmed)
}

// ───────────────────────────── prose ─────────────────────────────

/// True when `text` looks like HTML.
pub fn looks_like_html(name: &str, text: &str) -> bool {
    let n = name.to_ascii_lowercase();
    if n.ends_with(".html") || n.ends_with(".htm") || n.ends_with(".xhtml") {
        return true;
    }
    let head: String = text.chars().take(2000).collect::<String>().to_ascii_lowercase();
    head.contains("<!doctype html") || head.contains("<html") || head.contains("<body")
}

/// Crude HTML → text: scripts and styles dropped, headings become Markdown headings, block tags new lines,
/// other tags removed, common entities decoded.
pub fn strip_html(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len() / 2);
    let mut i = 0;
    while i < html.len() {
        let Some(rel) = html[i..].find('<') else {
            out.push_str(&html[i..]);
            break;
        };
        out.push_str(&html[i..i + rel]);
        let start = i + rel;
        let Some(end_rel) = html[start..].find('>') else {
            out.push_str(&html[start..]);
            break;
        };
        let end = start + end_rel + 1;
        let tag = &lower[start + 1..end - 1];
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let closing = tag.starts_with('/');
        if !closing && (name == "script" || name == "style" || name == "svg" || name == "noscript") {
            let close = format!("</{name}");
            i = match lower[end..].find(&close) {
                Some(j) => lower[end + j..].find('>').map(|k| end + j + k + 1).unwrap_or(html.len()),
                None => html.len(),
            };
            continue;
        }
        if tag.starts_with("!--") {
            i = lower[start..].find("-->").map(|j| start + j + 3).unwrap_or(html.len());
            continue;
        }
        match name.as_str() {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" if !closing => {
                let level = name[1..].parse::<usize>().unwrap_or(2);
                out.push_str("\n\n");
                out.push_str(&"#".repeat(level));
                out.push(' ');
            }
            "li" if !closing => out.push_str("\n- "),
            "br" | "p" | "div" | "tr" | "pre" | "table" | "ul" | "ol" | "section" | "article" | "h1" | "h2" | "h3"
            | "h4" | "h5" | "h6" | "dt" | "dd" | "blockquote" => out.push('\n'),
            "td" | "th" => out.push_str(" | "),
            "code" if !closing => out.push('`'),
            "code" => out.push('`'),
            _ => {}
        }
        i = end;
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    // collapse runs of blank lines and trailing spaces
    let mut clean = String::with_capacity(decoded.len());
    let mut blank = 0;
    for line in decoded.lines() {
        let l = line.trim_end();
        if l.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        clean.push_str(l);
        clean.push('\n');
    }
    clean
}

const PROSE_WORDS: &[(&str, i32)] = &[
    ("user", 3),
    ("account", 3),
    ("member", 3),
    ("group", 3),
    ("team", 2),
    ("role", 3),
    ("permission", 2),
    ("token", 2),
    ("api key", 2),
    ("service account", 3),
    ("scim", 3),
    ("authentication", 2),
    ("authorization", 2),
    ("bearer", 2),
    ("paginat", 3),
    ("cursor", 2),
    ("offset", 2),
    ("page", 1),
    ("limit", 1),
    ("get /", 3),
    ("list", 1),
    ("status", 1),
    ("disabled", 1),
    ("suspended", 1),
    ("invite", 1),
    ("pending", 1),
];

fn score_section(s: &str) -> i32 {
    let l = s.to_ascii_lowercase();
    let mut score = 0;
    for (w, weight) in PROSE_WORDS {
        score += weight * (l.matches(w).count().min(5) as i32);
    }
    score
}

/// Sections of prose: Markdown headings start one; sections above ~4000 characters are cut at paragraphs.
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut title = "(start)".to_string();
    let mut cur = String::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if !in_fence && line.starts_with('#') {
            if !cur.trim().is_empty() {
                out.push((title.clone(), std::mem::take(&mut cur)));
            }
            cur.clear();
            title = line.trim_start_matches('#').trim().to_string();
        }
        cur.push_str(line);
        cur.push('\n');
    }
    if !cur.trim().is_empty() {
        out.push((title, cur));
    }
    // split long sections at blank lines
    let mut split = Vec::new();
    for (t, body) in out {
        if body.len() <= 4000 {
            split.push((t, body));
            continue;
        }
        let mut part = String::new();
        let mut n = 1;
        for para in body.split("\n\n") {
            if part.len() + para.len() > 4000 && !part.is_empty() {
                split.push((format!("{t} (part {n})"), std::mem::take(&mut part)));
                n += 1;
            }
            part.push_str(para);
            part.push_str("\n\n");
        }
        if !part.trim().is_empty() {
            split.push((if n == 1 { t } else { format!("{t} (part {n})") }, part));
        }
    }
    split
}

fn docs_section(d: Docs<'_>, budget: usize) -> (String, Vec<String>, Vec<String>) {
    let text = if looks_like_html(d.name, d.text) { strip_html(d.text) } else { d.text.to_string() };
    let mut head = String::new();
    let _ = writeln!(head, "\n## The API's documentation (prose, from {})\n", d.name);
    let secs = sections(&text);
    let mut ranked: Vec<(usize, i32)> = secs.iter().enumerate().map(|(i, (_, b))| (i, score_section(b))).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut keep: BTreeSet<usize> = BTreeSet::new();
    let mut used = estimate_tokens(&head) + 100 + NOTE_RESERVE;
    let mut trimmed = Vec::new();
    for (rank, (i, _score)) in ranked.iter().enumerate() {
        let cost = estimate_tokens(&secs[*i].1);
        if used + cost > budget {
            trimmed.push(format!(
                "prose section \"{}\" (rank {} of {})",
                truncate(&secs[*i].0, 80),
                rank + 1,
                secs.len()
            ));
            continue;
        }
        used += cost;
        keep.insert(*i);
    }
    let mut out = head;
    let mut included = Vec::new();
    for i in &keep {
        out.push_str(&secs[*i].1);
        if !secs[*i].1.ends_with('\n') {
            out.push('\n');
        }
        included.push(format!("section \"{}\"", secs[*i].0));
    }
    (out, included, trimmed)
}

/// Every `RelevantOp` for a document (re-exported for callers that want the ranking).
pub fn relevant_operations(doc: &Value) -> Vec<RelevantOp> {
    identity_operations(doc)
}

// ───────────────────────────── answers ─────────────────────────────

/// The YAML document in a model's answer: the first ```yaml (or ```yml) fence, else the first fence that
/// holds `version:`, else the text from its first `version:` line (or all of it).
pub fn extract_yaml(answer: &str) -> String {
    let fences = fenced_blocks(answer);
    if let Some((_, b)) = fences.iter().find(|(lang, _)| lang == "yaml" || lang == "yml") {
        return b.clone();
    }
    if let Some((_, b)) = fences.iter().find(|(_, b)| b.contains("version:")) {
        return b.clone();
    }
    let t = answer.trim();
    let mut offset = 0;
    let mut lead_comments: Option<usize> = None;
    for line in t.split_inclusive('\n') {
        if line.starts_with('#') {
            lead_comments.get_or_insert(offset);
        } else if line.starts_with("version:") {
            let from = lead_comments.unwrap_or(offset);
            return t[from..].to_string();
        } else if !line.trim().is_empty() {
            lead_comments = None;
        }
        offset += line.len();
    }
    t.to_string()
}

fn fenced_blocks(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in s.lines() {
        let t = line.trim_start();
        match &mut cur {
            None => {
                if let Some(rest) = t.strip_prefix("```") {
                    cur = Some((rest.trim().to_ascii_lowercase(), String::new()));
                }
            }
            Some((lang, body)) => {
                if t.starts_with("```") {
                    out.push((std::mem::take(lang), std::mem::take(body)));
                    cur = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    if let Some((lang, body)) = cur
        && !body.trim().is_empty()
    {
        // an unclosed fence (the answer was cut off): take what is there
        out.push((lang, body));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_fenced_yaml() {
        assert_eq!(extract_yaml("Here:\n```yaml\nversion: 1\n```\nDone."), "version: 1\n");
        assert_eq!(extract_yaml("```\nversion: 1\n```"), "version: 1\n");
        assert_eq!(extract_yaml("Sure.\n# c\nversion: 1\napp: {}"), "# c\nversion: 1\napp: {}");
    }

    #[test]
    fn strips_html() {
        let t = strip_html(
            "<html><head><style>x{}</style></head><body><h2>Users</h2><p>GET <code>/users</code> &amp; more</p><script>alert(1)</script></body></html>",
        );
        assert!(t.contains("## Users"), "{t}");
        assert!(t.contains("GET `/users` & more"), "{t}");
        assert!(!t.contains("alert") && !t.contains("x{}"), "{t}");
    }
}
