"""Market specifications (KuCoin's ``/api/v2/symbols`` fields) and the order rules they imply."""

from __future__ import annotations

from decimal import Decimal

import attrs

from safetrade.testing._wire import (
    FUNDS_INCREMENT,
    PRICE_INCREMENT,
    SIZE_ABOVE_MAX,
    SIZE_BELOW_MIN,
    SIZE_INCREMENT,
    fmt,
    parameter_error,
)

__all__ = ["BTC_USDT", "DEFAULT_MARKETS", "SOL_USDT", "MarketRules"]


def _dec(value: Decimal | str | int) -> Decimal:
    # str() first so a float never sneaks in with binary noise
    return value if isinstance(value, Decimal) else Decimal(str(value))


@attrs.frozen
class MarketRules:
    """The trading rules of one KuCoin spot market, as ``GET /api/v2/symbols`` reports them.

    Only ``symbol`` is required; the other fields default to SOL-USDT's values. Numbers accept
    ``Decimal`` or strings (converted with ``Decimal(str(x))``).

    Attributes:
        symbol: KuCoin symbol with a dash, e.g. ``"SOL-USDT"``.
        base_min_size: Smallest order size (``baseMinSize``).
        base_increment: Size step (``baseIncrement``).
        price_increment: Price tick (``priceIncrement``).
        quote_increment: Funds step for market orders by funds (``quoteIncrement``).
        min_funds: Smallest order value (``minFunds``).
        quote_min_size: Smallest funds of a market order (``quoteMinSize``).
        price_limit_rate: Price protection band (``priceLimitRate``, 0.1 = 10 %).
        base_max_size: Largest order size (``baseMaxSize``).
        quote_max_size: Largest funds (``quoteMaxSize``).
        taker_fee_rate: Fee rate for orders that take liquidity, charged in the quote currency.
        maker_fee_rate: Fee rate for resting limit orders that get filled later.
        enable_trading: ``enableTrading``; False makes ccxt mark the market inactive.
    """

    symbol: str = attrs.field()
    base_min_size: Decimal = attrs.field(default=Decimal("0.01"), converter=_dec)
    base_increment: Decimal = attrs.field(default=Decimal("0.0001"), converter=_dec)
    price_increment: Decimal = attrs.field(default=Decimal("0.01"), converter=_dec)
    quote_increment: Decimal = attrs.field(default=Decimal("0.000001"), converter=_dec)
    min_funds: Decimal = attrs.field(default=Decimal("0.1"), converter=_dec)
    quote_min_size: Decimal = attrs.field(default=Decimal("0.1"), converter=_dec)
    price_limit_rate: Decimal = attrs.field(default=Decimal("0.1"), converter=_dec)
    base_max_size: Decimal = attrs.field(default=Decimal("10000000000"), converter=_dec)
    quote_max_size: Decimal = attrs.field(default=Decimal("99999999"), converter=_dec)
    taker_fee_rate: Decimal = attrs.field(default=Decimal("0.001"), converter=_dec)
    maker_fee_rate: Decimal = attrs.field(default=Decimal("0.001"), converter=_dec)
    enable_trading: bool = True

    @symbol.validator
    def _check_symbol(self, _attribute: object, value: str) -> None:
        base, dash, quote = value.partition("-")
        if not (base and dash and quote) or "-" in quote:
            msg = f"KuCoin symbols look like 'SOL-USDT', got {value!r}"
            raise ValueError(msg)

    @property
    def base(self) -> str:
        """The base currency, e.g. ``SOL``."""
        return self.symbol.partition("-")[0]

    @property
    def quote(self) -> str:
        """The quote currency, e.g. ``USDT``."""
        return self.symbol.partition("-")[2]

    @property
    def unified(self) -> str:
        """The ccxt symbol, e.g. ``SOL/USDT``."""
        return f"{self.base}/{self.quote}"

    def symbol_item(self) -> dict[str, object]:
        """Return this market as an item of ``GET /api/v2/symbols``."""
        return {
            "symbol": self.symbol,
            "name": self.symbol,
            "baseCurrency": self.base,
            "quoteCurrency": self.quote,
            "feeCurrency": self.quote,
            "market": "USDS",
            "baseMinSize": fmt(self.base_min_size),
            "quoteMinSize": fmt(self.quote_min_size),
            "baseMaxSize": fmt(self.base_max_size),
            "quoteMaxSize": fmt(self.quote_max_size),
            "baseIncrement": fmt(self.base_increment),
            "quoteIncrement": fmt(self.quote_increment),
            "priceIncrement": fmt(self.price_increment),
            "priceLimitRate": fmt(self.price_limit_rate),
            "minFunds": fmt(self.min_funds),
            "isMarginEnabled": True,
            "enableTrading": self.enable_trading,
            "feeCategory": 1,
            "makerFeeCoefficient": "1.00",
            "takerFeeCoefficient": "1.00",
            "st": False,
            "callauctionIsEnabled": False,
            "callauctionPriceFloor": None,
            "callauctionPriceCeiling": None,
            "callauctionFirstStageStartTime": None,
            "callauctionSecondStageStartTime": None,
            "callauctionThirdStageStartTime": None,
            "tradingStartTime": None,
        }

    # --- checks KuCoin makes when an order arrives ----------------------------------------

    def check_price(self, price: Decimal) -> None:
        """Reject a price that is not a positive multiple of ``priceIncrement``."""
        if price <= 0:
            raise parameter_error("price must be positive")
        if price % self.price_increment != 0:
            raise PRICE_INCREMENT.error()

    def check_size(self, size: Decimal) -> None:
        """Reject a size off the ``baseIncrement`` grid or outside the min/max size."""
        if size <= 0:
            raise parameter_error("size must be positive")
        if size % self.base_increment != 0:
            raise SIZE_INCREMENT.error()
        if size < self.base_min_size:
            raise SIZE_BELOW_MIN.error()
        if size > self.base_max_size:
            raise SIZE_ABOVE_MAX.error()

    def check_funds(self, funds: Decimal) -> None:
        """Reject market funds that are not a positive multiple of ``quoteIncrement``."""
        if funds <= 0:
            raise parameter_error("funds must be positive")
        if funds % self.quote_increment != 0:
            raise FUNDS_INCREMENT.error()

    def truncate_size(self, size: Decimal) -> Decimal:
        """Round ``size`` down to the ``baseIncrement`` grid (never fill more than asked)."""
        return (size // self.base_increment) * self.base_increment


SOL_USDT = MarketRules("SOL-USDT")
BTC_USDT = MarketRules(
    "BTC-USDT",
    base_min_size=Decimal("0.00001"),
    base_increment=Decimal("0.00000001"),
    price_increment=Decimal("0.1"),
)
DEFAULT_MARKETS = (SOL_USDT, BTC_USDT)
