//! YAML text → a positioned node tree, with hard limits so hostile input cannot exhaust memory.
//!
//! Aliases are refused (no alias bombs), and so are multiple documents, duplicate keys and
//! documents nested deeper than [`MAX_DEPTH`].

// A Diagnostic is the error here: built once, on the way out; boxing it buys nothing.
#![allow(clippy::result_large_err)]

use muster_diag::{Diagnostic, Span};
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

/// Largest connector file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of mappings and sequences accepted.
pub const MAX_DEPTH: usize = 64;
/// Most nodes accepted in one document.
pub const MAX_NODES: usize = 200_000;

/// A YAML value with the span of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string scalar. `plain` is true for unquoted scalars; `raw` keeps the text as written.
    Str {
        value: String,
        style: Style,
    },
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// How a scalar was written. Used to place carets inside expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Block,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

impl Node {
    /// The text a scalar was written as (for plain scalars read as numbers or booleans).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            NodeKind::Str { value, .. } => Some(value.clone()),
            NodeKind::Bool(b) => Some(b.to_string()),
            NodeKind::Int(i) => Some(i.to_string()),
            NodeKind::Float(f) => Some(f.to_string()),
            NodeKind::Null => None,
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a number",
            NodeKind::Str { .. } => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Maps character positions from the parser to byte offsets.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(src: &str) -> LineIndex {
        let mut starts = vec![0];
        for (i, b) in src.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        LineIndex { starts }
    }

    /// `line` 1-based, `col` 0-based in characters → byte offset.
    fn offset(&self, src: &str, line: usize, col: usize) -> usize {
        let start = self.starts.get(line.saturating_sub(1)).copied().unwrap_or(src.len());
        let rest = src.get(start..).unwrap_or("");
        let mut off = start;
        for (n, (i, _)) in rest.char_indices().enumerate() {
            if n == col {
                return start + i;
            }
            off = start + i;
        }
        if col == 0 { start } else { off.min(src.len()) }
    }
}

fn span_of(src: &str, idx: &LineIndex, s: &saphyr_parser::Span) -> Span {
    let start_off = idx.offset(src, s.start.line(), s.start.col());
    let end_off = idx.offset(src, s.end.line(), s.end.col());
    // Only the first line of a multi-line node is underlined.
    let line_end = src[start_off..].find('\n').map(|n| start_off + n).unwrap_or(src.len());
    let end = end_off.clamp(start_off, line_end.max(start_off));
    let len_chars = src.get(start_off..end).map(|t| t.chars().count()).unwrap_or(0).max(1);
    Span { line: s.start.line(), col: s.start.col() + 1, offset: start_off, len: len_chars }
}

fn scan_error_diag(src: &str, idx: &LineIndex, e: &ScanError) -> Diagnostic {
    let m = e.marker();
    let offset = idx.offset(src, m.line(), m.col());
    Diagnostic::error("M0001", format!("invalid YAML: {}", e.info()))
        .with_span(Some(Span { line: m.line(), col: m.col() + 1, offset, len: 1 }))
        .with_hint("check indentation, unbalanced quotes or brackets, and that tabs are not used for indentation")
}

/// Parse YAML text into one positioned node tree. All problems are errors with code M0001–M0009.
pub fn parse(src: &str) -> Result<Node, Diagnostic> {
    if src.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::error(
            "M0002",
            format!("file is {} bytes; connector files are limited to {} bytes", src.len(), MAX_FILE_BYTES),
        )
        .with_hint("a connector is a few hundred lines of YAML; is this the right file?"));
    }
    if src.contains('\0') {
        let offset = src.find('\0').unwrap_or(0);
        let line = src[..offset].matches('\n').count() + 1;
        return Err(Diagnostic::error("M0003", "file contains NUL bytes; it looks binary, not YAML")
            .with_span(Some(Span { line, col: 1, offset, len: 1 }))
            .with_hint("pass the connector's .yaml file"));
    }
    let idx = LineIndex::new(src);
    let mut parser = Parser::new_from_str(src);
    let mut b = Builder { src, idx: &idx, stack: Vec::new(), root: None, nodes: 0, docs: 0 };
    while let Some(next) = parser.next_event() {
        let (ev, span) = next.map_err(|e| scan_error_diag(src, &idx, &e))?;
        if b.on_event(ev, &span)? {
            break;
        }
    }
    match b.root {
        Some(n) => Ok(n),
        None => Err(Diagnostic::error("M0004", "file is empty").with_hint("a connector starts with `version: 1`")),
    }
}

enum Frame {
    Seq(Vec<Node>, Span),
    Map(Vec<(Key, Node)>, Option<Key>, Span),
}

struct Builder<'a> {
    src: &'a str,
    idx: &'a LineIndex,
    stack: Vec<Frame>,
    root: Option<Node>,
    nodes: usize,
    docs: usize,
}

impl Builder<'_> {
    /// Returns Ok(true) at the end of the stream.
    fn on_event(&mut self, ev: Event<'_>, span: &saphyr_parser::Span) -> Result<bool, Diagnostic> {
        let sp = span_of(self.src, self.idx, span);
        match ev {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
            Event::StreamEnd => return Ok(true),
            Event::DocumentStart(_) => {
                self.docs += 1;
                if self.docs > 1 {
                    return Err(Diagnostic::error("M0005", "file holds more than one YAML document")
                        .with_span(Some(sp))
                        .with_hint("put one connector per file; remove the extra `---`"));
                }
            }
            Event::Alias(_) => {
                return Err(Diagnostic::error("M0006", "YAML aliases (`*name`) are not allowed in connector files")
                    .with_span(Some(sp))
                    .with_hint(
                        "write the value out; aliases make a reviewed file mean something other than it shows",
                    ));
            }
            Event::Scalar(value, style, _anchor, tag) => {
                let kind = scalar_kind(&value, style, tag.as_deref());
                let st = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    _ => Style::Block,
                };
                let kind = match kind {
                    NodeKind::Str { value, .. } => NodeKind::Str { value, style: st },
                    k => k,
                };
                self.push(Node { kind, span: sp })?;
            }
            Event::SequenceStart(_, _) => {
                self.enter(&sp)?;
                self.stack.push(Frame::Seq(Vec::new(), sp));
            }
            Event::MappingStart(_, _) => {
                self.enter(&sp)?;
                self.stack.push(Frame::Map(Vec::new(), None, sp));
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, start)) = self.stack.pop() {
                    self.push(Node { kind: NodeKind::Seq(items), span: start })?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(entries, _, start)) = self.stack.pop() {
                    self.push(Node { kind: NodeKind::Map(entries), span: start })?;
                }
            }
        }
        Ok(false)
    }

    fn enter(&mut self, sp: &Span) -> Result<(), Diagnostic> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(Diagnostic::error("M0007", format!("document is nested deeper than {MAX_DEPTH} levels"))
                .with_span(Some(*sp))
                .with_hint("connector files are shallow; this input is not a connector"));
        }
        Ok(())
    }

    fn push(&mut self, node: Node) -> Result<(), Diagnostic> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Diagnostic::error("M0008", format!("document has more than {MAX_NODES} values"))
                .with_span(Some(node.span))
                .with_hint("split the input; a connector is far smaller"));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(items, _)) => items.push(node),
            Some(Frame::Map(entries, pending, _)) => match pending.take() {
                None => {
                    let name = match &node.kind {
                        NodeKind::Str { value, .. } => value.clone(),
                        NodeKind::Null => "null".to_string(),
                        NodeKind::Bool(_) | NodeKind::Int(_) | NodeKind::Float(_) => {
                            node.scalar_text().unwrap_or_default()
                        }
                        _ => {
                            return Err(Diagnostic::error("M0009", "mapping keys must be plain strings")
                                .with_span(Some(node.span)));
                        }
                    };
                    if entries.iter().any(|(k, _)| k.name == name) {
                        return Err(Diagnostic::error("M0010", format!("duplicate key `{name}`"))
                            .with_span(Some(node.span))
                            .with_hint("YAML would silently keep only one of them; remove or rename one"));
                    }
                    *pending = Some(Key { name, span: node.span });
                }
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }
}

/// YAML 1.2 core schema resolution for plain scalars; quoted and block scalars are strings.
fn scalar_kind(value: &str, style: ScalarStyle, tag: Option<&saphyr_parser::Tag>) -> NodeKind {
    let as_str = || NodeKind::Str { value: value.to_string(), style: Style::Plain };
    if let Some(t) = tag
        && t.handle == "tag:yaml.org,2002:"
        && t.suffix == "str"
    {
        return as_str();
    }
    if style != ScalarStyle::Plain {
        return as_str();
    }
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        _ => {}
    }
    if let Ok(i) = value.parse::<i64>() {
        return NodeKind::Int(i);
    }
    let looks_numeric = value.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+' || c == '.');
    if looks_numeric
        && let Ok(f) = value.parse::<f64>()
        && f.is_finite()
    {
        return NodeKind::Float(f);
    }
    as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let n = parse("a: 1\nb:\n  c: 'x'\n").unwrap();
        let b = n.get("b").unwrap();
        let c = b.get("c").unwrap();
        assert_eq!((c.span.line, c.span.col), (3, 6));
        assert!(matches!(c.kind, NodeKind::Str { ref value, style: Style::SingleQuoted } if value == "x"));
        assert_eq!(n.get("a").unwrap().kind, NodeKind::Int(1));
    }

    #[test]
    fn rejects_aliases_duplicates_and_depth() {
        assert_eq!(parse("a: &x 1\nb: *x\n").unwrap_err().code, "M0006");
        assert_eq!(parse("a: 1\na: 2\n").unwrap_err().code, "M0010");
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert_eq!(parse(&deep).unwrap_err().code, "M0007");
        assert_eq!(parse("a: [1\n").unwrap_err().code, "M0001");
        assert_eq!(parse("").unwrap_err().code, "M0004");
        assert_eq!(parse("a: 1\n---\nb: 2\n").unwrap_err().code, "M0005");
    }

    #[test]
    fn unicode_columns_are_characters() {
        let n = parse("é: 'ü'\nx: y\n").unwrap();
        let v = n.get("é").unwrap();
        assert_eq!(v.span.col, 4);
        assert_eq!(&"é: 'ü'\nx: y\n"[v.span.offset..v.span.offset + 1], "'");
    }
}
