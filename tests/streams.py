"""Reads the main table's stream on the emulator and hands batches to the app's
stream handlers through chalice's test client, shaped as Lambda shapes them."""

from __future__ import annotations

import json
from typing import Any

import boto3

from devstack.streams import lambda_records


def broken_copy(record: dict[str, Any], sequence: str, **image: Any) -> dict[str, Any]:
    """A copy of `record` under another sequence number, its NewImage changed by `image`
    (a value of None removes the attribute): a record its handler cannot take."""
    copy: dict[str, Any] = json.loads(json.dumps(record, default=str))
    copy["dynamodb"]["SequenceNumber"] = sequence
    new_image = copy["dynamodb"]["NewImage"]
    for name, value in image.items():
        if value is None:
            new_image.pop(name, None)
        else:
            new_image[name] = value
    return copy


class StreamTap:
    def __init__(self, env: dict[str, str], chalice_client: Any) -> None:
        self._client = chalice_client
        self._region = env["AWS_DEFAULT_REGION"]
        ddb = boto3.client("dynamodb")
        self.arn = ddb.describe_table(TableName=env["MAIN_TABLE"])["Table"]["LatestStreamArn"]
        self._streams = boto3.client("dynamodbstreams")
        self._iterators: dict[str, str | None] = {}

    def read(self) -> list[dict[str, Any]]:
        """Every record written since the last read (all shards)."""
        shards = self._streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            while iterator:
                out = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                records += out["Records"]
                iterator = out.get("NextShardIterator")
                if not out["Records"]:
                    break
            self._iterators[shard_id] = iterator
        return records

    def event(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return lambda_records(records, self.arn, self._region)

    def deliver(self, handler: str, records: list[dict[str, Any]] | None = None) -> Any:
        """Hand records (by default: everything new) to a stream handler; its answer."""
        batch = self.read() if records is None else records
        return self._client.lambda_.invoke(handler, self.event(batch)).payload
