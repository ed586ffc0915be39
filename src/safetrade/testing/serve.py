"""``safetrade fake-kucoin``: serve the fake KuCoin on 127.0.0.1 for bots in any language.

Prints the base URL and the test credentials, then serves until interrupted (Ctrl-C). Set-up
comes from flags or a TOML file (``--config``; flags win); at run time the control API under
``/_safetrade/`` on the same port moves prices, replays candles, injects faults, advances the
clock and reads state and the request log (see ``safetrade.testing._control``).

Point a ccxt client at it by overriding **every** key of ``client.urls['api']``
(``{k: BASE_URL for k in client.urls['api']}``): ccxt's KuCoin also calls the futures host
while loading markets, and any key left alone goes to the real KuCoin.

A config file::

    account = "classic"            # or "hf"
    max_requests = 10000           # bound of the request log
    [balances]
    USDT = "123"
    [prices]
    SOL-USDT = "87.36"
    [book]                         # spread and depth of the generated order book
    spread_ticks = 2
    levels = 50
    level_size = "25"
    [fill_policy]
    fraction = "1"
    up_to_balance = true
    [[markets]]                    # replaces the default markets when given
    symbol = "SOL-USDT"
    price_increment = "0.01"
    [[paths]]                      # a price path to replay
    symbol = "SOL-USDT"
    csv = "sol.csv"                # time,open,high,low,close[,volume]
    history = 100                  # candles already in the past at start-up
    step_seconds = 60              # replay a candle every N seconds (0: only via control API)
    [[faults]]
    endpoint = "create_stop_order"
    fault = "timeout"              # or {code = "400100", msg = "..."}
    times = 1
"""

from __future__ import annotations

import argparse
import sys
import threading
import tomllib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs

from safetrade.testing._control import (
    ControlError,
    book_shape,
    fill_policy,
    market_rules,
    parse_fault,
)
from safetrade.testing._fake import FakeKucoin
from safetrade.testing._market_data import PricePath

DEFAULT_MAX_REQUESTS = 10_000


def _pair(text: str) -> tuple[str, Decimal]:
    key, sep, value = text.partition("=")
    try:
        if not sep or not key:
            raise InvalidOperation
        return key, Decimal(value)
    except InvalidOperation:
        msg = f"expected NAME=NUMBER, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _path_flag(text: str) -> tuple[str, str]:
    symbol, sep, csv = text.partition("=")
    if not sep or not symbol or not csv:
        msg = f"expected SYMBOL=FILE.csv, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return symbol, csv


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    """Add the ``fake-kucoin`` arguments to ``parser``.

    Args:
        parser: The subcommand's parser.
        name: The subcommand name (unused; part of the CLI protocol).
    """
    parser.add_argument("--port", type=int, default=8090, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument("--config", type=Path, help="TOML set-up file (see the module docs)")
    parser.add_argument("--hf", action="store_true", help="report an HF trading account")
    parser.add_argument(
        "--balance", type=_pair, action="append", default=[], metavar="CUR=AMOUNT",
        help="available balance, e.g. USDT=123 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--price", type=_pair, action="append", default=[], metavar="SYMBOL=PRICE",
        help="last price, e.g. SOL-USDT=87.36 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--path", type=_path_flag, action="append", default=[], metavar="SYMBOL=FILE.csv",
        help="price path to replay (time,open,high,low,close[,volume]; repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--history", type=int, default=0, help="candles of each --path already in the past"
    )
    parser.add_argument(
        "--step-seconds", type=float, default=0.0,
        help="replay one candle of each path every N seconds (0: only via the control API)",
    )  # fmt: skip
    parser.add_argument("--spread-ticks", type=int, help="order book spread in price ticks")
    parser.add_argument("--book-levels", type=int, help="order book levels per side")
    parser.add_argument("--level-size", help="base amount at each book level")
    parser.add_argument(
        "--strict-balance", action="store_true",
        help="reject a market buy the balance cannot pay in full (KuCoin fills what it can)",
    )  # fmt: skip
    parser.add_argument(
        "--max-requests", type=int, default=None,
        help=f"bound of the recorded request log (default {DEFAULT_MAX_REQUESTS})",
    )  # fmt: skip


def _table(config: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = config.get(key, {})
    if not isinstance(value, Mapping):
        msg = f"[{key}] must be a table"
        raise ControlError(msg)
    return value


def _rows(config: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = config.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        msg = f"[[{key}]] must be an array of tables"
        raise ControlError(msg)
    return value


def _decimals(table: Mapping[str, Any], key: str) -> dict[str, Decimal]:
    out = {}
    for name, raw in table.items():
        try:
            out[name] = Decimal(str(raw))
        except InvalidOperation:
            msg = f"[{key}] {name} must be a number, got {raw!r}"
            raise ControlError(msg) from None
    return out


@attrs.frozen
class Setup:
    """Everything the served fake starts with, merged from the config file and the flags."""

    fake: FakeKucoin
    paths: tuple[tuple[str, PricePath, int], ...]
    step_seconds: float
    max_requests: int


def build(args: argparse.Namespace) -> Setup:
    """Build the fake from ``--config`` and the flags (flags win).

    Raises:
        ControlError: A config value or flag the fake cannot use, named.
    """
    config: Mapping[str, Any] = {}
    base = Path()
    if args.config is not None:
        try:
            config = tomllib.loads(args.config.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            msg = f"cannot read {args.config}: {exc}"
            raise ControlError(msg) from None
        base = args.config.parent
    unknown = sorted(
        set(config)
        - {"account", "max_requests", "balances", "prices", "book", "fill_policy", "markets",
           "paths", "faults"}
    )  # fmt: skip
    if unknown:
        msg = f"unknown config keys {unknown}"
        raise ControlError(msg)
    account = "hf" if args.hf else config.get("account", "classic")
    if account not in ("classic", "hf"):
        msg = f"account must be 'classic' or 'hf', got {account!r}"
        raise ControlError(msg)
    markets = [market_rules(m) for m in _rows(config, "markets")] or None
    book = dict(_table(config, "book"))
    for flag, key in (("spread_ticks", "spread_ticks"), ("book_levels", "levels")):
        if getattr(args, flag) is not None:
            book[key] = getattr(args, flag)
    if args.level_size is not None:
        book["level_size"] = args.level_size
    policy = dict(_table(config, "fill_policy"))
    if args.strict_balance:
        policy["up_to_balance"] = False
    fake = FakeKucoin(
        markets=markets,
        balances=_decimals(_table(config, "balances"), "balances") | dict(args.balance),
        prices=_decimals(_table(config, "prices"), "prices") | dict(args.price),
        hf=account == "hf",
        fill_policy=fill_policy(policy),
        book=book_shape(book),
    )
    for row in _rows(config, "faults"):
        times = row.get("times", 1)
        if not isinstance(times, int):
            msg = f"[[faults]] times must be an integer, got {times!r}"
            raise ControlError(msg)
        fake.inject(str(row.get("endpoint")), parse_fault(row.get("fault")), times)
    paths = []
    for row in _rows(config, "paths"):
        csv = base / str(row.get("csv"))
        paths.append((str(row.get("symbol")), _read_path(csv), int(row.get("history", 0))))
    paths += [(symbol, _read_path(Path(csv)), args.history) for symbol, csv in args.path]
    for symbol, path, history in paths:
        fake.replay(symbol, path, history=history)
    # every path is replayed on one timer: differing values would be silently merged
    timers = {float(row.get("step_seconds", 0) or 0) for row in _rows(config, "paths")} - {0.0}
    if len(timers) > 1 and not args.step_seconds:
        msg = (
            f"[[paths]] give different step_seconds {sorted(timers)}; all paths replay on one "
            "timer: give them one value (or --step-seconds)"
        )
        raise ControlError(msg)
    step = args.step_seconds or (timers.pop() if timers else 0.0)
    limit = args.max_requests or int(config.get("max_requests", DEFAULT_MAX_REQUESTS))
    return Setup(fake, tuple(paths), step, limit)


def _read_path(csv: Path) -> PricePath:
    try:
        return PricePath.from_csv(csv)
    except (OSError, ValueError) as exc:
        msg = f"price path {csv}: {exc}"
        raise ControlError(msg) from None


def run(args: argparse.Namespace, name: str, *, stop: threading.Event | None = None) -> int:
    """Serve until interrupted (or until ``stop`` is set); return the exit status.

    Args:
        args: Parsed arguments from :func:`configure`.
        name: The subcommand name.
        stop: Lets a caller (a test) end the server; Ctrl-C does the same from a terminal.
    """
    try:
        setup = build(args)
    except (ControlError, ValueError) as exc:
        sys.stderr.write(f"safetrade {name}: {exc}\n")
        return 2
    stop = stop or threading.Event()
    with setup.fake as fake:
        server = fake.serve(args.port, max_requests=setup.max_requests)
        creds = fake.credentials
        sys.stdout.write(
            f"safetrade {name}: fake KuCoin listening on {server.base_url}\n"
            f"  apiKey:   {creds.api_key}\n  secret:   {creds.api_secret}\n"
            f"  password: {creds.passphrase}\n"
            "  ccxt: client.urls['api'] = {k: BASE_URL for k in client.urls['api']}\n"
            f"  control API: {server.base_url}/_safetrade/state (and POST price, step, fault, "
            "clock, book, balance, fill-policy, market)\n"
            "Press Ctrl-C to stop.\n"
        )
        sys.stdout.flush()
        try:
            while not stop.wait(setup.step_seconds or None):
                for symbol, _path, _history in setup.paths:
                    fake.step(symbol)
        except KeyboardInterrupt:
            sys.stdout.write(f"safetrade {name}: stopped\n")
    return 0
