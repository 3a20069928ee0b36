//! The HTTP router served on 127.0.0.1 by a service on the real clock, on its own runtime,
//! for browsers and raw sockets to talk to (the overlay page tests and the latency
//! benchmark); plus a second little server with a picture on another origin.

use std::net::SocketAddr;
use std::sync::Arc;

use ltcg_streaming_core::http::{router, ApiAuth};
use ltcg_streaming_core::service::RateLimitConfig;
use ltcg_streaming_core::store::SessionStore;
use ltcg_streaming_core::{AesGcmVault, KeyVault, MemoryEgress, ServiceOptions, StreamingService};

use crate::harness::{config, KEY_HEX};

/// The name of the router's runtime threads (to tell their CPU time from the rest).
pub const LIVE_THREAD_NAME: &str = "ltcg-live";

/// The internal key of the router.
pub const LIVE_INTERNAL_KEY: &str = "live-router-internal-key-0123456789";

/// A running router and its service.
#[derive(Debug)]
pub struct LiveRouter {
    /// The runtime serving it (use it to call the service: `rt.block_on(..)`).
    pub rt: tokio::runtime::Runtime,
    /// Where it listens; the service's `app_url` is `http://<addr>`.
    pub addr: SocketAddr,
    /// A 64×64 magenta SVG served from another origin.
    pub picture_url: String,
    /// The service behind the router (memory egress, rate limits off).
    pub service: StreamingService,
}

impl LiveRouter {
    /// Serves the router over `store`.
    pub fn start(store: Arc<dyn SessionStore>) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(LIVE_THREAD_NAME)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let mut cfg = config();
        cfg.app_url = format!("http://{addr}");
        let vault: Arc<dyn KeyVault> = Arc::new(AesGcmVault::from_hex(KEY_HEX).unwrap());
        let service = StreamingService::with_options(
            cfg,
            store,
            Arc::new(MemoryEgress::new()),
            vault,
            ServiceOptions {
                rate_limits: RateLimitConfig::disabled(),
                destination_policy: Some(crate::dns::test_policy()),
                ..ServiceOptions::default()
            },
        )
        .unwrap();
        let app = router(
            service.clone(),
            ApiAuth::new().with_internal_key(LIVE_INTERNAL_KEY).unwrap(),
        );
        rt.spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        let pictures = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let picture_url = format!("http://{}/avatar.svg", pictures.local_addr().unwrap());
        let avatar = axum::Router::new().route(
            "/avatar.svg",
            axum::routing::get(|| async {
                (
                    [("content-type", "image/svg+xml")],
                    "<svg xmlns='http://www.w3.org/2000/svg' width='64' height='64'><rect width='64' height='64' fill='#ff00ff'/></svg>",
                )
            }),
        );
        rt.spawn(async move { axum::serve(pictures, avatar).await.unwrap() });
        Self {
            rt,
            addr,
            picture_url,
            service,
        }
    }
}

/// A service on the browser egress and a memory store (rate limits off, no LiveKit,
/// `encoding`), and the core's router over it with `auth`, served on 127.0.0.1 from the
/// current runtime; the service's `app_url` is that address, so the egress renders the
/// overlay from it.
#[derive(Debug)]
pub struct BrowserRig {
    /// The service.
    pub service: StreamingService,
    /// Its store.
    pub store: Arc<dyn SessionStore>,
    /// Its egress.
    pub egress: ltcg_streaming_core::egress::BrowserEgress,
    /// Where the router listens.
    pub addr: SocketAddr,
}

impl BrowserRig {
    /// Starts the rig over `egress` (call from inside a Tokio runtime).
    pub async fn start(
        egress: ltcg_streaming_core::egress::BrowserEgress,
        encoding: ltcg_streaming_core::egress::EncodingSettings,
        auth: ApiAuth,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = config();
        config.app_url = format!("http://{addr}");
        config.livekit = None;
        let store: Arc<dyn SessionStore> = Arc::new(ltcg_streaming_core::MemoryStore::new());
        let vault: Arc<dyn KeyVault> = Arc::new(config.vault().unwrap());
        let service = StreamingService::with_options(
            config,
            store.clone(),
            Arc::new(egress.clone()) as Arc<dyn ltcg_streaming_core::egress::EgressBackend>,
            vault,
            ServiceOptions {
                rate_limits: RateLimitConfig::disabled(),
                encoding,
                ..ServiceOptions::default()
            },
        )
        .unwrap();
        service.follow_egress_events(egress.events());
        let app = router(service.clone(), auth).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            service,
            store,
            egress,
            addr,
        }
    }
}
