//! Core errors as JavaScript `Error`s whose `code` is the core's stable code string.
//!
//! Every error also carries `retryable`, plus what its variant knows: `field`
//! (`INVALID_INPUT`), `retryAfterMs` (`RATE_LIMITED`), `variable` (`CONFIG`) and, for
//! `EXTERNAL` failures of a store written in JavaScript, the original exception as `cause`.
//! Helpers for apps: `errorCodes`, `httpStatus` and the `isStreamingError` type guard.

use ltcg_streaming_core::{Error, ErrorCode};
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// The JavaScript error for `err`, ready to be thrown or to reject a Promise. Must run on the
/// JavaScript thread.
pub(crate) fn js_error(env: &Env, err: Error) -> napi::Error {
    build(env, &err).unwrap_or_else(|failure| failure)
}

fn build(env: &Env, err: &Error) -> napi::Result<napi::Error> {
    let mut object = env.create_error(napi::Error::from_reason(err.to_string()))?;
    object.set_named_property("code", err.code().as_str())?;
    object.set_named_property("retryable", err.is_retryable())?;
    match err {
        Error::InvalidInput { field, .. } => object.set_named_property("field", field.as_str())?,
        Error::RateLimited { retry_after, .. } => {
            object.set_named_property("retryAfterMs", retry_after.as_millis() as f64)?
        }
        Error::Config { var, .. } => object.set_named_property("variable", var.as_str())?,
        Error::External { source, .. } => {
            if let Some(original) = source.downcast_ref::<napi::Error>() {
                object.set_named_property("cause", original.try_clone()?)?;
            }
        }
        _ => {}
    }
    Ok(napi::Error::from(object.to_unknown()))
}

/// `Result` extension: turns a core error into a thrown JavaScript error.
pub(crate) trait OrThrow<T> {
    /// The value, or the JavaScript error for the core error.
    fn or_throw(self, env: &Env) -> napi::Result<T>;
}

impl<T> OrThrow<T> for ltcg_streaming_core::Result<T> {
    fn or_throw(self, env: &Env) -> napi::Result<T> {
        self.map_err(|err| js_error(env, err))
    }
}

/// The [`ErrorCode`] whose string is `code`, if any.
fn known_code(code: &str) -> Option<ErrorCode> {
    ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
}

/// Every error code, in the core's order.
#[napi(ts_return_type = "ErrorCode[]")]
pub fn error_codes() -> Vec<&'static str> {
    ErrorCode::ALL.iter().map(|code| code.as_str()).collect()
}

/// The HTTP status the reference API answers with for `code` (e.g. `NOT_FOUND` → 404).
/// Throws `INVALID_INPUT` for an unknown code.
#[napi(ts_args_type = "code: ErrorCode")]
pub fn http_status(env: &Env, code: String) -> napi::Result<u32> {
    known_code(&code)
        .map(|code| code.http_status().into())
        .ok_or_else(|| Error::invalid("code", "is not an error code of this package"))
        .or_throw(env)
}

/// Whether `value` is an error thrown or rejected by this package (its `code` is one of
/// the core's codes).
#[napi(
    ts_args_type = "value: unknown",
    ts_return_type = "value is StreamingError"
)]
pub fn is_streaming_error(value: Unknown) -> napi::Result<bool> {
    if value.get_type()? != ValueType::Object || !value.is_error()? {
        return Ok(false);
    }
    let code: Unknown = value.coerce_to_object()?.get_named_property("code")?;
    if code.get_type()? != ValueType::String {
        return Ok(false);
    }
    let code: String = code.coerce_to_string()?.into_utf8()?.into_owned()?;
    Ok(known_code(&code).is_some())
}
