"""What every operator command that changes something shares.

1. It prints what it will do, then asks (`--yes` skips the question; a closed input or
   anything but "y"/"yes" is a no, and nothing changes).
2. The operator is named in the audit record: their AWS identity (the ARN that STS
   reports for the credentials in use), or `OPERATOR` on the local stack.
3. It exits 0 when done, 1 when refused or failed, with one readable line on stderr,
   never a traceback; 2 for a usage error (argparse's own).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

LOCAL_OPERATOR = "OPERATOR"


class Abort(Exception):
    """The command stops here with this message (exit status 1)."""


def add_yes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="do it without asking")


def identity() -> str:
    """Who is running the command, for the audit record."""
    if os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("STAGE", "local") == "local":
        return LOCAL_OPERATOR
    from chalicelib import aws

    arn = aws.client("sts").get_caller_identity()["Arn"]
    return f"operator:{arn}"


def confirm(plan: str, *, yes: bool) -> None:
    """Print the plan; go on only if the operator says so."""
    print(plan)
    if yes:
        return
    try:
        answer = input("Go ahead? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise Abort("nothing was changed")


def user_id_for(email: str) -> str:
    """The user id of an account, by e-mail (a missing account stops the command)."""
    from chalicelib.auth import cognito

    found = cognito.user_id_of(email.strip().lower())
    if found is None:
        raise Abort(f"no account has the e-mail {email}")
    return found


def run(command: Callable[[], int]) -> int:
    """Run a command's body: domain and AWS errors become one line and exit status 1."""
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.errors import DomainError

    try:
        return command()
    except Abort as exc:
        print(f"stopped: {exc}", file=sys.stderr)
    except DomainError as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        print(f"AWS refused: {error.get('Code')}: {error.get('Message')}", file=sys.stderr)
    except BotoCoreError as exc:
        print(f"AWS could not be reached: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    except Exception as exc:  # a bug or an outage: one line, and the command can be rerun
        print(f"failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 1
