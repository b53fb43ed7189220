//! A scripted LLM server for tests: it answers chat requests in the OpenAI-compatible
//! (`POST /v1/chat/completions`), Anthropic (`POST /v1/messages`) and Ollama (`POST /api/chat`) formats with
//! scripted texts, in order, and records every request (path, headers, JSON body).

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::server::{self, TestServer};

/// One request the scripted LLM server received.
#[derive(Debug, Clone)]
pub struct LlmRequest {
    /// e.g. `/v1/chat/completions`.
    pub path: String,
    /// Header names in lower case, with their values.
    pub headers: Vec<(String, String)>,
    /// The raw body text.
    pub body: String,
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub json: Value,
}

impl LlmRequest {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

struct Script {
    responses: Vec<String>,
    next: usize,
    requests: Vec<LlmRequest>,
}

type Shared = Arc<Mutex<Script>>;

/// A running scripted LLM server. Dropping it stops the server.
pub struct ScriptedLlm {
    server: TestServer,
    script: Shared,
}

impl std::fmt::Debug for ScriptedLlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedLlm").field("base_url", &self.server.base_url()).finish_non_exhaustive()
    }
}

impl ScriptedLlm {
    /// `"http://127.0.0.1:PORT"` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Every request received, oldest first.
    pub fn requests(&self) -> Vec<LlmRequest> {
        self.script.lock().unwrap_or_else(PoisonError::into_inner).requests.clone()
    }

    /// The underlying server (request log, counters).
    pub fn server(&self) -> &TestServer {
        &self.server
    }
}

/// Starts a scripted LLM server on a random `127.0.0.1` port. Each chat request gets the next scripted text
/// (in the format of the route it came to); once the script is used up, requests get a 500 error.
pub fn serve_scripted_llm(responses: Vec<String>) -> io::Result<ScriptedLlm> {
    let script: Shared = Arc::new(Mutex::new(Script { responses, next: 0, requests: Vec::new() }));
    let state = script.clone();
    let server = server::spawn(None, Duration::ZERO, move |_base| {
        Router::new()
            .route("/v1/chat/completions", post(openai))
            .route("/v1/messages", post(anthropic))
            .route("/api/chat", post(ollama))
            .with_state(state)
    })?;
    Ok(ScriptedLlm { server, script })
}

fn take(script: &Shared, path: &str, headers: &HeaderMap, body: String) -> Option<String> {
    let mut s = script.lock().unwrap_or_else(PoisonError::into_inner);
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    let headers =
        headers.iter().map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or("").to_string())).collect();
    s.requests.push(LlmRequest { path: path.to_string(), headers, body, json });
    let out = s.responses.get(s.next).cloned();
    s.next += 1;
    out
}

fn exhausted() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "error": { "message": "scripted LLM: script exhausted" } })))
        .into_response()
}

async fn openai(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let Some(text) = take(&s, "/v1/chat/completions", &headers, body) else { return exhausted() };
    Json(json!({
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "model": "scripted",
        "choices": [ { "index": 0, "message": { "role": "assistant", "content": text }, "finish_reason": "stop" } ],
        "usage": { "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0 }
    }))
    .into_response()
}

async fn anthropic(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let Some(text) = take(&s, "/v1/messages", &headers, body) else { return exhausted() };
    Json(json!({
        "id": "msg_scripted",
        "type": "message",
        "role": "assistant",
        "model": "scripted",
        "content": [ { "type": "text", "text": text } ],
        "stop_reason": "end_turn",
        "usage": { "input_tokens": 0, "output_tokens": 0 }
    }))
    .into_response()
}

async fn ollama(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let Some(text) = take(&s, "/api/chat", &headers, body) else { return exhausted() };
    Json(json!({
        "model": "scripted",
        "created_at": "2026-11-01T00:00:00Z",
        "message": { "role": "assistant", "content": text },
        "done": true
    }))
    .into_response()
}
