"""Application logs to the log bucket: one CloudWatch Logs export task per UTC day.

The app's log group keeps 14 days (infra/resources.json); before a day ages out, the daily
job exports it to the log bucket under `logs/YYYY/MM/DD/`:

    logs/YYYY/MM/DD/export.json                       marker: the task that exported the day
    logs/YYYY/MM/DD/<task id>/<log stream>/000000.gz  written by CloudWatch Logs

The marker is written (SSE-KMS, only if absent) as soon as the task is accepted, so a day is
submitted once: a rerun, or a second job running at the same time, skips it. A task seen
failing or cancelled has its marker removed, and the next run submits the day again. The
task name is deterministic (`vo-<stage>-logs-YYYY-MM-DD`), so a task is easy to find.

CloudWatch Logs allows one active (PENDING or RUNNING) export task per account, and tasks
run asynchronously: the job submits one day, waits for it (within a time budget), then the
next. A run that finds another task active, or runs out of budget, stops; the next run goes
on from the oldest day not exported. The export API takes no encryption parameter: the
exported objects get the bucket's default encryption (SSE-KMS with the app key in AWS).

Days are exported once they are at least one full day old (log events can take up to
12 hours to become exportable), from T-13 (older events may have expired) to T-2.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.audit.archive import (
    days,
    first_archivable,
    is_missing,
    is_precondition_failed,
    last_archivable,
    put,
    read,
)
from chalicelib.config import settings
from chalicelib.observability import logger

PREFIX = "logs"
MARKER_NAME = "export.json"
ACTIVE = frozenset({"PENDING", "RUNNING", "PENDING_CANCEL"})
DONE = "COMPLETED"
FAILED = frozenset({"FAILED", "CANCELLED"})


def day_prefix(day: date) -> str:
    """The export's destination prefix (no trailing slash: CloudWatch adds one)."""
    return f"{PREFIX}/{day:%Y/%m/%d}"


def marker_key(day: date) -> str:
    return f"{day_prefix(day)}/{MARKER_NAME}"


def task_name(day: date) -> str:
    return f"vo-{settings().stage}-logs-{day:%Y-%m-%d}"


def day_range_ms(day: date) -> tuple[int, int]:
    """First and last millisecond of a UTC day (the export's `to` is inclusive)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    first = int(start.timestamp() * 1000)
    return first, first + 24 * 60 * 60 * 1000 - 1


def _logs() -> Any:
    return aws.client("logs")


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def exported(day: date) -> bool:
    return read(marker_key(day)) is not None


def export_day(day: date) -> str | None:
    """Start the export of one UTC day of the app's log group; the task id, or None when
    the day was exported already. Raises ClientError LimitExceededException when another
    export task is active (CloudWatch Logs runs one at a time)."""
    if day > last_archivable(datetime.now(UTC).date()):
        raise ValueError(f"{day} has not settled yet")
    if exported(day):
        return None
    group = settings().log_group_name
    start, end = day_range_ms(day)
    name = task_name(day)
    task_id = str(
        _logs().create_export_task(
            taskName=name,
            logGroupName=group,
            fromTime=start,
            to=end,
            destination=settings().log_bucket,
            destinationPrefix=day_prefix(day),
        )["taskId"]
    )
    marker = {
        "day": day.isoformat(),
        "task_id": task_id,
        "task_name": name,
        "log_group": group,
        "from": start,
        "to": end,
    }
    try:
        put(
            marker_key(day),
            (json.dumps(marker, sort_keys=True, indent=2) + "\n").encode(),
            "application/json",
            only_if_new=True,
        )
    except ClientError as error:
        if not is_precondition_failed(error):
            raise
        logger.warning("logs export submitted twice", extra={"day": day.isoformat()})
    logger.info("logs export started", extra={"day": day.isoformat(), "task_id": task_id})
    return task_id


def task_status(task_id: str) -> str:
    tasks = _logs().describe_export_tasks(taskId=task_id).get("exportTasks", [])
    return str(tasks[0]["status"]["code"]) if tasks else "UNKNOWN"


def active_task() -> str | None:
    """The id of an export task that is pending or running in this account, if any."""
    for code in ("RUNNING", "PENDING"):
        out = _logs().describe_export_tasks(statusCode=code)
        for task in out.get("exportTasks", []):
            if task.get("status", {}).get("code") in ACTIVE:  # the emulator ignores the filter
                return str(task["taskId"])
    return None


def _wait(task_id: str, deadline: float, poll_seconds: float) -> str:
    status = task_status(task_id)
    while status not in FAILED and status != DONE and time.monotonic() < deadline:
        time.sleep(poll_seconds)
        status = task_status(task_id)
    return status


def export_pending(
    today: date | None = None, *, wait_seconds: float = 40.0, poll_seconds: float = 5.0
) -> list[str]:
    """The daily job: export every day from T-13 to T-2 that has no marker, oldest first,
    one task at a time, waiting at most `wait_seconds` in all (keep it below the function's
    timeout). Returns the ids of the tasks started by this run."""
    today = today or datetime.now(UTC).date()
    deadline = time.monotonic() + wait_seconds
    busy = active_task()
    if busy is not None:
        logger.info("logs export waits for an active task", extra={"task_id": busy})
        return []
    started: list[str] = []
    for day in days(first_archivable(today), last_archivable(today)):
        try:
            task_id = export_day(day)
        except ClientError as error:
            if _error_code(error) == "LimitExceededException":
                break  # someone else's task is active: the next run goes on
            raise
        if task_id is None:
            continue
        started.append(task_id)
        status = _wait(task_id, deadline, poll_seconds)
        if status in FAILED:
            logger.error(
                "logs export failed; the day is retried next run",
                extra={"day": day.isoformat(), "task_id": task_id, "status": status},
            )
            _forget(day)
            break
        if status != DONE:
            break  # still running when the budget ran out
    return started


def _forget(day: date) -> None:
    try:
        aws.client("s3").delete_object(Bucket=settings().log_bucket, Key=marker_key(day))
    except ClientError as error:
        if not is_missing(error):
            raise
