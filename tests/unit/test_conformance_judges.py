"""The conformance judge of a position after a fault: protected, sold, or halted."""

from __future__ import annotations

from decimal import Decimal

from safetrade.certification.conformance.judges import (
    protected_after_fill,
    protected_sold_or_halted,
    second_entry_refused,
)
from safetrade.certification.conformance.observe import Position

D = Decimal
SMALLEST = D("0.01")  # SOL-USDT's smallest order


def _position(held: str, stop_loss: str) -> Position:
    live = (f"stop-loss {stop_loss} SOL @ 85.61",) if D(stop_loss) else ()
    return Position(D(held), D(stop_loss), D(0), live, SMALLEST)


def test_a_covered_position_passes_whatever_the_bot_did_next() -> None:
    covered = _position("1.4065", "1.4065")
    finding = protected_sold_or_halted(covered, covered, 1, halted=None, after="after the fault")
    assert finding.passed
    assert finding.control == "protective-orders"


def test_bare_coins_and_no_new_entry_is_no_halt_a_do_nothing_bot_fails() -> None:
    # MAX_OPEN_POSITIONS=1 blocks the further entry anyway: sending none proves nothing
    bare = _position("0.5863", "0")
    finding = protected_sold_or_halted(bare, bare, 0, halted=None, after="after the fault")
    assert not finding.passed
    assert finding.detail.startswith(
        "stop-loss rejected, then 0.5863 SOL held unprotected for the rest of the run: "
        "no stop, no sale, no halt"
    )


def test_bare_coins_pass_only_with_the_kill_switch_engaged_and_no_new_entry() -> None:
    bare = _position("1.4065", "0")
    reason = "SOL/USDT: stop-loss rejected; could not sell"
    halted = protected_sold_or_halted(bare, bare, 0, halted=reason, after="after the fault")
    assert halted.passed
    assert halted.detail.startswith(f"halted: the kill switch is engaged ({reason})")
    entering = protected_sold_or_halted(bare, bare, 2, halted=reason, after="after the fault")
    assert not entering.passed
    assert "the bot sent 2 new entry(ies) after a further signal" in entering.detail


def test_bare_within_the_budget_and_sold_only_later_fails() -> None:
    late = protected_sold_or_halted(
        _position("1.4065", "0"), _position("0", "0"), 0, halted=None, after="within 3 ticks"
    )
    assert not late.passed
    assert late.detail.startswith("1.4065 SOL unprotected within 3 ticks")
    dropped = protected_sold_or_halted(
        _position("1.4065", "1.4065"), _position("1.4065", "0"), 0, halted=None, after="x"
    )
    assert not dropped.passed
    assert "not at the end of the run" in dropped.detail


def test_stops_covering_more_than_is_held_fail_even_when_the_bot_halted() -> None:
    # a duplicate stop-loss would sell the next position's coins: halting does not excuse it
    double = _position("1.4065", "2.8130")
    finding = protected_sold_or_halted(double, double, 0, halted="halt", after="after the fault")
    assert not finding.passed
    assert "cover more than is held" in finding.detail


def test_a_fill_sold_at_once_without_any_stop_loss_fails_the_fault_free_run() -> None:
    flat = _position("0", "0")
    sold = protected_after_fill(
        flat, bought=D("0.5863"), stop_losses_created=D(0), sells=(), after="within 3 ticks"
    )
    assert not sold.passed
    assert sold.detail.startswith(
        "bought 0.5863 SOL with no fault injected, but no stop-loss covering them was ever live"
    )
    fired = protected_after_fill(
        flat, bought=D("0.5863"), stop_losses_created=D("0.5863"), sells=(), after="x"
    )
    assert fired.passed


def test_max_open_positions_is_not_passed_nor_blamed_when_the_account_was_flat() -> None:
    flat = second_entry_refused(_position("0", "0"), 1, 2)
    assert not flat.passed
    assert flat.detail.startswith("not tested: the account held 0 SOL (flat")
    assert "one position open" not in flat.detail
    held = second_entry_refused(_position("0.5863", "0.5863"), 1, 1)
    assert held.passed
    assert held.detail.endswith("MAX_OPEN_POSITIONS=1 and 0.5863 SOL held")
