//! Traces to an OpenTelemetry collector over OTLP/HTTP (feature `otlp`, on by default),
//! exported when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
//! set. The exporter reads the standard variables (`OTEL_EXPORTER_OTLP_HEADERS`,
//! `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_BSP_SCHEDULE_DELAY`, …); the service is named by
//! `OTEL_SERVICE_NAME`, default `ltcg-streaming`. The spans are the library's
//! (`start_stream`, `stop_stream`, `egress_event`, `reconcile`, `reconcile_session`, each
//! with its `session_id`), under the same `RUST_LOG` filter as the log.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::SpanExporter;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::Subscriber;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::server::{env, BoxError};

/// The OTLP trace pipeline; exports what is left and stops when dropped.
#[derive(Debug)]
pub struct Otlp {
    provider: SdkTracerProvider,
}

impl Otlp {
    /// The pipeline the environment asks for; `None` when no endpoint is set. Build it
    /// outside an async runtime (its HTTP client runs on threads of its own).
    pub fn from_env() -> Result<Option<Self>, BoxError> {
        if env("OTEL_EXPORTER_OTLP_ENDPOINT").is_none()
            && env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none()
        {
            return Ok(None);
        }
        // The exporter's HTTP client (reqwest over rustls) needs a process-wide TLS provider
        // for `https://` collectors; ring, as everywhere else here. Already set is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let exporter = SpanExporter::builder().with_http().build()?;
        let resource = match env("OTEL_SERVICE_NAME") {
            Some(_) => Resource::builder().build(),
            None => Resource::builder()
                .with_service_name("ltcg-streaming")
                .build(),
        };
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        Ok(Some(Self { provider }))
    }

    /// The `tracing` layer that hands spans to the pipeline.
    pub fn layer<S>(&self) -> impl Layer<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("ltcg-streaming"))
    }
}

impl Drop for Otlp {
    fn drop(&mut self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("OTLP export did not finish: {e}");
        }
    }
}
