"""The gateway: typed values from real ccxt, exchange errors kept in safetrade's own errors."""

from __future__ import annotations

import logging
from decimal import Decimal

import attrs
import pytest

from safetrade import AuthenticationFailed, ExchangeUnavailable, OrderRejected, PositionSide
from safetrade.builder import OrderIntent, OrderPurpose, stop_loss_order
from safetrade.errors import CertificationError
from safetrade.gateway import Gateway
from safetrade.testing import FakeKucoin, Fault, FillPolicy, MarketRules


@pytest.fixture
def fake():
    with FakeKucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"}) as ex:
        yield ex


def _market_buy(oid: str, amount: str = "0.5") -> OrderIntent:
    return OrderIntent(
        symbol="SOL/USDT",
        purpose=OrderPurpose.ENTRY,
        side="buy",
        order_type="market",
        amount=Decimal(amount),
        client_oid=oid,
    )


class TestReads:
    def test_market_spec_comes_from_the_exchange(self, fake):
        """Increments are the exchange's own (SOL-USDT tick 0.01, step 0.0001), as Decimals."""
        spec = Gateway(fake.ccxt_client()).load_market("SOL/USDT")
        assert spec.price_increment == Decimal("0.01")
        assert spec.amount_increment == Decimal("0.0001")
        assert spec.min_amount == Decimal("0.01")
        assert spec.min_notional == Decimal("0.1")

    def test_balance_and_price_are_decimals(self, fake):
        """Free balance and last price arrive as exact Decimals."""
        gateway = Gateway(fake.ccxt_client())
        assert gateway.free_balance("USDT") == Decimal(123)
        assert gateway.last_price("SOL/USDT") == Decimal("87.36")
        assert gateway.free_balance("DOGE") == 0

    def test_hf_account_works_the_same(self):
        """An HF-migrated account (ccxt's /api/v1/hf/* family) submits and reads back the same."""
        with FakeKucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"}, hf=True) as ex:
            gateway = Gateway(ex.ccxt_client())
            status = gateway.submit_unguarded(_market_buy("hf-1"))
            done = gateway.fetch_order(status.order_id, "SOL/USDT")
            assert done.filled == Decimal("0.5")
            found = gateway.find(_market_buy("hf-1"))
            assert found is not None
            assert (found.order_id, found.filled) == (status.order_id, Decimal("0.5"))


class TestErrors:
    def test_wrong_secret_is_authentication_failed(self, fake):
        """A wrong secret becomes AuthenticationFailed carrying KuCoin's code."""
        client = fake.ccxt_client(secret="wrong-secret")
        with pytest.raises(AuthenticationFailed) as info:
            Gateway(client).free_balance("USDT")
        assert info.value.exchange_code in {"400004", "400005"}
        assert "KUCOIN_API_SECRET" in str(info.value)

    def test_rejection_keeps_exchange_words(self):
        """An order the exchange refuses raises OrderRejected with KuCoin's code and message."""
        with FakeKucoin(
            balances={"USDT": "123"},
            prices={"SOL/USDT": "87.36"},
            fill_policy=FillPolicy.strict_balance(),
        ) as strict:
            gateway = Gateway(strict.ccxt_client())
            with pytest.raises(OrderRejected) as info:
                gateway.submit_unguarded(_market_buy("too-big", amount="100"))
        assert info.value.exchange_code == "200004"
        assert "Balance insufficient" in info.value.exchange_message

    @pytest.mark.parametrize("fault", [Fault.TIMEOUT, Fault.SERVER_ERROR, Fault.RATE_LIMIT])
    def test_transient_faults_are_unavailable(self, fake, fault):
        """Timeouts, 5xx and 429 become ExchangeUnavailable (retry with the same clientOid)."""
        gateway = Gateway(fake.ccxt_client())
        fake.inject("create_order", fault)
        with pytest.raises(ExchangeUnavailable):
            gateway.submit_unguarded(_market_buy("t-1"))
        assert fake.orders == {}

    def test_a_clock_kucoin_refuses_is_named_with_its_fix(self, fake):
        """KuCoin's 400002 (KC-API-TIMESTAMP outside its window) said "retry", not "fix the
        clock", which no retry repairs."""
        gateway = Gateway(fake.ccxt_client())
        fake.advance_clock(60_000)  # KuCoin's clock one minute ahead of this machine's
        with pytest.raises(ExchangeUnavailable) as info:
            gateway.free_balance("USDT")
        assert info.value.exchange_code == "400002"
        message = str(info.value)
        assert "this machine's clock differs from KuCoin's" in message
        assert "timedatectl set-ntp true" in message

    @pytest.mark.parametrize("hf", [False, True], ids=["classic", "hf"])
    def test_lost_response_is_found_not_resent(self, hf):
        """After a lost response, ensure_submitted_unguarded finds the order, never resends it.

        On a classic account the filled order is invisible to the clientOid lookup (active
        orders only), so it is found among the done orders; on HF the lookup itself finds it.
        """
        with FakeKucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"}, hf=hf) as fake:
            gateway = Gateway(fake.ccxt_client())
            fake.inject("create_order", Fault.RESPONSE_LOST)
            with pytest.raises(ExchangeUnavailable):
                gateway.submit_unguarded(_market_buy("lost-1"))
            found = gateway.ensure_submitted_unguarded(_market_buy("lost-1"))
            assert len(fake.orders) == 1
            assert found.order_id in fake.orders
            assert (found.client_oid, found.filled) == ("lost-1", Decimal("0.5"))
            looked = [c for c in fake.endpoints_called() if c in ("list_orders", "create_order")]
            assert looked == (["create_order"] if hf else ["create_order", "list_orders"])

    def test_cancel_of_unknown_order_is_quiet(self, fake):
        """Cancelling an order that is already gone counts as cancelled."""
        Gateway(fake.ccxt_client()).cancel("no-such-order", "SOL/USDT", stop=True)


def test_market_without_a_last_price_is_an_exchange_error(fake):
    """A market nobody traded yet has no price to size or collar against: refuse, say which."""
    from safetrade.errors import ExchangeError

    with pytest.raises(ExchangeError, match=r"BTC/USDT has no usable last price \(None\)") as no:
        Gateway(fake.ccxt_client()).last_price("BTC/USDT")
    # and how to fix it: nothing can be sized or collared until the market trades
    assert "BTC/USDT" in no.value.fix


def test_kucoin_constructor_configures_credentials_and_rate_limiting():
    """Gateway.kucoin builds a real ccxt.kucoin (no request is made) with rate limiting on."""
    gateway = Gateway.kucoin(
        api_key="key",
        api_secret="secret",
        api_passphrase="phrase",
        certified=None,
        options={"timeout": 5000},
    )
    exchange = gateway.exchange
    assert exchange.id == "kucoin"
    assert (exchange.apiKey, exchange.secret, exchange.password) == ("key", "secret", "phrase")
    assert exchange.enableRateLimit is True
    assert exchange.timeout == 5000


class TestWireNumbers:
    def test_tiny_tick_prices_reach_kucoin_as_plain_decimals(self):
        """Stop price 9E-7 and amount 2E+5 are sent as "0.0000009" and "200000"."""
        rules = MarketRules(
            symbol="PEPE-USDT",
            base_increment="1",
            base_min_size="1",
            price_increment="0.0000001",
        )
        with FakeKucoin(
            markets=[rules], balances={"USDT": "1000"}, prices={"PEPE/USDT": "0.0000012"}
        ) as fake:
            gateway = Gateway(fake.ccxt_client())
            market = gateway.load_market("PEPE/USDT")
            gateway.submit_unguarded(
                stop_loss_order(
                    market,
                    side=PositionSide.LONG,
                    amount=Decimal("2E+5"),
                    stop_price=Decimal("9E-7"),
                    entry_price=Decimal("0.0000012"),
                    client_oid="sl-tiny",
                )
            )
            body = fake.requests[-1].body
        assert body is not None
        assert (body["size"], body["stopPrice"], body["stop"]) == ("200000", "0.0000009", "loss")


class TestRealExchangeNeedsTheGate:
    """Gateway.kucoin trades only with the CertifiedRun that require_valid issued."""

    def _market(self):
        with FakeKucoin(prices={"SOL/USDT": "87.36"}) as fake:
            return Gateway(fake.ccxt_client()).load_market("SOL/USDT")

    def _intent(self):
        from safetrade.builder import entry_order

        return entry_order(
            self._market(),
            side=PositionSide.LONG,
            amount=Decimal("0.5"),
            reference_price=Decimal("87.36"),
            client_oid="st-entry-1",
        )

    def test_without_a_certified_run_the_gateway_only_reads(self):
        gateway = Gateway.kucoin(
            api_key="key", api_secret="secret", api_passphrase="phrase", certified=None
        )
        sent = []
        gateway.exchange.create_order = lambda *a, **_k: sent.append(a)
        gateway.exchange.cancel_order = lambda *a, **_k: sent.append(a)
        with pytest.raises(CertificationError, match="read-only") as refused:
            gateway.submit_unguarded(self._intent())
        assert "require_valid" in refused.value.fix
        with pytest.raises(CertificationError, match="read-only"):
            gateway.cancel("abc", "SOL/USDT")
        assert sent == []  # refused before ccxt was asked to send anything

    def test_a_hand_built_or_expired_run_is_refused(self, tmp_path):
        from datetime import UTC, datetime, timedelta

        from safetrade.certification import require_valid
        from safetrade.certification.conformance.mint import mint_certificate
        from safetrade.certification.provenance import measure_running_code

        now = datetime.now(UTC)
        running = measure_running_code("safetrade.reference_bot")
        minted = mint_certificate(tmp_path, running=running, now=now)
        run = require_valid(
            minted.artifact, trusted_keys=minted.trusted_keys,
            bot_package="safetrade.reference_bot", now=now,
        )  # fmt: skip
        live = Gateway.kucoin(api_key="k", api_secret="s", api_passphrase="p", certified=run)
        assert live._read_only is False
        forged = attrs.evolve(run, issued=None)
        with pytest.raises(CertificationError, match="not issued by require_valid"):
            Gateway.kucoin(api_key="k", api_secret="s", api_passphrase="p", certified=forged)
        with pytest.raises(CertificationError, match="expired"):
            run.ensure_current(now + timedelta(days=31))

    def test_an_order_after_the_certification_expired_is_refused_before_it_is_sent(self, tmp_path):
        """A bot started while certified stops sending once its certification expires."""
        from datetime import UTC, datetime, timedelta

        from safetrade.certification import require_valid
        from safetrade.certification.conformance.mint import mint_certificate
        from safetrade.certification.provenance import measure_running_code

        now = datetime.now(UTC)
        minted = mint_certificate(
            tmp_path, running=measure_running_code("safetrade.reference_bot"), now=now
        )
        run = require_valid(
            minted.artifact, trusted_keys=minted.trusted_keys,
            bot_package="safetrade.reference_bot", now=now,
        )  # fmt: skip
        clock = [now]
        live = Gateway.kucoin(
            api_key="k", api_secret="s", api_passphrase="p", certified=run,
            clock=lambda: clock[0],
        )  # fmt: skip
        sent = []

        def create_order(*args, **_kwargs):
            sent.append(args)
            return {"id": f"order-{len(sent)}", "status": "open"}

        live.exchange.create_order = create_order
        intent = self._intent()
        assert live.submit_unguarded(intent).order_id == "order-1"
        clock[0] = run.expires_at - timedelta(seconds=1)
        live.submit_unguarded(attrs.evolve(intent, client_oid="st-entry-2"))
        clock[0] = run.expires_at  # no sleep: the clock is the gateway's own
        with pytest.raises(CertificationError) as refused:
            live.submit_unguarded(attrs.evolve(intent, client_oid="st-entry-3"))
        (problem,) = refused.value.problems
        assert problem.startswith("sending ")
        assert f"the certification expired at {run.expires_at:%Y-%m-%dT%H:%M:%SZ}" in problem
        assert "re-run `tox -e certify` and restart the bot" in refused.value.fix
        assert len(sent) == 2  # nothing reached ccxt after the expiry
        # but coins already held are never left bare by an expiry: protection still goes out
        from safetrade.builder import stop_loss_order

        market = self._market()
        stop = stop_loss_order(
            market, side=PositionSide.LONG, amount=Decimal("0.5"),
            stop_price=Decimal("85.61"), entry_price=Decimal("87.36"), client_oid="st-stop-1",
        )  # fmt: skip
        assert live.submit_unguarded(stop).order_id == "order-3"
        assert len(sent) == 3
        # and a gateway built after the expiry is refused at once
        with pytest.raises(CertificationError, match="expired"):
            Gateway.kucoin(
                api_key="k", api_secret="s", api_passphrase="p", certified=run,
                clock=lambda: clock[0],
            )  # fmt: skip


def test_ccxt_debug_logging_never_shows_the_api_key_signature_or_passphrase(caplog):
    """ccxt logs request headers at DEBUG; the gateway redacts KuCoin's secret ones."""
    with FakeKucoin(balances={"USDT": "123"}) as fake:
        gateway = Gateway(fake.ccxt_client())
        with caplog.at_level(logging.DEBUG, logger="ccxt.base.exchange"):
            gateway.free_balance("USDT")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Request:" in text  # ccxt did log the request
    assert "KC-API-KEY" in text
    for secret in (fake.credentials.api_key, fake.credentials.passphrase):
        assert secret not in text


class _TickerOnly:
    """A ccxt exchange that answers only fetch_ticker, with what a broken feed could send."""

    def __init__(self, ticker: dict[str, object]) -> None:
        self.ticker = ticker

    def fetch_ticker(self, symbol: str) -> dict[str, object]:
        return self.ticker


@pytest.mark.parametrize("bad", [float("nan"), "junk", 0, -1, None])
def test_an_unusable_bid_or_ask_is_no_price_and_never_breaks_the_last_price(bad: object) -> None:
    # last_price used to parse bid and ask too: a NaN bid raised InvalidValue where callers
    # (the protector's flatten) expect only exchange errors
    gateway = Gateway(_TickerOnly({"last": 87.36, "bid": bad, "ask": bad}))
    assert gateway.last_price("SOL/USDT") == Decimal("87.36")
    prices = gateway.prices("SOL/USDT")
    assert (prices.last, prices.bid, prices.ask) == (Decimal("87.36"), None, None)
