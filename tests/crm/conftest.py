"""Every test starts and ends with no learnt rate limit and no pause (the limiters are shared by
the clients of one process, keyed by base URL and credentials, and a fake's port can be reused)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.crm.ratelimit import reset_limiters


@pytest.fixture(autouse=True)
def _fresh_rate_limiters() -> Iterator[None]:
    reset_limiters()
    yield
    reset_limiters()
