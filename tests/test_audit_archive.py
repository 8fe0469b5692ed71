"""The audit archive in the log bucket, the logs export, and the bucket's lifecycle rules."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib import aws
from chalicelib.audit import archive, logs_export
from chalicelib.audit.store import AuditRecord, write
from devstack.stack import lifecycle_rules, resources
from tools import audit_archive

TODAY = date(2026, 11, 6)  # the window is 2026-10-24 .. 2026-11-04
DAYS = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 4)]  # 11-03 has no records
PER_DAY = 7
PART = 3  # records per part in these tests: 7 records -> 3 parts


def _at(day: date, second: int) -> str:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=second)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _records(day: date, count: int) -> list[AuditRecord]:
    out = []
    for n in range(count):
        second = 86399 if n == 0 else (3600 * n if n % 3 else 3600)  # two share one instant
        scope: dict[str, str] = (
            {"campaign_id": "c1"} if n % 3 == 0 else {"user_id": "u1"} if n % 3 == 1 else {}
        )
        out.append(
            AuditRecord(
                event_id=uuid.uuid4().hex,
                at=_at(day, second),
                actor_id=None if not scope else "u1",
                event="action.updated" if scope else "auth.failed",
                target=f"t{n}",
                fields=["title"],
                values={"title": f"Door knocking é {n}", "count": n},
                **scope,
            )
        )
    return out


@pytest.fixture
def written(stack, monkeypatch):
    """Audit records on DAYS (written in random order), the day before the window and
    the day after it; parts of PART records."""
    monkeypatch.setattr(archive, "PART_RECORDS", PART)
    by_day = {day: _records(day, PER_DAY) for day in DAYS}
    outside = _records(date(2026, 10, 23), 2) + _records(date(2026, 11, 5), 2)
    everything = [r for rs in by_day.values() for r in rs] + outside
    random.Random(7).shuffle(everything)
    write(everything)
    return by_day


def _s3():
    return aws.client("s3")


def _bucket(stack):
    return stack["LOG_BUCKET"]


def _snapshot(stack, prefix="audit/"):
    """Every current object under `prefix` with its bytes, and every version and delete
    marker (the bucket is versioned: an object written twice has two versions)."""
    s3 = _s3()
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=_bucket(stack), Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=_bucket(stack), Key=item["Key"])["Body"].read()
            objects[item["Key"]] = body
    versions = s3.list_object_versions(Bucket=_bucket(stack), Prefix=prefix)
    history = sorted(
        (v["Key"], v["VersionId"])
        for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])
    )
    return objects, history


def _wipe(stack, prefix="audit/"):
    """Erase every version, as only an operator allowed to bypass the Object Lock can."""
    s3 = _s3()
    versions = s3.list_object_versions(Bucket=_bucket(stack), Prefix=prefix)
    for v in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
        s3.delete_object(
            Bucket=_bucket(stack),
            Key=v["Key"],
            VersionId=v["VersionId"],
            BypassGovernanceRetention=True,
        )


def test_archived_versions_are_locked_against_deletion(stack, written):
    """Object Lock: the archived version itself stays until its retention ends, unless the
    governance lock is bypassed on purpose."""
    import pytest
    from botocore.exceptions import ClientError

    archive.archive_pending(TODAY)
    s3 = _s3()
    key = archive.digest_key(_window()[1])
    version = s3.head_object(Bucket=_bucket(stack), Key=key)["VersionId"]
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=_bucket(stack), Key=key, VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert s3.head_object(Bucket=_bucket(stack), Key=key, VersionId=version)["ContentLength"]


def _window():
    return archive.first_archivable(TODAY), archive.last_archivable(TODAY)


def _lines(data: bytes) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(data).decode().splitlines()]


def test_the_window_is_the_retention_less_the_settling_day():
    assert _window() == (date(2026, 10, 24), date(2026, 11, 4))
    assert archive.digest_key(date(2026, 11, 4)) == "audit/2026/11/04/digest.json"
    assert archive.part_key(date(2026, 11, 4), 12) == "audit/2026/11/04/part-00012.jsonl.gz"


def test_run_twice_writes_the_same_objects_once(stack, written):
    first = archive.archive_pending(TODAY)
    assert [a.day for a in first] == list(archive.days(*_window()))  # oldest first, no gaps
    objects, history = _snapshot(stack)
    assert len(history) == len(objects)  # one version per object

    assert archive.archive_pending(TODAY) == []
    assert all(not archive.archive_day(day).written for day in archive.days(*_window()))
    assert _snapshot(stack) == (objects, history)  # same bytes, not one new version

    # an independent run from the same records gives byte-identical objects
    _wipe(stack)
    again = archive.archive_pending(TODAY)
    assert [a.digest_sha256 for a in again] == [a.digest_sha256 for a in first]
    assert _snapshot(stack)[0] == objects


def test_an_interrupted_day_is_sealed_without_rewriting_its_parts(stack, written):
    archive.archive_pending(TODAY)
    objects, history = _snapshot(stack)
    day = DAYS[1]
    _s3().delete_object(Bucket=_bucket(stack), Key=archive.digest_key(day))  # as if it crashed

    assert [a.day for a in archive.archive_pending(TODAY)] == [day]
    after, after_history = _snapshot(stack)
    assert after == objects  # the same digest again: the chain holds
    new = sorted(set(after_history) - set(history))
    assert [key for key, _ in new] == [archive.digest_key(day)] * 2  # delete marker + digest
    assert archive.verify(*_window()) == []


def test_a_record_arriving_after_its_day_was_sealed_changes_nothing_archived(stack, written):
    """A sealed day is final: a late record for it is not merged into its parts, which
    would change objects the digest vouches for."""
    archive.archive_pending(TODAY)
    objects, history = _snapshot(stack)
    day = DAYS[0]
    write(_records(day, 1))  # late, stamped within the sealed day

    again = archive.archive_day(day, today=TODAY)
    assert not again.written
    assert _snapshot(stack) == (objects, history)
    assert archive.verify(*_window()) == []


def test_records_are_sorted_complete_and_in_parts(stack, written):
    archive.archive_pending(TODAY)
    objects, _ = _snapshot(stack)
    for day, records in written.items():
        prefix = archive.day_prefix(day)
        keys = sorted(k for k in objects if k.startswith(prefix) and k.endswith(".jsonl.gz"))
        assert keys == [archive.part_key(day, n) for n in range(3)]  # 3 + 3 + 1
        lines = [line for key in keys for line in _lines(objects[key])]
        expected = sorted(records, key=lambda r: (r.at, r.event_id))
        assert lines == [r.as_dict() for r in expected]
        assert all(line["at"].startswith(day.isoformat()) for line in lines)

        digest = json.loads(objects[archive.digest_key(day)])
        assert digest["day"] == day.isoformat()
        assert digest["records"] == PER_DAY
        assert [o["key"] for o in digest["objects"]] == keys
        assert [o["records"] for o in digest["objects"]] == [3, 3, 1]
        for entry in digest["objects"]:
            assert entry["sha256"] == hashlib.sha256(objects[entry["key"]]).hexdigest()
        raw = gzip.decompress(objects[keys[0]])
        assert b'"actor_id":' in raw and b"\xc3\xa9" in raw  # compact JSON, UTF-8 kept

    empty = json.loads(objects[archive.digest_key(date(2026, 11, 3))])
    assert empty["objects"] == [] and empty["records"] == 0  # a quiet day is sealed too
    assert not any(k.startswith("audit/2026/10/23/") for k in objects)  # before the window
    assert not any(k.startswith("audit/2026/11/05/") for k in objects)  # not settled yet


def test_each_digest_chains_to_the_day_before(stack, written):
    archive.archive_pending(TODAY)
    objects, _ = _snapshot(stack)
    first, last = _window()
    assert json.loads(objects[archive.digest_key(first)])["previous"] is None  # chain start
    for day in archive.days(first + timedelta(days=1), last):
        before = archive.digest_key(day - timedelta(days=1))
        link = json.loads(objects[archive.digest_key(day)])["previous"]
        assert link == {
            "day": (day - timedelta(days=1)).isoformat(),
            "sha256": hashlib.sha256(objects[before]).hexdigest(),
        }

    # the next day's run links onto the chain
    (nxt,) = archive.archive_pending(TODAY + timedelta(days=1))
    assert nxt.day == last + timedelta(days=1) and nxt.records == 2
    assert nxt.previous_sha256 == hashlib.sha256(objects[archive.digest_key(last)]).hexdigest()


def test_objects_are_encrypted_with_the_app_key(stack, written):
    archive.archive_pending(TODAY)
    head = _s3().head_object(Bucket=_bucket(stack), Key=archive.part_key(DAYS[0], 0))
    assert head["ServerSideEncryption"] == "aws:kms"
    assert stack["KMS_KEY_ID"] in head["SSEKMSKeyId"]
    assert head["ContentType"] == "application/gzip"


def test_a_clean_range_verifies(stack, written, capsys):
    archive.archive_pending(TODAY)
    assert archive.verify(*_window()) == []
    code = audit_archive.main(["verify", "--from", "2026-10-24", "--to", "2026-11-04"])
    assert code == 0
    assert "12 day(s) intact" in capsys.readouterr().out


def test_a_changed_object_is_named(stack, written, capsys):
    archive.archive_pending(TODAY)
    key = archive.part_key(DAYS[1], 1)
    original = _s3().get_object(Bucket=_bucket(stack), Key=key)["Body"].read()
    lines = gzip.decompress(original).splitlines(keepends=True)
    forged = gzip.compress(b"".join(lines[:-1]), mtime=0)  # one record taken out
    _s3().put_object(Bucket=_bucket(stack), Key=key, Body=forged)

    problems = archive.verify(*_window())
    assert [(p.kind, p.key, p.day) for p in problems] == [("changed-object", key, DAYS[1])]

    code = audit_archive.main(["verify", "--from", "2026-10-24", "--to", "2026-11-04"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert len(out) == 1 and key in out[0]


def test_a_missing_digest_names_the_day(stack, written, capsys):
    archive.archive_pending(TODAY)
    day = DAYS[0]
    _s3().delete_object(Bucket=_bucket(stack), Key=archive.digest_key(day))

    problems = archive.verify(*_window())
    assert [(p.kind, p.day) for p in problems] == [("missing-digest", day)]

    code = audit_archive.main(["verify", "--from", "2026-10-31", "--to", "2026-11-02"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert len(out) == 1 and "2026-11-01" in out[0] and "missing-digest" in out[0]

    # starting the range just after the gap: the link out of the range is checked too
    assert [(p.kind, p.day) for p in archive.verify(DAYS[1], DAYS[1])] == [
        ("broken-chain", DAYS[1])
    ]


def test_a_changed_digest_breaks_the_chain(stack, written):
    archive.archive_pending(TODAY)
    day = DAYS[0]
    key = archive.digest_key(day)
    body = json.loads(_s3().get_object(Bucket=_bucket(stack), Key=key)["Body"].read())
    body["records"] = 6
    _s3().put_object(Bucket=_bucket(stack), Key=key, Body=json.dumps(body).encode())

    problems = archive.verify(*_window())
    assert [(p.kind, p.day) for p in problems] == [("broken-chain", DAYS[1])]
    assert key in str(problems[0])


def test_missing_and_unlisted_objects_are_named(stack, written):
    archive.archive_pending(TODAY)
    gone = archive.part_key(DAYS[2], 2)
    extra = archive.day_prefix(DAYS[2]) + "part-00003.jsonl.gz"
    _s3().delete_object(Bucket=_bucket(stack), Key=gone)
    _s3().put_object(Bucket=_bucket(stack), Key=extra, Body=b"slipped in")

    problems = archive.verify(DAYS[2], DAYS[2])
    assert sorted((p.kind, p.key) for p in problems) == [
        ("missing-object", gone),
        ("unexpected-object", extra),
    ]


def test_the_run_command_archives_what_is_due(stack, written, capsys):
    assert audit_archive.main(["run", "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "2026-11-02: 7 record(s) in 3 object(s)" in out
    assert "12 day(s) archived" in out
    assert audit_archive.main(["run", "--today", TODAY.isoformat()]) == 0
    assert "0 day(s) archived" in capsys.readouterr().out


def test_unsettled_days_and_bad_ranges_are_refused(stack):
    today = datetime.now(UTC).date()
    with pytest.raises(ValueError):
        archive.archive_day(today - timedelta(days=1))
    with pytest.raises(ValueError):
        archive.verify(DAYS[1], DAYS[0])
    with pytest.raises(SystemExit):
        audit_archive.main(["verify", "--from", "2026-11-02", "--to", "2026-11-01"])
    with pytest.raises(SystemExit):
        audit_archive.main(["verify", "--from", "yesterday", "--to", "2026-11-01"])


def test_bucket_lifecycle_rules_are_the_infra_ones(stack):
    rules = _s3().get_bucket_lifecycle_configuration(Bucket=_bucket(stack))["Rules"]
    assert rules == lifecycle_rules(resources("AWS::S3::Bucket")["LogBucket"])
    by_id = {rule["ID"]: rule for rule in rules}
    assert all(rule["Status"] == "Enabled" for rule in rules)
    transitions = [t for rule in rules for t in rule.get("Transitions", [])]
    assert {"Days": 14, "StorageClass": "GLACIER_IR"} in transitions
    assert any(
        rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
        for rule in by_id.values()
    )
    assert any(
        rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") for rule in by_id.values()
    )
    versioning = _s3().get_bucket_versioning(Bucket=_bucket(stack))
    assert versioning["Status"] == "Enabled"


def test_log_group_keeps_fourteen_days(stack):
    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix=stack["LOG_GROUP_NAME"])
    (group,) = [g for g in groups["logGroups"] if g["logGroupName"] == stack["LOG_GROUP_NAME"]]
    assert group["retentionInDays"] == 14
    assert resources("AWS::Logs::LogGroup")["AppLogGroup"]["RetentionInDays"] == 14


def _put_logs(stack, day: date, messages: list[str]) -> None:
    logs = aws.client("logs")
    stream = f"{day:%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
    logs.create_log_stream(logGroupName=stack["LOG_GROUP_NAME"], logStreamName=stream)
    start = int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1000)
    out = logs.put_log_events(
        logGroupName=stack["LOG_GROUP_NAME"],
        logStreamName=stream,
        logEvents=[{"timestamp": start + n, "message": m} for n, m in enumerate(messages)],
    )
    assert not out.get("rejectedLogEventsInfo")


def test_logs_export_writes_a_day_under_logs(stack):
    today = datetime.now(UTC).date()  # the emulator refuses log events older than 14 days
    day = today - timedelta(days=2)
    _put_logs(stack, day, ['{"level":"INFO","message":"request one"}', "request two"])
    _put_logs(stack, day - timedelta(days=1), ["the day before"])

    task_id = logs_export.export_day(day)
    assert task_id is not None
    assert logs_export.task_status(task_id) == "COMPLETED"
    objects, history = _snapshot(stack, prefix=logs_export.day_prefix(day) + "/")
    marker = json.loads(objects.pop(logs_export.marker_key(day)))
    assert marker["task_id"] == task_id and marker["day"] == day.isoformat()
    assert marker["task_name"] == f"vo-test-logs-{day.isoformat()}"
    exported = b"".join(gzip.decompress(body) for body in objects.values())
    assert b"request one" in exported and b"request two" in exported
    assert b"the day before" not in exported

    assert logs_export.export_day(day) is None  # exported already: no second task
    assert _snapshot(stack, prefix=logs_export.day_prefix(day) + "/")[1] == history

    started = logs_export.export_pending(today, poll_seconds=0.01)
    assert len(started) == 11  # the rest of T-13 .. T-2, one task each
    first, last = archive.first_archivable(today), archive.last_archivable(today)
    assert all(logs_export.exported(d) for d in archive.days(first, last))
    assert logs_export.export_pending(today) == []


def test_gzip_carries_no_name_and_no_time():
    data = archive.gzip_bytes(b'{"a":1}\n')
    assert data[:3] == b"\x1f\x8b\x08"
    assert data[3] == 0  # flags: no file name, no comment, no extra field
    assert data[4:8] == b"\0\0\0\0"  # mtime 0
    assert data == archive.gzip_bytes(b'{"a":1}\n')


def test_objects_in_archive_storage_are_checked_by_their_stored_checksum(stack, written):
    """After 14 days the lifecycle moves parts to GLACIER, where they cannot be read."""
    archive.archive_pending(TODAY)
    s3, bucket = _s3(), _bucket(stack)
    keys = [archive.part_key(DAYS[0], n) for n in range(3)]
    same = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    forged = gzip.compress(b"{}\n", mtime=0)
    common = {"Bucket": bucket, "StorageClass": "GLACIER"}
    s3.put_object(Key=keys[0], Body=same, ChecksumAlgorithm="SHA256", **common)
    s3.put_object(Key=keys[1], Body=forged, ChecksumAlgorithm="SHA256", **common)
    s3.put_object(Key=keys[2], Body=forged, **common)  # no SHA-256 stored with it
    with pytest.raises(s3.exceptions.ClientError, match="InvalidObjectState"):
        s3.get_object(Bucket=bucket, Key=keys[0])

    problems = archive.verify(DAYS[0], DAYS[0])
    assert sorted((p.kind, p.key) for p in problems) == [
        ("changed-object", keys[1]),
        ("unverifiable-object", keys[2]),
    ]


def test_a_days_records_spread_over_the_index_and_come_back_in_order(stack):
    import boto3

    from chalicelib.audit.store import DAY_SHARDS, records_of_day

    day = date(2026, 11, 2)
    records = _records(day, 23)  # one an hour: all on the day
    write(records)
    table = boto3.resource("dynamodb").Table(stack["AUDIT_TABLE"])
    keys = {i["gsi1pk"] for i in table.scan()["Items"] if i["gsi1pk"].startswith("DAY#2026-11-02")}
    # no one key takes a busy day's writes (23 random ids fill fewer than 4 of 8 shards
    # about once in a billion runs)
    assert 4 <= len(keys) <= DAY_SHARDS
    assert keys <= {f"DAY#2026-11-02#{n}" for n in range(DAY_SHARDS)}
    back = list(records_of_day("2026-11-02"))
    assert sorted(r.event_id for r in back) == sorted(r.event_id for r in records)
    assert [(r.at, r.event_id) for r in back] == sorted((r.at, r.event_id) for r in back)
