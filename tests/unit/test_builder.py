"""Unit tests for safetrade.builder: validated orders and their exact ccxt arguments."""

from __future__ import annotations

import re
from decimal import Decimal

import attrs
import pytest

from safetrade import (
    InvalidValue,
    MarketSpec,
    OrderBuildError,
    OrderIntent,
    OrderPurpose,
    PositionSide,
    SafetradeError,
    SizingError,
    entry_order,
    flatten_order,
    new_client_oid,
    plan_trade,
    stop_loss_order,
    take_profit_order,
    to_ccxt,
)
from tests.strategies import sol_usdt

D = Decimal
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
OID = "st-test-1"


def tiny_tick_market():
    """A meme-coin market: prices around 1e-6 on a 1e-7 tick, whole-coin amounts."""
    return MarketSpec(
        symbol="PEPE/USDT",
        market_id="PEPE-USDT",
        base="PEPE",
        quote="USDT",
        price_increment=D("1E-7"),
        amount_increment=D(1),
        min_amount=D(1),
        min_notional=D("0.1"),
    )


def long_stop(**overrides):
    kwargs = {
        "side": LONG,
        "amount": D("0.6396"),
        "stop_price": D("85.61"),
        "entry_price": D("87.36"),
        "client_oid": OID,
    }
    kwargs.update(overrides)
    return stop_loss_order(sol_usdt(), **kwargs)


def long_tp(**overrides):
    kwargs = {
        "side": LONG,
        "amount": D("0.6396"),
        "target_price": D("90.1353"),
        "entry_price": D("87.36"),
        "client_oid": OID,
    }
    kwargs.update(overrides)
    return take_profit_order(sol_usdt(), **kwargs)


def incident_plan(**overrides):
    kwargs = {
        "side": LONG,
        "free_balance": D(123),
        "entry_price": D("87.36"),
        "stop_price": D("85.61"),
        "risk_percent": D(1),
        "take_profit_price": D("90.1353"),
        "client_oid": "st-entry-1",
    }
    kwargs.update(overrides)
    return plan_trade(sol_usdt(), **kwargs)


class TestToCcxt:
    def test_long_stop_loss_arguments_are_exact(self):
        """Feb 6's stop-loss failed on a guessed signature; these are create_order's real args.

        A long's stop is a market sell on KuCoin's stop-order endpoint, firing at or below the
        trigger (stop="loss"), with all numbers as decimal strings.
        """
        call = to_ccxt(long_stop())
        assert call.args() == (
            "SOL/USDT",
            "market",
            "sell",
            "0.6396",
            None,
            {"clientOid": OID, "stopPrice": "85.61", "stop": "loss"},
        )

    def test_long_take_profit_arguments_are_exact(self):
        """A long's TP is a market sell firing at or above 90.13 (stop="entry"), rounded down."""
        call = to_ccxt(long_tp())
        assert call.args() == (
            "SOL/USDT",
            "market",
            "sell",
            "0.6396",
            None,
            {"clientOid": OID, "stopPrice": "90.13", "stop": "entry"},
        )

    def test_short_protection_mirrors(self):
        """A short's stop buys at or above (stop="entry") and its TP buys at or below ("loss")."""
        sl = to_ccxt(
            stop_loss_order(
                sol_usdt(),
                side=SHORT,
                amount=D("0.6384"),
                stop_price=D("89.119"),
                entry_price=D("87.36"),
                client_oid=OID,
            )
        )
        tp = to_ccxt(
            take_profit_order(
                sol_usdt(),
                side=SHORT,
                amount=D("0.6384"),
                target_price=D("84.001"),
                entry_price=D("87.36"),
                client_oid=OID,
            )
        )
        # short SL rounds down toward entry (89.119 -> 89.11); short TP up (84.001 -> 84.01)
        assert sl.args() == (
            "SOL/USDT",
            "market",
            "buy",
            "0.6384",
            None,
            {"clientOid": OID, "stopPrice": "89.11", "stop": "entry"},
        )
        assert tp.args() == (
            "SOL/USDT",
            "market",
            "buy",
            "0.6384",
            None,
            {"clientOid": OID, "stopPrice": "84.01", "stop": "loss"},
        )

    def test_market_entry_has_no_price_and_no_stop(self):
        """A long market entry buys with only the idempotency key as a parameter."""
        intent = entry_order(
            sol_usdt(), side=LONG, amount=D("0.6396"), reference_price=D("87.36"), client_oid=OID
        )
        assert to_ccxt(intent).args() == (
            "SOL/USDT",
            "market",
            "buy",
            "0.6396",
            None,
            {"clientOid": OID},
        )

    def test_limit_entry_rounds_its_price_down_for_a_long(self):
        """A long limit at 87.367 becomes 87.36: never pay more than asked."""
        intent = entry_order(
            sol_usdt(),
            side=LONG,
            amount=D("0.6396"),
            reference_price=D("87.36"),
            limit_price=D("87.367"),
            client_oid=OID,
        )
        call = to_ccxt(intent)
        assert (call.type, call.side, call.price) == ("limit", "buy", "87.36")
        assert intent.notes
        assert "87.367" in intent.notes[0]

    def test_tiny_tick_numbers_are_plain_fixed_point(self):
        """A stop at 9E-7 on a 1e-7 tick went to ccxt as '9E-7', an amount of 2E+5 as '2E+5'."""
        market = tiny_tick_market()
        stop = stop_loss_order(
            market,
            side=LONG,
            amount=D("2E+5"),
            stop_price=D("9E-7"),
            entry_price=D("0.0000012"),
            client_oid=OID,
        )
        entry = entry_order(
            market,
            side=LONG,
            amount=D("2E+5"),
            reference_price=D("0.0000012"),
            limit_price=D("1.1E-6"),
            client_oid=OID,
        )
        assert to_ccxt(stop).args() == (
            "PEPE/USDT",
            "market",
            "sell",
            "200000",
            None,
            {"clientOid": OID, "stopPrice": "0.0000009", "stop": "loss"},
        )
        assert to_ccxt(entry).args()[3:5] == ("200000", "0.0000011")

    def test_args_returns_a_copy_of_params(self):
        """Mutating the returned params cannot change the frozen call."""
        call = to_ccxt(long_stop())
        call.args()[5]["stop"] = "entry"
        assert call.params["stop"] == "loss"

    def test_trigger_without_kind_is_refused(self):
        """An intent with a trigger price but no trigger kind never becomes a call (or intent)."""
        with pytest.raises(OrderBuildError, match="no trigger kind"):
            to_ccxt(attrs.evolve(long_stop(), trigger=None))

    def test_limit_without_price_is_refused(self):
        """A limit order with no price never becomes a call (or intent)."""
        with pytest.raises(OrderBuildError, match="without a price"):
            to_ccxt(attrs.evolve(long_stop(), order_type="limit", trigger_price=None, trigger=None))


class TestProtectiveValidation:
    def test_long_stop_above_entry_is_refused(self):
        """A long's stop at 88 (above entry 87.36) would fire at once and is refused."""
        with pytest.raises(OrderBuildError, match="not below the entry"):
            long_stop(stop_price=D(88))

    def test_long_stop_at_entry_is_refused(self):
        """A stop exactly at the entry protects nothing and is refused."""
        with pytest.raises(OrderBuildError):
            long_stop(stop_price=D("87.36"))

    def test_long_stop_rounding_onto_entry_is_refused(self):
        """87.355 rounds up to 87.36 = entry, so it is refused after rounding."""
        with pytest.raises(OrderBuildError):
            long_stop(stop_price=D("87.355"))

    def test_long_take_profit_below_entry_is_refused(self):
        """A long's TP at 86 (below entry) is refused."""
        with pytest.raises(OrderBuildError, match="not above the entry"):
            long_tp(target_price=D(86))

    def test_long_take_profit_rounding_onto_entry_is_refused(self):
        """87.369 rounds down to 87.36 = entry and is refused."""
        with pytest.raises(OrderBuildError):
            long_tp(target_price=D("87.369"))

    def test_short_stop_below_entry_is_refused(self):
        """A short's stop below its entry is refused."""
        with pytest.raises(OrderBuildError, match="not above the entry"):
            long_stop(side=SHORT, stop_price=D(85))

    @pytest.mark.parametrize("amount", [D(0), D("-0.6396")], ids=str)
    def test_zero_or_negative_size_is_refused(self, amount):
        """A zero or negative size is refused before anything else."""
        with pytest.raises(InvalidValue):
            long_stop(amount=amount)

    def test_off_grid_size_is_refused(self):
        """0.63961 SOL is not a multiple of 0.0001 and is refused (KuCoin would reject it)."""
        with pytest.raises(OrderBuildError, match="increment"):
            long_stop(amount=D("0.63961"))

    def test_below_min_amount_is_refused(self):
        """0.0099 SOL is on the grid but below baseMinSize 0.01."""
        with pytest.raises(OrderBuildError, match="below SOL/USDT's minimum"):
            long_stop(amount=D("0.0099"))

    def test_above_max_amount_is_refused(self):
        """An amount above baseMaxSize is refused."""
        market = attrs.evolve(sol_usdt(), max_amount=D(1))
        with pytest.raises(OrderBuildError, match="maximum"):
            stop_loss_order(
                market,
                side=LONG,
                amount=D(2),
                stop_price=D("85.61"),
                entry_price=D("87.36"),
                client_oid=OID,
            )

    def test_below_min_funds_at_the_stop_price_is_refused(self):
        """With minFunds 55, 0.6396 SOL is worth 55.88 at entry but 54.76 at the 85.61 stop.

        0.6396 * 85.61 = 54.756156 < 55: KuCoin would reject the stop only when it triggers,
        leaving the position unprotected, so it is refused up front.
        """
        market = attrs.evolve(sol_usdt(), min_notional=D(55))
        with pytest.raises(OrderBuildError, match="minimum order value"):
            stop_loss_order(
                market,
                side=LONG,
                amount=D("0.6396"),
                stop_price=D("85.61"),
                entry_price=D("87.36"),
                client_oid=OID,
            )
        entry = entry_order(
            market, side=LONG, amount=D("0.6396"), reference_price=D("87.36"), client_oid=OID
        )
        assert entry.amount == D("0.6396")

    @pytest.mark.parametrize(
        "oid", ["", "a" * 41, "has space", "bad/slash", "ünïcode", "semi;colon"], ids=repr
    )
    def test_invalid_client_oid_is_refused(self, oid):
        """KuCoin takes 1-40 letters, digits, '_' or '-'; anything else is refused."""
        with pytest.raises(OrderBuildError, match="client order id"):
            long_stop(client_oid=oid)

    def test_forty_character_client_oid_is_accepted(self):
        """Exactly 40 allowed characters is valid."""
        assert long_stop(client_oid="a-" * 20).client_oid == "a-" * 20


class TestIntent:
    def test_describe(self):
        """describe() reads like 'stop-loss sell 0.6396 SOL/USDT @ trigger 85.61 (loss)'."""
        assert long_stop().describe() == "stop-loss sell 0.6396 SOL/USDT @ trigger 85.61 (loss)"

    def test_is_stop_order(self):
        """Protective orders go to the stop-order endpoint; entries do not."""
        entry = entry_order(
            sol_usdt(), side=LONG, amount=D("0.6396"), reference_price=D("87.36"), client_oid=OID
        )
        assert long_stop().is_stop_order
        assert not entry.is_stop_order

    def test_unknown_side_is_refused(self):
        """An OrderIntent side must be buy or sell."""
        with pytest.raises(OrderBuildError, match="side"):
            OrderIntent(
                symbol="SOL/USDT",
                purpose=OrderPurpose.ENTRY,
                side="long",
                order_type="market",
                amount=D(1),
                client_oid=OID,
            )

    BAD_FIELDS = (
        ("symbol", ""),
        ("symbol", None),
        ("purpose", "entry"),
        ("side", "hold"),
        ("side", None),
        ("order_type", "stop"),
        ("order_type", ["market"]),
        ("amount", D(0)),
        ("amount", D(-1)),
        ("amount", D("NaN")),
        ("amount", 0.5),
        ("amount", "0.5"),
        ("amount", None),
        ("limit_price", D("-87.36")),
        ("limit_price", 87.36),
        ("trigger_price", D("Infinity")),
        ("trigger_price", "85.61"),
        ("trigger", "stop"),
        ("trigger", 1),
        ("client_oid", 123),
        ("client_oid", None),
        ("client_oid", "has space"),
        ("notes", "a note"),
        ("notes", (1,)),
    )

    @pytest.mark.parametrize(("field", "value"), BAD_FIELDS, ids=repr)
    def test_every_field_is_validated_with_order_build_error(self, field, value):
        """OrderIntent(side="hold") raised attrs' plain ValueError; every field is checked."""
        with pytest.raises(OrderBuildError) as info:
            attrs.evolve(long_stop(), **{field: value})
        assert field.split("_")[0] in str(info.value)

    @pytest.mark.parametrize(
        "changes",
        [
            {"trigger": None},
            {"trigger_price": None},
            {"order_type": "limit"},
            {"limit_price": D("87.36")},
        ],
        ids=repr,
    )
    def test_inconsistent_fields_are_refused_at_construction(self, changes):
        """Trigger price and kind come together; a limit price exactly for limit orders."""
        with pytest.raises(OrderBuildError):
            attrs.evolve(long_stop(), **changes)


class TestClientOid:
    @pytest.mark.parametrize("purpose", list(OrderPurpose), ids=lambda p: p.value)
    def test_fresh_ids_are_valid_and_unique(self, purpose):
        """new_client_oid gives KuCoin-valid, distinct ids that name their purpose."""
        first, second = new_client_oid(purpose), new_client_oid(purpose)
        assert first != second
        for oid in (first, second):
            assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", oid)
            assert purpose.value in oid


class TestFlatten:
    def test_flatten_rounds_down_and_skips_minimums(self):
        """An emergency exit of 0.005 SOL (below the 0.01 minimum) is still built, rounded down."""
        intent = flatten_order(sol_usdt(), side=LONG, amount=D("0.00509"), client_oid=OID)
        assert intent.amount == D("0.0050")
        assert (intent.side, intent.order_type) == ("sell", "market")

    def test_flatten_short_buys_back(self):
        """Flattening a short is a market buy."""
        assert flatten_order(sol_usdt(), side=SHORT, amount=D(1), client_oid=OID).side == "buy"


class TestPlanTrade:
    def test_incident_plan_never_sizes_394_dollars(self):
        """With the exchange's real $123 the plan buys 0.6396 SOL = 55.875456 USDT <= 123.

        See test_sizer: risk per SOL 1.92297, budget 1.23, floor(1.23/1.92297, 0.0001)=0.6396.
        """
        plan = incident_plan()
        assert plan.entry.amount == D("0.6396")
        assert plan.size.notional <= D(123)
        assert plan.size.notional == D("55.875456")
        assert to_ccxt(plan.entry).args()[:5] == ("SOL/USDT", "market", "buy", "0.6396", None)

    def test_incident_plan_rounds_the_protective_prices(self):
        """The plan carries TP 90.13 (rounded down from 90.1353) and the stop 85.61."""
        plan = incident_plan()
        assert plan.take_profit_price == D("90.13")
        assert plan.stop_loss_price == D("85.61")

    def test_plan_without_take_profit(self):
        """A take-profit is optional."""
        assert incident_plan(take_profit_price=None).take_profit_price is None

    def test_plan_refuses_wrong_side_take_profit(self):
        """A long TP below the entry is refused before any order exists."""
        with pytest.raises(OrderBuildError):
            incident_plan(take_profit_price=D(80))

    def test_plan_refuses_undersized_balance(self):
        """$1 cannot fund a valid position; the plan says so instead of enlarging it."""
        with pytest.raises(SizingError):
            incident_plan(free_balance=D(1))

    def test_plan_keeps_the_signal(self):
        """The signal strength is carried to the guard."""
        assert incident_plan(signal_strength=D("0.099")).signal_strength == D("0.099")

    @pytest.mark.parametrize("signal", [D("NaN"), D("Infinity"), 0.5, "abc"], ids=repr)
    def test_plan_refuses_unusable_signal(self, signal):
        """A NaN, infinite, float or text signal is refused, not passed on to the guard."""
        with pytest.raises(SafetradeError):
            incident_plan(signal_strength=signal)


WRONG_SIDES = ["long", "short", "buy", "LONG", None, 1, OrderPurpose.ENTRY]


class TestEnumArguments:
    """Text or other junk where an enum member belongs is refused, never silently used."""

    @pytest.mark.parametrize("side", WRONG_SIDES, ids=repr)
    def test_every_builder_refuses_a_side_that_is_not_a_position_side(self, side):
        """side="long" on a long would have sold as if short (_exit_side compares with LONG)."""
        market = sol_usdt()
        calls = [
            lambda: entry_order(
                market, side=side, amount=D("0.6396"), reference_price=D("87.36"), client_oid=OID
            ),
            lambda: long_stop(side=side),
            lambda: long_tp(side=side),
            lambda: flatten_order(market, side=side, amount=D(1), client_oid=OID),
            lambda: incident_plan(side=side),
        ]
        for call in calls:
            with pytest.raises(InvalidValue, match="side must be a PositionSide") as info:
                call()
            assert "PositionSide.LONG" in info.value.fix

    def test_exact_enum_text_gets_a_conversion_hint(self):
        """The fix names PositionSide('long') when the text is a member's value."""
        with pytest.raises(InvalidValue, match=r"PositionSide\('long'\) converts"):
            long_stop(side="long")

    @pytest.mark.parametrize("purpose", ["entry", None, PositionSide.LONG], ids=repr)
    def test_new_client_oid_refuses_text_purpose(self, purpose):
        """new_client_oid("entry") raised a bare AttributeError."""
        with pytest.raises(InvalidValue, match=r"purpose must be an? OrderPurpose"):
            new_client_oid(purpose)

    def test_trade_plan_refuses_text_side(self):
        """A hand-built TradePlan cannot carry side="long" either."""
        plan = incident_plan()
        with pytest.raises(InvalidValue, match="side must be a PositionSide"):
            attrs.evolve(plan, side="long")


class TestImmediateLimitEntry:
    """A limit entry, immediate-or-cancel, at the price the position was sized from.

    A market buy on a thin book or a wide spread fills above the price it was sized at, and
    then loses more than RISK_PERCENT at the stop; an IOC limit at that price cannot.
    """

    def test_plan_trade_with_limit_entry_sends_an_ioc_limit_at_the_sized_price(self):
        plan = incident_plan(limit_entry=True)
        assert (plan.entry.order_type, plan.entry.limit_price) == ("limit", D("87.36"))
        assert plan.entry.time_in_force == "IOC"
        assert plan.entry.amount == plan.size.amount == D("0.6396")  # the same size
        assert plan.entry.describe() == "entry buy 0.6396 SOL/USDT @ 87.36 IOC"
        call = to_ccxt(plan.entry)
        assert call.args() == (
            "SOL/USDT",
            "limit",
            "buy",
            "0.6396",
            "87.36",
            {"clientOid": "st-entry-1", "timeInForce": "IOC"},
        )

    def test_an_off_tick_entry_price_is_limited_down_for_a_long_never_up(self):
        plan = incident_plan(entry_price=D("87.3699"), limit_entry=True)
        assert plan.entry.limit_price == D("87.36")  # fills no higher than it was sized at
        assert plan.size.entry_price == D("87.3699")

    def test_without_limit_entry_the_entry_stays_a_market_order(self):
        plan = incident_plan()
        assert (plan.entry.order_type, plan.entry.limit_price) == ("market", None)
        assert plan.entry.time_in_force is None
        assert "timeInForce" not in to_ccxt(plan.entry).params

    def test_entry_order_immediate_needs_a_limit_price(self):
        with pytest.raises(OrderBuildError, match="immediate-or-cancel entry needs a limit"):
            entry_order(
                sol_usdt(), side=LONG, amount=D("0.6396"), reference_price=D("87.36"),
                client_oid=OID, immediate=True,
            )  # fmt: skip
        intent = entry_order(
            sol_usdt(), side=LONG, amount=D("0.6396"), reference_price=D("87.36"),
            client_oid=OID, limit_price=D("87.36"), immediate=True,
        )  # fmt: skip
        assert intent.time_in_force == "IOC"

    def test_a_market_order_with_a_time_in_force_is_refused(self):
        with pytest.raises(OrderBuildError, match="market order with time in force IOC"):
            OrderIntent(
                symbol="SOL/USDT", purpose=OrderPurpose.ENTRY, side="buy", order_type="market",
                amount=D("0.6396"), client_oid=OID, time_in_force="IOC",
            )  # fmt: skip
        with pytest.raises(OrderBuildError):
            OrderIntent(
                symbol="SOL/USDT", purpose=OrderPurpose.ENTRY, side="buy", order_type="limit",
                amount=D("0.6396"), limit_price=D("87.36"), client_oid=OID, time_in_force="GTX",
            )  # fmt: skip
