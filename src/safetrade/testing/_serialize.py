"""Exchange records -> the JSON shapes KuCoin returns (and ccxt 4.5.90 parses)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from safetrade.testing._state import ZERO, Execution, Order, StopOrder
from safetrade.testing._wire import fmt

if TYPE_CHECKING:
    from safetrade.testing._engine import LedgerEntry


def _common(order: Order, cancel_after: int) -> dict[str, object]:
    return {
        "id": order.id,
        "symbol": order.symbol,
        "opType": "DEAL",
        "type": order.type,
        "side": order.side,
        # KuCoin reports "0" for the price of market orders; ccxt then derives it from the fills
        "price": fmt(order.price) if order.price is not None else "0",
        "size": fmt(order.size) if order.size is not None else "0",
        "funds": fmt(order.funds) if order.funds is not None else "0",
        "dealFunds": fmt(order.deal_funds),
        "dealSize": fmt(order.deal_size),
        "fee": fmt(order.fee),
        "feeCurrency": order.fee_currency,
        "stp": "",
        "timeInForce": order.time_in_force,
        "postOnly": order.post_only,
        "hidden": False,
        "iceberg": False,
        "visibleSize": "0",
        # the GTT order's seconds, 0 for an order that does not expire ("cancelAfter": 0 on
        # every GTC sample; HF docs: "A GTT timeInForce that expires in n seconds")
        "cancelAfter": cancel_after,
        "channel": "API",
        "clientOid": order.client_oid,
        # the request's remark, or why the fake cancelled the order itself (kucoin-evidence 4.3:
        # classic docs show "remark": "", ccxt issue 15834 traces show null)
        "remark": order.reason or order.remark,
        "tags": "partner:ccxt",
        "cancelExist": order.cancel_exist,
        "createdAt": order.created_at,
        "tradeType": "TRADE",
    }


def classic_order(order: Order, cancel_after: int = 0) -> dict[str, object]:
    """``GET /api/v1/orders/{id}`` shape (``isActive``, ``stop*`` keys)."""
    item = _common(order, cancel_after)
    item.update(
        stop=order.stop or "",
        stopTriggered=order.stop_triggered,
        stopPrice=fmt(order.stop_price) if order.stop_price is not None else "0",
        isActive=order.is_active,
    )
    return item


def stop_as_classic_order(
    stop: StopOrder, became: Order | None, cancel_after: int = 0
) -> dict[str, object]:
    """A stop order read through classic ``GET /api/v1/orders/{id}`` (its ``vs…`` id).

    ccxt PR 11824 (2022, the freqtrade maintainer's test) shows KuCoin answering a plain
    ``fetch_order`` of a ``vs…`` id in the classic order shape with the stop fields, and a
    stop cancelled through ``DELETE /api/v1/orders/{id}`` as ``isActive: false, cancelExist:
    false``. What it shows once the stop triggered is not documented anywhere we found; the
    fake shows the execution of the order the stop became (so nothing is invented).
    """
    view = stop.as_order(
        order_id=stop.id, created_at=stop.created_at, triggered=stop.status == "TRIGGERED"
    )
    view.is_active = stop.status == "NEW" or (became is not None and became.is_active)
    view.reason, view.remark = stop.failure, stop.remark
    if became is not None:
        view.deal_size, view.deal_funds, view.fee = became.deal_size, became.deal_funds, became.fee
        view.cancel_exist = became.cancel_exist
        view.reason = became.reason or view.reason
    return classic_order(view, cancel_after)


def hf_order(order: Order, cancel_after: int = 0) -> dict[str, object]:
    """``GET /api/v1/hf/orders/{id}`` shape (``active``, remaining/cancelled amounts)."""
    item = _common(order, cancel_after)
    remain = ZERO
    if order.size is not None and order.is_active:
        remain = order.size - order.deal_size
    cancelled = ZERO
    if order.cancel_exist and order.size is not None:
        cancelled = order.size - order.deal_size
    item.update(
        active=order.is_active,
        inOrderBook=order.is_active,
        lastUpdatedAt=order.updated_at,
        cancelledSize=fmt(cancelled),
        cancelledFunds="0",
        remainSize=fmt(remain),
        remainFunds="0",
        # HF orders carry "tax" (kucoin-universal-sdk 1.3.2 api_order_test.py, get order by
        # orderId / clientOid, open and closed lists; kucoin-evidence 4.2); the fake charges none
        tax="0",
    )
    return item


def stop_order(
    stop: StopOrder, taker: Decimal, maker: Decimal, cancel_after: int = -1
) -> dict[str, object]:
    """``GET /api/v1/stop-order/{id}`` shape.

    ``remark`` is the one the request carried; a stop that failed at trigger time shows why
    instead. ``relatedNo``, ``limitPrice``, ``pop`` and ``activateCondition`` are null in every
    real sample (ccxt 4.5.90 parse_spot_order comment; kucoin-universal-sdk 1.3.2
    test_get_stop_orders_list_resp_model), so the fake sends them null too.
    """
    return {
        "id": stop.id,
        "symbol": stop.symbol,
        "userId": "5fa0000000000000000000ab",
        "status": "NEW" if stop.status == "NEW" else "TRIGGERED",
        "type": stop.type,
        "side": stop.side,
        "price": fmt(stop.price),
        "size": fmt(stop.size),
        "funds": fmt(stop.funds),
        "stp": None,
        "timeInForce": stop.time_in_force,
        "cancelAfter": cancel_after,  # -1 unless a GTT stop asked for seconds
        "postOnly": False,
        "hidden": False,
        "iceberg": False,
        "visibleSize": None,
        "channel": "API",
        "clientOid": stop.client_oid,
        "remark": stop.failure or stop.remark,
        "tags": "partner:ccxt",
        "relatedNo": None,
        "orderTime": stop.created_at * 1_000_000,
        "domainId": "kucoin",
        "tradeSource": "USER",
        "tradeType": "TRADE",
        "feeCurrency": stop.symbol.partition("-")[2],
        "takerFeeRate": fmt(taker),
        "makerFeeRate": fmt(maker),
        "createdAt": stop.created_at,
        "stop": stop.stop,
        "stopTriggerTime": stop.triggered_at,
        "stopPrice": fmt(stop.stop_price),
        "limitPrice": None,
        "pop": None,
        "activateCondition": None,
    }


def fill(item: Execution, *, hf: bool) -> dict[str, object]:
    """An item of ``GET /api/v1/fills`` (classic) or ``/api/v1/hf/fills``."""
    out: dict[str, object] = {
        "symbol": item.symbol,
        "tradeId": item.trade_id,
        "orderId": item.order_id,
        "counterOrderId": "5fa0c0ffee00000000000000",
        "side": item.side,
        "liquidity": item.liquidity,
        "forceTaker": item.liquidity == "taker",
        "price": fmt(item.price),
        "size": fmt(item.size),
        "funds": fmt(item.funds),
        "fee": fmt(item.fee),
        "feeRate": fmt(item.fee_rate),
        "feeCurrency": item.fee_currency,
        "stop": item.stop,
        "type": item.type,
        "createdAt": item.created_at,
        "tradeType": "TRADE",
    }
    if hf:
        # HF fills: "id" and "tradeId" are JSON numbers (classic "tradeId" is a string), and
        # "taxRate"/"tax" are present (kucoin-universal-sdk 1.3.2 api_order_test.py
        # test_get_trade_history_resp_model; kucoin-evidence 4.2). The fill's sequence number
        # serves as both; "id" is what HF paging's lastId refers to.
        out.update(id=item.seq, tradeId=item.seq, taxRate="0", tax="0")
    return out


def ledger_entry(entry: LedgerEntry, *, hf: bool, account_type: str) -> dict[str, object]:
    """An item of ``GET /api/v1/accounts/ledgers`` (classic) or ``/api/v1/hf/accounts/ledgers``.

    The shapes of KuCoin's examples (kucoin-real-samples.json ``ledgers``, ``hf_ledgers``:
    kucoin-universal-sdk 1.3.2 test_get_spot_ledger_resp_model / test_get_spot_hf_ledger_resp_
    model): ``id`` is a string of digits in both, ``createdAt`` a number in the classic one and a
    string in the HF one, which also carries ``tax`` (the fake charges none).
    ``account_type`` is ``TRADE`` or ``TRADE_HF``: the fake's one spot account.
    """
    out: dict[str, object] = {
        "id": str(entry.seq),
        "currency": entry.currency,
        "amount": fmt(entry.amount),
        "fee": fmt(entry.fee),
        # classic: "Deprecated field, no actual use of the value field" (kucoin-universal-sdk
        # get_spot_ledger items; the real sample shows "0"); HF's is the balance after it
        "balance": fmt(entry.balance) if hf else "0",
        "accountType": account_type,
        "bizType": entry.biz_type,
        "direction": entry.direction,
        "createdAt": str(entry.created_at) if hf else entry.created_at,
        "context": entry.context(hf=hf),
    }
    if hf:
        out["tax"] = "0"
    return out


def page(items: Sequence[object], current: int, size: int) -> dict[str, object]:
    """KuCoin's paginated list (``currentPage``, ``pageSize``, ``totalNum``, ``totalPage``)."""
    total = len(items)
    start = (current - 1) * size
    return {
        "currentPage": current,
        "pageSize": size,
        "totalNum": total,
        "totalPage": max(1, -(-total // size)),
        "items": list(items[start : start + size]),
    }
