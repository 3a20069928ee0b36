"""The core's session-store conformance suite, for people writing their own store.

A store written in Python (one backed by Convex, Redis or your own database) is any object
with the async methods of :class:`ltcg_streaming.SessionStore`. This module checks such a
store against the same suite the built-in memory, SQLite and PostgreSQL stores pass: one
active session per entity, ``update_session`` as a compare-and-swap on ``version``, atomic
counters, pagination and cursors, event claims and pruning, credentials, and concurrent
calls that lose nothing.

It ships in every wheel and is imported only on request: ``import ltcg_streaming`` does not
load it. Use it from your store's tests::

    import asyncio
    from ltcg_streaming.testing import run_session_store_conformance

    async def main() -> None:
        failures = await run_session_store_conformance(MyStore)  # one fresh store per check
        assert failures == [], failures

    asyncio.run(main())

Each failure is a ``(check, description)`` pair naming the check (one of
:func:`session_store_conformance_checks`) and the first expectation the store broke. The
checks are not a stable API: new ones are added as the store contract is sharpened.
"""

from ._ltcg_streaming import run_session_store_conformance, session_store_conformance_checks

__all__ = ["run_session_store_conformance", "session_store_conformance_checks"]
