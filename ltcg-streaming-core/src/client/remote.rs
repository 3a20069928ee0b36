//! The service's methods over HTTP: each [`ServiceMethod`] as a request to the route that
//! serves it ([`crate::api_paths`]), its answer as the embedded method's JSON, and an error
//! answer ([`WireError`]) as the same [`Error`].

use std::fmt;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, Url};
use serde_json::{Map, Value};

use crate::api_paths as paths;
use crate::error::{Error, Result, WireError};
use crate::loopback::is_loopback_origin;
use crate::service::ServiceMethod;
use crate::vault::SecretString;

/// Default bound on one whole request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest answer read, in bytes.
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// Where and as whom a [`RemoteService`] calls.
#[derive(Clone)]
pub struct RemoteOptions {
    /// The server's base URL, e.g. `https://stream.example.com` (a path prefix is kept).
    pub base_url: String,
    /// The credential sent as `Authorization: Bearer`: an agent's `ltcg_` key, a user's
    /// JWT or the internal secret. It names the caller.
    pub api_key: SecretString,
    /// Bound on each whole request.
    pub timeout: Duration,
    /// Allows `http://` to a host that is not this machine. Off: a key sent in clear text
    /// over a network is refused.
    pub allow_plain_http: bool,
}

impl RemoteOptions {
    /// Options with the default timeout, `https://` required off loopback.
    pub fn new(base_url: impl Into<String>, api_key: SecretString) -> Self {
        Self {
            base_url: base_url.into(),
            api_key,
            timeout: DEFAULT_TIMEOUT,
            allow_plain_http: false,
        }
    }
}

impl fmt::Debug for RemoteOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteOptions")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("allow_plain_http", &self.allow_plain_http)
            .finish()
    }
}

/// A streaming server called over HTTP. Cheap to clone (one connection pool).
#[derive(Clone)]
pub struct RemoteService {
    base: Url,
    authorization: SecretString,
    http: reqwest::Client,
}

impl fmt::Debug for RemoteService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteService")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// One HTTP request of a method.
struct Call {
    verb: Method,
    path: &'static str,
    query: Vec<(String, String)>,
    body: Option<Value>,
    /// The member of the answer that is the method's result (`None`: the whole answer).
    pick: Option<&'static str>,
}

impl Call {
    fn new(verb: Method, path: &'static str) -> Self {
        Self {
            verb,
            path,
            query: Vec::new(),
            body: None,
            pick: None,
        }
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn query(mut self, query: Vec<(String, String)>) -> Self {
        self.query = query;
        self
    }

    fn pick(mut self, member: &'static str) -> Self {
        self.pick = Some(member);
        self
    }
}

impl RemoteService {
    /// A client for `options.base_url`; nothing is sent yet.
    pub fn new(options: RemoteOptions) -> Result<Self> {
        let base = Url::parse(options.base_url.trim())
            .map_err(|e| Error::invalid("baseUrl", format!("is not a URL ({e})")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(Error::invalid(
                "baseUrl",
                "must be an http:// or https:// URL",
            ));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(Error::invalid(
                "baseUrl",
                "must not carry credentials; pass the key as apiKey",
            ));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(Error::invalid(
                "baseUrl",
                "must not have a query or fragment",
            ));
        }
        let origin = base.origin().ascii_serialization();
        if base.scheme() == "http" && !options.allow_plain_http && !is_loopback_origin(&origin) {
            return Err(Error::invalid(
                "baseUrl",
                "must be https:// (plain http:// only to this machine, unless allowPlainHttp)",
            ));
        }
        let key = options.api_key.expose_secret();
        if key.is_empty() {
            return Err(Error::invalid("apiKey", "is required"));
        }
        if key.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
            return Err(Error::invalid(
                "apiKey",
                "must be printable ASCII without spaces",
            ));
        }
        if options.timeout.is_zero() {
            return Err(Error::invalid("timeout", "must be more than zero"));
        }
        let http = crate::https_client::https_client(Some(options.timeout)).map_err(|_| {
            Error::Config {
                var: "tls".into(),
                problem: "could not set up the HTTPS client".into(),
            }
        })?;
        Ok(Self {
            base,
            authorization: SecretString::from(format!("Bearer {key}")),
            http,
        })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// Runs `method` on the server; see [`super::Client::call_json`].
    pub async fn call_json(&self, method: ServiceMethod, args: Vec<Value>) -> Result<Value> {
        let mut args = args.into_iter();
        let mut next = || args.next().unwrap_or(Value::Null);
        let call = match method {
            ServiceMethod::StartStream => {
                Call::new(Method::POST, paths::START).body(object("request", next())?)
            }
            ServiceMethod::StopStream => {
                Call::new(Method::POST, paths::STOP).body(object("request", next())?)
            }
            ServiceMethod::GetStatus => Call::new(Method::GET, paths::STATUS)
                .query(vec![("sessionId".into(), scalar("sessionId", next())?)]),
            ServiceMethod::ListSessions => {
                Call::new(Method::GET, paths::SESSIONS).query(query("request", next())?)
            }
            ServiceMethod::UpdateDestinations => {
                Call::new(Method::POST, paths::DESTINATIONS).body(object("request", next())?)
            }
            ServiceMethod::LinkLobby => {
                let session_id = scalar("sessionId", next())?;
                let lobby_id =
                    match next() {
                        Value::Null => return Err(Error::invalid(
                            "lobbyId",
                            "is required over HTTP (the API links a lobby; it does not clear one)",
                        )),
                        value => scalar("lobbyId", value)?,
                    };
                let link = Call::new(Method::POST, paths::LINK_GAME)
                    .body(serde_json::json!({ "sessionId": session_id, "lobbyId": lobby_id }));
                self.send(link).await?;
                Call::new(Method::GET, paths::STATUS).query(vec![("sessionId".into(), session_id)])
            }
            ServiceMethod::RecordDecision => {
                Call::new(Method::POST, paths::AGENT_DECISIONS).body(object("request", next())?)
            }
            ServiceMethod::RecordEvent => {
                Call::new(Method::POST, paths::AGENT_EVENTS).body(object("request", next())?)
            }
            ServiceMethod::UpdateViewerCount => {
                let session_id = scalar_value("sessionId", next())?;
                let viewers = required("viewers", next())?;
                Call::new(Method::POST, paths::VIEWER_COUNT)
                    .body(serde_json::json!({ "sessionId": session_id, "viewerCount": viewers }))
            }
            ServiceMethod::ConfigurePlatform => {
                Call::new(Method::PUT, paths::PLATFORMS).body(object("request", next())?)
            }
            ServiceMethod::GetPlatformConfig => {
                Call::new(Method::GET, paths::PLATFORMS).query(query("request", next())?)
            }
            ServiceMethod::DeletePlatformConfig => Call::new(Method::DELETE, paths::PLATFORMS)
                .query(query("request", next())?)
                .pick("deleted"),
            ServiceMethod::OnGameStarted => {
                let agent_id = scalar_value("agentId", next())?;
                let lobby_id = scalar_value("lobbyId", next())?;
                Call::new(Method::POST, paths::GAME_STARTED)
                    .body(serde_json::json!({ "agentId": agent_id, "lobbyId": lobby_id }))
            }
            ServiceMethod::UpdateGameState => {
                Call::new(Method::POST, paths::GAME_STATE).body(object("state", next())?)
            }
            ServiceMethod::RecordMatchResult => {
                Call::new(Method::POST, paths::MATCH_RESULT).body(object("request", next())?)
            }
            ServiceMethod::ConfigureAgent => Call::new(Method::POST, paths::CONFIGURE_AGENT)
                .body(object("request", next())?)
                .pick("config"),
            ServiceMethod::ConfigureUser => Call::new(Method::POST, paths::CONFIGURE_USER)
                .body(object("request", next())?)
                .pick("config"),
            ServiceMethod::AgentStreamingConfig => {
                Call::new(Method::GET, paths::AGENT_STREAMING_CONFIG)
                    .query(vec![("agentId".into(), scalar("agentId", next())?)])
            }
            ServiceMethod::AgentDecisions => {
                Call::new(Method::GET, paths::AGENT_DECISIONS).query(query("query", next())?)
            }
            ServiceMethod::Cleanup => {
                Call::new(Method::POST, paths::CLEANUP).body(Value::Object(Map::new()))
            }
            ServiceMethod::Analytics => {
                Call::new(Method::GET, paths::ANALYTICS).query(query("query", next())?)
            }
            ServiceMethod::SessionTimeline => Call::new(Method::GET, paths::TIMELINE)
                .query(vec![("sessionId".into(), scalar("sessionId", next())?)])
                .pick("timeline"),
            ServiceMethod::SessionViewerSamples => Call::new(Method::GET, paths::VIEWERS)
                .query(vec![("sessionId".into(), scalar("sessionId", next())?)])
                .pick("samples"),
            ServiceMethod::RecentActivity
            | ServiceMethod::OverlayUrl
            | ServiceMethod::Reconcile
            | ServiceMethod::NotifyChanged
            | ServiceMethod::PollViewerCounts => {
                return Err(Error::invalid(
                    "method",
                    format!(
                        "{} is not served over HTTP; call it on an embedded service",
                        method.camel_name()
                    ),
                ))
            }
        };
        self.send(call).await
    }

    /// Sends `call` and reads its answer.
    async fn send(&self, call: Call) -> Result<Value> {
        let mut url = self.base.clone();
        let prefix = self.base.path().trim_end_matches('/');
        url.set_path(&format!("{prefix}{}", call.path));
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        let mut request = self
            .http
            .request(call.verb, url)
            .header(AUTHORIZATION, self.authorization.expose_secret())
            .header(ACCEPT, "application/json");
        if let Some(body) = &call.body {
            let bytes = serde_json::to_vec(body)
                .map_err(|e| Error::invalid("request", format!("is not JSON ({e})")))?;
            request = request.header(CONTENT_TYPE, "application/json").body(bytes);
        }
        let mut response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.unreachable(e))? {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(self.garbled(status, "is larger than 8 MiB"));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(match serde_json::from_slice::<WireError>(&bytes) {
                Ok(wire) => Error::from_wire(wire, retry_after),
                Err(_) => self.garbled(status, "is not the API's JSON error"),
            });
        }
        let mut answer: Value =
            serde_json::from_slice(&bytes).map_err(|_| self.garbled(status, "is not JSON"))?;
        match call.pick {
            None => Ok(answer),
            Some(member) => match answer.get_mut(member) {
                Some(value) => Ok(value.take()),
                None => Err(self.garbled(status, &format!("has no `{member}`"))),
            },
        }
    }

    /// The server could not be reached, or its answer was cut.
    fn unreachable(&self, e: reqwest::Error) -> Error {
        let what = if e.is_timeout() {
            "did not answer in time"
        } else if e.is_connect() {
            "could not be reached"
        } else {
            "failed to answer"
        };
        let e = e.without_url();
        Error::External {
            message: format!("the streaming server at {} {what}: {e}", self.origin()),
            source: std::sync::Arc::new(e),
        }
    }

    /// An answer that is not the API's.
    fn garbled(&self, status: reqwest::StatusCode, problem: &str) -> Error {
        let message = format!(
            "the answer of the streaming server at {} (HTTP {}) {problem}",
            self.origin(),
            status.as_u16()
        );
        Error::External {
            source: std::sync::Arc::new(std::io::Error::other(message.clone())),
            message,
        }
    }

    fn origin(&self) -> String {
        self.base.origin().ascii_serialization()
    }
}

/// A request object (`null`: `{}`).
fn object(name: &str, value: Value) -> Result<Value> {
    match value {
        Value::Null => Ok(Value::Object(Map::new())),
        value @ Value::Object(_) => Ok(value),
        _ => Err(Error::invalid(name, "must be an object")),
    }
}

/// A required argument.
fn required(name: &str, value: Value) -> Result<Value> {
    match value {
        Value::Null => Err(Error::invalid(name, "is required")),
        value => Ok(value),
    }
}

/// A required string or number argument, as JSON.
fn scalar_value(name: &str, value: Value) -> Result<Value> {
    match required(name, value)? {
        value @ (Value::String(_) | Value::Number(_)) => Ok(value),
        _ => Err(Error::invalid(name, "must be a string")),
    }
}

/// A required string or number argument, as text.
fn scalar(name: &str, value: Value) -> Result<String> {
    Ok(match scalar_value(name, value)? {
        Value::String(s) => s,
        other => other.to_string(),
    })
}

/// A request object as query parameters (absent members and `null`s are left out).
fn query(name: &str, value: Value) -> Result<Vec<(String, String)>> {
    let Value::Object(members) = object(name, value)? else {
        return Ok(Vec::new());
    };
    let mut pairs = Vec::new();
    for (key, value) in members {
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s,
            value @ (Value::Number(_) | Value::Bool(_)) => value.to_string(),
            _ => {
                return Err(Error::invalid(
                    format!("{name}.{key}"),
                    "must be a string, number or boolean",
                ))
            }
        };
        pairs.push((key, text));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(url: &str) -> RemoteOptions {
        RemoteOptions::new(
            url,
            SecretString::from("ltcg_0123456789abcdefghijklmnopqrstuv"),
        )
    }

    fn refusal(options: RemoteOptions) -> (String, String) {
        match RemoteService::new(options).unwrap_err() {
            Error::InvalidInput { field, reason } => (field, reason),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_travel_only_over_tls_off_this_machine() {
        assert!(RemoteService::new(options("http://127.0.0.1:8080")).is_ok());
        assert!(RemoteService::new(options("http://localhost:8080/prefix/")).is_ok());
        assert!(RemoteService::new(options("https://stream.example.com")).is_ok());
        let (field, reason) = refusal(options("http://stream.example.com"));
        assert_eq!(field, "baseUrl");
        assert!(reason.contains("https://"), "{reason}");
        let mut plain = options("http://stream.example.com");
        plain.allow_plain_http = true;
        assert!(RemoteService::new(plain).is_ok());
    }

    #[test]
    fn bad_urls_and_keys_are_refused_by_field() {
        for url in [
            "not a url",
            "ftp://127.0.0.1",
            "http://user:pw@127.0.0.1",
            "http://127.0.0.1/?a=1",
        ] {
            assert_eq!(refusal(options(url)).0, "baseUrl", "{url}");
        }
        let mut empty = options("http://127.0.0.1");
        empty.api_key = SecretString::from("");
        assert_eq!(refusal(empty).0, "apiKey");
        let mut spaced = options("http://127.0.0.1");
        spaced.api_key = SecretString::from("two words");
        let (field, reason) = refusal(spaced);
        assert_eq!(field, "apiKey");
        assert!(!reason.contains("two words"));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let opts = options("http://127.0.0.1:1");
        let remote = RemoteService::new(opts.clone()).unwrap();
        for text in [format!("{opts:?}"), format!("{remote:?}")] {
            assert!(!text.contains("ltcg_0123"), "{text}");
            assert!(text.contains("127.0.0.1"), "{text}");
        }
    }

    #[test]
    fn request_objects_become_query_parameters() {
        let pairs = query(
            "request",
            serde_json::json!({"limit": 5, "activeOnly": true, "cursor": null, "agentId": "a1"}),
        )
        .unwrap();
        assert_eq!(
            pairs,
            vec![
                ("activeOnly".to_owned(), "true".to_owned()),
                ("agentId".to_owned(), "a1".to_owned()),
                ("limit".to_owned(), "5".to_owned()),
            ]
        );
        match query("query", serde_json::json!({"nested": {"a": 1}})).unwrap_err() {
            Error::InvalidInput { field, .. } => assert_eq!(field, "query.nested"),
            other => panic!("{other:?}"),
        }
    }
}
