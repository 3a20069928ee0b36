//! Python values ↔ JSON values, and requests from a mapping plus keyword arguments.
//!
//! Results are the core's serde output turned into plain `dict`/`list`/`str`/`int`/`float`/
//! `bool`/`None`, with the seed's camelCase keys. Requests go the other way and are
//! deserialized by the core's own types, so their validation and field names apply.

use std::collections::HashMap;

use ltcg_streaming_core::Error;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Number, Value};

use crate::errors::to_py_err;

/// Deepest nesting accepted from Python (guards against self-referencing containers).
const MAX_DEPTH: usize = 64;

/// A JSON value on its way to Python.
#[derive(Debug)]
pub(crate) struct Json(pub(crate) Value);

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A core value serialized for Python.
pub(crate) fn json<T: Serialize>(value: T) -> PyResult<Json> {
    serde_json::to_value(value)
        .map(Json)
        .map_err(|e| PyValueError::new_err(format!("could not serialize the result: {e}")))
}

/// A JSON value as a Python object.
pub(crate) fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A Python value (dicts with `str` keys, lists, tuples, `str`, `int`, `float`, `bool`,
/// `None`) as JSON; anything else is a `TypeError`.
pub(crate) fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    from_py_at(obj, 0)
}

fn from_py_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err("value is nested too deeply"));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        return match (obj.extract::<i64>(), obj.extract::<u64>()) {
            (Ok(i), _) => Ok(i.into()),
            (_, Ok(u)) => Ok(u.into()),
            _ => Err(PyValueError::new_err("integer is out of range")),
        };
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err("numbers must be finite"));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        return object(dict.iter(), depth);
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list
            .iter()
            .map(|item| from_py_at(&item, depth + 1))
            .collect();
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple
            .iter()
            .map(|item| from_py_at(&item, depth + 1))
            .collect();
    }
    if let Ok(mapping) = obj.cast::<PyMapping>() {
        let items = mapping.items()?;
        let pairs = items
            .iter()
            .map(|pair| pair.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>())
            .collect::<PyResult<Vec<_>>>()?;
        return object(pairs.into_iter(), depth);
    }
    Err(PyTypeError::new_err(format!(
        "{} is not a JSON value (dict, list, str, int, float, bool or None)",
        obj.get_type().name()?
    )))
}

fn object<'py>(
    pairs: impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    depth: usize,
) -> PyResult<Value> {
    let mut map = Map::new();
    for (key, item) in pairs {
        let key = key
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("dict keys must be str"))?
            .to_cow()?
            .into_owned();
        map.insert(key, from_py_at(&item, depth + 1)?);
    }
    Ok(Value::Object(map))
}

/// `stream_key` → `streamKey`.
fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A request of type `T` from an optional mapping with the seed's camelCase keys and keyword
/// arguments in snake_case (turned camelCase). An unknown keyword is a `TypeError`; unknown
/// or invalid fields are `InvalidInputError`s naming the field.
pub(crate) fn request<T: DeserializeOwned>(
    request: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<T> {
    let (fields, keywords) = gather(request, kwargs)?;
    parse(Value::Object(fields), true).map_err(|e| refuse(e, &keywords))
}

/// [`request`] for types with flattened fields, whose unknown keys serde does not report: a
/// key missing from the parsed request serialized back is unknown.
pub(crate) fn flattened_request<T: DeserializeOwned + Serialize>(
    request: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<T> {
    let (fields, keywords) = gather(request, kwargs)?;
    let keys: Vec<String> = fields.keys().cloned().collect();
    let parsed: T = parse(Value::Object(fields), true).map_err(|e| refuse(e, &keywords))?;
    if let Ok(Value::Object(known)) = serde_json::to_value(&parsed) {
        if let Some(field) = keys.into_iter().find(|k| !known.contains_key(k)) {
            let unknown = Invalid {
                field,
                reason: "is not a known field".into(),
                unknown: true,
            };
            return Err(refuse(unknown, &keywords));
        }
    }
    Ok(parsed)
}

/// The fields of a request (keyword arguments renamed camelCase), and which keyword each
/// renamed key came from.
fn gather(
    request: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<(Map<String, Value>, HashMap<String, String>)> {
    let mut fields = match request.map(from_py).transpose()? {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(PyTypeError::new_err("the request must be a dict")),
    };
    let mut keywords = HashMap::new();
    for (name, value) in kwargs.into_iter().flat_map(|k| k.iter()) {
        let name: String = name.extract()?;
        let key = camel_case(&name);
        if fields.contains_key(&key) {
            return Err(PyTypeError::new_err(format!(
                "{key} is given both in the request and as the keyword argument {name}"
            )));
        }
        fields.insert(key.clone(), from_py(&value)?);
        keywords.insert(key, name);
    }
    Ok((fields, keywords))
}

/// The exception for an invalid request: a `TypeError` for an unknown keyword argument, an
/// `InvalidInputError` otherwise.
fn refuse(e: Invalid, keywords: &HashMap<String, String>) -> PyErr {
    match keywords.get(&e.field) {
        Some(name) if e.unknown => {
            PyTypeError::new_err(format!("unexpected keyword argument '{name}'"))
        }
        _ if e.field.is_empty() => to_py_err(Error::invalid("request", e.reason)),
        _ => to_py_err(Error::invalid(e.field, e.reason)),
    }
}

/// Why a JSON value is not a `T`.
#[derive(Debug)]
pub(crate) struct Invalid {
    /// Where, e.g. `destinations[0].platform` (empty: the value as a whole).
    pub(crate) field: String,
    /// What is wrong, without echoing the value.
    pub(crate) reason: String,
    /// Whether the field is unknown to `T`.
    pub(crate) unknown: bool,
}

/// Deserializes `value` with the core's types; with `refuse_unknown`, fields `T` does not
/// know are refused.
pub(crate) fn parse<T: DeserializeOwned>(value: Value, refuse_unknown: bool) -> Result<T, Invalid> {
    let mut unknown = Vec::new();
    let mut on_ignored = |path: serde_ignored::Path<'_>| unknown.push(ignored_path(&path));
    let deserializer = serde_ignored::Deserializer::new(value, &mut on_ignored);
    let parsed: T = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let (field, reason, unknown) = describe(&path, &e.into_inner().to_string());
        Invalid {
            field,
            reason,
            unknown,
        }
    })?;
    match unknown.into_iter().next().filter(|_| refuse_unknown) {
        None => Ok(parsed),
        Some(field) => Err(Invalid {
            field,
            reason: "is not a known field".into(),
            unknown: true,
        }),
    }
}

/// A serde_ignored path as `a.b[0].c`.
fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => join(&ignored_path(parent), key),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

/// `parent.key` (just `key` at the root, just `parent` for an empty key).
pub(crate) fn join(parent: &str, key: &str) -> String {
    if key.is_empty() {
        return parent.to_owned();
    }
    if parent.is_empty() || parent == "." {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// The field, a reason that never echoes the offending value, and whether the field is
/// unknown, from a serde message at `path`.
fn describe(path: &str, message: &str) -> (String, String, bool) {
    let quoted = |s: &str| s.split('`').nth(1).map(str::to_owned);
    if let Some(name) = message.strip_prefix("missing field ").and_then(quoted) {
        return (join(path, &name), "is required".into(), false);
    }
    if let Some(name) = message.strip_prefix("unknown field ").and_then(quoted) {
        // The path already ends at the unknown key.
        let field = if path == name || path.ends_with(&format!(".{name}")) {
            path.to_owned()
        } else {
            join(path, &name)
        };
        return (field, "is not a known field".into(), true);
    }
    let field = if path == "." { "" } else { path }.to_owned();
    for prefix in ["invalid type: ", "invalid value: ", "unknown variant "] {
        if let Some((_, expected)) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once(", expected "))
        {
            return (field, format!("must be {expected}"), false);
        }
    }
    // A core error raised while deserializing: "invalid <name>: <reason>".
    let reason = match message.strip_prefix("invalid ") {
        Some(rest) => rest.split_once(": ").map_or(rest, |(_, reason)| reason),
        None => message,
    };
    (field, reason.to_owned(), false)
}
