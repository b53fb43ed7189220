//! Static analysis of a compiled expression: the free variables it reads,
//! the field paths it selects off them, and the functions it calls.

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr, LiteralValue};
use std::collections::{BTreeMap, BTreeSet};

/// Which part of a variable an expression can reach.
///
/// Used to convert only the reachable part of a (possibly large) JSON record
/// into CEL values at evaluation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Projection {
    /// The whole value is used (passed to a function, iterated, compared...).
    All,
    /// Only these keys are read, each with its own projection.
    Fields(BTreeMap<String, Projection>),
}

impl Projection {
    fn merge_path(&mut self, path: &[String]) {
        let Projection::Fields(fields) = self else {
            return;
        };
        match path.split_first() {
            None => *self = Projection::All,
            Some((first, rest)) => {
                fields.entry(first.clone()).or_insert_with(|| Projection::Fields(BTreeMap::new())).merge_path(rest)
            }
        }
    }
}

/// Namespaces of qualified function names: `optional.of(x)` is a call of
/// `optional.of`, not a read of a variable named `optional`.
const FUNCTION_NAMESPACES: &[&str] = &["optional", "strings", "math", "lists", "base64"];

/// Identifiers that name types rather than variables.
const TYPE_NAMES: &[&str] =
    &["bool", "bytes", "double", "int", "uint", "string", "list", "map", "null_type", "type", "dyn", "optional_type"];

#[derive(Debug, Default)]
pub(crate) struct Analysis {
    pub variables: BTreeSet<String>,
    pub functions: BTreeSet<String>,
    /// Every select chain rooted at a free variable: (root, segments).
    pub chains: BTreeSet<(String, Vec<String>)>,
    pub projections: BTreeMap<String, Projection>,
}

pub(crate) fn analyze(expr: &IdedExpr) -> Analysis {
    let mut analysis = Analysis::default();
    let mut bound = Vec::new();
    walk(expr, &mut bound, &mut analysis);
    analysis
}

/// A select chain off an identifier: `a.b['c'].?d` is `("a", ["b", "c", "d"])`.
fn chain(expr: &IdedExpr) -> Option<(&str, Vec<String>)> {
    match &expr.expr {
        Expr::Ident(name) => Some((name.as_str(), Vec::new())),
        Expr::Select(select) => {
            let (root, mut path) = chain(&select.operand)?;
            path.push(select.field.clone());
            Some((root, path))
        }
        Expr::Call(call)
            if call.target.is_none()
                && call.args.len() == 2
                && matches!(call.func_name.as_str(), "_[_]" | "_[?_]" | "_?._") =>
        {
            let Expr::Literal(LiteralValue::String(key)) = &call.args[1].expr else {
                return None;
            };
            let (root, mut path) = chain(&call.args[0])?;
            path.push(key.inner().to_string());
            Some((root, path))
        }
        _ => None,
    }
}

fn is_free(name: &str, bound: &[String]) -> bool {
    !bound.iter().any(|b| b == name) && !TYPE_NAMES.contains(&name) && !name.starts_with('@') && !name.starts_with("__")
}

fn record_variable(root: &str, path: Vec<String>, analysis: &mut Analysis) {
    analysis.variables.insert(root.to_string());
    analysis
        .projections
        .entry(root.to_string())
        .or_insert_with(|| Projection::Fields(BTreeMap::new()))
        .merge_path(&path);
    if !path.is_empty() {
        analysis.chains.insert((root.to_string(), path));
    }
}

fn is_internal_function(name: &str) -> bool {
    name.starts_with('_') || name.starts_with('!') || name.starts_with('-') || name.contains('@')
}

fn walk(expr: &IdedExpr, bound: &mut Vec<String>, analysis: &mut Analysis) {
    if let Some((root, path)) = chain(expr)
        && is_free(root, bound)
    {
        // A qualified type name such as `google.protobuf.Timestamp`.
        if root == "google" {
            return;
        }
        record_variable(root, path, analysis);
        return;
    }
    match &expr.expr {
        Expr::Unspecified | Expr::Literal(_) | Expr::Ident(_) => {}
        Expr::Call(call) => {
            let mut target_is_namespace = false;
            if let Some(target) = &call.target
                && let Expr::Ident(ns) = &target.expr
                && FUNCTION_NAMESPACES.contains(&ns.as_str())
                && is_free(ns, bound)
            {
                target_is_namespace = true;
                analysis.functions.insert(format!("{ns}.{}", call.func_name));
            }
            if !target_is_namespace {
                if !is_internal_function(&call.func_name) {
                    analysis.functions.insert(call.func_name.clone());
                }
                if let Some(target) = &call.target {
                    walk(target, bound, analysis);
                }
            }
            for arg in &call.args {
                walk(arg, bound, analysis);
            }
        }
        Expr::Select(select) => walk(&select.operand, bound, analysis),
        Expr::List(list) => {
            for element in &list.elements {
                walk(element, bound, analysis);
            }
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                if let EntryExpr::MapEntry(entry) = &entry.expr {
                    walk(&entry.key, bound, analysis);
                    walk(&entry.value, bound, analysis);
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &s.entries {
                match &entry.expr {
                    EntryExpr::StructField(field) => walk(&field.value, bound, analysis),
                    EntryExpr::MapEntry(entry) => {
                        walk(&entry.key, bound, analysis);
                        walk(&entry.value, bound, analysis);
                    }
                }
            }
        }
        Expr::Comprehension(c) => {
            walk(&c.iter_range, bound, analysis);
            walk(&c.accu_init, bound, analysis);
            let before = bound.len();
            bound.push(c.accu_var.clone());
            bound.push(c.iter_var.clone());
            if let Some(var2) = &c.iter_var2 {
                bound.push(var2.clone());
            }
            walk(&c.loop_cond, bound, analysis);
            walk(&c.loop_step, bound, analysis);
            walk(&c.result, bound, analysis);
            bound.truncate(before);
        }
    }
}
