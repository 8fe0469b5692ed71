"""What encrypting volunteers' contacts (crypto-shredding) costs a 5,000-contact sync:
DynamoDB calls, KMS calls and time, as a ratio to the same sync with the encryption taken
out (the path before it: the data key neither made, fetched nor used).

    .venv/bin/python bench/contacts_encryption.py           # CONTACTS=5000, ~1 minute

Three syncs per user, each timed: the first (every contact new: the data key is made,
one KMS GenerateDataKey and one keys-table write), the same contacts again (all
unchanged; the key is in the container's cache), and again after the cache is cleared
(as a cold container: one KMS Decrypt and one keys-table read). DynamoDB runs on DynamoDB
Local, KMS on the moto server in this process. Each variant runs REPEATS times, the two
taking turns to go first, and keeps its best time; calls are the same every run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONTACTS = int(os.environ.get("CONTACTS", "5000"))
REPEATS = int(os.environ.get("REPEATS", "3"))
STEPS = ("first sync", "unchanged, warm key", "unchanged, cold key")


@contextlib.contextmanager
def without_encryption() -> Iterator[None]:
    """The contacts stored as the sealed field's JSON, under no key: today's path without
    the data key (no KMS, no keys table), the items' shape otherwise the same."""
    import base64
    import json

    from chalicelib import crypto
    from chalicelib.dal import contacts

    def no_key(user_id: str, *, create: bool = False) -> bytes:
        return b"\0" * 32

    def seal(key: bytes, aad: str, payload: dict[str, Any]) -> str:
        return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()

    def unseal(key: bytes, aad: str, sealed: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(base64.b64decode(sealed))
        return found

    saved = (contacts.contacts_key, crypto.seal_with, crypto.open_with)
    contacts.contacts_key = no_key  # type: ignore[assignment]
    crypto.seal_with, crypto.open_with = seal, unseal
    try:
        yield
    finally:
        contacts.contacts_key, crypto.seal_with, crypto.open_with = saved  # type: ignore[assignment]


def run(user_id: str, contacts_in: Any, encrypted: bool) -> list[tuple[float, Counter[str]]]:
    from bench.harness import counting
    from chalicelib import crypto
    from chalicelib.dal import users
    from chalicelib.logic import contacts
    from chalicelib.logic.access import Principal

    users.create_user(user_id, f"{user_id}@example.org", user_id, None)
    principal = Principal(user_id, "session", mfa=False)
    figures = []
    context = contextlib.nullcontext() if encrypted else without_encryption()
    with context:
        for step in range(3):
            if step == 2:
                crypto.forget_contacts_key(user_id)
            with counting() as calls:
                started = time.perf_counter()
                contacts.sync_contacts(principal, contacts_in)
                figures.append((time.perf_counter() - started, Counter(calls)))
    return figures


def main() -> None:
    import logging

    from bench.contacts import incoming_contacts
    from bench.harness import on_dynamodb_local
    from chalicelib.observability import logger

    logging.getLogger(logger.name).setLevel(logging.ERROR)
    results: dict[bool, list[list[tuple[float, Counter[str]]]]] = {True: [], False: []}
    with on_dynamodb_local():
        parsed = incoming_contacts(CONTACTS)  # valid, distinct phones and e-mails
        run("warm-up", parsed, True)  # clients, connections, the engine's JIT
        run("warm-up-plain", parsed, False)
        for n in range(REPEATS):
            order = (True, False) if n % 2 == 0 else (False, True)
            for encrypted in order:
                results[encrypted].append(run(f"u{n}-{encrypted}", parsed, encrypted))

    print(f"{CONTACTS:,} contacts; best of {REPEATS}; DynamoDB Local + moto KMS")
    print(f"{'':24} {'time plain':>10} {'time enc':>9} {'ratio':>6}  {'DynamoDB':>15}  {'KMS':>8}")
    for step, name in enumerate(STEPS):
        enc = min(r[step][0] for r in results[True])
        plain = min(r[step][0] for r in results[False])
        enc_calls = results[True][0][step][1]
        plain_calls = results[False][0][step][1]
        print(
            f"{name:24} {plain:9.2f}s {enc:8.2f}s {enc / plain:6.2f}  "
            f"{plain_calls['dynamodb']:>6} -> {enc_calls['dynamodb']:<6}  "
            f"{plain_calls['kms']:>2} -> {enc_calls['kms']:<2}"
        )


if __name__ == "__main__":
    main()
