"""A campaign's dashboard: members, synced contacts, reports by result, per action and per
question, and the CRM sync's health, all from kept counters (`dal.stats`): its cost does not
grow with the number of reports. Counts only: never a contact, never who reported what."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.auth.policy import Permission
from chalicelib.dal import actions as actions_dal
from chalicelib.dal import campaigns as campaigns_dal
from chalicelib.dal import stats as stats_dal
from chalicelib.domain.integrations import SyncState
from chalicelib.errors import NotFound
from chalicelib.logic.access import require_with
from chalicelib.logic.principal import Principal


@dataclass(frozen=True)
class QuestionStats:
    question_id: str
    text: str
    responses: list[tuple[str, str, int]]  # response_id, text, count


@dataclass(frozen=True)
class ActionStats:
    action_id: str
    title: str
    deleted: bool
    reports: int
    by_result: dict[str, int]
    questions: list[QuestionStats]


@dataclass(frozen=True)
class CampaignStats:
    admins: int
    volunteers: int
    synced_contacts: int
    reports: int
    by_result: dict[str, int]
    actions: list[ActionStats] = field(default_factory=list)
    sync: dict[str, int] = field(default_factory=dict)


def _results(counters: dict[str, int]) -> dict[str, int]:
    return {
        name.removeprefix("result:"): n
        for name, n in sorted(counters.items())
        if name.startswith("result:") and n > 0
    }


def campaign_stats(principal: Principal, campaign_id: str) -> CampaignStats:
    _, campaign = require_with(
        principal, campaign_id, Permission.VIEW_STATS, campaigns_dal.campaign_key(campaign_id)
    )
    if campaign is None:
        raise NotFound("no such campaign")
    counters = stats_dal.read(campaign_id)
    by_action = {
        scope.removeprefix(stats_dal.ACTION): counts
        for scope, counts in counters.items()
        if scope.startswith(stats_dal.ACTION)
    }
    known = actions_dal.get_actions(campaign_id, sorted(by_action))
    actions: list[ActionStats] = []
    for action_id in sorted(by_action, reverse=True):  # ids grow with time: newest first
        action, counts = known.get(action_id), by_action[action_id]
        if action is None:  # erased since: its counts go with it
            continue
        actions.append(
            ActionStats(
                action_id=action_id,
                title=action.title,
                deleted=action.deleted,
                reports=max(0, counts.get("reports", 0)),
                by_result=_results(counts),
                questions=[
                    QuestionStats(
                        q.question_id,
                        q.text,
                        [
                            (
                                r.response_id,
                                r.text,
                                counts.get(f"answer:{q.question_id}:{r.response_id}", 0),
                            )
                            for r in q.responses
                        ],
                    )
                    for q in action.questions
                ],
            )
        )
    by_result: dict[str, int] = {}
    for action_stats in actions:
        for result, n in action_stats.by_result.items():
            by_result[result] = by_result.get(result, 0) + n
    members = counters.get(stats_dal.MEMBERS, {})
    sync = counters.get(stats_dal.SYNC, {})
    return CampaignStats(
        admins=campaign.admin_count,
        volunteers=max(0, members.get("members", 0) - campaign.admin_count),
        synced_contacts=max(0, members.get("synced_contacts", 0)),
        reports=sum(a.reports for a in actions),
        by_result=by_result,
        actions=actions,
        sync={state.value: max(0, sync.get(state.value, 0)) for state in SyncState},
    )


def reconcile_members(pairs: set[tuple[str, str]]) -> None:
    """Bring each (campaign, user)'s share of the member and synced-contact counters to the
    truth: after a join, a removal, or a change to the user's contacts."""
    from chalicelib.dal import users as users_dal

    if not pairs:
        return
    users = users_dal.get_users(sorted({uid for _, uid in pairs}), consistent=True)
    for campaign_id, user_id in sorted(pairs):
        member = campaigns_dal.get_membership(campaign_id, user_id) is not None
        user = users.get(user_id)
        stats_dal.reconcile_member(
            campaign_id,
            user_id,
            member=member and user is not None,
            contacts=user.contacts_count if user is not None else 0,
        )
