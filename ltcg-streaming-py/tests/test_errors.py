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


def test_exactly_the_generated_classes_are_exported() -> None:
    generated = {
        name
        for name in dir(ltcg_streaming._ltcg_streaming)
        if name.endswith("Error") and name != "StreamingError"
    }
    assert generated == {class_name(c) for c in CODES}
    assert set(exceptions.__all__) == generated | {"StreamingError"}


def test_raised_errors_carry_their_data() -> None:
    with pytest.raises(ltcg_streaming.StreamingError) as caught:
        ltcg_streaming.build_rtmp_url("custom", "k")
    err = caught.value
    assert isinstance(err, ltcg_streaming.InvalidInputError)
    assert (err.code, err.field, err.retryable) == ("INVALID_INPUT", "customRtmpUrl", False)
    assert str(err) == "invalid customRtmpUrl: is required for the custom platform"
    with pytest.raises(ltcg_streaming.ConfigError) as config:
        ltcg_streaming.StreamingConfig.from_env({"STREAMING_JWT_SECRET": "s"})
    assert config.value.var == "STREAM_KEY_ENCRYPTION_KEY"
    assert pickle.loads(pickle.dumps(config.value)).args == config.value.args


def test_python_code_can_raise_them() -> None:
    with pytest.raises(ltcg_streaming.ConflictError, match="taken"):
        raise ltcg_streaming.ConflictError("taken")
