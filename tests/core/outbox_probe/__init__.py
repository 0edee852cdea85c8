"""A handler for tests/core/test_outbox_kill.py, run inside a real ``kontor worker``.

Installed only by tests/core/outbox_settings.py. The handler counts each idempotency key
it sees in its own table (one row per key), and the first time it sees a key it tells
the test (``entered`` file) and waits, so that the test kills the worker after the
handler's effect but before the delivery is marked done.
"""
