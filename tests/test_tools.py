"""Operator commands."""

from __future__ import annotations

import pytest

from tests.helpers import admin_with_mfa, create_campaign, sign_in


def test_grant_and_revoke_staff(api, capsys):
    from tools import staff

    admin = admin_with_mfa(api)
    cid = create_campaign(api, admin)
    person = admin_with_mfa(api, "staffer")
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 404

    assert staff.main(["grant", person.email.upper(), "--trained", "2026-11-01", "--yes"]) == 0
    assert "staff, trained 2026-11-01" in capsys.readouterr().out
    sign_in(api, person)
    assert api.get("/me", token=person.token).body["is_staff"] is True
    # the flag alone opens no campaign: a grant does
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 404
    grant = ["grant-access", person.email, "--campaign", cid, "--reason", "t-1", "--hours", "1"]
    assert staff.main([*grant, "--yes"]) == 0
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 200

    assert staff.main(["revoke", person.email, "--yes"]) == 0
    assert api.get(f"/campaigns/{cid}", token=person.token).status == 404


def test_bad_dates_are_refused(api):
    from tools import staff

    with pytest.raises(SystemExit):
        staff.main(["grant", "a@example.org", "--trained", "yesterday"])
    with pytest.raises(SystemExit):
        staff.main(["grant", "a@example.org", "--trained", "2999-01-01"])
