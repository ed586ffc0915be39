"""The high-level trader: one symbol, long only, market entries, protected exits.

:class:`Trader` is the one obvious way to trade safely: every setting reaches the guard
(:meth:`GuardLimits.from_settings`), the exchange is read once per decision, and each
:meth:`Trader.trade` is snapshot -> plan -> guard -> entry -> protect, returning a typed
:class:`TradeResult`; :meth:`Trader.tick` watches and re-protects. The low-level functions
(``plan_trade``, ``check``, ``execute_entry``, ``Protector``) stay public for other flows.

Restarts: the bot keeps nothing on disk but the kill switch. Everything else it needs to
know about open positions comes from the exchange, which is why the account must be
**dedicated** to the bot (one bot, one symbol, no trading by hand or by other bots on that
market): every coin of the base currency is taken as the bot's position, and every sell stop
order on the symbol as protection the bot placed.

KuCoin holds no funds for untriggered stop orders, so a stop-loss and its take-profit both
cover the whole position and nothing stops a leftover one from selling coins bought later.
On start-up (and again before an entry whenever its last look may be stale) the bot therefore
*syncs* with the exchange:

* a stop-loss and a take-profit of the same amount are one position again, watched by
  :meth:`Trader.tick` (one-cancels-the-other) as if the bot had never stopped;
* a take-profit without a stop-loss is an orphan (its stop-loss fired, or was cancelled, while
  the bot was down) and is cancelled;
* stop-losses covering more coins than the account holds (a take-profit fired while the bot
  was down) are cancelled until what is left covers no more than what is held;
* coins no stop-loss covers are a bare position: protected at once by :meth:`recover` (at
  start-up and on every tick) with a stop-loss RISK_PERCENT below the last price, or by the
  next :meth:`trade` with that trade's levels, and counted as an open position until then. The
  kill switch blocks entries, not protection: a halted bot still protects coins it finds bare
  (a stop-loss only ever reduces what can be lost).

An orphan that cannot be cancelled blocks every entry: it would sell the new position's coins.
"""

from __future__ import annotations

import functools
import importlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Self, TypeVar

import attrs

from safetrade._decimal import to_positive
from safetrade._validate import require_instance
from safetrade.alerts import Alert, AlertHook, log_alert, redacting
from safetrade.builder import OrderPurpose, new_client_oid
from safetrade.config import Settings
from safetrade.entry import EntryResult, execute_entry
from safetrade.errors import ConfigError, ExchangeError, InvalidValue, SafetradeError
from safetrade.fills import Fill
from safetrade.gateway import Gateway
from safetrade.guard import AccountState, Decision, GuardLimits, check
from safetrade.killswitch import KillSwitch
from safetrade.market import MarketSpec
from safetrade.plan import TradePlan, plan_trade
from safetrade.protector import Flattened, Outcome, Protected, Protector
from safetrade.recovery import describe, match_positions, recovery_stop
from safetrade.retry import RetryPolicy
from safetrade.rounder import PositionSide, floor_to_step

if TYPE_CHECKING:
    from safetrade.paper import PaperVenue, PublicKucoin

__all__ = ["Sync", "TradeResult", "Trader"]

log = logging.getLogger("safetrade.trader")

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _masked(method: Callable[Concatenate[Trader, _P], _R]) -> Callable[Concatenate[Trader, _P], _R]:
    """Run ``method`` with the settings' secrets masked in what it raises and logs."""

    def run(self: Trader, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._mask.applied():
            return method(self, *args, **kwargs)

    functools.update_wrapper(run, method)
    return run


_ADOPTED = "adopted from the exchange after a restart (entry price unknown: last price shown)"


@attrs.frozen(kw_only=True)
class TradeResult:
    """What one call of :meth:`Trader.trade` did.

    Attributes:
        sent: Whether an entry order was sent to the exchange.
        refusal: Why nothing was sent (sizing or guard), if nothing was.
        plan: The sized plan, if sizing succeeded.
        decision: The guard's decision, if the guard ran.
        entry: What became of the entry, if it was sent.
        outcome: Protected, Flattened or Halted, if anything filled.
        sync: What syncing with the exchange before the entry found and did, if it ran.
        bare: Protected, Flattened or Halted: what became of coins found without a stop-loss
            before the entry, if there were any.
    """

    sent: bool
    refusal: str | None = None
    plan: TradePlan | None = None
    decision: Decision | None = None
    entry: EntryResult | None = None
    outcome: Outcome | None = None
    sync: Sync | None = None
    bare: Outcome | None = None


@attrs.frozen(kw_only=True)
class Sync:
    """What the bot found on the exchange and did about it (see the module docstring).

    Attributes:
        held: Free base currency on the account (untriggered stops hold none of it).
        positions: The positions watched from now on: kept, and adopted from the exchange.
        adopted: How many of ``positions`` were rebuilt from the exchange's stop orders.
        cancelled: Ids of orphaned protective orders cancelled.
        not_cancelled: Ids of orphans that could not be cancelled (the next entry is refused).
        bare: Coins no stop-loss covers (0 when below the market's minimum: dust).
    """

    held: Decimal
    positions: tuple[Protected, ...]
    adopted: int
    cancelled: tuple[str, ...]
    not_cancelled: tuple[str, ...]
    bare: Decimal


class Trader:
    """Trade one symbol safely: the whole flow behind two calls, every setting honoured.

    Use :meth:`start`, which in live mode refuses to run without a valid certification, builds
    the gateway from the settings (or uses the one you give it), and syncs with the exchange
    (a restarted bot watches the positions it left open). Then :meth:`trade` on a signal and
    :meth:`tick` on every loop.

    Example (paper mode against the fake KuCoin)::

        trader = Trader.start(settings, lambda: Gateway(fake.ccxt_client()),
                              symbol="SOL/USDT", bot_package="mybot")
        result = trader.trade(stop_price=Decimal("85.61"), take_profit_price=Decimal("90"))

    Args:
        settings: Validated settings.
        gateway: The exchange. The account must be dedicated to this bot (module docstring).
        symbol: The market traded, e.g. ``"SOL/USDT"``.
        kill_switch: Shared with the protector; defaults to the settings' file (or memory).
        alert: Alert hook for protection failures and orphaned orders.
        sleep: Waits between retries (injected in tests).
        retry: Retry policy for entries and protection.
        new_oid: Makes client order ids for entries and protective orders (tests inject a
            deterministic one); by default unique random ids.
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
        new_oid: Callable[[OrderPurpose], str] = new_client_oid,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.symbol = symbol
        self.kill_switch = kill_switch or KillSwitch(settings.kill_switch_file)
        # no alert, log record or error of this bot shows a configured secret (safetrade._secrets)
        self._mask = settings.secret_mask()
        alert = redacting(alert, self._mask.redact)
        self._alert = alert
        self._sleep = sleep
        self._retry = retry or RetryPolicy()
        self._new_oid = new_oid
        self.protector = Protector(
            gateway,
            kill_switch=self.kill_switch,
            alert=alert,
            sleep=sleep,
            retry=self._retry,
            new_oid=new_oid,
        )
        self.positions: list[Protected] = []
        # True while the bot's last look at the exchange found no coins and no stop orders
        # and it has sent nothing since: only then may an entry skip listing the stop orders
        self._flat = False
        self._synced = False
        self.limits = GuardLimits.from_settings(settings)
        # the paper venue this bot trades on (paper mode via start()), which journals refusals
        self.paper: PaperVenue | None = None

    @classmethod
    def start(
        cls,
        settings: Settings,
        gateway_factory: Callable[[], Gateway] | None = None,
        *,
        symbol: str,
        bot_package: str,
        now: datetime | None = None,
        paper_source: PublicKucoin | None = None,
        **kwargs: object,
    ) -> Self:
        """Start the bot; in live mode only with a valid certification of this exact code.

        ``bot_package`` is the importable package of the bot being run, whose certification
        live mode requires: your own package (e.g. ``"mybot"``), or
        ``safetrade.reference_bot`` for the reference bot. It has no default, so a
        certificate of the reference bot never starts another bot.

        Without ``gateway_factory`` the gateway is built from the settings: in live mode
        from the KuCoin keys with the :class:`~safetrade.certification.CertifiedRun` the gate
        returned (the only way to a trading gateway); in paper mode on the local paper venue
        (:class:`safetrade.paper.PaperVenue`: KuCoin's rules, KuCoin's public prices from
        ``paper_source``, default the real KuCoin's public API; state and journal in
        ``SAFETRADE_PAPER_DB``; the keys are not used). A ``gateway_factory`` in paper mode
        must not reach a real exchange (e.g. ``lambda: Gateway(FakeKucoin(...).ccxt_client())``).

        The certification is checked *before* the gateway is created, so a refused start-up
        never opens an exchange connection. Then the bot syncs with the exchange (see the
        module docstring); if the exchange cannot be read, the bot still starts and syncs
        before its first entry or tick instead.

        Raises:
            CertificationError: Live mode without a valid, matching certification.
            ConfigError: The kill switch file cannot be written.
        """
        # a refusal (the live gate's CRITICAL record included), an error or a log line that
        # shows a setting never shows a configured secret pasted into it (safetrade._secrets);
        # the loggers of the modules start-up loads lazily must exist before the mask applies
        if settings.is_live:
            importlib.import_module("safetrade.certification")
        elif gateway_factory is None:
            importlib.import_module("safetrade.paper")
        with settings.secret_mask().applied():
            return cls._start(settings, gateway_factory, symbol=symbol, bot_package=bot_package,
                              now=now, paper_source=paper_source, **kwargs)  # fmt: skip

    @classmethod
    def _start(
        cls,
        settings: Settings,
        gateway_factory: Callable[[], Gateway] | None,
        *,
        symbol: str,
        bot_package: str,
        now: datetime | None,
        paper_source: PublicKucoin | None,
        **kwargs: object,
    ) -> Self:
        # a halt that cannot be written would read as clear after a restart: refuse now; and
        # a second bot process on this account (same kill-switch file) is refused
        kill_switch = require_instance(
            kwargs.pop("kill_switch", None) or KillSwitch(settings.kill_switch_file),
            KillSwitch,
            "kill_switch",
            "pass a safetrade.KillSwitch, or none for the settings' file",
        )
        kill_switch.ensure_writable()
        if settings.is_live:
            from safetrade.certification import require_valid  # noqa: PLC0415 - live only

            run = require_valid(
                settings.certificate or "",
                trusted_keys=settings.trusted_keys,
                bot_package=bot_package,
                now=now,
                allow_developer_key=settings.live_with_developer_key,
            )
            log.info("live mode: %s", run.summary())
        else:
            run = None
        if gateway_factory is None:
            gateway = Gateway.for_settings(settings, symbol=symbol, bot_package=bot_package,
                                           certified=run, paper_source=paper_source)  # fmt: skip
        else:
            gateway = gateway_factory()
            if not settings.is_live and gateway.reaches_real_exchange():
                # read-only is not enough: its reads would still be signed with the owner's
                # keys and sent to KuCoin, which paper mode promises never happens
                what = (
                    "reads signed with your KuCoin keys"
                    if not gateway.can_trade_real_money()
                    else "orders"
                )
                raise ConfigError(
                    f"TRADING_MODE=paper, but the gateway given would send {what} to a real "
                    "exchange (no certification was checked)",
                    fix="paper-trade on the paper venue (no gateway_factory: "
                    "Gateway.for_settings builds it), the fake KuCoin "
                    "(Gateway(FakeKucoin(...).ccxt_client())) or a served fake on 127.0.0.1; "
                    "real money needs TRADING_MODE=live and a valid certification",
                )
        paper = gateway.paper
        if paper is not None:
            kwargs["alert"] = paper.alert_hook(kwargs.pop("alert", log_alert))  # type: ignore[arg-type]
            log.warning(
                "paper mode: trading on the local paper venue %s (KuCoin's rules, public prices "
                "from %s); no order leaves this machine",
                paper.store.path,
                ", ".join(paper.source.hosts),
            )
        try:
            kill_switch.hold_instance_lock()
        except ConfigError:
            if paper is not None:
                paper.close()
            raise
        bot = cls(
            settings,
            gateway,
            symbol=symbol,
            kill_switch=kill_switch,
            **kwargs,  # type: ignore[arg-type]
        )
        bot.paper = paper
        try:
            bot.recover()
        except ExchangeError as exc:
            bot._raise_alert("sync-failed", "could not read the account at start-up", exc)
        return bot

    @_masked
    def recover(self) -> Outcome | None:
        """Sync with the exchange and protect coins no stop-loss covers, with no plan at hand.

        Runs at start-up and on every tick, so a position left bare by a crash between fill and
        stop-loss (or by a stop-loss that vanished) is protected at once, not at the next
        signal. The stop-loss is derived from the configured risk: ``RISK_PERCENT`` below the
        last price, so selling there loses at most RISK_PERCENT of the position's value (which
        is at most RISK_PERCENT of the account); no take-profit. This runs with the kill
        switch engaged too: it halts entries, and a stop-loss only reduces what can be lost.

        Returns:
            What became of the bare coins (Protected, Flattened or Halted), or None when there
            were none.

        Raises:
            ExchangeError: The account could not be read (nothing was changed).
        """
        sync = self.sync()
        if not sync.bare:
            return None
        market = self.gateway.load_market(self.symbol)
        last = self.gateway.last_price(self.symbol)
        outcome = self._protect_bare(
            market, sync.bare, last, self._recovery_stop(market, last), None
        )
        if outcome is not None:
            self.sync(last_price=last)
        return outcome

    @_masked
    def sync(self, *, last_price: Decimal | None = None) -> Sync:
        """Rebuild the watched positions from the exchange and cancel orphaned stop orders.

        Args:
            last_price: The market's last price, if already known (shown as the entry price
                of adopted positions, and to tell dust by its value; fetched only when needed).

        Raises:
            ExchangeError: The account could not be read (nothing was changed).
        """
        market = self.gateway.load_market(self.symbol)
        held = self.gateway.free_balance(market.base)
        stops = self.gateway.open_stop_orders(self.symbol)
        keep, orphans, uncovered = match_positions(self.positions, stops, held)
        adopted = [(loss, target) for loss, target in keep if not isinstance(loss, Protected)]
        if adopted and last_price is None:
            last_price = self.gateway.last_price(self.symbol)
        positions = [
            loss
            if isinstance(loss, Protected)
            else Protected(
                fill=Fill(
                    symbol=self.symbol,
                    side=PositionSide.LONG,
                    amount=loss.amount or Decimal(0),
                    average_price=last_price or Decimal(0),
                ),
                stop_loss=loss,
                take_profit=target,
                events=(_ADOPTED,),
            )
            for loss, target in keep
        ]
        cancelled, failed = [], []
        for order, why in orphans:
            try:
                self.gateway.cancel(order.order_id, self.symbol, stop=True)
            except ExchangeError as exc:
                failed.append(order.order_id)
                self._raise_alert(
                    "orphan-cancel-failed",
                    f"could not cancel {describe(order)} ({why}); no entry until it is gone",
                    exc,
                )
            else:
                cancelled.append(order.order_id)
                self._raise_alert("orphan-cancelled", f"cancelled {describe(order)}: {why}")
        if (
            uncovered >= market.smallest_amount
            and market.min_notional is not None
            and last_price is None
        ):
            # after the cancels above: a failed read must not make sync raise having changed
            # things (its promise); then the amount alone decides what is dust
            try:
                last_price = self.gateway.last_price(self.symbol)
            except ExchangeError:
                last_price = None
        # coins worth less than KuCoin's minimum order value are dust like those below its
        # smallest size: no stop-loss can be placed for them nor a sale clear them, so they
        # are no position (a thin book's IOC entry can fill that little)
        bare = uncovered if market.sellable(uncovered, last_price) else Decimal(0)
        if bare:
            self._raise_alert(
                "unprotected-position",
                f"{bare} {market.base} held that no stop-loss covers; protecting it (it counts "
                "as an open position)",
            )
        self.positions = positions
        self._flat = not positions and not failed and held < market.smallest_amount
        self._synced = True
        result = Sync(
            held=held,
            positions=tuple(positions),
            adopted=len(adopted),
            cancelled=tuple(cancelled),
            not_cancelled=tuple(failed),
            bare=bare,
        )
        log.info(
            "synced with the exchange: %s %s held, %d position(s) watched (%d adopted), "
            "%d orphan(s) cancelled, %d not",
            held,
            market.base,
            len(positions),
            len(adopted),
            len(cancelled),
            len(failed),
        )
        return result

    @_masked
    def trade(
        self,
        *,
        stop_price: Decimal,
        take_profit_price: Decimal | None,
        signal_strength: Decimal | None = None,
    ) -> TradeResult:
        """Size, check, enter and protect one long position.

        Before anything is sized the bot syncs with the exchange (unless its last look found
        the account flat and nothing happened since) and protects coins no stop-loss covers
        with this trade's stop-loss and take-profit. Nothing is sent unless sizing succeeds
        and every guard check passes. On the paper venue the refusal is journaled (the outcome
        is, by the protector).
        """
        result = self._trade(stop_price, take_profit_price, signal_strength)
        if result.refusal is not None:
            result = attrs.evolve(result, refusal=self._mask.redact(result.refusal))
        # (outcomes are journaled by the protector, which made them)
        if self.paper is not None and result.refusal is not None:
            self.paper.journal("refusal", self.symbol, None, {"reasons": result.refusal})
        return result

    def _trade(
        self,
        stop_price: Decimal,
        take_profit_price: Decimal | None,
        signal_strength: Decimal | None,
    ) -> TradeResult:
        sync: Sync | None = None
        bare: Outcome | None = None
        try:
            # before anything is read or sent: the same prices also protect coins found bare,
            # and an unusable one there must be a refusal, not a sale (see _protect_bare)
            stop_price = to_positive(stop_price, "stop price")
            if take_profit_price is not None:
                take_profit_price = to_positive(take_profit_price, "take-profit price")
        except InvalidValue as exc:
            log.error("trade refused before sending: %s", exc)
            return TradeResult(sent=False, refusal=str(exc))
        try:
            market = self.gateway.load_market(self.symbol)
            prices = self.gateway.prices(self.symbol)
            last = prices.last
            held = self.gateway.free_balance(market.base)
            if not self._flat or held >= market.smallest_amount:
                sync = self.sync(last_price=last)
                if sync.not_cancelled:
                    refusal = (
                        "orphaned protective orders could not be cancelled and would sell the "
                        f"new position's coins: {', '.join(sync.not_cancelled)}"
                    )
                    log.error("trade refused before sending: %s", refusal)
                    return TradeResult(sent=False, refusal=refusal, sync=sync)
                if sync.bare:
                    bare = self._protect_bare(
                        market, sync.bare, last, stop_price, take_profit_price
                    )
                    if bare is not None:
                        sync = self.sync(last_price=last)
                held = sync.held
            free = self.gateway.free_balance(market.quote)
        except ExchangeError as exc:
            return TradeResult(
                sent=False, refusal=f"exchange unavailable: {exc}", sync=sync, bare=bare
            )
        if prices.ask is None or prices.bid is None:
            side = "ask" if prices.ask is None else "bid"
            why = (
                "no price to size the entry from or to buy at"
                if prices.ask is None
                else "a stop-loss that fires would have nothing to sell to"
            )
            refusal = (
                f"{self.symbol} has no {side} (last price {last}): {why}; nothing was sent. "
                f"Fix: trade it once its order book has both sides, or check that {self.symbol} "
                "is the market you mean"
            )
            log.error("trade refused before sending: %s", refusal)
            return TradeResult(sent=False, refusal=refusal, sync=sync, bare=bare)
        try:
            # sized from the best ask, the price a buy pays first, and sent as a limit at it,
            # immediate-or-cancel: it fills there or lower or not at all (a market order sized
            # from the last price fills above it on a thin book and loses more); and the
            # stop-market that protects it sells to the bid, the spread below its trigger:
            # that is counted in the risk too, so a wide spread shrinks the size
            plan = plan_trade(
                market,
                side=PositionSide.LONG,
                free_balance=free,
                entry_price=prices.ask,
                limit_entry=True,
                exit_slippage=max(prices.ask - prices.bid, Decimal(0)),
                stop_price=stop_price,
                take_profit_price=take_profit_price,
                risk_percent=self.settings.risk_percent,
                balance_cap=self.settings.account_balance_usd,
                max_order_value=self.settings.max_order_value_usd,
                signal_strength=signal_strength,
                client_oid=self._new_oid(OrderPurpose.ENTRY),
            )
        except SafetradeError as exc:
            log.error("trade refused before sending: %s", exc)
            return TradeResult(sent=False, refusal=str(exc), sync=sync, bare=bare)
        # the exchange, not this process's memory, says what is open: a restarted bot
        # (the 12:56 validation run was one) must still see the position it opened
        # (one per stop-loss, plus coins no stop-loss covers, e.g. left bare by a halt)
        on_exchange = len(self.positions) + (1 if sync is not None and sync.bare else 0)
        account = AccountState(
            free_quote=free,
            configured_balance=self.settings.account_balance_usd,
            open_positions=on_exchange,
            last_price=last,
            kill_switch_reason=self.kill_switch.reason,
            open_position_value=held * last,
        )
        decision = check(plan, account, self.limits)
        if not decision.allowed:
            log.error("trade refused by the guard: %s", "; ".join(decision.reasons))
            return TradeResult(
                sent=False,
                refusal="; ".join(decision.reasons),
                plan=plan,
                decision=decision,
                sync=sync,
                bare=bare,
            )
        self._flat = False
        entry = execute_entry(self.gateway, plan, decision, retry=self._retry, sleep=self._sleep)
        done = TradeResult(
            sent=True, plan=plan, decision=decision, entry=entry, sync=sync, bare=bare
        )
        if entry.fill is None:
            if entry.outcome_unknown:
                # a position may exist that nobody protects: find out from the exchange
                outcome = self.protector.reconcile(
                    self.symbol,
                    stop_price=plan.stop_loss_price,
                    take_profit_price=plan.take_profit_price,
                )
                # reconcile may have re-protected held coins as one position: watch what the
                # exchange now shows (if it cannot be read, the next tick or trade syncs)
                try:
                    self.sync(last_price=last)
                except ExchangeError as exc:
                    self._synced = False
                    self._raise_alert("sync-failed", "could not read the account", exc)
                return attrs.evolve(done, outcome=outcome)
            return done
        outcome = self.protector.protect(
            entry.fill, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
        )
        if isinstance(outcome, Protected):
            self.positions.append(outcome)
        elif isinstance(outcome, Flattened) and outcome.exit_order is None and outcome.residual:
            # the fill was dust, left as it is; with dust held from before it may now be a
            # sellable amount: protect that at once, at this trade's levels (not at the next
            # tick's recovery stop)
            try:
                again = self.sync(last_price=last)
                if again.bare:
                    protected = self._protect_bare(
                        market, again.bare, last, plan.stop_loss_price, plan.take_profit_price
                    )
                    bare = bare if bare is not None else protected
            except ExchangeError as exc:
                self._synced = False
                self._raise_alert("sync-failed", "could not check for bare coins", exc)
        return attrs.evolve(done, outcome=outcome, bare=bare)

    @_masked
    def tick(self) -> None:
        """Run one-cancels-the-other for every open position, then protect bare coins.

        A restarted bot that could not sync at start-up syncs first, so the positions it left
        open are watched too. A position whose orders cannot be listed stays watched. Then
        :meth:`recover` protects any coins no stop-loss covers (skipped while the last look
        found the account flat and nothing was sent since).
        """
        if self.paper is not None:
            # a flat bot sends nothing on a tick: the venue still mirrors prices (its stops)
            # and journals that it runs (paper time counts only while it does)
            self.paper.refresh_if_due()
        if not self._synced:
            try:
                self.sync()
            except ExchangeError as exc:
                self._raise_alert("sync-failed", "could not read the account", exc)
        still_open = []
        for position in self.positions:
            result = self.protector.watch(position)
            if result.position is not None:
                still_open.append(result.position)
        self.positions = still_open
        if self._flat:
            return  # nothing held and nothing sent since the last look: nothing can be bare
        try:
            self.recover()
        except ExchangeError as exc:
            self._raise_alert("sync-failed", "could not check for bare coins", exc)

    # -- helpers -----------------------------------------------------------------------

    def _protect_bare(
        self,
        market: MarketSpec,
        amount: Decimal,
        last: Decimal,
        stop_price: Decimal,
        take_profit: Decimal | None,
    ) -> Outcome | None:
        """Protect coins no stop-loss covers with this trade's levels, relative to ``last``.

        The levels must make sense for a long bought at ``last`` (stop below, target above);
        otherwise nothing is sent (the protector would flatten an unbuildable stop-loss, and
        selling coins because the strategy asked for an odd stop is not this bot's call).
        """
        if not stop_price < last or (take_profit is not None and not take_profit > last):
            self._raise_alert(
                "unprotected-position",
                f"{amount} {self.symbol} stays without a stop-loss: stop {stop_price} / "
                f"take-profit {take_profit} do not bracket the last price {last}",
            )
            return None
        fill = Fill(
            symbol=self.symbol,
            side=PositionSide.LONG,
            amount=floor_to_step(amount, market.amount_increment),
            average_price=last,
        )
        self._flat = False
        log.error("protecting %s %s found without a stop-loss", fill.amount, self.symbol)
        return self.protector.protect(fill, stop_price=stop_price, take_profit_price=take_profit)

    def _recovery_stop(self, market: MarketSpec, last: Decimal) -> Decimal:
        """:func:`safetrade.recovery.recovery_stop`, alerting when it risks more than asked."""
        tick, risk = market.price_increment, self.settings.risk_percent
        stop, wider = recovery_stop(last, tick, risk)
        if wider and stop > 0:  # at zero the protector names why nothing can be built
            self._raise_alert(
                "stop-wider-than-risk",
                f"a stop-loss {risk}% below {last} is less than one tick ({tick}) away: "
                f"protecting at {stop}, which loses {(last - stop) / last * 100:.4f}% if it fires",
            )
        return stop

    def _raise_alert(self, event: str, message: str, exc: SafetradeError | None = None) -> None:
        exchange_message = getattr(exc, "exchange_message", None) or (str(exc) if exc else None)
        log.error("%s: %s%s", event, message, f" — {exchange_message}" if exc else "")
        self._alert(
            Alert(
                level="error",
                event=event,
                message=message,
                symbol=self.symbol,
                exchange_message=exchange_message,
            )
        )
