"""The shared job queue in tests: Redis when it answers (skipped with a reason when not; required
where KLIK_REQUIRE_REDIS=1, as in CI), or Huey's SQLite file."""

from __future__ import annotations

import os
import uuid

from tests.conftest import skip_or_fail

REDIS_URL = os.environ.get("KLIK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reason() -> str | None:
    """None when Redis answers at :data:`REDIS_URL`, else why not."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return None
    except Exception as exc:  # any failure to connect means: skip (or fail in CI)
        return f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}"


def require_redis() -> str:
    """The Redis URL, or skip (fail under KLIK_REQUIRE_REDIS=1) when it does not answer."""
    reason = redis_reason()
    if reason:
        skip_or_fail(reason, "KLIK_REQUIRE_REDIS")
    return REDIS_URL


def queue_name() -> str:
    """A queue name of its own for one test, so tests share no keys."""
    return f"klik-test-{uuid.uuid4().hex[:10]}"
