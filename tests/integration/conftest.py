"""Fixtures for the fake-KuCoin integration tests: a fresh fake and a real ccxt client per test."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from safetrade.testing import FakeKucoin


@pytest.fixture
def ex() -> Iterator[FakeKucoin]:
    """A fake with 1000 USDT and SOL/USDT at 100."""
    with FakeKucoin(balances={"USDT": Decimal(1000)}, prices={"SOL/USDT": Decimal(100)}) as fake:
        yield fake


@pytest.fixture
def client(ex: FakeKucoin) -> Any:
    """The real ccxt.kucoin, markets loaded from the fake."""
    kucoin = ex.ccxt_client()
    kucoin.load_markets()
    return kucoin
