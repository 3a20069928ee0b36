//! Pure functions: ingest URLs, overlay defaults, cost estimates.

use ltcg_streaming_core::cost::DEFAULT_BITRATE_MBPS;
use ltcg_streaming_core::{
    build_rtmp_url as core_build_rtmp_url, estimate_cost as core_estimate_cost,
    redact_url as core_redact_url, OverlayConfig, Platform, StreamType,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::error::OrThrow;
use crate::json::{to_json, whole_number};

/// The RTMP(S) ingest URL for `platform` with `streamKey` appended (a secret: never log it).
///
/// `customRtmpUrl` is required for `custom`, `retake`, `x` and `pumpfun` and overrides the
/// default ingest of the others. Throws `INVALID_INPUT` naming `platform`, `streamKey` or
/// `customRtmpUrl`; messages never contain the key or the URL.
#[napi(ts_args_type = "platform: Platform, streamKey: string, customRtmpUrl?: string | null")]
pub fn build_rtmp_url(
    env: &Env,
    platform: String,
    stream_key: String,
    custom_rtmp_url: Option<String>,
) -> Result<String> {
    platform
        .parse::<Platform>()
        .and_then(|platform| core_build_rtmp_url(platform, &stream_key, custom_rtmp_url.as_deref()))
        .map(|url| url.expose_secret().to_owned())
        .or_throw(env)
}

/// `url` with any stream key redacted the LiveKit way (`rtmps://live.twitch.tv/app/{liv...nop}`),
/// safe to log.
#[napi]
pub fn redact_url(url: String) -> String {
    core_redact_url(&url)
}

/// The seed's overlay settings for a user or agent stream.
#[napi(
    ts_args_type = "streamType: StreamType",
    ts_return_type = "OverlayConfig"
)]
pub fn default_overlay_config(env: &Env, stream_type: String) -> Result<Value> {
    stream_type
        .parse::<StreamType>()
        .and_then(|t| to_json(&OverlayConfig::default_for(t)))
        .or_throw(env)
}

/// LiveKit Cloud cost of `streams` concurrent streams of `hours` each at `bitrateMbps`
/// (default 3), with the seed's prices ($0.015 per egress minute, $0.10 per GB).
#[napi(
    ts_args_type = "hours: number, streams?: number, bitrateMbps?: number",
    ts_return_type = "CostEstimate"
)]
pub fn estimate_cost(
    env: &Env,
    hours: f64,
    streams: Option<f64>,
    bitrate_mbps: Option<f64>,
) -> Result<Value> {
    whole_number("streams", streams.unwrap_or(1.0), u32::MAX.into())
        .and_then(|streams| {
            core_estimate_cost(
                hours,
                streams as u32,
                bitrate_mbps.unwrap_or(DEFAULT_BITRATE_MBPS),
            )
        })
        .and_then(|estimate| to_json(&estimate))
        .or_throw(env)
}
