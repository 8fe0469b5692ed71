"""The audit table. Operational: no stream, so auditing it audits nothing twice.

| pk             | sk              | gsi1pk         | what                                  |
|----------------|-----------------|----------------|---------------------------------------|
| CAMPAIGN#<cid> | <at>#<event_id> | DAY#<date>#<n> | a change to campaign data; staff access |
| USER#<uid>     | <at>#<event_id> | DAY#<date>#<n> | a change to a user's own data; sign-in |
| AUTH#anonymous | <at>#<event_id> | DAY#<date>#<n> | a failed sign-in of no known user      |

A day's records are spread over eight index keys (`n`, from the event id), so that a busy
day (an import, an erasure) has no hot partition; the archive merges them in order.

Records expire (DynamoDB TTL on `expires_at`) 14 days after they happened; the
daily archive job has written them to the log bucket by then.
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.dal.models import JSONAttribute, SharedClientModel, _LazyMeta

RETENTION_DAYS = 14


class AuditMeta(metaclass=_LazyMeta):
    _setting = "audit_table"
    host = None


class DayIndex(GlobalSecondaryIndex["AuditModel"]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class AuditModel(SharedClientModel):
    Meta = AuditMeta  # type: ignore[assignment]

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    day = DayIndex()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    event_id = UnicodeAttribute()
    at = UnicodeAttribute()
    actor_id = UnicodeAttribute(null=True)
    event = UnicodeAttribute()
    target = UnicodeAttribute()
    campaign_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    fields = ListAttribute(of=UnicodeAttribute, default=list)
    values = JSONAttribute(default=dict)
    expires_at = NumberAttribute()
