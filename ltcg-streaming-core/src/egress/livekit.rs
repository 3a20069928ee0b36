//! [`LiveKitEgress`]: LiveKit web egress over Twirp.
//!
//! `StartWebEgress`, `UpdateStream` and `StopEgress` go through `livekit-api`'s
//! `EgressClient` with region failover turned off (a start is not idempotent, so it is never
//! repeated behind the caller's back). `ListEgress` is sent by hand because `livekit-api`
//! drops `next_page_token`: [`EgressBackend::list_active`] follows every page.
//!
//! Error mapping (see the contract in [`crate::egress`]):
//! - Twirp `unavailable`, `internal`, `unknown`, `dataloss`, `deadline_exceeded`,
//!   `canceled`, `aborted`, an HTTP 5xx without a Twirp body, timeouts and other transport errors
//!   give [`Error::Egress`] with `retryable: true` (for `start`: an egress may exist);
//! - a connection that could not be made (refused, host not resolved, TLS handshake
//!   failed) gives [`Error::EgressUnreachable`]: retryable, and certain that nothing started;
//! - every other Twirp code (`invalid_argument`, `permission_denied`, `unauthenticated`,
//!   `resource_exhausted`, `malformed`, `bad_route`, ...) gives `retryable: false`;
//! - `stop` answered with `not_found` or `failed_precondition` means "already stopped": `Ok`.
//!
//! Messages never contain the request: the server's message has every RTMP URL, the
//! request's stream keys, the page URL's query and token, and the API secret redacted.

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_api::services::egress::encoding::EncodingOptions;
use livekit_api::services::egress::{EgressClient, EgressOutput, WebOptions};
use livekit_api::services::{ServerError, ServiceError};
use livekit_protocol as proto;
use prost::Message as _;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::Url;

use super::{EgressBackend, EgressRequest, EgressSummary};
use crate::config::LiveKitConfig;
use crate::error::{Error, Result};
use crate::redact::{Scrubber, REDACTED};
use crate::session::EgressStatus;
use crate::vault::SecretString;

/// Most `ListEgress` pages followed by one [`EgressBackend::list_active`] call.
const MAX_LIST_PAGES: usize = 10_000;
/// Lifetime of the access token minted for each `ListEgress` call.
const TOKEN_TTL: Duration = Duration::from_secs(10 * 60);
/// `User-Agent` of the hand-written `ListEgress` call.
const USER_AGENT_VALUE: &str = concat!("ltcg-streaming/", env!("CARGO_PKG_VERSION"));

/// How to reach a LiveKit server (or LiveKit Cloud project).
///
/// `Debug` never shows the API secret.
#[derive(Clone)]
pub struct LiveKitEgressOptions {
    /// `LIVEKIT_URL`: `wss://`, `ws://`, `https://` or `http://` (the API is called over
    /// `https://` / `http://`; any path is ignored).
    pub url: String,
    /// `LIVEKIT_API_KEY` (the token issuer; not secret).
    pub api_key: String,
    /// `LIVEKIT_API_SECRET` (signs the access tokens).
    pub api_secret: SecretString,
    /// Timeout of each API request; default
    /// [`LiveKitEgressOptions::DEFAULT_REQUEST_TIMEOUT`] (10 s). There is no retry.
    pub request_timeout: Duration,
}

impl LiveKitEgressOptions {
    /// The default per-request timeout: 10 seconds.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

    /// Options with the default request timeout.
    pub fn new(
        url: impl Into<String>,
        api_key: impl Into<String>,
        api_secret: impl Into<SecretString>,
    ) -> Self {
        Self {
            url: url.into(),
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// The same options with another per-request timeout.
    pub fn with_request_timeout(mut self, request_timeout: Duration) -> Self {
        self.request_timeout = request_timeout;
        self
    }
}

impl From<&LiveKitConfig> for LiveKitEgressOptions {
    /// The configured URL, key and secret, with the default request timeout.
    fn from(config: &LiveKitConfig) -> Self {
        Self::new(
            config.api_url.clone(),
            config.api_key.clone(),
            config.api_secret.clone(),
        )
    }
}

impl fmt::Debug for LiveKitEgressOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveKitEgressOptions")
            .field("url", &self.url)
            .field("api_key", &self.api_key)
            .field("api_secret", &REDACTED)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// An [`EgressBackend`] on LiveKit web egress: the overlay page is rendered by LiveKit's
/// headless Chrome and pushed, H.264 + AAC, to every RTMP(S) output of one `StreamOutput`
/// (simulcast from a single encode).
///
/// `Debug` shows the API URL and key, never the secret.
pub struct LiveKitEgress {
    client: EgressClient,
    http: reqwest::Client,
    api_url: Url,
    list_url: Url,
    api_key: String,
    api_secret: SecretString,
    request_timeout: Duration,
}

impl fmt::Debug for LiveKitEgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveKitEgress")
            .field("api_url", &self.api_url.as_str())
            .field("api_key", &self.api_key)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl LiveKitEgress {
    /// Checks the options and builds the clients (no request is made).
    ///
    /// Errors are [`Error::Config`] naming the variable(s) (`LIVEKIT_URL`,
    /// `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET`, `request_timeout`); values are never echoed.
    pub fn new(options: LiveKitEgressOptions) -> Result<Self> {
        let mut problems: Vec<(&str, &str)> = Vec::new();
        let api_url = match api_base_url(&options.url) {
            Ok(url) => Some(url),
            Err(problem) => {
                problems.push(("LIVEKIT_URL", problem));
                None
            }
        };
        let api_key = options.api_key.trim();
        if api_key.is_empty() {
            problems.push(("LIVEKIT_API_KEY", "is missing (api_key is empty)"));
        }
        let api_secret = options.api_secret.expose_secret().trim();
        if api_secret.is_empty() {
            problems.push(("LIVEKIT_API_SECRET", "is missing (api_secret is empty)"));
        }
        if options.request_timeout.is_zero() {
            problems.push(("request_timeout", "must be greater than zero"));
        }
        let Some(api_url) = api_url.filter(|_| problems.is_empty()) else {
            return Err(Error::Config {
                var: problems
                    .iter()
                    .map(|(var, _)| *var)
                    .collect::<Vec<_>>()
                    .join(", "),
                problem: problems
                    .iter()
                    .map(|(var, problem)| format!("{var} {problem}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        };
        let mut list_url = api_url.clone();
        list_url.set_path("/twirp/livekit.Egress/ListEgress");
        let client = EgressClient::with_api_key(api_url.as_str(), api_key, api_secret)
            .with_failover(false)
            .with_request_timeout(options.request_timeout);
        Ok(Self {
            client,
            http: http_client()?,
            api_url,
            list_url,
            api_key: api_key.to_owned(),
            api_secret: SecretString::from(api_secret),
            request_timeout: options.request_timeout,
        })
    }

    /// The HTTP(S) base URL the API is called on, e.g. `https://x.livekit.cloud/`.
    pub fn api_url(&self) -> &str {
        self.api_url.as_str()
    }

    /// `Authorization` header value: a short-lived token with the `roomRecord` grant.
    fn authorization(&self) -> Result<String> {
        AccessToken::with_api_key(&self.api_key, self.api_secret.expose_secret())
            .with_grants(VideoGrants {
                room_record: true,
                ..Default::default()
            })
            .with_ttl(TOKEN_TTL)
            .to_jwt()
            .map(|token| format!("Bearer {token}"))
            .map_err(|_| Error::Egress {
                retryable: false,
                message: "cannot sign the LiveKit access token (check the API key and secret)"
                    .into(),
            })
    }

    /// Secrets that must not appear in an error message.
    fn scrubber(&self, page_url: Option<&str>, urls: &[SecretString]) -> Scrubber {
        let mut scrubber = Scrubber::default();
        scrubber.add(self.api_secret.expose_secret(), REDACTED.to_owned());
        for url in urls.iter().map(SecretString::expose_secret) {
            scrubber.add_rtmp_url(url);
        }
        if let Some(page_url) = page_url {
            scrubber.add_page_url(page_url);
        }
        scrubber
    }

    /// One `ListEgress` page (active egresses only).
    async fn list_page(
        &self,
        page_token: Option<proto::TokenPagination>,
    ) -> Result<proto::ListEgressResponse> {
        const METHOD: &str = "ListEgress";
        let body = proto::ListEgressRequest {
            active: true,
            page_token,
            ..Default::default()
        }
        .encode_to_vec();
        let scrubber = self.scrubber(None, &[]);
        let response = self
            .http
            .post(self.list_url.clone())
            .header(CONTENT_TYPE, "application/protobuf")
            .header(USER_AGENT, USER_AGENT_VALUE)
            .header(AUTHORIZATION, self.authorization()?)
            .timeout(self.request_timeout)
            .body(body)
            .send()
            .await
            .map_err(|err| transport_error(METHOD, &err, self.request_timeout, &scrubber))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|err| transport_error(METHOD, &err, self.request_timeout, &scrubber))?;
        if status == 200 {
            return proto::ListEgressResponse::decode(bytes).map_err(|_| Error::Egress {
                retryable: true,
                message: format!("LiveKit {METHOD} answered with a body that is not protobuf"),
            });
        }
        Err(match serde_json::from_slice::<TwirpErrorBody>(&bytes) {
            Ok(twirp) if !twirp.code.is_empty() => {
                twirp_error(METHOD, &twirp.code, &twirp.msg, Some(status), &scrubber)
            }
            _ => Error::Egress {
                retryable: status >= 500 || status == 408,
                message: format!("LiveKit {METHOD} failed with HTTP status {status}"),
            },
        })
    }
}

#[async_trait]
impl EgressBackend for LiveKitEgress {
    async fn start(&self, request: &EgressRequest) -> Result<String> {
        const METHOD: &str = "StartWebEgress";
        if request.outputs.is_empty() {
            return Err(Error::invalid(
                "outputs",
                "at least one RTMP output is required",
            ));
        }
        if request.page_url.is_empty() {
            return Err(Error::invalid("pageUrl", "is required"));
        }
        request.encoding.validate()?;
        let scrubber = self.scrubber(Some(request.page_url.expose_secret()), &request.outputs);
        let output = EgressOutput::Stream(proto::StreamOutput {
            protocol: proto::StreamProtocol::Rtmp as i32,
            urls: request
                .outputs
                .iter()
                .map(|url| url.expose_secret().to_owned())
                .collect(),
        });
        let options = WebOptions {
            encoding: encoding_options(&request.encoding),
            audio_only: false,
            video_only: false,
            await_start_signal: false,
        };
        let info = self
            .client
            .start_web_egress(request.page_url.expose_secret(), vec![output], options)
            .await
            .map_err(|err| service_error(METHOD, err, self.request_timeout, &scrubber))?;
        if info.egress_id.is_empty() {
            return Err(Error::Egress {
                retryable: true,
                message: format!("LiveKit {METHOD} answered without an egress id"),
            });
        }
        tracing::debug!(
            egress_id = %info.egress_id,
            session_id = %request.session_id,
            "LiveKit web egress started"
        );
        Ok(info.egress_id)
    }

    async fn update_outputs(
        &self,
        egress_id: &str,
        add: &[SecretString],
        remove: &[SecretString],
    ) -> Result<()> {
        const METHOD: &str = "UpdateStream";
        if egress_id.trim().is_empty() {
            return Err(Error::invalid("egressId", "is required"));
        }
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        let all: Vec<SecretString> = add.iter().chain(remove).cloned().collect();
        let scrubber = self.scrubber(None, &all);
        let urls = |list: &[SecretString]| -> Vec<String> {
            list.iter().map(|u| u.expose_secret().to_owned()).collect()
        };
        self.client
            .update_stream(egress_id, urls(add), urls(remove))
            .await
            .map_err(|err| service_error(METHOD, err, self.request_timeout, &scrubber))?;
        tracing::debug!(
            egress_id,
            added = add.len(),
            removed = remove.len(),
            "LiveKit egress outputs updated"
        );
        Ok(())
    }

    async fn stop(&self, egress_id: &str) -> Result<()> {
        const METHOD: &str = "StopEgress";
        if egress_id.trim().is_empty() {
            return Err(Error::invalid("egressId", "is required"));
        }
        let scrubber = self.scrubber(None, &[]);
        match self.client.stop_egress(egress_id).await {
            Ok(_) => {
                tracing::debug!(egress_id, "LiveKit egress stopped");
                Ok(())
            }
            Err(ServiceError::Twirp(ServerError::Twirp(twirp)))
                if matches!(twirp.code.as_str(), "not_found" | "failed_precondition") =>
            {
                tracing::debug!(egress_id, code = %twirp.code, "LiveKit egress already stopped");
                Ok(())
            }
            Err(err) => Err(service_error(METHOD, err, self.request_timeout, &scrubber)),
        }
    }

    async fn list_active(&self) -> Result<Vec<EgressSummary>> {
        let mut active = Vec::new();
        let mut seen = HashSet::new();
        let mut page_token: Option<proto::TokenPagination> = None;
        for _ in 0..MAX_LIST_PAGES {
            let page = self.list_page(page_token.clone()).await?;
            for summary in page.items.iter().filter_map(summary) {
                if seen.insert(summary.egress_id.clone()) {
                    active.push(summary);
                }
            }
            match page.next_page_token {
                Some(next) if !next.token.is_empty() => {
                    if page_token.as_ref() == Some(&next) {
                        return Err(Error::Egress {
                            retryable: true,
                            message: "LiveKit ListEgress returned the same page token twice".into(),
                        });
                    }
                    page_token = Some(next);
                }
                _ => return Ok(active),
            }
        }
        Err(Error::Egress {
            retryable: true,
            message: format!("LiveKit ListEgress returned more than {MAX_LIST_PAGES} pages"),
        })
    }
}

/// The HTTP(S) API base of a `LIVEKIT_URL`, or what is wrong with it.
fn api_base_url(url: &str) -> std::result::Result<Url, &'static str> {
    const SCHEMES: &str = "must start with wss://, ws://, https:// or http://";
    let url = url.trim();
    if url.is_empty() {
        return Err("is missing (url is empty)");
    }
    let (scheme, rest) = url.split_once("://").ok_or(SCHEMES)?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "wss" | "https" => "https",
        "ws" | "http" => "http",
        _ => return Err(SCHEMES),
    };
    let mut parsed = Url::parse(&format!("{scheme}://{rest}")).map_err(|_| "is not a valid URL")?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("must include a host");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not contain credentials");
    }
    parsed.set_path("/");
    parsed.set_query(None);
    parsed.set_fragment(None);
    Ok(parsed)
}

/// A reqwest client with rustls on ring and the webpki roots, as `livekit-api` builds its
/// own, so `https://` LiveKit Cloud works without a process-wide crypto provider.
fn http_client() -> Result<reqwest::Client> {
    crate::https_client::https_client(None).map_err(|_| Error::Egress {
        retryable: false,
        message: "cannot build the HTTPS client for LiveKit".into(),
    })
}

/// LiveKit encoding options from ours: H.264 (main) + AAC, 24-bit depth, 44.1 kHz audio.
fn encoding_options(settings: &super::EncodingSettings) -> EncodingOptions {
    let int = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
    EncodingOptions {
        width: int(settings.width),
        height: int(settings.height),
        depth: 24,
        framerate: int(settings.framerate),
        audio_codec: proto::AudioCodec::Aac,
        audio_bitrate: int(settings.audio_bitrate_kbps),
        audio_frequency: 44_100,
        video_codec: proto::VideoCodec::H264Main,
        video_bitrate: int(settings.video_bitrate_kbps),
        keyframe_interval: settings.key_frame_interval_secs,
        ..EncodingOptions::default()
    }
}

/// An active egress as a summary; `None` unless it is starting or active.
fn summary(info: &proto::EgressInfo) -> Option<EgressSummary> {
    let status = EgressStatus::from_proto(info.status)?;
    if !matches!(status, EgressStatus::Starting | EgressStatus::Active) {
        return None;
    }
    let web_url = match &info.request {
        Some(proto::egress_info::Request::Web(web)) => Some(web.url.clone()),
        Some(proto::egress_info::Request::Egress(v2)) => match &v2.source {
            Some(proto::start_egress_request::Source::Web(web)) => Some(web.url.clone()),
            _ => None,
        },
        _ => None,
    }
    .filter(|url| !url.is_empty());
    Some(EgressSummary {
        egress_id: info.egress_id.clone(),
        status,
        web_url,
        started_at_ns: info.started_at,
    })
}

/// A Twirp error body: `{"code": "...", "msg": "..."}`.
#[derive(serde::Deserialize)]
struct TwirpErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    msg: String,
}

/// Whether a Twirp error code may go away when the call is repeated; `None` when the code
/// is not a Twirp code.
fn twirp_code_retryable(code: &str) -> Option<bool> {
    match code {
        "unavailable" | "internal" | "unknown" | "dataloss" | "deadline_exceeded" | "canceled"
        | "aborted" => Some(true),
        "invalid_argument"
        | "malformed"
        | "out_of_range"
        | "not_found"
        | "bad_route"
        | "already_exists"
        | "permission_denied"
        | "unauthenticated"
        | "resource_exhausted"
        | "failed_precondition"
        | "unimplemented" => Some(false),
        _ => None,
    }
}

/// An [`Error::Egress`] for a Twirp error; an unknown code is retryable unless the HTTP
/// status is known to be below 500.
fn twirp_error(
    method: &str,
    code: &str,
    msg: &str,
    status: Option<u16>,
    scrubber: &Scrubber,
) -> Error {
    let retryable = twirp_code_retryable(code).unwrap_or(status.is_none_or(|s| s >= 500));
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    let msg = scrubber.scrub(msg);
    let mut message = format!("LiveKit {method} failed: {code}");
    if !msg.is_empty() {
        message.push_str(": ");
        message.push_str(&msg);
    }
    Error::Egress { retryable, message }
}

/// An [`Error::Egress`] for a request that got no usable answer (always retryable).
fn transport_error(
    method: &str,
    err: &reqwest::Error,
    timeout: Duration,
    scrubber: &Scrubber,
) -> Error {
    let message = if err.is_timeout() {
        format!(
            "LiveKit {method} timed out after {} ms",
            timeout.as_millis()
        )
    } else {
        let kind = if err.is_connect() {
            "could not connect to the LiveKit server"
        } else if err.is_decode() {
            "could not read the LiveKit answer"
        } else {
            "the request to the LiveKit server failed"
        };
        // The innermost cause (e.g. "Connection refused"), never the request itself.
        let mut source: &dyn std::error::Error = err;
        while let Some(next) = source.source() {
            source = next;
        }
        let cause = scrubber.scrub(&source.to_string());
        let message = format!("LiveKit {method} failed: {kind} ({cause})");
        if err.is_connect() {
            // No connection, so the request was never sent: nothing can have started.
            return Error::EgressUnreachable { message };
        }
        message
    };
    Error::Egress {
        retryable: true,
        message,
    }
}

/// Maps a `livekit-api` error.
fn service_error(method: &str, err: ServiceError, timeout: Duration, scrubber: &Scrubber) -> Error {
    match err {
        ServiceError::Twirp(ServerError::Twirp(twirp)) => {
            twirp_error(method, &twirp.code, &twirp.msg, None, scrubber)
        }
        ServiceError::Twirp(ServerError::Request(err)) => {
            transport_error(method, &err, timeout, scrubber)
        }
        ServiceError::Twirp(ServerError::Prost(_)) => Error::Egress {
            retryable: true,
            message: format!("LiveKit {method} answered with a body that is not protobuf"),
        },
        ServiceError::Twirp(ServerError::Url(_)) => Error::Egress {
            retryable: false,
            message: format!("LiveKit {method} failed: the LiveKit URL is invalid"),
        },
        ServiceError::AccessToken(_) => Error::Egress {
            retryable: false,
            message: "cannot sign the LiveKit access token (check the API key and secret)".into(),
        },
        ServiceError::Env(_) => Error::Egress {
            retryable: false,
            message: format!("LiveKit {method} failed: missing LiveKit credentials"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let ok = |url: &str| api_base_url(url).map(|u| u.to_string());
        assert_eq!(
            ok("wss://x.livekit.cloud").unwrap(),
            "https://x.livekit.cloud/"
        );
        assert_eq!(
            ok(" ws://127.0.0.1:7880/rtc ").unwrap(),
            "http://127.0.0.1:7880/"
        );
        assert_eq!(ok("HTTPS://x.example?q=1").unwrap(), "https://x.example/");
        assert!(ok("").is_err());
        assert!(ok("ftp://x").is_err());
        assert!(ok("x.livekit.cloud").is_err());
        assert!(ok("https://user:pw@x.example").is_err());
    }

    #[test]
    fn twirp_codes() {
        let s = Scrubber::default();
        let retryable = |code: &str, status| twirp_error("X", code, "", status, &s).is_retryable();
        for code in [
            "unavailable",
            "internal",
            "unknown",
            "deadline_exceeded",
            "canceled",
            "aborted",
        ] {
            assert!(retryable(code, None), "{code}");
        }
        for code in [
            "invalid_argument",
            "permission_denied",
            "unauthenticated",
            "resource_exhausted",
            "malformed",
            "bad_route",
            "not_found",
            "failed_precondition",
        ] {
            assert!(!retryable(code, Some(500)), "{code}");
        }
        assert!(retryable("weird", None));
        assert!(retryable("weird", Some(502)));
        assert!(!retryable("weird", Some(400)));
    }
}
