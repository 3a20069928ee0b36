"""Exceptions: one class per core error code, with their attributes."""

from __future__ import annotations

import pickle

import pytest

import ltcg_streaming
from ltcg_streaming import exceptions

CODES = [
    "INVALID_INPUT",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "NOT_FOUND",
    "CONFLICT",
    "RATE_LIMITED",
    "CRYPTO",
    "EGRESS",
    "STORE",
    "CONFIG",
    "EXTERNAL",
]


def class_name(code: str) -> str:
    return "".join(word.capitalize() for word in code.split("_")) + "Error"


@pytest.mark.parametrize("code", CODES)
def test_one_subclass_per_code(code: str) -> None:
    cls = getattr(ltcg_streaming, class_name(code))
    assert cls is getattr(exceptions, class_name(code))
    assert issubclass(cls, ltcg_streaming.StreamingError)
    assert cls.code == code
    assert cls.__module__ == "ltcg_streaming" and cls.__name__ == class_name(code)


def test_exactly_one_class_per_core_code_is_exported() -> None:
    assert list(exceptions.BY_CODE) == list(ltcg_streaming._ltcg_streaming.ERROR_CODES)
    classes = {class_name(c) for c in ltcg_streaming._ltcg_streaming.ERROR_CODES}
    assert set(exceptions.__all__) == classes | {"StreamingError"}


def test_exceptions_made_in_python_carry_the_documented_attributes() -> None:
    bad = ltcg_streaming.InvalidInputError("bad", field="cursor")
    assert (bad.code, bad.field, bad.retryable, str(bad)) == ("INVALID_INPUT", "cursor", False, "bad")
    assert ltcg_streaming.ConflictError("x").retryable is False
    assert ltcg_streaming.StoreError("disk full").retryable is True
    limited = ltcg_streaming.RateLimitedError("slow down", retry_after_ms=1500)
    assert (limited.retry_after_ms, limited.retryable) == (1500, True)
    assert ltcg_streaming.ConfigError("missing", var="LIVEKIT_URL").var == "LIVEKIT_URL"


def test_raised_errors_carry_their_data() -> None:
    with pytest.raises(ltcg_streaming.StreamingError) as caught:
        ltcg_streaming.build_rtmp_url("custom", "k")
    err = caught.value
    assert isinstance(err, ltcg_streaming.InvalidInputError)
    assert (err.code, err.field, err.retryable) == ("INVALID_INPUT", "customRtmpUrl", False)
    assert str(err) == "invalid customRtmpUrl: is required for the custom platform"
    with pytest.raises(ltcg_streaming.ConfigError) as config:
        ltcg_streaming.StreamingConfig.from_env(
            {"STREAMING_JWT_SECRET": "s" * 32, "NEXT_PUBLIC_APP_URL": "https://app.test"}
        )
    assert config.value.var == "STREAM_KEY_ENCRYPTION_KEY"
    assert pickle.loads(pickle.dumps(config.value)).args == config.value.args


def test_python_code_can_raise_them() -> None:
    with pytest.raises(ltcg_streaming.ConflictError, match="taken"):
        raise ltcg_streaming.ConflictError("taken")
