//! An in-process fake of LiveKit's `livekit.Egress` Twirp service, for tests.
//!
//! Start it inside a tokio runtime with [`FakeLiveKit::start`] (or [`FakeLiveKit::start_with`] for chosen
//! credentials). It listens on `127.0.0.1:<free port>` until dropped.
//!
//! What it does, like LiveKit:
//! - serves `POST /twirp/livekit.Egress/{StartWebEgress,UpdateStream,StopEgress,ListEgress}`
//!   with `Content-Type: application/protobuf`, decoding the real `livekit_protocol`
//!   request messages and answering prost-encoded `EgressInfo` / `ListEgressResponse`;
//! - checks `Authorization: Bearer <JWT>`: HS256 with the API secret, `iss` = API key,
//!   `exp`/`nbf`, else Twirp `unauthenticated` (401); `video.roomRecord == true`, else
//!   `permission_denied` (403);
//! - keeps egresses in memory: start → `EGRESS_STARTING` with an `EG_…` id, the web request
//!   echoed with stream keys redacted (as LiveKit does) and one `StreamInfo` per URL;
//!   stop of STARTING → ABORTED, of ACTIVE → COMPLETE, of a finished egress →
//!   `failed_precondition` (412) "egress with status EGRESS_COMPLETE cannot be stopped",
//!   of an unknown id → `not_found` (404); UpdateStream only while STARTING/ACTIVE;
//! - answers errors as Twirp JSON `{"code": "...", "msg": "..."}` with the Twirp HTTP status.
//!
//! Scripting: every call is recorded ([`FakeLiveKit::calls`], [`FakeLiveKit::start_requests`],
//! ...); [`FakeLiveKit::fail_next`] queues a Twirp error per method and
//! [`FakeLiveKit::fail_next_http`] a raw HTTP answer; [`FakeLiveKit::set_delay`] slows a
//! method down (before it takes effect, [`FakeLiveKit::set_delay_after`] after); [`FakeLiveKit::set_page_size`] paginates ListEgress;
//! [`FakeLiveKit::set_status`] moves an egress (e.g. to ACTIVE) and
//! [`FakeLiveKit::add_egress`] creates one nobody asked for.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use livekit_protocol as proto;
use ltcg_streaming_core::redact_url;
use prost::Message;

pub use livekit_protocol::EgressStatus as ProtoEgressStatus;

/// API key of [`FakeLiveKit::start`].
pub const FAKE_API_KEY: &str = "APIfakeLiveKit01";
/// API secret of [`FakeLiveKit::start`].
pub const FAKE_API_SECRET: &str = "fake-livekit-api-secret-0123456789abcdef";

/// The Twirp methods the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TwirpMethod {
    /// `livekit.Egress/StartWebEgress`
    StartWebEgress,
    /// `livekit.Egress/UpdateStream`
    UpdateStream,
    /// `livekit.Egress/StopEgress`
    StopEgress,
    /// `livekit.Egress/ListEgress`
    ListEgress,
}

impl TwirpMethod {
    /// Every method.
    pub const ALL: [TwirpMethod; 4] = [
        TwirpMethod::StartWebEgress,
        TwirpMethod::UpdateStream,
        TwirpMethod::StopEgress,
        TwirpMethod::ListEgress,
    ];

    /// The method name in the URL path.
    pub fn name(self) -> &'static str {
        match self {
            TwirpMethod::StartWebEgress => "StartWebEgress",
            TwirpMethod::UpdateStream => "UpdateStream",
            TwirpMethod::StopEgress => "StopEgress",
            TwirpMethod::ListEgress => "ListEgress",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// A decoded request body.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum TwirpRequest {
    /// A `WebEgressRequest`.
    StartWebEgress(proto::WebEgressRequest),
    /// An `UpdateStreamRequest`.
    UpdateStream(proto::UpdateStreamRequest),
    /// A `StopEgressRequest`.
    StopEgress(proto::StopEgressRequest),
    /// A `ListEgressRequest`.
    ListEgress(proto::ListEgressRequest),
}

impl TwirpRequest {
    fn decode(method: TwirpMethod, body: &[u8]) -> Option<Self> {
        Some(match method {
            TwirpMethod::StartWebEgress => {
                Self::StartWebEgress(proto::WebEgressRequest::decode(body).ok()?)
            }
            TwirpMethod::UpdateStream => {
                Self::UpdateStream(proto::UpdateStreamRequest::decode(body).ok()?)
            }
            TwirpMethod::StopEgress => {
                Self::StopEgress(proto::StopEgressRequest::decode(body).ok()?)
            }
            TwirpMethod::ListEgress => {
                Self::ListEgress(proto::ListEgressRequest::decode(body).ok()?)
            }
        })
    }
}

/// One call the fake received, recorded before it is answered.
#[derive(Debug, Clone)]
pub struct RecordedCall {
    /// The method called.
    pub method: TwirpMethod,
    /// The raw `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The raw `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The decoded body; `None` when it did not decode.
    pub request: Option<TwirpRequest>,
    /// The HTTP status answered; `None` while the call is still being answered.
    pub status: Option<u16>,
}

impl RecordedCall {
    /// The bearer token, without `Bearer `.
    pub fn bearer_token(&self) -> Option<&str> {
        self.authorization.as_deref()?.strip_prefix("Bearer ")
    }
}

/// The HTTP status Twirp uses for an error code.
pub fn twirp_status(code: &str) -> u16 {
    match code {
        "canceled" | "deadline_exceeded" => 408,
        "invalid_argument" | "malformed" | "out_of_range" => 400,
        "not_found" | "bad_route" => 404,
        "already_exists" | "aborted" => 409,
        "permission_denied" => 403,
        "unauthenticated" => 401,
        "resource_exhausted" => 429,
        "failed_precondition" => 412,
        "unimplemented" => 501,
        "unavailable" => 503,
        _ => 500,
    }
}

#[derive(Debug, Clone)]
enum Injection {
    Twirp {
        status: u16,
        code: String,
        msg: String,
    },
    Raw {
        status: u16,
        body: String,
    },
}

#[derive(Debug)]
struct StoredEgress {
    info: proto::EgressInfo,
    /// The full output URLs (the echoed request has them redacted).
    urls: Vec<String>,
}

#[derive(Debug, Default)]
struct FakeState {
    next_id: u64,
    egresses: Vec<StoredEgress>,
    calls: Vec<RecordedCall>,
    failures: HashMap<TwirpMethod, VecDeque<Injection>>,
    delays: HashMap<TwirpMethod, Duration>,
    delays_after: HashMap<TwirpMethod, Duration>,
    page_size: Option<usize>,
}

impl FakeState {
    fn find(&mut self, egress_id: &str) -> Option<&mut StoredEgress> {
        self.egresses
            .iter_mut()
            .find(|e| e.info.egress_id == egress_id)
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("EG_fake{:08}", self.next_id)
    }
}

#[derive(Debug)]
struct Shared {
    api_key: String,
    api_secret: String,
    state: Mutex<FakeState>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running fake server; stops when dropped.
#[derive(Debug)]
pub struct FakeLiveKit {
    /// The API key tokens must be issued by.
    pub api_key: String,
    /// The API secret tokens must be signed with.
    pub api_secret: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeLiveKit {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeLiveKit {
    /// Starts a fake with [`FAKE_API_KEY`] / [`FAKE_API_SECRET`].
    pub async fn start() -> Self {
        Self::start_with(FAKE_API_KEY, FAKE_API_SECRET).await
    }

    /// Starts a fake that accepts tokens of `api_key` signed with `api_secret`.
    pub async fn start_with(api_key: &str, api_secret: &str) -> Self {
        let shared = Arc::new(Shared {
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
            state: Mutex::new(FakeState::default()),
        });
        let app = Router::new()
            .route("/twirp/livekit.Egress/{method}", post(handle))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
            addr,
            shared,
            task,
        }
    }

    /// [`FakeLiveKit::start_with`] on a runtime of its own, which keeps serving while a
    /// test blocks its thread (talking to servers in child processes); keep the runtime as
    /// long as the fake.
    pub fn start_in_background(
        api_key: &str,
        api_secret: &str,
    ) -> (tokio::runtime::Runtime, FakeLiveKit) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the fake LiveKit");
        let fake = runtime.block_on(Self::start_with(api_key, api_secret));
        (runtime, fake)
    }

    /// `http://127.0.0.1:<port>`: the API URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:<port>`: the URL as `LIVEKIT_URL` usually gives it.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    // ----- recorded calls -----

    /// Every call received, in order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.lock().calls.clone()
    }

    /// The calls to `method`, in order.
    pub fn calls_to(&self, method: TwirpMethod) -> Vec<RecordedCall> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    /// How many calls `method` received.
    pub fn call_count(&self, method: TwirpMethod) -> usize {
        self.calls_to(method).len()
    }

    /// Forgets the recorded calls.
    pub fn clear_calls(&self) {
        self.shared.lock().calls.clear();
    }

    /// The decoded `WebEgressRequest`s, in order.
    pub fn start_requests(&self) -> Vec<proto::WebEgressRequest> {
        self.requests(|r| match r {
            TwirpRequest::StartWebEgress(r) => Some(r),
            _ => None,
        })
    }

    /// The decoded `UpdateStreamRequest`s, in order.
    pub fn update_requests(&self) -> Vec<proto::UpdateStreamRequest> {
        self.requests(|r| match r {
            TwirpRequest::UpdateStream(r) => Some(r),
            _ => None,
        })
    }

    /// The decoded `StopEgressRequest`s, in order.
    pub fn stop_requests(&self) -> Vec<proto::StopEgressRequest> {
        self.requests(|r| match r {
            TwirpRequest::StopEgress(r) => Some(r),
            _ => None,
        })
    }

    /// The decoded `ListEgressRequest`s, in order.
    pub fn list_requests(&self) -> Vec<proto::ListEgressRequest> {
        self.requests(|r| match r {
            TwirpRequest::ListEgress(r) => Some(r),
            _ => None,
        })
    }

    fn requests<T>(&self, pick: impl Fn(TwirpRequest) -> Option<T>) -> Vec<T> {
        self.calls()
            .into_iter()
            .filter_map(|c| c.request)
            .filter_map(pick)
            .collect()
    }

    // ----- scripting -----

    /// The next call to `method` (after authentication) is answered with the Twirp error
    /// `code` / `msg`, with Twirp's HTTP status for `code` (e.g. `unavailable` → 503).
    /// Queued errors are used one per call, in order.
    pub fn fail_next(&self, method: TwirpMethod, code: &str, msg: &str) {
        self.fail_next_with_status(method, twirp_status(code), code, msg);
    }

    /// Like [`FakeLiveKit::fail_next`] with an explicit HTTP status.
    pub fn fail_next_with_status(&self, method: TwirpMethod, status: u16, code: &str, msg: &str) {
        self.push_failure(
            method,
            Injection::Twirp {
                status,
                code: code.to_owned(),
                msg: msg.to_owned(),
            },
        );
    }

    /// The next call to `method` is answered with a plain-text `body` and HTTP `status`
    /// (e.g. a proxy's 502 page), not a Twirp error.
    pub fn fail_next_http(&self, method: TwirpMethod, status: u16, body: &str) {
        self.push_failure(
            method,
            Injection::Raw {
                status,
                body: body.to_owned(),
            },
        );
    }

    fn push_failure(&self, method: TwirpMethod, injection: Injection) {
        self.shared
            .lock()
            .failures
            .entry(method)
            .or_default()
            .push_back(injection);
    }

    /// Every call to `method` waits `delay` before it is answered (for timeouts).
    pub fn set_delay(&self, method: TwirpMethod, delay: Duration) {
        self.shared.lock().delays.insert(method, delay);
    }

    /// Holds the answer of `method` for `delay` after it took effect (e.g. the egress
    /// exists but its caller has not heard back yet).
    pub fn set_delay_after(&self, method: TwirpMethod, delay: Duration) {
        self.shared.lock().delays_after.insert(method, delay);
    }

    /// Removes every delay.
    pub fn clear_delays(&self) {
        let mut state = self.shared.lock();
        state.delays.clear();
        state.delays_after.clear();
    }

    /// ListEgress answers at most `page_size` egresses per page, with a `next_page_token`
    /// while more remain; `None` (the default) answers everything at once.
    pub fn set_page_size(&self, page_size: Option<usize>) {
        self.shared.lock().page_size = page_size.map(|n| n.max(1));
    }

    // ----- egresses -----

    /// Sets an egress's status (ACTIVE sets `started_at`, a finished status `ended_at`).
    /// Panics when the egress is unknown.
    pub fn set_status(&self, egress_id: &str, status: ProtoEgressStatus) {
        let mut state = self.shared.lock();
        let egress = state
            .find(egress_id)
            .unwrap_or_else(|| panic!("no egress {egress_id}"));
        apply_status(&mut egress.info, status);
    }

    /// Creates a web egress of `web_url` pushing to `rtmp_urls` in `status`, as if someone
    /// else had started it (no call is recorded); returns its id.
    pub fn add_egress(
        &self,
        web_url: &str,
        rtmp_urls: &[&str],
        status: ProtoEgressStatus,
    ) -> String {
        let request = proto::WebEgressRequest {
            url: web_url.to_owned(),
            stream_outputs: vec![proto::StreamOutput {
                protocol: proto::StreamProtocol::Rtmp as i32,
                urls: rtmp_urls.iter().map(|u| (*u).to_owned()).collect(),
            }],
            ..Default::default()
        };
        let mut state = self.shared.lock();
        let id = state.new_id();
        let mut stored = new_egress(id.clone(), &request);
        apply_status(&mut stored.info, status);
        state.egresses.push(stored);
        id
    }

    /// An egress as the fake holds it.
    pub fn egress(&self, egress_id: &str) -> Option<proto::EgressInfo> {
        self.shared
            .lock()
            .egresses
            .iter()
            .find(|e| e.info.egress_id == egress_id)
            .map(|e| e.info.clone())
    }

    /// An egress's status; `None` when unknown.
    pub fn status(&self, egress_id: &str) -> Option<ProtoEgressStatus> {
        self.egress(egress_id)
            .and_then(|info| ProtoEgressStatus::try_from(info.status).ok())
    }

    /// An egress's current full output URLs.
    pub fn output_urls(&self, egress_id: &str) -> Vec<String> {
        self.shared
            .lock()
            .egresses
            .iter()
            .find(|e| e.info.egress_id == egress_id)
            .map(|e| e.urls.clone())
            .unwrap_or_default()
    }

    /// Every egress, in creation order.
    pub fn egresses(&self) -> Vec<proto::EgressInfo> {
        self.shared
            .lock()
            .egresses
            .iter()
            .map(|e| e.info.clone())
            .collect()
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default()
}

fn is_live(status: i32) -> bool {
    status == ProtoEgressStatus::EgressStarting as i32
        || status == ProtoEgressStatus::EgressActive as i32
}

fn status_name(status: i32) -> &'static str {
    ProtoEgressStatus::try_from(status)
        .map(|s| s.as_str_name())
        .unwrap_or("EGRESS_UNKNOWN")
}

fn new_egress(egress_id: String, request: &proto::WebEgressRequest) -> StoredEgress {
    let urls: Vec<String> = request
        .stream_outputs
        .iter()
        .flat_map(|o| o.urls.iter().cloned())
        .collect();
    let mut echoed = request.clone();
    for output in &mut echoed.stream_outputs {
        for url in &mut output.urls {
            *url = redact_url(url);
        }
    }
    let info = proto::EgressInfo {
        egress_id,
        source_type: proto::EgressSourceType::Web as i32,
        status: ProtoEgressStatus::EgressStarting as i32,
        updated_at: now_ns(),
        stream_results: urls
            .iter()
            .map(|url| proto::StreamInfo {
                url: redact_url(url),
                ..Default::default()
            })
            .collect(),
        request: Some(proto::egress_info::Request::Web(echoed)),
        ..Default::default()
    };
    StoredEgress { info, urls }
}

fn apply_status(info: &mut proto::EgressInfo, status: ProtoEgressStatus) {
    let now = now_ns();
    info.status = status as i32;
    info.updated_at = now;
    match status {
        ProtoEgressStatus::EgressActive => {
            if info.started_at == 0 {
                info.started_at = now;
            }
            for stream in &mut info.stream_results {
                if stream.started_at == 0 {
                    stream.started_at = now;
                }
            }
        }
        ProtoEgressStatus::EgressComplete
        | ProtoEgressStatus::EgressFailed
        | ProtoEgressStatus::EgressAborted
        | ProtoEgressStatus::EgressLimitReached => {
            info.ended_at = now;
            for stream in &mut info.stream_results {
                if stream.ended_at == 0 {
                    stream.ended_at = now;
                    stream.status = proto::stream_info::Status::Finished as i32;
                }
            }
        }
        _ => {}
    }
}

/// A Twirp error answer.
fn twirp_error(code: &str, msg: &str) -> Response {
    twirp_error_with_status(twirp_status(code), code, msg)
}

fn twirp_error_with_status(status: u16, code: &str, msg: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({ "code": code, "msg": msg }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn protobuf(message: &impl Message) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/protobuf")],
        message.encode_to_vec(),
    )
        .into_response()
}

/// Checks the bearer token; `Some` is the error answer to send.
fn authentication_failure(shared: &Shared, authorization: Option<&str>) -> Option<Response> {
    let Some(token) = authorization.and_then(|a| a.strip_prefix("Bearer ")) else {
        return Some(twirp_error(
            "unauthenticated",
            "invalid authorization header. Must start with Bearer ",
        ));
    };
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[shared.api_key.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "nbf"]);
    validation.validate_nbf = true;
    let key = DecodingKey::from_secret(shared.api_secret.as_bytes());
    let Ok(token) = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation) else {
        return Some(twirp_error("unauthenticated", "invalid token"));
    };
    if token.claims["video"]["roomRecord"].as_bool() != Some(true) {
        return Some(twirp_error(
            "permission_denied",
            "permissions denied: roomRecord grant required",
        ));
    }
    None
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path(method_name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(method) = TwirpMethod::from_name(&method_name) else {
        return twirp_error(
            "bad_route",
            &format!("no handler for path /twirp/livekit.Egress/{method_name}"),
        );
    };
    let header_text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header_text(header::AUTHORIZATION);
    let content_type = header_text(header::CONTENT_TYPE);
    let request = TwirpRequest::decode(method, &body);
    let (index, delay) = {
        let mut state = shared.lock();
        state.calls.push(RecordedCall {
            method,
            authorization: authorization.clone(),
            content_type: content_type.clone(),
            request: request.clone(),
            status: None,
        });
        (state.calls.len() - 1, state.delays.get(&method).copied())
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let response = answer(&shared, method, authorization, content_type, request);
    let delay_after = {
        let mut state = shared.lock();
        if let Some(call) = state.calls.get_mut(index) {
            call.status = Some(response.status().as_u16());
        }
        state.delays_after.get(&method).copied()
    };
    if let Some(delay) = delay_after {
        tokio::time::sleep(delay).await;
    }
    response
}

fn answer(
    shared: &Shared,
    method: TwirpMethod,
    authorization: Option<String>,
    content_type: Option<String>,
    request: Option<TwirpRequest>,
) -> Response {
    let protobuf_body = content_type
        .as_deref()
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|ct| ct.trim().eq_ignore_ascii_case("application/protobuf"));
    if !protobuf_body {
        return twirp_error(
            "bad_route",
            "unexpected Content-Type (the fake only speaks application/protobuf)",
        );
    }
    if let Some(response) = authentication_failure(shared, authorization.as_deref()) {
        return response;
    }
    let Some(request) = request else {
        return twirp_error("malformed", "the request body could not be decoded");
    };
    let mut state = shared.lock();
    if let Some(injection) = state
        .failures
        .get_mut(&method)
        .and_then(VecDeque::pop_front)
    {
        return match injection {
            Injection::Twirp { status, code, msg } => twirp_error_with_status(status, &code, &msg),
            Injection::Raw { status, body } => (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                [(header::CONTENT_TYPE, "text/html")],
                body,
            )
                .into_response(),
        };
    }
    match request {
        TwirpRequest::StartWebEgress(request) => start(&mut state, &request),
        TwirpRequest::UpdateStream(request) => update(&mut state, &request),
        TwirpRequest::StopEgress(request) => stop(&mut state, &request),
        TwirpRequest::ListEgress(request) => list(&state, &request),
    }
}

/// `rtmp(s)://{host}(/{path})/{app}/{stream_key}`, as the egress service requires.
fn valid_rtmp_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("rtmp://")
        .or_else(|| lower.strip_prefix("rtmps://"))
    else {
        return false;
    };
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    segments.next().is_some() && segments.count() >= 2
}

fn start(state: &mut FakeState, request: &proto::WebEgressRequest) -> Response {
    if request.url.is_empty() {
        return twirp_error("invalid_argument", "url is required");
    }
    let urls: Vec<&String> = request
        .stream_outputs
        .iter()
        .flat_map(|o| o.urls.iter())
        .collect();
    if urls.is_empty() && request.file_outputs.is_empty() && request.segment_outputs.is_empty() {
        return twirp_error("invalid_argument", "no outputs");
    }
    if !urls.iter().all(|u| valid_rtmp_url(u)) {
        return twirp_error(
            "invalid_argument",
            "rtmp urls must be of format rtmp(s)://{host}(/{path})/{app}/{stream_key}( live=1)",
        );
    }
    let id = state.new_id();
    let stored = new_egress(id, request);
    let info = stored.info.clone();
    state.egresses.push(stored);
    protobuf(&info)
}

fn update(state: &mut FakeState, request: &proto::UpdateStreamRequest) -> Response {
    let Some(egress) = state.find(&request.egress_id) else {
        return twirp_error("not_found", "egress not found");
    };
    if !is_live(egress.info.status) {
        return twirp_error(
            "failed_precondition",
            &format!(
                "egress with status {} cannot be updated",
                status_name(egress.info.status)
            ),
        );
    }
    if let Some(url) = request.add_output_urls.iter().find(|u| !valid_rtmp_url(u)) {
        return twirp_error("invalid_argument", &format!("invalid stream url {url}"));
    }
    if let Some(url) = request
        .remove_output_urls
        .iter()
        .find(|u| !egress.urls.contains(u))
    {
        // The message names the URL in full, so clients must redact server messages.
        return twirp_error("not_found", &format!("stream {url} not found"));
    }
    let now = now_ns();
    for url in &request.remove_output_urls {
        egress.urls.retain(|u| u != url);
        let redacted = redact_url(url);
        for stream in &mut egress.info.stream_results {
            if stream.url == redacted && stream.ended_at == 0 {
                stream.ended_at = now;
                stream.status = proto::stream_info::Status::Finished as i32;
            }
        }
    }
    for url in &request.add_output_urls {
        egress.urls.push(url.clone());
        egress.info.stream_results.push(proto::StreamInfo {
            url: redact_url(url),
            started_at: if egress.info.started_at != 0 { now } else { 0 },
            ..Default::default()
        });
    }
    if let Some(proto::egress_info::Request::Web(web)) = &mut egress.info.request {
        let urls = egress.urls.iter().map(|u| redact_url(u)).collect();
        match web.stream_outputs.first_mut() {
            Some(output) => output.urls = urls,
            None => web.stream_outputs.push(proto::StreamOutput {
                protocol: proto::StreamProtocol::Rtmp as i32,
                urls,
            }),
        }
    }
    egress.info.updated_at = now;
    protobuf(&egress.info)
}

fn stop(state: &mut FakeState, request: &proto::StopEgressRequest) -> Response {
    let Some(egress) = state.find(&request.egress_id) else {
        return twirp_error("not_found", "egress not found");
    };
    let info = &mut egress.info;
    if info.status == ProtoEgressStatus::EgressStarting as i32 {
        apply_status(info, ProtoEgressStatus::EgressAborted);
        info.error = "Stop called before pipeline could start".into();
    } else if info.status == ProtoEgressStatus::EgressActive as i32 {
        apply_status(info, ProtoEgressStatus::EgressComplete);
        info.details = "StopEgress API".into();
    } else {
        return twirp_error(
            "failed_precondition",
            &format!(
                "egress with status {} cannot be stopped",
                status_name(info.status)
            ),
        );
    }
    protobuf(&*info)
}

fn list(state: &FakeState, request: &proto::ListEgressRequest) -> Response {
    let matching: Vec<&proto::EgressInfo> = state
        .egresses
        .iter()
        .map(|e| &e.info)
        .filter(|info| request.egress_id.is_empty() || info.egress_id == request.egress_id)
        .filter(|info| request.room_name.is_empty() || info.room_name == request.room_name)
        .filter(|info| {
            !request.active
                || is_live(info.status)
                || info.status == ProtoEgressStatus::EgressEnding as i32
        })
        .collect();
    let offset = match request.page_token.as_ref().map(|t| t.token.as_str()) {
        None | Some("") => 0,
        Some(token) => match token.strip_prefix("offset:").and_then(|n| n.parse().ok()) {
            Some(offset) => offset,
            None => return twirp_error("invalid_argument", "invalid page token"),
        },
    };
    let page_size = state.page_size.unwrap_or(usize::MAX);
    let items: Vec<proto::EgressInfo> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .map(|info| (*info).clone())
        .collect();
    let next = offset.saturating_add(items.len());
    let next_page_token = (next < matching.len()).then(|| proto::TokenPagination {
        token: format!("offset:{next}"),
    });
    protobuf(&proto::ListEgressResponse {
        items,
        next_page_token,
    })
}
