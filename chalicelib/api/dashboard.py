"""/campaigns/{cid}/stats and /exports: the campaign's dashboard, and its data as CSV files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http import route

if TYPE_CHECKING:
    from chalicelib.logic.principal import Principal
    from chalicelib.logic.stats import CampaignStats

bp = Blueprint(__name__)


def stats_body(stats: CampaignStats) -> dict[str, Any]:
    return {
        "members": {"admins": stats.admins, "volunteers": stats.volunteers},
        "synced_contacts": stats.synced_contacts,
        "reports": {"total": stats.reports, "by_result": stats.by_result},
        "actions": [
            {
                "action_id": a.action_id,
                "title": a.title,
                "deleted": a.deleted,
                "reports": a.reports,
                "by_result": a.by_result,
                "questions": [
                    {
                        "question_id": q.question_id,
                        "text": q.text,
                        "responses": [
                            {"response_id": rid, "text": text, "count": n}
                            for rid, text, n in q.responses
                        ],
                    }
                    for q in a.questions
                ],
            }
            for a in stats.actions
        ],
        "sync": stats.sync,
    }


@route(bp, "/campaigns/{cid}/stats", methods=["GET"], response="Stats")
def campaign_stats(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import stats

    return stats_body(stats.campaign_stats(principal, cid))
