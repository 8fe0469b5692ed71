"""Campaign deletions, for operators.

    python -m tools.deletion list
    python -m tools.deletion receipt CID
    python -m tools.deletion run --now CID --reference "signed letter of 2026-11-30"
    python -m tools.deletion grace CID --days 30

`list` shows every deletion scheduled or under way. `receipt` prints what an erasure
erased: who asked and when, counts per kind, and a digest of the erased keys. `run --now`
erases a campaign before its grace period ends, on a written request its contract allows
(the reference is kept in the receipt and the audit trail); it asks for the campaign's
name first unless `--yes`. `grace` sets the campaign's grace period (its contract's; 7 days
unless set). An erasure interrupted for any reason resumes where it stopped on the next
run (the hourly schedule, or this command again).
"""

from __future__ import annotations

import argparse
import json
import sys

from tools import operator
from tools.operator import Abort


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.deletion",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="deletions scheduled or under way")
    receipt = sub.add_parser("receipt", help="what an erasure erased")
    receipt.add_argument("campaign_id", metavar="CID")
    run = sub.add_parser("run", help="erase a campaign now, on a written request")
    run.add_argument("--now", required=True, dest="campaign_id", metavar="CID")
    run.add_argument("--reference", required=True, help="the written request it follows")
    operator.add_yes(run)
    grace = sub.add_parser("grace", help="set a campaign's grace period (its contract's)")
    grace.add_argument("campaign_id", metavar="CID")
    grace.add_argument("--days", required=True, type=int)
    operator.add_yes(grace)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return operator.run(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from chalicelib.dal import deletion as deletion_dal

    if args.command == "list":
        found = deletion_dal.pending()
        if not found:
            print("no deletion is scheduled or under way")
        for entry in found:
            print(
                f"{entry.campaign_id}  {entry.state:9}  due {entry.scheduled_for}  "
                f"requested by {entry.requested_by} at {entry.requested_at}"
            )
        return 0
    if args.command == "receipt":
        found_one = deletion_dal.get(args.campaign_id)
        if found_one is None or found_one.state != "done":
            state = "no deletion" if found_one is None else f"a deletion {found_one.state}"
            raise Abort(f"no receipt: {args.campaign_id} has {state}")
        receipt = {
            "campaign_id": found_one.campaign_id,
            "requested_by": found_one.requested_by,
            "requested_at": found_one.requested_at,
            "scheduled_for": found_one.scheduled_for,
            "ran_early": found_one.skipped_grace,
            "started_at": found_one.started_at,
            "erased_at": found_one.erased_at,
            "counts": found_one.counts,
            "digest": found_one.digest,
        }
        print(json.dumps(receipt, indent=2, sort_keys=True))
        return 0
    from chalicelib.dal import campaigns as campaigns_dal
    from chalicelib.logic import deletion

    who = operator.identity()
    campaign = campaigns_dal.get_campaign(args.campaign_id)
    if args.command == "grace":
        if campaign is None:
            raise Abort(f"no campaign {args.campaign_id}")
        operator.confirm(
            f"Set the grace period of {campaign.name} ({campaign.campaign_id}) to "
            f"{args.days} days (now {campaign.deletion_grace_days}).",
            yes=args.yes,
        )
        deletion.set_grace(args.campaign_id, args.days, operator=who)
        print(f"{args.campaign_id}: grace period {args.days} days")
        return 0
    current = deletion_dal.get(args.campaign_id)
    if campaign is None and (current is None or current.state != "erasing"):
        raise Abort(f"no campaign {args.campaign_id} to erase")
    name = campaign.name if campaign else current.campaign_name if current else None
    operator.confirm(
        f"Erase every item of {name} ({args.campaign_id}) now, skipping its grace period,\n"
        f"on the written request: {args.reference}\nThis cannot be undone.",
        yes=True,
    )
    if not args.yes:
        try:
            typed = input("Type the campaign's name to go ahead: ")
        except EOFError:
            typed = ""
        if typed != name:
            raise Abort("the name did not match; nothing was changed")
    outcome = deletion.erase_now(args.campaign_id, operator=who, reference=args.reference)
    if not outcome.done:
        raise Abort("the erasure did not finish; run the command again to resume it")
    done = outcome.receipt
    counts = done.counts if done else {}
    print(f"erased {args.campaign_id}: {sum(counts.values())} items")
    for kind, number in sorted(counts.items()):
        print(f"  {kind}: {number}")
    print(f"digest {done.digest if done else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
