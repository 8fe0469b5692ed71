""" "Nothing else ever erases campaign data: no expiry, no clean-up job" (API.md, Privacy),
held to the template and the code: the only expiry DynamoDB or S3 would apply is on
tables and prefixes that hold no campaign data, and the only code that deletes campaign
items in bulk is the erasure a client asked for."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# tables whose items may expire, and why that erases no campaign data
EXPIRING = {
    "SessionsTable": "sign-in sessions and challenges",
    "OpsTable": "rate limits, one-time codes, caches and kept answers: copies or counters",
    "AuditTable": "the audit trail's hot copy; archived to the log bucket before it expires",
}


def _tables(template):
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    }


def test_only_tables_without_campaign_data_have_an_expiry(packaged):
    template = packaged.template
    expiring = {
        name
        for name, table in _tables(template).items()
        if table["Properties"].get("TimeToLiveSpecification", {}).get("Enabled")
    }
    assert expiring == set(EXPIRING)
    assert "MainTable" not in expiring and "KeysTable" not in expiring


def test_no_model_of_the_business_tables_carries_a_ttl_attribute_of_an_expiring_table(packaged):
    """Were the main table given the other tables' TTL attribute, items with a number
    there would start expiring: no business item has one as a number."""
    from pynamodb.attributes import NumberAttribute

    from chalicelib.dal.models import MAIN_MODELS, KeyModel

    template = packaged.template
    ttl_names = {
        table["Properties"]["TimeToLiveSpecification"]["AttributeName"]
        for name, table in _tables(template).items()
        if name in EXPIRING
    }
    for model in (*MAIN_MODELS, KeyModel):
        for name, attribute in model.get_attributes().items():
            if name in ttl_names:
                assert not isinstance(attribute, NumberAttribute), (model.__name__, name)


# Export files are download copies of what the tables hold, not the data itself: keeping
# them past their use would only leave more copies about, so they, and only they, expire.
COPIES = {("DataBucket", "exports/")}


def test_no_bucket_expires_current_objects(packaged):
    template = packaged.template
    buckets = 0
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::S3::Bucket":
            continue
        rules = resource["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
        for rule in rules:
            if (name, rule.get("Prefix")) in COPIES:
                from chalicelib.logic.exports import KEEP_DAYS  # what an export's answer says

                assert rule["ExpirationInDays"] == KEEP_DAYS, rule
                continue
            assert "ExpirationInDays" not in rule and "ExpirationDate" not in rule, (name, rule)
        buckets += 1
    assert buckets >= 1


def test_every_job_is_one_we_know_erases_nothing_but_the_erasure():
    """A new schedule or stream reader is a new job: whoever adds one says here what it
    does, and that it erases no campaign data."""
    from app import app

    jobs = {source.name for source in app.event_sources}
    assert jobs == {
        "crm_sync_consumer",  # reports -> CRMs: writes sync records
        "crm_sync_retry",  # the same, later
        "audit_consumer",  # table changes -> audit records
        "audit_archive",  # audit records -> the log bucket
        "logs_export",  # application logs -> the log bucket
        "campaign_erasure",  # the erasure a campaign asked for, after its grace period
        "import_worker",  # list imports; the rows of a list an admin deleted, or that failed
    }


def _calls_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                found.add(func.attr)
            elif isinstance(func, ast.Name):
                found.add(func.id)
    return found


def test_bulk_deletes_of_campaign_data_happen_only_in_the_erasure_and_the_owners_own_deletes():
    """Who calls the bulk delete (`batch.write(..., deletes=...)`) or the erasure's delete:
    a list an admin deletes, a volunteer's own contacts, the erasure; nothing else."""
    allowed = {
        "chalicelib/dal/lists.py",  # DELETE /campaigns/{cid}/lists/{lid}, by an admin
        "chalicelib/dal/contacts.py",  # DELETE /me/contacts: the volunteer's own
        "chalicelib/dal/deletion.py",  # the erasure a client asked for
        "chalicelib/logic/deletion.py",
        "chalicelib/logic/imports.py",  # the rows of a list an admin deleted, or that failed
        "chalicelib/dal/targets.py",  # a volunteer's targets no longer on a list (theirs)
        "chalicelib/dal/batch.py",  # the bulk writer itself
    }
    deleting = set()
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        text = path.read_text()
        if "deletes=" in text or "delete_keys(" in text:
            deleting.add(str(path.relative_to(ROOT)))
    assert deleting <= allowed, deleting - allowed
    # and the erasure runs from one place: the schedule (and the operator's command)
    callers = {
        str(path.relative_to(ROOT))
        for path in sorted([*(ROOT / "chalicelib").rglob("*.py"), *(ROOT / "tools").glob("*.py")])
        if {"run_due", "erase", "erase_now"} & _calls_in(path)
    }
    assert callers == {
        "chalicelib/api/events.py",
        "chalicelib/logic/deletion.py",
        "tools/deletion.py",
    }
