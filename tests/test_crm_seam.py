"""The CRM seam: the sync, the integration routes and the list imports know no provider by
name. A fourth CRM (`tests/fakes/toy_crm.py`) is one module and one registry line, and then
works end to end: credentials tried and sealed, its catalog, a mapping, a list of its ids,
reports sent in its batches with an outcome each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.logic import providers
from tests.fakes import toy_crm
from tests.helpers import admin_with_mfa, create_campaign, list_row

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def toy() -> Iterator[None]:
    unregister = providers.register("toy", "tests.fakes.toy_crm")
    toy_crm.RECEIVED.clear()
    yield
    unregister()


PROVIDERS = ("van", "pdi", "salsa")


def test_the_providers_are_van_pdi_and_salsa() -> None:
    assert providers.names() == PROVIDERS


@pytest.mark.parametrize("name", PROVIDERS)
def test_every_provider_is_one_module_behind_one_interface(name: str) -> None:
    provider = providers.get(name)
    assert provider.name == name
    assert provider.batch_size >= 1 and provider.credential_fields


@pytest.mark.parametrize(
    "seam",
    [
        "chalicelib/logic/sync.py",
        "chalicelib/logic/integrations.py",
        "chalicelib/logic/imports.py",
        "chalicelib/crm/__init__.py",
    ],
)
def test_the_runner_and_the_routes_name_no_provider(seam: str) -> None:
    """Outside their own modules, no code branches on a provider's name."""
    path = ROOT / seam
    text = path.read_text()
    for name in providers.names():
        assert f'"{name}"' not in text, (path.name, name)


def test_a_fourth_crm_works_end_to_end(api, stream, toy) -> None:
    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    base = f"/campaigns/{cid}/integrations/toy"
    assert api.put(base, {"token": "wrong-token-000000"}, token=admin.token).status == 422
    assert api.put(base, {}, token=admin.token).body["Field"] == "token"
    configured = api.put(base, {"token": toy_crm.TOKEN}, token=admin.token)
    assert configured.status == 200, configured
    assert toy_crm.TOKEN not in str(configured.body)
    catalog = api.get(f"{base}/catalog", token=admin.token)
    assert [t["id"] for t in catalog.body["tags"]] == ["tag-1", "tag-2"]

    action = api.post(
        f"/campaigns/{cid}/actions",
        {"type": "canvass", "title": "Doors", "status": "live"},
        token=admin.token,
    ).body
    aid = action["action_id"]
    mapping = {"actions": {aid: {"results": {"not_home": "tag-2", "refused": "tag-1"}}}}
    assert api.put(f"{base}/instructions", mapping, token=admin.token).status == 200
    people = ["TOY-1", toy_crm.REFUSED, "TOY-3"]
    listed = api.post(
        f"/campaigns/{cid}/lists",
        {"name": "Toy voters", "provider": "toy", "rows": [{"external_id": p} for p in people]},
        token=admin.token,
    )
    assert listed.status == 201 and listed.body["provider"] == "toy"
    reports = []
    for number, result in ((1, "not_home"), (2, "not_home"), (3, "refused")):
        reply = api.post(
            f"/campaigns/{cid}/actions/{aid}/reports",
            {"list_row_id": list_row(listed.body["list_id"], number), "result": result},
            token=admin.token,
        )
        assert reply.status == 201, reply
        reports.append(reply.body["report_id"])

    assert stream.deliver("crm_sync_consumer") == {"batchItemFailures": []}
    assert toy_crm.RECEIVED == [
        {"person": "TOY-1", "tag": "tag-2"},
        {"person": "TOY-3", "tag": "tag-1"},
    ]
    states = {
        s["report_id"]: s
        for s in api.get(f"/campaigns/{cid}/sync", token=admin.token).body["items"]
    }
    assert [states[r]["state"] for r in reports] == ["synced", "failed", "synced"]
    assert "no such person" in states[reports[1]]["last_error"]
