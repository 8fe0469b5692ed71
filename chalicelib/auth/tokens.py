"""Access-token verification against the user pool's JWKS.

The JWKS URL is configuration: moto signs with an AWS issuer name but serves the
keys itself. PyJWT's `PyJWKClient` fetches the key set, keeps it for an hour, and
fetches again for a key id it does not know (rotation), at most once per cool-down, so
tokens with made-up key ids cannot make every request fetch. If a fetch fails, the last
key set fetched stays in use; a token that no known key can check while the key server
is down is `Unavailable` (503), never a 401 or a 500.
"""

from __future__ import annotations

import threading
from typing import Any

from chalicelib.config import settings
from chalicelib.errors import NotAuthenticated, Unavailable

KEYS_LIFESPAN = 3600
KEYS_TIMEOUT = 3.0
UNKNOWN_KEY_COOLDOWN = 30.0

_client: Any = None
_lock = threading.Lock()


def _new_client(url: str) -> Any:
    from jwt import PyJWKClient
    from jwt.exceptions import PyJWKClientConnectionError

    class StaleIfErrorClient(PyJWKClient):  # type: ignore[misc]
        """Keeps the last key set it fetched when a later fetch fails."""

        last_good: Any = None

        def get_jwk_set(self, refresh: bool = False) -> Any:
            try:
                found = super().get_jwk_set(refresh)
            except PyJWKClientConnectionError:
                if self.last_good is None or refresh:
                    raise
                return self.last_good
            self.last_good = found
            return found

    return StaleIfErrorClient(
        url,
        cache_jwk_set=True,
        lifespan=KEYS_LIFESPAN,
        timeout=KEYS_TIMEOUT,
        cooldown_duration=UNKNOWN_KEY_COOLDOWN,
    )


def _keys() -> Any:
    global _client
    url = settings().jwks_url
    with _lock:
        if _client is None or _client.uri != url:
            _client = _new_client(url)
        return _client


def _signing_key(kid: str) -> Any:
    from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError

    try:
        return _keys().get_signing_key(kid).key
    except PyJWKClientConnectionError:
        raise Unavailable("the identity provider's keys cannot be reached; try again") from None
    except PyJWKClientError:
        raise NotAuthenticated("the token is signed with an unknown key") from None


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
    except (jwt.PyJWKClientError, jwt.PyJWKSetError):
        raise NotAuthenticated("the token is signed with an unknown key") from None
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"the token is not valid ({type(exc).__name__})") from None
    if claims.get("token_use") != "access":
        raise NotAuthenticated("not an access token")
    if claims.get("client_id") != s.user_pool_client_id:
        raise NotAuthenticated("the token was issued to another client")
    return claims
