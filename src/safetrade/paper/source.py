"""KuCoin's public market data, read through ccxt without keys: what a paper venue mirrors.

Only KuCoin's *public* REST endpoints are called (``/api/v2/symbols``,
``/api/v1/market/orderbook/level1``, ``level2_100``, ``/api/v1/market/candles``: KuCoin's
"Market Data" section, https://www.kucoin.com/docs/rest/spot-trading/market-data/introduction),
through ccxt's implicit public methods, so nothing is signed: the client this module builds has
no key, and a client given with one is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from safetrade.errors import ExchangeError
from safetrade.testing._market_data import Candle, Level
from safetrade.testing._rules import MarketRules

__all__ = ["PublicKucoin", "Quote"]


@attrs.frozen
class Quote:
    """The top of one market's book and its last trade price (KuCoin level1)."""

    last: Decimal
    best_bid: Decimal | None
    best_ask: Decimal | None


def _decimal(value: object, what: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ExchangeError(
            f"KuCoin's public data has {what}={value!r}, which is not a number",
            fix="retry later; if it persists the market data format changed",
        ) from exc


def _data(response: object, what: str) -> Any:  # noqa: ANN401 - KuCoin JSON
    if not isinstance(response, Mapping) or response.get("code") != "200000":
        raise ExchangeError(
            f"KuCoin's public {what} answered {response!r:.200}",
            fix="retry later; check https://www.kucoin.com/announcement for maintenance",
        )
    return response.get("data")


def _symbol(symbol: str) -> str:
    return symbol.replace("/", "-")


class PublicKucoin:
    """Read KuCoin's public market data through a keyless ccxt client.

    Args:
        client: A ``ccxt.kucoin`` without credentials; default: one for the real KuCoin
            (``https://api.kucoin.com``), public endpoints only.

    Raises:
        ConfigError: The client carries an API key or secret (paper mode signs nothing).
    """

    def __init__(self, client: Any = None) -> None:  # noqa: ANN401 - ccxt is untyped
        from safetrade.errors import ConfigError  # noqa: PLC0415 - one error class

        if client is None:
            import ccxt  # noqa: PLC0415 - ccxt is heavy

            client = ccxt.kucoin({"enableRateLimit": True})
        if getattr(client, "apiKey", "") or getattr(client, "secret", ""):
            raise ConfigError(
                "the public market-data client for paper mode carries API credentials",
                fix="build it without apiKey/secret/password: paper mode never signs a request",
            )
        self._client = client

    @classmethod
    def at(cls, base_url: str | None) -> PublicKucoin:
        """KuCoin's public API at ``base_url`` (every ccxt API group), or the real one for None."""
        if base_url is None:
            return cls()
        import ccxt  # noqa: PLC0415 - ccxt is heavy

        client = ccxt.kucoin({"enableRateLimit": False})
        client.urls["api"] = dict.fromkeys(client.urls["api"], base_url)
        return cls(client)

    @property
    def hosts(self) -> tuple[str, ...]:
        """Where this client sends requests (for logs: the public data's origin)."""
        return tuple(sorted({str(url) for url in self._client.urls["api"].values()}))

    def markets(self, symbols: Sequence[str]) -> list[MarketRules]:
        """The trading rules of ``symbols`` (``SOL/USDT`` or ``SOL-USDT``) from ``/api/v2/symbols``.

        Raises:
            ExchangeError: KuCoin could not be read, or lists no such market.
        """
        wanted = {_symbol(s) for s in symbols}
        items = _data(self._call("publicGetSymbols", {}), "symbol list")
        found: dict[str, MarketRules] = {}
        for item in items or ():
            if isinstance(item, Mapping) and item.get("symbol") in wanted:
                found[str(item["symbol"])] = _rules(item)
        missing = sorted(wanted - set(found))
        if missing:
            raise ExchangeError(
                f"KuCoin lists no spot market {', '.join(missing)}",
                fix="use KuCoin's symbol, e.g. SOL/USDT (see https://www.kucoin.com/markets)",
            )
        return [found[s] for s in sorted(found)]

    def quote(self, symbol: str) -> Quote:
        """Last price and best bid/ask (``/api/v1/market/orderbook/level1``)."""
        data = _data(
            self._call("publicGetMarketOrderbookLevel1", {"symbol": _symbol(symbol)}), "level1"
        )
        if not isinstance(data, Mapping) or data.get("price") is None:
            raise ExchangeError(
                f"KuCoin has no last price for {symbol} yet",
                fix="wait until the market has traded, or pick a traded market",
            )

        def side(key: str) -> Decimal | None:
            value = data.get(key)
            return None if value in (None, "") else _decimal(value, key)

        return Quote(_decimal(data["price"], "price"), side("bestBid"), side("bestAsk"))

    def book(self, symbol: str) -> tuple[list[Level], list[Level]]:
        """Bids and asks, best first, 100 levels a side (``level2_100``)."""
        data = _data(
            self._call("publicGetMarketOrderbookLevel2100", {"symbol": _symbol(symbol)}), "book"
        )
        if not isinstance(data, Mapping):
            return [], []

        def levels(key: str) -> list[Level]:
            try:
                return [
                    (_decimal(p, "book price"), _decimal(s, "book size"))
                    for p, s in data.get(key) or ()
                ]
            except (TypeError, ValueError) as exc:
                raise ExchangeError(
                    f"KuCoin's public order book is not in the expected shape: {exc}",
                    fix="retry later; if it persists the market data format changed",
                ) from exc

        return levels("bids"), levels("asks")

    def candles(self, symbol: str, *, since_s: int, now_s: int | None = None) -> list[Candle]:
        """One-minute candles from ``since_s`` on, oldest first.

        KuCoin answers at most 1500 candles per request: a longer span up to ``now_s`` (a
        venue closed for days) is read page by page, so no minute is skipped; the newest page
        is asked without an end.
        """
        found: dict[int, Candle] = {}
        start = since_s
        while True:
            params: dict[str, object] = {"symbol": _symbol(symbol), "type": "1min",
                                         "startAt": start}  # fmt: skip
            last_page = now_s is None or start + _PAGE_S >= now_s
            if not last_page:
                params["endAt"] = start + _PAGE_S
            rows = _data(self._call("publicGetMarketCandles", params), "candles")
            for candle in _parse_candles(rows):
                if candle.time >= since_s:
                    found[candle.time] = candle
            if last_page:
                break
            start += _PAGE_S
        return [found[t] for t in sorted(found)]

    def _call(self, method: str, params: Mapping[str, object]) -> object:
        import ccxt  # noqa: PLC0415 - ccxt is heavy

        try:
            return getattr(self._client, method)(dict(params))
        except ccxt.BaseError as exc:
            raise ExchangeError(
                f"reading KuCoin's public market data failed: {type(exc).__name__}: {exc}",
                fix="check the network; the paper venue keeps its last prices meanwhile",
            ) from exc


_PAGE_S = 1500 * 60  # KuCoin's most candles per answer, one minute each


def _parse_candles(rows: object) -> list[Candle]:
    """KuCoin's rows ``[time, open, close, high, low, volume, turnover]``, newest first."""
    candles = []
    try:
        for row in rows or ():  # type: ignore[attr-defined]
            when, opened, close, high, low, volume = row[:6]
            candles.append(Candle(int(when), _decimal(opened, "open"), _decimal(high, "high"),
                                  _decimal(low, "low"), _decimal(close, "close"),
                                  _decimal(volume, "volume")))  # fmt: skip
    except (TypeError, ValueError, IndexError) as exc:
        raise ExchangeError(
            f"KuCoin's public candles are not in the expected shape: {exc}",
            fix="retry later; if it persists the market data format changed",
        ) from exc
    return candles


def _rules(item: Mapping[str, object]) -> MarketRules:
    def number(key: str) -> Decimal:
        return _decimal(item.get(key), key)

    return MarketRules(
        str(item["symbol"]),
        base_min_size=number("baseMinSize"),
        base_increment=number("baseIncrement"),
        price_increment=number("priceIncrement"),
        quote_increment=number("quoteIncrement"),
        min_funds=number("minFunds"),
        quote_min_size=number("quoteMinSize"),
        price_limit_rate=number("priceLimitRate"),
        base_max_size=number("baseMaxSize"),
        quote_max_size=number("quoteMaxSize"),
        enable_trading=item.get("enableTrading") is True,
    )
