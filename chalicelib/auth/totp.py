"""TOTP (RFC 6238) with pyotp: 30-second steps, one step of clock drift either side."""

from __future__ import annotations

import hmac
import time

WINDOW = 1
INTERVAL = 30


def new_secret() -> str:
    import pyotp

    return str(pyotp.random_base32())


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    import pyotp

    return str(pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer))


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step a code belongs to, within the window; None when it matches none.

    The caller must still make sure the step was not used before (replay).
    """
    import pyotp

    code = (code or "").strip()
    if len(code) != 6 or not code.isdigit():
        return None
    now = time.time() if at is None else at
    totp = pyotp.TOTP(secret, interval=INTERVAL)
    current = int(now // INTERVAL)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
