"""Incident response commands (docs/incident-response.md says when to use each).

    python -m tools.incident revoke-sessions --user EMAIL
    python -m tools.incident revoke-sessions --campaign CID
    python -m tools.incident revoke-sessions --all
    python -m tools.incident lock EMAIL
    python -m tools.incident unlock EMAIL
    python -m tools.incident reset-mfa EMAIL
    python -m tools.incident disable-integration CID PROVIDER
    python -m tools.incident enable-integration CID PROVIDER
    python -m tools.incident export-audit CID --from 2026-11-20 --to 2026-12-02 --out FILE

`revoke-sessions` signs out at once (the next request of each token is refused). `lock`
disables the account in Cognito and signs it out everywhere; `unlock` lets it sign in
again. `reset-mfa` removes the user's TOTP and recovery codes and signs them out: they
enrol again when they next sign in. `disable-integration` pauses a CRM integration's
sync: reports keep their sync records, pending, and go out once it is enabled again.
`export-audit` writes one campaign's audit records of a window (the archive and the
table together, one JSON object a line, oldest first) after verifying the archive's
digests and chain for those days; it changes nothing, so it does not ask.

Every command that changes something prints what it will do and asks first (`--yes`
skips the question), and is an audit record naming the operator.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from tools import operator
from tools.operator import Abort


def _day(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date as YYYY-MM-DD") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.incident",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    revoke = sub.add_parser("revoke-sessions", help="sign out a user, a campaign or everyone")
    who = revoke.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="EMAIL")
    who.add_argument("--campaign", metavar="CID")
    who.add_argument("--all", action="store_true")
    commands = [revoke]
    for name, text in (
        ("lock", "disable an account and sign it out everywhere"),
        ("unlock", "let a locked account sign in again"),
        ("reset-mfa", "remove an account's second factor; it enrols again"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("email")
        commands.append(command)
    for name, text in (
        ("disable-integration", "pause a CRM integration's sync (nothing is lost)"),
        ("enable-integration", "resume a paused CRM integration's sync"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("campaign_id", metavar="CID")
        command.add_argument("provider", choices=["van", "pdi", "salsa"])
        commands.append(command)
    for command in commands:
        operator.add_yes(command)
    export = sub.add_parser("export-audit", help="one campaign's audit records of a window")
    export.add_argument("campaign_id", metavar="CID")
    export.add_argument("--from", dest="first", type=_day, required=True, metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="last", type=_day, required=True, metavar="YYYY-MM-DD")
    export.add_argument("--out", required=True, type=Path, help="file to write (JSON lines)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "export-audit" and args.first > args.last:
        parser.error("--from is after --to")
    return operator.run(lambda: _run(args))


def _record(event: str, target: str, who: str, **values: object) -> None:
    from chalicelib.audit import store

    campaign_id = values.pop("campaign_id", None)
    store.record(
        event,
        target,
        actor_id=who,
        campaign_id=str(campaign_id) if campaign_id else None,
        values=dict(values),
        operator=True,
    )


def _run(args: argparse.Namespace) -> int:
    if args.command == "export-audit":
        return _export_audit(args.campaign_id, args.first, args.last, args.out)
    who = operator.identity()
    if args.command == "revoke-sessions":
        return _revoke_sessions(args, who)
    if args.command in ("disable-integration", "enable-integration"):
        return _integration(args, who)
    return _account(args, who)


def _revoke_sessions(args: argparse.Namespace, who: str) -> int:
    from chalicelib.dal import campaigns, sessions

    if args.all:
        operator.confirm("Sign out EVERY user of the platform, now.", yes=args.yes)
        ended = sessions.revoke_everyone()
        _record("incident.sessions_revoked", "platform", who, scope="all", ended=ended)
    elif args.user:
        user_id = operator.user_id_for(args.user)
        operator.confirm(f"Sign out every session of {args.user}, now.", yes=args.yes)
        ended = sessions.revoke_user_sessions(user_id)
        _record("incident.sessions_revoked", f"user:{user_id}", who, scope="user", ended=ended)
    else:
        if campaigns.get_campaign(args.campaign) is None:
            raise Abort(f"no campaign {args.campaign}")
        members = _members(args.campaign)
        operator.confirm(
            f"Sign out every session of the {len(members)} members of campaign "
            f"{args.campaign}, now.",
            yes=args.yes,
        )
        ended = sum(sessions.revoke_user_sessions(m) for m in members)
        _record(
            "incident.sessions_revoked",
            f"campaign:{args.campaign}",
            who,
            scope="campaign",
            campaign_id=args.campaign,
            members=len(members),
            ended=ended,
        )
    print(f"sessions ended: {ended}")
    return 0


def _members(campaign_id: str) -> list[str]:
    from chalicelib.dal import campaigns

    found: list[str] = []
    cursor = None
    while True:
        page = campaigns.list_members(campaign_id, limit=200, cursor=cursor)
        found += [m.user_id for m in page.items]
        cursor = page.next_cursor
        if not cursor:
            return found


def _account(args: argparse.Namespace, who: str) -> int:
    from chalicelib import aws
    from chalicelib.config import settings
    from chalicelib.dal import sessions, users

    user_id = operator.user_id_for(args.email)
    pool = settings().user_pool_id
    username = args.email.strip().lower()
    idp = aws.client("cognito-idp")
    if args.command == "lock":
        operator.confirm(
            f"Lock {args.email}: no sign-in until unlocked, every session ended now.",
            yes=args.yes,
        )
        idp.admin_disable_user(UserPoolId=pool, Username=username)
        ended = sessions.revoke_user_sessions(user_id)
        _record("incident.user_locked", f"user:{user_id}", who, ended=ended)
        print(f"{args.email}: locked, sessions ended: {ended}")
    elif args.command == "unlock":
        operator.confirm(f"Unlock {args.email}: they may sign in again.", yes=args.yes)
        idp.admin_enable_user(UserPoolId=pool, Username=username)
        _record("incident.user_unlocked", f"user:{user_id}", who)
        print(f"{args.email}: unlocked")
    else:
        operator.confirm(
            f"Remove the second factor of {args.email} (TOTP and recovery codes) and end "
            "every session: they enrol again at their next sign-in.",
            yes=args.yes,
        )
        had = users.reset_mfa(user_id, who)
        ended = sessions.revoke_user_sessions(user_id)
        _record("incident.mfa_reset", f"user:{user_id}", who, had_mfa=had, ended=ended)
        print(f"{args.email}: second factor removed ({'had one' if had else 'had none'})")
    return 0


def _integration(args: argparse.Namespace, who: str) -> int:
    from chalicelib.dal import integrations

    pause = args.command == "disable-integration"
    if integrations.get_integration(args.campaign_id, args.provider) is None:
        raise Abort(f"{args.provider} is not configured for campaign {args.campaign_id}")
    operator.confirm(
        f"{'Pause' if pause else 'Resume'} the {args.provider} sync of campaign "
        f"{args.campaign_id}"
        + (": reports wait, pending, until it is enabled again." if pause else "."),
        yes=args.yes,
    )
    integrations.set_paused(args.campaign_id, args.provider, paused=pause, actor=who)
    if not pause:  # what waited goes out at the next sync run, not a quarter of an hour later
        waiting = integrations.resume_paused(args.campaign_id, args.provider, who)
        print(f"reports waiting, now due: {waiting}")
    _record(
        "incident.integration_paused" if pause else "incident.integration_resumed",
        f"integration:{args.provider}",
        who,
        campaign_id=args.campaign_id,
        provider=args.provider,
    )
    print(f"{args.campaign_id} {args.provider}: {'paused' if pause else 'syncing'}")
    return 0


def _export_audit(campaign_id: str, first: date, last: date, out: Path) -> int:
    from chalicelib.audit import archive, store

    sealed = _archived_window(first, last)
    if sealed is not None:
        problems = archive.verify(*sealed)
        if problems:
            for problem in problems:
                print(f"archive problem: {problem}", file=sys.stderr)
            raise Abort("the archive does not verify for this window; nothing was written")
    found: dict[str, dict[str, object]] = {}
    archived = 0
    for day in archive.days(*sealed) if sealed else ():
        for entry in archive.archived_records(day):
            if entry.campaign_id == campaign_id and not entry.operator:
                found[entry.event_id] = entry.as_dict()
                archived += 1
    start = f"{first.isoformat()}T00:00:00.000Z"
    end = f"{last.isoformat()}T23:59:59.999Z"
    hot = 0
    for entry in store.campaign_records_between(campaign_id, start, end):
        if entry.event_id not in found:
            hot += 1
        found[entry.event_id] = entry.as_dict()
    lines = sorted(found.values(), key=lambda r: (str(r["at"]), str(r["event_id"])))
    out.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in lines))
    checked = f"archive verified {sealed[0]} to {sealed[1]}" if sealed else "no archived day"
    print(
        f"{len(lines)} records of {campaign_id} from {first} to {last} written to {out} "
        f"({archived} from the archive, {hot} only in the table; {checked})"
    )
    return 0


def _archived_window(first: date, last: date) -> tuple[date, date] | None:
    """The days of the window the archive holds: from the first day with a digest (a
    digest missing after it, or one it should link to, is then a problem `verify`
    reports) to the last day the daily job has sealed. None when it holds none yet."""
    from chalicelib.audit import archive

    newest = min(last, archive.last_archivable(datetime.now(UTC).date()))
    for day in archive.days(first, newest):
        if archive.exists(archive.digest_key(day)):
            return day, newest
    return None


if __name__ == "__main__":
    sys.exit(main())
