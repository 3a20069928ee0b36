//! [`StreamingError`]: the core's errors, one variant per stable code.

use ltcg_streaming_core::{Error, ErrorCode};

/// A failure of the core, by its stable code (`INVALID_INPUT`, `UNAUTHORIZED`, ...). The
/// message names the offending field and never contains a secret.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum StreamingError {
    /// `INVALID_INPUT`: a field is missing or malformed (the message names it).
    #[error("{message}")]
    InvalidInput {
        /// Human-readable reason.
        message: String,
    },
    /// `UNAUTHORIZED`: a token or webhook signature is missing, forged or expired.
    #[error("{message}")]
    Unauthorized {
        /// Human-readable reason.
        message: String,
    },
    /// `CRYPTO`: a ciphertext does not authenticate (wrong key or tampered).
    #[error("{message}")]
    Crypto {
        /// Human-readable reason.
        message: String,
    },
    /// `CONFIG`: a setting is missing or invalid.
    #[error("{message}")]
    Config {
        /// Human-readable reason.
        message: String,
    },
    /// Any other core error, with its stable code.
    #[error("{code}: {message}")]
    Other {
        /// The stable code (see `ErrorCode` in the core).
        code: String,
        /// Human-readable reason.
        message: String,
    },
}

impl StreamingError {
    /// The stable code string of this error.
    pub fn code(&self) -> &str {
        match self {
            Self::InvalidInput { .. } => ErrorCode::InvalidInput.as_str(),
            Self::Unauthorized { .. } => ErrorCode::Unauthorized.as_str(),
            Self::Crypto { .. } => ErrorCode::Crypto.as_str(),
            Self::Config { .. } => ErrorCode::Config.as_str(),
            Self::Other { code, .. } => code,
        }
    }
}

impl From<Error> for StreamingError {
    fn from(err: Error) -> Self {
        let message = err.to_string();
        match err.code() {
            ErrorCode::InvalidInput => Self::InvalidInput { message },
            ErrorCode::Unauthorized => Self::Unauthorized { message },
            ErrorCode::Crypto => Self::Crypto { message },
            ErrorCode::Config => Self::Config { message },
            other => Self::Other {
                code: other.as_str().to_owned(),
                message,
            },
        }
    }
}

/// Results of this crate.
pub(crate) type Result<T> = std::result::Result<T, StreamingError>;
