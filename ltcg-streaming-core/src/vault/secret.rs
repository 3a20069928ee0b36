//! [`SecretString`]: a string that is wiped on drop and never printed.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::redact::REDACTED;

/// A secret string (stream key, API secret): zeroized on drop; `Debug`, `Display` and
/// `Serialize` print `[redacted]`. Read it with [`SecretString::expose_secret`].
///
/// It deserializes from a plain JSON string, so request bodies can carry secrets in.
///
/// ```
/// use ltcg_streaming_core::SecretString;
/// let key = SecretString::from("live_123");
/// assert_eq!(format!("{key:?} {key}"), "[redacted] [redacted]");
/// assert_eq!(key.expose_secret(), "live_123");
/// ```
#[derive(Clone, Default)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps `value`.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret itself. Do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self::new(value.to_owned())
    }
}

impl PartialEq for SecretString {
    /// Constant-time in the contents (the length is not hidden).
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretString {}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

/// A plain string (what callers send), inlined where it is used.
impl JsonSchema for SecretString {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "SecretString".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        String::json_schema(generator)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretString::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = SecretString::from("sk_live_abcdef");
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(s.to_string(), REDACTED);
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
        assert_eq!(s.expose_secret(), "sk_live_abcdef");
        assert_eq!(s.len(), 14);
    }

    #[test]
    fn deserializes_from_plain_string_and_compares() {
        let s: SecretString = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(s, SecretString::from("abc"));
        assert_ne!(s, SecretString::from("abd"));
        assert_ne!(s, SecretString::from("abcd"));
        assert!(SecretString::default().is_empty());
    }
}
