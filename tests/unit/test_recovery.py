"""safetrade.recovery: an order's purpose from its clientOid first, KuCoin's trigger second."""

from __future__ import annotations

from decimal import Decimal

import pytest

from safetrade.builder import OrderPurpose, new_client_oid
from safetrade.gateway import OrderStatus
from safetrade.recovery import covered_by_purpose, describe, match_positions, purpose_of


def _stop(
    oid: str | None, trigger: str | None, amount: str = "1", side: str = "sell"
) -> OrderStatus:
    return OrderStatus(
        order_id=f"id-{oid}-{trigger}-{amount}", client_oid=oid, symbol="SOL/USDT", side=side,
        order_type="market", status="open", amount=Decimal(amount), filled=Decimal(0),
        average=None, trigger_price=Decimal(90), trigger=trigger,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("oid", "trigger", "purpose"),
    [
        (new_client_oid(OrderPurpose.STOP_LOSS), "loss", OrderPurpose.STOP_LOSS),
        (new_client_oid(OrderPurpose.TAKE_PROFIT), "entry", OrderPurpose.TAKE_PROFIT),
        # the clientOid says what safetrade sent it for, whatever the trigger reads
        (new_client_oid(OrderPurpose.STOP_LOSS), "entry", OrderPurpose.STOP_LOSS),
        (new_client_oid(OrderPurpose.TAKE_PROFIT), "loss", OrderPurpose.TAKE_PROFIT),
        # an entry or flatten order of safetrade's is no protection
        (new_client_oid(OrderPurpose.ENTRY), "loss", None),
        (new_client_oid(OrderPurpose.FLATTEN), "entry", None),
        # placed by hand (Feb 6): read from KuCoin's trigger direction
        ("by-hand-1", "loss", OrderPurpose.STOP_LOSS),
        (None, "entry", OrderPurpose.TAKE_PROFIT),
        ("by-hand-2", None, None),
    ],
)
def test_purpose(oid: str | None, trigger: str | None, purpose: OrderPurpose | None) -> None:
    assert purpose_of(_stop(oid, trigger)) is purpose


def test_a_buy_stop_protects_no_long_position() -> None:
    assert purpose_of(_stop(new_client_oid(OrderPurpose.STOP_LOSS), "loss", side="buy")) is None


def test_coverage_and_pairing_follow_the_clientoid() -> None:
    loss = _stop(new_client_oid(OrderPurpose.STOP_LOSS), "entry", "2")  # odd trigger, our oid
    target = _stop(new_client_oid(OrderPurpose.TAKE_PROFIT), "loss", "2")
    hand = _stop("mine", "loss", "0.5")
    covered = covered_by_purpose([loss, target, hand])
    assert covered == {OrderPurpose.STOP_LOSS: Decimal("2.5"), OrderPurpose.TAKE_PROFIT: 2}
    kept, orphans, bare = match_positions([], [loss, target, hand], Decimal("2.5"))
    assert kept == [(loss, target), (hand, None)]
    assert (orphans, bare) == ([], 0)
    assert describe(loss).startswith("stop-loss id-")
