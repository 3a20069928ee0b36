//! Cost estimates for LiveKit Cloud web egress, with the seed's figures.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Prices used by [`estimate_cost_with`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostRates {
    /// USD per web-egress minute (seed: 0.015).
    pub egress_per_minute: f64,
    /// USD per GB of bandwidth (seed: 0.10).
    pub per_gigabyte: f64,
}

impl Default for CostRates {
    fn default() -> Self {
        Self {
            egress_per_minute: 0.015,
            per_gigabyte: 0.10,
        }
    }
}

/// Default stream bitrate for estimates: a typical 1080p30 stream, 3 Mbps.
pub const DEFAULT_BITRATE_MBPS: f64 = 3.0;

/// An estimate in US dollars.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CostEstimate {
    /// Egress minutes billed (streams × hours × 60).
    pub egress_minutes: f64,
    /// Bandwidth in GB (10⁹ bytes).
    pub gigabytes: f64,
    /// Egress-minute cost.
    pub egress_usd: f64,
    /// Bandwidth cost.
    pub bandwidth_usd: f64,
    /// Total.
    pub total_usd: f64,
}

/// Estimates the cost of `streams` concurrent streams of `hours` each at `bitrate_mbps`,
/// with the seed's prices ($0.015/min, $0.10/GB).
///
/// ```
/// use ltcg_streaming_core::estimate_cost;
/// let one_hour = estimate_cost(1.0, 1, 3.0)?;
/// assert!((one_hour.total_usd - 1.035).abs() < 1e-9);
/// # Ok::<(), ltcg_streaming_core::Error>(())
/// ```
pub fn estimate_cost(hours: f64, streams: u32, bitrate_mbps: f64) -> Result<CostEstimate> {
    estimate_cost_with(CostRates::default(), hours, streams, bitrate_mbps)
}

/// [`estimate_cost`] with explicit prices.
pub fn estimate_cost_with(
    rates: CostRates,
    hours: f64,
    streams: u32,
    bitrate_mbps: f64,
) -> Result<CostEstimate> {
    let check = |field: &str, v: f64| {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(Error::invalid(field, "must be a finite number ≥ 0"))
        }
    };
    let hours = check("hours", hours)?;
    let bitrate = check("bitrateMbps", bitrate_mbps)?;
    let per_minute = check("egressPerMinute", rates.egress_per_minute)?;
    let per_gb = check("perGigabyte", rates.per_gigabyte)?;
    let stream_hours = hours * f64::from(streams);
    let egress_minutes = stream_hours * 60.0;
    // Mbit/s × s / 8 = MB; / 1000 = GB.
    let gigabytes = bitrate * stream_hours * 3600.0 / 8.0 / 1000.0;
    let egress_usd = egress_minutes * per_minute;
    let bandwidth_usd = gigabytes * per_gb;
    Ok(CostEstimate {
        egress_minutes,
        gigabytes,
        egress_usd,
        bandwidth_usd,
        total_usd: egress_usd + bandwidth_usd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn seed_examples() {
        let one = estimate_cost(1.0, 1, DEFAULT_BITRATE_MBPS).unwrap();
        assert!(close(one.egress_usd, 0.90));
        assert!(close(one.gigabytes, 1.35));
        assert!(close(one.total_usd, 1.035));
        // The seed rounds this to "~$20.60"; 10 × 2 × $1.035 is $20.70.
        let ten = estimate_cost(2.0, 10, DEFAULT_BITRATE_MBPS).unwrap();
        assert!(close(ten.total_usd, 20.70));
        assert!(close(ten.egress_minutes, 1200.0));
        let month = estimate_cost(100.0, 1, DEFAULT_BITRATE_MBPS).unwrap();
        assert!(close(month.total_usd, 103.5));
    }

    #[test]
    fn zero_and_bad_inputs() {
        assert!(close(estimate_cost(0.0, 5, 3.0).unwrap().total_usd, 0.0));
        assert!(close(estimate_cost(3.0, 0, 3.0).unwrap().total_usd, 0.0));
        for (h, b, field) in [
            (-1.0, 3.0, "hours"),
            (f64::NAN, 3.0, "hours"),
            (1.0, f64::INFINITY, "bitrateMbps"),
        ] {
            let err = estimate_cost(h, 1, b).unwrap_err();
            assert!(err.to_string().contains(field));
        }
        let free = CostRates {
            egress_per_minute: 0.0,
            per_gigabyte: 0.0,
        };
        assert!(close(
            estimate_cost_with(free, 5.0, 2, 6.0).unwrap().total_usd,
            0.0
        ));
    }
}
