"""Shared fixtures-as-values and hypothesis strategies for the core's tests.

Imported as ``tests.strategies``: the root ``conftest.py`` puts the repository root on
``sys.path`` (pytest's default ``prepend`` import mode), and ``tests`` is a namespace package.
"""

from __future__ import annotations

import copy
import functools
import math
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from safetrade import MarketSpec

# One entry of ``ccxt.kucoin().load_markets()`` for SOL/USDT as ccxt 4.5.90 builds it from
# KuCoin's ``GET /api/v2/symbols`` item: increments and limits as floats, KuCoin's own strings
# (including ``minFunds``, which ccxt ignores) under ``info``.
KUCOIN_SOL_USDT: dict[str, Any] = {
    "id": "SOL-USDT",
    "lowercaseId": None,
    "symbol": "SOL/USDT",
    "base": "SOL",
    "quote": "USDT",
    "settle": None,
    "baseId": "SOL",
    "quoteId": "USDT",
    "settleId": None,
    "type": "spot",
    "spot": True,
    "margin": True,
    "swap": False,
    "future": False,
    "option": False,
    "active": True,
    "contract": False,
    "linear": None,
    "inverse": None,
    "taker": 0.001,
    "maker": 0.001,
    "contractSize": None,
    "expiry": None,
    "expiryDatetime": None,
    "strike": None,
    "optionType": None,
    "precision": {"amount": 0.0001, "price": 0.01},
    "limits": {
        "leverage": {"min": None, "max": None},
        "amount": {"min": 0.01, "max": 10000000000.0},
        "price": {"min": None, "max": None},
        "cost": {"min": 0.1, "max": 99999999.0},
    },
    "marginModes": {"cross": False, "isolated": False},
    "created": None,
    "info": {
        "symbol": "SOL-USDT",
        "name": "SOL-USDT",
        "baseCurrency": "SOL",
        "quoteCurrency": "USDT",
        "feeCurrency": "USDT",
        "market": "USDS",
        "baseMinSize": "0.01",
        "quoteMinSize": "0.1",
        "baseMaxSize": "10000000000",
        "quoteMaxSize": "99999999",
        "baseIncrement": "0.0001",
        "quoteIncrement": "0.000001",
        "priceIncrement": "0.01",
        "priceLimitRate": "0.1",
        "minFunds": "0.1",
        "isMarginEnabled": True,
        "enableTrading": True,
        "feeCategory": 1,
        "makerFeeCoefficient": "1.00",
        "takerFeeCoefficient": "1.00",
        "st": False,
    },
    "tierBased": True,
    "percentage": True,
}


def kucoin_sol_usdt() -> dict[str, Any]:
    """A fresh deep copy of :data:`KUCOIN_SOL_USDT` that a test may mutate."""
    return copy.deepcopy(KUCOIN_SOL_USDT)


def sol_usdt() -> MarketSpec:
    """The incident's market, built the way a bot builds it: from ccxt's market dict."""
    return MarketSpec.from_ccxt(kucoin_sol_usdt())


# -- hypothesis strategies -------------------------------------------------------------------

# Increments seen on real exchanges, including ones that are not powers of ten.
NAMED_INCREMENTS = ("0.05", "0.0001", "5", "1E-8", "0.01", "0.25", "1", "0.5", "0.001", "10")


# Strategies are immutable values: each helper builds its strategy once and hands out the same
# object on every call (tests call them inside composite strategies, once per example). The
# examples drawn are the same; only hypothesis's per-object set-up (validation, labels) is paid
# once instead of per draw.
@functools.cache
def increments() -> st.SearchStrategy[Decimal]:
    """Positive increments: the named ones, and ``d * 10**e`` for d in 1..9, e in -8..2."""
    scaled = st.builds(
        lambda digit, exp: Decimal(digit).scaleb(exp),
        st.integers(1, 9),
        st.integers(-8, 2),
    )
    return st.one_of(st.sampled_from([Decimal(s) for s in NAMED_INCREMENTS]), scaled)


@functools.cache
def decimals(low: str, high: str, places: int = 8) -> st.SearchStrategy[Decimal]:
    """Finite Decimals in ``[low, high]`` with at most ``places`` decimal places."""
    return st.decimals(
        min_value=Decimal(low),
        max_value=Decimal(high),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )


@functools.cache
def positive_decimals(high: str = "1e9", places: int = 8) -> st.SearchStrategy[Decimal]:
    """Strictly positive finite Decimals up to ``high``."""
    return decimals("1e-8", high, places).filter(lambda d: d > 0)


_MIN_NOTIONALS = st.none() | st.sampled_from([Decimal("0.1"), Decimal(1), Decimal(10)])
_TAKER_FEES = st.sampled_from([Decimal(0), Decimal("0.001"), Decimal("0.0025")])


@st.composite
def markets(draw: st.DrawFn, *, with_minimums: bool = True) -> MarketSpec:
    """Random spot markets with arbitrary increments, optional minimums and a fee."""
    price_inc = draw(increments())
    amount_inc = draw(increments())
    min_amount = None
    min_notional = None
    if with_minimums:
        min_amount = draw(st.none() | st.sampled_from([amount_inc, amount_inc * 10]))
        min_notional = draw(_MIN_NOTIONALS)
    return MarketSpec(
        symbol="BASE/QUOTE",
        market_id="BASE-QUOTE",
        base="BASE",
        quote="QUOTE",
        price_increment=price_inc,
        amount_increment=amount_inc,
        min_amount=min_amount,
        min_notional=min_notional,
        taker_fee=draw(_TAKER_FEES),
    )


class _Opaque:
    """An object that is no number at all."""

    def __repr__(self) -> str:
        return "<opaque>"


# Values no money-handling function may accept as a positive amount or price. Zero and
# negatives are included; ``None`` is added by callers for required arguments only.
BAD_NUMBERS: tuple[object, ...] = (
    Decimal("NaN"),
    Decimal("-NaN"),
    Decimal("sNaN"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
    Decimal("-1"),
    Decimal("-0.01"),
    Decimal("1e30"),
    10**30,
    "1e30",
    math.nan,
    math.inf,
    -math.inf,
    87.36,
    0.0,
    True,
    False,
    "abc",
    "",
    "nan",
    "inf",
    "-5",
    "$123",
    "1%",
    [],
    _Opaque(),
)


def bad_numbers(*, allow_none: bool = False) -> st.SearchStrategy[object]:
    """One value from :data:`BAD_NUMBERS` (plus ``None`` when ``None`` is invalid too)."""
    values = BAD_NUMBERS + ((None,) if allow_none else ())
    return st.sampled_from(values)


def stable_id(value: object) -> str:
    """A parametrize id that is the same in every process (``repr(object())`` is not).

    pytest-xdist refuses a run whose workers collected different test ids.
    """
    text = repr(value)
    return type(value).__name__ if " at 0x" in text else text
