"""Test helpers: the core's session-store conformance suite, for stores written in Python.

Present only in builds made with the cargo feature ``testing`` (``scripts/test-python``
builds one); importing this module from a release wheel raises ``ImportError``.
"""

from ._ltcg_streaming import run_session_store_conformance, session_store_conformance_checks

__all__ = ["run_session_store_conformance", "session_store_conformance_checks"]
