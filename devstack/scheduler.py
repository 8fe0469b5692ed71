"""Runs the app's scheduled handlers at their rates, with EventBridge-shaped events.

`rate(N unit)` runs every N units (first run one period after start); `cron(m h * * ? *)`
runs when the UTC minute and hour match (lists and `*` in those two fields).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from devstack.streams import LambdaContext

log = logging.getLogger("devstack.scheduler")

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def period_seconds(expression: str) -> int | None:
    if not expression.startswith("rate("):
        return None
    value, unit = expression[5:-1].split()
    return int(value) * _UNITS[unit.lower()]


def _field_matches(field: str, value: int) -> bool:
    return field in ("*", "?") or value in {int(v) for v in field.split(",")}


def cron_due(expression: str, moment: datetime) -> bool:
    minute, hour = expression[5:-1].split()[:2]
    return _field_matches(minute, moment.minute) and _field_matches(hour, moment.hour)


def scheduled_event(name: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{name}"],
        "detail": {},
    }


class Scheduler:
    def __init__(self, jobs: list[tuple[str, str, Any]]) -> None:
        """jobs: (name, schedule expression, handler)."""
        self._jobs = jobs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        started = time.monotonic()
        next_run = {name: started + (period_seconds(expr) or 0) for name, expr, _ in self._jobs}
        last_cron_minute: dict[str, str] = {}
        while not self._stop.is_set():
            now = time.monotonic()
            wall = datetime.now(UTC)
            for name, expression, handler in self._jobs:
                period = period_seconds(expression)
                if period is not None:
                    if now < next_run[name]:
                        continue
                    next_run[name] = now + period
                else:
                    stamp = wall.strftime("%Y%m%d%H%M")
                    if not cron_due(expression, wall) or last_cron_minute.get(name) == stamp:
                        continue
                    last_cron_minute[name] = stamp
                try:
                    handler(scheduled_event(name), LambdaContext(name))
                except Exception:
                    log.exception("scheduled handler %s failed", name)
            self._stop.wait(1.0)
