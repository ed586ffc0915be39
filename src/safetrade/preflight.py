"""``safetrade preflight``: every live go/no-go check, as one table, before going live.

The checks run in the order a careful human would: settings, certification of the code about to
run, exchange connectivity, balance reconciliation, kill switch. Each row says what was checked,
whether it passed, and what to do if not. All rows run even after a failure, so the owner sees
everything that stands between them and a safe start (Feb 6 revealed its problems one by one).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import attrs

from safetrade.config import Settings, load_settings
from safetrade.errors import ConfigError, SafetradeError
from safetrade.gateway import Gateway
from safetrade.killswitch import KillSwitch

__all__ = ["PreflightCheck", "configure", "render", "run", "run_preflight"]


@attrs.frozen(kw_only=True)
class PreflightCheck:
    """One row of the go/no-go table."""

    name: str
    passed: bool
    detail: str


def run_preflight(
    settings: Settings,
    gateway_factory: Callable[[], Gateway],
    *,
    symbol: str,
    bot_package: str | None,
    now: datetime | None = None,
) -> list[PreflightCheck]:
    """Run every live go/no-go check and return one row per check.

    Args:
        settings: Validated settings (load them with :func:`safetrade.load_settings`).
        gateway_factory: Creates the exchange gateway (only called if needed).
        symbol: The market the bot will trade.
        bot_package: The bot's importable package, or None for the one the certificate names.
        now: Current time for the certification expiry check.
    """
    # no row shows a configured secret, not even one pasted into a path (safetrade._secrets)
    mask = settings.secret_mask()
    with mask.applied():
        rows = [PreflightCheck(name="settings", passed=True, detail=f"mode {settings.mode.value}")]
        rows.append(_certification(settings, bot_package, now))
        exchange_rows, free = _exchange(gateway_factory, symbol)
        rows.extend(exchange_rows)
        rows.append(_balance(settings, free))
        rows.append(_kill_switch(KillSwitch(settings.kill_switch_file)))
    return [attrs.evolve(row, detail=mask.redact(row.detail)) for row in rows]


def _kill_switch(kill: KillSwitch) -> PreflightCheck:
    if kill.reason is not None:
        return PreflightCheck(name="kill switch", passed=False, detail=f"ENGAGED: {kill.reason}")
    try:
        kill.ensure_writable()
    except SafetradeError as exc:
        return PreflightCheck(name="kill switch", passed=False, detail=f"clear, but {exc}")
    return PreflightCheck(name="kill switch", passed=True, detail="clear")


def _certification(
    settings: Settings, bot_package: str | None, now: datetime | None
) -> PreflightCheck:
    if settings.certificate is None:
        needed = settings.is_live
        return PreflightCheck(
            name="certification",
            passed=not needed,
            detail="SAFETRADE_CERTIFICATE not set"
            + ("; run `tox -e certify`" if needed else " (paper mode: not required)"),
        )
    from safetrade.certification import check_certification  # noqa: PLC0415 - heavy, optional

    verdict = check_certification(
        settings.certificate, settings.trusted_keys, bot_package=bot_package, now=now
    )
    if verdict.ok:
        return PreflightCheck(name="certification", passed=True, detail="valid")
    detail = "; ".join(verdict.problems) + f" — fix: {verdict.fix}"
    return PreflightCheck(name="certification", passed=not settings.is_live, detail=detail)


def _exchange(
    gateway_factory: Callable[[], Gateway], symbol: str
) -> tuple[list[PreflightCheck], Decimal | None]:
    try:
        gateway = gateway_factory()
        market = gateway.load_market(symbol)
        last = gateway.last_price(symbol)
        free = gateway.free_balance(market.quote)
    except SafetradeError as exc:
        return [PreflightCheck(name="exchange", passed=False, detail=str(exc))], None
    return [
        PreflightCheck(
            name="exchange",
            passed=True,
            detail=f"{symbol} tick {market.price_increment}, step {market.amount_increment}, "
            f"last {last}",
        )
    ], free


def _balance(settings: Settings, free: Decimal | None) -> PreflightCheck:
    if free is None:
        return PreflightCheck(name="balance", passed=False, detail="exchange balance unknown")
    configured = settings.account_balance_usd
    if configured is None:
        return PreflightCheck(
            name="balance",
            passed=not settings.is_live,
            detail=f"exchange reports {free} free; ACCOUNT_BALANCE_USD not set",
        )
    reference = max(configured, free)
    gap = abs(configured - free) * 100 / reference if reference else Decimal(0)
    ok = gap <= settings.balance_tolerance_percent
    return PreflightCheck(
        name="balance",
        passed=ok,
        detail=f"configured {configured}, exchange {free} free ({gap:.2f}% apart, tolerance "
        f"{settings.balance_tolerance_percent}%)",
    )


def render(rows: list[PreflightCheck]) -> str:
    """The table as text, with an overall GO / NO-GO line."""
    width = max(len(r.name) for r in rows)
    lines = [f"{'check'.ljust(width)}  result  detail", f"{'-' * width}  ------  ------"]
    lines += [f"{r.name.ljust(width)}  {'ok' if r.passed else 'FAIL':6}  {r.detail}" for r in rows]
    verdict = "GO" if all(r.passed for r in rows) else "NO-GO"
    return "\n".join([*lines, "", f"preflight: {verdict}"])


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    """Arguments of ``safetrade preflight``."""
    parser.add_argument("--env-file", type=Path, help="a .env file to read as well")
    parser.add_argument("--symbol", default="SOL/USDT", help="market the bot trades")
    parser.add_argument(
        "--bot-package",
        default=None,
        help="the importable package of the bot you will run (default: the bot the "
        "certificate names, measured as installed here)",
    )


def run(args: argparse.Namespace, name: str) -> int:
    """Print the go/no-go table; exit 0 only on GO."""
    settings = load_settings(dotenv_path=args.env_file)

    def factory() -> Gateway:
        if not settings.is_live:
            # paper mode signs nothing: the keys must not reach KuCoin, not even to read
            raise ConfigError(
                "TRADING_MODE=paper: preflight does not contact KuCoin in paper mode (nothing "
                "is signed); the paper account is checked by `safetrade paper status`",
                fix="run preflight with the .env you will go live with (TRADING_MODE=live)",
            )
        return Gateway.kucoin(
            api_key=settings.api_key or "",
            api_secret=settings.api_secret or "",
            api_passphrase=settings.api_passphrase or "",
            certified=None,  # preflight only reads: balances, markets, prices
        )

    rows = run_preflight(settings, factory, symbol=args.symbol, bot_package=args.bot_package)
    print(render(rows))  # noqa: T201 - this is the command's output
    return 0 if all(r.passed for r in rows) else 1
