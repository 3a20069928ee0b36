//! The one JSON boundary: every surface (HTTP bodies and query strings, the Python and Node
//! bindings) turns caller input into the core's request types here.
//!
//! Rules, the same for every surface:
//! - errors are [`Error::InvalidInput`] naming the field by its path (`destinations[0].platform`),
//!   or `body`/`request`/the argument's name when the input as a whole is wrong;
//! - fields a type does not know are refused, naming the field;
//! - requests are JSON objects (an array is not read by position);
//! - no value of the caller's is ever quoted back: reasons say what was expected.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Longest field name quoted in an error; longer or unusual keys are not repeated.
const MAX_FIELD_NAME: usize = 64;
/// Longest unknown field name quoted back (ours are short camelCase words).
const MAX_UNKNOWN_NAME: usize = 40;
/// Shortest input string the echo guard looks for in an error's reason.
const MIN_ECHO: usize = 4;

/// A request object from a JSON value. `what` names the input as a whole (`request`,
/// `body`, an argument's name) for errors that are not about one field. `null` reads as an
/// empty object, so a request whose fields are all optional may be omitted.
pub fn request<T: DeserializeOwned>(what: &str, value: Value) -> Result<T> {
    let value = match value {
        Value::Null => Value::Object(Default::default()),
        Value::Object(map) => Value::Object(map),
        _ => return Err(Error::invalid(what, "must be a JSON object")),
    };
    self::value(what, value)
}

/// Any `T` from a JSON value (a request field, a scalar argument, a store's result);
/// unknown fields of nested objects are refused as in [`request`].
pub fn value<T: DeserializeOwned>(what: &str, value: Value) -> Result<T> {
    decode(what, &value, &value)
}

/// Like [`value`], but fields `T` does not know are ignored: for data read back from
/// storage written by a newer version, never for caller input.
pub fn value_lenient<T: DeserializeOwned>(what: &str, value: Value) -> Result<T> {
    serde_path_to_error::deserialize(&value).map_err(|e| {
        describe(
            what,
            &e.path().to_string(),
            &e.into_inner().to_string(),
            &value,
        )
    })
}

/// A request object from a JSON body, read as it streams in (so a deeply nested value is
/// refused at its field, by name). Malformed or truncated JSON names the field `body`.
pub fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let syntax = |e: &serde_json::Error| {
        let reason = match e.classify() {
            serde_json::error::Category::Eof => "is truncated JSON".to_owned(),
            _ => format!(
                "is not valid JSON ({} at {})",
                without_position(&e.to_string()),
                position(e)
            ),
        };
        Error::invalid("body", reason)
    };
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => return Err(Error::invalid("body", "is required (a JSON object)")),
        Some(b'{') => {}
        Some(_) => return Err(Error::invalid("body", "must be a JSON object")),
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = strict(&mut de);
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(e) if e.inner().is_data() => {
            let input = serde_json::from_slice(bytes).unwrap_or(Value::Null);
            let (path, inner) = (e.path().to_string(), e.into_inner());
            return Err(describe("body", &path, &inner.to_string(), &input));
        }
        Err(e) => {
            // Malformed JSON inside a field we know is blamed on that field.
            let path = e.path().to_string();
            let err = syntax(e.inner());
            return Err(match err {
                Error::InvalidInput { reason, .. }
                    if !e.inner().is_eof() && path != "." && usable_path(&path) =>
                {
                    // The outermost field: free-form JSON has no field names inside.
                    let field = path.split('[').next().unwrap_or(&path);
                    Error::invalid(field, reason)
                }
                other => other,
            });
        }
    };
    de.end().map_err(|e| syntax(&e))?;
    match parsed {
        (parsed, None) => Ok(parsed),
        (_, Some(path)) => Err(unknown_field("body", &path)),
    }
}

/// A request from a URL query string (`a=1&b=two`): each parameter is a field, read with
/// the same rules as a body.
pub fn query<T: DeserializeOwned>(raw: &str) -> Result<T> {
    let echo = Value::Array(
        form_urlencoded::parse(raw.as_bytes())
            .flat_map(|(k, v)| [Value::String(k.into_owned()), Value::String(v.into_owned())])
            .collect(),
    );
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    decode("query", de, &echo)
}

/// `value` as JSON (the core's types always serialize; a failure names the problem).
pub fn to_value<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::External {
        message: format!("could not serialize a value as JSON: {e}"),
        source: std::sync::Arc::new(e),
    })
}

/// Runs `T`'s deserializer over `de`, refusing unknown fields and describing the first
/// problem without quoting any string of `input`.
fn decode<'de, D, T>(what: &str, de: D, input: &Value) -> Result<T>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match strict(de) {
        Err(e) => Err(describe(
            what,
            &e.path().to_string(),
            &e.into_inner().to_string(),
            input,
        )),
        Ok((parsed, None)) => Ok(parsed),
        Ok((_, Some(path))) => Err(unknown_field(what, &path)),
    }
}

/// `T` from `de` with the path of a failure, and the path of the first field `T` does not
/// know (if any).
fn strict<'de, D, T>(
    de: D,
) -> std::result::Result<(T, Option<String>), serde_path_to_error::Error<D::Error>>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let mut unknown: Option<String> = None;
    let mut on_ignored = |path: serde_ignored::Path<'_>| {
        unknown.get_or_insert_with(|| ignored_path(&path));
    };
    let parsed =
        serde_path_to_error::deserialize(serde_ignored::Deserializer::new(de, &mut on_ignored))?;
    Ok((parsed, unknown))
}

/// The error for an unknown field at `path`.
///
/// The unknown name is the caller's text: it is quoted only when it looks like a field name
/// (camelCase letters and digits, at most [`MAX_UNKNOWN_NAME`] characters). Anything else,
/// such as a stream key sent as a key (`{"live_123_abc...": 1}`), is not repeated: the error
/// names the object that holds it.
fn unknown_field(what: &str, path: &str) -> Error {
    let (parent, name) = match path.rsplit_once('.') {
        Some((parent, name)) => (parent, name),
        None => ("", path),
    };
    let field_like = name.len() <= MAX_UNKNOWN_NAME
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric());
    if field_like && usable_path(path) {
        Error::invalid(path, "is not a known field")
    } else if !parent.is_empty() && usable_path(parent) {
        Error::invalid(parent, "has an unknown field")
    } else {
        Error::invalid(what, "has an unknown field")
    }
}

/// Whether `path` may be quoted: identifier-like segments of reasonable length.
fn usable_path(path: &str) -> bool {
    !path.is_empty()
        && path.split(['.', '[', ']']).all(|segment| {
            segment.len() <= MAX_FIELD_NAME
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
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

/// `parent.key` (just `key` at the root).
fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() || parent == "." {
        key.to_owned()
    } else if key.is_empty() {
        parent.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// The error for serde's `message` at `path`: the field and a reason that never quotes the
/// caller's value.
fn describe(what: &str, path: &str, message: &str, input: &Value) -> Error {
    let at = if path == "." { "" } else { path };
    let quoted = |s: &str| s.split('`').nth(1).map(str::to_owned);
    if let Some(name) = message.strip_prefix("missing field ").and_then(quoted) {
        let field = join(at, &name);
        return Error::invalid(field, "is required");
    }
    if let Some(name) = message.strip_prefix("unknown field ").and_then(quoted) {
        let field = if at == name || at.ends_with(&format!(".{name}")) {
            at.to_owned()
        } else {
            join(at, &name)
        };
        return unknown_field(what, &field);
    }
    let field = if at.is_empty() || !usable_path(at) {
        what.to_owned()
    } else {
        at.to_owned()
    };
    let serde_kinds = [
        "invalid type: ",
        "invalid value: ",
        "unknown variant ",
        "invalid length ",
    ];
    let message = without_position(message);
    let reason = if serde_kinds.iter().any(|p| message.starts_with(p)) {
        match message.rsplit_once(", expected ") {
            Some((_, expected)) => format!("must be {expected}"),
            None => "has an invalid value".to_owned(),
        }
    } else {
        // A core error raised while deserializing: "invalid <name>: <reason>".
        match message.strip_prefix("invalid ") {
            Some(rest) => rest
                .split_once(": ")
                .map_or(rest, |(_, reason)| reason)
                .to_owned(),
            None => message.to_owned(),
        }
    };
    let reason = if echoes(&reason, input) {
        "has an invalid value".to_owned()
    } else {
        reason
    };
    Error::invalid(field, reason)
}

/// `message` without serde_json's ` at line N column M` suffix.
fn without_position(message: &str) -> &str {
    let Some((head, tail)) = message.rsplit_once(" at line ") else {
        return message;
    };
    let is_position = tail.split_once(" column ").is_some_and(|(l, c)| {
        !l.is_empty() && !c.is_empty() && (l.to_owned() + c).bytes().all(|b| b.is_ascii_digit())
    });
    if is_position {
        head
    } else {
        message
    }
}

/// Whether `reason` contains any string of `input` (keys included) long enough to matter.
fn echoes(reason: &str, input: &Value) -> bool {
    let hit = |s: &str| s.len() >= MIN_ECHO && reason.contains(s);
    match input {
        Value::String(s) => hit(s),
        Value::Array(items) => items.iter().any(|item| echoes(reason, item)),
        Value::Object(map) => map.iter().any(|(k, v)| hit(k) || echoes(reason, v)),
        _ => false,
    }
}

/// Line and column of a syntax error.
fn position(e: &serde_json::Error) -> String {
    format!("line {}, column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::service::{DecisionInput, ListSessionsRequest, StartStreamRequest};

    fn field_and_reason(err: Error) -> (String, String) {
        match err {
            Error::InvalidInput { field, reason } => (field, reason),
            other => panic!("expected INVALID_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn values_with_quotes_or_backticks_are_never_echoed() {
        for (input, field) in [
            (
                json!({"forceRestart": "live_ab\"cSECRET_123"}),
                "forceRestart",
            ),
            (json!({"streamType": "live_ab`cSECRET_123"}), "streamType"),
            (
                json!({"destinations": "live_ab\"cSECRET_123"}),
                "destinations",
            ),
            (
                json!({"destinations": [{"platform": "twitch", "streamKey": ["x"], "customRtmpUrl": null}]}),
                "destinations[0].streamKey",
            ),
        ] {
            let err = request::<StartStreamRequest>("request", input).unwrap_err();
            let (got, reason) = field_and_reason(err);
            assert_eq!(got, field);
            assert!(!reason.contains("SECRET"), "{reason}");
            assert!(reason.starts_with("must be"), "{reason}");
        }
        let err = request::<DecisionInput>(
            "request",
            json!({"gameId": "g", "turnNumber": "1`SECRET", "phase": "p", "action": "a", "reasoning": "r"}),
        )
        .unwrap_err();
        let (field, reason) = field_and_reason(err);
        assert_eq!(field, "turnNumber");
        assert!(!reason.contains("SECRET"), "{reason}");
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let err = request::<StartStreamRequest>("body", json!({"streamKeyy": "k"})).unwrap_err();
        assert_eq!(field_and_reason(err).0, "streamKeyy");
        let err = request::<StartStreamRequest>(
            "body",
            json!({"destinations": [{"platform": "twitch", "streamKey": "k", "extra": 1}]}),
        )
        .unwrap_err();
        assert_eq!(field_and_reason(err).0, "destinations[0].extra");
        for key in [
            "live_123456789_abcdefSECRET",
            "sk_us-west-2_SECRET",
            "SECRETSECRET".repeat(4).as_str(),
        ] {
            let err = request::<StartStreamRequest>("body", json!({ key: 1 })).unwrap_err();
            let (field, reason) = field_and_reason(err);
            assert_eq!(
                (field.as_str(), reason.as_str()),
                ("body", "has an unknown field")
            );
        }
        let err = request::<StartStreamRequest>(
            "body",
            json!({"destinations": [{"platform": "kick", "streamKey": "k", "live_SECRET_1": 1}]}),
        )
        .unwrap_err();
        assert_eq!(field_and_reason(err).0, "destinations[0]");
        let err = request::<StartStreamRequest>("body", json!({"a\"SECRET_KEY": 1})).unwrap_err();
        let (field, reason) = field_and_reason(err);
        assert_eq!(field, "body");
        assert!(!reason.contains("SECRET"));
    }

    #[test]
    fn requests_are_objects() {
        let positional = json!(["agent", null, "zz8", null, "twitch", "abcdefghijklmnop"]);
        let err = request::<StartStreamRequest>("body", positional).unwrap_err();
        assert_eq!(
            field_and_reason(err),
            ("body".into(), "must be a JSON object".into())
        );
        let omitted: ListSessionsRequest = request("request", Value::Null).unwrap();
        assert!(!omitted.active);
    }

    #[test]
    fn broken_bodies_name_the_body() {
        let err = body::<StartStreamRequest>(br#"{"platform": "twi"#).unwrap_err();
        assert_eq!(
            field_and_reason(err),
            ("body".into(), "is truncated JSON".into())
        );
        let err = body::<StartStreamRequest>(br#"{"platform": tw}"#).unwrap_err();
        assert_eq!(field_and_reason(err).0, "platform");
        let err = body::<StartStreamRequest>(br#"{"platform": "twitch"} x"#).unwrap_err();
        assert_eq!(field_and_reason(err).0, "body");
    }

    #[test]
    fn query_strings_follow_the_same_rules() {
        let err = query::<ListSessionsRequest>("status=sk_live_SECRET").unwrap_err();
        let (field, reason) = field_and_reason(err);
        assert_eq!(field, "status");
        assert!(!reason.contains("SECRET"), "{reason}");
        let err = query::<ListSessionsRequest>("limit=12x_SECRET").unwrap_err();
        let (field, reason) = field_and_reason(err);
        assert_eq!(field, "limit");
        assert!(!reason.contains("SECRET"), "{reason}");
        let err = query::<ListSessionsRequest>("activ=true").unwrap_err();
        assert_eq!(field_and_reason(err).0, "activ");
        let ok: ListSessionsRequest = query("active=true&limit=5").unwrap();
        assert!(ok.active);
        assert_eq!(ok.limit, Some(5));
    }

    #[test]
    fn missing_fields_are_required() {
        let err = request::<DecisionInput>("request", json!({"gameId": "g"})).unwrap_err();
        assert_eq!(
            field_and_reason(err),
            ("turnNumber".into(), "is required".into())
        );
    }
}
