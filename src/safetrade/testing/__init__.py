"""A wire-faithful fake of KuCoin spot that the real, unmodified ``ccxt.kucoin`` talks to.

KuCoin has no public sandbox, so this fake speaks the protocol ccxt 4.5.90 uses (recorded in
``shared/reference/kucoin-wire.md``): the same paths, query strings, HMAC signatures, response
envelopes, error codes and messages. Money is ``Decimal`` throughout; ids and fills are
deterministic (one counter, an injectable clock, no randomness).

Example:
    >>> from decimal import Decimal
    >>> with FakeKucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"}) as ex:
    ...     client = ex.ccxt_client()
    ...     client.load_markets()
    ...     order = client.create_order("SOL/USDT", "market", "buy", 1)
    ...     ex.balance("SOL").available
    Decimal('1.0000')

Endpoints (names accepted by :meth:`FakeKucoin.inject`):
    Public: ``timestamp`` (GET /api/v1/timestamp), ``status`` (/api/v1/status), ``symbols``
    (/api/v2/symbols), ``currencies`` (/api/v3/currencies), ``all_tickers``
    (/api/v1/market/allTickers), ``ticker`` (/api/v1/market/stats), ``candles``
    (/api/v1/market/candles), ``level1`` (/api/v1/market/orderbook/level1), ``order_book``
    (/api/v1/market/orderbook/level2_20 and level2_100), ``trades`` (/api/v1/market/histories),
    ``contracts`` (futures host /api/v1/contracts/active, always empty).
    Private (signed): ``account_mode`` (/api/ua/v1/account/mode -> CLASSIC), ``margin_symbols``,
    ``isolated_symbols`` (empty), ``hf_status`` (/api/v1/hf/accounts/opened), ``accounts``,
    ``full_order_book`` (/api/v3/market/orderbook/level2), ``trade_fees`` (/api/v1/trade-fees),
    ``cancel_all_orders``, ``cancel_all_hf_orders``, ``cancel_all_stop_orders``,
    ``create_order`` (POST /api/v1/orders and /api/v1/hf/orders), ``create_order_test``
    (POST /api/v1[/hf]/orders/test: checked like an order, nothing placed),
    ``create_stop_order`` (POST /api/v1/stop-order), ``list_orders`` (/api/v1/orders,
    /api/v1/hf/orders/active|done),
    ``fetch_order`` and ``cancel_order`` (/api/v1[/hf]/orders/{id}),
    ``fetch_order_by_client_oid`` and ``cancel_order_by_client_oid``
    (/api/v1/order/client-order/{clientOid}, /api/v1/hf/orders/client-order/{clientOid}),
    ``list_stop_orders`` (/api/v1/stop-order), ``fetch_stop_order`` and ``cancel_stop_order``
    (/api/v1/stop-order/{id}), ``fetch_stop_order_by_client_oid`` and
    ``cancel_stop_order_by_client_oid`` (queryOrderByClientOid / cancelOrderByClientOid),
    ``fills`` (/api/v1/fills, /api/v1/hf/fills), ``ledgers`` (/api/v1/accounts/ledgers,
    /api/v1/hf/accounts/ledgers). Anything else answers 404 ``404000`` (ccxt
    ``NotSupported``) and is recorded as endpoint ``unknown``.

Behaviour:
    * Authentication: KC-API-KEY, KC-API-PASSPHRASE (HMAC-signed for key version 2/3, plain for
      1), KC-API-SIGN over ``timestamp + METHOD + path[?raw query] + raw body``, and
      KC-API-TIMESTAMP within ±5 s of the fake's clock, checked in KuCoin's order (400001,
      400002, 400003, 400004, 400005). Partner headers are ignored.
    * Fees: taker and maker 0.1 % (``MarketRules.taker_fee_rate``/``maker_fee_rate``), always
      charged in the quote currency on top of a buy (quote debited = funds + fee) and out of a
      sell (quote credited = funds - fee), exact Decimal, no rounding. allTickers reports the
      same rates, so ccxt's ``market['taker']`` matches.
    * Market data: the order book is generated around the last price from a :class:`BookShape`
      (default: no spread, 100 levels of 1000 base a side); the ticker's best bid/ask and the
      level1/level2 books come from it. Every last-price change and every fill is a trade on
      the tape (``/market/histories``, last 100) and in the candles (one-minute buckets,
      aggregated to any KuCoin interval, newest first, at most 1500). A :class:`PricePath`
      loaded with :meth:`FakeKucoin.replay` is replayed a candle per :meth:`FakeKucoin.step`,
      visiting open, then low and high (low first on a rising candle, high first on a falling
      one), then close; each visit moves the last price, so stops and limits trigger.
    * Market orders fill at once against the book around the last price, level by level (within
      ``priceLimitRate`` of the last price; the rest is cancelled), by size or by funds (size per
      level = funds / price rounded down to ``baseIncrement``); with the default book an order of up
      to 1000 base fills at the last price set with :meth:`FakeKucoin.set_price`. A market buy the
      quote balance cannot pay for fills what it pays for and the rest is cancelled, as on KuCoin
      (Feb 6: 1.417 of 4.5 SOL); ``FillPolicy.strict_balance()`` rejects it with 200004 ``Balance
      insufficient!`` instead. A market buy by ``funds`` beyond the quote available is 200004 (its
      funds are held when placed), and so is a market sell beyond the coins held.
      :class:`FillPolicy` can also fill only a fraction; the unfilled rest is cancelled like on
      KuCoin (``cancelExist: true``, ccxt status ``canceled``). A market order on a symbol without a
      price is rejected with 400100 (ccxt ``BadRequest``).
    * A limit order that crosses the book takes it at once (taker), level by level at the levels'
      own prices, up to its limit and only as much as the levels hold; the rest rests (IOC: is
      cancelled; FOK: nothing fills unless all of it does; post-only: cancelled if it would take
      anything). A resting order holds funds (buy: price x size plus the larger fee rate, in
      quote; sell: size, in base) and fills at its limit price as maker once the last price
      trades *beyond* it; a trade at exactly its price does not fill it (time priority: the
      queue ahead is unknown). Cancelling releases the hold. At most 200 active orders per pair,
      stop orders included, and at most 20 untriggered stops (200003).
    * GTT: a limit order with ``timeInForce: GTT`` and ``cancelAfter`` n (seconds) is cancelled
      n seconds after it was placed (a GTT stop: after it triggered), before anything later is
      processed: each request, price move or placement first expires what is due on the fake's
      clock, releasing holds (``cancelExist: true``). Order views echo ``cancelAfter``.
      ``cancelAfter`` -1 or absent never expires; without GTT it has no effect; below -1 or not
      an integer it is 400100.
    * Time windows, on the fake's clock: classic fills cover at most 7*24 hours (the last day
      when neither ``startAt`` nor ``endAt`` is given; one bound derives the other; wider is
      400100, ccxt ``BadRequest``); ``GET /api/v1/orders`` without ``status`` lists done
      orders, done orders within 7*24 hours of creation (the same rules; the last 7*24 hours by
      default), cancelled ones for a month, active ones without limit. HF done orders, HF fills
      and HF ledgers only reach back 3*24 hours (a wider range is cut, not refused), and an HF
      order that is no longer active is found by id or clientOid for 3*24 hours. Fills asked
      for by ``orderId`` ignore every window and filter.
    * Account ledgers list the balance changes the fake made: ``set_balance`` (and the
      ``balances`` the fake starts with) as a ``TRANSFER``, each fill as two ``TRADE_EXCHANGE``
      entries (what was paid, fee included, and what was received, net of the fee). Classic:
      paginated, 24 hours at most per query; HF: ``lastId`` paging, the last 3*24 hours.
    * Stop orders (``/api/v1/stop-order``) hold nothing while untriggered. ``stop: loss`` (the
      default) triggers when the last price is at or below ``stopPrice``, ``entry`` at or above;
      a stop whose condition already holds triggers when placed. A triggered stop becomes a
      regular order with a new id and the stop's clientOid (``stop``/``stopTriggered`` set;
      ``ex.stop_orders[id].order_id`` names it) executed as above. If it cannot be paid for in
      full (a market buy included) or breaks minFunds at that moment it is cancelled, as on
      KuCoin: the order shows ``cancelExist: true`` with the reason in ``remark``, and
      ``ex.stop_orders[id].failure`` holds KuCoin's message. On a classic account
      ``GET``/``DELETE /api/v1/orders/{stop id}`` read and cancel the stop order (ccxt PR 11824,
      what freqtrade relies on); HF order endpoints do not know stop ids.
    * clientOid follows KuCoin per account type. Classic: the lookup by clientOid sees only
      active orders, an active order's clientOid sent again is 400100
      ``validation.createOrder.clientOidDuplicated`` (ccxt ``BadRequest``), and a done order's
      clientOid may be reused (kucoin-api-docs issues 287 and 468). HF: the lookup sees done
      orders too and any known clientOid sent again is 126044 ``clientOid duplicate`` (ccxt
      ``InvalidOrder``). An untriggered stop's clientOid is taken like an active order's.
    * Cancel-all: ``DELETE /api/v1/orders`` (classic, ids), ``DELETE /api/v1/hf/orders``
      (HF, one symbol, ``"success"``), ``DELETE /api/v1/hf/orders/cancelAll`` (HF, every
      symbol) and ``DELETE /api/v1/stop-order/cancel`` (untriggered stops by symbol and/or
      ``orderIds``). No KuCoin sub-path (``cancel``, ``cancelAll``, ``sync``, ``multi``...) is
      ever read as an order id.
    * HF vs classic: ``hf=True`` answers the HF probe with ``true`` so ccxt uses
      ``/api/v1/hf/...`` (HF response shapes) and balance type ``trade_hf``. Both families work
      on the same single order book and account; the accounts endpoint only lists the account
      type of the current mode (``trade`` or ``trade_hf``), like a migrated KuCoin account.
    * Faults (:class:`Fault`) are consumed per call in injection order: TIMEOUT, SERVER_ERROR,
      RATE_LIMIT and ``Fault.reject(code, msg)`` leave the exchange untouched; RESPONSE_LOST
      processes the request and then drops the answer. In-process the client sees a read
      timeout (ccxt ``RequestTimeout``); over loopback the server hangs up instead (ccxt
      ``NetworkError``, the parent class; ``ccxt.async_support`` raises its subclass
      ``ExchangeNotAvailable``; aiohttp sends a hung-up GET or DELETE once more by itself, so
      one such fault on a read or cancel is retried unseen and two fail one call).
    * ``ccxt.async_support``: :meth:`FakeKucoin.async_ccxt_client` wires a real async client
      to :meth:`FakeKucoin.loopback_url`, a server of KuCoin's routes only (no control API)
      started on first use; it records into the same fake and takes the same faults.
    * Rate limits (on unless ``FakeKucoin(rate_limits=False)``): KuCoin's VIP0 resource pools
      (https://www.kucoin.com/docs-new/rate-limit), Spot 4000, Management 2000 and Public 2000
      per 30 s window, which opens with the first request and resets 30 s later on the fake's
      clock (:meth:`FakeKucoin.advance_clock` moves it). Each call deducts its endpoint's weight
      from its pool, as documented on the endpoint's page (``safetrade.testing._ratelimit``);
      the Public pool is the one client's (KuCoin: per IP), the others the API key's (KuCoin:
      per UID); a private request counts once it has authenticated. A call that does not fit
      is 429 ``429000`` ``Too Many Requests`` (ccxt ``RateLimitExceeded``) and changes nothing.
      Every counted answer carries ``gw-ratelimit-limit``, ``gw-ratelimit-remaining`` and
      ``gw-ratelimit-reset`` (ms to the reset). An injected ``RATE_LIMIT`` is KuCoin's
      server-overload 429: no headers, nothing counted.
"""

from __future__ import annotations

from safetrade.testing._fake import TEST_API_KEY, TEST_API_SECRET, TEST_PASSPHRASE, FakeKucoin
from safetrade.testing._faults import Fault
from safetrade.testing._market_data import BookShape, Candle, PricePath
from safetrade.testing._rules import BTC_USDT, SOL_USDT, MarketRules
from safetrade.testing._server import LoopbackServer
from safetrade.testing._state import (
    Balance,
    Execution,
    FillPolicy,
    Order,
    RecordedRequest,
    StopOrder,
)
from safetrade.testing._wire import Rejection
from safetrade.testing.bridge import session_over

__all__ = [
    "BTC_USDT",
    "SOL_USDT",
    "TEST_API_KEY",
    "TEST_API_SECRET",
    "TEST_PASSPHRASE",
    "Balance",
    "BookShape",
    "Candle",
    "Execution",
    "FakeKucoin",
    "Fault",
    "FillPolicy",
    "LoopbackServer",
    "MarketRules",
    "Order",
    "PricePath",
    "RecordedRequest",
    "Rejection",
    "StopOrder",
    "session_over",
]
