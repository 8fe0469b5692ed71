"""Platform staff: who they are, and which campaign they may read, for how long.

    python -m tools.staff grant EMAIL --trained 2026-11-01
    python -m tools.staff revoke EMAIL
    python -m tools.staff grant-access EMAIL --campaign CID --reason TEXT --hours N
    python -m tools.staff revoke-access EMAIL --campaign CID

`grant` flags a user as staff with the date of their last security training; `revoke`
takes the flag away. Staff read a campaign only under a live grant (`grant-access`: at
most 72 hours, with a reason the campaign's admins see, and they are e-mailed at once),
with an MFA-verified session and a training newer than 365 days; they never change
anything. `revoke-access` ends the staff member's live grants to the campaign at once.

Each command prints what it will do and asks first (`--yes` skips the question); the
operator's AWS identity (`OPERATOR` locally) is named in the audit record. Settings come
from the environment, as for the functions (chalicelib/config.py).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from tools import operator
from tools.operator import Abort


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.staff",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    grant = sub.add_parser("grant", help="flag as staff, with the last training date")
    grant.add_argument("email")
    grant.add_argument("--trained", required=True, help="date of the last security training")
    revoke = sub.add_parser("revoke", help="take the staff flag away")
    revoke.add_argument("email")
    access = sub.add_parser("grant-access", help="let staff read one campaign for N hours")
    access.add_argument("email")
    access.add_argument("--campaign", required=True, metavar="CID")
    access.add_argument("--reason", required=True, help="why: the campaign's admins read it")
    access.add_argument("--hours", required=True, type=int, help="1 to 72")
    end = sub.add_parser("revoke-access", help="end the staff member's grants to a campaign")
    end.add_argument("email")
    end.add_argument("--campaign", required=True, metavar="CID")
    for command in (grant, revoke, access, end):
        operator.add_yes(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    trained = None
    if args.command == "grant":
        try:
            day = datetime.strptime(args.trained, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            parser.error("--trained must be a date as YYYY-MM-DD")
        if day > datetime.now(UTC):
            parser.error("--trained cannot be in the future")
        trained = day.isoformat()
    if args.command == "grant-access" and not 1 <= args.hours <= 72:
        parser.error("--hours must be 1 to 72")
    return operator.run(lambda: _run(args, trained))


def _run(args: argparse.Namespace, trained: str | None) -> int:
    from chalicelib.dal import users

    user_id = operator.user_id_for(args.email)
    who = operator.identity()
    if args.command in ("grant", "revoke"):
        plan = (
            f"Flag {args.email} as platform staff, trained {args.trained}."
            if args.command == "grant"
            else f"Take the staff flag from {args.email}."
        )
        operator.confirm(plan, yes=args.yes)
        user = users.set_staff(user_id, trained, actor=who)
        state = f"staff, trained {user.staff_trained_at}" if user.is_staff else "not staff"
        print(f"{args.email}: {state}")
        return 0
    if args.command == "grant-access":
        from chalicelib.logic import staff

        operator.confirm(
            f"Let {args.email} read campaign {args.campaign} for {args.hours} hours.\n"
            f"Reason (shown to the campaign's admins, who are e-mailed now): {args.reason}",
            yes=args.yes,
        )
        grant = staff.issue_grant(
            args.campaign, user_id, reason=args.reason, hours=args.hours, operator=who
        )
        print(f"grant {grant.grant_id}: {args.email} may read {args.campaign}")
        print(f"until {grant.expires_at}")
        return 0
    from chalicelib.logic import staff

    operator.confirm(
        f"End every live grant of {args.email} to campaign {args.campaign}.", yes=args.yes
    )
    ended = staff.revoke_staff(args.campaign, user_id, who)
    if not ended:
        raise Abort(f"{args.email} has no live grant to {args.campaign}")
    print(f"ended: {', '.join(g.grant_id for g in ended)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
