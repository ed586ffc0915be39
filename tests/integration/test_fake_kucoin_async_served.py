"""The money-relevant behaviours through ``ccxt.async_support`` against the served fake."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
import pytest

from safetrade.testing import TEST_API_KEY, TEST_API_SECRET, TEST_PASSPHRASE, FakeKucoin


def _run(fake: FakeKucoin, scenario: Any) -> Any:
    async def main() -> Any:
        client = ccxt_async.kucoin(
            {"apiKey": TEST_API_KEY, "secret": TEST_API_SECRET, "password": TEST_PASSPHRASE,
             "enableRateLimit": False}
        )  # fmt: skip
        client.urls["api"] = dict.fromkeys(client.urls["api"], fake.serve().base_url)
        try:
            return await scenario(client)
        finally:
            await client.close()

    return asyncio.run(main())


@pytest.mark.parametrize("hf", [False, True], ids=["classic", "hf"])
def test_client_oid_rules_per_account_type(hf: bool) -> None:
    async def scenario(client: Any) -> None:
        params = {"clientOid": "a-1"}
        await client.create_order("SOL/USDT", "market", "buy", 1, None, params)
        if hf:
            found = await client.fetch_order(None, "SOL/USDT", {"clientOrderId": "a-1"})
            assert found["status"] == "closed"
            with pytest.raises(ccxt_async.InvalidOrder):
                await client.create_order(
                    "SOL/USDT", "market", "buy", 1, None, {"clientOid": "a-1"}
                )
        else:
            with pytest.raises(ccxt_async.OrderNotFound):
                await client.fetch_order(None, "SOL/USDT", {"clientOrderId": "a-1"})
            (done,) = await client.fetch_closed_orders("SOL/USDT")
            assert done["clientOrderId"] == "a-1"

    with FakeKucoin(hf=hf, balances={"USDT": "1000"}, prices={"SOL/USDT": "100"}) as fake:
        _run(fake, scenario)


def test_cancel_all_and_stop_ids_on_the_order_endpoints() -> None:
    async def scenario(client: Any) -> None:
        stop = await client.create_order(
            "SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 90}
        )
        assert (await client.fetch_order(stop["id"], "SOL/USDT"))["status"] == "open"
        await client.create_order("SOL/USDT", "limit", "buy", 1, 95)
        await client.cancel_all_orders("SOL/USDT")
        assert await client.fetch_open_orders("SOL/USDT") == []
        assert len(await client.fetch_open_orders("SOL/USDT", None, None, {"stop": True})) == 1
        await client.cancel_all_orders("SOL/USDT", {"stop": True})
        assert await client.fetch_open_orders("SOL/USDT", None, None, {"stop": True}) == []

    prices = {"SOL/USDT": "100"}
    with FakeKucoin(balances={"USDT": "1000", "SOL": "1"}, prices=prices) as fake:
        _run(fake, scenario)
        assert [s.status for s in fake.stop_orders.values()] == ["CANCELLED"]
        assert fake.balance("USDT").holds == Decimal(0)
