"""Feeds an SQS queue to its handler as Lambda's event source does: a few pollers at once
(Lambda runs several), one message an invocation, the message deleted when the handler
did not fail it, made visible again (for its next try, five in all) when it did."""

from __future__ import annotations

import logging
import threading
from typing import Any

from devstack.streams import LambdaContext

log = logging.getLogger("devstack.queues")

RETRY_AFTER_SECONDS = 2  # a failed message comes back this much later (AWS: the visibility timeout)


def lambda_event(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's event source hands it to a function."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
        ]
    }


class QueuePoller:
    def __init__(
        self, sqs: Any, url: str, arn: str, handler: Any, name: str, workers: int = 2
    ) -> None:
        self._sqs = sqs
        self._url = url
        self._arn = arn
        self._handler = handler
        self._name = name
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{n}", daemon=True)
            for n in range(workers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                out = self._sqs.receive_message(
                    QueueUrl=self._url,
                    MaxNumberOfMessages=1,
                    WaitTimeSeconds=1,
                    AttributeNames=["ApproximateReceiveCount"],
                )
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("receiving from %s failed", self._name)
                self._stop.wait(1)
                continue
            for message in out.get("Messages", []):
                self._deliver(message)

    def _deliver(self, message: dict[str, Any]) -> None:
        event = lambda_event(message, self._arn)
        try:
            answer = self._handler(event, LambdaContext(self._name))
            failed = bool(answer and answer.get("batchItemFailures"))
        except Exception:
            log.exception("%s failed a message", self._name)
            failed = True
        try:
            if failed:
                self._sqs.change_message_visibility(
                    QueueUrl=self._url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=RETRY_AFTER_SECONDS,
                )
            else:
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        except Exception:
            log.exception("%s could not settle a message", self._name)
