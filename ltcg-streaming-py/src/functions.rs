//! Plain functions over the core's pure pieces: RTMP URLs, overlay defaults, cost estimates.

use ltcg_streaming_core::{OverlayConfig, Platform, StreamType};
use pyo3::prelude::*;

use crate::convert::json;
use crate::errors::OrRaise;

/// The ingest URL for `platform` with `stream_key` appended (the full URL is a secret).
#[pyfunction]
#[pyo3(signature = (platform, stream_key, custom_rtmp_url=None))]
pub(crate) fn build_rtmp_url(
    platform: &str,
    stream_key: &str,
    custom_rtmp_url: Option<&str>,
) -> PyResult<String> {
    let platform: Platform = platform.parse().or_raise()?;
    let url =
        ltcg_streaming_core::build_rtmp_url(platform, stream_key, custom_rtmp_url).or_raise()?;
    Ok(url.expose_secret().to_owned())
}

/// `url` with its stream key redacted the LiveKit way (`{abc...xyz}`), safe to log.
#[pyfunction]
pub(crate) fn redact_url(url: &str) -> String {
    ltcg_streaming_core::redact_url(url)
}

/// The seed's overlay defaults for `"user"` or `"agent"` streams.
#[pyfunction]
pub(crate) fn default_overlay_config<'py>(
    py: Python<'py>,
    stream_type: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let stream_type: StreamType = stream_type.parse().or_raise()?;
    json(py, &OverlayConfig::default_for(stream_type))
}

/// LiveKit Cloud web-egress cost of `streams` streams of `hours` each, in US dollars.
#[pyfunction]
#[pyo3(signature = (hours, streams=1, bitrate_mbps=3.0))]
pub(crate) fn estimate_cost<'py>(
    py: Python<'py>,
    hours: f64,
    streams: u32,
    bitrate_mbps: f64,
) -> PyResult<Bound<'py, PyAny>> {
    json(
        py,
        &ltcg_streaming_core::estimate_cost(hours, streams, bitrate_mbps).or_raise()?,
    )
}
