"""``safetrade fake-kucoin``: serve the fake KuCoin on 127.0.0.1 for bots in any language.

Prints the base URL and the test credentials, then serves until interrupted (Ctrl-C).
Point a ccxt client at it with ``client.urls['api'] = {k: BASE_URL for k in client.urls['api']}``.
"""

from __future__ import annotations

import argparse
import sys
import threading
from decimal import Decimal, InvalidOperation

from safetrade.testing._fake import FakeKucoin


def _pair(text: str) -> tuple[str, Decimal]:
    key, sep, value = text.partition("=")
    try:
        if not sep or not key:
            raise InvalidOperation
        return key, Decimal(value)
    except InvalidOperation:
        msg = f"expected NAME=NUMBER, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    """Add the ``fake-kucoin`` arguments to ``parser``.

    Args:
        parser: The subcommand's parser.
        name: The subcommand name (unused; part of the CLI protocol).
    """
    parser.add_argument("--port", type=int, default=8090, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument("--hf", action="store_true", help="report an HF trading account")
    parser.add_argument(
        "--balance", type=_pair, action="append", default=[], metavar="CUR=AMOUNT",
        help="available balance, e.g. USDT=123 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--price", type=_pair, action="append", default=[], metavar="SYMBOL=PRICE",
        help="last price, e.g. SOL-USDT=87.36 (repeatable)",
    )  # fmt: skip


def run(args: argparse.Namespace, name: str, *, stop: threading.Event | None = None) -> int:
    """Serve until interrupted (or until ``stop`` is set); return the exit status.

    Args:
        args: Parsed arguments from :func:`configure`.
        name: The subcommand name.
        stop: Lets a caller (a test) end the server; Ctrl-C does the same from a terminal.
    """
    fake = FakeKucoin(balances=dict(args.balance), prices=dict(args.price), hf=args.hf)
    with fake:
        server = fake.serve(args.port)
        creds = fake.credentials
        sys.stdout.write(
            f"safetrade {name}: fake KuCoin listening on {server.base_url}\n"
            f"  apiKey:   {creds.api_key}\n  secret:   {creds.api_secret}\n"
            f"  password: {creds.passphrase}\n"
            "  ccxt: client.urls['api'] = {k: BASE_URL for k in client.urls['api']}\n"
            "Press Ctrl-C to stop.\n"
        )
        sys.stdout.flush()
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            sys.stdout.write(f"safetrade {name}: stopped\n")
    return 0
