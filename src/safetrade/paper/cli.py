"""``safetrade paper status``: what the paper journal shows about the code in it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from safetrade.config import DEFAULT_PAPER_DB
from safetrade.paper.status import read_summary

if TYPE_CHECKING:
    import argparse

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser, _name: str) -> None:
    """Add the arguments of ``safetrade paper``."""
    parser.add_argument("action", choices=("status",), help="status: summarise the journal")
    parser.add_argument(
        "--db",
        type=Path,
        default=Path(os.environ.get("SAFETRADE_PAPER_DB") or DEFAULT_PAPER_DB),
        help="the paper database (default $SAFETRADE_PAPER_DB or .safetrade/paper.sqlite3)",
    )
    parser.add_argument(
        "--bot",
        metavar="PACKAGE",
        help="count only the paper time of this bot package as installed now (what certify "
        "counts); default: the code that wrote the newest entry",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace, _name: str) -> int:
    """Print the summary; exit 1 when there is no journal."""
    digests = None
    if args.bot:
        from safetrade.paper.digests import code_digests  # noqa: PLC0415 - hashing

        digests = code_digests(args.bot)
    summary = read_summary(args.db, digests=digests, now_ms=time.time_ns() // 1_000_000)
    if summary is None:
        print(f"safetrade paper: no paper journal at {args.db} (run your bot with "
              "TRADING_MODE=paper first)")  # fmt: skip
        return 1
    if args.json:
        print(json.dumps(summary.to_json(), indent=1))
    else:
        print(f"paper journal {args.db}")
        for line in summary.lines():
            print(f"  {line}")
    return 0
