"""Abuse throttling for the sign-in routes and reports (fixed windows in the ops table).

Per-IP request rates for the whole API are WAF rate rules in `infra/`; here are
the limits that need to know what is being tried: logins per e-mail, codes per user.
"""

from __future__ import annotations

import hashlib

from chalicelib.dal import ops
from chalicelib.errors import Throttled
from chalicelib.observability import count

# bucket -> (hits allowed, window in seconds)
LIMITS: dict[str, tuple[int, int]] = {
    # Sign-up answers 409 for an e-mail that has an account (a sign-up form must say so),
    # which tells whether an address is registered: this bound keeps that to 20 questions
    # an hour from one source.
    "signup-ip": (20, 3600),
    "login-ip": (60, 300),
    # Wrong passwords are bounded per e-mail *and source*: someone else's guesses do not
    # lock the owner out. The per-e-mail bound, across sources, is far higher and only a
    # distributed attack trips it (counted as SignInThrottled, which raises an alarm).
    "login-email-ip": (10, 300),
    "login-email": (100, 300),
    # password reset codes: a few a day per address, more per source
    "reset-email": (5, 3600),
    "reset-ip": (30, 3600),
    "mfa-ip": (60, 300),
    "refresh-ip": (120, 300),
    # reports a member may file in one campaign in an hour: a busy canvasser files one a
    # minute at most; beyond this a CRM would be flooded
    "report-member": (240, 3600),
}


def check(bucket: str, key: str | None) -> None:
    """Count one attempt; raise Throttled once the window's allowance is spent."""
    if not key:
        return
    allowed, window = LIMITS[bucket]
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    hits, seconds_left = ops.hit(bucket, digest, window)
    if hits > allowed:
        if bucket == "login-email":
            count("SignInThrottled")
        raise Throttled(seconds_left)
