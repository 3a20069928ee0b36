"""The exceptions of ltcg_streaming: :class:`StreamingError` and one subclass per error code.

Every instance has ``code`` (e.g. ``"INVALID_INPUT"``) and ``retryable``;
``InvalidInputError`` has ``field``, ``RateLimitedError`` has ``retry_after_ms``
(milliseconds) and ``ConfigError`` has ``var``. The library raises them, and so may your code:
a session store written in Python raises ``ConflictError``, ``NotFoundError``,
``InvalidInputError`` or ``StoreError`` to tell the core what went wrong (any other exception
it raises reaches the caller of the service unchanged)::

    raise InvalidInputError("is not a cursor of this store", field="cursor")
    raise ConflictError("version 3 is stale")

The set of classes is checked against the core's list of codes by the test suite.
"""

from typing import ClassVar, Optional

__all__ = [
    "ConfigError",
    "ConflictError",
    "CryptoError",
    "EgressError",
    "ExternalError",
    "ForbiddenError",
    "InvalidInputError",
    "NotFoundError",
    "RateLimitedError",
    "StoreError",
    "StreamingError",
    "UnauthorizedError",
]


class StreamingError(Exception):
    """Base class of every ltcg_streaming error; ``code`` is the stable error code."""

    code: ClassVar[str] = "STREAMING"
    #: Whether errors of this class are worth retrying unless an instance says otherwise.
    retryable_by_default: ClassVar[bool] = False

    def __init__(self, message: str = "", *, retryable: Optional[bool] = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable: bool = self.retryable_by_default if retryable is None else retryable


class InvalidInputError(StreamingError):
    """``INVALID_INPUT``: a value is missing or malformed; ``field`` names it."""

    code = "INVALID_INPUT"

    def __init__(self, message: str = "", *, field: str = "input", retryable: Optional[bool] = None) -> None:
        super().__init__(message, retryable=retryable)
        self.field = field


class UnauthorizedError(StreamingError):
    """``UNAUTHORIZED``: bad signature, expired token, no credentials."""

    code = "UNAUTHORIZED"


class ForbiddenError(StreamingError):
    """``FORBIDDEN``: the caller may not do this."""

    code = "FORBIDDEN"


class NotFoundError(StreamingError):
    """``NOT_FOUND``."""

    code = "NOT_FOUND"


class ConflictError(StreamingError):
    """``CONFLICT``: clashes with the current state."""

    code = "CONFLICT"


class RateLimitedError(StreamingError):
    """``RATE_LIMITED``: try again after ``retry_after_ms`` milliseconds."""

    code = "RATE_LIMITED"
    retryable_by_default = True

    def __init__(self, message: str = "", *, retry_after_ms: int = 1000, retryable: Optional[bool] = None) -> None:
        super().__init__(message, retryable=retryable)
        self.retry_after_ms = retry_after_ms

    @property
    def retry_after(self) -> float:
        """Seconds to wait before the next attempt (for ``asyncio.sleep``)."""
        return self.retry_after_ms / 1000


class CryptoError(StreamingError):
    """``CRYPTO``: wrong key, tampered or malformed ciphertext."""

    code = "CRYPTO"


class EgressError(StreamingError):
    """``EGRESS``: the egress backend refused or failed (see ``retryable``)."""

    code = "EGRESS"


class StoreError(StreamingError):
    """``STORE``: the session store failed (retryable)."""

    code = "STORE"
    retryable_by_default = True


class ConfigError(StreamingError):
    """``CONFIG``: a configuration variable (``var``) is missing or invalid."""

    code = "CONFIG"

    def __init__(self, message: str = "", *, var: str = "", retryable: Optional[bool] = None) -> None:
        super().__init__(message, retryable=retryable)
        self.var = var


class ExternalError(StreamingError):
    """``EXTERNAL``: code supplied by the host application failed."""

    code = "EXTERNAL"


#: The class of each code.
BY_CODE: dict[str, type[StreamingError]] = {
    cls.code: cls
    for cls in (
        InvalidInputError,
        UnauthorizedError,
        ForbiddenError,
        NotFoundError,
        ConflictError,
        RateLimitedError,
        CryptoError,
        EgressError,
        StoreError,
        ConfigError,
        ExternalError,
    )
}

# The classes are documented and pickled under the package's name.
for _cls in (StreamingError, *BY_CODE.values()):
    _cls.__module__ = "ltcg_streaming"
