"""Encryption with the KMS key, always bound to an encryption context.

Small secrets (a TOTP seed, a refresh token) are encrypted by KMS directly.
`seal`/`open_sealed` do envelope encryption for larger payloads: a data key from
KMS encrypts the payload locally (AES-GCM) and only the wrapped key is stored.
"""

from __future__ import annotations

import base64
import json
import os
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
