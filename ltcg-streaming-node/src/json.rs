//! JavaScript values travel as JSON and are read by the core's one JSON boundary
//! (`ltcg_streaming_core::json`); this module only adapts numbers to JavaScript's one number
//! type and turns results into JavaScript values.

use std::sync::Arc;

use ltcg_streaming_core::{Error, Result};
use serde::Serialize;
use serde_json::{Number, Value};

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// JavaScript has one number type, and whole numbers beyond 32 bits arrive as floats
/// (`1795483417533.0`); turns every whole float in the safe-integer range back into an
/// integer, so it reads as the core's `i64`/`u64` fields.
pub(crate) fn from_js_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                if n.is_f64() && f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER {
                    *n = Number::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(from_js_numbers),
        Value::Object(map) => map.values_mut().for_each(from_js_numbers),
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
    to_js_numbers(&mut json);
    Ok(json)
}

/// Turns integers outside ±`MAX_SAFE_INTEGER` (e.g. Unix nanoseconds) into floats.
pub(crate) fn to_js_numbers(value: &mut Value) {
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
        Value::Array(items) => items.iter_mut().for_each(to_js_numbers),
        Value::Object(map) => map.values_mut().for_each(to_js_numbers),
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
