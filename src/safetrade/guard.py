"""Pre-trade checks: every reason a trade must not be sent, all of them, before it is sent.

A refusal is a value (:class:`Decision`), not an exception, so a bot can log every reason and
carry on; :meth:`Decision.raise_if_refused` turns it into :class:`~safetrade.errors.GuardRefused`
for code that prefers to stop. Every check runs even after one fails, so the owner sees the
whole picture at once (on Feb 6 four independent problems surfaced one at a time).

Controls, with the names the certification report uses:

==================  ===========================================================================
kill-switch         a halted bot sends nothing until a human clears the switch
balance-mismatch    configured balance and the exchange's free balance disagree
balance-check       order value plus fees exceeds the exchange's free balance (or the cap), or
                    the plan is a short, which a spot account cannot hold
risk-limit          loss at the stop exceeds the allowed percent of the spendable balance
max-open-positions  the bot already holds its maximum number of positions
signal-threshold    the strategy's signal is below the configured minimum
price-collar        the entry price is too far from the last traded price, or there is none
max-order-value     the order value exceeds the configured maximum
order-validity      the order is off the market's grid or below its minimums
==================  ===========================================================================
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from safetrade._decimal import MONEY, to_decimal, to_nonnegative, to_positive
from safetrade._fast import new, slot_setters
from safetrade._grid import StepGrid
from safetrade._validate import require_instance
from safetrade.errors import GuardRefused, InvalidValue
from safetrade.plan import TradePlan
from safetrade.rounder import PositionSide, is_on_grid

__all__ = ["AccountState", "Check", "Decision", "GuardLimits", "check"]

_getcontext = decimal.getcontext
_SHORT = PositionSide.SHORT
_setcontext = decimal.setcontext


def _number(value: object, name: str) -> Decimal:
    # to_decimal also parses text, but the field keeps the raw value: text would only fail later
    if isinstance(value, str):
        raise InvalidValue(
            f"{name} must be a Decimal, got str {value!r}", fix=f"pass Decimal({value!r})"
        )
    if isinstance(value, float):
        # to_decimal's advice ("or the string ...") would be refused by the branch above
        raise InvalidValue(
            f"{name} must be a Decimal, got float {value!r}",
            why="floats cannot represent exchange increments exactly",
            fix=f'pass Decimal("{value!r}"); convert exchange floats once with Decimal(str(x))',
        )
    return to_decimal(value, name)


def _nonneg(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    name = attribute.name.replace("_", " ")
    _number(value, name)
    to_nonnegative(value, name)


def _opt_nonneg(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _nonneg(inst, attribute, value)


def _pos(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    name = attribute.name.replace("_", " ")
    _number(value, name)
    to_positive(value, name)


def _opt_pos(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _pos(inst, attribute, value)


def _opt_price(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # NaN, zero or negative last prices are kept: the price collar refuses them (fail closed)
    if value is not None and (isinstance(value, bool) or not isinstance(value, Decimal | int)):
        raise InvalidValue(
            f"{attribute.name.replace('_', ' ')} must be a Decimal, got "
            f"{type(value).__name__} {value!r}",
            fix="convert exchange floats once with Decimal(str(value))",
        )


def _opt_reason(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # an empty reason is still an engaged switch (the guard tests `is not None`); anything but
    # text would be a caller passing the KillSwitch itself or a flag instead of its reason
    if value is not None and not isinstance(value, str):
        raise InvalidValue(
            f"kill switch reason must be text or None, got {type(value).__name__} {value!r}",
            fix="pass KillSwitch.reason (None when the switch is clear)",
        )


def _count(minimum: int) -> Callable[[object, attrs.Attribute[int], int], None]:
    def validate(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise InvalidValue(
                f"{attribute.name.replace('_', ' ')} must be a whole number >= {minimum}, "
                f"got {value!r}"
            )

    return validate


if TYPE_CHECKING:
    from safetrade.config import Settings


@attrs.frozen(kw_only=True)
class AccountState:
    """What the exchange and the bot's own records say right now.

    Only ``last_price`` has a default (its absence fails closed). ``configured_balance``,
    ``open_positions``, ``kill_switch_reason`` and ``open_position_value`` have none: a default
    of "no configured balance", "no positions", "not engaged" or "nothing held" would silently
    switch off the balance-mismatch, max-open-positions and kill-switch controls for a caller
    who forgot them. Leaving one out raises Python's ``TypeError`` naming the argument (and
    type checkers flag the call before it runs); pass ``None`` to say there is no configured
    balance (paper mode) or that the kill switch is clear.

    Attributes:
        free_quote: Free quote balance from the exchange's ``fetch_balance()``.
        configured_balance: The balance the owner configured (``ACCOUNT_BALANCE_USD``), or
            ``None`` when none is configured (paper mode); ``None`` skips the mismatch control.
        open_positions: Positions the bot currently holds, counted from the exchange.
        last_price: Last traded price of the market, the price collar's reference. Left out,
            the price collar refuses the trade (fails closed), so it keeps its ``None`` default.
        kill_switch_reason: Why the kill switch is engaged, or ``None`` when it is not
            (e.g. :attr:`KillSwitch.reason <safetrade.KillSwitch.reason>`).
        open_position_value: Quote value of the bot's open positions at the last price; the
            configured balance is compared with free quote *plus* this, so holding a position
            is not mistaken for a wrong balance. Required: with a configured balance of 100,
            99 free and positions worth 500 the account holds 599, which the balance-mismatch
            control refuses; a default of 0 would compare 100 with 99 and pass.
    """

    free_quote: Decimal = attrs.field(validator=_nonneg)
    configured_balance: Decimal | None = attrs.field(validator=_opt_nonneg)
    open_positions: int = attrs.field(validator=_count(0))
    last_price: Decimal | None = attrs.field(default=None, validator=_opt_price)
    kill_switch_reason: str | None = attrs.field(validator=_opt_reason)
    open_position_value: Decimal = attrs.field(validator=_nonneg)


@attrs.frozen(kw_only=True)
class GuardLimits:
    """The owner's limits.

    Attributes:
        risk_percent: Largest loss at the stop, as a percent of the spendable balance.
        max_open_positions: Most positions held at once.
        min_signal_strength: Smallest signal that may trade, zero or more (like
            ``MIN_SIGNAL_STRENGTH``); ``None`` disables the check.
        price_collar_percent: Largest distance of the entry from the last price, in percent
            (above 0, at most 100).
        max_order_value: Largest order value in quote currency; ``None`` disables the check.
        balance_tolerance_percent: How far the configured balance may differ from the
            exchange's free balance before trading stops, in percent (0 to 100).
    """

    risk_percent: Decimal = attrs.field(validator=_pos)
    max_open_positions: int = attrs.field(validator=_count(1))
    min_signal_strength: Decimal | None = attrs.field(default=None, validator=_opt_nonneg)
    price_collar_percent: Decimal = attrs.field(default=Decimal(5), validator=_pos)
    max_order_value: Decimal | None = attrs.field(default=None, validator=_opt_pos)
    balance_tolerance_percent: Decimal = attrs.field(default=Decimal(2), validator=_nonneg)

    def __attrs_post_init__(self) -> None:
        # the same bounds as the settings (RISK_PERCENT, PRICE_COLLAR_PERCENT, ...) in config
        for name, value in (
            ("risk percent", self.risk_percent),
            ("price collar percent", self.price_collar_percent),
            ("balance tolerance percent", self.balance_tolerance_percent),
        ):
            if value > 100:
                raise InvalidValue(
                    f"{name} is {value}",
                    why="a percent above 100 is a unit mistake",
                    fix="write percents as 1 for 1 %, at most 100",
                )

    @classmethod
    def from_settings(cls, settings: Settings) -> GuardLimits:
        """Every limit the settings configure, so none can be dropped by hand-wiring.

        RISK_PERCENT, MAX_OPEN_POSITIONS, MIN_SIGNAL_STRENGTH, PRICE_COLLAR_PERCENT,
        MAX_ORDER_VALUE_USD and BALANCE_TOLERANCE_PERCENT.
        """
        return cls(
            risk_percent=settings.risk_percent,
            max_open_positions=settings.max_open_positions,
            min_signal_strength=settings.min_signal_strength,
            price_collar_percent=settings.price_collar_percent,
            max_order_value=settings.max_order_value_usd,
            balance_tolerance_percent=settings.balance_tolerance_percent,
        )


@attrs.frozen(kw_only=True)
class Check:
    """One control's verdict."""

    control: str
    passed: bool
    detail: str


@attrs.frozen(kw_only=True)
class Decision:
    """The guard's answer: allowed only if every check passed.

    Attributes:
        allowed: Whether the trade may be sent.
        checks: Every check that ran, passed or not.
        plan: The plan the checks ran on; :func:`safetrade.execute_entry` sends only this plan,
            so a decision cannot be reused for another (or a later modified) plan.
    """

    allowed: bool
    checks: tuple[Check, ...]
    plan: TradePlan = attrs.field(repr=False)

    def covers(self, plan: TradePlan) -> bool:
        """Whether this decision was made for ``plan`` (the same plan, or an equal one)."""
        return self.plan is plan or self.plan == plan

    @property
    def reasons(self) -> tuple[str, ...]:
        """``"control: detail"`` for every failed check."""
        return tuple(f"{c.control}: {c.detail}" for c in self.checks if not c.passed)

    @property
    def failed_controls(self) -> tuple[str, ...]:
        """Names of the failed controls."""
        return tuple(c.control for c in self.checks if not c.passed)

    def raise_if_refused(self) -> None:
        """Raise :class:`~safetrade.errors.GuardRefused` with every reason if not allowed."""
        if not self.allowed:
            raise GuardRefused(self.reasons)


_CheckFn = Callable[[TradePlan, AccountState, GuardLimits], str | None]


def _kill_switch(plan: TradePlan, account: AccountState, limits: GuardLimits) -> str | None:
    if account.kill_switch_reason is not None:
        return (
            f"kill switch engaged ({account.kill_switch_reason}); a human must clear it "
            "after checking the exchange"
        )
    return None


def _balance_mismatch(plan: TradePlan, account: AccountState, limits: GuardLimits) -> str | None:
    configured = account.configured_balance
    if configured is None:
        return None
    exchange = account.free_quote + account.open_position_value
    quote = plan.market.quote
    reference = max(configured, exchange)
    if reference == 0:
        return None
    gap_percent = abs(configured - exchange) * 100 / reference
    if gap_percent > limits.balance_tolerance_percent:
        return (
            f"configured balance {configured} {quote} but the exchange reports {exchange} "
            f"{quote} (free plus open positions; {gap_percent:.2f}% apart, tolerance "
            f"{limits.balance_tolerance_percent}%); fix the configured balance or the account"
        )
    return None


def _balance_check(plan: TradePlan, account: AccountState, limits: GuardLimits) -> str | None:
    if plan.side is _SHORT:
        # KuCoin spot sells only coins the account holds and lends none; the free quote checked
        # below says nothing about a sell, and a "short" entry would sell coins the owner holds
        # for another reason, which the stop-loss buy then has to pay back at a higher price
        market = plan.market
        return (
            f"a short sells {plan.size.amount} {market.base} the account must already hold: "
            f"{market.symbol} is a spot market, where nothing can be borrowed to sell; "
            "plan a long (PositionSide.LONG) or trade shorts on a margin or futures venue"
        )
    size = plan.size
    cost = size.notional * (1 + plan.market.taker_fee)
    quote = plan.market.quote
    if cost > account.free_quote:
        return (
            f"order costs {cost} {quote} with fees ({size.amount} at {size.entry_price}) but the "
            f"exchange reports only {account.free_quote} {quote} free"
        )
    if account.configured_balance is not None and cost > account.configured_balance:
        return (
            f"order costs {cost} {quote} with fees but the configured balance is "
            f"{account.configured_balance} {quote}"
        )
    return None


def _risk_limit(plan: TradePlan, account: AccountState, limits: GuardLimits) -> str | None:
    spendable = account.free_quote
    if account.configured_balance is not None:
        spendable = min(spendable, account.configured_balance)
    allowed = spendable * limits.risk_percent / 100
    if plan.size.risk_amount > allowed:
        return (
            f"loss at the stop would be {plan.size.risk_amount} {plan.market.quote}, above "
            f"{limits.risk_percent}% of {spendable} = {allowed}"
        )
    return None


def _max_positions(plan: TradePlan, account: AccountState, limits: GuardLimits) -> str | None:
    if account.open_positions >= limits.max_open_positions:
        return (
            f"{account.open_positions} position(s) open, MAX_OPEN_POSITIONS is "
            f"{limits.max_open_positions}"
        )
    return None


def _signal(plan: TradePlan, account: AccountState, limits: GuardLimits) -> str | None:
    minimum = limits.min_signal_strength
    if minimum is None:
        return None
    signal: object = plan.signal_strength
    if signal is None:
        return f"no signal strength given; MIN_SIGNAL_STRENGTH is {minimum}"
    if (
        isinstance(signal, bool)
        or not isinstance(signal, Decimal | int)
        or not Decimal(signal).is_finite()
    ):
        # fail closed: NaN compares as an error, and a float or text is not a checked number
        return (
            f"signal strength {signal!r} is not a finite number; MIN_SIGNAL_STRENGTH is {minimum}"
        )
    if signal < minimum:
        return f"signal {plan.signal_strength} is below MIN_SIGNAL_STRENGTH {minimum}"
    return None


def _collar(plan: TradePlan, account: AccountState, limits: GuardLimits) -> str | None:
    last = account.last_price
    if last is None or not Decimal(last).is_finite() or last <= 0:
        # fail closed: without a reference price an erroneous price cannot be recognised
        return f"no usable last price ({last}) to check the entry against"
    entry = plan.entry.limit_price or plan.size.entry_price
    distance = abs(entry - last) * 100 / last
    if distance > limits.price_collar_percent:
        return (
            f"entry {entry} is {distance:.2f}% from the last price {last}, outside the "
            f"{limits.price_collar_percent}% collar"
        )
    return None


def _max_value(plan: TradePlan, account: AccountState, limits: GuardLimits) -> str | None:
    if limits.max_order_value is not None and plan.size.notional > limits.max_order_value:
        return (
            f"order value {plan.size.notional} {plan.market.quote} exceeds MAX_ORDER_VALUE "
            f"{limits.max_order_value}"
        )
    return None


def _on_grid(value: object, grid: StepGrid) -> bool:
    # the market's precomputed grid for a finite Decimal; anything else gets is_on_grid's own
    # refusal (a plan built by hand can hold any value)
    if type(value) is Decimal and value.is_finite():
        return grid.on_grid(value)
    return is_on_grid(value, grid.step)  # type: ignore[arg-type]  # refuses it by name


def _validity(plan: TradePlan, account: AccountState, limits: GuardLimits) -> str | None:
    market, entry = plan.market, plan.entry
    problems = []
    if not _on_grid(entry.amount, market._amount_grid):
        problems.append(f"amount {entry.amount} off the {market.amount_increment} grid")
    for name, price in (("stop", plan.stop_loss_price), ("target", plan.take_profit_price)):
        if price is not None and not _on_grid(price, market._price_grid):
            problems.append(f"{name} {price} off the {market.price_increment} tick")
    if market.min_amount is not None and entry.amount < market.min_amount:
        problems.append(f"amount {entry.amount} below minimum {market.min_amount}")
    if market.min_notional is not None and plan.size.notional < market.min_notional:
        problems.append(f"value {plan.size.notional} below minimum {market.min_notional}")
    return "; ".join(problems) or None


_CHECKS: tuple[tuple[str, _CheckFn], ...] = (
    ("kill-switch", _kill_switch),
    ("balance-mismatch", _balance_mismatch),
    ("balance-check", _balance_check),
    ("risk-limit", _risk_limit),
    ("max-open-positions", _max_positions),
    ("signal-threshold", _signal),
    ("price-collar", _collar),
    ("max-order-value", _max_value),
    ("order-validity", _validity),
)


# A passed check carries nothing specific to the trade: one frozen value per control, reused.
_PASSED = {control: Check(control=control, passed=True, detail="ok") for control, _ in _CHECKS}
_ALL_PASSED = tuple(_PASSED[control] for control, _ in _CHECKS)
_CHECK_FNS = tuple(fn for _, fn in _CHECKS)


def check(plan: TradePlan, account: AccountState, limits: GuardLimits) -> Decision:
    """Run every pre-trade control on ``plan`` and report all failures.

    Args:
        plan: The trade (from :func:`safetrade.plan_trade`).
        account: Exchange balance, open positions, last price, kill-switch state.
        limits: The owner's limits.

    Returns:
        A :class:`Decision`; ``allowed`` only if every check passed.
    """
    if type(plan) is not TradePlan:  # a subclass takes the full check, and passes it
        require_instance(plan, TradePlan, "plan", "pass the plan safetrade.plan_trade made")
    if type(account) is not AccountState:
        require_instance(account, AccountState, "account", "pass a safetrade.AccountState")
    if type(limits) is not GuardLimits:
        require_instance(limits, GuardLimits, "limits", "pass a safetrade.GuardLimits")
    # The caller's decimal context must not round a cost or a limit across its threshold, nor
    # shape a message: the checks run in MONEY. MONEY itself becomes the thread's context for
    # the duration (no copy, unlike localcontext: it is only read, and its flags are already
    # shared by every explicit MONEY call), and the caller's is put back whatever happens.
    callers = _getcontext()
    _setcontext(MONEY)
    try:
        problems = [fn(plan, account, limits) for fn in _CHECK_FNS]
    finally:
        _setcontext(callers)
    if problems.count(None) == len(problems):
        return _decision(True, _ALL_PASSED, plan)
    checks = tuple(
        _PASSED[control]
        if problem is None
        else Check(control=control, passed=False, detail=problem)
        for (control, _), problem in zip(_CHECKS, problems, strict=True)
    )
    return _decision(False, checks, plan)


_DECISION_SETTERS = slot_setters(Decision, "allowed", "checks", "plan")


def _decision(allowed: bool, checks: tuple[Check, ...], plan: TradePlan) -> Decision:
    # Decision(...) without the generated __init__'s cost (safetrade._fast; no validators)
    decision = new(Decision)
    set_allowed, set_checks, set_plan = _DECISION_SETTERS
    set_allowed(decision, allowed)
    set_checks(decision, checks)
    set_plan(decision, plan)
    return decision
