"""A phone syncing its address book again: what it costs in DynamoDB calls and read and
write units, unchanged and with one new contact, at 100, 1,000 and 4,999 stored contacts
(a sync takes 5,000), on DynamoDB Local (units asked of it with ReturnConsumedCapacity).

A sync passes over the contacts it merged before (their fingerprints are in a few digest
items beside the profile): an unchanged address book reads those and no contact; a new
contact is merged against every stored contact (read once, one Query).

    .venv/bin/python bench/contact_resync.py          # SIZES=100,1000,4999
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = [int(n) for n in os.environ.get("SIZES", "100,1000,4999").split(",") if n.strip()]


def book(n: int) -> list[dict[str, object]]:
    from bench.contacts import phone

    return [{"name": f"Friend {k}", "phones": [phone(k)]} for k in range(n)]


def main() -> None:
    import logging

    from bench.harness import on_dynamodb_local
    from bench.route_costs import measure, metering
    from chalicelib.observability import logger

    logging.getLogger(logger.name).setLevel(logging.ERROR)
    print("contact sync again, on DynamoDB Local: calls, read units, write units")
    print(f"{'stored':>7} {'unchanged':>24} {'one new contact':>24}")
    for n in SIZES:
        with on_dynamodb_local():
            from chalicelib.dal import users
            from chalicelib.logic import contacts
            from chalicelib.logic.principal import Principal

            users.create_user("bench-vol", "vol@example.org", "Vol", None)
            principal = Principal("bench-vol", "bench-session", mfa=False)
            address_book = book(n)
            contacts.sync_contacts(principal, address_book)
            with metering(units=True):
                with measure() as unchanged:
                    contacts.sync_contacts(principal, address_book)
                more = [*address_book, {"name": "New friend", "phones": ["+12025559999"]}]
                with measure() as one_new:
                    contacts.sync_contacts(principal, more)
        cells = [
            f"{c.calls['dynamodb']:>3} calls {c.read_units:>6.1f}r {c.write_units:>6.1f}w"
            for c in (unchanged, one_new)
        ]
        print(f"{n:>7} {cells[0]:>24} {cells[1]:>24}", flush=True)


if __name__ == "__main__":
    main()
