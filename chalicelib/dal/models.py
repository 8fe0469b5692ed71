"""pynamodb models. Private to the data layer: nothing above `dal/` sees them.

Table names come from `config.settings()` when a table is first used, never at
import time. The endpoint comes from the environment (`AWS_ENDPOINT_URL_DYNAMODB`
or `AWS_ENDPOINT_URL`), so one setting points the app at moto, DynamoDB Local or AWS.

Main table layout (business data; its stream feeds the audit and CRM consumers):

| pk                | sk               | what                          |
|-------------------|------------------|-------------------------------|
| USER#<uid>        | PROFILE          | a user's profile              |
| USER#<uid>        | TOTP             | TOTP enrolment (secret encrypted with KMS) |
| CAMPAIGN#<cid>    | META             | a campaign (+ its admin count) |
| CAMPAIGN#<cid>    | MEMBER#<uid>     | a membership (gsi1: USER#<uid> / CAMPAIGN#<cid>) |
| CAMPAIGN#<cid>    | ACTION#<aid>     | an action (soft-deleted with deleted_at) |
| JOINCODE#<code>   | META             | a join code                   |
| USER#<uid>        | CONTACT#<id>     | a volunteer's synced contact (theirs alone) |
| CAMPAIGN#<cid>    | LIST#<lid>       | a voter list's metadata       |
| LIST#<lid>        | ROW#<n>          | a voter list row (with the CRM's external id) |
| LKEY#<cid>#<hash> | <lid>#<n>        | match index: a keyed hash of a row's phone or e-mail |
| CAMPAIGN#<cid>    | REPORT#<rid>     | a report (gsi1: USER#<uid> / REPORT#<rid>) |
| CAMPAIGN#<cid>    | INTEGRATION#<p>  | a CRM integration (credentials sealed with KMS) |
| CAMPAIGN#<cid>    | SYNC#<rid>#<p>   | a report's sync to one CRM (gsi1 SYNCDUE while due) |
| CAMPAIGN#<cid>    | GRANT#<gid>      | a staff member's time-boxed grant to read the campaign |
| DELETION#<cid>    | STATE            | a deletion request, then its receipt (gsi1 while due) |
| DELETION#<cid>    | CHUNK#<name>     | a resumable part of an erasure under way |

Match keys are HMAC-SHA256 of a normalised phone or e-mail under the deployment
secret: the match index holds no phone number or e-mail in clear.
"""

from __future__ import annotations

import json
import os
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.attributes import JSONAttribute as _PynamoJSONAttribute
from pynamodb.connection import Connection, TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib import aws, config


class JSONAttribute(_PynamoJSONAttribute):
    """JSON stored as written: UTF-8 and compact. (pynamodb's escapes every non-ASCII
    character, which makes an emoji 12 bytes and an item three times its text.) Values
    written either way read back alike."""

    def serialize(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class _LazyMeta(type):
    """Resolves table name and region when pynamodb first connects."""

    _setting: str

    @property
    def table_name(cls) -> str:
        return str(getattr(config.settings(), cls._setting))

    @property
    def region(cls) -> str:
        return _region()


class MainMeta(metaclass=_LazyMeta):
    _setting = "main_table"
    host = None


class SessionsMeta(metaclass=_LazyMeta):
    _setting = "sessions_table"
    host = None


class OpsMeta(metaclass=_LazyMeta):
    _setting = "ops_table"
    host = None


class KeysMeta(metaclass=_LazyMeta):
    _setting = "keys_table"
    host = None


class Gsi1(GlobalSecondaryIndex["MainModel"]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


def with_shared_client(connection: Connection) -> Connection:
    """`connection`, sending through the process's one DynamoDB client (`aws.dynamodb()`).

    pynamodb gives every connection a botocore session and client of its own, one per model
    class and thread, each slow to make; it has no setting to share them
    (pynamodb/PynamoDB#1245), so the client it would make lazily is set beforehand.
    """
    client = aws.dynamodb()
    if connection._client is not client:
        connection._client = client
    return connection


class SharedClientModel(Model):
    """A model whose connection uses the process's one DynamoDB client."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        with_shared_client(table.connection)
        return table


class MainModel(SharedClientModel):
    """Common key and bookkeeping attributes of every business item."""

    Meta = MainMeta  # type: ignore[assignment]

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class UserModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    is_staff = BooleanAttribute(default=False)
    staff_trained_at = UnicodeAttribute(null=True)
    mfa_enabled = BooleanAttribute(default=False)
    contacts_count = NumberAttribute(default=0)
    last_sync = JSONAttribute(null=True)  # counts of the latest contact sync, no contact data
    counted_at = NumberAttribute(null=True)  # when contacts_count was last counted (ns)
    # moved when a contact is deleted: the contact digests built before it are not trusted
    contacts_epoch = NumberAttribute(null=True)


class TotpModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    user_id = UnicodeAttribute()
    secret_enc = UnicodeAttribute()
    verified = BooleanAttribute(default=False)
    recovery_hashes = UnicodeSetAttribute(null=True)  # keyed hashes of unused recovery codes


class CampaignModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()
    name = UnicodeAttribute()
    settings = JSONAttribute(default=dict)
    admin_count = NumberAttribute(default=0)
    deletion_grace_days = NumberAttribute(null=True)  # the contract's; set by an operator


class MemberModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    role = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    reports_count = NumberAttribute(default=0)


class ActionModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()
    action_id = UnicodeAttribute()
    type = UnicodeAttribute()
    title = UnicodeAttribute()
    instructions = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    questions = JSONAttribute(default=list)
    created_by = UnicodeAttribute()
    deleted_at = UnicodeAttribute(null=True)
    deleted_by = UnicodeAttribute(null=True)
    # in gsi1 (LIVE#<cid> / ACTION#<aid>) while live and not deleted: a volunteer's list
    # is one query of the live ones, not a filter over all of them
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)


class JoinCodeModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)  # JOINCODES#<campaign>: the campaign's codes
    gsi1sk = UnicodeAttribute(null=True)
    code = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    created_by = UnicodeAttribute(null=True)
    uses = NumberAttribute(default=0)
    max_uses = NumberAttribute(null=True)
    revoked_at = UnicodeAttribute(null=True)


class RemovedMemberModel(MainModel):
    """A member an admin removed: they may not join again until an admin readmits them."""

    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()
    user_id = UnicodeAttribute()


class ContactModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    user_id = UnicodeAttribute()
    contact_id = UnicodeAttribute()
    # name, phones and e-mails, encrypted with the user's data key (crypto.ContactsKey)
    sealed = UnicodeAttribute(null=True)
    keys = ListAttribute(of=UnicodeAttribute, default=list)


class ContactDigestModel(MainModel):
    """One of DIGEST_SHARDS items beside the profile (`PROFILE#DIGEST#<n>`): fingerprints of
    contacts a sync has already merged, keyed with the user's data key (`dal.contacts`)."""

    Meta = MainMeta  # type: ignore[assignment]

    user_id = UnicodeAttribute()
    epoch = NumberAttribute(default=0)  # the profile's contacts_epoch it was built under
    fingerprints = UnicodeAttribute(default="")  # fixed-width, concatenated


class ListModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()
    list_id = UnicodeAttribute()
    name = UnicodeAttribute()
    row_count = NumberAttribute(default=0)  # rows imported so far
    rejected_count = NumberAttribute(default=0)  # rows refused so far
    created_by = UnicodeAttribute()
    status = UnicodeAttribute()  # waiting_upload | importing | ready | failed | deleting
    provider = UnicodeAttribute(null=True)
    # where its ids come from within a CRM, per provider (VAN: {"db_mode": 0 or 1})
    crm_settings = JSONAttribute(null=True)
    rows_total = NumberAttribute(null=True)  # data rows in the file, once it is planned
    chunks_total = NumberAttribute(null=True)
    done_chunks = UnicodeSetAttribute(null=True)  # chunks counted (a redelivery counts once)
    failure = UnicodeAttribute(null=True)  # why the import failed
    erased_parts = UnicodeSetAttribute(null=True)  # parts of its rows erased (failed, deleted)


class ListRowModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()
    list_id = UnicodeAttribute()
    row_id = UnicodeAttribute()
    external_id = UnicodeAttribute()
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    provider = UnicodeAttribute(null=True)


class ListErrorModel(MainModel):
    """A row the import refused or stored without a value (LIST#<lid> / ERROR#<row>#<field>)."""

    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()
    list_id = UnicodeAttribute()
    row = NumberAttribute()
    field = UnicodeAttribute()
    message = UnicodeAttribute()
    stored = BooleanAttribute(default=False)


class ListKeyModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()
    list_id = UnicodeAttribute()
    row_id = UnicodeAttribute()
    external_id = UnicodeAttribute()
    provider = UnicodeAttribute(null=True)


class ReportModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    report_id = UnicodeAttribute()
    action_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    contact_id = UnicodeAttribute(null=True)
    list_row_id = UnicodeAttribute(null=True)
    contact_name = UnicodeAttribute()
    external_id = UnicodeAttribute(null=True)
    external_provider = UnicodeAttribute(null=True)
    source_row_id = UnicodeAttribute(null=True)
    result = UnicodeAttribute()
    responses = JSONAttribute(default=list)
    notes = UnicodeAttribute(null=True)


class ExportModel(MainModel):
    """An export of the campaign's data (`CAMPAIGN#<cid>`, `EXPORT#<eid>`): asked for, then
    ready (its file in the data bucket) or failed."""

    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()
    export_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    state = UnicodeAttribute()
    since = UnicodeAttribute(null=True)
    rows = NumberAttribute(default=0)
    error = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()


class IntegrationModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    credentials = UnicodeAttribute()  # envelope-encrypted; context: campaign and provider
    key_hint = UnicodeAttribute()
    settings = JSONAttribute(null=True)  # not secret, read from the credentials (VAN's db_mode)
    instructions = JSONAttribute(default=dict)
    configured_at = UnicodeAttribute()
    paused_at = UnicodeAttribute(null=True)  # an operator paused its sync (an incident)
    paused_by = UnicodeAttribute(null=True)


class SyncModel(MainModel):
    Meta = MainMeta  # type: ignore[assignment]

    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)  # SYNCDUE while the scheduler should try it
    gsi1sk = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute()
    report_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    state = UnicodeAttribute()  # pending | synced | failed | skipped
    attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)
    retryable = BooleanAttribute(default=True)
    next_attempt_at = UnicodeAttribute(null=True)
    claim = UnicodeAttribute(null=True)  # the token of the attempt under way
    claimed_until = UnicodeAttribute(null=True)


class AssignmentModel(MainModel):
    """A list row handed to a volunteer for an action (CAMPAIGN#<cid> /
    ASSIGN#<aid>#<lid>#<row>; gsi1 ASSIGNEE#<cid>#<uid> / <aid>#<lid>#<row>). The row's
    name and numbers are copied in, so the volunteer's page is one query."""

    Meta = MainMeta  # type: ignore[assignment]

    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    action_id = UnicodeAttribute()
    list_id = UnicodeAttribute()
    row_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    reported = BooleanAttribute(default=False)


class AssignCursorModel(MainModel):
    """How far through a list an action's assignments have gone (CAMPAIGN#<cid> /
    ASSIGNCURSOR#<aid>#<lid>); rows given back wait as ASSIGNPOOL#<aid>#<lid>#<row> items."""

    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()
    last_row = UnicodeAttribute(default="")


class TargetModel(MainModel):
    """One of a volunteer's own contacts that a campaign's ready lists hold, kept in the
    volunteer's partition (USER#<uid> / TARGET#<cid>#<contact id>): no admin's route reads
    it. gsi1 TARGETS#<cid> lets the campaign's erasure find them."""

    Meta = MainMeta  # type: ignore[assignment]

    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    user_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    contact_id = UnicodeAttribute()
    list_ids = UnicodeSetAttribute(null=True)
    reported = BooleanAttribute(default=False)


class AssignPoolModel(MainModel):
    """A row given back, waiting to be assigned again (ASSIGNPOOL#<aid>#<lid>#<row>)."""

    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()


class GrantModel(MainModel):
    """A staff member's time-boxed grant to read one campaign (sk GRANT#<time-ordered id>)."""

    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()
    grant_id = UnicodeAttribute()
    staff_user_id = UnicodeAttribute()
    staff_name = UnicodeAttribute()
    reason = UnicodeAttribute()
    granted_by = UnicodeAttribute()
    granted_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()  # ISO time; not a TTL: grants are kept as the record
    revoked_at = UnicodeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)
    accesses = NumberAttribute(default=0)


class DeletionModel(MainModel):
    """A campaign's deletion request, its erasure's progress and, once done, its receipt
    (pk DELETION#<cid>, sk STATE; gsi1 DELETIONS / <scheduled_for>#<cid> while due)."""

    Meta = MainMeta  # type: ignore[assignment]

    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute()
    campaign_name = UnicodeAttribute(null=True)  # dropped when the erasure is done
    state = UnicodeAttribute()  # scheduled | cancelled | erasing | done
    scheduled_for = UnicodeAttribute(null=True)
    requested_by = UnicodeAttribute()
    requested_at = UnicodeAttribute()
    cancelled_by = UnicodeAttribute(null=True)
    cancelled_at = UnicodeAttribute(null=True)
    reminded = BooleanAttribute(default=False)
    skipped_grace = UnicodeAttribute(null=True)  # the operator who ran it early, with why
    notify = ListAttribute(of=UnicodeAttribute, null=True)  # admins to tell when done
    started_at = UnicodeAttribute(null=True)
    runner = UnicodeAttribute(null=True)  # the erasure run holding the lease
    lease_until = UnicodeAttribute(null=True)
    erased_at = UnicodeAttribute(null=True)
    counts = JSONAttribute(null=True)
    digest = UnicodeAttribute(null=True)


class ErasureChunkModel(MainModel):
    """One resumable part of an erasure (pk DELETION#<cid>, sk CHUNK#<name>). `pending`
    holds the keys being deleted (written before they are), so a crash never loses count."""

    Meta = MainMeta  # type: ignore[assignment]

    campaign_id = UnicodeAttribute()
    name = UnicodeAttribute()
    done = BooleanAttribute(default=False)
    counts = JSONAttribute(default=dict)
    digest = UnicodeAttribute(default="")
    pending = JSONAttribute(null=True)


class SessionsByUser(GlobalSecondaryIndex["SessionModel"]):
    """A user's sessions (USER#<id>), oldest first."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class SessionModel(SharedClientModel):
    """Sessions table: server-side sessions, refresh-token and MFA-challenge pointers.

    | pk                | what                                             |
    |-------------------|--------------------------------------------------|
    | SESSION#<jti>     | a session (keyed by the token's origin_jti)      |
    | REFRESH#<sha256>  | points a refresh token at its session            |
    | MFA#<sha256>      | a pending MFA challenge (the login's refresh token, encrypted) |
    """

    Meta = SessionsMeta  # type: ignore[assignment]

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    user_id = UnicodeAttribute()
    session_id = UnicodeAttribute(null=True)
    username = UnicodeAttribute(null=True)
    mfa = BooleanAttribute(default=False)
    revoked = BooleanAttribute(default=False)
    created_at = UnicodeAttribute(null=True)
    secret_enc = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute
    by_user = SessionsByUser()
    gsi1pk = UnicodeAttribute(null=True)  # sessions only: USER#<user id>
    gsi1sk = UnicodeAttribute(null=True)
    last_seen_at = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)


class KeyModel(SharedClientModel):
    """Keys table: each user's contacts data key, wrapped by KMS (`CONTACTS#<user id>`).

    The table has no point-in-time recovery and is never backed up: a key deleted here is
    gone for good, and with it every copy of the contacts it encrypted, wherever it is
    (crypto-shredding)."""

    Meta = KeysMeta  # type: ignore[assignment]

    pk = UnicodeAttribute(hash_key=True)
    wrapped = UnicodeAttribute()
    created_at = UnicodeAttribute()


class OpsModel(SharedClientModel):
    """Ops table: counters, markers and caches that must not be audited
    (TOTP steps, rate limits, CRM catalogs)."""

    Meta = OpsMeta  # type: ignore[assignment]

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    value = NumberAttribute(default=0)
    data = JSONAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)  # what a campaign's erasure must find here


class KeyedRequestModel(SharedClientModel):
    """Ops table: what an idempotency key recorded (`IDEMP#<user>#<key hash>`, `REQUEST`).

    `state` is `serving` from the claim until the answer is kept, then `answered`. A claim
    still `serving` at `lapses_at` was never answered (its process died) and may be claimed
    again; any record may be claimed again after `expires_at` (also the item's TTL)."""

    Meta = OpsMeta  # type: ignore[assignment]

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    fingerprint = UnicodeAttribute()  # a digest of the method, path and body
    state = UnicodeAttribute()  # serving | answered
    lapses_at = NumberAttribute(null=True)  # while serving
    status = NumberAttribute(null=True)  # once answered
    body = JSONAttribute(null=True)  # once answered
    expires_at = NumberAttribute()
    campaign_id = UnicodeAttribute(null=True)  # what a campaign's erasure must find here


class StatsModel(SharedClientModel):
    """Ops table: a campaign's dashboard counters (`STATS#<cid>`, `<scope>#<shard>`), one
    number attribute per counter (`n:<name>`, added to in the transaction of what it
    counts), spread over a few shards so that no one item takes every write."""

    Meta = OpsMeta  # type: ignore[assignment]

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    campaign_id = UnicodeAttribute(null=True)  # what a campaign's erasure must find here


class MemberTallyModel(SharedClientModel):
    """Ops table: what a member adds to the campaign's counters (`STATS#MEMBER#<cid>`,
    `<user_id>`): present while they are a member, with the synced-contact count last
    added; `version` moves with every change, so two reconciliations cannot both apply."""

    Meta = OpsMeta  # type: ignore[assignment]

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    contacts = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    campaign_id = UnicodeAttribute(null=True)  # what a campaign's erasure must find here


class ExportProgressModel(SharedClientModel):
    """Ops table: how far an export's file has been written (`EXPORT#<eid>`, `PROGRESS`):
    its multipart upload, the parts sent, the cursor after their last row. Each part is
    sent once: the write that records it is conditional on the part number."""

    Meta = OpsMeta  # type: ignore[assignment]

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    upload_id = UnicodeAttribute()
    parts = JSONAttribute(default=list)  # [{"PartNumber": n, "ETag": "..."}]
    part_count = NumberAttribute(default=0)
    cursor = UnicodeAttribute(null=True)
    rows = NumberAttribute(default=0)
    campaign_id = UnicodeAttribute(null=True)  # what a campaign's erasure must find here


MAIN_MODELS: tuple[type[MainModel], ...] = (
    UserModel,
    TotpModel,
    CampaignModel,
    MemberModel,
    ActionModel,
    JoinCodeModel,
    RemovedMemberModel,
    ContactModel,
    ListModel,
    ListRowModel,
    ListKeyModel,
    ListErrorModel,
    ReportModel,
    ExportModel,
    IntegrationModel,
    SyncModel,
    GrantModel,
    AssignmentModel,
    AssignCursorModel,
    AssignPoolModel,
    TargetModel,
    DeletionModel,
    ErasureChunkModel,
)


def reset_connections() -> None:
    """Forget pynamodb's cached connections (after the endpoint changed: tests, local stack)."""
    from chalicelib.dal import db

    pending: list[type[Model]] = [SharedClientModel]
    while pending:  # every model of every table
        model = pending.pop()
        model._connection = None
        pending += model.__subclasses__()
    db.reset()
