"""Observability wired once: one powertools Logger and one Metrics for the whole service.

Every log line is structured JSON. Request lines carry the request id as the
correlation id. Never pass a secret, password, code or token to these helpers:
they log what they are given.

Metrics are counts of what should stay rare (the names in `METRICS`; `infra/` alarms on
them), written as CloudWatch embedded-metric JSON when an invocation ends
(`flushing_metrics`, registered for every kind of event).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "volunteer-organizer"
NAMESPACE = "VolunteerOrganizer"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
_metrics_lock = threading.Lock()  # the stream handlers count from worker threads

METRICS = {
    "UnhandledErrors": "a request answered 500 by a bug",
    "Throttled": "a request refused by our rate limits (429)",
    "StaffAccess": "a staff member read a campaign's data",
    "MfaLocked": "an account's second factor was locked after wrong codes",
    "RecoveryCodeUsed": "a sign-in used a recovery code (a lost authenticator, or a thief)",
    "SignInThrottled": "sign-ins to one e-mail refused from every source (a distributed attack)",
    "StreamRecordFailures": "a stream record failed and is delivered again",
    "AuditWriteFailures": "audit records could not be written (the batch comes again)",
    "CrmSynced": "a report reached a CRM",
    "CrmSyncFailed": "an attempt to reach a CRM failed (retried or given up)",
    "CrmSkipped": "a report was not for a CRM (no id, nothing mapped)",
    "CampaignDeletionScheduled": "a campaign's admins asked for its data to be deleted",
    "CampaignErased": "every item of a campaign's data was erased (its receipt kept)",
    "ListsImported": "a voter list finished importing",
    "ListImportsFailed": "a voter list could not be imported (its reason is on the list)",
    "ListsErased": "a deleted or failed list's rows were erased",
    "ImportMessageFailures": "an import message failed and is delivered again",
}


def count(name: str, value: int = 1) -> None:
    """Add to one of `METRICS` for this invocation."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}")
    with _metrics_lock:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush_metrics() -> None:
    """Write what this invocation counted (nothing when it counted nothing)."""
    with _metrics_lock:
        if metrics.metric_set:
            metrics.flush_metrics()


def flushing_metrics(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Middleware for every kind of event: the invocation's metrics are written as it ends."""
    try:
        return get_response(event)
    finally:
        flush_metrics()


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
