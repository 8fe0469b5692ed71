"""The audit archive in the log bucket: verify a range of days, or run the daily jobs now.

    python -m tools.audit_archive verify --from 2026-11-01 --to 2026-11-14
    python -m tools.audit_archive run [--today 2026-11-29]
    python -m tools.audit_archive export-logs [--today 2026-11-29]

`verify` prints one problem a line (the kind, the day, the object key and what is wrong)
and exits 1 when there is any, 0 when every day of the range is intact. `run` seals the
days that are due (T-13 to T-2, see chalicelib/audit/archive.py); `export-logs` starts the
CloudWatch Logs exports that are due. Settings come from the environment, as for the
functions (chalicelib/config.py).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime


def _day(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date as YYYY-MM-DD") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.audit_archive",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="check the archived days of a range")
    check.add_argument("--from", dest="first", type=_day, required=True, metavar="YYYY-MM-DD")
    check.add_argument("--to", dest="last", type=_day, required=True, metavar="YYYY-MM-DD")
    run = sub.add_parser("run", help="archive the days that are due")
    run.add_argument("--today", type=_day, default=None, metavar="YYYY-MM-DD")
    export = sub.add_parser("export-logs", help="export the application logs that are due")
    export.add_argument("--today", type=_day, default=None, metavar="YYYY-MM-DD")
    args = parser.parse_args(argv)

    from chalicelib.audit import archive

    if args.command == "verify":
        if args.first > args.last:
            parser.error("--from must not be after --to")
        problems = archive.verify(args.first, args.last)
        for problem in problems:
            print(problem)
        count = (args.last - args.first).days + 1
        if problems:
            print(f"{len(problems)} problem(s) in {count} day(s)", file=sys.stderr)
            return 1
        print(f"{args.first}..{args.last}: {count} day(s) intact")
        return 0
    if args.command == "run":
        done = archive.archive_pending(args.today)
        for day in done:
            print(f"{day.day}: {day.records} record(s) in {len(day.objects)} object(s)")
        print(f"{len(done)} day(s) archived")
        return 0

    from chalicelib.audit import logs_export

    started = logs_export.export_pending(args.today)
    for task_id in started:
        print(f"export task {task_id}")
    print(f"{len(started)} export task(s) started")
    return 0


if __name__ == "__main__":
    sys.exit(main())
