"""What a market allows: increments and limits, read from the exchange's own market data.

There is deliberately no per-asset table here. The incident's bot hard-coded "SOL: 1 decimal,
BTC: 4 decimals"; KuCoin's SOL-USDT actually trades in 0.0001 SOL steps. Every increment comes
from the market description the exchange publishes (ccxt's ``load_markets()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from safetrade._decimal import EXACT, MIN_INCREMENT, to_decimal
from safetrade._grid import StepGrid
from safetrade.errors import InvalidValue, MarketSpecError

__all__ = ["MarketSpec"]

# ccxt's default when allTickers carries no fee; also KuCoin's base spot taker rate.
DEFAULT_TAKER_FEE = Decimal("0.001")
# ccxt.base.decimal_to_precision.TICK_SIZE, repeated so importing safetrade never imports ccxt.
TICK_SIZE = 4


def _finite(attribute: attrs.Attribute[Any], value: object) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise MarketSpecError(
            f"{attribute.name} must be a finite Decimal, got {value!r}",
            fix="build specs with MarketSpec.from_ccxt or pass Decimal values",
        )
    return value


def _increment(inst: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if _finite(attribute, value) <= 0:
        raise MarketSpecError(
            f"{attribute.name} must be positive, got {value}",
            fix="check the market data the exchange returned",
        )
    if value < MIN_INCREMENT:
        raise MarketSpecError(
            f"{attribute.name} {value} is below the smallest supported increment {MIN_INCREMENT}",
            why="no exchange trades in such steps; the market description is corrupt",
            fix="check the market data the exchange returned",
        )


def _optional_nonnegative(
    inst: object, attribute: attrs.Attribute[Decimal | None], value: Decimal | None
) -> None:
    if value is not None and _finite(attribute, value) < 0:
        raise MarketSpecError(f"{attribute.name} must not be negative, got {value}")


def _fee_rate(inst: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    # a negative or >= 1 taker fee would let the sizer spend more than the free balance
    if not 0 <= _finite(attribute, value) < 1:
        raise MarketSpecError(
            f"{attribute.name} must be a fraction in [0, 1), got {value}",
            fix="give the fee as a fraction: 0.001 = 0.1 %",
        )


@attrs.frozen(kw_only=True)
class MarketSpec:
    """One spot market's grid and limits, in exact decimals.

    Attributes:
        symbol: Unified symbol, e.g. ``"SOL/USDT"``.
        market_id: The exchange's id, e.g. ``"SOL-USDT"``.
        base: Base currency, e.g. ``"SOL"``.
        quote: Quote currency, e.g. ``"USDT"``.
        price_increment: Tick size: every price must be a whole multiple of it; at least
            1e-30 (``MIN_INCREMENT``).
        amount_increment: Step of the base amount: every size must be a multiple of it; at
            least 1e-30.
        min_amount: Smallest base amount accepted, if the exchange has one.
        max_amount: Largest base amount accepted, if the exchange has one.
        min_notional: Smallest order value in quote currency (KuCoin: the larger of
            ``quoteMinSize`` and ``minFunds``).
        max_notional: Largest order value in quote currency, if any.
        quote_increment: Step of quote amounts (market buys by funds).
        taker_fee: Taker fee rate as a fraction (0.001 = 0.1 %).
    """

    symbol: str
    market_id: str
    base: str
    quote: str
    price_increment: Decimal = attrs.field(validator=_increment)
    amount_increment: Decimal = attrs.field(validator=_increment)
    min_amount: Decimal | None = attrs.field(default=None, validator=_optional_nonnegative)
    max_amount: Decimal | None = attrs.field(default=None, validator=_optional_nonnegative)
    min_notional: Decimal | None = attrs.field(default=None, validator=_optional_nonnegative)
    max_notional: Decimal | None = attrs.field(default=None, validator=_optional_nonnegative)
    quote_increment: Decimal | None = attrs.field(default=None, validator=_optional_nonnegative)
    taker_fee: Decimal = attrs.field(default=DEFAULT_TAKER_FEE, validator=_fee_rate)
    # Derived once from the increments (not arguments, not compared, not shown): what rounding
    # on this market needs about each step, so an order's prices and amounts skip that work.
    _price_grid: StepGrid = attrs.field(init=False, repr=False, eq=False)
    _amount_grid: StepGrid = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        # the validators have run: both increments are positive finite Decimals >= 1e-30
        object.__setattr__(self, "_price_grid", StepGrid(self.price_increment))
        object.__setattr__(self, "_amount_grid", StepGrid(self.amount_increment))

    @classmethod
    def from_ccxt(cls, market: Mapping[str, Any], *, precision_mode: int = TICK_SIZE) -> MarketSpec:
        """Build a spec from one entry of ccxt's ``exchange.markets``.

        ccxt (``precisionMode`` TICK_SIZE for KuCoin) puts ``priceIncrement`` and
        ``baseIncrement`` in ``precision``, ``baseMinSize``/``baseMaxSize`` in
        ``limits.amount`` and ``quoteMinSize`` in ``limits.cost``; it ignores KuCoin's
        ``minFunds``, so that is read from ``info`` and the stricter of the two is kept.

        Args:
            market: The ccxt market dict.
            precision_mode: The exchange's ``precisionMode``; only ccxt's TICK_SIZE (4) is
                accepted, because in DECIMAL_PLACES mode ``2`` means two decimals, not a tick
                of 2, and guessing wrong would put every order off the grid.

        Raises:
            MarketSpecError: If ``market`` is not a dict, its symbol, id, base, quote or
                increments are missing, an increment is below 1e-30, a limit is negative or
                not a number, or the exchange is not tick-size based.
        """
        if not isinstance(market, Mapping):
            raise MarketSpecError(
                f"market must be a ccxt market dict, got {type(market).__name__} {market!r:.80}",
                fix="pass exchange.markets[symbol] after exchange.load_markets()",
            )
        raw_symbol = market.get("symbol")
        symbol = raw_symbol if isinstance(raw_symbol, str) and raw_symbol else "?"
        if precision_mode != TICK_SIZE:
            raise MarketSpecError(
                f"market {symbol} uses ccxt precisionMode {precision_mode}",
                why="safetrade reads increments as tick sizes (ccxt TICK_SIZE = 4)",
                fix="use an exchange whose ccxt class reports precisionMode TICK_SIZE",
            )
        precision = _section(market, "precision", symbol, required=True)
        limits = _section(market, "limits", symbol)
        amount_limits = _section(limits, "amount", symbol, parent="limits.")
        cost_limits = _section(limits, "cost", symbol, parent="limits.")
        info = _section(market, "info", symbol)
        min_cost = _limit(cost_limits.get("min"), symbol, "limits.cost.min")
        # KuCoin's minFunds; both minimums are checked before the stricter one is kept, so a
        # negative or NaN one is refused even when the other is valid
        min_funds = _limit(info.get("minFunds"), symbol, "info.minFunds")
        candidates = [v for v in (min_cost, min_funds) if v is not None]
        taker = _optional(market.get("taker"), symbol, "taker")
        return cls(
            symbol=_text(market, "symbol", symbol),
            market_id=_text(market, "id", symbol),
            base=_text(market, "base", symbol),
            quote=_text(market, "quote", symbol),
            price_increment=_required(precision.get("price"), symbol, "precision.price"),
            amount_increment=_required(precision.get("amount"), symbol, "precision.amount"),
            min_amount=_limit(amount_limits.get("min"), symbol, "limits.amount.min"),
            max_amount=_limit(amount_limits.get("max"), symbol, "limits.amount.max"),
            min_notional=max(candidates) if candidates else None,
            max_notional=_limit(cost_limits.get("max"), symbol, "limits.cost.max"),
            quote_increment=_limit(info.get("quoteIncrement"), symbol, "info.quoteIncrement"),
            taker_fee=taker if taker is not None else DEFAULT_TAKER_FEE,
        )

    @property
    def smallest_amount(self) -> Decimal:
        """The smallest amount that can be bought or sold: less is dust, not a position."""
        return max(self.min_amount or Decimal(0), self.amount_increment)

    def sellable(self, amount: Decimal, price: Decimal | None) -> bool:
        """Whether KuCoin takes an order for ``amount`` at about ``price``.

        At least the smallest amount and, at that price, the minimum order value (minFunds).
        Less is dust: no stop-loss can be placed for it and no sale can clear it. ``price``
        None: the amount alone is judged.
        """
        if amount < self.smallest_amount:
            return False
        floor = self.min_notional
        return floor is None or price is None or EXACT.multiply(amount, price) >= floor

    def notional(self, amount: Decimal, price: Decimal) -> Decimal:
        """Order value in quote currency, exact whatever the caller's decimal context."""
        return EXACT.multiply(amount, price)


def _optional(value: object, symbol: str, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    # ccxt delivers floats; str() gives the shortest repr, which is what KuCoin sent as text.
    text = str(value) if isinstance(value, float) else value
    try:
        return to_decimal(text, f"{symbol} {field}")
    except InvalidValue as exc:
        raise MarketSpecError(exc.what, why=exc.why, fix=exc.fix) from None


def _limit(value: object, symbol: str, field: str) -> Decimal | None:
    result = _optional(value, symbol, field)
    if result is not None and result < 0:
        raise MarketSpecError(
            f"market {symbol} has a negative {field}: {result}",
            why="a limit below zero means the market data is corrupt",
            fix="reload markets from the exchange",
        )
    return result


def _section(
    market: Mapping[str, Any], key: str, symbol: str, *, required: bool = False, parent: str = ""
) -> Mapping[str, Any]:
    value = market.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise MarketSpecError(
            f"market {symbol} has no {parent}{key} dict (got {type(value).__name__} {value!r:.80})",
            why="safetrade needs the exchange's own increments and limits",
            fix="pass an entry of exchange.markets after exchange.load_markets()",
        )
    return value


def _text(market: Mapping[str, Any], key: str, symbol: str) -> str:
    value = market.get(key)
    if not isinstance(value, str) or not value:
        raise MarketSpecError(
            f"market {symbol} has no {key} (got {value!r:.80})",
            fix="pass an entry of exchange.markets after exchange.load_markets()",
        )
    return value


def _required(value: object, symbol: str, field: str) -> Decimal:
    result = _optional(value, symbol, field)
    if result is None:
        raise MarketSpecError(
            f"market {symbol} has no {field}",
            why="without the exchange's increment every price or size is a guess",
            fix="reload markets from the exchange; never hard-code increments",
        )
    return result
