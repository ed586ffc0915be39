"""Handlers of the market-data endpoints: tickers, candles, order books, trades, trade fees.

Each ``_<endpoint>`` method receives the parsed :class:`~safetrade.testing._routes.Call` and
returns the ``data`` part of KuCoin's envelope, or raises ``KucoinError``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from safetrade.testing._market_data import INTERVALS
from safetrade.testing._wire import fmt, parameter_error, query_int

if TYPE_CHECKING:
    from safetrade.testing._engine import Engine
    from safetrade.testing._routes import Call

MAX_FEE_SYMBOLS = 10  # per request, KuCoin "Get Actual Fee"


class MarketDataHandlers:
    """Public market data (and the two signed reads of it); mixed into the request pipeline."""

    engine: Engine
    clock: Callable[[], int]

    def _ticker_item(self, symbol: str) -> dict[str, object]:
        market = self.engine.markets[symbol]
        last = self.engine.prices.get(symbol)
        low, high = self.engine.price_range.get(symbol, (None, None))
        bids, asks = self.engine.book(symbol, 1)
        size, funds = self.engine.volume.get(symbol, (Decimal(0), Decimal(0)))
        return {
            "time": self.clock(), "symbol": symbol, "symbolName": symbol,
            "buy": fmt(bids[0][0]) if bids else None, "sell": fmt(asks[0][0]) if asks else None,
            "last": fmt(last),
            "bestBidSize": fmt(bids[0][1]) if bids else "0",
            "bestAskSize": fmt(asks[0][1]) if asks else "0",
            "changeRate": "0", "changePrice": "0", "high": fmt(high), "low": fmt(low),
            "vol": fmt(size), "volValue": fmt(funds), "averagePrice": fmt(last),
            "takerFeeRate": fmt(market.taker_fee_rate), "makerFeeRate": fmt(market.maker_fee_rate),
            "takerCoefficient": "1", "makerCoefficient": "1",
        }  # fmt: skip

    def _all_tickers(self, _call: Call) -> object:
        return {"time": self.clock(), "ticker": [self._ticker_item(s) for s in self.engine.markets]}

    def _ticker(self, call: Call) -> object:
        return self._ticker_item(self.engine.market(call.query.get("symbol")).symbol)

    # --- market data ---------------------------------------------------------------------

    def _candles(self, call: Call) -> object:
        """``GET /api/v1/market/candles`` (KuCoin "Get Klines"; see ``_market_data``)."""
        symbol = self.engine.market(call.query.get("symbol")).symbol
        kind = call.query.get("type")
        if kind not in INTERVALS:
            raise parameter_error(f"type must be one of {', '.join(INTERVALS)}")
        start = query_int(call.query, "startAt", 0)
        end = query_int(call.query, "endAt", 0)
        return self.engine.history.query(symbol, kind, start, end)

    def _sequence(self) -> str:
        return str(self.engine.tape_sequence)

    def _level1(self, call: Call) -> object:
        symbol = self.engine.market(call.query.get("symbol")).symbol
        bids, asks = self.engine.book(symbol, 1)
        tape = self.engine.tape.get(symbol)
        return {
            "time": self.clock(), "sequence": self._sequence(),
            "price": fmt(self.engine.prices.get(symbol)),
            "size": fmt(tape[-1][2]) if tape else "0",
            "bestBid": fmt(bids[0][0]) if bids else None,
            "bestBidSize": fmt(bids[0][1]) if bids else None,
            "bestAsk": fmt(asks[0][0]) if asks else None,
            "bestAskSize": fmt(asks[0][1]) if asks else None,
        }  # fmt: skip

    def _book_view(self, symbol: str, depth: int) -> object:
        bids, asks = self.engine.book(symbol, depth)
        return {
            "time": self.clock(), "sequence": self._sequence(),
            "bids": [[fmt(p), fmt(s)] for p, s in bids],
            "asks": [[fmt(p), fmt(s)] for p, s in asks],
        }  # fmt: skip

    def _order_book(self, call: Call) -> object:
        symbol = self.engine.market(call.query.get("symbol")).symbol
        return self._book_view(symbol, int(call.groups["depth"] or 20))

    def _full_order_book(self, call: Call) -> object:
        symbol = self.engine.market(call.query.get("symbol")).symbol
        return self._book_view(symbol, self.engine.book_shape.levels)

    def _trades(self, call: Call) -> object:
        """``GET /api/v1/market/histories``: the last 100 trades, ``time`` in nanoseconds."""
        symbol = self.engine.market(call.query.get("symbol")).symbol
        return [
            {"sequence": str(seq), "price": fmt(price), "size": fmt(size), "side": side,
             "time": ms * 1_000_000}
            for seq, price, size, side, ms in self.engine.tape.get(symbol, ())
        ]  # fmt: skip

    def _trade_fees(self, call: Call) -> object:
        """``GET /api/v1/trade-fees?symbols=A,B``: at most 10 symbols per request (KuCoin docs)."""
        symbols = [s for s in (call.query.get("symbols") or "").split(",") if s]
        if not symbols or len(symbols) > MAX_FEE_SYMBOLS:
            raise parameter_error("symbols must list 1 to 10 trading pairs")
        markets = [self.engine.market(s) for s in symbols]
        return [
            {"symbol": m.symbol, "takerFeeRate": fmt(m.taker_fee_rate),
             "makerFeeRate": fmt(m.maker_fee_rate)}
            for m in markets
        ]  # fmt: skip
