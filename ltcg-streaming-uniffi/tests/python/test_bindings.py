"""The uniffi-generated Python bindings against the core's JSON test vectors (made with the
real peer libraries: Node crypto, jose, jsonwebtoken, livekit-server-sdk).

Run by tests/bindings.rs with PYTHONPATH pointing at the generated module and
LTCG_FIXTURES at ltcg-streaming-core/tests/fixtures. Plain asserts, no third-party packages.
"""

import json
import os
import sys

import ltcg_streaming_uniffi as lt

FIXTURES = os.environ["LTCG_FIXTURES"]


def fixture(name):
    with open(os.path.join(FIXTURES, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def raises(kind, fn, *args):
    try:
        fn(*args)
    except kind as error:
        return error
    raise AssertionError(f"expected {kind.__name__} from {fn.__name__}")


def test_stream_key_vectors():
    fx = fixture("stream_key_aes_gcm")
    vault = lt.StreamKeyVault(fx["keyHex"], [])
    valid = fx["valid"] + fx["valid12ByteIv"]
    assert len(valid) == 10
    for case in valid:
        assert vault.decrypt(case["ciphertext"]) == case["plaintext"]
    assert len(fx["invalid"]) == 8
    for case in fx["invalid"]:
        why = case["why"]
        kind = (
            lt.StreamingError.Crypto
            if "flipped" in why or why == "wrong key"
            else lt.StreamingError.InvalidInput
        )
        error = raises(kind, vault.decrypt, case["ciphertext"])
        assert fx["keyHex"] not in str(error)
    # Round trip and rotation.
    sealed = vault.encrypt("live_uniffi_key")
    assert vault.decrypt(sealed) == "live_uniffi_key"
    rotated = lt.StreamKeyVault("11" * 32, [fx["keyHex"]])
    moved = rotated.reencrypt(sealed)
    assert moved != sealed and rotated.decrypt(moved) == "live_uniffi_key"
    assert rotated.reencrypt(moved) == moved
    bad = raises(lt.StreamingError.InvalidInput, lt.StreamKeyVault, "zz", [])
    assert "keyHex" in str(bad)


def test_overlay_jwt_vectors():
    fx = fixture("overlay_jwt")
    tokens = lt.OverlayTokens(fx["secret"], None)
    at = fx["verifyAt"]
    assert len(fx["valid"]) == 3
    for case in fx["valid"]:
        expected = case["claims"]
        claims = tokens.verify(case["token"], expected["sessionId"], at)
        assert claims.session_id == expected["sessionId"]
        assert claims.stream_type == expected["streamType"]
        assert claims.entity_id == expected["entityId"]
        assert claims.token_type == "overlay_access"
        raises(lt.StreamingError.Unauthorized, tokens.verify, case["token"], "someone_else", at)
        if case["by"].startswith("jose"):
            ours = tokens.issue(
                expected["sessionId"], expected["streamType"], expected["entityId"], 1_767_225_600
            )
            assert ours == case["token"], "byte for byte"
    assert len(fx["invalid"]) == 8
    for case in fx["invalid"]:
        raises(lt.StreamingError.Unauthorized, tokens.verify, case["token"], None, at)


def test_livekit_webhook_vectors():
    fx = fixture("livekit_webhooks")
    verifier = lt.WebhookVerifier(fx["apiKey"], fx["apiSecret"], None)
    at = fx["verifyAt"]
    assert len(fx["valid"]) == 6
    for case in fx["valid"]:
        event = verifier.verify(case["body"].encode(), case["authorization"], at)
        assert event.event == case["event"]
        assert event.egress_id == case.get("egressId")
        assert event.status == case.get("status")
        assert event.id.startswith("EV_")
    assert len(fx["invalid"]) == 6
    for case in fx["invalid"]:
        raises(
            lt.StreamingError.Unauthorized,
            verifier.verify,
            case["body"].encode(),
            case["authorization"],
            at,
        )


def test_functions():
    url = lt.build_rtmp_url("twitch", "live_123456789_abcdefghijklmnop", None)
    assert url == "rtmps://live.twitch.tv/app/live_123456789_abcdefghijklmnop"
    custom = lt.build_rtmp_url("custom", "k1", "rtmp://127.0.0.1/live")
    assert custom == "rtmp://127.0.0.1/live/k1"
    error = raises(lt.StreamingError.InvalidInput, lt.build_rtmp_url, "twitch", "bad\r\nkey", None)
    assert "streamKey" in str(error) and "bad" not in str(error)
    raises(lt.StreamingError.InvalidInput, lt.build_rtmp_url, "myspace", "k", None)
    agent = json.loads(lt.default_overlay_config("agent"))
    user = json.loads(lt.default_overlay_config("user"))
    assert agent["showDecisions"] is True and user["showDecisions"] is False
    cost = lt.estimate_cost(1.0, 1, 3.0)
    assert abs(cost.total_usd - 1.035) < 1e-9
    assert abs(cost.egress_minutes - 60.0) < 1e-9
    raises(lt.StreamingError.InvalidInput, lt.estimate_cost, -1.0, 1, 3.0)


if __name__ == "__main__":
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_")]
    for test in tests:
        test()
        print(f"ok {test.__name__}")
    print(f"{len(tests)} passed")
    sys.exit(0)
