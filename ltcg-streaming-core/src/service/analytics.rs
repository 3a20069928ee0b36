//! Analytics over a time range: the store sums per group (day, platform or entity), this
//! module turns the sums into figures (hours, averages, error rate, estimated cost) and
//! keeps users and agents to their own sessions.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Actor, StreamingService};
use crate::cost::{estimate_cost, CostRates, DEFAULT_BITRATE_MBPS};
use crate::error::{Error, Result};
use crate::session::StreamType;
use crate::store::{AnalyticsFilter, AnalyticsGroup, GroupTotals};

/// Longest range one query covers.
pub const MAX_ANALYTICS_RANGE_MS: i64 = 400 * 86_400_000;
/// What the estimate leaves out, said with every report.
pub const FREE_TIER_NOTE: &str = "LiveKit Cloud's free tier includes 10,000 participant-minutes \
    a month (about 166 hours of streaming); the estimate does not subtract it";

/// `GET /api/streaming/analytics`: which sessions (by creation time), grouped how.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnalyticsQuery {
    /// Sessions created at or after, Unix ms.
    pub since: i64,
    /// Sessions created before, Unix ms (default: up to and including now).
    #[serde(default)]
    pub until: Option<i64>,
    /// `day` (UTC, the default), `platform` or `entity`.
    #[serde(default)]
    pub group_by: AnalyticsGroup,
    /// Count dry runs too.
    #[serde(default)]
    pub include_dry_runs: bool,
    /// Only this kind of entity (with `entityId`).
    #[serde(default)]
    pub stream_type: Option<StreamType>,
    /// Only this entity (users and agents: only themselves).
    #[serde(default)]
    pub entity_id: Option<String>,
}

/// The figures of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsRow {
    /// The group: a UTC day (`2026-12-01`), a platform, or `streamType:entityId`; `total`
    /// for the totals.
    pub key: String,
    /// Sessions created.
    pub sessions: u64,
    /// Hours on air (ended sessions).
    pub hours_streamed: f64,
    /// Mean viewers over the viewer readings (0 without readings).
    pub average_viewers: f64,
    /// Highest peak of a session.
    pub peak_viewers: u64,
    /// Decisions recorded.
    pub decisions: u64,
    /// Events recorded.
    pub events: u64,
    /// Sessions that ended in `error`.
    pub errors: u64,
    /// `errors / sessions` (0 without sessions).
    pub error_rate: f64,
    /// Ended sessions by end reason.
    pub end_reasons: BTreeMap<String, u64>,
    /// Estimated LiveKit web-egress cost of the hours, USD (the seed's model).
    pub estimated_cost_usd: f64,
}

/// The answer to an [`AnalyticsQuery`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsReport {
    /// The range's start, Unix ms.
    pub since: i64,
    /// The range's end, Unix ms.
    pub until: i64,
    /// The grouping.
    pub group_by: AnalyticsGroup,
    /// Whether dry runs were counted.
    pub include_dry_runs: bool,
    /// One row per group, in key order.
    pub rows: Vec<AnalyticsRow>,
    /// All groups together.
    pub totals: AnalyticsRow,
    /// The cost model: USD per egress minute.
    pub egress_usd_per_minute: f64,
    /// The cost model: USD per GB, at [`DEFAULT_BITRATE_MBPS`].
    pub bandwidth_usd_per_gigabyte: f64,
    /// What the estimate leaves out.
    pub free_tier_note: String,
}

/// Rounds to 4 decimals, so every store's figures read the same.
fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

impl AnalyticsRow {
    /// The figures of `g`.
    fn of(g: &GroupTotals) -> Result<Self> {
        let hours = g.streamed_ms.max(0) as f64 / 3_600_000.0;
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        Ok(Self {
            key: g.key.clone(),
            sessions: g.sessions,
            hours_streamed: round(hours),
            average_viewers: round(ratio(g.viewer_sum, g.readings)),
            peak_viewers: g.peak_viewers,
            decisions: g.decisions,
            events: g.events,
            errors: g.errors,
            error_rate: round(ratio(g.errors, g.sessions)),
            end_reasons: g.end_reasons.clone(),
            estimated_cost_usd: round(estimate_cost(hours, 1, DEFAULT_BITRATE_MBPS)?.total_usd),
        })
    }
}

/// Every group's sums added up (`total`).
fn total(groups: &[GroupTotals]) -> GroupTotals {
    let mut t = GroupTotals {
        key: "total".into(),
        ..GroupTotals::default()
    };
    for g in groups {
        t.sessions += g.sessions;
        t.streamed_ms += g.streamed_ms;
        t.peak_viewers = t.peak_viewers.max(g.peak_viewers);
        t.viewer_sum += g.viewer_sum;
        t.readings += g.readings;
        t.decisions += g.decisions;
        t.events += g.events;
        t.errors += g.errors;
        for (reason, n) in &g.end_reasons {
            *t.end_reasons.entry(reason.clone()).or_default() += n;
        }
    }
    t
}

impl StreamingService {
    /// Analytics of the sessions created in a range, grouped by UTC day, platform or
    /// entity (see [`AnalyticsRow`]); computed by the store. Users and agents see only
    /// their own sessions, as with [`Self::list_sessions`]; dry runs are left out unless
    /// asked for.
    pub async fn analytics(&self, actor: &Actor, query: AnalyticsQuery) -> Result<AnalyticsReport> {
        self.inner.limits.call(actor)?;
        // By default up to now, including a session created this very millisecond.
        let until = query.until.unwrap_or_else(|| self.now() + 1);
        if until <= query.since {
            return Err(Error::invalid("until", "must be after since"));
        }
        if until - query.since > MAX_ANALYTICS_RANGE_MS {
            return Err(Error::invalid(
                "since",
                "the range may cover at most 400 days",
            ));
        }
        let entity = actor.visible_entity(query.stream_type, query.entity_id.as_deref())?;
        let groups = self
            .inner
            .store
            .analytics(&AnalyticsFilter {
                from_ms: query.since,
                to_ms: until,
                group: query.group_by,
                entity,
                include_dry_runs: query.include_dry_runs,
            })
            .await?;
        let rows = groups
            .iter()
            .map(AnalyticsRow::of)
            .collect::<Result<Vec<_>>>()?;
        let rates = CostRates::default();
        Ok(AnalyticsReport {
            since: query.since,
            until,
            group_by: query.group_by,
            include_dry_runs: query.include_dry_runs,
            totals: AnalyticsRow::of(&total(&groups))?,
            rows,
            egress_usd_per_minute: rates.egress_per_minute,
            bandwidth_usd_per_gigabyte: rates.per_gigabyte,
            free_tier_note: FREE_TIER_NOTE.into(),
        })
    }
}
