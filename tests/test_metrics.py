"""Metrics: counts of what should stay rare, written as embedded-metric JSON when an
invocation ends, and the alarms in `infra/` that watch them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import observability
from devstack.stack import template
from tests.helpers import (
    PASSWORD,
    admin_with_mfa,
    create_campaign,
    metric_documents,
    metrics_counted,
    sign_up,
    volunteer,
)
from tests.streams import broken_copy


def test_a_failing_stream_record_is_counted_as_the_invocation_ends(api, stream, capsys):
    admin = admin_with_mfa(api)
    create_campaign(api, admin)
    records = stream.read()
    broken = broken_copy(records[0], "424242", entity={"S": "mystery"})
    capsys.readouterr()

    assert stream.deliver("audit_consumer", [broken, *records])["batchItemFailures"]
    out = capsys.readouterr().out
    assert len(metric_documents(out)) == 1  # one document for the invocation
    assert metrics_counted(out) == {"StreamRecordFailures": 1}

    assert stream.deliver("audit_consumer", records) == {"batchItemFailures": []}
    assert metric_documents(capsys.readouterr().out) == []  # nothing counted, nothing written


def test_throttled_requests_aremetrics_counted(api, capsys):
    person = sign_up(api)
    capsys.readouterr()
    for _ in range(12):
        api.post("/auth/login", {"email": person.email, "password": "Wrong-Pass-1"})
    assert api.post("/auth/login", {"email": person.email, "password": PASSWORD}).status == 429
    assert metrics_counted(capsys.readouterr().out) == {"Throttled": 3}


def test_a_bug_is_answered_500_logged_andmetrics_counted(api, capsys, monkeypatch, log_lines):
    from chalicelib.logic import me

    vol = volunteer(api)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(me, "get_me", broken)
    capsys.readouterr()
    reply = api.get("/me", token=vol.token)
    assert reply.status == 500
    assert reply.body == {
        "Code": "InternalServerError",
        "Message": "An internal server error occurred.",
    }
    assert metrics_counted(capsys.readouterr().out) == {"UnhandledErrors": 1}
    (logged,) = [json.loads(line) for line in log_lines if "unhandled error" in line]
    assert "RuntimeError: a bug" in logged["exception"]


def test_healthy_requests_write_no_metrics(api, capsys):
    capsys.readouterr()
    assert api.get("/health").status == 200
    assert metric_documents(capsys.readouterr().out) == []


def test_only_known_metrics_aremetrics_counted():
    with pytest.raises(ValueError, match="unknown metric"):
        observability.count("Typo")


def test_every_alarm_on_the_apps_namespace_watches_a_metric_it_writes():
    resources = template()["Resources"]
    from_logs = {
        t["MetricName"]
        for r in resources.values()
        if r["Type"] == "AWS::Logs::MetricFilter"
        for t in r["Properties"]["MetricTransformations"]
    }
    watched = set()
    for resource in resources.values():
        props = resource["Properties"]
        if (
            resource["Type"] != "AWS::CloudWatch::Alarm"
            or props["Namespace"] != "VolunteerOrganizer"
        ):
            continue
        name = props["MetricName"]
        watched.add(name)
        if name in from_logs:
            continue
        assert name in observability.METRICS, name
        assert props["Dimensions"] == [{"Name": "service", "Value": observability.SERVICE}], name
    unwatched = set(observability.METRICS) - watched
    # counts of normal work, for dashboards
    assert unwatched == {
        "CrmSynced",
        "CrmSkipped",
        "CampaignErased",
        "ListsImported",
        "ListsErased",
    }
