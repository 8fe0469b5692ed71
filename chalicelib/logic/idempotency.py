"""Idempotency keys.

A client that may send a request twice (a phone on a bad network, retrying) names it with
an `Idempotency-Key` header. The first request with a key runs; a repeat within a day gets
the first one's answer and changes nothing again. The key belongs to the signed-in user
(two users' keys never meet), is kept only as a hash, and holds the request's fingerprint:
the same key on a different request is refused (422), and a repeat that arrives while the
first is still being served is told so (409). A request that fails keeps nothing, so it
can be sent again with its key.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.dal import ops
from chalicelib.errors import Conflict, InvalidInput, Refused

HEADER = "Idempotency-Key"
KEY_MAX = 255
KEEP_FOR = 24 * 3600  # seconds a key answers its repeats
LAPSE_AFTER = 60  # seconds before an unanswered claim (its process died) lapses; API Gateway
# gives up on a request after 29


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    replayed: bool


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> str:
    if not 1 <= len(key) <= KEY_MAX or not key.isascii() or not key.isprintable():
        raise InvalidInput(HEADER, f"must be 1 to {KEY_MAX} printable ASCII characters")
    return key


def _campaign_of(path: str) -> str | None:
    """The campaign a path is under (`/campaigns/<cid>/...`), if any."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "campaigns" and parts[1] != "join":
        return parts[1]
    return None


def once(
    user_id: str,
    key: str,
    request: tuple[str, str, bytes],
    serve: Callable[[], tuple[int, Any]],
) -> Answer:
    """Serve `request` (method, path, body) with `serve` unless `key` already did."""
    check_key(key)
    scope = f"{user_id}#{_sha256(key.encode())}"
    method, path, body = request
    fingerprint = _sha256(method.encode(), path.encode(), body)
    now = int(time.time())
    found = ops.claim_key(
        scope,
        fingerprint,
        expires_at=now + KEEP_FOR,
        lapses_at=now + LAPSE_AFTER,
        campaign_id=_campaign_of(path),
    )
    if found is not None:
        if found.fingerprint != fingerprint:
            raise Refused(f"{HEADER}: was used for a different request")
        if found.status is None:
            raise Conflict(f"{HEADER}: the first request with this key is still being served")
        return Answer(found.status, found.body, replayed=True)
    try:
        status, answer = serve()
    except BaseException:
        ops.release_key(scope)
        raise
    ops.answer_key(scope, fingerprint, status, answer)
    return Answer(status, answer, replayed=False)
