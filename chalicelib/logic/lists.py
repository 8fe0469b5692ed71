"""Voter lists uploaded by admins: rows carrying the CRM's ids, indexed for matching.

Rows stream through: they are validated, normalised and written 25 items at a
time, so memory stays flat however long the list.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib.auth.policy import Permission
from chalicelib.config import app_secret
from chalicelib.dal import lists as lists_dal
from chalicelib.dal.common import new_id
from chalicelib.dal.lists import RowToStore
from chalicelib.domain import PROVIDERS, ListRow, Page, VoterList
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.logic import matching, normalize
from chalicelib.logic.access import require
from chalicelib.logic.principal import Principal

MAX_ROWS = 50_000
MAX_REPORTED_PROBLEMS = 100
FIELDS = ("external_id", "first_name", "last_name", "phone", "email")
_TEXT_LIMIT = 200


@dataclass
class UploadResult:
    voter_list: VoterList
    rejected_count: int = 0
    warnings_count: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Tally:
    stored: int = 0
    rejected: int = 0
    warnings: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def problem(self, row: int, field_name: str, reason: str, *, stored: bool) -> None:
        if stored:
            self.warnings += 1
        else:
            self.rejected += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(
                {"row": row, "field": field_name, "reason": reason, "stored": stored}
            )


def row_id_of(number: int) -> str:
    return f"{number:06d}"


def _row_tag(list_id: str, row_id: str) -> str:
    digest = hmac.new(app_secret(), f"list-row:{list_id}:{row_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:12]).decode()


def list_row_id(list_id: str, row_id: str) -> str:
    """The id a report names a list row by: the row's place, keyed with the app secret, so
    that knowing one row's id tells nothing of another's."""
    return f"{list_id}.{row_id}.{_row_tag(list_id, row_id)}"


def split_list_row_id(value: str) -> tuple[str, str]:
    """(list id, row id) of a list row id; NotFound for one this deployment did not make."""
    parts = value.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidInput("list_row_id", "is not a list row id")
    list_id, row_id, tag = parts
    if not hmac.compare_digest(tag, _row_tag(list_id, row_id)):
        raise NotFound("no such list row")
    return list_id, row_id


def _text(raw: Any, field_name: str, number: int, tally: _Tally) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool) and field_name == "external_id":
        raw = str(raw)
    if not isinstance(raw, str):
        tally.problem(number, field_name, "must be text", stored=field_name != "external_id")
        return None
    value = raw.strip()
    if len(value) > _TEXT_LIMIT:
        tally.problem(number, field_name, f"longer than {_TEXT_LIMIT} characters", stored=True)
        return None
    return value or None


def _rows(
    campaign_id: str, list_id: str, raw_rows: Iterable[Any], tally: _Tally
) -> Iterator[RowToStore]:
    for number, raw in enumerate(raw_rows, start=1):
        if not isinstance(raw, dict):
            tally.problem(number, "row", "must be an object", stored=False)
            continue
        external_id = _text(raw.get("external_id"), "external_id", number, tally)
        if not external_id:
            if "external_id" not in raw or raw.get("external_id") in (None, ""):
                tally.problem(number, "external_id", "is required", stored=False)
            continue
        phone = _text(raw.get("phone"), "phone", number, tally)
        if phone:
            try:
                phone = normalize.phone_e164(phone)
            except ValueError as exc:
                tally.problem(number, "phone", f"{exc}; stored without it", stored=True)
                phone = None
        email = _text(raw.get("email"), "email", number, tally)
        if email:
            try:
                email = normalize.email(email)
            except ValueError as exc:
                tally.problem(number, "email", f"{exc}; stored without it", stored=True)
                email = None
        row = ListRow(
            campaign_id=campaign_id,
            list_id=list_id,
            row_id=row_id_of(number),
            external_id=external_id,
            first_name=_text(raw.get("first_name"), "first_name", number, tally),
            last_name=_text(raw.get("last_name"), "last_name", number, tally),
            phone=phone,
            email=email,
        )
        tally.stored += 1
        yield RowToStore(row, matching.keys_for([phone] if phone else [], [email] if email else []))


def csv_rows(raw: bytes) -> tuple[int, Iterator[dict[str, Any]]]:
    """(number of data rows, the rows as dicts) of a CSV body with a header row.

    Counting reads the body once without keeping rows; the rows are then parsed a
    second time, lazily, as they are written.
    """

    def reader() -> csv.DictReader:
        text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
        return csv.DictReader(text)

    try:
        header = reader().fieldnames
        if not header or "external_id" not in [h.strip() for h in header]:
            raise InvalidInput("body", "the CSV needs a header row with an external_id column")
        count = sum(1 for _ in reader())
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput("body", f"is not readable CSV ({exc})") from None

    def rows() -> Iterator[dict[str, Any]]:
        for record in reader():
            yield {(k or "").strip(): v for k, v in record.items() if k}

    return count, rows()


def upload_list(
    principal: Principal,
    campaign_id: str,
    name: str,
    row_count: int,
    raw_rows: Iterable[Any],
    provider: str | None = None,
) -> UploadResult:
    """Store a list. `provider` names the CRM whose ids it carries; without one, its ids
    are taken to be the campaign's ids in every CRM the campaign syncs to."""
    require(principal, campaign_id, Permission.MANAGE_LISTS)
    if provider is not None and provider not in PROVIDERS:
        raise InvalidInput("provider", f"must be one of {', '.join(PROVIDERS)}")
    if row_count > MAX_ROWS:
        raise InvalidInput("rows", f"at most {MAX_ROWS} rows a list")
    if row_count == 0:
        raise InvalidInput("rows", "the list has no rows")
    list_id = new_id()
    lists_dal.create_list(campaign_id, list_id, name, principal.user_id, provider)
    tally = _Tally()
    lists_dal.store_rows(
        campaign_id,
        list_id,
        _rows(campaign_id, list_id, raw_rows, tally),
        principal.user_id,
        provider,
    )
    voter_list = lists_dal.finish_list(
        campaign_id,
        list_id,
        row_count=tally.stored,
        rejected_count=tally.rejected,
        actor=principal.user_id,
    )
    return UploadResult(voter_list, tally.rejected, tally.warnings, tally.problems)


def list_lists(principal: Principal, campaign_id: str, *, limit: int, cursor: str | None) -> Page:
    require(principal, campaign_id, Permission.VIEW_LISTS)
    return lists_dal.list_lists(campaign_id, limit=limit, cursor=cursor)


def get_list(principal: Principal, campaign_id: str, list_id: str) -> VoterList:
    require(principal, campaign_id, Permission.VIEW_LISTS)
    found = lists_dal.get_list(campaign_id, list_id)
    if found is None:
        raise NotFound("no such list")
    return found


def delete_list(principal: Principal, campaign_id: str, list_id: str) -> None:
    require(principal, campaign_id, Permission.MANAGE_LISTS)
    if lists_dal.get_list(campaign_id, list_id) is None:
        raise NotFound("no such list")
    row_keys = (
        (
            row.row_id,
            matching.keys_for([row.phone] if row.phone else [], [row.email] if row.email else []),
        )
        for row in lists_dal.rows_of(list_id)
    )
    lists_dal.delete_list(campaign_id, list_id, row_keys, principal.user_id)


def find_row(campaign_id: str, value: str) -> ListRow:
    """A row of one of the campaign's lists, by the id reports use (404 otherwise)."""
    list_id, row_id = split_list_row_id(value)
    row = lists_dal.get_row(list_id, row_id)
    if row is None or row.campaign_id != campaign_id:
        raise NotFound("no such list row")
    return row
