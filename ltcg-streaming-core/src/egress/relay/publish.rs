//! One RTMP(S) publishing connection: connect, handshake, `connect` + `publish`, then media.
//!
//! The URL (with its stream key) stays in this process: it is parsed here and the key is
//! sent inside the RTMP `publish` command, never handed to another program.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{
    ClientSession, ClientSessionConfig, ClientSessionEvent, ClientSessionResult,
    PublishRequestType, StreamMetadata,
};
use rml_rtmp::time::RtmpTimestamp;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;

use super::super::local_failure::{REJECTED, UNREACHABLE};
use super::flv::{Tag, TagKind};
use crate::platform::ingest_endpoint;
use crate::redact::split_rtmp_scheme;

/// Why a connection could not be made or kept. The text is a fixed category (the caller
/// sees it); `detail` is for the operator's log and never holds the URL.
#[derive(Debug)]
pub(crate) struct Failure {
    /// One of the categories of [`super::super::local_failure`].
    pub(crate) category: &'static str,
    /// What happened, for the log.
    pub(crate) detail: String,
}

impl Failure {
    fn unreachable(detail: impl Into<String>) -> Self {
        Self {
            category: UNREACHABLE,
            detail: detail.into(),
        }
    }

    fn rejected(detail: impl Into<String>) -> Self {
        Self {
            category: REJECTED,
            detail: detail.into(),
        }
    }
}

/// The parts of an RTMP URL a publisher needs.
struct Parts {
    host: String,
    port: u16,
    tls: bool,
    app: String,
    stream_key: String,
    tc_url: String,
}

/// `rtmp[s]://host[:port]/app[/more]/key[?query]`: the application is everything up to the
/// last `/`, the stream key (with its query) the rest, as ffmpeg and OBS read such URLs.
fn parts(url: &str) -> Option<Parts> {
    let endpoint = ingest_endpoint(url)?;
    let (scheme, rest) = split_rtmp_scheme(url.trim())?;
    let path = &rest[rest.find('/')? + 1..];
    let path = path.split('#').next().unwrap_or_default();
    let (before_query, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let (app, key) = before_query.rsplit_once('/')?;
    if app.is_empty() || key.is_empty() {
        return None;
    }
    let authority = &rest[..rest.find('/')?];
    Some(Parts {
        host: endpoint.host,
        port: endpoint.port,
        tls: endpoint.tls,
        app: app.to_owned(),
        stream_key: match query {
            Some(q) => format!("{key}?{q}"),
            None => key.to_owned(),
        },
        tc_url: format!("{scheme}://{authority}/{app}"),
    })
}

/// A byte stream to the server: TCP or TLS over TCP.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A publishing RTMP connection.
pub(crate) struct Publisher {
    reader: ReadHalf<Box<dyn Io>>,
    writer: WriteHalf<Box<dyn Io>>,
    session: ClientSession,
    /// Media bytes written since the connection was made.
    pub(crate) bytes_sent: u64,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("bytes_sent", &self.bytes_sent)
            .finish_non_exhaustive()
    }
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| b.with_root_certificates(roots).with_no_client_auth());
            Arc::new(config.unwrap_or_else(|_| {
                // The ring provider always supports the default versions.
                unreachable!("rustls default protocol versions")
            }))
        })
        .clone()
}

impl Publisher {
    /// Connects to `url` (at `pinned` when given: the address the destination policy
    /// checked) and asks to publish; everything within `timeout`.
    pub(crate) async fn connect(
        url: &str,
        pinned: Option<SocketAddr>,
        timeout: Duration,
    ) -> Result<Self, Failure> {
        match tokio::time::timeout(timeout, Self::connect_inner(url, pinned)).await {
            Ok(result) => result,
            Err(_) => Err(Failure::unreachable("no answer in time")),
        }
    }

    async fn connect_inner(url: &str, pinned: Option<SocketAddr>) -> Result<Self, Failure> {
        let parts = parts(url).ok_or_else(|| Failure::rejected("not an RTMP publishing URL"))?;
        let tcp = match pinned {
            Some(addr) => TcpStream::connect(addr).await,
            None => TcpStream::connect((parts.host.as_str(), parts.port)).await,
        }
        .map_err(|e| Failure::unreachable(format!("connect: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Io> = if parts.tls {
            let name = rustls::pki_types::ServerName::try_from(parts.host.clone())
                .map_err(|_| Failure::rejected("bad TLS server name"))?;
            let tls = tokio_rustls::TlsConnector::from(tls_config())
                .connect(name, tcp)
                .await
                .map_err(|e| Failure::rejected(format!("TLS: {e}")))?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let (mut reader, mut writer) = tokio::io::split(stream);
        let remaining = handshake(&mut reader, &mut writer).await?;
        let mut config = ClientSessionConfig::new();
        config.tc_url = Some(parts.tc_url.clone());
        let (session, initial) =
            ClientSession::new(config).map_err(|e| Failure::rejected(format!("session: {e}")))?;
        let mut publisher = Self {
            reader,
            writer,
            session,
            bytes_sent: 0,
        };
        publisher.send_results(initial).await?;
        let connect = publisher
            .session
            .request_connection(parts.app.clone())
            .map_err(|e| Failure::rejected(format!("connect request: {e}")))?;
        publisher.send_results(vec![connect]).await?;
        if !remaining.is_empty() {
            let events = publisher.input(&remaining).await?;
            if publisher.connect_step(events, &parts).await? {
                return Ok(publisher);
            }
        }
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = publisher
                .reader
                .read(&mut buf)
                .await
                .map_err(|e| Failure::rejected(format!("read: {e}")))?;
            if n == 0 {
                return Err(Failure::rejected("the server closed the connection"));
            }
            let events = publisher.input(&buf[..n]).await?;
            if publisher.connect_step(events, &parts).await? {
                return Ok(publisher);
            }
        }
    }

    /// Advances `connect` → `publish` on the server's events; `true` once publishing.
    async fn connect_step(
        &mut self,
        events: Vec<ClientSessionEvent>,
        parts: &Parts,
    ) -> Result<bool, Failure> {
        for event in events {
            match event {
                ClientSessionEvent::ConnectionRequestAccepted => {
                    let publish = self
                        .session
                        .request_publishing(parts.stream_key.clone(), PublishRequestType::Live)
                        .map_err(|e| Failure::rejected(format!("publish request: {e}")))?;
                    self.send_results(vec![publish]).await?;
                }
                ClientSessionEvent::ConnectionRequestRejected { description } => {
                    return Err(Failure::rejected(format!(
                        "connect rejected: {}",
                        crate::redact::redact_urls_in_text(&description)
                    )));
                }
                ClientSessionEvent::PublishRequestAccepted => return Ok(true),
                ClientSessionEvent::UnhandleableOnStatusCode { code }
                    if code.contains("Failed")
                        || code.contains("Rejected")
                        || code.contains("BadName") =>
                {
                    return Err(Failure::rejected(format!("publish refused: {code}")));
                }
                _ => {}
            }
        }
        Ok(false)
    }

    /// Feeds bytes from the server to the session; answers what it asks; returns events.
    async fn input(&mut self, bytes: &[u8]) -> Result<Vec<ClientSessionEvent>, Failure> {
        let results = self
            .session
            .handle_input(bytes)
            .map_err(|e| Failure::rejected(format!("bad data from the server: {e}")))?;
        self.send_results(results).await
    }

    /// Writes the outbound packets among `results`; returns the raised events.
    async fn send_results(
        &mut self,
        results: Vec<ClientSessionResult>,
    ) -> Result<Vec<ClientSessionEvent>, Failure> {
        let mut events = Vec::new();
        for result in results {
            match result {
                ClientSessionResult::OutboundResponse(packet) => {
                    self.writer
                        .write_all(&packet.bytes)
                        .await
                        .map_err(|e| Failure::rejected(format!("write: {e}")))?;
                }
                ClientSessionResult::RaisedEvent(event) => events.push(event),
                ClientSessionResult::UnhandleableMessageReceived(_) => {}
            }
        }
        Ok(events)
    }

    /// Sends the stream's metadata.
    pub(crate) async fn send_metadata(&mut self, metadata: &StreamMetadata) -> Result<(), Failure> {
        let packet = self
            .session
            .publish_metadata(metadata)
            .map_err(|e| Failure::rejected(format!("metadata: {e}")))?;
        self.send_results(vec![packet]).await.map(drop)
    }

    /// Sends one audio or video tag at `timestamp` (ms); returns the bytes written.
    pub(crate) async fn send(&mut self, tag: &Tag, timestamp: u32) -> Result<usize, Failure> {
        let ts = RtmpTimestamp::new(timestamp);
        let data: Bytes = tag.data.clone();
        let packet = match tag.kind {
            TagKind::Video => self.session.publish_video_data(data, ts, false),
            TagKind::Audio => self.session.publish_audio_data(data, ts, false),
            TagKind::Script => return Ok(0),
        }
        .map_err(|e| Failure::rejected(format!("media: {e}")))?;
        let ClientSessionResult::OutboundResponse(packet) = packet else {
            return Ok(0);
        };
        self.writer
            .write_all(&packet.bytes)
            .await
            .map_err(|e| Failure::rejected(format!("write: {e}")))?;
        self.bytes_sent += packet.bytes.len() as u64;
        Ok(packet.bytes.len())
    }

    /// Reads what the server sends while publishing (acknowledgements, pings). Cancel
    /// safe: nothing is lost when the future is dropped.
    pub(crate) async fn read_some(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read(buf).await
    }

    /// Handles the outcome of [`Self::read_some`]: answers the server, or `Err` when it
    /// closed the connection.
    pub(crate) async fn answer(
        &mut self,
        read: std::io::Result<usize>,
        buf: &[u8],
    ) -> Result<(), Failure> {
        let n = read.map_err(|e| Failure::rejected(format!("read: {e}")))?;
        if n == 0 {
            return Err(Failure::rejected("the server closed the connection"));
        }
        self.input(&buf[..n]).await.map(drop)
    }

    /// Closes the connection politely.
    pub(crate) async fn close(mut self) {
        if let Ok(results) = self.session.stop_publishing() {
            let _ = self.send_results(results).await;
        }
        let _ = self.writer.shutdown().await;
    }
}

/// The RTMP handshake; returns bytes the server sent after it.
async fn handshake(
    reader: &mut ReadHalf<Box<dyn Io>>,
    writer: &mut WriteHalf<Box<dyn Io>>,
) -> Result<Vec<u8>, Failure> {
    let mut handshake = Handshake::new(PeerType::Client);
    let c0c1 = handshake
        .generate_outbound_p0_and_p1()
        .map_err(|e| Failure::rejected(format!("handshake: {e:?}")))?;
    writer
        .write_all(&c0c1)
        .await
        .map_err(|e| Failure::rejected(format!("handshake write: {e}")))?;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = reader
            .read(&mut buf)
            .await
            .map_err(|e| Failure::rejected(format!("handshake read: {e}")))?;
        if n == 0 {
            return Err(Failure::rejected("the server closed the connection"));
        }
        match handshake
            .process_bytes(&buf[..n])
            .map_err(|e| Failure::rejected(format!("handshake: {e:?}")))?
        {
            HandshakeProcessResult::InProgress { response_bytes } => {
                writer
                    .write_all(&response_bytes)
                    .await
                    .map_err(|e| Failure::rejected(format!("handshake write: {e}")))?;
            }
            HandshakeProcessResult::Completed {
                response_bytes,
                remaining_bytes,
            } => {
                writer
                    .write_all(&response_bytes)
                    .await
                    .map_err(|e| Failure::rejected(format!("handshake write: {e}")))?;
                return Ok(remaining_bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_application_and_key_as_encoders_read_them() {
        let p = parts("rtmp://live.twitch.tv/app/live_1_abc?bandwidthtest=true").unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.tls),
            ("live.twitch.tv", 1935, false)
        );
        assert_eq!(p.app, "app");
        assert_eq!(p.stream_key, "live_1_abc?bandwidthtest=true");
        assert_eq!(p.tc_url, "rtmp://live.twitch.tv/app");
        let p = parts("rtmps://ingest.example.com:8443/live/sub/key").unwrap();
        assert_eq!((p.port, p.tls), (8443, true));
        assert_eq!((p.app.as_str(), p.stream_key.as_str()), ("live/sub", "key"));
        assert_eq!(p.tc_url, "rtmps://ingest.example.com:8443/live/sub");
        for bad in [
            "rtmp://host/",
            "rtmp://host/app/",
            "rtmp://host",
            "http://h/a/k",
        ] {
            assert!(parts(bad).is_none(), "{bad}");
        }
    }
}
