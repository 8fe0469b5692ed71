"""A circuit breaker per CRM account (campaign and provider), kept in the ops table so
every invocation sees it: after THRESHOLD outages in a row the account's records wait
(no attempt spent) for COOLDOWN seconds, doubling up to LONGEST; then one record is tried
(half-open), and a success closes the breaker for all."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from chalicelib.dal import ops
from chalicelib.observability import logger

THRESHOLD = 5
COOLDOWN = 120.0
LONGEST = 3600.0
_troubled: set[str] = set()  # accounts this process saw failing: a success resets them
_troubled_lock = threading.Lock()


def _key(campaign_id: str, provider: str) -> str:
    return f"{campaign_id}#{provider}"


def allows(campaign_id: str, provider: str) -> int | None:
    """How many records of the account may be attempted now: None for all, 0 for none
    (open), 1 while it is being tried again (half-open)."""
    key = _key(campaign_id, provider)
    state = ops.get_breaker(key)
    if state.failures == 0:
        return None
    with _troubled_lock:
        _troubled.add(key)
    if state.failures < THRESHOLD:
        return None
    return 0 if state.open_until > time.time() else 1


def open_until(campaign_id: str, provider: str) -> str | None:
    """When an open breaker lets the account be tried again (ISO), or None."""
    state = ops.get_breaker(_key(campaign_id, provider))
    if state.failures < THRESHOLD or state.open_until <= time.time():
        return None
    return (
        datetime.fromtimestamp(state.open_until, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def note(campaign_id: str, provider: str, *, outage: bool, synced: bool) -> None:
    """An attempt's news of the account: an outage counts toward opening the breaker, a
    sync closes it."""
    key = _key(campaign_id, provider)
    if outage:
        with _troubled_lock:
            _troubled.add(key)
        state = ops.breaker_failure(
            key,
            threshold=THRESHOLD,
            cooldown=COOLDOWN,
            longest=LONGEST,
            campaign_id=campaign_id,
        )
        if state.open_until:
            logger.warning(
                "crm breaker open",
                extra={"provider": provider, "failures": state.failures},
            )
    elif synced:
        with _troubled_lock:
            known = key in _troubled
            _troubled.discard(key)
        if known:
            ops.breaker_success(key)
