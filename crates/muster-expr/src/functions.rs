//! The custom function library and the shared CEL environment.

use crate::convert::{format_timestamp, val_to_json};
use cel::common::functions::Function;
use cel::common::types::{
    CelBool, CelBytes, CelDouble, CelDuration, CelInt, CelList, CelNull, CelOptional, CelString, CelTimestamp, CelUInt,
    DYN_TYPE, Kind,
};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError, extensions};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::sync::{Arc, LazyLock};

/// `(name, one-line doc)` of every function this crate adds to CEL.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("lower", "lower(s) / s.lower(): the string in lower case (Unicode); null stays null"),
    ("upper", "upper(s) / s.upper(): the string in upper case (Unicode); null stays null"),
    ("trim", "trim(s) / s.trim(): the string without leading and trailing whitespace; null stays null"),
    ("split", "split(s, sep) / s.split(sep): the list of the parts of s between occurrences of sep; null stays null"),
    (
        "join",
        "join(list, sep) / list.join(sep): the elements joined with sep (nulls skipped, numbers and bools written out); null stays null",
    ),
    ("default", "default(x, fallback) / x.default(fallback): fallback when x is null (or an empty optional), else x"),
    (
        "coalesce",
        "coalesce(a, b, ...) or coalesce([a, b, ...]): the first argument (list element) that is not null, else null",
    ),
    (
        "parse_time",
        "parse_time(x) / x.parse_time(): an RFC 3339 UTC string from an RFC 3339 string, epoch seconds or milliseconds (number or numeric string) or a timestamp; null or '' give null",
    ),
    (
        "parse_time",
        "parse_time(s, format) / s.parse_time(format): an RFC 3339 UTC string from s parsed with a chrono strftime format (no zone in s means UTC); null or '' give null",
    ),
    (
        "to_string",
        "to_string(x) / x.to_string(): x as a string: numbers and bools written out, timestamps RFC 3339, lists and maps as JSON; null stays null",
    ),
];

/// Functions and macros of standard CEL and of the enabled cel extensions.
const BUILTIN_FUNCTIONS: &[&str] = &[
    // macros
    "has",
    "all",
    "exists",
    "exists_one",
    "existsOne",
    "map",
    "filter",
    // standard
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "type",
    "dyn",
    "duration",
    "timestamp",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getFullYear",
    "getHours",
    "getMilliseconds",
    "getMinutes",
    "getMonth",
    "getSeconds",
    // optional
    "optional.of",
    "optional.ofNonZeroValue",
    "optional.none",
    "hasValue",
    "value",
    "or",
    "orValue",
    // strings extension
    "charAt",
    "indexOf",
    "lastIndexOf",
    "lowerAscii",
    "upperAscii",
    "replace",
    "substring",
    "format",
    "reverse",
    "strings.quote",
    // lists extension
    "flatten",
    "distinct",
    "sort",
    "sortBy",
    "slice",
    "lists.range",
    // math extension
    "math.greatest",
    "math.least",
    "math.ceil",
    "math.floor",
    "math.round",
    "math.trunc",
    "math.abs",
    "math.sign",
    "math.isInf",
    "math.isNaN",
    "math.isFinite",
    "math.sqrt",
    "math.bitAnd",
    "math.bitOr",
    "math.bitXor",
    "math.bitNot",
    "math.bitShiftLeft",
    "math.bitShiftRight",
    // encoders extension
    "base64.encode",
    "base64.decode",
];

/// Whether `name` is a function (or macro) expressions can call: standard
/// CEL, the enabled cel extensions (strings, lists, math, encoders) and this
/// crate's library ([`FUNCTIONS`]).
pub fn known_function(name: &str) -> bool {
    BUILTIN_FUNCTIONS.contains(&name) || FUNCTIONS.iter().any(|(n, _)| *n == name)
}

/// Every name [`known_function`] accepts, sorted and deduplicated: the
/// candidates for did-you-mean suggestions.
pub fn known_functions() -> Vec<&'static str> {
    let mut names: Vec<&'static str> =
        BUILTIN_FUNCTIONS.iter().copied().chain(FUNCTIONS.iter().map(|(name, _)| *name)).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The environment shared by every compile and evaluation: built once.
pub(crate) static ENV: LazyLock<Result<Arc<Env>, String>> =
    LazyLock::new(|| build_env().map(Arc::new).map_err(|e| e.to_string()));

fn build_env() -> Result<Env, DeclarationError> {
    let mut env = Env::stdlib();
    env.add_extension(extensions::strings)?;
    env.add_extension(extensions::lists)?;
    env.add_extension(extensions::math)?;
    env.add_extension(extensions::encoders)?;

    both(&mut env, "lower", 1, lower)?;
    both(&mut env, "upper", 1, upper)?;
    both(&mut env, "trim", 1, trim)?;
    both(&mut env, "split", 2, split)?;
    both(&mut env, "join", 2, join)?;
    global(&mut env, "join", 1, join)?;
    both(&mut env, "default", 2, default)?;
    both(&mut env, "parse_time", 1, parse_time)?;
    both(&mut env, "parse_time", 2, parse_time_format)?;
    both(&mut env, "to_string", 1, to_string)?;
    for arity in 1..=MAX_COALESCE_ARGS {
        global(&mut env, "coalesce", arity, coalesce)?;
    }
    Ok(env)
}

/// `coalesce` takes up to this many arguments (or one list of any length).
const MAX_COALESCE_ARGS: usize = 12;

fn dyn_args(n: usize) -> Vec<cel::common::types::Type> {
    (0..n).map(|_| DYN_TYPE).collect()
}

/// Declares `name(dyn x arity)`.
fn global(env: &mut Env, name: &str, arity: usize, f: Function) -> Result<(), DeclarationError> {
    env.add_overload(name, &format!("{name}_{arity}"), dyn_args(arity), f)
}

/// Declares `name(dyn x arity)` and `dyn.name(dyn x (arity - 1))`.
fn both(env: &mut Env, name: &str, arity: usize, f: Function) -> Result<(), DeclarationError> {
    global(env, name, arity, f)?;
    env.add_member_overload(name, &format!("dyn_{name}_{arity}"), DYN_TYPE, dyn_args(arity.saturating_sub(1)), f)
}

type CelResult<'b, 'v> = Result<CowVal<'b, 'v>, ExecutionError>;

fn null<'b, 'v>() -> CelResult<'b, 'v> {
    Ok(CowVal::owned(CelNull))
}

fn string<'b, 'v>(s: String) -> CelResult<'b, 'v> {
    Ok(CowVal::owned(CelString::from(s)))
}

fn type_error(function: &str, position: &str, val: &dyn Val, want: &str) -> ExecutionError {
    ExecutionError::function_error(function, format!("{position} must be {want}, got {}", val.get_type().name()))
}

fn arg<'a, 'b, 'v>(args: &'a [CowVal<'b, 'v>], i: usize) -> Result<&'a (dyn Val + 'v), ExecutionError> {
    args.get(i).map(|a| a.as_ref()).ok_or_else(|| ExecutionError::invalid_argument_count(i + 1, args.len()))
}

fn is_null(val: &dyn Val) -> bool {
    val.get_type().kind() == Kind::NullType
}

fn as_str(val: &dyn Val) -> Option<&str> {
    val.downcast_ref::<CelString>().map(|s| s.inner())
}

/// A string argument, `None` when null.
fn str_arg<'a>(function: &str, position: &str, val: &'a dyn Val) -> Result<Option<&'a str>, ExecutionError> {
    if is_null(val) {
        return Ok(None);
    }
    as_str(val).map(Some).ok_or_else(|| type_error(function, position, val, "a string"))
}

fn map_string<'b, 'v>(function: &str, args: Vec<CowVal<'b, 'v>>, f: impl FnOnce(&str) -> String) -> CelResult<'b, 'v> {
    match str_arg(function, "the argument", arg(&args, 0)?)? {
        None => null(),
        Some(s) => string(f(s)),
    }
}

fn lower<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> CelResult<'b, 'v> {
    map_string("lower", args, str::to_lowercase)
}

fn upper<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> CelResult<'b, 'v> {
    map_string("upper", args, str::to_uppercase)
}

fn trim<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> CelResult<'b, 'v> {
    map_string("trim", args, |s| s.trim().to_string())
}

fn split<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> CelResult<'b, 'v> {
    let Some(s) = str_arg("split", "the string", arg(&args, 0)?)? else {
        return null();
    };
    let sep =
        as_str(arg(&args, 1)?).ok_or_else(|| type_error("split", "the separator", args[1].as_ref(), "a string"))?;
    let parts: Vec<Box<dyn Val + 'v>> = if s.is_empty() {
        Vec::new()
    } else if sep.is_empty() {
        s.chars().map(|c| Box::new(CelString::from(c.to_string())) as Box<dyn Val + 'v>).collect()
    } else {
        s.split(sep).map(|p| Box::new(CelString::from(p.to_string())) as Box<dyn Val + 'v>).collect()
    };
    Ok(CowVal::owned(CelList::from(parts)))
}

fn join<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> CelResult<'b, 'v> {
    let list = arg(&args, 0)?;
    if is_null(list) {
        return null();
    }
    let sep = match args.get(1) {
        None => "",
        Some(sep) => {
            as_str(sep.as_ref()).ok_or_else(|| type_error("join", "the separator", sep.as_ref(), "a string"))?
        }
    };
    let items =
        list.downcast_ref::<CelList>().ok_or_else(|| type_error("join", "the first argument", list, "a list"))?;
    let mut out = String::new();
    let mut first = true;
    for item in items.inner() {
        let Some(text) = scalar_to_string(item.as_ref()) else {
            if is_null(item.as_ref()) {
                continue;
            }
            return Err(type_error("join", "each element", item.as_ref(), "a string, number or bool"));
        };
        if !first {
            out.push_str(sep);
        }
        first = false;
        out.push_str(&text);
    }
    string(out)
}

/// A value seen through null and optional: `Null` for null, an empty
/// optional or an optional of null; else the value (unwrapped from its
/// optional).
enum Nullish<'a, 'v> {
    Null,
    Value(&'a (dyn Val + 'v)),
}

fn nullish<'a, 'v>(val: &'a (dyn Val + 'v)) -> Nullish<'a, 'v> {
    if is_null(val) {
        return Nullish::Null;
    }
    if let Some(opt) = val.downcast_ref::<CelOptional>() {
        return match opt.option() {
            None => Nullish::Null,
            Some(inner) if is_null(inner) => Nullish::Null,
            Some(inner) => Nullish::Value(inner),
        };
    }
    Nullish::Value(val)
}

fn default<'b, 'v>(mut args: Vec<CowVal<'b, 'v>>) -> CelResult<'b, 'v> {
    if args.len() != 2 {
        return Err(ExecutionError::invalid_argument_count(2, args.len()));
    }
    let fallback = args.pop();
    let value = args.pop();
    match (value, fallback) {
        (Some(value), Some(fallback)) => {
            let is_optional = value.downcast_ref::<CelOptional>().is_some();
            match nullish(value.as_ref()) {
                Nullish::Null => Ok(fallback),
                Nullish::Value(inner) if is_optional => Ok(CowVal::Owned(inner.clone_as_boxed())),
                Nullish::Value(_) => Ok(value),
            }
        }
        _ => Err(ExecutionError::invalid_argument_count(2, 0)),
    }
}

fn coalesce<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> CelResult<'b, 'v> {
    if let [single] = args.as_slice()
        && let Some(list) = single.downcast_ref::<CelList>()
    {
        for item in list.inner() {
            if let Nullish::Value(v) = nullish(item.as_ref()) {
                return Ok(CowVal::Owned(v.clone_as_boxed()));
            }
        }
        return null();
    }
    for value in args {
        match nullish(value.as_ref()) {
            Nullish::Null => continue,
            Nullish::Value(inner) => {
                if value.downcast_ref::<CelOptional>().is_some() {
                    return Ok(CowVal::Owned(inner.clone_as_boxed()));
                }
                return Ok(value);
            }
        }
    }
    null()
}

/// Values at or above this (in absolute value) are epoch milliseconds, below
/// it epoch seconds (10^11 seconds is in the year 5138).
const MILLIS_THRESHOLD: f64 = 1e11;

fn from_epoch_int(n: i64) -> Option<DateTime<Utc>> {
    if n.unsigned_abs() as f64 > MILLIS_THRESHOLD {
        DateTime::from_timestamp_millis(n)
    } else {
        DateTime::from_timestamp(n, 0)
    }
}

fn from_epoch_float(f: f64) -> Option<DateTime<Utc>> {
    if !f.is_finite() {
        return None;
    }
    let secs = if f.abs() > MILLIS_THRESHOLD { f / 1000.0 } else { f };
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9).round() as u32;
    DateTime::from_timestamp(whole as i64, nanos.min(999_999_999))
}

fn parse_time_str(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(n) = s.parse::<i64>() {
        return from_epoch_int(n);
    }
    if let Ok(f) = s.parse::<f64>() {
        return from_epoch_float(f);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t.with_timezone(&Utc));
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
}

fn parse_time<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> CelResult<'b, 'v> {
    let val = arg(&args, 0)?;
    let parsed = match val.get_type().kind() {
        Kind::NullType => return null(),
        Kind::Int => val.downcast_ref::<CelInt>().and_then(|i| from_epoch_int(*i.inner())),
        Kind::UInt => {
            val.downcast_ref::<CelUInt>().and_then(|u| i64::try_from(*u.inner()).ok()).and_then(from_epoch_int)
        }
        Kind::Double => val.downcast_ref::<CelDouble>().and_then(|d| from_epoch_float(*d.inner())),
        Kind::Timestamp => val.downcast_ref::<CelTimestamp>().map(|t| t.inner().with_timezone(&Utc)),
        Kind::String => {
            let s = as_str(val).unwrap_or_default().trim();
            if s.is_empty() {
                return null();
            }
            parse_time_str(s)
        }
        _ => {
            return Err(type_error("parse_time", "the argument", val, "a string, number or timestamp"));
        }
    };
    match parsed {
        Some(t) => string(format_timestamp(&t)),
        None => Err(ExecutionError::function_error("parse_time", format!("cannot read a time from {}", describe(val)))),
    }
}

fn parse_time_format<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> CelResult<'b, 'v> {
    let Some(s) = str_arg("parse_time", "the value", arg(&args, 0)?)? else {
        return null();
    };
    let s = s.trim();
    if s.is_empty() {
        return null();
    }
    let format =
        as_str(arg(&args, 1)?).ok_or_else(|| type_error("parse_time", "the format", args[1].as_ref(), "a string"))?;
    let parsed = DateTime::parse_from_str(s, format)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(s, format).map(|t| t.and_utc()))
        .or_else(|e| {
            NaiveDate::parse_from_str(s, format).ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc()).ok_or(e)
        });
    match parsed {
        Ok(t) => string(format_timestamp(&t)),
        Err(e) => {
            Err(ExecutionError::function_error("parse_time", format!("cannot read {s:?} with format {format:?}: {e}")))
        }
    }
}

/// Short description of a value for error messages.
fn describe(val: &dyn Val) -> String {
    match val_to_json(val) {
        Ok(json) => {
            let text = json.to_string();
            if text.len() > 60 { format!("{}...", text.chars().take(57).collect::<String>()) } else { text }
        }
        Err(_) => format!("a value of type {}", val.get_type().name()),
    }
}

/// Text of a string, number or bool; `None` for anything else.
fn scalar_to_string(val: &dyn Val) -> Option<String> {
    match val.get_type().kind() {
        Kind::String => as_str(val).map(str::to_string),
        Kind::Int => val.downcast_ref::<CelInt>().map(|i| i.inner().to_string()),
        Kind::UInt => val.downcast_ref::<CelUInt>().map(|u| u.inner().to_string()),
        Kind::Double => val.downcast_ref::<CelDouble>().map(|d| d.inner().to_string()),
        Kind::Boolean => val.downcast_ref::<CelBool>().map(|b| b.inner().to_string()),
        _ => None,
    }
}

fn to_string<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> CelResult<'b, 'v> {
    let val = arg(&args, 0)?;
    if let Some(text) = scalar_to_string(val) {
        return string(text);
    }
    match val.get_type().kind() {
        Kind::NullType => null(),
        Kind::Timestamp => match val.downcast_ref::<CelTimestamp>() {
            Some(t) => string(format_timestamp(t.inner())),
            None => Err(type_error("to_string", "the argument", val, "convertible")),
        },
        Kind::Duration => match val.downcast_ref::<CelDuration>() {
            Some(d) => {
                let d = d.inner();
                let secs = d.num_seconds() as f64 + f64::from(d.subsec_nanos()) / 1e9;
                string(format!("{secs}s"))
            }
            None => Err(type_error("to_string", "the argument", val, "convertible")),
        },
        Kind::Bytes => match val.downcast_ref::<CelBytes>() {
            Some(b) => string(String::from_utf8_lossy(b.inner()).into_owned()),
            None => Err(type_error("to_string", "the argument", val, "convertible")),
        },
        _ => {
            if let Some(opt) = val.downcast_ref::<CelOptional>() {
                return match opt.option() {
                    None => null(),
                    Some(inner) => to_string(vec![CowVal::Owned(inner.clone_as_boxed())]),
                };
            }
            match val_to_json(val) {
                Ok(json) => string(json.to_string()),
                Err(message) => Err(ExecutionError::function_error("to_string", message)),
            }
        }
    }
}
