//! [`HttpApi`]: the library's HTTP API answered in process, for a host's own server (a
//! Next.js route handler): the request goes in as it arrived, the answer comes out to be
//! sent as it is. Every route, its authentication and error contract are the core's.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use ltcg_streaming_core::http::{
    AgentKeyLookup, AuthSettings, BodyStream, HostBody, HostRequest, InProcessApi, RouterOptions,
};
use ltcg_streaming_core::Error;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;
use tokio::sync::Mutex;

use crate::agent_keys::AgentKeys;
use crate::error::OrThrow;
use crate::service::{json_arg, StreamingService};
use crate::task::spawn;

/// A request as the host received it.
#[napi(object)]
pub struct HttpRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The URL (absolute, or the path and query).
    pub url: String,
    /// The headers as `[name, value]` pairs.
    pub headers: Vec<Vec<String>>,
    /// The raw body (the webhook's signature covers it byte for byte).
    pub body: Option<Buffer>,
    /// The client's IP address, when known (failed authentications are counted per address).
    pub client_address: Option<String>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// The answer to send.
#[napi(object, object_from_js = false)]
pub struct HttpResponse {
    /// The status code.
    pub status: u32,
    /// The headers as `[name, value]` pairs.
    pub headers: Vec<Vec<String>>,
    /// The whole body, unless `stream` is set.
    pub body: Option<Buffer>,
    /// An event stream's body, read with `next()`.
    pub stream: Option<HttpBodyStream>,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// An event stream's body: `next()` resolves with each chunk, then `null`.
#[napi]
#[derive(Debug)]
pub struct HttpBodyStream {
    inner: Arc<Mutex<BodyStream>>,
}

#[napi]
impl HttpBodyStream {
    /// The next chunk, or `null` at the end.
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<Buffer>>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            match inner.lock().await.next().await {
                Some(chunk) => Ok(Some(Buffer::from(chunk?.to_vec()))),
                None => Ok(None),
            }
        })
    }
}

/// Wraps the host's agent-key lookup so that it always resolves, to an agent id or `null`.
const LOOKUP_ADAPTER: &str = "(lookup) => async (key) => (await lookup(key)) ?? null";

/// The adapted lookup: called with a key, resolves to its agent or `null`.
type LookupFn = ThreadsafeFunction<String, Promise<Option<String>>, String, Status, false, true>;

/// The host's agent-key lookup, as the core asks it (a weak threadsafe function: it never
/// keeps Node alive).
struct JsAgentKeyLookup(LookupFn);

impl std::fmt::Debug for JsAgentKeyLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsAgentKeyLookup")
    }
}

#[async_trait]
impl AgentKeyLookup for JsAgentKeyLookup {
    async fn agent_for(&self, key: &str) -> ltcg_streaming_core::Result<Option<String>> {
        match self.0.call_async_catch(key.to_owned()).await {
            Ok(promise) => promise.await,
            Err(err) => Err(err),
        }
        .map_err(|err| Error::External {
            message: format!("the agent-key lookup failed: {}", err.reason),
            source: Arc::new(err),
        })
    }
}

/// The host's agent keys: an [`AgentKeys`], or a function of a key.
type LookupArg<'env> = Either<ClassInstance<'env, AgentKeys>, Unknown<'env>>;

/// The core's view of `lookup`: an [`AgentKeys`], or a JavaScript function of a key (`None`
/// for `null` or `undefined`; anything else is `INVALID_INPUT` naming `agentKeyLookup`).
fn js_lookup(env: &Env, lookup: Option<LookupArg>) -> Result<Option<Arc<dyn AgentKeyLookup>>> {
    let lookup = match lookup {
        None => return Ok(None),
        Some(Either::A(keys)) => return Ok(Some(keys.inner.clone())),
        Some(Either::B(lookup)) => lookup,
    };
    match lookup.get_type()? {
        ValueType::Undefined | ValueType::Null => return Ok(None),
        ValueType::Function => {}
        _ => {
            return Err(Error::invalid(
                "agentKeyLookup",
                "must be an AgentKeys, or a function of a key that returns its agent id or null",
            ))
            .or_throw(env)
        }
    }
    let adapt: Function<Unknown, Function<String, Promise<Option<String>>>> =
        env.run_script(LOOKUP_ADAPTER)?;
    let tsfn = adapt
        .call(lookup)?
        .build_threadsafe_function()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    Ok(Some(Arc::new(JsAgentKeyLookup(tsfn))))
}

/// The library's HTTP API over a service (see the module docs).
#[napi]
#[derive(Debug)]
pub struct HttpApi {
    inner: InProcessApi,
}

#[napi]
impl HttpApi {
    /// The API of `service`, authenticated as `auth` says: `internalKey`, `agentKeys`
    /// (`[{ key, agentId }]`), `userJwt` (`{ secret | jwksUrl, issuer, audience }`),
    /// `development`; and by `agentKeyLookup`, the host's own agent keys: an `AgentKeys` (keys
    /// kept in a store), or a function called with every presented `ltcg_…` value that
    /// matched no configured key, which returns (or resolves to) the key's agent id, or
    /// `null` to refuse it. Throws `INVALID_INPUT` naming a bad part.
    #[napi(
        constructor,
        ts_args_type = "service: StreamingService, auth: HttpAuth, agentKeyLookup?: AgentKeys | ((key: string) => string | null | undefined | Promise<string | null | undefined>)"
    )]
    pub fn new(
        env: &Env,
        service: &StreamingService,
        auth: Unknown,
        agent_key_lookup: Option<LookupArg>,
    ) -> Result<Self> {
        let auth = json_arg(env, "auth", auth).or_throw(env)?;
        let auth: AuthSettings = ltcg_streaming_core::json::request("auth", auth).or_throw(env)?;
        let lookup = js_lookup(env, agent_key_lookup)?;
        let options = RouterOptions {
            // The host process owns the metrics recorder, if any.
            metrics: false,
            ..RouterOptions::default()
        };
        let inner = InProcessApi::new(
            service.core().clone(),
            auth.into_auth(lookup).or_throw(env)?,
            options,
        );
        Ok(Self { inner })
    }

    /// Answers `request`.
    #[napi(ts_return_type = "Promise<HttpResponse>")]
    pub fn handle<'env>(
        &self,
        env: &'env Env,
        request: HttpRequest,
    ) -> Result<PromiseRaw<'env, HttpResponse>> {
        let api = self.inner.clone();
        let mut headers = Vec::with_capacity(request.headers.len());
        for pair in request.headers {
            match <[String; 2]>::try_from(pair) {
                Ok([name, value]) => headers.push((name, value)),
                Err(_) => {
                    return Err(Error::invalid("headers", "must be [name, value] pairs"))
                        .or_throw(env)
                }
            }
        }
        let client = match request.client_address.as_deref() {
            None => None,
            Some(address) => Some(
                address
                    .parse::<IpAddr>()
                    .map_err(|_| Error::invalid("clientAddress", "is not an IP address"))
                    .or_throw(env)?,
            ),
        };
        let host = HostRequest {
            method: request.method,
            url: request.url,
            headers,
            body: request.body.map(|b| b.to_vec()).unwrap_or_default(),
            client,
        };
        spawn(env, async move {
            let answer = api.handle(host).await?;
            let headers = answer
                .headers
                .into_iter()
                .map(|(k, v)| vec![k, v])
                .collect();
            Ok(match answer.body {
                HostBody::Full(bytes) => HttpResponse {
                    status: u32::from(answer.status),
                    headers,
                    body: Some(Buffer::from(bytes)),
                    stream: None,
                },
                HostBody::Stream(stream) => HttpResponse {
                    status: u32::from(answer.status),
                    headers,
                    body: None,
                    stream: Some(HttpBodyStream {
                        inner: Arc::new(Mutex::new(stream)),
                    }),
                },
            })
        })
    }
}
