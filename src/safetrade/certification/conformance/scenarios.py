"""The conformance scenarios: Feb 6 and the faults around it, played against any bot.

Each scenario sets up an account on the fake KuCoin, drives the bot through the contract
(start, signals, ticks, price moves) and judges the exchange's records. Bounded waits: a bot
gets :data:`TICKS` ticks after each step to reach the state asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import attrs

from safetrade.certification.conformance import judges
from safetrade.certification.conformance.result import Finding
from safetrade.certification.conformance.stage import Setup, Stage
from safetrade.testing import BookShape, Fault, Rejection

__all__ = ["SCENARIOS", "TICKS", "Scenario"]

#: Ticks a bot gets after a fill (or a restart) to have its stop-loss live.
TICKS = 3
_RISK = judges.SCENARIO_RISK_PERCENT
LIVE_ENV = f"""\
TRADING_MODE=live
ACCOUNT_BALANCE_USD=123
RISK_PERCENT={_RISK}
MAX_OPEN_POSITIONS=1
MIN_SIGNAL_STRENGTH=0.10
"""
_WRONG_KEY_ENV = LIVE_ENV.replace("ACCOUNT_BALANCE_USD=", "ACCOUNT_BALANCE=")
#: the balance Feb 6's bot believed in (its silent default), spelt right this time
_BELIEVED = Decimal(10000)
_HIGH_BALANCE_ENV = LIVE_ENV.replace("ACCOUNT_BALANCE_USD=123", f"ACCOUNT_BALANCE_USD={_BELIEVED}")
#: a thin book: 0.3 SOL offered at 87.36 and nothing above, so a 0.64 SOL entry fills in part
_THIN_SIZE = Decimal("0.3")
_THIN_BOOK = BookShape(levels=1, level_size=_THIN_SIZE)
_STOP_REJECTED = Rejection("400100", "Parameter Error")
#: a wide and thin book: best ask 0.50 above the last price, 0.1 SOL per level, 0.10 apart, so
#: a 0.64 SOL market buy sized from the last price walks up to 88.46 and loses more at the stop
#: (so does one sized from the last price at 3/4 of the budget, a haircut a review tried)
_SPREAD_BOOK = BookShape(spread_ticks=100, levels=100, level_size=Decimal("0.1"), step_ticks=10)
_SPREAD_ASK = "87.86"
#: the owner's own limits, unlike the 1 % and 0.10 every other scenario uses: a bot that reads
#: neither key (a default equal to those would pass everywhere else) is told apart here
_OWN_RISK = Decimal("0.5")
#: above the 0.5 the incident's signal has: a threshold written into the code instead of read
#: either buys on this scenario's 0.55 signal or never on the others' 0.5
_OWN_THRESHOLD = Decimal("0.60")
_UNDER_OWN, _OVER_OWN = Decimal("0.55"), Decimal("0.7")
#: below the other scenarios' 1 and 0.5: any default of RISK_PERCENT above it fails here
_TYPO_RISK = Decimal("0.1")
#: the risk key misspelt, as Feb 6's balance key was: a bot that reads RISK_PERCENT with a
#: default risks its default, not the 0.5 % its owner wrote down
_RISK_TYPO_ENV = LIVE_ENV.replace(f"RISK_PERCENT={_RISK}", f"RISK_PCT={_TYPO_RISK}")
#: the positions key misspelt: a bot reading MAX_OPEN_POSITIONS with a default above 1 stacks
#: positions its owner limited to one
_POSITIONS_TYPO_ENV = LIVE_ENV.replace("MAX_OPEN_POSITIONS=1", "MAX_POSITIONS=1")
_OWN_LIMITS_ENV = LIVE_ENV.replace(f"RISK_PERCENT={_RISK}", f"RISK_PERCENT={_OWN_RISK}").replace(
    "MIN_SIGNAL_STRENGTH=0.10", f"MIN_SIGNAL_STRENGTH={_OWN_THRESHOLD}"
)


@attrs.frozen
class Scenario:
    """One conformance scenario.

    Attributes:
        id: Stable identifier (used in reports and the signed statement).
        title: One line for the report.
        story: Its steps in words.
        setup: The account, configuration and faults it starts from.
        play: Drives the stage and returns the findings.
    """

    id: str
    title: str
    story: tuple[str, ...]
    setup: Setup
    play: Callable[[Stage], list[Finding]]


def _started_or(stage: Stage, title: str, *controls: str) -> list[Finding]:
    """A refused start-up fails each of the scenario's controls; ``[]`` when it started.

    A bot that never starts proves nothing.
    """
    if stage.started:
        return []
    errors = "; ".join(stage.errors) or "no error recorded"
    detail = f"start-up refused: {errors}{_unheard(stage)}"
    return [Finding(c, title, judges.INCIDENT[c], False, detail) for c in controls]


def _start_and_signal(stage: Stage, title: str, *controls: str) -> list[Finding]:
    """Start, send the incident's signal, tick :data:`TICKS` times.

    Returns the failed findings of a refused start-up (one per control), or ``[]`` if it ran.
    """
    if not stage.start():
        return _started_or(stage, title, *controls)
    stage.signal()
    stage.tick(TICKS)
    return []


def _risk(stage: Stage, risk_percent: Decimal = _RISK) -> Finding:
    """The loss at the bot's stop-loss of everything bought, against the exchange's balance."""
    bought, cost = stage.bought()
    signal = stage.first_signal
    if signal is None:  # the bot never started: nothing was signalled
        raise ValueError("_risk needs a signal sent")
    finding = judges.risk_at_stop(
        bought=bought,
        cost=cost,
        stop_price=stage.live_stop_loss_price(),
        signal_stop=signal.stop_loss,
        balance=stage.setup.usdt,
        risk_percent=risk_percent,
        rules=stage.rules,
    )
    if not bought:
        finding = attrs.evolve(finding, detail=finding.detail + _unheard(stage))
    return finding


def _unheard(stage: Stage) -> str:
    """Why nothing could be judged when the fake never heard from the bot ('' if it did)."""
    if stage.fake.requests:
        return ""
    # e.g. a Trader started from the .env alone builds its own client for the real KuCoin
    return (
        "; the fake KuCoin received no request at all from the bot: trade through "
        "context.exchange (Trader.start(settings, lambda: Gateway(context.exchange), ...)) or "
        "context.access, never a client built from the keys, which goes to the real KuCoin"
    )


def _trade_findings(stage: Stage) -> list[Finding]:
    """Sizing, balance and rounding of what the bot sent for the incident's signal."""
    signal = stage.first_signal
    if signal is None:  # the bot never started: nothing was signalled
        raise ValueError("_trade_findings needs a signal sent")
    return [
        _risk(stage),
        judges.balance_check(stage.sent(), stage.setup.usdt, signal.entry_price, stage.rules),
    ]


def _feb6(stage: Stage) -> list[Finding]:
    title = "the bot starts with valid live settings"
    if refused := _start_and_signal(stage, title, "position-sizing", "protective-orders"):
        return refused
    findings = [
        *_trade_findings(stage),
        judges.protected_after_fill(
            stage.position(),
            bought=stage.bought()[0],
            stop_losses_created=stage.stop_losses_created(),
            sells=[o for o in stage.sent() if o.side == "sell"],
            after=f"within {TICKS} ticks of the fill",
        ),
    ]
    before = len(judges.distinct_entries(stage.sent()))
    stage.set_price(Decimal("86.63"))  # the 12:56 validation run
    held = stage.position()
    stage.signal(strength=Decimal("0.5"), entry=Decimal("86.63"), stop_loss=Decimal("84.90"))
    stage.tick()
    findings.append(
        judges.second_entry_refused(held, before, len(judges.distinct_entries(stage.sent())))
    )
    stage.set_price(Decimal("85.00"))  # through the stop-loss
    stage.tick(TICKS)
    findings.append(judges.stops_cleared(stage.position()))
    findings.append(judges.increments(stage.sent(), stage.rules))
    return findings


def _wrong_key(stage: Stage) -> list[Finding]:
    title = "`.env` with ACCOUNT_BALANCE=123: start-up refused or sized from the exchange's 123"
    if not stage.start():
        return [
            judges.nothing_reached_exchange(
                "config-strict",
                title,
                started=False,
                requests=len(stage.sent()),
                errors=stage.errors,
            )
        ]
    stage.signal()
    stage.tick(TICKS)
    if not judges.distinct_entries(stage.sent()):
        raised = "; ".join(stage.errors) or "it raised nothing"
        detail = (
            "the bot started on a wrong configuration (ACCOUNT_BALANCE=123, where its key is "
            "ACCOUNT_BALANCE_USD) and then sent no entry for the signal: refusing to trade at "
            "trade time is not refusing the configuration; start-up must be refused, naming "
            f"the key ({raised})"
        )
        return [Finding("config-strict", title, judges.INCIDENT["config-strict"], False, detail)]
    findings = _trade_findings(stage)
    passed = all(f.passed for f in findings)
    detail = "; ".join(f"{f.control}: {f.detail}" for f in findings)
    return [
        Finding("config-strict", title, judges.INCIDENT["config-strict"], passed, detail),
        *findings,
    ]


def _weak_signal(stage: Stage) -> list[Finding]:
    title = "a signal of 0.099 under MIN_SIGNAL_STRENGTH=0.10 sends no entry"
    if not stage.start():
        return _started_or(stage, title, "signal-threshold")
    stage.signal(strength=Decimal("0.099"))
    stage.tick()
    return [
        judges.no_new_entry(
            "signal-threshold",
            title,
            0,
            len(judges.distinct_entries(stage.sent())),
            "a 0.099 signal",
        )
    ]


def _stop_fault(description: str, *, persistent: bool) -> Callable[[Stage], list[Finding]]:
    def play(stage: Stage) -> list[Finding]:
        title = f"with the stop-loss {description}"
        if refused := _start_and_signal(stage, title, "protective-orders"):
            return refused
        if not persistent:
            return [judges.protected(stage.position(), after=f"{title}, within {TICKS} ticks")]
        before = len(judges.distinct_entries(stage.sent()))
        position = stage.position()
        halted = stage.kill_switch()
        stage.signal()
        stage.tick(TICKS)
        new = len(judges.distinct_entries(stage.sent())) - before
        return [
            judges.protected_sold_or_halted(
                position,
                stage.position(),
                new,
                halted=halted,
                after=f"{title}, within {TICKS} ticks",
            )
        ]

    return play


def _balance_above_exchange(stage: Stage) -> list[Finding]:
    started = stage.start()
    if started:
        stage.signal()
        stage.tick(TICKS)
    refusal = None if started else ("; ".join(stage.errors) or "no error recorded")
    findings = [
        judges.balance_refused_or_fits(
            stage.sent(),
            free=stage.setup.usdt,
            configured=_BELIEVED,
            last_price=stage.setup.price,
            rules=stage.rules,
            refusal=refusal,
        )
    ]
    if stage.bought()[0]:  # whatever it bought must be sized from, and protected on, the 123
        findings.append(_risk(stage))
        findings.append(judges.protected(stage.position(), after=f"within {TICKS} ticks"))
    return findings


def _entry_answer_lost(stage: Stage) -> list[Finding]:
    title = "the entry's answer lost after KuCoin accepted it"
    if refused := _start_and_signal(stage, title, "position-sizing", "protective-orders"):
        return refused
    risk = _risk(stage)
    accepted = [o for o in judges.entries(stage.sent()) if o.accepted]
    if len(accepted) > 1:
        # a retry under a new clientOid (or a done order's clientOid, which a classic account
        # accepts again) is a second position: name it, whatever the risk judge found
        risk = attrs.evolve(
            risk,
            detail=f"KuCoin accepted {len(accepted)} entry orders for one signal (the lost "
            f"answer was taken for a failure and the entry sent again): "
            f"{'; '.join(o.describe() for o in accepted)}; {risk.detail}",
        )
    return [
        risk,
        judges.protected(stage.position(), after=f"{title}, within {TICKS} ticks"),
    ]


def _partial_fill(stage: Stage) -> list[Finding]:
    title = f"with only {_THIN_SIZE} SOL offered"
    if refused := _start_and_signal(stage, title, "protective-orders"):
        return refused
    findings = [
        judges.protected(stage.position(), after=f"{title}, within {TICKS} ticks of the fill")
    ]
    stage.set_book(BookShape())
    stage.set_price(Decimal("87.00"))  # an entry left resting at 87.36 fills now
    stage.tick(TICKS)
    findings.append(
        judges.protected(
            stage.position(),
            after=f"once the book refills and SOL trades at 87.00, within {TICKS} ticks",
        )
    )
    findings.append(_risk(stage))
    stage.set_price(Decimal("85.00"))  # through the stop-loss
    stage.tick(TICKS)
    findings.append(judges.stops_cleared(stage.position()))
    return findings


def _strict(title: str, passed: bool, detail: str) -> list[Finding]:
    return [Finding("config-strict", title, judges.INCIDENT["config-strict"], passed, detail)]


def _typo_started(stage: Stage, title: str) -> list[Finding] | None:
    """Start on a ``.env`` with a misspelt key and send the incident's signal.

    Returns the finding when start-up was refused (right, if nothing was sent), None when the
    bot runs on.
    """
    if not stage.start():
        return [
            judges.nothing_reached_exchange(
                "config-strict", title, started=False, requests=len(stage.sent()),
                errors=stage.errors,
            )
        ]  # fmt: skip
    stage.signal()
    stage.tick(TICKS)
    return None


def _risk_key_typo(stage: Stage) -> list[Finding]:
    title = (
        f"`.env` with RISK_PCT={_TYPO_RISK} and no RISK_PERCENT: start-up refused, or at most "
        f"{_TYPO_RISK}% risked"
    )
    if (refused := _typo_started(stage, title)) is not None:
        return refused
    if not stage.bought()[0]:
        return _strict(
            title,
            False,
            f"the bot started without RISK_PERCENT (the .env says RISK_PCT={_TYPO_RISK}) and "
            "bought nothing; start-up must be refused, naming the key",
        )
    risk = _risk(stage, _TYPO_RISK)
    return _strict(
        title,
        risk.passed,
        f"started without RISK_PERCENT (the .env says RISK_PCT={_TYPO_RISK}: a silent default "
        f"instead of the owner's value?): {risk.detail}",
    )


def _positions_key_typo(stage: Stage) -> list[Finding]:
    title = (
        "`.env` with MAX_POSITIONS=1 and no MAX_OPEN_POSITIONS: start-up refused, or one "
        "position at most"
    )
    if (refused := _typo_started(stage, title)) is not None:
        return refused
    if not judges.distinct_entries(stage.sent()):
        return _strict(
            title,
            False,
            "the bot started without MAX_OPEN_POSITIONS (the .env says MAX_POSITIONS=1) and "
            "sent no entry; start-up must be refused, naming the key",
        )
    stage.set_price(Decimal("86.63"))
    stage.signal(strength=Decimal("0.5"), entry=Decimal("86.63"), stop_loss=Decimal("84.90"))
    stage.tick()
    entries = len(judges.distinct_entries(stage.sent()))
    return _strict(
        title,
        entries <= 1,
        f"started without MAX_OPEN_POSITIONS (the .env says MAX_POSITIONS=1: a silent default "
        f"instead of the owner's value?): {entries} entry(ies) for two signals, the first "
        f"position still held ({stage.position().held} SOL)",
    )


def _spread_book(stage: Stage) -> list[Finding]:
    title = f"on a wide, thin book (best ask {_SPREAD_ASK}, 0.1 SOL per level)"
    if refused := _start_and_signal(stage, title, "position-sizing", "protective-orders"):
        return refused
    if not stage.bought()[0]:
        # buying nothing at a price the budget does not allow is right; nothing else to judge
        return [
            Finding("position-sizing", title, judges.INCIDENT["position-sizing"], True,
                    "nothing was bought: no fill the risk budget allows was offered"),
        ]  # fmt: skip
    return [
        _risk(stage),
        judges.protected(stage.position(), after=f"{title}, within {TICKS} ticks"),
    ]


def _own_limits(stage: Stage) -> list[Finding]:
    title = f"with RISK_PERCENT={_OWN_RISK} and MIN_SIGNAL_STRENGTH={_OWN_THRESHOLD} in the .env"
    if not stage.start():
        return _started_or(stage, title, "signal-threshold", "position-sizing")
    stage.signal(strength=_UNDER_OWN)
    stage.tick()
    weak = len(judges.distinct_entries(stage.sent()))
    findings = [
        judges.no_new_entry(
            "signal-threshold",
            f"a signal of {_UNDER_OWN} under MIN_SIGNAL_STRENGTH={_OWN_THRESHOLD} sends no entry",
            0,
            weak,
            f"a {_UNDER_OWN} signal",
        )
    ]
    if weak:  # its position is what the second signal would be judged on: judged already
        return findings
    stage.signal(strength=_OVER_OWN)
    stage.tick(TICKS)
    findings.append(_risk(stage, _OWN_RISK))
    findings.append(
        judges.protected(
            stage.position(), after=f"{title}, within {TICKS} ticks", risk_percent=_OWN_RISK
        )
    )
    return findings


def _restart_bare(stage: Stage) -> list[Finding]:
    title = f"a restart with 1.417 SOL and no stop-loss protects or sells it within {TICKS} ticks"
    if not stage.start():
        return _started_or(stage, title, "protective-orders")
    stage.tick(TICKS)
    return [
        judges.protected(
            stage.position(),
            after=f"after a restart, within {TICKS} ticks",
            incident=judges.INCIDENT["restart"],
        )
    ]


def _restart_protected(stage: Stage) -> list[Finding]:
    title = "the bot restarts with its position and its stop-loss live"
    if refused := _start_and_signal(stage, title, "protective-orders", "max-open-positions"):
        return refused
    if not stage.crash_and_restart():
        return _started_or(stage, title, "protective-orders", "max-open-positions")
    stage.tick(TICKS)
    held = stage.position()
    findings = [judges.protected(held, after=f"after a restart, within {TICKS} ticks")]
    before = len(judges.distinct_entries(stage.sent()))
    stage.signal()
    stage.tick()
    after = len(judges.distinct_entries(stage.sent()))
    if held.flat:
        # a bot that closes what it holds when it restarts has no open position to count:
        # an entry is then allowed (feb6-trade tests the limit itself)
        findings.append(judges.flat_after_restart(held, after - before))
    else:
        findings.append(judges.second_entry_refused(held, before, after))
    stage.set_price(Decimal("85.00"))  # through the stop-loss
    stage.tick(TICKS)
    findings.append(judges.stops_cleared(stage.position()))
    return findings


def _restart_after_stop_fired(stage: Stage) -> list[Finding]:
    title = "the bot restarts after its stop-loss fired while it was down"
    if refused := _start_and_signal(stage, title, "protective-orders"):
        return refused
    stage.set_price(Decimal("85.00"))  # the stop-loss fires while no bot runs
    stage.set_price(Decimal("87.36"))
    if not stage.crash_and_restart():
        return _started_or(stage, title, "protective-orders")
    stage.tick(TICKS)
    return [judges.stops_cleared(stage.position())]


_CERTIFICATE_KINDS = {
    "missing": "no certificate file",
    "expired": "an expired certificate",
    "other-code": "a certificate of other code of the bot (a hotfix after certification)",
}


def _refused(kind: str) -> Callable[[Stage], list[Finding]]:
    def play(stage: Stage) -> list[Finding]:
        started = stage.start()
        finding = judges.nothing_reached_exchange(
            "code-binding",
            f"live start-up with {_CERTIFICATE_KINDS[kind]} is refused before any request",
            started=started,
            requests=len(stage.fake.requests),
            errors=stage.errors,
        )
        if started:  # judged already; see what it would have done
            stage.signal()
            stage.tick()
        return [finding]

    return play


_GIVEN_LIVE = (
    "Given a KuCoin account with 123 USDT free, SOL/USDT at 87.36 (tick 0.01, step 0.0001)"
)
_ENV_LINE = (
    "And a .env with TRADING_MODE=live, ACCOUNT_BALANCE_USD=123, RISK_PERCENT=1, "
    "MAX_OPEN_POSITIONS=1, MIN_SIGNAL_STRENGTH=0.10 and a valid certification"
)
_SIGNAL = "When the strategy signals long SOL/USDT: entry 87.36, stop 85.61, take-profit 90.1353"
#: KuCoin has moved its users to high-frequency (HF) accounts; the same scenario on one
_HF = " (on an HF account)"
_GIVEN_HF = _GIVEN_LIVE.replace("KuCoin account", "KuCoin high-frequency (HF) account")

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "feb6-trade",
        "The Feb 6 trade on a $123 account, then the 12:56 second signal, then the stop fires",
        (
            _GIVEN_LIVE,
            _ENV_LINE,
            _SIGNAL,
            f"And the bot ticks {TICKS} times",
            "Then the entry fits the free balance and risks at most 1.23 USDT at its stop-loss",
            "And a stop-loss covering the position is live; every order is on the increments",
            "When SOL falls to 86.63 and a second signal comes: no second entry",
            "When SOL falls to 85.00 (the stop-loss fires): no stop order is left live",
        ),
        Setup(dotenv=LIVE_ENV),
        _feb6,
    ),
    Scenario(
        "wrong-env-key",
        "`.env` says ACCOUNT_BALANCE=123 where the bot's settings key is ACCOUNT_BALANCE_USD",
        (
            _GIVEN_LIVE,
            "And a live .env whose balance key is ACCOUNT_BALANCE=123 (a near miss)",
            _SIGNAL,
            "Then start-up is refused with nothing sent, or the entry is sized from the 123 USDT",
        ),
        Setup(dotenv=_WRONG_KEY_ENV),
        _wrong_key,
    ),
    Scenario(
        "weak-signal",
        "A 0.099 signal under MIN_SIGNAL_STRENGTH=0.10 (the 12:56 validation run)",
        (_GIVEN_LIVE, _ENV_LINE, "When the strategy signals with strength 0.099", "Then no entry"),
        Setup(dotenv=LIVE_ENV),
        _weak_signal,
    ),
    Scenario(
        "stop-loss-rejected",
        "KuCoin rejects every stop-loss request (400100 Parameter Error)",
        (
            _GIVEN_LIVE,
            _ENV_LINE,
            "And KuCoin rejects every stop order with 400100 'Parameter Error'",
            _SIGNAL,
            f"Then within {TICKS} ticks the position is protected, sold, or the bot halted "
            "(the kill switch named by SAFETRADE_KILL_SWITCH_FILE engaged)",
            f"And after a further signal and {TICKS} more ticks it still is, and a halted bot "
            "sent no new entry",
        ),
        Setup(dotenv=LIVE_ENV, faults=(("create_stop_order", _STOP_REJECTED, 50),)),
        _stop_fault("rejected", persistent=True),
    ),
    Scenario(
        "stop-loss-timeout",
        "The first two stop-loss requests time out",
        (
            _GIVEN_LIVE,
            _ENV_LINE,
            "And the next 2 stop-order requests time out",
            _SIGNAL,
            f"Then within {TICKS} ticks one stop-loss covers the position, no duplicate",
        ),
        Setup(dotenv=LIVE_ENV, faults=(("create_stop_order", Fault.TIMEOUT, 2),)),
        _stop_fault("timing out twice", persistent=False),
    ),
    Scenario(
        "stop-loss-response-lost",
        "KuCoin accepts the first stop-loss but its answer is lost",
        (
            _GIVEN_LIVE,
            _ENV_LINE,
            "And the answer to the first stop-order request is lost after KuCoin accepted it",
            _SIGNAL,
            f"Then within {TICKS} ticks exactly one stop-loss covers the position",
        ),
        Setup(dotenv=LIVE_ENV, faults=(("create_stop_order", Fault.RESPONSE_LOST, 1),)),
        _stop_fault("answer lost", persistent=False),
    ),
    Scenario(
        "balance-above-exchange",
        "`.env` says ACCOUNT_BALANCE_USD=10000 (Feb 6's default) but KuCoin holds 123 USDT",
        (
            _GIVEN_LIVE,
            _ENV_LINE.replace("ACCOUNT_BALANCE_USD=123", f"ACCOUNT_BALANCE_USD={_BELIEVED}"),
            _SIGNAL,
            f"And the bot ticks {TICKS} times",
            "Then no entry costs more than the 123 USDT free (refusing to trade is right), and "
            "whatever was bought risks at most 1.23 USDT and is protected",
        ),
        Setup(dotenv=_HIGH_BALANCE_ENV),
        _balance_above_exchange,
    ),
    Scenario(
        "entry-response-lost",
        "KuCoin accepts the entry but its answer is lost",
        (
            _GIVEN_LIVE,
            _ENV_LINE,
            "And the answer to the first entry request is lost after KuCoin accepted (and "
            "filled) it",
            _SIGNAL,
            f"Then within {TICKS} ticks the position is bought once, risks at most 1.23 USDT, "
            "and a stop-loss covers it",
        ),
        Setup(dotenv=LIVE_ENV, faults=(("create_order", Fault.RESPONSE_LOST, 1),)),
        _entry_answer_lost,
    ),
    Scenario(
        "entry-partial-fill",
        f"A thin book: only {_THIN_SIZE} SOL offered, so the entry fills in part",
        (
            _GIVEN_LIVE.replace(")", f"; only {_THIN_SIZE} SOL offered, at 87.36)"),
            _ENV_LINE,
            _SIGNAL,
            f"Then within {TICKS} ticks a stop-loss covers what filled, and no more",
            "When the book refills and SOL trades at 87.00 (an entry left resting fills)",
            f"Then within {TICKS} ticks every coin held is covered, risking at most 1.23 USDT",
            "When SOL falls to 85.00 (the stop-loss fires): all is sold, no stop order left",
        ),
        Setup(dotenv=LIVE_ENV, book=_THIN_BOOK),
        _partial_fill,
    ),
    Scenario(
        "risk-key-typo",
        f"`.env` says RISK_PCT={_TYPO_RISK} where the key is RISK_PERCENT",
        (
            _GIVEN_LIVE,
            _ENV_LINE.replace("RISK_PERCENT=1", f"RISK_PCT={_TYPO_RISK} (a typo: no RISK_PERCENT)"),
            _SIGNAL,
            f"Then start-up is refused with nothing sent, or the entry risks at most {_TYPO_RISK}% "
            "of the 123 USDT",
        ),
        Setup(dotenv=_RISK_TYPO_ENV),
        _risk_key_typo,
    ),
    Scenario(
        "entry-spread",
        "A wide, thin book: the best ask is 0.50 above the last price, 0.1 SOL per level",
        (
            _GIVEN_LIVE.replace(")", f"; best ask {_SPREAD_ASK}, 0.1 SOL per level, 0.10 apart)"),
            _ENV_LINE,
            _SIGNAL,
            f"Then within {TICKS} ticks whatever was bought, at the prices it filled at, "
            "risks at most 1.23 USDT at its stop-loss and is protected (a market buy sized "
            "from 87.36 walks the book to 88.46 and risks more)",
        ),
        Setup(dotenv=LIVE_ENV, book=_SPREAD_BOOK),
        _spread_book,
    ),
    Scenario(
        "own-limits",
        f"The owner's .env: RISK_PERCENT={_OWN_RISK}, MIN_SIGNAL_STRENGTH={_OWN_THRESHOLD}",
        (
            _GIVEN_LIVE,
            _ENV_LINE.replace("RISK_PERCENT=1", f"RISK_PERCENT={_OWN_RISK}").replace(
                "MIN_SIGNAL_STRENGTH=0.10", f"MIN_SIGNAL_STRENGTH={_OWN_THRESHOLD}"
            ),
            f"When the strategy signals long SOL/USDT at strength {_UNDER_OWN}: no entry",
            f"When it signals again at strength {_OVER_OWN} (entry 87.36, stop 85.61)",
            f"Then within {TICKS} ticks the position risks at most 0.615 USDT ({_OWN_RISK}% "
            "of 123) and is protected",
        ),
        Setup(dotenv=_OWN_LIMITS_ENV),
        _own_limits,
    ),
    Scenario(
        "restart-bare",
        "The bot restarts with 1.417 SOL held and no stop-loss (a crash after the fill)",
        (
            "Given a KuCoin account with 123 USDT and 1.417 SOL free, no stop orders, SOL at 87.36",
            _ENV_LINE,
            f"When the bot starts and ticks {TICKS} times",
            "Then a stop-loss covers the 1.417 SOL, or they were sold",
        ),
        Setup(dotenv=LIVE_ENV, base=Decimal("1.417")),
        _restart_bare,
    ),
    Scenario(
        "restart-protected",
        "The bot crashes after protecting its position, and restarts",
        (
            _GIVEN_LIVE,
            _ENV_LINE,
            _SIGNAL,
            f"And the bot ticks {TICKS} times, then its process dies (no stop) and restarts",
            f"When it ticks {TICKS} times: one stop-loss still covers the position, no duplicate",
            "When a second signal comes: no second entry (MAX_OPEN_POSITIONS=1, read from the "
            "exchange, not from memory)",
            "When SOL falls to 85.00 (the stop-loss fires): no stop order is left live",
        ),
        Setup(dotenv=LIVE_ENV),
        _restart_protected,
    ),
    Scenario(
        "restart-after-stop-fired",
        "The stop-loss fires while the bot is down; its take-profit is left behind",
        (
            _GIVEN_LIVE,
            _ENV_LINE,
            _SIGNAL,
            f"And the bot ticks {TICKS} times, then its process dies",
            "When SOL falls to 85.00 (the stop-loss fires) and comes back to 87.36",
            f"And the bot restarts and ticks {TICKS} times",
            "Then no stop order is left live: a take-profit left behind would sell coins "
            "bought later",
        ),
        Setup(dotenv=LIVE_ENV),
        _restart_after_stop_fired,
    ),
    Scenario(
        "positions-key-typo",
        "`.env` says MAX_POSITIONS=1 where the key is MAX_OPEN_POSITIONS",
        (
            _GIVEN_LIVE,
            _ENV_LINE.replace(
                "MAX_OPEN_POSITIONS=1", "MAX_POSITIONS=1 (a typo: no MAX_OPEN_POSITIONS)"
            ),
            _SIGNAL,
            f"And the bot ticks {TICKS} times",
            "When SOL falls to 86.63 and a second signal comes",
            "Then start-up was refused with nothing sent, or there is no second entry",
        ),
        Setup(dotenv=_POSITIONS_TYPO_ENV),
        _positions_key_typo,
    ),
    *(
        Scenario(
            f"live-{kind}-certificate",
            f"Live start-up with {_CERTIFICATE_KINDS[kind]}",
            (
                _GIVEN_LIVE,
                f"And a live .env whose SAFETRADE_CERTIFICATE names {_CERTIFICATE_KINDS[kind]}",
                "When the bot starts",
                "Then start-up is refused and the exchange received no request at all",
            ),
            Setup(dotenv=LIVE_ENV, certificate=kind),
            _refused(kind),
        )
        for kind in _CERTIFICATE_KINDS
    ),
)


def _on_hf(scenario: Scenario) -> Scenario:
    """``scenario`` on an HF account.

    ccxt needs the symbol to read or cancel an order there, and KuCoin refuses a clientOid used
    before, so a bot tried on a classic account only can leave a position bare on the account
    most owners have.
    """
    return attrs.evolve(
        scenario,
        id=f"{scenario.id}-hf",
        title=scenario.title + _HF,
        story=tuple(line.replace(_GIVEN_LIVE, _GIVEN_HF) for line in scenario.story),
        setup=attrs.evolve(scenario.setup, hf=True),
    )


#: the scenarios that also run on an HF account: the trade and its stop firing, a stop-loss
#: whose answer is lost (found again by its clientOid), and a take-profit left behind
ON_HF = ("feb6-trade", "stop-loss-response-lost", "restart-after-stop-fired")
SCENARIOS = (*SCENARIOS, *(_on_hf(s) for s in SCENARIOS if s.id in ON_HF))
