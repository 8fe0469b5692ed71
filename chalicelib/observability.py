"""Logging wired once: one powertools Logger for the whole service.

Every line is structured JSON. Request lines carry the request id as the
correlation id. Never pass a secret, password, code or token to these helpers:
they log what they are given.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

SERVICE = "volunteer-organizer"

logger = Logger(service=SERVICE)


def log_request(
    *,
    request_id: str,
    method: str,
    route: str,
    path: str,
    status: int,
    latency_ms: float,
    user_id: str | None,
    source_ip: str | None,
    user_agent: str | None,
) -> None:
    logger.info(
        "request",
        extra={
            "kind": "request",
            "request_id": request_id,
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "latency_ms": round(latency_ms, 1),
            "user_id": user_id,
            "source_ip": source_ip,
            "user_agent": user_agent,
        },
    )


def log_auth(event: str, outcome: str, reason: str | None = None, **context: Any) -> None:
    """One line per authentication attempt: login, mfa, refresh, logout."""
    logger.info(
        "auth",
        extra={"kind": "auth", "event": event, "outcome": outcome, "reason": reason, **context},
    )
