"""Risk-based position size from the exchange's real free balance.

The incident's bot sized 4.5 SOL ($394) for a $123 account because a typo made it believe it
had $10,000. Here the balance is an argument the caller takes from the exchange
(``fetch_balance()``), a configured balance can only *lower* it, and the size is capped so the
position plus fees fits in what is actually free. The result carries every number that
produced it, so a refusal or a log line can show the arithmetic.

The arithmetic, for one unit of base currency::

    risk per unit   = |entry - stop| + fee_rate * (entry + stop)     # price move + both fees
    risk budget     = spendable * risk_percent / 100
    by risk         = budget / risk per unit
    by balance      = spendable / (entry * (1 + fee_rate))
    amount          = floor(min(by risk, by balance, max amount, max value / entry), increment)

where ``spendable = min(free balance, balance cap)``. The amount is then checked against the
market's minimum amount and minimum order value *after* rounding; below them the answer is a
:class:`SizingError`, never a silently larger order.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

import attrs

from safetrade._decimal import EXACT, to_nonnegative, to_positive
from safetrade._fast import new, slot_setters
from safetrade._validate import MARKET_FIX, member_validator, require_instance
from safetrade.errors import InvalidValue, SizingError
from safetrade.market import MarketSpec
from safetrade.rounder import PositionSide, _side

__all__ = ["PositionSize", "size_position"]

# Explicit contexts, so the caller's decimal.getcontext() (prec 28 by default, or whatever a bot
# set) never rounds a size. Sums and products are exact (MAX_PREC; their digits are bounded by
# the inputs'); only the divisions round, and always down: never a larger size than allowed.
_FLOOR = EXACT.copy()
_FLOOR.prec = 80
_FLOOR.rounding = decimal.ROUND_FLOOR
_ONE = Decimal(1)
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_LONG = PositionSide.LONG
_SHORT = PositionSide.SHORT


@attrs.frozen(kw_only=True)
class PositionSize:
    """A position size and the numbers that produced it.

    Attributes:
        symbol: Market symbol.
        side: Long or short.
        amount: Base amount, a multiple of the market's amount increment.
        entry_price: Expected entry price used for sizing.
        stop_price: Stop-loss price used for sizing.
        notional: ``amount * entry_price`` in quote currency.
        fee_reserve: Taker fee on the entry, reserved from the balance.
        risk_amount: Loss if the stop is hit, fees on both legs and the exit slippage
            included.
        risk_budget: The most this trade may lose (``spendable * risk_percent / 100``).
        free_balance: Free quote balance as reported by the exchange.
        balance_cap: Configured balance cap, if any.
        spendable: ``min(free_balance, balance_cap)``.
        limited_by: Which bound decided the size: ``"risk budget"``, ``"free balance"``,
            ``"max amount"`` or ``"max order value"``.
        unrounded_amount: The amount before rounding down to the increment.
        exit_slippage: How far below a long's stop (above a short's) its exit was assumed to
            sell, per unit: a stop-market sells to the bid, which sits below the trigger by the
            spread.
    """

    symbol: str
    side: PositionSide = attrs.field(validator=member_validator(PositionSide))
    amount: Decimal
    entry_price: Decimal
    stop_price: Decimal
    notional: Decimal
    fee_reserve: Decimal
    risk_amount: Decimal
    risk_budget: Decimal
    free_balance: Decimal
    balance_cap: Decimal | None
    spendable: Decimal
    limited_by: str
    unrounded_amount: Decimal
    exit_slippage: Decimal = Decimal(0)

    def explain(self) -> str:
        """One line with the arithmetic, for logs and reports."""
        return (
            f"{self.amount} {self.symbol} @ {self.entry_price} = {self.notional} "
            f"(risk {self.risk_amount} of budget {self.risk_budget}; spendable {self.spendable} "
            f"of free {self.free_balance}; limited by {self.limited_by}"
            + (f"; exit {self.exit_slippage} below the stop" if self.exit_slippage else "")
            + ")"
        )


_SIZE_SETTERS = slot_setters(
    PositionSize,
    "symbol",
    "side",
    "amount",
    "entry_price",
    "stop_price",
    "notional",
    "fee_reserve",
    "risk_amount",
    "risk_budget",
    "free_balance",
    "balance_cap",
    "spendable",
    "limited_by",
    "unrounded_amount",
    "exit_slippage",
)


def size_position(
    *,
    market: MarketSpec,
    side: PositionSide,
    free_balance: Decimal,
    entry_price: Decimal,
    stop_price: Decimal,
    risk_percent: Decimal,
    balance_cap: Decimal | None = None,
    max_order_value: Decimal | None = None,
    fee_rate: Decimal | None = None,
    exit_slippage: Decimal | None = None,
) -> PositionSize:
    """Size a position so that hitting the stop loses at most ``risk_percent`` of the balance.

    Args:
        market: The market's increments and limits.
        side: Long (stop below entry) or short (stop above entry).
        free_balance: Free quote balance **from the exchange**.
        entry_price: Expected entry price.
        stop_price: Stop-loss price (already rounded, ideally; see :mod:`safetrade.rounder`).
        risk_percent: Percent of the spendable balance this trade may lose, ``0 < p <= 100``.
        balance_cap: Optional configured balance; it can only lower the spendable balance.
        max_order_value: Optional ceiling on the order's value in quote currency.
        fee_rate: Taker fee rate as a fraction; defaults to the market's.
        exit_slippage: How much worse than the stop price the exit may sell, per unit (e.g.
            the spread: a triggered stop-market sells to the bid); counted in the risk.

    Returns:
        The size and the numbers behind it.

    Raises:
        InvalidValue: For non-finite, negative, zero or float inputs, a percent above 100,
            a ``side`` that is not a :class:`PositionSide`, or a stop on the wrong side of the
            entry.
        SizingError: If the largest valid size is below the market's minimum amount or
            minimum order value after rounding.
    """
    if type(market) is not MarketSpec:  # a subclass takes the full check, and passes it
        require_instance(market, MarketSpec, "market", MARKET_FIX)
    side = _side(side)
    free = to_nonnegative(free_balance, "free balance")
    entry = to_positive(entry_price, "entry price")
    stop = to_positive(stop_price, "stop price")
    return _size(
        market, side, free, entry, stop, risk_percent, balance_cap, max_order_value, fee_rate,
        exit_slippage,
    )  # fmt: skip


def _size(  # noqa: PLR0917 - internal, called twice with every argument in order
    market: MarketSpec,
    side: PositionSide,
    free: Decimal,
    entry: Decimal,
    stop: Decimal,
    risk_percent: object,
    balance_cap: object,
    max_order_value: object,
    fee_rate: object,
    exit_slippage: object,
) -> PositionSize:
    # size_position after its market, side, free balance, entry and stop checks; plan_trade
    # comes in here with those already checked (in the same order, so the same first error)
    risk_pct = to_positive(risk_percent, "risk percent")
    if risk_pct > _HUNDRED:
        raise InvalidValue(f"risk percent is {risk_pct}", fix="use a percent between 0 and 100")
    cap = None if balance_cap is None else to_nonnegative(balance_cap, "balance cap")
    max_value = None if max_order_value is None else to_positive(max_order_value, "max value")
    fee = market.taker_fee if fee_rate is None else to_nonnegative(fee_rate, "fee rate")
    if fee >= _ONE:
        raise InvalidValue(f"fee rate is {fee}", fix="give the fee as a fraction: 0.001 = 0.1 %")
    slippage = _ZERO if exit_slippage is None else to_nonnegative(exit_slippage, "exit slippage")
    if (stop >= entry) if side is _LONG else (stop <= entry):
        _check_geometry(side, entry, stop)  # raises, with the side's own message

    # min(free, cap) without the builtin's overhead: the same value, free on a tie
    spendable = free if cap is None or not cap < free else cap
    exact = EXACT
    budget = _FLOOR.divide(exact.multiply(spendable, risk_pct), _HUNDRED)
    per_unit_risk = exact.add(
        exact.add(exact.subtract(entry, stop).copy_abs(), slippage),
        exact.multiply(fee, exact.add(entry, stop)),
    )
    per_unit_cost = exact.multiply(entry, exact.add(_ONE, fee))
    # the smallest bound decides, the first named on a tie (as min() over them in this order)
    limited_by = "risk budget"
    unrounded = _FLOOR.divide(budget, per_unit_risk)
    by_balance = _FLOOR.divide(spendable, per_unit_cost)
    if by_balance < unrounded:
        limited_by, unrounded = "free balance", by_balance
    max_amount = market.max_amount
    if max_amount is not None and max_amount < unrounded:
        limited_by, unrounded = "max amount", max_amount
    max_notional = market.max_notional
    ceiling = (
        max_value
        if max_notional is None or (max_value is not None and not max_notional < max_value)
        else max_notional
    )
    if ceiling is not None:
        by_value = _FLOOR.divide(ceiling, entry)
        if by_value < unrounded:
            limited_by, unrounded = "max order value", by_value
    amount = market._amount_grid.to_step(unrounded, False) if unrounded > 0 else Decimal(0)

    notional = exact.multiply(amount, entry)
    # PositionSize(...) for values checked above (side is a member): see safetrade._fast
    result = new(PositionSize)
    (
        set_symbol, set_side, set_amount, set_entry_price, set_stop_price, set_notional,
        set_fee_reserve, set_risk_amount, set_risk_budget, set_free_balance, set_balance_cap,
        set_spendable, set_limited_by, set_unrounded_amount, set_exit_slippage,
    ) = _SIZE_SETTERS  # fmt: skip
    set_symbol(result, market.symbol)
    set_side(result, side)
    set_amount(result, amount)
    set_entry_price(result, entry)
    set_stop_price(result, stop)
    set_notional(result, notional)
    set_fee_reserve(result, exact.multiply(notional, fee))
    set_risk_amount(result, exact.multiply(amount, per_unit_risk))
    set_risk_budget(result, budget)
    set_free_balance(result, free)
    set_balance_cap(result, cap)
    set_spendable(result, spendable)
    set_limited_by(result, limited_by)
    set_unrounded_amount(result, unrounded)
    set_exit_slippage(result, slippage)
    _check_minimums(result, market)
    return result


def _check_geometry(side: PositionSide, entry: Decimal, stop: Decimal) -> None:
    if side is _LONG and stop >= entry:
        raise InvalidValue(
            f"long stop-loss {stop} is not below entry {entry}",
            why="a long's stop must sit below its entry or the position has unbounded risk",
            fix="place the stop below the entry price",
        )
    if side is _SHORT and stop <= entry:
        raise InvalidValue(
            f"short stop-loss {stop} is not above entry {entry}",
            why="a short's stop must sit above its entry",
            fix="place the stop above the entry price",
        )


# Why a larger order than the minimum-failing one may not be sent, and what to do, per bound.
_TOO_SMALL = {
    "risk budget": (
        "sending a larger order would break the risk limit",
        "skip this trade, or fund the account / raise the risk percent deliberately",
    ),
    "free balance": (
        "a larger order would cost more than the free balance",
        "skip this trade, or fund the account",
    ),
    "max order value": (
        "a larger order would exceed the maximum order value",
        "skip this trade, or raise MAX_ORDER_VALUE_USD deliberately",
    ),
    "max amount": (
        "a larger order would exceed the market's maximum amount",
        "skip this trade",
    ),
}


def _check_minimums(size: PositionSize, market: MarketSpec) -> None:
    too_small = (
        size.amount <= 0
        or (market.min_amount is not None and size.amount < market.min_amount)
        or (market.min_notional is not None and size.notional < market.min_notional)
    )
    if not too_small:
        return  # the happy path builds no message
    bound = f"(limited by {size.limited_by}: {size.explain()})"
    why, fix = _TOO_SMALL[size.limited_by]
    if size.amount <= 0:
        raise SizingError(
            f"no position fits: {size.unrounded_amount:f} {market.base} rounds down to zero at "
            f"increment {market.amount_increment:f} {bound}",
            why=why,
            fix=fix,
        )
    if market.min_amount is not None and size.amount < market.min_amount:
        raise SizingError(
            f"position {size.amount} {market.base} is below {market.symbol}'s minimum amount "
            f"{market.min_amount} {bound}",
            why=why,
            fix=fix,
        )
    if market.min_notional is not None and size.notional < market.min_notional:
        raise SizingError(
            f"position value {size.notional} {market.quote} is below {market.symbol}'s minimum "
            f"order value {market.min_notional} {bound}",
            why=why,
            fix=fix,
        )
