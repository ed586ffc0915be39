"""One scenario's stage: a fake KuCoin, the bot's context, and the bot driven through it.

Every exception the bot raises is caught and noted (an exception from ``start`` means start-up
was refused); the scenario then judges what the exchange saw, never the bot's objects.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from safetrade.certification.conformance.mint import mint_certificate
from safetrade.certification.conformance.observe import (
    OrderSent,
    Position,
    observe_position,
    orders_sent,
    sells_at,
)
from safetrade.certification.contract import BotContext, ExchangeAccess, Signal
from safetrade.killswitch import KillSwitch, release_instance_locks
from safetrade.rounder import PositionSide
from safetrade.testing import (
    SOL_USDT,
    BookShape,
    FakeKucoin,
    Fault,
    FillPolicy,
    Rejection,
    session_over,
)

if TYPE_CHECKING:
    from safetrade.certification.bots import BotUnderTest
    from safetrade.certification.provenance import RunningCode

__all__ = ["CERTIFICATES", "Setup", "Stage"]

#: What the scenario's SAFETRADE_CERTIFICATE names.
CERTIFICATES = ("valid", "missing", "expired", "other-code")
_MAX_ERROR = 400


@attrs.frozen(kw_only=True)
class Setup:
    """The account, market, configuration and faults a scenario starts from.

    Attributes:
        dotenv: The ``.env`` file's text (trading settings).
        usdt: USDT free on the account.
        base: SOL already held (a position left by a crash).
        price: SOL/USDT last price.
        certificate: Which certification SAFETRADE_CERTIFICATE names (:data:`CERTIFICATES`).
        faults: ``(endpoint, fault, times)`` injected before start-up.
        book: The order book's shape at start-up (the fake's deep default if None).
    """

    dotenv: str
    usdt: Decimal = Decimal(123)
    base: Decimal = Decimal(0)
    price: Decimal = Decimal("87.36")
    certificate: str = "valid"
    faults: tuple[tuple[str, Fault | Rejection, int], ...] = ()
    book: BookShape | None = None
    #: a high-frequency (HF) account, which KuCoin has moved its users to: ccxt then needs the
    #: symbol to read or cancel an order, and KuCoin refuses any clientOid used before
    hf: bool = False


def _altered(running: RunningCode) -> RunningCode:
    """The same code with one bot file recorded differently: a hotfix after certification."""
    files = dict(running.bot_files)
    first = sorted(files)[0] if files else "__init__.py"
    files[first] = "0" * 64
    return attrs.evolve(running, bot_files=files)


class Stage:
    """Builds the exchange and the context, then runs the bot's calls for a scenario."""

    def __init__(
        self, bot: BotUnderTest, running: RunningCode, setup: Setup, workdir: Path
    ) -> None:
        self.rules = SOL_USDT
        self.symbol = "SOL/USDT"
        # KuCoin fills a market buy beyond the balance up to what the balance pays for and
        # cancels the rest (https://www.kucoin.com/docs/rest/spot-trading/orders/place-order;
        # Feb 6: 1.417 of 4.5 SOL): the judges look at what the bot *sent*, not what filled
        self.fake = FakeKucoin(
            balances={"USDT": setup.usdt, "SOL": setup.base},
            prices={self.symbol: setup.price},
            fill_policy=FillPolicy.available_balance(),
            hf=setup.hf,
            # a fresh key per scenario, shaped like KuCoin's: the fake's published test key
            # would tell a bot it is under test
            api_key=secrets.token_hex(12),
            api_secret=str(uuid.uuid4()),
            passphrase=secrets.token_urlsafe(12),
        )
        key = self.fake.credentials
        self.setup = setup
        self.errors: list[str] = []
        self.slept = 0.0
        self.started = False
        #: the first signal sent: the levels the judges compare the bot's orders with
        self.first_signal: Signal | None = None
        self._instance: Any = None
        self._bot = bot
        now = datetime.now(UTC)
        env = {
            "KUCOIN_API_KEY": key.api_key,
            "KUCOIN_API_SECRET": key.api_secret,
            "KUCOIN_API_PASSPHRASE": key.passphrase,
            "SAFETRADE_KILL_SWITCH_FILE": str(workdir / "kill-switch.json"),
        }
        certs = workdir / "certification"
        if setup.certificate == "missing":
            minted = mint_certificate(certs, running=running, now=now)
            minted.artifact.unlink()
        elif setup.certificate == "expired":
            minted = mint_certificate(certs, running=running, now=now, age=timedelta(days=31))
        elif setup.certificate == "other-code":
            minted = mint_certificate(certs, running=_altered(running), now=now)
        else:
            minted = mint_certificate(certs, running=running, now=now)
        env["SAFETRADE_CERTIFICATE"] = str(minted.artifact)
        env["SAFETRADE_TRUSTED_KEYS"] = str(minted.trusted_keys)
        dotenv = workdir / ".env"
        dotenv.write_text(setup.dotenv, encoding="utf-8")
        self.context = BotContext(
            env=env,
            dotenv_path=dotenv,
            exchange=self.fake.ccxt_client(),
            access=ExchangeAccess(
                api_key=key.api_key,
                api_secret=key.api_secret,
                api_passphrase=key.passphrase,
                session=session_over(self.fake.transport),
                loopback_url=self.fake.loopback_url,  # KuCoin's routes only, started if asked
            ),
            new_exchange=self.fake.ccxt_client,
            symbol=self.symbol,
            workdir=workdir,
            clock=lambda: datetime.now(UTC),
            sleep=self._sleep,
            # ccxt.async_support over that server; close() closes what the bot left open
            new_async_exchange=self.fake.async_ccxt_client,
        )
        for endpoint, fault, times in setup.faults:
            self.fake.inject(endpoint, fault, times)
        if setup.book is not None:
            self.fake.set_book(setup.book)

    def _sleep(self, seconds: float) -> None:
        self.slept += max(float(seconds), 0.0)

    def _call(self, what: str, call: Any, *args: object) -> bool:  # noqa: ANN401 - the bot's own
        try:
            call(*args)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 -- the bot's failure is evidence
            text = f"{what}: {type(exc).__name__}: {exc}"
            self.errors.append(text if len(text) <= _MAX_ERROR else text[:_MAX_ERROR] + "…")
            return False
        return True

    # --- the bot's calls ---------------------------------------------------------------------

    def start(self) -> bool:
        """Build the bot and start it; False when start-up was refused (it raised)."""
        try:
            self._instance = self._bot.factory(self.context)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 -- the bot's failure is evidence
            self.errors.append(f"factory: {type(exc).__name__}: {exc}"[:_MAX_ERROR])
            return False
        self.started = self._call("start", self._instance.start)
        return self.started

    def signal(
        self,
        *,
        strength: Decimal = Decimal("0.5"),
        entry: Decimal = Decimal("87.36"),
        stop_loss: Decimal = Decimal("85.61"),
        take_profit: Decimal | None = Decimal("90.1353"),
    ) -> None:
        """Send the strategy's decision (the incident's levels by default)."""
        if self.started:
            signal = Signal(
                symbol=self.symbol,
                side=PositionSide.LONG,
                strength=strength,
                entry_price=entry,
                stop_loss=stop_loss,
                take_profit=take_profit,
            )
            if self.first_signal is None:
                self.first_signal = signal
            self._call("on_signal", self._instance.on_signal, signal)

    def crash_and_restart(self) -> bool:
        """The process dies (no ``stop``) and a new one starts the bot from its factory.

        Whatever the bot kept in memory is gone; what it left on the exchange is not. The dead
        process's instance lock dies with it, as an OS releases a dead process's file lock.
        """
        self._instance = None
        self.started = False
        release_instance_locks(self.context.workdir)
        return self.start()

    def tick(self, times: int = 1) -> None:
        """Run the bot's loop ``times`` times."""
        for _ in range(times):
            if self.started:
                self._call("tick", self._instance.tick)

    def set_price(self, price: Decimal) -> None:
        """Move SOL/USDT's last price (stop orders trigger as on KuCoin)."""
        self.fake.set_price(self.symbol, price)

    def set_book(self, shape: BookShape) -> None:
        """Change the order book's shape (its depth) from now on."""
        self.fake.set_book(shape)

    def close(self) -> None:
        """Stop the bot (if it started) and the exchange."""
        if self.started:
            self._call("stop", self._instance.stop)
        # an async bot's ccxt clients and their event loops end with the scenario, as with its
        # process (also after crash_and_restart); then the fake and its loopback server
        self.fake.close_async_clients(close_loops=True)
        self.fake.close()
        # a bot's instance lock on its scenario folder must not outlive the scenario
        release_instance_locks(self.context.workdir)

    # --- what the exchange saw -----------------------------------------------------------------

    def sent(self) -> list[OrderSent]:
        """Every order-creating request so far."""
        return orders_sent(self.fake)

    def position(self) -> Position:
        """The SOL position as the exchange holds it now."""
        return observe_position(self.fake, self.rules)

    def bought(self) -> tuple[Decimal, Decimal]:
        """SOL bought and its cost in USDT including fees, from the exchange's fills."""
        zero = Decimal(0)
        buys = [f for f in self.fake.fills if f.symbol == self.rules.symbol and f.side == "buy"]
        return (
            sum((f.size for f in buys), zero),
            sum((f.funds + f.fee for f in buys), zero),
        )

    def kill_switch(self) -> str | None:
        """Why the kill switch the harness named is engaged, or None while it is clear.

        Read as safetrade's guard reads it (an unreadable file counts as engaged): a bot that
        engaged it refuses every entry, across restarts, until a human clears it.
        """
        path = Path(self.context.env["SAFETRADE_KILL_SWITCH_FILE"])
        return KillSwitch(path).reason if path.exists() else None

    def stop_losses_created(self) -> Decimal:
        """Total size of the sell stop-losses KuCoin created on the market.

        Whatever became of them since: live, triggered or cancelled.
        """
        return self.position().stop_losses_created

    def live_stop_loss_price(self) -> Decimal | None:
        """The lowest price a live stop-loss would sell at (a limit's price, else stopPrice)."""
        prices = [
            sells_at(s)
            for s in self.fake.stop_orders.values()
            if s.symbol == self.rules.symbol and s.status == "NEW" and s.stop == "loss"
        ]
        return min(prices) if prices else None
