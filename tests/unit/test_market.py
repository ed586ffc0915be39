"""Unit tests for safetrade.market: increments and limits come from the exchange's data."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from safetrade import MarketSpec, MarketSpecError
from tests.strategies import kucoin_sol_usdt, sol_usdt, stable_id


class TestFromCcxt:
    def test_kucoin_sol_usdt_increments_are_exact(self):
        """ccxt's float increments (0.01, 0.0001) become the exact decimals KuCoin published."""
        spec = sol_usdt()
        assert spec.price_increment == Decimal("0.01")
        assert spec.amount_increment == Decimal("0.0001")
        assert str(spec.price_increment) == "0.01"

    def test_kucoin_sol_usdt_identity(self):
        """Symbol, exchange id and currencies are taken from the market dict."""
        spec = sol_usdt()
        assert (spec.symbol, spec.market_id, spec.base, spec.quote) == (
            "SOL/USDT",
            "SOL-USDT",
            "SOL",
            "USDT",
        )

    def test_kucoin_sol_usdt_limits(self):
        """baseMinSize 0.01, minFunds 0.1 and the maxima are read; the taker fee is 0.1 %."""
        spec = sol_usdt()
        assert spec.min_amount == Decimal("0.01")
        assert spec.max_amount == Decimal("10000000000")
        assert spec.min_notional == Decimal("0.1")
        assert spec.max_notional == Decimal("99999999")
        assert spec.quote_increment == Decimal("0.000001")
        assert spec.taker_fee == Decimal("0.001")

    def test_min_funds_stricter_than_cost_minimum_wins(self):
        """ccxt ignores KuCoin's minFunds; when it exceeds limits.cost.min it is the minimum."""
        market = kucoin_sol_usdt()
        market["info"]["minFunds"] = "1"
        assert MarketSpec.from_ccxt(market).min_notional == Decimal(1)

    def test_cost_minimum_stricter_than_min_funds_wins(self):
        """The larger of quoteMinSize and minFunds is kept, whichever it is."""
        market = kucoin_sol_usdt()
        market["limits"]["cost"]["min"] = 5.0
        assert MarketSpec.from_ccxt(market).min_notional == Decimal(5)

    def test_no_notional_minimum_at_all(self):
        """Without either minimum the spec has none (rather than an invented one)."""
        market = kucoin_sol_usdt()
        market["limits"]["cost"]["min"] = None
        del market["info"]["minFunds"]
        assert MarketSpec.from_ccxt(market).min_notional is None

    def test_missing_taker_fee_defaults_to_kucoin_base_rate(self):
        """A market without a taker fee uses 0.1 %, ccxt's and KuCoin's base rate."""
        market = kucoin_sol_usdt()
        market["taker"] = None
        assert MarketSpec.from_ccxt(market).taker_fee == Decimal("0.001")

    def test_string_increments_are_accepted(self):
        """Increments given as strings (other ccxt builds) are read exactly too."""
        market = kucoin_sol_usdt()
        market["precision"] = {"amount": "0.0001", "price": "0.05"}
        assert MarketSpec.from_ccxt(market).price_increment == Decimal("0.05")

    def test_tiny_float_increment_is_exact(self):
        """A float like 1e-08 (printed in exponent form) becomes exactly 1E-8."""
        market = kucoin_sol_usdt()
        market["precision"]["amount"] = 1e-08
        assert MarketSpec.from_ccxt(market).amount_increment == Decimal("1E-8")

    @pytest.mark.parametrize("field", ["price", "amount"])
    def test_missing_increment_is_refused(self, field):
        """Without the exchange's increment every size or price would be a guess."""
        market = kucoin_sol_usdt()
        market["precision"][field] = None
        with pytest.raises(MarketSpecError, match=f"precision.{field}"):
            MarketSpec.from_ccxt(market)

    def test_missing_precision_block_is_refused(self):
        """A market dict with no precision at all is refused with a MarketSpecError."""
        market = kucoin_sol_usdt()
        del market["precision"]
        with pytest.raises(MarketSpecError, match="SOL/USDT"):
            MarketSpec.from_ccxt(market)

    @pytest.mark.parametrize("value", [0.0, -0.01, "nan", "abc", True], ids=repr)
    def test_unusable_increment_is_refused(self, value):
        """Zero, negative, NaN, text and bool increments are refused as MarketSpecErrors."""
        market = kucoin_sol_usdt()
        market["precision"]["price"] = value
        with pytest.raises(MarketSpecError):
            MarketSpec.from_ccxt(market)

    @pytest.mark.parametrize("field", ["price", "amount"])
    @pytest.mark.parametrize("value", ["1e-100", "1E-31", 1e-100], ids=repr)
    def test_increment_below_1e_30_is_refused(self, field, value):
        """A tick of 1e-100 used to be accepted and made round_price raise a bare decimal error."""
        market = kucoin_sol_usdt()
        market["precision"][field] = value
        with pytest.raises(MarketSpecError, match="1E-30"):
            MarketSpec.from_ccxt(market)

    def test_increment_of_exactly_1e_30_is_accepted(self):
        """The documented bound itself is a valid increment."""
        market = kucoin_sol_usdt()
        market["precision"]["price"] = "1E-30"
        assert MarketSpec.from_ccxt(market).price_increment == Decimal("1e-30")

    @pytest.mark.parametrize(
        "market", [None, "SOL/USDT", 42, ["SOL/USDT"], b"{}", object()], ids=stable_id
    )
    def test_anything_but_a_dict_is_refused(self, market):
        """from_ccxt(None) raised a bare AttributeError."""
        with pytest.raises(MarketSpecError, match="market must be a ccxt market dict"):
            MarketSpec.from_ccxt(market)

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            (("precision",), "0.01"),
            (("precision",), [0.01]),
            (("limits",), "junk"),
            (("limits", "amount"), 5),
            (("limits", "cost"), ["0.1"]),
            (("info",), "junk"),
            (("id",), None),
            (("id",), 7),
            (("base",), ""),
            (("quote",), None),
            (("symbol",), None),
        ],
        ids=repr,
    )
    def test_malformed_sections_are_refused(self, path, value):
        """Junk inside the dict is a MarketSpecError too, never a bare exception."""
        market = kucoin_sol_usdt()
        target = market
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(MarketSpecError, match=path[-1]):
            MarketSpec.from_ccxt(market)

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            (("limits", "cost", "min"), -5.0),
            (("info", "minFunds"), "-0.1"),
            (("limits", "cost", "min"), "NaN"),
            (("info", "minFunds"), "nan"),
            (("limits", "amount", "min"), -0.01),
            (("limits", "amount", "max"), -1.0),
            (("limits", "cost", "max"), "-1"),
            (("info", "quoteIncrement"), "-0.000001"),
        ],
        ids=repr,
    )
    def test_negative_or_nan_limits_are_refused_even_when_another_is_valid(self, path, value):
        """A negative limits.cost.min was hidden by a valid minFunds (the larger was kept)."""
        market = kucoin_sol_usdt()
        target = market
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(MarketSpecError, match=path[-1]):
            MarketSpec.from_ccxt(market)

    def test_decimal_places_precision_mode_is_refused(self):
        """In DECIMAL_PLACES mode '2' means two decimals; reading it as a tick is refused."""
        with pytest.raises(MarketSpecError, match="precisionMode"):
            MarketSpec.from_ccxt(kucoin_sol_usdt(), precision_mode=2)

    def test_source_dict_is_not_modified(self):
        """Building a spec leaves ccxt's market dict untouched."""
        market = kucoin_sol_usdt()
        MarketSpec.from_ccxt(market)
        assert market == kucoin_sol_usdt()


class TestMarketSpec:
    def test_is_frozen(self):
        """A spec cannot be changed after it is built (it is shared across orders)."""
        spec = sol_usdt()
        with pytest.raises(AttributeError):
            spec.price_increment = Decimal("0.1")  # type: ignore[misc]

    def test_notional_is_amount_times_price(self):
        """0.6396 SOL at 87.36 is worth 55.875456 USDT (87.36*0.64 - 87.36*0.0004)."""
        assert sol_usdt().notional(Decimal("0.6396"), Decimal("87.36")) == Decimal("55.875456")

    @pytest.mark.parametrize(
        "value",
        [
            Decimal(0),
            Decimal(-1),
            Decimal("NaN"),
            Decimal("Infinity"),
            Decimal("1e-100"),
            0.01,
            "0.01",
            None,
        ],
        ids=repr,
    )
    def test_direct_construction_refuses_unusable_increments(self, value):
        """Increments must be positive finite Decimals even when the spec is built by hand."""
        with pytest.raises(MarketSpecError):
            MarketSpec(
                symbol="X/Y",
                market_id="X-Y",
                base="X",
                quote="Y",
                price_increment=value,
                amount_increment=Decimal("0.1"),
            )

    @pytest.mark.parametrize(
        "value", [Decimal("-0.001"), Decimal(1), Decimal("NaN"), 0.001], ids=repr
    )
    def test_refuses_unusable_taker_fee(self, value):
        """A negative, >= 100 % or non-Decimal fee would let the sizer spend more than it has."""
        with pytest.raises(MarketSpecError):
            MarketSpec(
                symbol="X/Y",
                market_id="X-Y",
                base="X",
                quote="Y",
                price_increment=Decimal("0.01"),
                amount_increment=Decimal("0.1"),
                taker_fee=value,
            )

    @pytest.mark.parametrize("value", [Decimal(-1), Decimal("NaN"), 1.0], ids=repr)
    def test_refuses_unusable_limits(self, value):
        """Limits must be non-negative finite Decimals or None."""
        with pytest.raises(MarketSpecError):
            MarketSpec(
                symbol="X/Y",
                market_id="X-Y",
                base="X",
                quote="Y",
                price_increment=Decimal("0.01"),
                amount_increment=Decimal("0.1"),
                min_notional=value,
            )

    def test_negative_taker_from_ccxt_is_refused(self):
        """A negative taker fee in the market data is refused rather than used for sizing."""
        market = kucoin_sol_usdt()
        market["taker"] = -0.5
        with pytest.raises(MarketSpecError, match="taker"):
            MarketSpec.from_ccxt(market)


def test_smallest_amount_is_the_minimum_size_and_at_least_one_increment():
    spec = sol_usdt()
    assert spec.smallest_amount == spec.min_amount == Decimal("0.01")
    no_minimum = attrs.evolve(spec, min_amount=None)
    assert no_minimum.smallest_amount == spec.amount_increment == Decimal("0.0001")
    below_a_step = attrs.evolve(spec, min_amount=Decimal("0.00001"))
    assert below_a_step.smallest_amount == Decimal("0.0001")
