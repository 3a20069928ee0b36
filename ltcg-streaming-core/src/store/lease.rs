//! Leases: named, expiring claims that let several replicas on one store agree on who
//! does a piece of work (the reconciler's pass, a local render) without a lock server.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Longest lease name accepted, in bytes.
pub const MAX_LEASE_NAME_BYTES: usize = 200;

/// Who holds a named lease, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    /// The lease's name (`reconciler`, `render:<egress id>`).
    pub name: String,
    /// The holder's id (a replica id).
    pub holder: String,
    /// Unix milliseconds at which the lease lapses unless renewed.
    pub expires_at: i64,
}

impl Lease {
    /// Whether `holder` holds it at `now_ms`.
    pub fn is_held_by(&self, holder: &str, now_ms: i64) -> bool {
        self.holder == holder && self.expires_at > now_ms
    }

    /// Whether `holder` may take it at `now_ms`: it is its own, or it has lapsed.
    pub fn can_be_taken(&self, holder: &str, now_ms: i64) -> bool {
        self.holder == holder || self.expires_at <= now_ms
    }
}

/// Checks the arguments of a claim, naming the field at fault.
pub(crate) fn check_claim(name: &str, holder: &str, ttl_ms: i64) -> Result<()> {
    check_name(name)?;
    if holder.is_empty() || holder.len() > MAX_LEASE_NAME_BYTES {
        return Err(Error::invalid(
            "leaseHolder",
            format!("must be 1 to {MAX_LEASE_NAME_BYTES} bytes"),
        ));
    }
    if ttl_ms <= 0 {
        return Err(Error::invalid("leaseTtlMs", "must be positive"));
    }
    Ok(())
}

/// Checks a lease name, naming the field at fault.
pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_LEASE_NAME_BYTES {
        return Err(Error::invalid(
            "leaseName",
            format!("must be 1 to {MAX_LEASE_NAME_BYTES} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: &str, expires_at: i64) -> Lease {
        Lease {
            name: "reconciler".into(),
            holder: holder.into(),
            expires_at,
        }
    }

    #[test]
    fn a_lease_is_held_until_it_expires() {
        assert!(lease("a", 10).is_held_by("a", 9));
        assert!(!lease("a", 10).is_held_by("a", 10));
        assert!(!lease("a", 10).is_held_by("b", 9));
    }

    #[test]
    fn only_the_holder_or_anyone_after_expiry_may_take_it() {
        assert!(lease("a", 10).can_be_taken("a", 5));
        assert!(!lease("a", 10).can_be_taken("b", 9));
        assert!(lease("a", 10).can_be_taken("b", 10));
    }

    #[test]
    fn claims_with_bad_arguments_name_the_field() {
        let field = |r: Result<()>| match r {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        };
        assert_eq!(field(check_claim("", "a", 1)), "leaseName");
        assert_eq!(field(check_claim(&"n".repeat(201), "a", 1)), "leaseName");
        assert_eq!(field(check_claim("n", "", 1)), "leaseHolder");
        assert_eq!(field(check_claim("n", "a", 0)), "leaseTtlMs");
        assert!(check_claim("n", "a", 1).is_ok());
    }
}
