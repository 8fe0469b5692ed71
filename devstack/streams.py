"""Feeds the main table's stream to the app's DynamoDB stream handlers, as Lambda does.

Records are handed over in batches of the handler's batch size, shaped as Lambda
shapes them (`eventSourceARN` added: moto's GetRecords leaves it out). With
ReportBatchItemFailures semantics: the batch is checkpointed before the first
failed record, which is delivered again (with the rest) after a pause; a handler
that raises gets the whole batch again. A record that fails MAX_ATTEMPTS times is
logged and passed over, as a Lambda event source mapping with a retry limit would.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger("devstack.streams")

MAX_ATTEMPTS = 5
REFRESH_AFTER_IDLE_POLLS = 4  # about a second at the default interval


class LambdaContext:
    def __init__(self, name: str) -> None:
        self.function_name = name
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.aws_request_id = f"local-{time.time_ns()}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def lambda_records(records: list[dict[str, Any]], stream_arn: str, region: str) -> dict[str, Any]:
    out = []
    for record in records:
        shaped = dict(record)
        shaped["eventSourceARN"] = stream_arn
        shaped.setdefault("awsRegion", region)
        shaped.setdefault("eventSource", "aws:dynamodb")
        shaped.setdefault("eventVersion", "1.1")
        dynamodb = dict(shaped.get("dynamodb", {}))
        created = dynamodb.get("ApproximateCreationDateTime")
        if created is not None and hasattr(created, "timestamp"):
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        shaped["dynamodb"] = dynamodb
        out.append(shaped)
    return {"Records": out}


class StreamPoller:
    """One thread per (handler, shard), polling until stopped."""

    def __init__(
        self,
        streams_client: Any,
        stream_arn: str,
        handler: Any,
        name: str,
        batch_size: int,
        region: str,
        poll_interval: float = 0.25,
    ) -> None:
        self._client = streams_client
        self._arn = stream_arn
        self._handler = handler
        self._name = name
        self._batch_size = batch_size
        self._region = region
        self._interval = poll_interval
        self._stop = threading.Event()
        self._threads: dict[str, threading.Thread] = {}
        self._supervisor = threading.Thread(target=self._watch_shards, daemon=True)

    def start(self) -> None:
        self._supervisor.start()

    def stop(self) -> None:
        self._stop.set()
        self._supervisor.join(timeout=5)
        for thread in self._threads.values():
            thread.join(timeout=5)

    def _watch_shards(self) -> None:
        while not self._stop.is_set():
            try:
                shards = self._client.describe_stream(StreamArn=self._arn)["StreamDescription"][
                    "Shards"
                ]
            except Exception:
                log.exception("describe_stream failed")
                shards = []
            for shard in shards:
                shard_id = shard["ShardId"]
                if shard_id not in self._threads:
                    thread = threading.Thread(target=self._poll, args=(shard_id,), daemon=True)
                    self._threads[shard_id] = thread
                    thread.start()
            self._stop.wait(2.0)

    def _iterator(self, shard_id: str, after: str | None, at: str | None = None) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self._arn, "ShardId": shard_id}
        if at:
            kwargs.update(ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=at)
        elif after:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after)
        else:
            kwargs.update(ShardIteratorType="TRIM_HORIZON")
        return str(self._client.get_shard_iterator(**kwargs)["ShardIterator"])

    def _poll(self, shard_id: str) -> None:
        checkpoint: str | None = None  # last sequence number fully handled
        pending: list[dict[str, Any]] = []  # fetched, not yet handled
        iterator: str | None = self._iterator(shard_id, None)
        attempts: dict[str, int] = {}
        idle = 0  # polls in a row that found nothing
        while not self._stop.is_set():
            try:
                if len(pending) < self._batch_size and iterator:
                    out = self._client.get_records(ShardIterator=iterator, Limit=1000)
                    pending.extend(out.get("Records", []))
                    iterator = out.get("NextShardIterator")
                if not pending:
                    self._stop.wait(self._interval)
                    if iterator is None:
                        return  # the shard is closed and drained
                    idle += 1
                    if idle % REFRESH_AFTER_IDLE_POLLS == 0:
                        # A fresh iterator from the checkpoint: an iterator can go stale
                        # (AWS's expire after 15 minutes; moto's stop seeing new records
                        # once a refused transaction has restored the table behind it).
                        iterator = self._iterator(shard_id, checkpoint)
                    continue
                idle = 0
                batch = pending[: self._batch_size]
                failed_at = self._deliver(batch)
                if failed_at is None:
                    checkpoint = batch[-1]["dynamodb"]["SequenceNumber"]
                    del pending[: len(batch)]
                    continue
                sequence = batch[failed_at]["dynamodb"]["SequenceNumber"]
                attempts[sequence] = attempts.get(sequence, 0) + 1
                handled = failed_at
                if attempts[sequence] >= MAX_ATTEMPTS:
                    log.error(
                        "%s: record %s failed %d times; passed over",
                        self._name,
                        sequence,
                        MAX_ATTEMPTS,
                    )
                    handled = failed_at + 1
                if handled:
                    checkpoint = batch[handled - 1]["dynamodb"]["SequenceNumber"]
                del pending[:handled]
                self._stop.wait(min(0.2 * 2 ** attempts[sequence], 5.0))
            except Exception:
                log.exception("%s: polling shard %s failed; resuming", self._name, shard_id)
                pending.clear()
                self._stop.wait(1.0)
                try:
                    iterator = self._iterator(shard_id, checkpoint)
                except Exception:
                    log.exception("could not resume shard %s", shard_id)

    def _deliver(self, batch: list[dict[str, Any]]) -> int | None:
        """Hand a batch to the handler: the index of the first failed record, or None."""
        event = lambda_records(batch, self._arn, self._region)
        try:
            result = self._handler(event, LambdaContext(self._name))
        except Exception:
            log.exception("%s raised; the batch will be delivered again", self._name)
            return 0
        failures = (result or {}).get("batchItemFailures") or []
        if not failures:
            return None
        failed = {f.get("itemIdentifier") for f in failures}
        for index, record in enumerate(batch):
            if record["dynamodb"]["SequenceNumber"] in failed:
                return index
        return 0
