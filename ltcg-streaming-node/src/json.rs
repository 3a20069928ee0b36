//! JavaScript values travel as JSON through the core's own serde types, so bad input gets
//! the core's `INVALID_INPUT` naming the field.

use std::sync::Arc;

use ltcg_streaming_core::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Number, Value};

/// Reads `value` as a `T`; errors name the offending field (`destinations[0].platform`), or
/// `what` when the value as a whole is wrong.
pub(crate) fn parse<T: DeserializeOwned>(what: &str, mut value: Value) -> Result<T> {
    restore_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { what.to_owned() } else { path };
        let reason = err.inner().to_string();
        // Custom deserializers (platform, sessionId) already say "invalid <field>: ...".
        let last = field.rsplit(['.', ']']).next().unwrap_or_default();
        let reason = reason
            .strip_prefix(&format!("invalid {last}: "))
            .map(str::to_owned)
            .unwrap_or(reason);
        Error::invalid(field, reason)
    })
}

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// JavaScript has one number type, and whole numbers beyond 32 bits arrive as floats
/// (`1795483417533.0`); turns every whole float in the safe-integer range back into an
/// integer, so it reads as the core's `i64`/`u64` fields.
fn restore_integers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                if n.is_f64() && f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER {
                    *n = Number::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(restore_integers),
        Value::Object(map) => map.values_mut().for_each(restore_integers),
        _ => {}
    }
}

/// `value` as JSON in the core's camelCase shape, with integers beyond the safe-integer range
/// as (approximate) floats, as `JSON.parse` reads them: a JavaScript number, never a BigInt.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<Value> {
    let mut json = serde_json::to_value(value).map_err(|err| Error::External {
        message: format!("could not convert a result to JSON: {err}"),
        source: Arc::new(err),
    })?;
    approximate_large_integers(&mut json);
    Ok(json)
}

/// Turns integers outside ±`MAX_SAFE_INTEGER` (e.g. Unix nanoseconds) into floats.
fn approximate_large_integers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n
                .as_f64()
                .filter(|f| !n.is_f64() && f.abs() > MAX_SAFE_INTEGER)
            {
                if let Some(float) = Number::from_f64(f) {
                    *n = float;
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(approximate_large_integers),
        Value::Object(map) => map.values_mut().for_each(approximate_large_integers),
        _ => {}
    }
}

/// A JavaScript number that must be a whole number from 0 to `max`; errors name `field`.
pub(crate) fn whole_number(field: &str, value: f64, max: u64) -> Result<u64> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= max as f64 {
        Ok(value as u64)
    } else {
        Err(Error::invalid(
            field,
            format!("must be a whole number from 0 to {max}"),
        ))
    }
}

/// `value` as a JavaScript value made by `JSON.parse` from its JSON text (large integers
/// become approximate numbers, as in [`to_json`]). For synchronous results with many fields
/// one parse is several times cheaper than creating every property through N-API.
pub(crate) fn to_js<'env, T: Serialize>(
    env: &'env napi::Env,
    value: &T,
) -> napi::Result<napi::bindgen_prelude::Unknown<'env>> {
    use crate::error::OrThrow;
    use napi::bindgen_prelude::{Function, JsObjectValue, Object, Unknown};
    let text = serde_json::to_string(value)
        .map_err(|err| Error::External {
            message: format!("could not convert a result to JSON: {err}"),
            source: Arc::new(err),
        })
        .or_throw(env)?;
    let json: Object<'env> = env.get_global()?.get_named_property("JSON")?;
    let parse: Function<'env, String, Unknown<'env>> = json.get_named_property("parse")?;
    parse.call(text)
}
