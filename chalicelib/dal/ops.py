"""Ops table: one-time TOTP steps, rate-limit windows, caches and idempotency records
(not audited)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.dal.models import KeyedRequestModel, OpsModel


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


def reserve_mfa_attempt(user_id: str, *, most: int, window: int, daily: int) -> int | None:
    """Count one evaluation of a second-factor code for the account, before it is made.

    None when the attempt may go ahead; otherwise the seconds until one may. At most
    `most` attempts in a row may fail, each within `window` seconds of the last, and at
    most `daily` in a UTC day: every attempt is counted up front by a conditional write,
    so concurrent requests cannot evaluate more codes than that (a right code gives its
    attempt back, `mfa_attempt_succeeded`)."""
    now = int(time.time())
    streak = OpsModel(f"MFA#{user_id}", "STREAK")
    try:  # a streak older than the window starts again
        streak.update(
            actions=[OpsModel.value.set(0)],
            condition=OpsModel.expires_at < now,
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    try:
        streak.update(
            actions=[OpsModel.value.add(1), OpsModel.expires_at.set(now + window)],
            condition=OpsModel.value.does_not_exist() | (OpsModel.value < most),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        current = OpsModel.get(f"MFA#{user_id}", "STREAK", consistent_read=True)
        return max(1, int(current.expires_at or now + window) - now)
    day_end = (now // 86400 + 1) * 86400
    today = OpsModel(f"MFA#{user_id}", f"DAY#{now // 86400}")
    try:
        today.update(
            actions=[OpsModel.value.add(1), OpsModel.expires_at.set(day_end + 86400)],
            condition=OpsModel.value.does_not_exist() | (OpsModel.value < daily),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        streak.update(actions=[OpsModel.value.add(-1)])  # this attempt was not made
        return max(1, day_end - now)
    return None


def mfa_streak(user_id: str) -> int:
    """Attempts counted in the account's current streak (after `reserve_mfa_attempt`)."""
    try:
        return int(OpsModel.get(f"MFA#{user_id}", "STREAK", consistent_read=True).value or 0)
    except OpsModel.DoesNotExist:
        return 0


def mfa_attempt_succeeded(user_id: str) -> None:
    """A right code ends the streak and does not count against the day."""
    now = int(time.time())
    OpsModel(f"MFA#{user_id}", "STREAK").update(actions=[OpsModel.value.set(0)])
    OpsModel(f"MFA#{user_id}", f"DAY#{now // 86400}").update(actions=[OpsModel.value.add(-1)])


@dataclass(frozen=True)
class Breaker:
    """A provider account's health: outages in a row, and until when sync waits."""

    failures: int = 0
    open_until: float = 0.0


def _breaker_item(key: str) -> OpsModel:
    return OpsModel(f"BREAKER#{key}", "STATE")


def get_breaker(key: str) -> Breaker:
    try:
        item = OpsModel.get(f"BREAKER#{key}", "STATE", consistent_read=True)
    except OpsModel.DoesNotExist:
        return Breaker()
    open_until = float((item.data or {}).get("open_until", 0.0))
    return Breaker(int(item.value or 0), open_until)


def breaker_failure(
    key: str, *, threshold: int, cooldown: float, longest: float, campaign_id: str
) -> Breaker:
    """Count one outage; from the `threshold`-th in a row the breaker opens, for a
    cool-down that doubles with each further one (up to `longest` seconds)."""
    item = _breaker_item(key)
    item.update(
        actions=[
            OpsModel.value.add(1),
            OpsModel.expires_at.set(int(time.time()) + 7 * 86400),
            OpsModel.campaign_id.set(campaign_id),
        ]
    )
    failures = int(item.value or 0)
    if failures < threshold:
        return Breaker(failures)
    wait = min(longest, cooldown * 2 ** (failures - threshold))
    open_until = time.time() + wait
    item.update(actions=[OpsModel.data.set({"open_until": open_until})])
    return Breaker(failures, open_until)


def breaker_success(key: str) -> None:
    _breaker_item(key).update(
        actions=[OpsModel.value.set(0), OpsModel.data.set({"open_until": 0.0})]
    )


def put_code(scope: str, code_hash: str, ttl: int) -> None:
    """A one-time code (kept as a keyed hash), replacing any earlier one of the scope."""
    OpsModel(
        f"CODE#{scope}",
        "CURRENT",
        data={"hash": code_hash},
        value=0,
        expires_at=int(time.time()) + ttl,
    ).save()


def reserve_code_attempt(scope: str, most: int) -> str | None:
    """Count one try at the scope's code, before it is checked: its hash, or None when
    there is no live code or it has had `most` tries."""
    item = OpsModel(f"CODE#{scope}", "CURRENT")
    try:
        item.update(
            actions=[OpsModel.value.add(1)],
            condition=OpsModel.pk.exists()
            & (OpsModel.value < most)
            & (OpsModel.expires_at > int(time.time())),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    stored = OpsModel.get(f"CODE#{scope}", "CURRENT", consistent_read=True)
    return str((stored.data or {}).get("hash") or "") or None


def consume_code(scope: str) -> bool:
    """Use the scope's code up: True once, for the one request that does."""
    from pynamodb.exceptions import DeleteError

    try:
        OpsModel(f"CODE#{scope}", "CURRENT").delete(condition=OpsModel.pk.exists())
    except DeleteError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_cached(key: str) -> Any | None:
    """A cached JSON value, if it has not expired."""
    try:
        item = OpsModel.get(f"CACHE#{key}", "VALUE")
    except OpsModel.DoesNotExist:
        return None
    if item.expires_at is None or item.expires_at < time.time():
        return None
    return item.data


def put_cached(key: str, value: Any, ttl_seconds: int, *, campaign_id: str | None = None) -> None:
    OpsModel(
        f"CACHE#{key}",
        "VALUE",
        data=value,
        expires_at=int(time.time()) + ttl_seconds,
        campaign_id=campaign_id,
    ).save()


def drop_cached(key: str) -> None:
    OpsModel(f"CACHE#{key}", "VALUE").delete()


@dataclass(frozen=True)
class KeyedRequest:
    """What an idempotency key recorded: the request's fingerprint, and its answer once
    there is one (`status` None while the first request is still being served)."""

    fingerprint: str
    status: int | None
    body: Any


def _keyed(scope: str) -> KeyedRequestModel:
    return KeyedRequestModel(f"IDEMP#{scope}", "REQUEST")


def claim_key(
    scope: str,
    fingerprint: str,
    *,
    expires_at: int,
    lapses_at: int,
    campaign_id: str | None = None,
) -> KeyedRequest | None:
    """Record that the request `scope` names has begun: None when this call claimed it,
    else what an earlier request with the key recorded.

    One conditional write, so of two requests racing with one key exactly one runs. A claim
    that was never answered (its process died) lapses at `lapses_at`, an answered one at
    `expires_at` (also the item's TTL); either may then be claimed again.
    """
    now = int(time.time())
    item = _keyed(scope)
    item.fingerprint = fingerprint
    item.state = "serving"
    item.lapses_at = lapses_at
    item.expires_at = expires_at
    item.campaign_id = campaign_id  # the answer may hold its data: its erasure finds it
    try:
        item.save(
            condition=KeyedRequestModel.pk.does_not_exist()
            | (KeyedRequestModel.expires_at < now)
            | ((KeyedRequestModel.state == "serving") & (KeyedRequestModel.lapses_at < now))
        )
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        try:
            found = KeyedRequestModel.get(item.pk, item.sk, consistent_read=True)
        except KeyedRequestModel.DoesNotExist:  # released between the write and the read
            return claim_key(
                scope,
                fingerprint,
                expires_at=expires_at,
                lapses_at=lapses_at,
                campaign_id=campaign_id,
            )
        if found.state != "answered":
            return KeyedRequest(found.fingerprint, None, None)
        return KeyedRequest(found.fingerprint, int(found.status or 0), found.body)
    return None


def answer_key(scope: str, fingerprint: str, status: int, body: Any) -> None:
    """Keep the answer of the request that claimed the key, for its repeats."""
    _keyed(scope).update(
        actions=[
            KeyedRequestModel.state.set("answered"),
            KeyedRequestModel.status.set(status),
            KeyedRequestModel.body.set(body),
            KeyedRequestModel.lapses_at.remove(),
        ]
    )


def release_key(scope: str) -> None:
    """Forget a claim whose request failed, so that a repeat runs again."""
    _keyed(scope).delete()


def campaign_item_keys(campaign_id: str) -> list[tuple[str, str]]:
    """The keys of every ops item holding something of the campaign (its cached CRM
    catalogs, breakers and kept answers, each tagged with it): a parallel Scan, as the
    table holds only short-lived items and an erasure is rare."""
    from concurrent.futures import ThreadPoolExecutor

    segments = 4

    def segment(number: int) -> list[tuple[str, str]]:
        return [
            (item.pk, item.sk)
            for item in OpsModel.scan(
                OpsModel.campaign_id == campaign_id,
                segment=number,
                total_segments=segments,
                attributes_to_get=["pk", "sk"],
            )
        ]

    with ThreadPoolExecutor(segments) as pool:
        return sorted({key for found in pool.map(segment, range(segments)) for key in found})
