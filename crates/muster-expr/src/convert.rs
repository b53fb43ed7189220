//! JSON <-> CEL value conversion.

use crate::analyze::Projection;
use base64::Engine as _;
use cel::common::types::{
    CelBool, CelBytes, CelDouble, CelDuration, CelInt, CelList, CelMap, CelMapKey, CelNull, CelOptional, CelString,
    CelTimestamp, CelType, CelUInt, Kind,
};
use cel::common::value::Val;
use chrono::SecondsFormat;
use serde_json::Value as Json;
use std::collections::HashMap;

/// Converts JSON to a CEL value, borrowing the JSON's strings.
///
/// Integers become `int` (`uint` only above `i64::MAX`), other numbers
/// `double`, objects maps with string keys.
pub(crate) fn json_to_val<'v>(json: &'v Json) -> Box<dyn Val + 'v> {
    match json {
        Json::Null => Box::new(CelNull),
        Json::Bool(b) => Box::new(CelBool::from(*b)),
        Json::Number(n) => number_to_val(n),
        Json::String(s) => Box::new(CelString::from(s.as_str())),
        Json::Array(items) => Box::new(CelList::from(items.iter().map(json_to_val).collect::<Vec<_>>())),
        Json::Object(map) => {
            let entries: HashMap<CelMapKey<'v>, Box<dyn Val + 'v>> =
                map.iter().map(|(k, v)| (CelMapKey::from(k.as_str()), json_to_val(v))).collect();
            Box::new(CelMap::from(entries))
        }
    }
}

/// Like [`json_to_val`], but converts only the keys of objects that
/// `projection` says the expression can reach.
pub(crate) fn json_to_val_projected<'v>(json: &'v Json, projection: &Projection) -> Box<dyn Val + 'v> {
    match (json, projection) {
        (Json::Object(map), Projection::Fields(fields)) => {
            let mut entries: HashMap<CelMapKey<'v>, Box<dyn Val + 'v>> = HashMap::with_capacity(fields.len());
            for (key, sub) in fields {
                if let Some((k, v)) = map.get_key_value(key.as_str()) {
                    entries.insert(CelMapKey::from(k.as_str()), json_to_val_projected(v, sub));
                }
            }
            Box::new(CelMap::from(entries))
        }
        _ => json_to_val(json),
    }
}

fn number_to_val(n: &serde_json::Number) -> Box<dyn Val + 'static> {
    if let Some(i) = n.as_i64() {
        Box::new(CelInt::from(i))
    } else if let Some(u) = n.as_u64() {
        Box::new(CelUInt::from(u))
    } else {
        Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN)))
    }
}

fn f64_to_json(f: f64) -> Result<Json, String> {
    serde_json::Number::from_f64(f).map(Json::Number).ok_or_else(|| format!("cannot represent {f} in JSON"))
}

/// Converts a CEL value back to JSON: timestamps become RFC 3339 strings,
/// durations seconds, bytes base64, optionals their value or null.
pub(crate) fn val_to_json(val: &dyn Val) -> Result<Json, String> {
    match val.get_type().kind() {
        Kind::NullType => Ok(Json::Null),
        Kind::Boolean => val.downcast_ref::<CelBool>().map(|b| Json::Bool(*b.inner())).ok_or_else(|| unexpected(val)),
        Kind::Int => val.downcast_ref::<CelInt>().map(|i| Json::from(*i.inner())).ok_or_else(|| unexpected(val)),
        Kind::UInt => val.downcast_ref::<CelUInt>().map(|u| Json::from(*u.inner())).ok_or_else(|| unexpected(val)),
        Kind::Double => {
            let d = val.downcast_ref::<CelDouble>().ok_or_else(|| unexpected(val))?;
            f64_to_json(*d.inner())
        }
        Kind::String => {
            val.downcast_ref::<CelString>().map(|s| Json::String(s.inner().to_string())).ok_or_else(|| unexpected(val))
        }
        Kind::Bytes => val
            .downcast_ref::<CelBytes>()
            .map(|b| Json::String(base64::engine::general_purpose::STANDARD.encode(b.inner())))
            .ok_or_else(|| unexpected(val)),
        Kind::Timestamp => val
            .downcast_ref::<CelTimestamp>()
            .map(|t| Json::String(format_timestamp(t.inner())))
            .ok_or_else(|| unexpected(val)),
        Kind::Duration => {
            let d = val.downcast_ref::<CelDuration>().ok_or_else(|| unexpected(val))?;
            duration_to_json(d.inner())
        }
        Kind::List => {
            if let Some(list) = val.downcast_ref::<CelList>() {
                list.inner().iter().map(|v| val_to_json(v.as_ref())).collect::<Result<Vec<_>, _>>().map(Json::Array)
            } else {
                let iterable = val.as_iterable().ok_or_else(|| unexpected(val))?;
                let mut iter = iterable.iter();
                let mut out = Vec::new();
                while let Some(v) = iter.next() {
                    out.push(val_to_json(v)?);
                }
                Ok(Json::Array(out))
            }
        }
        Kind::Map => {
            let map = val.downcast_ref::<CelMap>().ok_or_else(|| unexpected(val))?;
            let mut entries: Vec<(String, Json)> = map
                .inner()
                .iter()
                .map(|(k, v)| Ok((key_to_string(k), val_to_json(v.as_ref())?)))
                .collect::<Result<_, String>>()?;
            // CEL maps are unordered: sort for a deterministic output.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(Json::Object(entries.into_iter().collect()))
        }
        Kind::Type => {
            val.downcast_ref::<CelType>().map(|t| Json::String(t.name().to_string())).ok_or_else(|| unexpected(val))
        }
        _ => {
            if let Some(opt) = val.downcast_ref::<CelOptional>() {
                return match opt.option() {
                    None => Ok(Json::Null),
                    Some(v) => val_to_json(v),
                };
            }
            Err(unexpected(val))
        }
    }
}

pub(crate) fn key_to_string(key: &CelMapKey<'_>) -> String {
    match key {
        CelMapKey::String(s) => s.inner().to_string(),
        CelMapKey::Int(i) => i.inner().to_string(),
        CelMapKey::UInt(u) => u.inner().to_string(),
        CelMapKey::Bool(b) => b.inner().to_string(),
    }
}

pub(crate) fn format_timestamp<Tz: chrono::TimeZone>(t: &chrono::DateTime<Tz>) -> String {
    t.with_timezone(&chrono::Utc).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn duration_to_json(d: &chrono::Duration) -> Result<Json, String> {
    if d.subsec_nanos() == 0 {
        Ok(Json::from(d.num_seconds()))
    } else {
        let secs = d.num_seconds() as f64 + f64::from(d.subsec_nanos()) / 1e9;
        f64_to_json(secs)
    }
}

fn unexpected(val: &dyn Val) -> String {
    format!("cannot convert a value of type `{}` to JSON", val.get_type().name())
}
