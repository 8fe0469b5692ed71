"""Encryption with the KMS key, always bound to an encryption context.

Small secrets (a TOTP seed, a refresh token) are encrypted by KMS directly.
`seal`/`open_sealed` do envelope encryption for larger payloads: a data key from
KMS encrypts the payload locally (AES-GCM) and only the wrapped key is stored.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from typing import Any

from chalicelib import aws
from chalicelib.config import settings


def encrypt(plaintext: str, context: dict[str, str]) -> str:
    out = aws.client("kms").encrypt(
        KeyId=settings().kms_key_id,
        Plaintext=plaintext.encode(),
        EncryptionContext=context,
    )
    return base64.b64encode(out["CiphertextBlob"]).decode()


def decrypt(ciphertext: str, context: dict[str, str]) -> str:
    out = aws.client("kms").decrypt(
        CiphertextBlob=base64.b64decode(ciphertext),
        EncryptionContext=context,
    )
    return bytes(out["Plaintext"]).decode()


def seal(payload: dict[str, Any], context: dict[str, str]) -> str:
    """Envelope-encrypt a JSON payload; the result is a JSON string to store."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = aws.client("kms").generate_data_key(
        KeyId=settings().kms_key_id, KeySpec="AES_256", EncryptionContext=context
    )
    nonce = os.urandom(12)
    aad = json.dumps(context, sort_keys=True).encode()
    body = AESGCM(key["Plaintext"]).encrypt(nonce, json.dumps(payload).encode(), aad)
    return json.dumps(
        {
            "v": 1,
            "key": base64.b64encode(key["CiphertextBlob"]).decode(),
            "nonce": base64.b64encode(nonce).decode(),
            "body": base64.b64encode(body).decode(),
        }
    )


def open_sealed(sealed: str, context: dict[str, str]) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    envelope = json.loads(sealed)
    key = aws.client("kms").decrypt(
        CiphertextBlob=base64.b64decode(envelope["key"]), EncryptionContext=context
    )["Plaintext"]
    aad = json.dumps(context, sort_keys=True).encode()
    body = AESGCM(bytes(key)).decrypt(
        base64.b64decode(envelope["nonce"]), base64.b64decode(envelope["body"]), aad
    )
    result: dict[str, Any] = json.loads(body)
    return result


# ---- a user's contacts: a data key of their own (crypto-shredding) ------------------------

KEY_CACHE_SECONDS = 300
# (user id, wrapped key) -> (plaintext key, until): a replaced key is never mistaken for
# the new one, and a destroyed one is never asked for again (the profile no longer names it)
_keys: dict[tuple[str, str], tuple[bytes, float]] = {}
_keys_lock = threading.Lock()


def _contacts_context(user_id: str) -> dict[str, str]:
    return {"user_id": user_id, "purpose": "contacts"}


def new_contacts_key(user_id: str) -> tuple[bytes, str]:
    """A fresh data key for the user's contacts: (plaintext, wrapped by KMS)."""
    out = aws.client("kms").generate_data_key(
        KeyId=settings().kms_key_id, KeySpec="AES_256", EncryptionContext=_contacts_context(user_id)
    )
    return bytes(out["Plaintext"]), base64.b64encode(out["CiphertextBlob"]).decode()


def unwrap_contacts_key(user_id: str, wrapped: str) -> bytes:
    """The user's data key, kept for KEY_CACHE_SECONDS in this container (one KMS call)."""
    now = time.monotonic()
    with _keys_lock:
        found = _keys.get((user_id, wrapped))
        if found is not None and found[1] > now:
            return found[0]
    key = bytes(
        aws.client("kms").decrypt(
            CiphertextBlob=base64.b64decode(wrapped),
            EncryptionContext=_contacts_context(user_id),
        )["Plaintext"]
    )
    remember_contacts_key(user_id, wrapped, key)
    return key


def remember_contacts_key(user_id: str, wrapped: str, key: bytes) -> None:
    with _keys_lock:
        _keys[(user_id, wrapped)] = (key, time.monotonic() + KEY_CACHE_SECONDS)


def forget_contacts_key(user_id: str) -> None:
    """Drop this container's copies of the user's keys (after destroying them)."""
    with _keys_lock:
        for cached in [k for k in _keys if k[0] == user_id]:
            del _keys[cached]


def seal_with(key: bytes, aad: str, payload: dict[str, Any]) -> str:
    """AES-GCM under a data key we hold; `aad` binds the text to its item."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    body = AESGCM(key).encrypt(
        nonce, json.dumps(payload, separators=(",", ":")).encode(), aad.encode()
    )
    return base64.b64encode(nonce + body).decode()


def open_with(key: bytes, aad: str, sealed: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(sealed)
    result: dict[str, Any] = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode()))
    return result
