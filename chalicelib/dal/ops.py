"""Ops table: one-time TOTP steps and rate-limit windows (not audited)."""

from __future__ import annotations

import time
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.dal.models import OpsModel


def claim_totp_step(user_id: str, step: int) -> bool:
    """Record `step` as the user's last accepted TOTP step.

    True when the step is newer than every step accepted before; False for a
    replay. One conditional write: two requests with the same code cannot both win.
    """
    item = OpsModel(f"TOTP#{user_id}", "LAST_STEP")
    try:
        item.update(
            actions=[OpsModel.value.set(step)],
            condition=OpsModel.value.does_not_exist() | (OpsModel.value < step),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def hit(bucket: str, key: str, window_seconds: int) -> tuple[int, int]:
    """Count one hit in the current fixed window: (hits so far, seconds left)."""
    now = int(time.time())
    window = now // window_seconds
    item = OpsModel(f"RATE#{bucket}#{key}", str(window))
    item.update(
        actions=[
            OpsModel.value.add(1),
            OpsModel.expires_at.set((window + 1) * window_seconds + 60),
        ]
    )
    return int(item.value), (window + 1) * window_seconds - now


def get_cached(key: str) -> Any | None:
    """A cached JSON value, if it has not expired."""
    try:
        item = OpsModel.get(f"CACHE#{key}", "VALUE")
    except OpsModel.DoesNotExist:
        return None
    if item.expires_at is None or item.expires_at < time.time():
        return None
    return item.data


def put_cached(key: str, value: Any, ttl_seconds: int) -> None:
    OpsModel(f"CACHE#{key}", "VALUE", data=value, expires_at=int(time.time()) + ttl_seconds).save()


def drop_cached(key: str) -> None:
    OpsModel(f"CACHE#{key}", "VALUE").delete()
