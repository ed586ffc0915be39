"""Market data of the fake: candles, price paths, the order book around the last price.

Pure values and functions; the engine owns the state and calls them.

* Candles follow KuCoin's ``GET /api/v1/market/candles`` (https://www.kucoin.com/docs-new/rest/
  spot-trading/market-data/get-klines): ``type`` in :data:`INTERVALS`, ``startAt``/``endAt`` in
  seconds, rows ``[time, open, close, high, low, volume, turnover]`` as strings, newest first,
  at most 1500, and "no data is published for intervals where there are no ticks".
* A :class:`PricePath` is a list of candles (CSV you record or generate). Replaying one candle
  visits its prices in a fixed order, see :meth:`Candle.visits`.
* The book is generated around the last price from a :class:`BookShape`; market orders walk it
  level by level (:func:`walk`), as KuCoin matches a market order against the book.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from pathlib import Path

import attrs

ZERO = Decimal(0)
MAX_CANDLES = 1500  # per request, KuCoin docs
INTERVALS: dict[str, int] = {
    "1min": 60, "3min": 180, "5min": 300, "15min": 900, "30min": 1800,
    "1hour": 3600, "2hour": 7200, "4hour": 14400, "6hour": 21600, "8hour": 28800,
    "12hour": 43200, "1day": 86400, "1week": 604800, "1month": 0,  # 0: calendar month
}  # fmt: skip
_MONDAY = 4 * 86400  # 1970-01-05, the first Monday after the epoch; KuCoin weeks start Monday


def _positive(_instance: object, attribute: attrs.Attribute[Decimal], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        msg = f"{attribute.name} must be a positive finite Decimal, got {value!r}"
        raise ValueError(msg)


def _not_negative(_instance: object, attribute: attrs.Attribute[Decimal], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        msg = f"{attribute.name} must be a finite Decimal >= 0, got {value!r}"
        raise ValueError(msg)


@attrs.frozen
class Candle:
    """One candle of a price path. ``time`` is its start in epoch seconds.

    Raises:
        ValueError: When a price is not positive or high/low do not contain open and close.
    """

    time: int
    open: Decimal = attrs.field(validator=_positive)
    high: Decimal = attrs.field(validator=_positive)
    low: Decimal = attrs.field(validator=_positive)
    close: Decimal = attrs.field(validator=_positive)
    volume: Decimal = attrs.field(default=ZERO, validator=_not_negative)

    def __attrs_post_init__(self) -> None:
        if not self.low <= min(self.open, self.close) <= max(self.open, self.close) <= self.high:
            msg = (
                f"candle at {self.time}: need low <= open, close <= high, got open {self.open} "
                f"high {self.high} low {self.low} close {self.close}"
            )
            raise ValueError(msg)

    def visits(self) -> tuple[Decimal, ...]:
        """The last prices a replay of this candle sets, in order.

        A rising candle (close >= open) is taken to have gone down first: open, low, high,
        close; a falling one up first: open, high, low, close. Either way both extremes are
        visited, so a stop between low and high always triggers, and in the order that is worse
        for a long position holding a take-profit above and a stop-loss below on a falling
        candle (the take-profit is reached first only when the high is visited first).
        """
        middle = (self.low, self.high) if self.close >= self.open else (self.high, self.low)
        points = (self.open, *middle, self.close)
        return tuple(p for i, p in enumerate(points) if i == 0 or p != points[i - 1])


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        msg = f"{what}: {text!r} is not a number"
        raise ValueError(msg) from None
    return value


@attrs.frozen
class PricePath:
    """A list of candles to replay, oldest first, on a regular interval.

    Build one from a CSV (``time,open,high,low,close[,volume]``, ``time`` in epoch seconds or
    milliseconds), from ccxt's ``fetch_ohlcv`` rows (:meth:`from_ohlcv`, so a path can be
    recorded from any exchange), or from closing prices (:meth:`from_closes`).
    """

    candles: tuple[Candle, ...]
    interval: int = 60

    def __attrs_post_init__(self) -> None:
        if not self.candles:
            msg = "a price path needs at least one candle"
            raise ValueError(msg)
        if self.interval <= 0:
            msg = f"interval must be positive seconds, got {self.interval}"
            raise ValueError(msg)
        times = [c.time for c in self.candles]
        if any(b - a != self.interval for a, b in itertools.pairwise(times)):
            msg = f"candles must be {self.interval} s apart, oldest first"
            raise ValueError(msg)

    @classmethod
    def from_candles(cls, candles: Sequence[Candle]) -> PricePath:
        """A path whose interval is the spacing of its first two candles (60 s for one)."""
        interval = candles[1].time - candles[0].time if len(candles) > 1 else 60
        return cls(tuple(candles), interval)

    @classmethod
    def from_csv(cls, source: str | Path) -> PricePath:
        """Read ``time,open,high,low,close[,volume]`` rows (a header line is skipped).

        Args:
            source: A file path, or the CSV text itself when it contains a newline.
        """
        text = source if isinstance(source, str) and "\n" in source else Path(source).read_text()
        candles = []
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if not row or row[0].strip().lower() in ("time", "timestamp", "#"):
                continue
            if len(row) not in (5, 6):
                msg = f"line {number}: expected time,open,high,low,close[,volume], got {row}"
                raise ValueError(msg)
            stamp = int(_decimal(row[0], f"line {number} time"))
            prices = [_decimal(v, f"line {number}") for v in row[1:]]
            candles.append(Candle(stamp // 1000 if stamp > 10**11 else stamp, *prices))
        return cls.from_candles(candles)

    @classmethod
    def from_ohlcv(cls, rows: Iterable[Sequence[object]]) -> PricePath:
        """Rows as ccxt's ``fetch_ohlcv`` returns them: ``[ms, open, high, low, close, volume]``."""
        candles = [
            Candle(int(str(r[0])) // 1000, *(_decimal(str(v), "ohlcv") for v in r[1:6]))
            for r in rows
        ]
        return cls.from_candles(candles)

    @classmethod
    def from_closes(
        cls, closes: Iterable[Decimal | str], *, start: int, interval: int = 60
    ) -> PricePath:
        """Candles from consecutive prices: each opens at the previous close."""
        prices = [Decimal(str(p)) for p in closes]
        candles = []
        for i, close in enumerate(prices):
            opened = prices[i - 1] if i else close
            candles.append(
                Candle(start + i * interval, opened, max(opened, close), min(opened, close), close)
            )
        return cls(tuple(candles), interval)

    def to_csv(self) -> str:
        """The path as CSV with a header line (what :meth:`from_csv` reads)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["time", "open", "high", "low", "close", "volume"])
        for c in self.candles:
            writer.writerow([c.time, c.open, c.high, c.low, c.close, c.volume])
        return out.getvalue()


@attrs.frozen
class BookShape:
    """How the fake's order book looks around the last price.

    Attributes:
        spread_ticks: Best ask minus best bid, in price increments (0: both at the last price).
        levels: Price levels per side.
        level_size: Base amount resting at each level.
        step_ticks: Distance between two levels, in price increments.
    """

    spread_ticks: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    levels: int = attrs.field(default=100, validator=attrs.validators.ge(1))
    level_size: Decimal = attrs.field(default=Decimal(1000), validator=_positive)
    step_ticks: int = attrs.field(default=1, validator=attrs.validators.ge(1))


Level = tuple[Decimal, Decimal]


def book(
    last: Decimal, tick: Decimal, shape: BookShape, depth: int
) -> tuple[list[Level], list[Level]]:
    """Bids (best first, falling) and asks (best first, rising) around ``last``."""
    centre = (last / tick).to_integral_value(ROUND_FLOOR) * tick
    half_up = (Decimal(shape.spread_ticks) / 2).to_integral_value(ROUND_CEILING)
    half_down = shape.spread_ticks - int(half_up)
    count = min(depth, shape.levels)
    step = tick * shape.step_ticks
    asks = [(centre + tick * half_up + step * i, shape.level_size) for i in range(count)]
    bids = [(centre - tick * half_down - step * i, shape.level_size) for i in range(count)]
    return [b for b in bids if b[0] > 0], asks


@attrs.frozen
class Walk:
    """What a market order takes from one side of the book: ``(price, size)`` per level."""

    takes: tuple[Level, ...]

    @property
    def size(self) -> Decimal:
        """Base amount taken."""
        return sum((s for _, s in self.takes), ZERO)

    @property
    def funds(self) -> Decimal:
        """Quote amount taken (before fees)."""
        return sum((p * s for p, s in self.takes), ZERO)


def walk(
    levels: Sequence[Level],
    *,
    size: Decimal | None,
    funds: Decimal | None,
    step: Decimal,
    fee_rate: Decimal = ZERO,
    budget: Decimal | None = None,
) -> Walk:
    """Take levels best first until ``size`` (base) or ``funds`` (quote) is reached.

    Amounts are truncated to the base increment ``step``. ``budget`` caps the quote spent
    including fees (a buy paid from the quote balance); what the book or the budget cannot give
    is simply not taken (KuCoin cancels the rest of a market order).
    """
    takes: list[Level] = []
    left_size, left_funds, left_budget = size, funds, budget
    for price, available in levels:
        can = available
        if left_size is not None:
            can = min(can, left_size)
        if left_funds is not None:
            can = min(can, left_funds / price)
        if left_budget is not None:
            can = min(can, left_budget / (price * (1 + fee_rate)))
        take = (can / step).to_integral_value(ROUND_FLOOR) * step
        if take <= 0:
            break
        takes.append((price, take))
        if left_size is not None:
            left_size -= take
        if left_funds is not None:
            left_funds -= take * price
        if left_budget is not None:
            left_budget -= take * price * (1 + fee_rate)
        if take < available:
            break  # this level was enough (or the money ran out): nothing deeper is touched
    return Walk(tuple(takes))


def bucket(time_s: int, kind: str) -> int:
    """Start (epoch seconds) of the ``kind`` candle containing ``time_s``."""
    seconds = INTERVALS[kind]
    if seconds == 0:
        moment = datetime.fromtimestamp(time_s, UTC)
        return int(datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp())
    if kind == "1week":
        return (time_s - _MONDAY) // seconds * seconds + _MONDAY
    return time_s // seconds * seconds


class CandleHistory:
    """Per-symbol one-minute buckets (or a path's own interval), aggregated on request."""

    def __init__(self) -> None:
        # symbol -> bucket start -> [open, high, low, close, volume, turnover]
        self._buckets: dict[str, dict[int, list[Decimal]]] = {}

    def tick(self, symbol: str, time_s: int, price: Decimal) -> None:
        """A last-price change at ``time_s``."""
        buckets = self._buckets.setdefault(symbol, {})
        start = time_s // 60 * 60
        row = buckets.get(start)
        if row is None:
            buckets[start] = [price, price, price, price, ZERO, ZERO]
        else:
            row[1], row[2], row[3] = max(row[1], price), min(row[2], price), price

    def trade(self, symbol: str, time_s: int, price: Decimal, size: Decimal) -> None:
        """An execution at ``time_s`` (adds volume; moves the candle like a tick)."""
        self.tick(symbol, time_s, price)
        row = self._buckets[symbol][time_s // 60 * 60]
        row[4] += size
        row[5] += size * price

    def put(self, symbol: str, candle: Candle) -> None:
        """Record a replayed candle; trades already in its slot (our own fills) are kept."""
        buckets = self._buckets.setdefault(symbol, {})
        row = [candle.open, candle.high, candle.low, candle.close, candle.volume,
               candle.volume * candle.close]  # fmt: skip
        seen = buckets.get(candle.time)
        if seen is not None:
            row[1], row[2] = max(row[1], seen[1]), min(row[2], seen[2])
            row[4], row[5] = row[4] + seen[4], row[5] + seen[5]
        buckets[candle.time] = row

    def query(self, symbol: str, kind: str, start: int, end: int) -> list[list[str]]:
        """KuCoin's rows for ``[start, end)`` (``end`` 0: no bound), newest first, at most 1500."""
        grouped: dict[int, list[Decimal]] = {}
        for when in sorted(self._buckets.get(symbol, {})):
            row = self._buckets[symbol][when]
            key = bucket(when, kind)
            if key < start or (end and key >= end):
                continue
            into = grouped.get(key)
            if into is None:
                grouped[key] = list(row)
            else:
                into[1], into[2], into[3] = max(into[1], row[1]), min(into[2], row[2]), row[3]
                into[4] += row[4]
                into[5] += row[5]
        newest = sorted(grouped, reverse=True)[:MAX_CANDLES]
        return [_row(when, grouped[when]) for when in newest]


def _text(value: Decimal) -> str:
    return "0" if value == 0 else format(value.normalize(), "f")


def _row(when: int, row: list[Decimal]) -> list[str]:
    opened, high, low, close, volume, turnover = row
    return [str(when), *(_text(v) for v in (opened, close, high, low, volume, turnover))]
