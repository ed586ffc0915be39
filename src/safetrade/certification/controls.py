"""The controls a certification can evidence, with what each does and where it is anchored.

Scenarios name controls with Gherkin tags ``@control-<name>``; the report's controls matrix
joins these tags with this table. Anchors are paraphrased references, not quotations:
RTS 6 is Commission Delegated Regulation (EU) 2017/589; "15c3-5" is the SEC Market Access Rule.
"""

from __future__ import annotations

import attrs

__all__ = ["CONTROLS", "Control", "describe"]


@attrs.frozen
class Control:
    """One pre-trade, protection, kill or governance control."""

    name: str
    kind: str
    description: str
    anchors: tuple[str, ...]


CONTROLS: dict[str, Control] = {
    c.name: c
    for c in (
        Control(
            "price-collar",
            "pre-trade",
            "Orders priced too far from the reference price (or with no usable reference) are "
            "refused before sending.",
            ("RTS 6 art. 15(1)(a) price collars", "SEC 15c3-5(c)(1)(ii) erroneous orders (price)"),
        ),
        Control(
            "max-order-value",
            "pre-trade",
            "An order's notional value above the configured maximum is refused.",
            ("RTS 6 art. 15(1)(b) maximum order value", "SEC 15c3-5(c)(1)(ii) erroneous orders"),
        ),
        Control(
            "position-sizing",
            "pre-trade",
            "Size follows from free balance, stop distance and risk; never more than sized.",
            ("RTS 6 art. 15(1)(c) maximum order volume", "SEC 15c3-5(c)(1)(i) credit threshold"),
        ),
        Control(
            "balance-check",
            "pre-trade",
            "The exchange's free balance is the source of truth; a configured balance that "
            "disagrees with it refuses the trade.",
            ("SEC 15c3-5(c)(1)(i) pre-set credit/capital thresholds",),
        ),
        Control(
            "max-open-positions",
            "pre-trade",
            "No new position once the configured number of open positions is reached.",
            (
                "RTS 6 art. 8 deployment limits (strategy positions)",
                "RTS 6 art. 17 position limits",
            ),
        ),
        Control(
            "signal-threshold",
            "pre-trade",
            "Signals below the configured strength threshold never become orders.",
            ("RTS 6 art. 5(4) no unintended behaviour",),
        ),
        Control(
            "rounding",
            "pre-trade",
            "Amounts and prices are put on the market's increments in a documented direction; "
            "minimum size and funds are re-checked after rounding.",
            ("SEC 15c3-5(c)(1)(ii) erroneous orders (size)", "RTS 6 art. 6 venue conformance"),
        ),
        Control(
            "protective-orders",
            "protection",
            "After a fill, stop-loss and take-profit are placed and read back from the exchange; "
            "if that fails the position is flattened, else trading halts.",
            ("RTS 6 art. 17 post-trade controls", "RTS 6 art. 15 pre-trade controls (loss limits)"),
        ),
        Control(
            "kill-switch",
            "kill",
            "A kill switch blocks new risk-increasing orders until explicitly re-enabled.",
            ("RTS 6 art. 12 kill functionality", "FIA automated trading guide §1.11"),
        ),
        Control(
            "config-strict",
            "governance",
            "Money-critical settings have no silent defaults; unknown and near-miss keys are "
            "refused at load.",
            ("RTS 6 art. 8 predefined limits", "Knight Capital 2012: repurposed flag"),
        ),
        Control(
            "paper-venue",
            "testing",
            "Paper mode trades on a local venue with KuCoin's rules and error codes on KuCoin's "
            "public prices; nothing is signed or sent to the exchange; orders, rejections and "
            "bare positions are journaled with the code digest, and certify can require paper "
            "time of the same code.",
            (
                "RTS 6 art. 7 testing environment separated from production",
                "RTS 6 art. 5(4) tests before deployment",
            ),
        ),
        Control(
            "code-binding",
            "governance",
            "Live mode starts only with a signed certification matching the running code and "
            "config schema.",
            (
                "RTS 6 art. 5(5) re-test after change",
                "RTS 6 art. 11",
                "Knight Capital 2012: stale server",
            ),
        ),
    )
}


def describe(name: str) -> Control:
    """Return the table entry for ``name``, or a placeholder saying it is undocumented."""
    return CONTROLS.get(
        name,
        Control(
            name,
            "unknown",
            "No description: add this control to safetrade.certification.controls.",
            (),
        ),
    )
