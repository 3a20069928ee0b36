//! Key rotation at rest: every stored stream key (credentials) and every session
//! destination's URL and access token re-encrypted under the vault's current key, page by
//! page, resumable from a checkpoint.
//!
//! The order of a rotation: give every replica the new key as `STREAM_KEY_ENCRYPTION_KEY`
//! with the old one in `STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS` (both decrypt, new values use the
//! new key), run the rotation until it reports `finished`, then drop the old key.
//!
//! A value already under the current key is left alone (no write), so a rotation that was
//! interrupted (even between a write and its checkpoint) can be run again from its last
//! checkpoint or from the start and does no work twice. Sessions are updated by
//! compare-and-swap, so a session the service changes meanwhile is re-read, never
//! overwritten.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::KeyVault;
use crate::error::{Error, ErrorCode, Result};
use crate::session::{Entity, StreamSession};
use crate::store::{Cursor, SessionQuery, SessionStore};

/// Values read per store call.
pub const ROTATION_PAGE_SIZE: usize = 100;

/// Compare-and-swap attempts on one session before it is counted as failed.
const SESSION_ATTEMPTS: usize = 5;

/// How a rotation runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationOptions {
    /// Count what would change without writing anything.
    pub dry_run: bool,
    /// Stop (with a checkpoint) after this many items (credentials and sessions), to spread a
    /// rotation over several runs; `None` runs to the end.
    pub max_items: Option<u64>,
}

/// Where a rotation is: what it has finished, so a later run continues after it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationCheckpoint {
    /// The last credential done (credentials go first, in the stores' order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_credential: Option<Entity>,
    /// Every credential is done.
    #[serde(default)]
    pub credentials_done: bool,
    /// The position after the last session done (sessions go newest first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_cursor: Option<String>,
    /// Every session is done: the rotation is finished.
    #[serde(default)]
    pub sessions_done: bool,
}

/// Counts for one kind of value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationCounts {
    /// Values re-encrypted under the current key (or, in a dry run, that would be).
    pub rotated: u64,
    /// Values already under the current key.
    pub current: u64,
    /// Values no configured key decrypts (left as they are).
    pub failed: u64,
}

/// What a rotation did, and where it stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationReport {
    /// Credentials read.
    pub credentials_seen: u64,
    /// Sessions read.
    pub sessions_seen: u64,
    /// Credentials' stream keys.
    pub stream_keys: RotationCounts,
    /// Destinations' URLs.
    pub destination_urls: RotationCounts,
    /// Destinations' access tokens.
    pub access_tokens: RotationCounts,
    /// Sessions whose update lost the compare-and-swap too often (run again for them).
    pub sessions_failed: u64,
    /// What failed, by entity or session id (never a value), the first 100.
    pub failures: Vec<String>,
    /// Where to continue.
    pub checkpoint: RotationCheckpoint,
    /// Whether every credential and session has been done.
    pub finished: bool,
    /// Whether nothing was written.
    pub dry_run: bool,
}

impl RotationReport {
    /// Whether any value could not be decrypted or any session not updated.
    pub fn has_failures(&self) -> bool {
        self.stream_keys.failed + self.destination_urls.failed + self.access_tokens.failed > 0
            || self.sessions_failed > 0
    }
}

/// Re-encrypts what `store` holds under `vault`'s current key, from `checkpoint` (the default
/// starts from the beginning). Calls `progress` after every item with the report so far, whose
/// checkpoint can be saved to resume from. A store failure ends the run with the error (the
/// last reported checkpoint stays valid).
pub async fn rotate_stored_keys(
    store: &dyn SessionStore,
    vault: &dyn KeyVault,
    checkpoint: RotationCheckpoint,
    options: &RotationOptions,
    mut progress: impl FnMut(&RotationReport),
) -> Result<RotationReport> {
    let mut report = RotationReport {
        checkpoint,
        dry_run: options.dry_run,
        ..RotationReport::default()
    };
    let budget_left = |report: &RotationReport| {
        options
            .max_items
            .is_none_or(|max| report.credentials_seen + report.sessions_seen < max)
    };
    while !report.checkpoint.credentials_done && budget_left(&report) {
        let after = report.checkpoint.after_credential.clone();
        let page = store
            .list_credentials(after.as_ref(), ROTATION_PAGE_SIZE)
            .await?;
        if page.is_empty() {
            report.checkpoint.credentials_done = true;
            progress(&report);
            break;
        }
        for mut credential in page {
            if !budget_left(&report) {
                break;
            }
            if let Some(value) = credential.encrypted_key.clone() {
                let failed = report.stream_keys.failed;
                let next = reencrypt(vault, &value, &mut report.stream_keys).await?;
                if report.stream_keys.failed > failed {
                    note_failure(
                        &mut report,
                        format!(
                            "credential {}:{}",
                            credential.entity.stream_type.as_str(),
                            credential.entity.entity_id
                        ),
                    );
                }
                if let (Some(next), false) = (next, options.dry_run) {
                    // No compare-and-swap for credentials: write only if it is still as read.
                    let now = store.get_credential(&credential.entity).await?;
                    if now.as_ref() == Some(&credential) {
                        credential.encrypted_key = Some(next);
                        store.put_credential(&credential).await?;
                    }
                }
            }
            report.credentials_seen += 1;
            report.checkpoint.after_credential = Some(credential.entity);
            progress(&report);
        }
    }
    while report.checkpoint.credentials_done
        && !report.checkpoint.sessions_done
        && budget_left(&report)
    {
        let page = store
            .list_sessions(&SessionQuery {
                cursor: report.checkpoint.session_cursor.clone(),
                limit: ROTATION_PAGE_SIZE,
                ..SessionQuery::default()
            })
            .await?;
        let last_page = page.next_cursor.is_none();
        for session in page.sessions {
            if !budget_left(&report) {
                break;
            }
            rotate_session(store, vault, session.clone(), options, &mut report).await?;
            report.sessions_seen += 1;
            report.checkpoint.session_cursor = Some(Cursor::after(&session).encode());
            progress(&report);
        }
        if last_page && budget_left(&report) {
            report.checkpoint.sessions_done = true;
            progress(&report);
        }
    }
    report.finished = report.checkpoint.credentials_done && report.checkpoint.sessions_done;
    Ok(report)
}

/// Most failures named in a report (the counts go on).
const MAX_NAMED_FAILURES: usize = 100;

fn note_failure(report: &mut RotationReport, what: String) {
    if report.failures.len() < MAX_NAMED_FAILURES {
        report.failures.push(what);
    }
}

/// Re-encrypts one session's destinations, retrying its compare-and-swap.
async fn rotate_session(
    store: &dyn SessionStore,
    vault: &dyn KeyVault,
    mut session: StreamSession,
    options: &RotationOptions,
    report: &mut RotationReport,
) -> Result<()> {
    for _ in 0..SESSION_ATTEMPTS {
        let mut urls = RotationCounts::default();
        let mut tokens = RotationCounts::default();
        let mut changed = false;
        for destination in &mut session.destinations {
            if let Some(next) = reencrypt(vault, &destination.encrypted_url, &mut urls).await? {
                destination.encrypted_url = next;
                changed = true;
            }
            if let Some(token) = &destination.encrypted_access_token {
                if let Some(next) = reencrypt(vault, token, &mut tokens).await? {
                    destination.encrypted_access_token = Some(next);
                    changed = true;
                }
            }
        }
        let written = !changed || options.dry_run || {
            match store.update_session(&session).await {
                Ok(_) => true,
                Err(e) if e.code() == ErrorCode::Conflict => false,
                Err(e) => return Err(e),
            }
        };
        if written {
            add(&mut report.destination_urls, urls);
            add(&mut report.access_tokens, tokens);
            if urls.failed + tokens.failed > 0 {
                note_failure(report, format!("session {}", session.id));
            }
            return Ok(());
        }
        session = match store.get_session(&session.id).await? {
            Some(fresh) => fresh,
            None => return Ok(()),
        };
    }
    report.sessions_failed += 1;
    note_failure(
        report,
        format!("session {} (changed during every attempt)", session.id),
    );
    Ok(())
}

fn add(total: &mut RotationCounts, part: RotationCounts) {
    total.rotated += part.rotated;
    total.current += part.current;
    total.failed += part.failed;
}

/// `Some(new value)` when `value` moved to the current key; `None` when it already was
/// there or cannot be decrypted (counted in `counts`).
async fn reencrypt(
    vault: &dyn KeyVault,
    value: &str,
    counts: &mut RotationCounts,
) -> Result<Option<String>> {
    match vault.reencrypt(value).await {
        Ok(next) if next == value => {
            counts.current += 1;
            Ok(None)
        }
        Ok(next) => {
            counts.rotated += 1;
            Ok(Some(next))
        }
        Err(e) if matches!(e.code(), ErrorCode::Crypto | ErrorCode::InvalidInput) => {
            counts.failed += 1;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

impl RotationCheckpoint {
    /// Reads a checkpoint saved as JSON, naming the field at fault.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json)
            .map_err(|e| Error::invalid("checkpoint", format!("is not a rotation checkpoint: {e}")))
    }
}
