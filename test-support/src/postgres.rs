//! The PostgreSQL server of the test run: its URL from `LTCG_TEST_POSTGRES_URL`
//! (`scripts/test` starts a throw-away cluster, see `scripts/postgres.sh`) and fresh schemas,
//! so that every test gets empty tables.
//!
//! Without the variable a test prints "skipping" and passes, except in CI (`CI=true`), where
//! a missing server is a failure.

use ltcg_streaming_core::SessionId;

/// The variable naming the test server.
pub const URL_VAR: &str = "LTCG_TEST_POSTGRES_URL";

/// The test server's URL; `None` (after saying so) when it is not configured, unless this
/// runs in CI, where that panics.
pub fn test_url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_owned()),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => panic!(
            "{URL_VAR} is not set but CI=true: PostgreSQL is required in CI \
             (run the tests through scripts/test, which starts a throw-away cluster)"
        ),
        _ => {
            eprintln!("skipping {test}: {URL_VAR} is not set (scripts/test sets it)");
            None
        }
    }
}

/// A fresh schema name: `ltcg_test_` and 26 random characters.
pub fn fresh_schema() -> String {
    let random = SessionId::generate();
    format!("ltcg_test_{}", &random.as_str()["ses_".len()..])
}
