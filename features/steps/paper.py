"""Steps about paper mode: KuCoin's public side, the paper venue and its journal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pytest_bdd import given, then

from features.steps.types import parse
from safetrade.paper import PaperStore, PaperVenue, PublicKucoin, read_summary
from safetrade.testing import FakeKucoin


@given(
    parse("KuCoin's public market data shows {symbol:Word} at {price:Dec}"),
    target_fixture="public",
)
def public_side(request: pytest.FixtureRequest, symbol: str, price: Decimal) -> FakeKucoin:
    public = FakeKucoin(prices={symbol: price})
    request.addfinalizer(public.close)
    public.serve()
    return public


@given(parse("a paper account with {usdt:Dec} USDT"), target_fixture="exchange")
def paper_account(
    request: pytest.FixtureRequest, public: FakeKucoin, tmp_path: Path, usdt: Decimal
) -> PaperVenue:
    """The paper venue, as ``exchange``: the raw-call steps send through its ccxt client."""
    venue = PaperVenue(store=PaperStore(tmp_path / "paper.sqlite3"),
                       source=PublicKucoin.at(public.serve().base_url), symbols=["SOL/USDT"],
                       starting_balance=usdt, safetrade_digest="s" * 64,
                       bot_digest="b" * 64)  # fmt: skip
    request.addfinalizer(venue.close)
    return venue


@then(parse('the paper journal records the rejection {code:Word} "{message}"'))
def journal_rejection(exchange: PaperVenue, code: str, message: str) -> None:
    rejected = [(e.code, e.detail.get("msg")) for e in exchange.store.journal()
                if e.kind == "rejection"]  # fmt: skip
    assert rejected == [(code, message)], rejected


@then(parse("the paper status counts {count:d} rejection with code {code:Word}"))
def status_rejections(exchange: PaperVenue, count: int, code: str) -> None:
    summary = read_summary(exchange.store.path)
    assert summary is not None
    assert summary.rejections == {code: count}


@then(parse("the paper journal records an order for {size:Dec} SOL that filled {filled:Dec} SOL"))
def journal_fill(exchange: PaperVenue, size: Decimal, filled: Decimal) -> None:
    journal = exchange.store.journal()
    orders = [Decimal(e.detail["size"]) for e in journal if e.kind == "order"]
    assert orders == [size]
    assert sum(Decimal(e.detail["size"]) for e in journal if e.kind == "fill") == filled
    assert exchange.balance("SOL").total == filled


@then("the paper status shows a position held without a stop-loss")
def status_bare(exchange: PaperVenue) -> None:
    summary = read_summary(exchange.store.path, now_ms=exchange.clock() + 60_000)
    assert summary is not None
    assert summary.bare_windows == 1
    assert summary.longest_bare_seconds >= 60
