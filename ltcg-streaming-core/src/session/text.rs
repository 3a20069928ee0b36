//! The one rule for short display texts (names, phases, descriptions, summaries).

use crate::error::{Error, Result};

/// Checks a required text field: non-empty after trimming, at most `max` characters, no
/// control characters except newlines and tabs. The error names `field`.
pub(crate) fn check_text(field: &str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(())
}
