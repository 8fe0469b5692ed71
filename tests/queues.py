"""The import queue, worked as Lambda's event source works it: messages handed to the
import worker (under its role), the ones it did not fail deleted, a failed one made visible
again for its next try (after five, SQS moves it to the dead-letter queue)."""

from __future__ import annotations

from typing import Any

import boto3


class ImportQueue:
    def __init__(self, env: dict[str, str], chalice_client: Any) -> None:
        self._client = chalice_client
        self.url = env["IMPORT_QUEUE_URL"]
        self._sqs = boto3.client("sqs")
        name = self.url.rstrip("/").rsplit("/", 1)[1]
        self.arn = f"arn:aws:sqs:{env['AWS_DEFAULT_REGION']}:123456789012:{name}"

    def receive(self, most: int = 10) -> list[dict[str, Any]]:
        """Up to `most` messages, now invisible to others for the visibility timeout."""
        out = self._sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=most,
            AttributeNames=["ApproximateReceiveCount"],
            WaitTimeSeconds=0,
        )
        return list(out.get("Messages", []))

    def deliver(self, message: dict[str, Any]) -> bool:
        """Hand one message to the worker; True when it did not fail it."""
        from devstack.queues import lambda_event

        event = lambda_event(message, self.arn)
        answer = self._client.lambda_.invoke("import_worker", event).payload
        failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
        if message["MessageId"] in failed:
            self._sqs.change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
            return False
        self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return True

    def drain(self, most: int = 10_000) -> int:
        """Work the queue until it is empty (the work sends more messages as it goes);
        how many messages were handled."""
        handled = 0
        while handled < most:
            messages = self.receive()
            if not messages:
                return handled
            for message in messages:
                self.deliver(message)
                handled += 1
        raise AssertionError(f"the import queue was not empty after {most} messages")
