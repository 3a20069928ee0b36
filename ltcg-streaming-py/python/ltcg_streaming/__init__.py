"""Stream a web page to Twitch, YouTube, Kick or any RTMP server through LiveKit web egress.

The Python binding of the ``ltcg-streaming`` Rust library: every I/O call of
:class:`StreamingService` is awaitable (asyncio) and runs in Rust without holding the GIL;
pure helpers are plain functions. Results are plain ``dict``/``list`` values with the
product's camelCase JSON keys (see :mod:`ltcg_streaming.types`). Errors are
:class:`StreamingError` subclasses, one per stable error code.
"""

from ._ltcg_streaming import (
    Actor,
    BrowserEgress,
    LiveKitEgress,
    MemoryEgress,
    MemoryStore,
    OverlayTokens,
    PostgresStore,
    SqliteStore,
    StatusWatch,
    StreamingConfig,
    StreamingService,
    StreamKeyVault,
    WebhookVerifier,
    __version__,
    build_rtmp_url,
    default_overlay_config,
    estimate_cost,
    redact_url,
)
from .client import Client
from .exceptions import (
    ConfigError,
    ConflictError,
    CryptoError,
    EgressError,
    ExternalError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    StoreError,
    StreamingError,
    UnauthorizedError,
)
from .protocols import SessionStore

__all__ = [
    "Actor",
    "BrowserEgress",
    "Client",
    "ConfigError",
    "ConflictError",
    "CryptoError",
    "EgressError",
    "ExternalError",
    "ForbiddenError",
    "InvalidInputError",
    "LiveKitEgress",
    "MemoryEgress",
    "MemoryStore",
    "NotFoundError",
    "OverlayTokens",
    "PostgresStore",
    "RateLimitedError",
    "SessionStore",
    "SqliteStore",
    "StatusWatch",
    "StoreError",
    "StreamKeyVault",
    "StreamingConfig",
    "StreamingError",
    "StreamingService",
    "UnauthorizedError",
    "WebhookVerifier",
    "__version__",
    "build_rtmp_url",
    "default_overlay_config",
    "estimate_cost",
    "redact_url",
]
