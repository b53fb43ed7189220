//! A tiny block-style YAML writer with comments. Only what connectors need: mappings, scalars, comments.

#[derive(Default)]
pub struct Yaml {
    pub out: String,
}

impl Yaml {
    fn pad(&mut self, indent: usize) {
        for _ in 0..indent {
            self.out.push_str("  ");
        }
    }

    /// `# text` (one line per line of text).
    pub fn comment(&mut self, indent: usize, text: &str) {
        if text.is_empty() {
            self.pad(indent);
            self.out.push_str("#\n");
            return;
        }
        for line in text.lines() {
            self.pad(indent);
            if line.is_empty() {
                self.out.push_str("#\n");
            } else {
                self.out.push_str("# ");
                self.out.push_str(line.trim_end());
                self.out.push('\n');
            }
        }
    }

    /// `key:` opening a nested block.
    pub fn open(&mut self, indent: usize, key: &str) {
        self.pad(indent);
        self.out.push_str(&key_text(key));
        self.out.push_str(":\n");
    }

    /// `key: value` with the value quoted when needed.
    pub fn kv(&mut self, indent: usize, key: &str, value: &str) {
        self.pad(indent);
        self.out.push_str(&key_text(key));
        self.out.push_str(": ");
        self.out.push_str(&scalar(value));
        self.out.push('\n');
    }

    /// `key: value` written as is (numbers, booleans, flow lists already formatted).
    pub fn raw(&mut self, indent: usize, key: &str, value: &str) {
        self.pad(indent);
        self.out.push_str(&key_text(key));
        self.out.push_str(": ");
        self.out.push_str(value);
        self.out.push('\n');
    }

    /// `- key: value` (first key of a list item).
    pub fn item_kv(&mut self, indent: usize, key: &str, value: &str) {
        self.pad(indent);
        self.out.push_str("- ");
        self.out.push_str(&key_text(key));
        self.out.push_str(": ");
        self.out.push_str(&scalar(value));
        self.out.push('\n');
    }

    pub fn blank(&mut self) {
        self.out.push('\n');
    }
}

fn key_text(k: &str) -> String {
    if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') && !k.is_empty() && !is_keyword(k) {
        k.to_string()
    } else {
        quote(k)
    }
}

fn is_keyword(s: &str) -> bool {
    matches!(s.to_ascii_lowercase().as_str(), "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~")
}

/// A scalar as YAML: plain when unambiguous, double-quoted otherwise.
pub fn scalar(s: &str) -> String {
    let plain_ok = !s.is_empty()
        && !is_keyword(s)
        && s.parse::<f64>().is_err()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '$' | '@'))
        && !s.starts_with(['-', '@', '.'])
        || (s.starts_with("${")
            && s.ends_with('}')
            && s[2..s.len() - 1].chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if plain_ok { s.to_string() } else { quote(s) }
}

pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A CEL string literal: `'text'`.
pub fn cel_str(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}
