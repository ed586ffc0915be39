"""The reference bot: one symbol, long only, market entries, protected exits."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import attrs

from safetrade.alerts import AlertHook, log_alert
from safetrade.builder import OrderPurpose, TradePlan, new_client_oid, plan_trade
from safetrade.config import Settings
from safetrade.entry import EntryResult, execute_entry
from safetrade.errors import ExchangeError, SafetradeError
from safetrade.gateway import Gateway, OrderStatus
from safetrade.guard import AccountState, Decision, GuardLimits, check
from safetrade.killswitch import KillSwitch
from safetrade.market import MarketSpec
from safetrade.protector import Outcome, Protected, Protector, RetryPolicy
from safetrade.rounder import PositionSide

__all__ = ["ReferenceBot", "TradeResult"]

log = logging.getLogger("safetrade.reference_bot")

BOT_PACKAGE = "safetrade.testing.reference_bot"


@attrs.frozen(kw_only=True)
class TradeResult:
    """What one call of :meth:`ReferenceBot.trade` did.

    Attributes:
        sent: Whether an entry order was sent to the exchange.
        refusal: Why nothing was sent (sizing or guard), if nothing was.
        plan: The sized plan, if sizing succeeded.
        decision: The guard's decision, if the guard ran.
        entry: What became of the entry, if it was sent.
        outcome: Protected, Flattened or Halted, if anything filled.
    """

    sent: bool
    refusal: str | None = None
    plan: TradePlan | None = None
    decision: Decision | None = None
    entry: EntryResult | None = None
    outcome: Outcome | None = None


class ReferenceBot:
    """A minimal bot that cannot repeat Feb 6.

    Use :meth:`start`, which in live mode refuses to run without a valid certification.

    Args:
        settings: Validated settings.
        gateway: The exchange.
        symbol: The market traded, e.g. ``"SOL/USDT"``.
        kill_switch: Shared with the protector; defaults to the settings' file (or memory).
        alert: Alert hook for protection failures.
        sleep: Waits between retries (injected in tests).
        retry: Retry policy for entries and protection.
    """

    def __init__(
        self,
        settings: Settings,
        gateway: Gateway,
        *,
        symbol: str,
        kill_switch: KillSwitch | None = None,
        alert: AlertHook = log_alert,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.symbol = symbol
        self.kill_switch = kill_switch or KillSwitch(settings.kill_switch_file)
        self._sleep = sleep
        self._retry = retry or RetryPolicy()
        self.protector = Protector(
            gateway, kill_switch=self.kill_switch, alert=alert, sleep=sleep, retry=self._retry
        )
        self.positions: list[Protected] = []
        self.limits = GuardLimits(
            risk_percent=settings.risk_percent,
            max_open_positions=settings.max_open_positions,
            min_signal_strength=settings.min_signal_strength,
            price_collar_percent=settings.price_collar_percent,
            max_order_value=settings.max_order_value_usd,
            balance_tolerance_percent=settings.balance_tolerance_percent,
        )

    @classmethod
    def start(
        cls,
        settings: Settings,
        gateway_factory: Callable[[], Gateway],
        *,
        symbol: str,
        now: datetime | None = None,
        **kwargs: object,
    ) -> ReferenceBot:
        """Start the bot; in live mode only with a valid certification of this exact code.

        The certification is checked *before* the gateway is created, so a refused start-up
        never opens an exchange connection.

        Raises:
            CertificationError: Live mode without a valid, matching certification.
        """
        if settings.is_live:
            from safetrade.certification import require_valid  # noqa: PLC0415 - live only

            run = require_valid(
                settings.certificate or "",
                trusted_keys=settings.trusted_keys,
                bot_package=BOT_PACKAGE,
                now=now,
            )
            log.info("live mode: %s", run.summary())
        else:
            log.warning("paper mode: no certification required, no real money at risk")
        return cls(settings, gateway_factory(), symbol=symbol, **kwargs)  # type: ignore[arg-type]

    def trade(
        self,
        *,
        stop_price: Decimal,
        take_profit_price: Decimal | None,
        signal_strength: Decimal | None = None,
    ) -> TradeResult:
        """Size, check, enter and protect one long position.

        Nothing is sent unless sizing succeeds and every guard check passes.
        """
        try:
            market = self.gateway.load_market(self.symbol)
            free = self.gateway.free_balance(market.quote)
            last = self.gateway.last_price(self.symbol)
            # the exchange, not this process's memory, says what is open: a restarted bot
            # (the 12:56 validation run was one) must still see the position it opened
            held = self.gateway.free_balance(market.base)
            stops = self.gateway.open_stop_orders(self.symbol) if held >= _minimum(market) else []
        except ExchangeError as exc:
            return TradeResult(sent=False, refusal=f"exchange unavailable: {exc}")
        try:
            plan = plan_trade(
                market,
                side=PositionSide.LONG,
                free_balance=free,
                entry_price=last,
                stop_price=stop_price,
                take_profit_price=take_profit_price,
                risk_percent=self.settings.risk_percent,
                balance_cap=self.settings.account_balance_usd,
                max_order_value=self.settings.max_order_value_usd,
                signal_strength=signal_strength,
                client_oid=new_client_oid(OrderPurpose.ENTRY),
            )
        except SafetradeError as exc:
            log.error("trade refused before sending: %s", exc)
            return TradeResult(sent=False, refusal=str(exc))
        account = AccountState(
            free_quote=free,
            configured_balance=self.settings.account_balance_usd,
            open_positions=max(len(self.positions), _positions_on_exchange(market, held, stops)),
            last_price=last,
            kill_switch_reason=self.kill_switch.reason,
            open_position_value=held * last,
        )
        decision = check(plan, account, self.limits)
        if not decision.allowed:
            log.error("trade refused by the guard: %s", "; ".join(decision.reasons))
            return TradeResult(
                sent=False, refusal="; ".join(decision.reasons), plan=plan, decision=decision
            )
        entry = execute_entry(self.gateway, plan, retry=self._retry, sleep=self._sleep)
        if entry.fill is None:
            outcome = None
            if entry.outcome_unknown:
                # a position may exist that nobody protects: find out from the exchange
                outcome = self.protector.reconcile(
                    self.symbol,
                    stop_price=plan.stop_loss_price,
                    take_profit_price=plan.take_profit_price,
                )
            return TradeResult(
                sent=True, plan=plan, decision=decision, entry=entry, outcome=outcome
            )
        outcome = self.protector.protect(
            entry.fill, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
        )
        if isinstance(outcome, Protected):
            self.positions.append(outcome)
        return TradeResult(sent=True, plan=plan, decision=decision, entry=entry, outcome=outcome)

    def tick(self) -> None:
        """Run one-cancels-the-other for every open position; forget closed ones."""
        still_open = []
        for position in self.positions:
            result = self.protector.watch(position)
            if result.fired is None and result.still_protected:
                still_open.append(position)
        self.positions = still_open


def _positions_on_exchange(market: MarketSpec, held: Decimal, stops: list[OrderStatus]) -> int:
    """Long positions the exchange shows on this (dedicated) account's market.

    One per untriggered stop-loss sell, plus one for coins that no stop-loss covers (left bare
    by a halt, or bought outside the bot). Dust below the market's minimum is not a position.
    """
    losses = [o for o in stops if o.side == "sell" and o.trigger == "loss"]
    covered = sum((o.amount or Decimal(0) for o in losses), Decimal(0))
    return len(losses) + (1 if held - covered >= _minimum(market) else 0)


def _minimum(market: MarketSpec) -> Decimal:
    """The smallest amount that is a position rather than dust."""
    return max(market.min_amount or Decimal(0), market.amount_increment)
