"""The queue background work goes through (the import queue, read by the import worker):
list imports and erasures, and targets' refreshes. Messages carry ids, never data."""

from __future__ import annotations

import json
from typing import Any

from chalicelib import aws, config


def send(messages: list[dict[str, Any]]) -> None:
    """Send messages, ten a call; raises if any was not accepted."""
    sqs = aws.client("sqs")
    url = config.settings().import_queue_url
    for start in range(0, len(messages), 10):
        batch = messages[start : start + 10]
        out = sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(n), "MessageBody": json.dumps(m)} for n, m in enumerate(batch)],
        )
        if out.get("Failed"):
            raise RuntimeError(f"{len(out['Failed'])} messages were not sent")


def refresh_targets(pairs: set[tuple[str, str]]) -> None:
    """Recompute these (campaign, volunteer) targets in the background."""
    send([{"kind": "targets", "cid": cid, "uid": uid} for cid, uid in sorted(pairs)])
