//! What analytics asks a store for: per group (day, platform or entity) of the sessions
//! created in a time range, the counts and sums the service turns into figures. The SQL
//! stores compute them with aggregates in the database; [`scan`] is the fallback every
//! other store gets, reading the sessions in the range and their viewer samples.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{SessionQuery, SessionStore};
use crate::error::Result;
use crate::session::{Entity, SessionStatus, StreamSession, MAX_VIEWER_SAMPLES};

/// How sessions are grouped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnalyticsGroup {
    /// By the UTC day a session was created (`2026-12-01`).
    #[default]
    Day,
    /// By the UTC month a session was created (`2026-12`).
    Month,
    /// By primary platform (`twitch`).
    Platform,
    /// By user or agent (`agent:agent_7`).
    Entity,
}

/// Which sessions, grouped how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyticsFilter {
    /// Sessions created at or after, Unix ms.
    pub from_ms: i64,
    /// Sessions created before, Unix ms.
    pub to_ms: i64,
    /// The grouping.
    pub group: AnalyticsGroup,
    /// Only this entity's sessions.
    pub entity: Option<Entity>,
    /// Count dry runs too.
    pub include_dry_runs: bool,
}

/// The sums of one group, as a store computes them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupTotals {
    /// The group: a UTC day, a platform or `streamType:entityId`.
    pub key: String,
    /// Sessions created.
    pub sessions: u64,
    /// Milliseconds on air, summed over the ended sessions.
    pub streamed_ms: i64,
    /// The highest peak viewer count of a session.
    pub peak_viewers: u64,
    /// Viewer counts summed over the readings (a reading: one session at one time, its
    /// destinations added up).
    pub viewer_sum: u64,
    /// Readings taken.
    pub readings: u64,
    /// Decisions recorded.
    pub decisions: u64,
    /// Events recorded.
    pub events: u64,
    /// Sessions that ended in `error`.
    pub errors: u64,
    /// Ended sessions by end reason.
    pub end_reasons: BTreeMap<String, u64>,
}

/// The UTC day of `ms` as `YYYY-MM-DD`.
pub fn utc_day(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The group `session` falls in.
pub fn group_key(group: AnalyticsGroup, session: &StreamSession) -> String {
    match group {
        AnalyticsGroup::Day => utc_day(session.created_at),
        AnalyticsGroup::Month => {
            let mut day = utc_day(session.created_at);
            day.truncate(day.len() - 3);
            day
        }
        AnalyticsGroup::Platform => session.platform.as_str().to_owned(),
        AnalyticsGroup::Entity => format!(
            "{}:{}",
            session.entity.stream_type.as_str(),
            session.entity.entity_id
        ),
    }
}

/// Whether `filter` counts `session`.
pub fn counts(filter: &AnalyticsFilter, session: &StreamSession) -> bool {
    (filter.from_ms..filter.to_ms).contains(&session.created_at)
        && (filter.include_dry_runs || !session.dry_run)
        && filter.entity.as_ref().is_none_or(|e| *e == session.entity)
}

/// The fallback: every session in the range read (newest first, page by page, stopping at
/// the range's start) with its viewer samples, summed here.
pub async fn scan<S: SessionStore + ?Sized>(
    store: &S,
    filter: &AnalyticsFilter,
) -> Result<Vec<GroupTotals>> {
    let mut groups: BTreeMap<String, GroupTotals> = BTreeMap::new();
    let mut cursor = None;
    'pages: loop {
        let page = store
            .list_sessions(&SessionQuery {
                entity: filter.entity.clone(),
                cursor,
                limit: super::MAX_PAGE_SIZE,
                ..SessionQuery::default()
            })
            .await?;
        for s in &page.sessions {
            if s.created_at < filter.from_ms {
                break 'pages;
            }
            if !counts(filter, s) {
                continue;
            }
            let key = group_key(filter.group, s);
            let g = groups.entry(key.clone()).or_insert_with(|| GroupTotals {
                key,
                ..GroupTotals::default()
            });
            g.sessions += 1;
            g.streamed_ms += s.stats.map_or(0, |st| st.duration);
            g.peak_viewers = g.peak_viewers.max(s.peak_viewer_count);
            g.decisions += s.decisions_logged;
            g.events += s.events_recorded;
            if s.status == SessionStatus::Error {
                g.errors += 1;
            }
            if let Some(reason) = s.end_reason.as_ref().filter(|_| s.status.is_terminal()) {
                *g.end_reasons.entry(reason.clone()).or_default() += 1;
            }
            let mut readings: BTreeMap<i64, u64> = BTreeMap::new();
            for sample in store.viewer_samples(&s.id, MAX_VIEWER_SAMPLES).await? {
                *readings.entry(sample.at).or_default() += sample.viewers;
            }
            g.readings += readings.len() as u64;
            g.viewer_sum += readings.values().sum::<u64>();
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(groups.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_days_are_civil_dates() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(1_795_478_000_000), "2026-11-23");
        assert_eq!(utc_day(951_782_400_000), "2000-02-29");
        assert_eq!(utc_day(-1), "1969-12-31");
        assert_eq!(utc_day(1_798_761_599_999), "2026-12-31");
    }
}
