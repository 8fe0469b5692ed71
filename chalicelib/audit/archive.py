"""The audit archive: each UTC day's records, written once to the log bucket, chained.

Layout (the log bucket, versioned, objects SSE-KMS with the app key):

    audit/YYYY/MM/DD/part-00000.jsonl.gz   records of the day, sorted by (at, event_id),
    audit/YYYY/MM/DD/part-00001.jsonl.gz   at most PART_RECORDS a part, as gzipped JSON Lines
    audit/YYYY/MM/DD/digest.json           the day's seal (written last)

Everything written is deterministic: a record is one line of JSON with sorted keys, gzip
carries no file name and mtime 0, and the digest has no timestamp. The same records give
the same bytes, so a rerun that finds nothing to do writes nothing, and a day rebuilt from
the same records reproduces the same objects.

The digest of a day names the day, each object's key, SHA-256, size and record count, and
`previous`: the day before and the SHA-256 of that day's `digest.json` bytes. The chain
links each day strictly to the calendar day before it. When that day has no digest (the
first day ever archived, or a day whose records expired before anyone archived them),
`previous` is null: that is the start of a chain. `verify` reports a day without a digest,
an object that is missing, changed or not listed, and a link that does not match. Objects
are put with a SHA-256 checksum that S3 checks on upload; an object the lifecycle has moved
to archive storage cannot be read without a restore, so for it `verify` compares S3's
stored checksum instead of recomputing (digests are too small to be transitioned).

When a day is archived: a day is sealed once, when its digest is written; a sealed day is
never written again. Audit records reach the table through the main table's stream, whose
records live 24 hours, so a record of day D can still arrive until about the end of D+1.
A day is therefore sealed only after SETTLE_DAYS full day has passed since it ended (the
daily job on day T seals days up to T-2). A record that would still arrive for a sealed
day (delayed beyond the stream's 24 hours, or stamped by a clock far off) stays searchable
in the table for its 14 days but is not in the archive. The oldest day the job considers
is T-13: the table keeps records 14 days, so older days may already be partly gone, and
sealing a partial day would hide the loss.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.audit.models import RETENTION_DAYS
from chalicelib.audit.store import AuditRecord, records_of_day
from chalicelib.config import settings
from chalicelib.observability import logger

PREFIX = "audit"
PART_RECORDS = 10_000
SETTLE_DAYS = 1  # full days a day is left to settle after it ends (stream records live 24 h)
FORMAT = "vo-audit-archive/1"
DIGEST_NAME = "digest.json"


# ---- layout -----------------------------------------------------------------


def day_prefix(day: date) -> str:
    return f"{PREFIX}/{day:%Y/%m/%d}/"


def digest_key(day: date) -> str:
    return day_prefix(day) + DIGEST_NAME


def part_key(day: date, number: int) -> str:
    return f"{day_prefix(day)}part-{number:05d}.jsonl.gz"


def last_archivable(today: date) -> date:
    """The newest day the job on `today` may seal."""
    return today - timedelta(days=1 + SETTLE_DAYS)


def first_archivable(today: date) -> date:
    """The oldest day still complete in the table on `today` (records live 14 days)."""
    return today - timedelta(days=RETENTION_DAYS - 1)


def days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# ---- what is written ----------------------------------------------------------


@dataclass(frozen=True)
class ArchivedObject:
    key: str
    sha256: str
    records: int
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "sha256": self.sha256, "records": self.records, "bytes": self.size}


@dataclass(frozen=True)
class DayArchive:
    day: date
    digest_key: str
    digest_sha256: str
    objects: list[ArchivedObject] = field(default_factory=list)
    previous_sha256: str | None = None
    written: bool = False  # False: the day was already sealed, nothing was written

    @property
    def records(self) -> int:
        return sum(o.records for o in self.objects)


@dataclass(frozen=True, order=True)
class Problem:
    """Something wrong in the archive, naming the object key (or the day's digest key)."""

    day: date
    kind: str  # missing-digest, bad-digest, missing-object, changed-object,
    #            unexpected-object, unverifiable-object, broken-chain
    key: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} {self.day.isoformat()} {self.key}: {self.detail}"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_line(record: AuditRecord) -> bytes:
    return (
        json.dumps(record.as_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        + "\n"
    ).encode()


def gzip_bytes(data: bytes) -> bytes:
    """gzip with no file name and mtime 0: the same input always gives the same bytes."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def parts(records: Iterable[AuditRecord], size: int) -> Iterator[tuple[bytes, int]]:
    """(gzipped JSON Lines, record count) per part of at most `size` records."""
    lines: list[bytes] = []
    for record in records:
        lines.append(record_line(record))
        if len(lines) == size:
            yield gzip_bytes(b"".join(lines)), len(lines)
            lines = []
    if lines:
        yield gzip_bytes(b"".join(lines)), len(lines)


def digest_bytes(
    day: date, objects: list[ArchivedObject], previous: dict[str, str] | None
) -> bytes:
    body = {
        "format": FORMAT,
        "day": day.isoformat(),
        "records": sum(o.records for o in objects),
        "objects": [o.as_dict() for o in objects],
        "previous": previous,
    }
    return (json.dumps(body, sort_keys=True, indent=2) + "\n").encode()


# ---- S3 ------------------------------------------------------------------------


def _s3() -> Any:
    return aws.client("s3")


def _bucket() -> str:
    return settings().log_bucket


def is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


def is_precondition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("412", "PreconditionFailed")


def read(key: str) -> bytes | None:
    """An object's bytes, or None when there is no such object."""
    try:
        out = _s3().get_object(Bucket=_bucket(), Key=key)
    except ClientError as error:
        if is_missing(error):
            return None
        raise
    body: bytes = out["Body"].read()
    return body


def exists(key: str) -> bool:
    try:
        _s3().head_object(Bucket=_bucket(), Key=key)
    except ClientError as error:
        if is_missing(error):
            return False
        raise
    return True


def keys_under(prefix: str) -> list[str]:
    found: list[str] = []
    for page in _s3().get_paginator("list_objects_v2").paginate(Bucket=_bucket(), Prefix=prefix):
        found.extend(item["Key"] for item in page.get("Contents", []))
    return found


def put(key: str, data: bytes, content_type: str, *, only_if_new: bool = False) -> None:
    """Write an object encrypted with the app's KMS key. `only_if_new`: refuse (412) to
    replace an existing object, so two concurrent runs cannot both seal a day."""
    extra: dict[str, Any] = {"IfNoneMatch": "*"} if only_if_new else {}
    _s3().put_object(
        Bucket=_bucket(),
        Key=key,
        Body=data,
        ContentType=content_type,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=settings().kms_key_id,
        ChecksumAlgorithm="SHA256",
        **extra,
    )


# ---- archiving -------------------------------------------------------------------


def _from_digest(day: date, data: bytes) -> DayArchive:
    body = json.loads(data)
    previous = body.get("previous") or {}
    return DayArchive(
        day=day,
        digest_key=digest_key(day),
        digest_sha256=sha256_hex(data),
        objects=[
            ArchivedObject(o["key"], o["sha256"], int(o["records"]), int(o["bytes"]))
            for o in body.get("objects", [])
        ],
        previous_sha256=previous.get("sha256"),
        written=False,
    )


def archive_day(
    day: date, *, part_records: int | None = None, today: date | None = None
) -> DayArchive:
    """Seal one UTC day: its records as parts, then its digest chained to the day before.

    A day that already has a digest is not written again (returned with written=False).
    A day interrupted before its digest is redone: a part whose bytes are already there is
    left alone, a part that differs is replaced, a leftover part is removed.
    """
    size = PART_RECORDS if part_records is None else part_records
    if size < 1:
        raise ValueError("part_records must be at least 1")
    if day > last_archivable(today or datetime.now(UTC).date()):
        ready = day + timedelta(days=1 + SETTLE_DAYS)
        raise ValueError(f"{day} has not settled yet; it can be archived from {ready}")
    sealed = read(digest_key(day))
    if sealed is not None:
        return _from_digest(day, sealed)

    records = sorted(records_of_day(day.isoformat()), key=lambda r: (r.at, r.event_id))
    objects: list[ArchivedObject] = []
    for number, (data, count) in enumerate(parts(records, size)):
        key = part_key(day, number)
        if read(key) != data:  # absent, or left by an interrupted run with other records
            put(key, data, "application/gzip")
        objects.append(ArchivedObject(key, sha256_hex(data), count, len(data)))
    wanted = {o.key for o in objects} | {digest_key(day)}
    stale = [k for k in keys_under(day_prefix(day)) if k not in wanted]
    for key in stale:
        _s3().delete_object(Bucket=_bucket(), Key=key)

    before = day - timedelta(days=1)
    previous_data = read(digest_key(before))
    previous = (
        None
        if previous_data is None
        else {"day": before.isoformat(), "sha256": sha256_hex(previous_data)}
    )
    data = digest_bytes(day, objects, previous)
    try:
        put(digest_key(day), data, "application/json", only_if_new=True)
    except ClientError as error:
        if not is_precondition_failed(error):
            raise
        existing = read(digest_key(day)) or b""  # another run sealed it first
        logger.warning(
            "audit day sealed concurrently",
            extra={"day": day.isoformat(), "same": existing == data},
        )
        return _from_digest(day, existing)
    logger.info(
        "audit day archived",
        extra={"day": day.isoformat(), "records": len(records), "objects": len(objects)},
    )
    return DayArchive(
        day=day,
        digest_key=digest_key(day),
        digest_sha256=sha256_hex(data),
        objects=objects,
        previous_sha256=previous["sha256"] if previous else None,
        written=True,
    )


def archive_pending(today: date | None = None) -> list[DayArchive]:
    """The daily job: seal every unsealed day from T-13 to T-2, oldest first, so each day
    is sealed after the day it chains to. Returns the days sealed by this run ([] when
    there was nothing to do). `today` is the job's clock: an operator who names a later
    day seals days before they settled, and late records of those days stay unarchived."""
    today = today or datetime.now(UTC).date()
    done: list[DayArchive] = []
    for day in days(first_archivable(today), last_archivable(today)):
        if exists(digest_key(day)):
            continue
        archived = archive_day(day, today=today)
        if archived.written:
            done.append(archived)
    return done


# ---- verifying ----------------------------------------------------------------------


def stored_sha256(key: str) -> str | None:
    """The SHA-256 S3 checked when the object was uploaded (hex), if it has one: objects are
    put with ChecksumAlgorithm=SHA256, and S3 refuses an upload whose bytes do not match."""
    head = _s3().head_object(Bucket=_bucket(), Key=key, ChecksumMode="ENABLED")
    value = head.get("ChecksumSHA256")
    if not value or "-" in value:  # absent, or a multipart upload's checksum of checksums
        return None
    return base64.b64decode(value).hex()


def _check_archived(day: date, key: str, entry: dict[str, Any]) -> list[Problem]:
    """An object in archive storage (the lifecycle moves objects of 128 KB and more to
    GLACIER after 14 days) cannot be read without a restore: check S3's own checksum."""
    stored = stored_sha256(key)
    if stored is None:
        detail = "in archive storage with no SHA-256 checksum: restore it to check its bytes"
        return [Problem(day, "unverifiable-object", key, detail)]
    if stored != entry.get("sha256"):
        return [Problem(day, "changed-object", key, "SHA-256 differs from the digest")]
    return []


def _check_day(day: date, data: bytes) -> tuple[list[Problem], dict[str, Any] | None]:
    key = digest_key(day)
    try:
        body = json.loads(data)
        if not isinstance(body, dict) or body.get("day") != day.isoformat():
            raise ValueError("digest of another day")
        listed = {o["key"]: o for o in body["objects"]}
    except (ValueError, KeyError, TypeError) as error:
        return [Problem(day, "bad-digest", key, f"digest cannot be read ({error})")], None

    problems: list[Problem] = []
    for object_key, entry in listed.items():
        try:
            content = read(object_key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "InvalidObjectState":
                raise
            problems.extend(_check_archived(day, object_key, entry))
            continue
        if content is None:
            problems.append(Problem(day, "missing-object", object_key, "listed in the digest"))
        elif sha256_hex(content) != entry.get("sha256"):
            problems.append(
                Problem(day, "changed-object", object_key, "SHA-256 differs from the digest")
            )
    for object_key in keys_under(day_prefix(day)):
        if object_key != key and object_key not in listed:
            problems.append(
                Problem(day, "unexpected-object", object_key, "not listed in the digest")
            )
    return problems, body


def verify(first: date, last: date) -> list[Problem]:
    """Check every day from `first` to `last`: a digest per day, each listed object present
    with its SHA-256, nothing unlisted, and each digest linked to the day before."""
    if first > last:
        raise ValueError("first day is after the last")
    problems: list[Problem] = []
    before = first - timedelta(days=1)
    previous_data = read(digest_key(before))  # the link into the range, if there is one
    for day in days(first, last):
        key = digest_key(day)
        data = read(key)
        if data is None:
            problems.append(Problem(day, "missing-digest", key, "the day has no digest"))
            previous_data, before = None, day
            continue
        found, body = _check_day(day, data)
        problems.extend(found)
        if body is not None:
            link = body.get("previous")
            prior = digest_key(before)
            if link is None:
                if previous_data is not None:
                    problems.append(Problem(day, "broken-chain", key, f"does not link to {prior}"))
            elif not isinstance(link, dict) or link.get("day") != before.isoformat():
                problems.append(Problem(day, "broken-chain", key, "links to another day"))
            elif previous_data is None:
                if before < first:  # inside the range, the missing day is reported already
                    problems.append(
                        Problem(day, "broken-chain", key, f"links to {prior}, which is missing")
                    )
            elif link.get("sha256") != sha256_hex(previous_data):
                problems.append(
                    Problem(day, "broken-chain", key, f"{prior} is not the digest it links to")
                )
        previous_data, before = data, day
    return problems


# ---- reading back ------------------------------------------------------------------


def archived_records(day: date) -> Iterator[AuditRecord]:
    """Every archived record of one day, from the objects its digest lists, each checked
    against its SHA-256 first (a changed object raises rather than being read)."""
    data = read(digest_key(day))
    if data is None:
        return
    for entry in json.loads(data).get("objects", []):
        content = read(entry["key"])
        if content is None or sha256_hex(content) != entry.get("sha256"):
            raise ValueError(f"{entry['key']} does not match its day's digest")
        for line in gzip.decompress(content).decode().splitlines():
            if line.strip():
                fields = json.loads(line)
                yield AuditRecord(**fields)
