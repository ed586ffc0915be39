"""The paper database: records survive a reopen exactly; the journal is append-only and chained."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from safetrade.errors import ConfigError
from safetrade.paper import PaperStore
from safetrade.testing._engine import Engine
from safetrade.testing._rules import DEFAULT_MARKETS
from safetrade.testing._state import Balance, FillPolicy


def _engine() -> Engine:
    return Engine(DEFAULT_MARKETS, lambda: 1_700_000_000_000, FillPolicy())


def _traded(engine: Engine) -> Engine:
    engine.set_balance("USDT", Decimal(123))
    engine.set_price("SOL-USDT", Decimal("87.36"))
    engine.create_order({"clientOid": "e1", "symbol": "SOL-USDT", "side": "buy",
                         "type": "market", "size": "0.6396"}, hf=False)  # fmt: skip
    engine.create_stop_order({"clientOid": "s1", "symbol": "SOL-USDT", "side": "sell",
                              "type": "market", "size": "0.6396", "stop": "loss",
                              "stopPrice": "85.61"})  # fmt: skip
    engine.create_order({"clientOid": "l1", "symbol": "SOL-USDT", "side": "buy",
                         "type": "limit", "price": "80.00", "size": "0.1"}, hf=False)  # fmt: skip
    return engine


def _save(store: PaperStore, engine: Engine) -> None:
    store.save(balances=engine.balances, orders=engine.orders, stop_orders=engine.stop_orders,
               executions=engine.fills, sequence=engine.sequence)  # fmt: skip


def test_records_survive_a_reopen_and_the_engine_continues_where_it_stopped(
    tmp_path: Path,
) -> None:
    before = _traded(_engine())
    store = PaperStore(tmp_path / "p.db")
    _save(store, before)
    store.close()
    with PaperStore(tmp_path / "p.db") as reopened:
        saved = reopened.load()
    assert saved is not None
    after = _engine()
    after.restore(balances=saved.balances, orders=saved.orders, stop_orders=saved.stop_orders,
                  fills=saved.executions, sequence=saved.sequence)  # fmt: skip
    assert after.balances == before.balances
    assert after.orders == before.orders
    assert after.stop_orders == before.stop_orders
    assert after.fills == before.fills
    assert all(isinstance(o.deal_funds, Decimal) for o in after.orders.values())
    # the resting limit order and the waiting stop are live again: a price move reaches both
    after.set_price("SOL-USDT", Decimal("85.00"))
    assert after.stop_orders[next(iter(after.stop_orders))].status == "TRIGGERED"
    after.set_price("SOL-USDT", Decimal("79.99"))  # traded beyond the limit buy at 80
    assert not any(o.is_active for o in after.orders.values())
    # new ids come after every saved one
    assert len(set(after.orders)) == len(after.orders) == len(before.orders) + 1
    assert after.balance("USDT").holds == 0


def test_restore_needs_an_empty_engine() -> None:
    engine = _traded(_engine())
    with pytest.raises(ValueError, match="without orders"):
        engine.restore(balances={}, orders=(), stop_orders=(), fills=(), sequence=0)


def test_saving_again_writes_only_what_changed_and_keeps_balances(tmp_path: Path) -> None:
    engine = _traded(_engine())
    store = PaperStore(tmp_path / "p.db")
    _save(store, engine)
    engine.set_balance("BTC", Decimal("0.5"))
    _save(store, engine)
    saved = store.load()
    store.close()
    assert saved is not None
    assert saved.balances["BTC"] == Balance(Decimal("0.5"))
    assert len(saved.executions) == len(engine.fills)


def _append(store: PaperStore, at: int, kind: str = "heartbeat") -> None:
    store.append(at_ms=at, kind=kind, symbol=None, code=None, detail={"n": at}, session=1,
                 safetrade_digest="s" * 64, bot_digest="b" * 64)  # fmt: skip


def test_the_journal_refuses_updates_and_deletes(tmp_path: Path) -> None:
    store = PaperStore(tmp_path / "p.db")
    for at in range(3):
        _append(store, at)
    db = sqlite3.connect(tmp_path / "p.db")
    for statement in ("UPDATE journal SET kind = 'x'", "DELETE FROM journal WHERE seq = 2"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(statement)
    db.close()
    assert store.verify_journal() is None
    assert [e.detail for e in store.journal()] == [{"n": 0}, {"n": 1}, {"n": 2}]
    store.close()


def test_a_deleted_or_rewritten_entry_breaks_the_chain(tmp_path: Path) -> None:
    store = PaperStore(tmp_path / "p.db")
    for at in range(3):
        _append(store, at)
    db = sqlite3.connect(tmp_path / "p.db")
    db.execute("DROP TRIGGER journal_no_delete")
    db.execute("DELETE FROM journal WHERE seq = 2")
    db.commit()
    assert store.verify_journal() == "journal entry 2 is missing"
    db.execute("DELETE FROM journal WHERE seq = 3")  # now the chain 1 is intact, but short
    db.commit()
    db.close()
    assert store.verify_journal() == (
        "the journal ends at entry 1 but its head says 3: entries were removed or the head edited"
    )
    store.close()


def test_one_writer_at_a_time_and_readers_never_write(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    with PaperStore(path):
        with pytest.raises(ConfigError, match="another paper venue has"):
            PaperStore(path)
        with PaperStore(path, read_only=True) as reader:  # readers take no lock
            assert reader.journal() == []
    foreign = tmp_path / "other.sqlite3"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ConfigError, match="is not a paper database"):
        PaperStore(foreign, read_only=True)
    tables = sqlite3.connect(foreign).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("t",)]  # nothing was written into it


def test_a_file_that_is_not_a_paper_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    with PaperStore(path) as store:
        store.set_meta("schema", "999")
    with pytest.raises(ConfigError, match="its schema: 999"):
        PaperStore(path)
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(ConfigError, match="cannot open the paper database"):
        PaperStore(tmp_path / "dir.db")


def test_a_symlink_to_an_open_account_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    (tmp_path / "alias.db").symlink_to(path)
    with PaperStore(path), pytest.raises(ConfigError, match="another paper venue has"):
        PaperStore(tmp_path / "alias.db")


def test_a_read_sees_one_state_of_the_file_while_the_venue_writes(tmp_path: Path) -> None:
    """Rows and head read in one transaction: an append cannot land between them."""
    path = tmp_path / "p.db"
    writer = PaperStore(path)
    _append(writer, 0, "start")
    writer._db.execute("PRAGMA busy_timeout = 0")  # refused at once instead of waiting
    reader = PaperStore(path, read_only=True)
    try:
        with reader.snapshot():
            rows = reader.journal()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                _append(writer, 1)  # a venue writing now waits for the read to end
            assert reader.verify_journal() is None
            assert reader.journal() == rows
        _append(writer, 1)
        assert len(reader.journal()) == 2
    finally:
        reader.close()
        writer.close()


def test_a_bot_package_that_cannot_be_found_is_told_how_to_make_it_importable() -> None:
    """The fix named the very bot_package that could not be found, and nothing else."""
    from safetrade.errors import ConfigError
    from safetrade.paper.digests import code_digests

    with pytest.raises(ConfigError) as info:
        code_digests("no_such_paper_bot")
    message = str(info.value)
    assert "cannot digest the bot package 'no_such_paper_bot'" in message
    assert "pip install -e PATH" in message
    assert "python -m no_such_paper_bot" in message
