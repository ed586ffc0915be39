"""The conformance judge of a position after a fault: protected, sold, or halted."""

from __future__ import annotations

from decimal import Decimal

from safetrade.certification.conformance.judges import protected_sold_or_halted
from safetrade.certification.conformance.observe import Position

D = Decimal
SMALLEST = D("0.01")  # SOL-USDT's smallest order


def _position(held: str, stop_loss: str) -> Position:
    live = (f"stop-loss {stop_loss} SOL @ 85.61",) if D(stop_loss) else ()
    return Position(D(held), D(stop_loss), D(0), live, SMALLEST)


def test_a_covered_position_passes_whatever_the_bot_did_next() -> None:
    finding = protected_sold_or_halted(_position("1.4065", "1.4065"), 1, after="after the fault")
    assert finding.passed
    assert finding.control == "protective-orders"


def test_bare_coins_pass_only_while_the_bot_sends_no_new_entry() -> None:
    bare = _position("1.4065", "0")
    halted = protected_sold_or_halted(bare, 0, after="after the fault")
    assert halted.passed
    assert halted.detail.startswith("halted: no new entry after a further signal; 1.4065 SOL held")
    entering = protected_sold_or_halted(bare, 2, after="after the fault")
    assert not entering.passed
    assert entering.detail.endswith("the bot sent 2 new entry(ies) after a further signal")


def test_stops_covering_more_than_is_held_fail_even_when_the_bot_halted() -> None:
    # a duplicate stop-loss would sell the next position's coins: halting does not excuse it
    finding = protected_sold_or_halted(_position("1.4065", "2.8130"), 0, after="after the fault")
    assert not finding.passed
    assert "cover more than is held" in finding.detail
