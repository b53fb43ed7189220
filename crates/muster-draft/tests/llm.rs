//! LLM drafting against a scripted local model server (no network, no real model).

use muster_draft::prompt::{Docs, PromptInput, build_prompt};
use muster_draft::repair::EnvLookup;
use muster_draft::{
    DraftOptions, DraftOutcome, HttpLlm, LlmConfig, LlmDraftInput, LlmOutcome, Provider, draft_from_openapi,
    draft_with_llm,
};
use std::time::Duration;

const SECRET: &str = "Sup3r-S3cret-Passw0rd-7731";

/// A connector that passes `muster check` (the demo connector, with a base URL placeholder).
fn good_yaml() -> String {
    muster_draft::prompt::WORKED_EXAMPLE.to_string()
}

/// Broken: an unknown field and an inline secret.
fn broken_yaml() -> String {
    good_yaml()
        .replacen("    retry: { max_attempts: 5 }\n", "    retry: { max_attempts: 5 }\n    retries_per_page: 3\n", 1)
        .replacen("password: \"${ACME_PASSWORD}\"", &format!("password: \"{SECRET}\""), 1)
}

fn fenced(y: &str) -> String {
    format!("Here is the connector.\n\n```yaml\n{y}```\n")
}

fn demo_det() -> (serde_json::Value, String) {
    let doc = muster_testkit::demo_openapi();
    let out = draft_from_openapi(&doc, &DraftOptions { source_name: "demo-openapi.json".into(), ..Default::default() });
    let DraftOutcome::Connector { yaml, .. } = out else { panic!("demo parked") };
    (doc, yaml)
}

fn client(provider: Provider, base: &str) -> HttpLlm {
    HttpLlm::new(LlmConfig {
        provider,
        model: "scripted-model".into(),
        base_url: base.to_string(),
        api_key: Some("test-llm-key-0123456789abcdef".into()),
        timeout: Duration::from_secs(30),
        max_tokens: 4096,
    })
    .expect("client")
}

/// The environment the tests pretend to have: the demo's variables, with a known secret.
fn fake_env() -> Box<EnvLookup> {
    Box::new(|name: &str| match name {
        "ACME_PASSWORD" | "ACME_ADMIN_TOKEN" | "APP_PASSWORD" | "APP_TOKEN" | "ACME_TOKEN" | "DEMO_PASSWORD" => {
            Some(SECRET.to_string())
        }
        "ACME_USER" => Some("alice".to_string()),
        _ => None,
    })
}

#[test]
fn a_broken_first_answer_is_repaired_in_one_round() {
    let server =
        muster_testkit::serve_scripted_llm(vec![fenced(&broken_yaml()), fenced(&good_yaml())]).expect("server");
    let (doc, det) = demo_det();
    let trace = tempfile::tempdir().expect("tempdir");
    let env = fake_env();
    let mut lines = Vec::new();
    let input = LlmDraftInput {
        openapi: Some(&doc),
        deterministic: Some(&det),
        max_repairs: 3,
        trace_dir: Some(trace.path()),
        ..Default::default()
    };
    let out = draft_with_llm(&client(Provider::OpenAi, &server.base_url()), &input, &*env, &mut |l| {
        lines.push(l.to_string())
    })
    .expect("loop runs");
    let LlmOutcome::Passed { yaml, rounds, .. } = out else { panic!("not repaired: {out:?}\n{lines:#?}") };
    assert_eq!(yaml, good_yaml());
    assert_eq!(rounds.len(), 2, "{rounds:?}");
    assert!(rounds[0].codes.iter().any(|c| c == "M0101"), "{rounds:?}");
    assert!(rounds[0].codes.iter().any(|c| c == "M0402"), "{rounds:?}");
    assert_eq!(rounds[1].errors, 0);
    assert!(lines.iter().any(|l| l.starts_with("round 0:") && l.contains("M0101")), "{lines:#?}");

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    assert_eq!(reqs[0].header("authorization"), Some("Bearer test-llm-key-0123456789abcdef"));
    let msgs = reqs[1].json["messages"].as_array().expect("messages");
    let last = msgs.last().and_then(|m| m["content"].as_str()).expect("feedback");
    assert!(last.contains("M0101") && last.contains("M0402"), "{last}");
    assert!(last.contains("retries_per_page"), "{last}");
    // the broken answer went back as the assistant's turn, with the secret redacted
    assert_eq!(msgs[msgs.len() - 2]["role"], "assistant");
    for r in &reqs {
        assert!(!r.body.contains(SECRET), "a secret reached the model");
        assert!(!r.body.contains("test-llm-key-0123456789abcdef"), "the API key reached the prompt");
    }
    // the first prompt holds the schema, the worked example, the draft and the identity operations
    let sys = reqs[0].json["messages"][0]["content"].as_str().expect("system");
    assert!(sys.contains("connector.v1.json") && sys.contains("Acme Directory"));
    let user = reqs[0].json["messages"][1]["content"].as_str().expect("user");
    assert!(user.contains("Deterministic draft") && user.contains("GET /api/v1/users"), "{user}");

    // trace: round-numbered JSON files
    for f in ["round-0-request.json", "round-0-response.json", "round-1-request.json", "round-1-response.json"] {
        let t = std::fs::read_to_string(trace.path().join(f)).expect(f);
        let v: serde_json::Value = serde_json::from_str(&t).expect("json");
        assert!(v.get("round").is_some());
        assert!(!t.contains(SECRET), "{f} holds the secret");
    }
}

#[test]
fn always_broken_answers_fall_back_to_the_deterministic_draft() {
    let broken = fenced(&broken_yaml());
    let server = muster_testkit::serve_scripted_llm(vec![broken.clone(); 4]).expect("server");
    let (doc, det) = demo_det();
    let env = fake_env();
    let mut lines = Vec::new();
    let input = LlmDraftInput { openapi: Some(&doc), deterministic: Some(&det), max_repairs: 2, ..Default::default() };
    let out = draft_with_llm(&client(Provider::OpenAi, &server.base_url()), &input, &*env, &mut |l| {
        lines.push(l.to_string())
    })
    .expect("loop runs");
    let LlmOutcome::FellBack { yaml, rounds, last_feedback } = out else { panic!("{out:?}") };
    assert_eq!(yaml, det);
    assert_eq!(rounds.len(), 3, "1 answer + 2 repairs");
    assert!(last_feedback.contains("M0101"));
    assert_eq!(server.requests().len(), 3);
    assert!(lines.iter().any(|l| l.contains("WARNING") && l.contains("deterministic")), "{lines:#?}");

    // without a deterministic draft: Failed
    let server = muster_testkit::serve_scripted_llm(vec![broken; 2]).expect("server");
    let input = LlmDraftInput { openapi: Some(&doc), max_repairs: 1, ..Default::default() };
    let out = draft_with_llm(&client(Provider::OpenAi, &server.base_url()), &input, &*env, &mut |_| {}).expect("runs");
    assert!(matches!(out, LlmOutcome::Failed { ref rounds, .. } if rounds.len() == 2), "{out:?}");
}

#[test]
fn prompts_never_hold_secret_values() {
    // The docs and the deterministic draft reference ${ACME_PASSWORD}; its value is SECRET. Put the value in
    // the documentation too (as a careless example), and credential-looking strings.
    let docs = format!(
        "# Acme API\n\nAuthenticate with basic auth (user `alice`, password `{SECRET}`).\n\n\
         Example: `curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abc123XYZ789' https://acme.example/api/v1/users`\n\n\
         Config: `ACME_PASSWORD=${{ACME_PASSWORD}}` and `api_key: k3y-4cme-99887766`.\n\n\
         ## Users\n\nGET /api/v1/users returns `{{ items: [...], total }}`.\n"
    );
    let server =
        muster_testkit::serve_scripted_llm(vec![fenced(&broken_yaml()), fenced(&good_yaml())]).expect("server");
    let (doc, det) = demo_det();
    let env = fake_env();
    let input = LlmDraftInput {
        openapi: Some(&doc),
        docs: Some(Docs { name: "acme.md", text: &docs }),
        deterministic: Some(&det),
        max_repairs: 3,
        extra_secrets: vec![("MUSTER_LLM_API_KEY".into(), "test-llm-key-0123456789abcdef".into())],
        ..Default::default()
    };
    let mut lines = Vec::new();
    let out = draft_with_llm(&client(Provider::OpenAi, &server.base_url()), &input, &*env, &mut |l| {
        lines.push(l.to_string())
    })
    .expect("runs");
    assert!(matches!(out, LlmOutcome::Passed { .. }), "{out:?}");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        for needle in [SECRET, "eyJhbGciOiJIUzI1NiJ9abc123XYZ789", "k3y-4cme-99887766", "test-llm-key-0123456789abcdef"]
        {
            assert!(!r.body.contains(needle), "`{needle}` reached the model");
        }
        assert!(r.body.contains("${ACME_PASSWORD}"), "the variable's name stays");
    }
    assert!(lines.iter().any(|l| l.contains("redacted")), "{lines:#?}");
}

#[test]
fn the_demo_prompt_needs_no_redaction_and_fits_the_budget() {
    let (doc, det) = demo_det();
    let p = build_prompt(&PromptInput { openapi: Some(&doc), deterministic: Some(&det), ..Default::default() });
    assert!(p.trimmed.is_empty(), "{:?}", p.trimmed);
    assert!(p.estimated_tokens <= 24_000, "{}", p.estimated_tokens);
    let r = muster_draft::redact::Redactor::default();
    let (sys, n1) = r.redact(&p.system);
    let (user, n2) = r.redact(&p.user);
    assert_eq!(n1.total() + n2.total(), 0, "false positives: {n1} / {n2}");
    assert_eq!(sys, p.system);
    assert_eq!(user, p.user);

    // a tight budget trims the least relevant operations first, and says so
    let small = build_prompt(&PromptInput {
        openapi: Some(&doc),
        deterministic: Some(&det),
        budget_tokens: p.estimated_tokens + 600,
        ..Default::default()
    });
    assert!(!small.trimmed.is_empty());
    assert!(small.user.contains("Left out to fit the prompt budget"));
    assert!(small.included.len() < p.included.len());
    assert!(small.estimated_tokens <= p.estimated_tokens + 600, "{}", small.estimated_tokens);
    // the users listing is the most relevant: it stays
    assert!(small.included.iter().any(|i| i == "GET /api/v1/users"), "{:?}", small.included);
}

#[test]
fn anthropic_request_shape() {
    let server = muster_testkit::serve_scripted_llm(vec![fenced(&good_yaml())]).expect("server");
    let (doc, det) = demo_det();
    let env = fake_env();
    let input = LlmDraftInput { openapi: Some(&doc), deterministic: Some(&det), ..Default::default() };
    let out =
        draft_with_llm(&client(Provider::Anthropic, &server.base_url()), &input, &*env, &mut |_| {}).expect("runs");
    assert!(matches!(out, LlmOutcome::Passed { .. }), "{out:?}");
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(r.header("x-api-key"), Some("test-llm-key-0123456789abcdef"));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert!(r.header("authorization").is_none());
    assert_eq!(r.json["model"], "scripted-model");
    assert!(r.json["max_tokens"].as_u64().is_some());
    assert!(r.json["system"].as_str().is_some_and(|s| s.contains("JSON Schema")));
    let msgs = r.json["messages"].as_array().expect("messages");
    assert!(msgs.iter().all(|m| m["role"] != "system"), "system goes in `system`");
    assert_eq!(msgs[0]["role"], "user");
}

#[test]
fn ollama_request_shape() {
    let server = muster_testkit::serve_scripted_llm(vec![fenced(&good_yaml())]).expect("server");
    let (doc, det) = demo_det();
    let env = fake_env();
    let input = LlmDraftInput { openapi: Some(&doc), deterministic: Some(&det), ..Default::default() };
    let out = draft_with_llm(&client(Provider::Ollama, &server.base_url()), &input, &*env, &mut |_| {}).expect("runs");
    assert!(matches!(out, LlmOutcome::Passed { .. }), "{out:?}");
    let r = &server.requests()[0];
    assert_eq!(r.path, "/api/chat");
    assert_eq!(r.json["stream"], false);
    assert_eq!(r.json["model"], "scripted-model");
    let msgs = r.json["messages"].as_array().expect("messages");
    assert_eq!(msgs[0]["role"], "system");
    assert_eq!(msgs[1]["role"], "user");
}

#[test]
fn provider_errors_name_the_provider_and_url_not_the_key() {
    // the script is empty: the server answers 500
    let server = muster_testkit::serve_scripted_llm(vec![]).expect("server");
    let (doc, _) = demo_det();
    let env = fake_env();
    let input = LlmDraftInput { openapi: Some(&doc), ..Default::default() };
    let err =
        draft_with_llm(&client(Provider::OpenAi, &server.base_url()), &input, &*env, &mut |_| {}).expect_err("fails");
    let msg = err.to_string();
    assert!(msg.contains("openai") && msg.contains(&server.base_url()) && msg.contains("500"), "{msg}");
    assert!(!msg.contains("test-llm-key"), "{msg}");

    // a closed port
    let base = server.base_url();
    drop(server);
    let err = draft_with_llm(&client(Provider::Anthropic, &base), &input, &*env, &mut |_| {}).expect_err("fails");
    let msg = err.to_string();
    assert!(msg.contains("anthropic") && msg.contains(&format!("{base}/v1/messages")), "{msg}");
}

#[test]
fn config_from_the_environment() {
    let env = |n: &str| match n {
        "MUSTER_LLM_PROVIDER" => Some("openai".to_string()),
        "MUSTER_LLM_BASE_URL" => Some("http://127.0.0.1:8000/v1".to_string()),
        "MUSTER_LLM_API_KEY" => Some("k".to_string()),
        _ => None,
    };
    let c = LlmConfig::resolve(None, Some("m"), None, &env).expect("ok").expect("some");
    assert_eq!(c.provider, Provider::OpenAi);
    assert_eq!(c.url(), "http://127.0.0.1:8000/v1/chat/completions");
    assert!(!format!("{c:?}").contains("\"k\""));
    assert!(LlmConfig::resolve(None, None, None, &|_: &str| None).expect("ok").is_none());
    assert!(LlmConfig::resolve(Some("anthropic"), None, None, &|_: &str| None).is_err(), "anthropic needs a key");
    assert!(LlmConfig::resolve(Some("gpt"), None, None, &|_: &str| None).is_err());
}

#[test]
fn prose_docs_draft_a_connector_that_passes_check() {
    let html = "<html><head><title>Acme</title><script>var x=1;</script></head><body>\
        <h1>Acme Directory API</h1><p>Basic auth. Base URL <code>https://acme.example</code>.</p>\
        <h2>List users</h2><p><code>GET /api/v1/users?offset=0&amp;limit=100</code> returns \
        <code>{\"items\": [{\"id\", \"userName\", \"displayName\", \"email\", \"active\"}], \"total\": 42}</code>.</p>\
        <h2>Billing</h2><p>Invoices are not identity data.</p></body></html>";
    let answer = r#"```yaml
version: 1
app: { name: Acme Directory, owner: iam-team@example.com }
source:
  http:
    base_url: ${ACME_URL}
    auth: { type: basic, username: "${ACME_USER}", password: "${ACME_PASSWORD}" }
resource_types:
  user:
    traits: [user]
    list:
      # from "List users": GET /api/v1/users
      request: { path: /api/v1/users }
      items: items
      pagination: { type: offset, limit: 100, total: total }
      map:
        id: item.id
        display_name: item.displayName
        status: "item.active ? 'enabled' : 'disabled'"
        user: { email: item.email, login: item.userName, account_type: "'human'" }
```"#;
    let server = muster_testkit::serve_scripted_llm(vec![answer.to_string()]).expect("server");
    let env = fake_env();
    let input = LlmDraftInput { docs: Some(Docs { name: "acme.html", text: html }), ..Default::default() };
    let out = draft_with_llm(&client(Provider::OpenAi, &server.base_url()), &input, &*env, &mut |_| {}).expect("runs");
    let LlmOutcome::Passed { yaml, .. } = out else { panic!("{out:?}") };
    let checked = muster_spec::check(&yaml, "prose.yaml");
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let r = &server.requests()[0];
    let user = r.json["messages"][1]["content"].as_str().expect("user");
    assert!(user.contains("# List users") && user.contains("GET /api/v1/users?offset=0&limit=100"), "{user}");
    assert!(!user.contains("var x=1") && !user.contains("<h2>"), "HTML stripped: {user}");
    assert!(!user.contains("Deterministic draft"));
}

#[test]
fn a_test_read_failure_goes_back_to_the_model() {
    // The demo API runs locally; the first answer reads users from a wrong path, the second is right.
    let api = muster_testkit::serve_demo(None).expect("demo");
    let base = api.base_url();
    let good = good_yaml().replace("${ACME_URL}", &base);
    let wrong = good.replacen("path: /api/v1/users }", "path: /api/v1/people }", 1);
    assert_ne!(good, wrong);
    let server = muster_testkit::serve_scripted_llm(vec![fenced(&wrong), fenced(&good)]).expect("server");
    let (doc, det) = demo_det();
    let env: Box<EnvLookup> = Box::new(|n: &str| match n {
        "ACME_USER" => Some(muster_testkit::DEMO_USER.to_string()),
        "ACME_PASSWORD" => Some(muster_testkit::DEMO_PASSWORD.to_string()),
        "ACME_ADMIN_TOKEN" => Some(muster_testkit::DEMO_ADMIN_TOKEN.to_string()),
        _ => None,
    });
    let input = LlmDraftInput {
        openapi: Some(&doc),
        deterministic: Some(&det),
        base_url: Some(&base),
        test_read: true,
        max_repairs: 2,
        ..Default::default()
    };
    let mut lines = Vec::new();
    let out = draft_with_llm(&client(Provider::OpenAi, &server.base_url()), &input, &*env, &mut |l| {
        lines.push(l.to_string())
    })
    .expect("runs");
    let LlmOutcome::Passed { rounds, test_read, .. } = out else { panic!("{out:?}\n{lines:#?}") };
    assert_eq!(rounds.len(), 2, "{rounds:?}");
    assert_eq!(rounds[0].codes, vec!["SYNC".to_string()]);
    assert!(test_read.as_deref().is_some_and(|t| t.starts_with("ok")), "{test_read:?}");
    let reqs = server.requests();
    let fb =
        reqs[1].json["messages"].as_array().and_then(|m| m.last()).and_then(|m| m["content"].as_str()).unwrap_or("");
    assert!(fb.contains("test read") && fb.contains("404"), "{fb}");
    for r in &reqs {
        assert!(!r.body.contains(muster_testkit::DEMO_PASSWORD), "the demo password reached the model");
    }
}

#[test]
fn real_spec_prompts_fit_the_budget() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs");
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    for e in entries.flatten() {
        let text = std::fs::read_to_string(e.path()).expect("read");
        let Ok(doc) = muster_draft::parse_spec_text(&text) else { continue };
        let det = match draft_from_openapi(&doc, &DraftOptions::default()) {
            DraftOutcome::Connector { yaml, .. } => Some(yaml),
            DraftOutcome::Park(_) => None,
        };
        let p = build_prompt(&PromptInput { openapi: Some(&doc), deterministic: det.as_deref(), ..Default::default() });
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(
            p.estimated_tokens <= 24_000,
            "{name}: {} (system {}, user {}, draft {}, included {}, trimmed {:?})",
            p.estimated_tokens,
            muster_draft::prompt::estimate_tokens(&p.system),
            muster_draft::prompt::estimate_tokens(&p.user),
            det.as_deref().map(muster_draft::prompt::estimate_tokens).unwrap_or(0),
            p.included.len(),
            p.trimmed.iter().take(3).collect::<Vec<_>>()
        );
        let r = muster_draft::redact::Redactor::default();
        let (_, n) = r.redact(&p.user);
        // Redaction is conservative: an example id in a description may be masked (jira-cloud: 1). Reported,
        // not asserted; the demo prompt above must have none.
        if n.total() > 0 {
            eprintln!("{name}: {n} masked in the prompt");
        }
        eprintln!(
            "{name}: ~{} tokens, {} included, {} trimmed, redactions: {}",
            p.estimated_tokens,
            p.included.len(),
            p.trimmed.len(),
            n
        );
    }
}
