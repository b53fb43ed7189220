//! One diagnostic type for everything Muster reports about a file: a stable code, a severity, a location,
//! a message and hints. Rendered with carets for people and as JSON for tools.

use serde::Serialize;
use std::fmt::Write as _;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A location in a source file. Lines and columns are 1-based; columns count characters.
/// `offset` and `len` are byte positions, used to draw carets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Span {
    pub line: usize,
    pub col: usize,
    pub offset: usize,
    pub len: usize,
}

/// One problem found in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable code such as `M0102`; documented in docs/diagnostics.md.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The file the problem is in, as the user named it.
    pub file: String,
    /// Where in the file; `None` for problems about the file as a whole.
    pub span: Option<Span>,
    /// The field the problem is about, as a dotted path (`resource_types.user.list.map.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Suggestions for fixing it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            file: String::new(),
            span: None,
            field: None,
            hints: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }

    pub fn with_span(mut self, span: Option<Span>) -> Diagnostic {
        self.span = span;
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Diagnostic {
        let f = field.into();
        if !f.is_empty() {
            self.field = Some(f);
        }
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hints.push(hint.into());
        self
    }

    pub fn with_file(mut self, file: impl Into<String>) -> Diagnostic {
        self.file = file.into();
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The diagnostics of one check run, with helpers to count and render them.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Render diagnostics for a terminal: `file:line:col: error[M0102]: message`, the source line, a caret
/// line under the offending text, then hints.
pub fn render_human(diags: &[Diagnostic], source: &str) -> String {
    let mut out = String::new();
    for d in diags {
        render_one(&mut out, d, source);
    }
    out
}

fn render_one(out: &mut String, d: &Diagnostic, source: &str) {
    let loc = match d.span {
        Some(s) => format!("{}:{}:{}", d.file, s.line, s.col),
        None => d.file.clone(),
    };
    let _ = writeln!(out, "{loc}: {}[{}]: {}", d.severity.as_str(), d.code, d.message);
    if let Some(span) = d.span
        && let Some(line_text) = source.lines().nth(span.line.saturating_sub(1))
    {
        let line_no = span.line.to_string();
        let pad = " ".repeat(line_no.len());
        let shown: String = line_text.chars().take(160).collect();
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{line_no} | {shown}");
        let start = span.col.saturating_sub(1);
        let width = caret_width(line_text, span);
        let _ = writeln!(out, "{pad} | {}{}", " ".repeat(start.min(160)), "^".repeat(width));
    }
    if let Some(field) = &d.field {
        let _ = writeln!(out, "  = field: {field}");
    }
    for h in &d.hints {
        let _ = writeln!(out, "  = hint: {h}");
    }
    out.push('\n');
}

/// Number of caret characters: the span's length in characters, clipped to the end of the line, at least 1.
fn caret_width(line_text: &str, span: Span) -> usize {
    let start = span.col.saturating_sub(1);
    let rest: usize = line_text.chars().count().saturating_sub(start);
    let len_chars = if span.len == 0 { 1 } else { span.len };
    len_chars.min(rest.max(1)).clamp(1, 120)
}

/// Render diagnostics as a JSON array (one object per diagnostic), for tools.
pub fn render_json(diags: &[Diagnostic]) -> String {
    serde_json::to_string_pretty(diags).unwrap_or_else(|_| "[]".to_string())
}

/// A one-line summary such as `2 errors, 1 warning`.
pub fn summary(diags: &[Diagnostic]) -> String {
    let e = diags.iter().filter(|d| d.is_error()).count();
    let w = diags.len() - e;
    format!("{} error{}, {} warning{}", e, plural(e), w, plural(w))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_span() {
        let src = "version: 1\napp:\n  nmae: x\n";
        let d = Diagnostic::error("M0101", "unknown field `nmae`")
            .with_file("c.yaml")
            .with_span(Some(Span { line: 3, col: 3, offset: 19, len: 4 }))
            .with_hint("did you mean `name`?");
        let out = render_human(&[d], src);
        assert_eq!(
            out,
            "c.yaml:3:3: error[M0101]: unknown field `nmae`\n  |\n3 |   nmae: x\n  |   ^^^^\n  = hint: did you mean `name`?\n\n"
        );
    }

    #[test]
    fn summary_counts() {
        let d = vec![Diagnostic::error("M1", "a"), Diagnostic::warning("M2", "b"), Diagnostic::warning("M3", "c")];
        assert_eq!(summary(&d), "1 error, 2 warnings");
        let json = render_json(&d);
        assert!(json.contains("\"severity\": \"warning\""));
    }
}
