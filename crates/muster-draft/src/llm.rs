//! LLM providers: OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp, ...), the Anthropic messages
//! API and Ollama. Plain reqwest + serde behind the small [`LlmClient`] trait, so tests inject their own.
//!
//! Errors name the provider and the URL, never the API key.

use serde_json::{Value, json};
use std::time::Duration;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Message {
        Message { role: Role::System, content: content.into() }
    }
    pub fn user(content: impl Into<String>) -> Message {
        Message { role: Role::User, content: content.into() }
    }
    pub fn assistant(content: impl Into<String>) -> Message {
        Message { role: Role::Assistant, content: content.into() }
    }
}

/// Why a completion failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// Misconfiguration (unknown provider, missing key or model, bad base URL).
    #[error("{0}")]
    Config(String),
    /// The request could not be sent or the connection failed (including timeouts).
    #[error("{provider}: request to {url} failed: {message}")]
    Transport { provider: &'static str, url: String, message: String },
    /// The server answered with an error status.
    #[error("{provider}: {url} answered HTTP {status}: {body}")]
    Status { provider: &'static str, url: String, status: u16, body: String },
    /// The answer was not in the provider's format.
    #[error("{provider}: unexpected answer from {url}: {message}")]
    Decode { provider: &'static str, url: String, message: String },
}

/// A chat model: messages in, the assistant's text out.
pub trait LlmClient {
    fn complete(&self, messages: &[Message]) -> Result<String, LlmError>;
    /// A short description for logs and traces (`openai gpt-4.1-mini at http://...`), never a key.
    fn describe(&self) -> String {
        "llm".to_string()
    }
}

/// The supported wire formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// OpenAI-compatible `POST {base}/v1/chat/completions` (OpenAI, vLLM, llama.cpp server, LM Studio, ...).
    OpenAi,
    /// Anthropic `POST {base}/v1/messages`.
    Anthropic,
    /// Ollama `POST {base}/api/chat`.
    Ollama,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Ollama => "ollama",
        }
    }
    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::OpenAi => "https://api.openai.com",
            Provider::Anthropic => "https://api.anthropic.com",
            Provider::Ollama => "http://127.0.0.1:11434",
        }
    }
    pub fn default_model(self) -> &'static str {
        match self {
            Provider::OpenAi => "gpt-4.1-mini",
            Provider::Anthropic => "claude-sonnet-4-5",
            Provider::Ollama => "qwen2.5-coder:14b",
        }
    }
    /// The provider's conventional key variable, read when `MUSTER_LLM_API_KEY` is unset.
    pub fn key_env(self) -> Option<&'static str> {
        match self {
            Provider::OpenAi => Some("OPENAI_API_KEY"),
            Provider::Anthropic => Some("ANTHROPIC_API_KEY"),
            Provider::Ollama => None,
        }
    }
    fn endpoint(self) -> &'static str {
        match self {
            Provider::OpenAi => "/v1/chat/completions",
            Provider::Anthropic => "/v1/messages",
            Provider::Ollama => "/api/chat",
        }
    }
}

impl std::str::FromStr for Provider {
    type Err = LlmError;
    fn from_str(s: &str) -> Result<Provider, LlmError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "openai" | "openai-compatible" | "vllm" | "llamacpp" | "llama.cpp" => Ok(Provider::OpenAi),
            "anthropic" | "claude" => Ok(Provider::Anthropic),
            "ollama" => Ok(Provider::Ollama),
            other => Err(LlmError::Config(format!(
                "unknown LLM provider `{other}`: use openai (any OpenAI-compatible server), anthropic or ollama"
            ))),
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to reach a model.
#[derive(Clone)]
pub struct LlmConfig {
    pub provider: Provider,
    pub model: String,
    /// Without the endpoint path; a trailing `/v1` is tolerated (`http://host:8000/v1`).
    pub base_url: String,
    /// Never printed (see the `Debug` impl).
    pub api_key: Option<String>,
    /// Whole-request timeout (models are slow; default 300 s).
    pub timeout: Duration,
    /// Answer length cap (Anthropic requires one; sent to the others too).
    pub max_tokens: u32,
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("max_tokens", &self.max_tokens)
            .finish()
    }
}

impl LlmConfig {
    /// A configuration from flags (when given) and the environment: `MUSTER_LLM_PROVIDER`, `MUSTER_LLM_MODEL`,
    /// `MUSTER_LLM_BASE_URL`, `MUSTER_LLM_API_KEY` (or the provider's own `OPENAI_API_KEY` /
    /// `ANTHROPIC_API_KEY`), `MUSTER_LLM_TIMEOUT_S`. `Ok(None)` when no provider is named anywhere.
    pub fn resolve(
        provider: Option<&str>,
        model: Option<&str>,
        base_url: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<LlmConfig>, LlmError> {
        let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let Some(p) = provider.map(str::to_string).or_else(|| nonempty(env("MUSTER_LLM_PROVIDER"))) else {
            return Ok(None);
        };
        let provider: Provider = p.parse()?;
        let model = model
            .map(str::to_string)
            .or_else(|| nonempty(env("MUSTER_LLM_MODEL")))
            .unwrap_or_else(|| provider.default_model().to_string());
        let base = base_url
            .map(str::to_string)
            .or_else(|| nonempty(env("MUSTER_LLM_BASE_URL")))
            .unwrap_or_else(|| provider.default_base_url().to_string());
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(LlmError::Config(format!(
                "{provider}: base URL `{base}` is not an absolute http(s) URL (MUSTER_LLM_BASE_URL / --llm-base-url)"
            )));
        }
        let api_key = nonempty(env("MUSTER_LLM_API_KEY")).or_else(|| provider.key_env().and_then(|k| nonempty(env(k))));
        if provider == Provider::Anthropic && api_key.is_none() {
            return Err(LlmError::Config(
                "anthropic: no API key; set MUSTER_LLM_API_KEY (or ANTHROPIC_API_KEY)".to_string(),
            ));
        }
        let timeout = nonempty(env("MUSTER_LLM_TIMEOUT_S")).and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(300);
        Ok(Some(LlmConfig {
            provider,
            model,
            base_url: base,
            api_key,
            timeout: Duration::from_secs(timeout.max(1)),
            max_tokens: 8192,
        }))
    }

    /// The full endpoint URL.
    pub fn url(&self) -> String {
        let mut base = self.base_url.trim_end_matches('/').to_string();
        if self.provider != Provider::Ollama && base.ends_with("/v1") {
            base.truncate(base.len() - 3);
        }
        if self.provider == Provider::Ollama && base.ends_with("/api") {
            base.truncate(base.len() - 4);
        }
        format!("{base}{}", self.provider.endpoint())
    }
}

/// The request body a provider expects for `messages`.
pub fn request_body(cfg: &LlmConfig, messages: &[Message]) -> Value {
    match cfg.provider {
        Provider::OpenAi => json!({
            "model": cfg.model,
            "messages": messages.iter().map(|m| json!({ "role": m.role.as_str(), "content": m.content })).collect::<Vec<_>>(),
            "temperature": 0,
            "max_tokens": cfg.max_tokens,
        }),
        Provider::Anthropic => {
            let system: Vec<&str> =
                messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
            let rest: Vec<Value> = messages
                .iter()
                .filter(|m| m.role != Role::System)
                .map(|m| json!({ "role": m.role.as_str(), "content": m.content }))
                .collect();
            let mut body = json!({
                "model": cfg.model,
                "max_tokens": cfg.max_tokens,
                "temperature": 0,
                "messages": rest,
            });
            if !system.is_empty()
                && let Some(o) = body.as_object_mut()
            {
                o.insert("system".into(), Value::String(system.join("\n\n")));
            }
            body
        }
        Provider::Ollama => json!({
            "model": cfg.model,
            "messages": messages.iter().map(|m| json!({ "role": m.role.as_str(), "content": m.content })).collect::<Vec<_>>(),
            "stream": false,
            "options": { "temperature": 0, "num_predict": cfg.max_tokens },
        }),
    }
}

/// The assistant's text in a provider's answer.
pub fn answer_text(provider: Provider, body: &Value) -> Result<String, String> {
    match provider {
        Provider::OpenAi => {
            let choice = body.get("choices").and_then(|c| c.get(0)).ok_or("no `choices[0]` in the answer")?;
            match choice.get("message").and_then(|m| m.get("content")) {
                Some(Value::String(s)) => Ok(s.clone()),
                // some servers return content parts
                Some(Value::Array(parts)) => {
                    Ok(parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join(""))
                }
                _ => Err("no `choices[0].message.content` in the answer".into()),
            }
        }
        Provider::Anthropic => {
            let parts = body.get("content").and_then(Value::as_array).ok_or("no `content` array in the answer")?;
            let text: Vec<&str> = parts
                .iter()
                .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            if text.is_empty() { Err("no text block in `content`".into()) } else { Ok(text.join("")) }
        }
        Provider::Ollama => body
            .get("message")
            .and_then(|m| m.get("content"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| "no `message.content` in the answer".into()),
    }
}

/// An [`LlmClient`] over HTTP.
pub struct HttpLlm {
    cfg: LlmConfig,
    client: reqwest::Client,
}

impl HttpLlm {
    pub fn new(cfg: LlmConfig) -> Result<HttpLlm, LlmError> {
        let client = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(Duration::from_secs(15))
            .user_agent(concat!("muster-draft/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::Config(format!("{}: cannot build the HTTP client: {e}", cfg.provider)))?;
        Ok(HttpLlm { cfg, client })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.cfg
    }

    fn scrub(&self, s: &str) -> String {
        match &self.cfg.api_key {
            Some(k) if !k.is_empty() => s.replace(k.as_str(), "<redacted>"),
            _ => s.to_string(),
        }
    }

    async fn send(&self, messages: &[Message]) -> Result<String, LlmError> {
        let provider = self.cfg.provider.as_str();
        let url = self.cfg.url();
        let body = request_body(&self.cfg, messages);
        let mut req = self.client.post(&url).json(&body);
        match self.cfg.provider {
            Provider::OpenAi => {
                if let Some(k) = &self.cfg.api_key {
                    req = req.bearer_auth(k);
                }
            }
            Provider::Anthropic => {
                if let Some(k) = &self.cfg.api_key {
                    req = req.header("x-api-key", k);
                }
                req = req.header("anthropic-version", "2023-06-01");
            }
            Provider::Ollama => {
                if let Some(k) = &self.cfg.api_key {
                    req = req.bearer_auth(k);
                }
            }
        }
        let transport = |e: reqwest::Error| {
            let what = if e.is_timeout() {
                format!("timed out after {} s (MUSTER_LLM_TIMEOUT_S)", self.cfg.timeout.as_secs())
            } else if e.is_connect() {
                format!("cannot connect ({})", self.scrub(&error_chain(&e)))
            } else {
                self.scrub(&error_chain(&e))
            };
            LlmError::Transport { provider, url: url.clone(), message: what }
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        let text = resp.text().await.map_err(transport)?;
        if !status.is_success() {
            let short: String = text.chars().take(500).collect();
            return Err(LlmError::Status { provider, url, status: status.as_u16(), body: self.scrub(&short) });
        }
        let json: Value = serde_json::from_str(&text).map_err(|e| LlmError::Decode {
            provider,
            url: url.clone(),
            message: format!("not JSON ({e})"),
        })?;
        answer_text(self.cfg.provider, &json).map_err(|message| LlmError::Decode { provider, url, message })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

impl LlmClient for HttpLlm {
    fn complete(&self, messages: &[Message]) -> Result<String, LlmError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LlmError::Config(format!("{}: cannot start the async runtime: {e}", self.cfg.provider)))?;
        rt.block_on(self.send(messages))
    }

    fn describe(&self) -> String {
        format!("{} {} at {}", self.cfg.provider, self.cfg.model, self.cfg.url())
    }
}
