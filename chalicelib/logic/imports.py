"""The voter-list import pipeline: files land in S3, work runs in chunks fed by SQS.

1. The admin asks for an upload (`start_upload`: the list, `waiting_upload`, and a presigned
   PUT URL for `uploads/<cid>/<lid>.csv`), or sends small lists inline (`inline_upload`: the
   rows are checked at once and written to the same place as CSV).
2. The object's arrival is an S3 notification on the import queue. `plan` streams the file
   once (memory flat whatever its size), finds where every CHUNK_ROWS-th record starts
   (quoted fields may hold line breaks), checks the header and the limits, moves the list to
   `importing` with its row and chunk totals, and sends one message per chunk.
3. Each chunk (`import_chunk`) reads its byte range, checks and normalises its rows (row
   numbers are the file's), writes them with their match keys, keeps its rows' problems, and
   counts itself on the list once (a redelivered chunk rewrites the same items and is not
   counted again). The chunk that completes the count makes the list `ready`; only then does
   it match. The uploaded file is deleted when the import ends.
4. A list that cannot be imported (no header, too large, a chunk that keeps failing) is
   `failed` with the reason, and its rows, if any were written, are erased the same way a
   deleted list's are (`erase_rows`: one message per part, each deleting a page and sending
   itself again until its part is empty; the last part removes the list).

Messages carry ids and byte offsets, never row data.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

from chalicelib import aws, config
from chalicelib.auth.policy import Permission
from chalicelib.dal import lists as lists_dal
from chalicelib.dal.common import iso, new_id, now
from chalicelib.domain.lists import VoterList
from chalicelib.errors import InvalidInput
from chalicelib.logic import matching, providers, targets, work_queue
from chalicelib.logic.access import require
from chalicelib.logic.lists import FIELDS, Tally, checked_rows
from chalicelib.logic.principal import Principal
from chalicelib.observability import count, logger

CHUNK_ROWS = 10_000  # rows a chunk message imports
MAX_ROWS = 2_000_000
MAX_BYTES = 512 * 1024 * 1024
UPLOAD_URL_SECONDS = 15 * 60
READ_BLOCK = 1024 * 1024
ERASE_PAGE = 300  # rows a deletion message erases (with their match keys) before going on
ERASE_PARTS = "0123456789"  # a list's rows by their number's first digit, erased in parallel
MAX_RECEIVES = 5  # the queue's maxReceiveCount: the last try fails the list


def upload_key(campaign_id: str, list_id: str) -> str:
    return f"uploads/{campaign_id}/{list_id}.csv"


def _check_provider(provider: str | None) -> None:
    if provider is not None and provider not in providers.names():
        raise InvalidInput("provider", f"must be one of {', '.join(providers.names())}")


def _crm_settings(campaign_id: str, fields: dict[str, Any] | None) -> dict[str, Any]:
    """Where the list's ids come from within each CRM (VAN: MyVoters or MyCampaign), from
    its fields or else each CRM's integration as it is configured now."""
    from chalicelib.dal import integrations as integrations_dal

    given = {k: v for k, v in (fields or {}).items() if v is not None}
    configured = {i.provider: i for i in integrations_dal.list_integrations(campaign_id)}
    found = {}
    for name in providers.names():
        settings = providers.get(name).list_settings(given, configured.get(name))
        if settings:
            found[name] = settings
    return found


# ---- starting ---------------------------------------------------------------------------


def _new_list(
    principal: Principal,
    campaign_id: str,
    name: str,
    provider: str | None,
    fields: dict[str, Any] | None,
) -> VoterList:
    """A list waiting for its file, with where its ids come from in each CRM."""
    return lists_dal.create_list(
        campaign_id,
        new_id(),
        name,
        principal.user_id,
        provider,
        status="waiting_upload",
        crm_settings=_crm_settings(campaign_id, fields),
    )


@dataclass(frozen=True)
class Upload:
    voter_list: VoterList
    upload_url: str
    expires_at: str


def start_upload(
    principal: Principal,
    campaign_id: str,
    name: str,
    provider: str | None = None,
    fields: dict[str, Any] | None = None,
) -> Upload:
    """A list waiting for its file, and the URL to PUT it to (15 minutes). `fields`: the
    list's CRM fields (`van_db_mode`)."""
    require(principal, campaign_id, Permission.MANAGE_LISTS)
    _check_provider(provider)
    voter_list = _new_list(principal, campaign_id, name, provider, fields)
    list_id = voter_list.list_id
    url = aws.client("s3").generate_presigned_url(
        "put_object",
        Params={"Bucket": config.settings().data_bucket, "Key": upload_key(campaign_id, list_id)},
        ExpiresIn=UPLOAD_URL_SECONDS,
    )
    expires = iso(now() + timedelta(seconds=UPLOAD_URL_SECONDS))
    return Upload(voter_list, str(url), expires)


@dataclass(frozen=True)
class InlineResult:
    voter_list: VoterList
    row_count: int  # rows that will be stored
    rejected_count: int
    warnings_count: int
    problems: list[dict[str, Any]]


def inline_upload(
    principal: Principal,
    campaign_id: str,
    name: str,
    raw_rows: list[Any],
    provider: str | None = None,
    fields: dict[str, Any] | None = None,
) -> InlineResult:
    """A small list sent in the request: checked at once (the answer says what will be
    refused), then handed to the pipeline as a CSV file like any upload."""
    require(principal, campaign_id, Permission.MANAGE_LISTS)
    _check_provider(provider)
    if len(raw_rows) > INLINE_MAX_ROWS:
        raise InvalidInput("rows", f"at most {INLINE_MAX_ROWS} rows inline; upload larger lists")
    if not raw_rows:
        raise InvalidInput("rows", "the list has no rows")
    tally = Tally()
    for _row in checked_rows(campaign_id, "check", raw_rows, tally):
        pass
    voter_list = _new_list(principal, campaign_id, name, provider, fields)
    list_id = voter_list.list_id
    aws.client("s3").put_object(
        Bucket=config.settings().data_bucket,
        Key=upload_key(campaign_id, list_id),
        Body=_as_csv(raw_rows),
        ContentType="text/csv",
    )
    return InlineResult(voter_list, tally.stored, tally.rejected, tally.warnings, tally.problems)


INLINE_MAX_ROWS = 50_000


def _as_csv(raw_rows: list[Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for raw in raw_rows:
        if not isinstance(raw, dict):
            writer.writerow(["" for _ in FIELDS])  # refused again, by row number, on import
            continue
        writer.writerow(["" if raw.get(f) is None else str(raw.get(f)) for f in FIELDS])
    return out.getvalue().encode()


# ---- the worker ---------------------------------------------------------------------------


def handle(body: str, receives: int = 1) -> None:
    """One message of the import queue: an S3 notification, or one of ours."""
    message = json.loads(body)
    if "Records" in message:  # S3: a file arrived
        for record in message["Records"]:
            if str(record.get("eventName", "")).startswith("ObjectCreated"):
                plan(unquote_plus(record["s3"]["object"]["key"]))
        return
    kind = message.get("kind")
    if kind == "rows":
        try:
            import_chunk(message)
        except Exception:
            if receives >= MAX_RECEIVES:  # its last try: the list cannot be imported
                fail(message["cid"], message["lid"], "a part of the file could not be imported")
                return
            raise
    elif kind == "erase":
        erase_part(message)
    elif kind == "export":
        from chalicelib.logic import exports

        try:
            exports.run(message["cid"], message["eid"])
        except Exception:
            if receives >= MAX_RECEIVES:  # its last try: the file cannot be written
                exports.fail(message["cid"], message["eid"])
                return
            raise
    elif kind == "retry_failed":  # an admin's retry of a provider's failed sync records
        from chalicelib.logic import sync_records

        sync_records.requeue_failed(message["cid"], message["provider"], message["actor"])
    elif kind == "targets":
        targets.refresh(message["cid"], message["uid"])
    elif kind == "targets_list":  # a list became ready: every member's targets, page by page
        members, cursor = targets.members_of(message["cid"], message.get("cursor"))
        follow = [{"kind": "targets", "cid": message["cid"], "uid": uid} for uid in members]
        if cursor:
            follow.append({"kind": "targets_list", "cid": message["cid"], "cursor": cursor})
        _send(follow)
    elif message.get("Event") == "s3:TestEvent":
        return
    else:
        raise ValueError(f"unknown import message {kind!r}")


def _send(messages: list[dict[str, Any]]) -> None:
    work_queue.send(messages)


def _key_parts(key: str) -> tuple[str, str] | None:
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "uploads" or not parts[2].endswith(".csv"):
        return None
    return parts[1], parts[2][: -len(".csv")]


def plan(key: str) -> None:
    """A file arrived: read it once, split it into chunks, start the import."""
    found = _key_parts(key)
    if found is None:
        logger.warning("an upload outside any list's place", extra={"key": key})
        return
    campaign_id, list_id = found
    voter_list = lists_dal.get_list(campaign_id, list_id)
    if voter_list is None or voter_list.status not in ("waiting_upload", "importing"):
        _delete_upload(key)  # no list waits for it (deleted meanwhile, or a stray PUT)
        return
    s3 = aws.client("s3")
    bucket = config.settings().data_bucket
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        return  # gone: an earlier delivery finished and deleted it
    if int(head["ContentLength"]) > MAX_BYTES:
        fail(campaign_id, list_id, f"the file is larger than {MAX_BYTES // 1024 // 1024} MB")
        return
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        header, chunks, rows = _split(body.iter_chunks(READ_BLOCK))
    except ValueError as exc:
        fail(campaign_id, list_id, str(exc))
        return
    if rows == 0:
        fail(campaign_id, list_id, "the file has no rows")
        return
    if rows > MAX_ROWS:
        fail(campaign_id, list_id, f"the file has more than {MAX_ROWS} rows")
        return
    lists_dal.start_import(campaign_id, list_id, rows_total=rows, chunks_total=len(chunks))
    # sent again on a redelivery: chunks are idempotent, and a start that died half-way
    # through sending is finished this way
    _send(
        [
            {
                "kind": "rows",
                "cid": campaign_id,
                "lid": list_id,
                "key": key,
                "chunk": number,
                "start": start,
                "end": end,
                "first_row": first_row,
                "columns": header,
                "provider": voter_list.provider,
            }
            for number, (start, end, first_row) in enumerate(chunks)
        ]
    )


def _split(blocks: Iterator[bytes]) -> tuple[list[str], list[tuple[int, int, int]], int]:
    """(the header's column names, chunks as (start byte, end byte, first row number), rows)
    of a CSV file, read block by block. A record ends at a line break outside quotes."""
    header: list[str] | None = None
    header_bytes = b""
    chunks: list[tuple[int, int, int]] = []
    offset = 0  # where the next line starts
    record_start = 0
    inside = False
    rows = 0
    chunk_start = 0
    for line in _lines(blocks):
        if not inside:
            record_start = offset
        offset += len(line)
        if line.count(b'"') % 2:
            inside = not inside
        if inside:
            if header is None:
                header_bytes += line
            continue
        if header is None:
            header = _header(header_bytes + line)
            chunk_start = offset
            continue
        if not line.strip():
            continue  # a blank line is no row (csv reads it as none either)
        if rows and rows % CHUNK_ROWS == 0:
            chunks.append((chunk_start, record_start, rows - CHUNK_ROWS + 1))
            chunk_start = record_start
        rows += 1
    if header is None:
        raise ValueError("the file is empty: it needs a header row with an external_id column")
    if rows:
        first = rows - (rows - 1) % CHUNK_ROWS
        chunks.append((chunk_start, offset, first))
    return header, chunks, rows


def _lines(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """The file's lines, each with its line break (the last may have none)."""
    rest = b""
    for block in blocks:
        data = rest + block
        lines = data.split(b"\n")
        rest = lines.pop()
        for line in lines:
            yield line + b"\n"
    if rest:
        yield rest


def _header(raw: bytes) -> list[str]:
    try:
        text = raw.decode("utf-8-sig")
        names = next(csv.reader(io.StringIO(text)))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        raise ValueError("the header row is not readable CSV (UTF-8)") from None
    columns = [name.strip().lower() for name in names]
    if "external_id" not in columns:
        raise ValueError("the CSV needs a header row with an external_id column")
    return columns


def import_chunk(message: dict[str, Any]) -> None:
    campaign_id, list_id = message["cid"], message["lid"]
    current = lists_dal.get_list(campaign_id, list_id)
    if current is None or current.status != "importing":
        return  # deleted, failed or already done: nothing to write
    s3 = aws.client("s3")
    raw = s3.get_object(
        Bucket=config.settings().data_bucket,
        Key=message["key"],
        Range=f"bytes={message['start']}-{message['end'] - 1}",
    )["Body"].read()
    tally = Tally()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        fail(campaign_id, list_id, f"rows from {message['first_row']} are not UTF-8 text")
        return
    columns = message["columns"]
    records = (  # a line of blanks is no row, as the plan counted (a line of commas is)
        dict(zip(columns, values, strict=False))
        for values in csv.reader(io.StringIO(text, newline=""))
        if values and not (len(values) == 1 and not values[0].strip())
    )
    rows = checked_rows(campaign_id, list_id, records, tally, first=int(message["first_row"]))
    lists_dal.store_rows(campaign_id, list_id, rows, "import", message.get("provider"))
    lists_dal.put_errors(campaign_id, list_id, tally.problems)
    after = lists_dal.chunk_done(
        campaign_id, list_id, int(message["chunk"]), imported=tally.stored, rejected=tally.rejected
    )
    if after is not None and after.status == "ready":
        count("ListsImported")
        _delete_upload(message["key"])
        _send([{"kind": "targets_list", "cid": campaign_id, "cursor": None}])
    elif after is None:
        now_list = lists_dal.get_list(campaign_id, list_id)
        if now_list is None or now_list.status in ("deleting", "failed"):
            # deleted or failed while this chunk wrote: its rows must not stay behind
            _erase_rows(
                campaign_id,
                list_id,
                remove_list=now_list is not None and now_list.status == "deleting",
            )


def fail(campaign_id: str, list_id: str, reason: str) -> None:
    """The list cannot be imported: `failed` with the reason, and whatever rows were written
    erased. The uploaded file goes too."""
    if lists_dal.mark_failed(campaign_id, list_id, reason):
        logger.warning("list import failed", extra={"list_id": list_id, "reason": reason})
        count("ListImportsFailed")
        _erase_rows(campaign_id, list_id, remove_list=False)
    _delete_upload(upload_key(campaign_id, list_id))


def _delete_upload(key: str) -> None:
    aws.client("s3").delete_object(Bucket=config.settings().data_bucket, Key=key)


# ---- erasing a list's rows ------------------------------------------------------------------


def delete_list(principal: Principal, campaign_id: str, list_id: str) -> None:
    """The list stops matching at once; its rows are erased in the background."""
    require(principal, campaign_id, Permission.MANAGE_LISTS)
    lists_dal.mark_deleting(campaign_id, list_id, principal.user_id)
    _delete_upload(upload_key(campaign_id, list_id))
    _erase_rows(campaign_id, list_id, remove_list=True)


def _erase_rows(campaign_id: str, list_id: str, *, remove_list: bool) -> None:
    _send(
        [
            {
                "kind": "erase",
                "cid": campaign_id,
                "lid": list_id,
                "part": part,
                "remove": remove_list,
            }
            for part in [*ERASE_PARTS, "errors"]
        ]
    )


def erase_part(message: dict[str, Any]) -> None:
    """Erase one page of a part of a list's rows (with their match keys), then send the
    part again; an empty part counts itself done, and the last one removes the list."""
    campaign_id, list_id, part = message["cid"], message["lid"], message["part"]
    table = config.settings().main_table
    from chalicelib.dal import deletion as deletion_dal

    if part == "errors":
        keys = lists_dal.error_keys(list_id, 1000)
    else:
        keys = []
        for row in deletion_dal.list_rows(list_id, part, ERASE_PAGE):
            keys.append((f"LIST#{list_id}", f"ROW#{row.row_id}"))
            phones = [row.phone] if row.phone else []
            emails = [row.email] if row.email else []
            for key in matching.keys_for(phones, emails):
                keys.append((f"LKEY#{campaign_id}#{key}", f"{list_id}#{row.row_id}"))
    if keys:
        deletion_dal.delete_keys(table, keys)
        _send([message])
        return
    if lists_dal.erase_part_done(campaign_id, list_id, part, parts=len(ERASE_PARTS) + 1):
        if message.get("remove"):
            lists_dal.remove_meta(campaign_id, list_id)
        count("ListsErased")
