"""Access-token verification against the user pool's JWKS.

The JWKS URL is configuration: moto signs with an AWS issuer name but serves the
keys itself. Keys are fetched once per process and again when a token names a
key id we have not seen (key rotation).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from chalicelib.config import settings
from chalicelib.errors import NotAuthenticated

_keys: dict[str, Any] = {}
_keys_url: str | None = None
_lock = threading.Lock()


def _fetch_keys(url: str) -> dict[str, Any]:
    import urllib.request

    import jwt

    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (configured https URL)
        document = json.load(response)
    return {
        key["kid"]: jwt.PyJWK.from_dict(key).key for key in document.get("keys", []) if "kid" in key
    }


def _signing_key(kid: str) -> Any:
    global _keys_url
    url = settings().jwks_url
    with _lock:
        if _keys_url != url or kid not in _keys:
            _keys.clear()
            _keys.update(_fetch_keys(url))
            _keys_url = url
        key = _keys.get(kid)
    if key is None:
        raise NotAuthenticated("the token is signed with an unknown key")
    return key


def verify_access_token(token: str) -> dict[str, Any]:
    """The verified claims of a Cognito access token issued to our app client."""
    import jwt

    s = settings()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            raise NotAuthenticated("the token is not signed with RS256")
        claims: dict[str, Any] = jwt.decode(
            token,
            _signing_key(str(header.get("kid", ""))),
            algorithms=["RS256"],
            issuer=s.token_issuer,
            options={"require": ["exp", "iat", "sub", "token_use", "origin_jti"]},
            leeway=5,
        )
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"the token is not valid ({type(exc).__name__})") from None
    if claims.get("token_use") != "access":
        raise NotAuthenticated("not an access token")
    if claims.get("client_id") != s.user_pool_client_id:
        raise NotAuthenticated("the token was issued to another client")
    return claims
