"""Flag a user as platform staff (or take the flag away).

    python -m tools.staff grant EMAIL --trained 2026-11-01
    python -m tools.staff revoke EMAIL

Staff with a security training newer than 365 days and an MFA-verified session may
read campaign data; they can never change it. Settings come from the environment,
as for the functions (chalicelib/config.py).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.dal import users

OPERATOR = "operator"


def user_id_for(email: str) -> str:
    out = aws.client("cognito-idp").admin_get_user(
        UserPoolId=settings().user_pool_id, Username=email.strip().lower()
    )
    attributes = {a["Name"]: a["Value"] for a in out["UserAttributes"]}
    return str(attributes["sub"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.staff", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    grant = sub.add_parser("grant", help="flag as staff, with the last training date")
    grant.add_argument("email")
    grant.add_argument("--trained", required=True, help="date of the last security training")
    revoke = sub.add_parser("revoke", help="take the staff flag away")
    revoke.add_argument("email")
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
    user = users.set_staff(user_id_for(args.email), trained, actor=OPERATOR)
    state = f"staff, trained {user.staff_trained_at}" if user.is_staff else "not staff"
    print(f"{args.email}: {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
