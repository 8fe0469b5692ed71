"""The e-mails the system sends to its users (codes, lockouts, campaign notices).

In AWS they go through SES, from the address `MAIL_FROM` names. Locally (`OUTBOX_PATH`
set) each e-mail is one JSON line `{to, kind, subject, code?, at}` appended to that
file instead, so a person or a test can read what would have been sent. A failure to send
is logged and never fails the request that caused it: the e-mail is a courtesy, the
state change it reports has happened.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime

from chalicelib.observability import logger

_lock = threading.Lock()

SUBJECTS = {
    "mfa_locked": "Your second sign-in step is locked for a while",
    "password_reset": "Your code to choose a new password",
    "confirm_signup": "Your code to confirm your e-mail address",
    "password_changed": "Your password was changed and every device signed out",
    "staff_grant_started": "Platform staff may now read your campaign's data",
    "deletion_scheduled": "Your campaign's data is scheduled for deletion",
    "deletion_reminder": "Your campaign's data will be deleted within a day",
    "deletion_cancelled": "The deletion of your campaign's data was cancelled",
    "deletion_done": "Your campaign's data has been deleted",
}


def send(to: str, kind: str, *, code: str | None = None, body: str = "") -> None:
    """E-mail `to` about `kind` (one of SUBJECTS); `code` is a one-time code it carries."""
    subject = SUBJECTS[kind]
    outbox = os.environ.get("OUTBOX_PATH")
    try:
        if outbox:
            line = {"to": to, "kind": kind, "subject": subject, "at": _now()}
            if code is not None:
                line["code"] = code
            with _lock, open(outbox, "a", encoding="utf-8") as out:
                out.write(json.dumps(line, sort_keys=True) + "\n")
            return
        sender = os.environ.get("MAIL_FROM")
        if not sender:
            logger.warning("e-mail not sent: no MAIL_FROM", extra={"kind": kind})
            return
        from chalicelib import aws

        text = body or subject
        if code is not None:
            text = f"{text}\n\nYour code: {code}"
        aws.client("sesv2").send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": [to]},
            Content={"Simple": {"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}}},
        )
    except Exception:
        logger.exception("e-mail could not be sent", extra={"kind": kind})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
