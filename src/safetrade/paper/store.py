"""The paper account on disk: one sqlite file with the venue's records and the journal.

The exchange records (balances, orders, stop orders, executions) are saved after every request
that could change them, in one transaction, so a paper run survives a crash or a restart. The
journal is append-only (sqlite triggers refuse UPDATE and DELETE) and hash-chained: each entry
stores the SHA-256 of the previous entry and of itself, and the newest entry's number and hash
are kept beside it, so an edited, removed or truncated entry is found by
:meth:`PaperStore.verify_journal`. This catches accidents and casual edits, not an owner who
rewrites the whole file (who also holds the signing key certify uses).

One process at a time: a writer holds an exclusive lock on ``<file>.lock`` (two venues on one
account would hand out the same order ids and overwrite each other's records).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import attrs

from safetrade._filelock import exclusive_lock
from safetrade.errors import ConfigError

if TYPE_CHECKING:
    # importing safetrade.testing loads the whole fake (httpx, respx): only the venue needs it
    from safetrade.testing._state import Balance, Execution, Order, StopOrder

__all__ = ["JournalEntry", "PaperStore", "SavedState"]

SCHEMA_VERSION = "2"
_GENESIS = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS balances (
    currency TEXT PRIMARY KEY, available TEXT NOT NULL, holds TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stop_orders (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (seq INTEGER PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    symbol TEXT,
    code TEXT,
    detail TEXT NOT NULL,
    safetrade_digest TEXT NOT NULL,
    bot_digest TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON journal
    BEGIN SELECT RAISE(ABORT, 'the paper journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON journal
    BEGIN SELECT RAISE(ABORT, 'the paper journal is append-only'); END;
"""

T = TypeVar("T")


def _encode(record: object) -> str:
    fields = attrs.asdict(record, recurse=False)  # type: ignore[arg-type]
    return json.dumps(
        {k: str(v) if isinstance(v, Decimal) else v for k, v in fields.items()},
        sort_keys=True,
    )


_DECIMAL_FIELDS: dict[type, frozenset[str]] = {}


def _decimal_fields(cls: type) -> frozenset[str]:
    if cls not in _DECIMAL_FIELDS:
        attrs.resolve_types(cls)
        _DECIMAL_FIELDS[cls] = frozenset(
            f.name for f in attrs.fields(cls) if f.type in (Decimal, Decimal | None)
        )
    return _DECIMAL_FIELDS[cls]


def _decode(cls: type[T], text: str) -> T:
    raw = json.loads(text)
    decimals = _decimal_fields(cls)
    return cls(**{k: Decimal(v) if k in decimals and v is not None else v for k, v in raw.items()})


@attrs.frozen
class SavedState:
    """The exchange records of a paper account as last saved."""

    balances: Mapping[str, Balance]
    orders: tuple[Order, ...]
    stop_orders: tuple[StopOrder, ...]
    executions: tuple[Execution, ...]
    sequence: int


@attrs.frozen
class JournalEntry:
    """One journal entry: what happened on the paper venue, and the code that did it.

    Attributes:
        seq: Position in the journal (1 = first).
        session: The ``seq`` of the ``start`` entry of the venue (process) that wrote it.
        at_ms: Venue time, epoch milliseconds.
        kind: ``start``, ``order``, ``rejection``, ``fill``, ``cancel``, ``bare_open``
            (coins became bare), ``bare`` (a bare window closed), ``round_trip``,
            ``protection``, ``refusal`` or ``order test``.
        symbol: KuCoin symbol (``SOL-USDT``), if any.
        code: KuCoin's code of a rejection, the outcome of a protection.
        detail: The rest, as JSON-able values (amounts as strings).
        safetrade_digest: Digest of the safetrade code that ran.
        bot_digest: Digest of the bot package that ran.
    """

    seq: int
    session: int
    at_ms: int
    kind: str
    symbol: str | None
    code: str | None
    detail: Mapping[str, Any]
    safetrade_digest: str
    bot_digest: str


def _entry_hash(prev: str, row: tuple[object, ...]) -> str:
    return hashlib.sha256((prev + json.dumps(row, sort_keys=True)).encode()).hexdigest()


class PaperStore:
    """One paper account's sqlite database (created when missing).

    Args:
        path: The database file.
        read_only: Open an existing database for reading only (``paper status``, certify):
            nothing is created or written, and no lock is taken.

    Raises:
        ConfigError: The file cannot be opened, is not a paper database of this schema, or
            (for a writer) another process has it open.
    """

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._lock: IO[str] | None = None
        # what the file holds, per table, as this writer last read or wrote it
        self._saved: dict[str, dict[str, str]] = {}
        self._saved_executions: int | None = None
        fix = "set SAFETRADE_PAPER_DB to a writable file path"
        try:
            if read_only:
                self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                           isolation_level=None,
                                           check_same_thread=False)  # fmt: skip
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._lock = _exclusive_lock(self.path)
                # autocommit off: every save is one explicit transaction
                self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                self._db.executescript(_SCHEMA)
            version = self.meta("schema")
        except (OSError, sqlite3.Error) as exc:
            self._release()
            raise ConfigError(f"cannot open the paper database {self.path}: {exc}",
                              fix=fix) from exc  # fmt: skip
        # a store dropped without close() (a bot that just exits) still lets go of its files
        self._finalizer = weakref.finalize(self, _close_quietly, self._db, self._lock)
        if version is None and not read_only:
            self.set_meta("schema", SCHEMA_VERSION)
        elif version != SCHEMA_VERSION:
            self.close()
            raise ConfigError(
                f"{self.path} is not a paper database of schema {SCHEMA_VERSION} "
                f"(its schema: {version})",
                fix="point SAFETRADE_PAPER_DB at a new file, or use the safetrade that wrote it",
            )

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def close(self) -> None:
        """Close the database and let another process open it."""
        self._finalizer.detach()
        self._db.close()
        self._release()

    def __enter__(self) -> PaperStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read inside one transaction: every read sees the same state of the file."""
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            # a failed COMMIT (a reader held the file past the busy timeout) leaves the
            # transaction open: roll it back, or every later write would fail too
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    # --- meta ----------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        """A stored setting (e.g. the starting balance), or None."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:
            return None  # no meta table: not a paper database
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str | None) -> None:
        """Store (or, with None, remove) a setting."""
        with self._transaction() as db:
            self._put_meta(db, key, value)

    @staticmethod
    def _put_meta(db: sqlite3.Connection, key: str, value: str | None) -> None:
        if value is None:
            db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- exchange records ----------------------------------------------------------------

    def load(self) -> SavedState | None:
        """The saved records, or None for a new account."""
        sequence = self.meta("sequence")
        if sequence is None:
            return None
        from safetrade.testing._state import Balance, Execution, Order, StopOrder  # noqa: PLC0415

        db = self._db
        balances = {
            c: Balance(Decimal(a), Decimal(h))
            for c, a, h in db.execute("SELECT currency, available, holds FROM balances")
        }
        return SavedState(
            balances=balances,
            orders=tuple(_decode(Order, r) for (r,) in db.execute("SELECT record FROM orders")),
            stop_orders=tuple(
                _decode(StopOrder, r) for (r,) in db.execute("SELECT record FROM stop_orders")
            ),
            executions=tuple(
                _decode(Execution, r)
                for (r,) in db.execute("SELECT record FROM executions ORDER BY seq")
            ),
            sequence=int(sequence),
        )

    def save(
        self,
        *,
        balances: Mapping[str, Balance],
        orders: Mapping[str, Order],
        stop_orders: Mapping[str, StopOrder],
        executions: list[Execution],
        sequence: int,
        meta: Mapping[str, str | None] | None = None,
    ) -> None:
        """Write the records that changed since the last save, in one transaction."""
        tables = {
            "orders": self._changed("orders", {k: _encode(v) for k, v in orders.items()}),
            "stop_orders": self._changed(
                "stop_orders", {k: _encode(v) for k, v in stop_orders.items()}
            ),
        }
        appended = executions[self._executions_saved() :]  # executions are only ever appended
        with self._transaction() as db:
            for currency, balance in balances.items():
                db.execute(
                    "INSERT OR REPLACE INTO balances (currency, available, holds) VALUES (?, ?, ?)",
                    (currency, str(balance.available), str(balance.holds)),
                )
            for table, changed in tables.items():
                # the table name is one of two literals above, never user input
                db.executemany(
                    f"INSERT OR REPLACE INTO {table} (id, record) VALUES (?, ?)",  # noqa: S608
                    changed.items(),
                )
            db.executemany(
                "INSERT INTO executions (seq, record) VALUES (?, ?)",
                [(e.seq, _encode(e)) for e in appended],
            )
            self._put_meta(db, "sequence", str(sequence))
            for key, value in (meta or {}).items():
                self._put_meta(db, key, value)
        # committed: what the file now holds (this process holds the only writer's lock)
        for table, changed in tables.items():
            self._saved[table].update(changed)
        self._saved_executions = len(executions)

    def _changed(self, table: str, rows: Mapping[str, str]) -> dict[str, str]:
        """The rows of ``table`` that differ from what the file holds."""
        saved = self._saved.get(table)
        if saved is None:
            # read once per process; later saves are compared with the memory of the file
            saved = self._saved[table] = dict(
                self._db.execute(f"SELECT id, record FROM {table}").fetchall()  # noqa: S608
            )
        return {k: v for k, v in rows.items() if saved.get(k) != v}

    def _executions_saved(self) -> int:
        if self._saved_executions is None:
            (count,) = self._db.execute("SELECT COUNT(*) FROM executions").fetchone()
            self._saved_executions = int(count)
        return self._saved_executions

    # --- journal -------------------------------------------------------------------------

    def append(
        self,
        *,
        at_ms: int,
        kind: str,
        symbol: str | None,
        code: str | None,
        detail: Mapping[str, Any],
        safetrade_digest: str,
        bot_digest: str,
        session: int | None,
    ) -> JournalEntry:
        """Append one entry to the journal (chained to the previous one).

        Args:
            at_ms: When it happened (venue time).
            kind: What happened (see :class:`JournalEntry`).
            symbol: The market, if any.
            code: KuCoin's code, the outcome or the alert's event, if any.
            detail: The rest (JSON-able).
            safetrade_digest: Digest of the safetrade code that produced it.
            bot_digest: Digest of the bot code that produced it.
            session: The session's ``start`` entry; None for a ``start`` entry itself.
        """
        text = json.dumps(dict(detail), sort_keys=True, default=str)
        with self._transaction() as db:
            last = db.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (1, _GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
            own = seq if session is None else session
            row = (seq, own, at_ms, kind, symbol, code, text, safetrade_digest, bot_digest)
            digest = _entry_hash(prev, row)
            db.execute(
                "INSERT INTO journal (seq, session, at_ms, kind, symbol, code, detail, "
                "safetrade_digest, bot_digest, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, prev, digest),
            )
            # the head: removing the newest entries leaves a chain that is intact but short
            self._put_meta(db, "journal_head", f"{seq}:{digest}")
        return JournalEntry(seq, own, at_ms, kind, symbol, code, json.loads(text),
                            safetrade_digest, bot_digest)  # fmt: skip

    def journal(self) -> list[JournalEntry]:
        """Every journal entry, oldest first."""
        rows = self._db.execute(
            "SELECT seq, session, at_ms, kind, symbol, code, detail, safetrade_digest, "
            "bot_digest FROM journal ORDER BY seq"
        )
        return [
            JournalEntry(seq, session, at, kind, sym, code, json.loads(detail), sd, bd)
            for seq, session, at, kind, sym, code, detail, sd, bd in rows
        ]

    def verify_journal(self) -> str | None:
        """None when the chain is intact, else what is wrong (the first broken entry)."""
        prev, expected_seq = _GENESIS, 1
        rows = self._db.execute(
            "SELECT seq, session, at_ms, kind, symbol, code, detail, safetrade_digest, "
            "bot_digest, prev_hash, hash FROM journal ORDER BY seq"
        )
        for *row, prev_hash, digest in rows:
            seq = int(row[0])
            if seq != expected_seq:
                return f"journal entry {expected_seq} is missing"
            if prev_hash != prev or digest != _entry_hash(prev, tuple(row)):
                return f"journal entry {seq} was changed after it was written"
            prev, expected_seq = str(digest), seq + 1
        head = self.meta("journal_head")
        last = f"{expected_seq - 1}:{prev}" if expected_seq > 1 else None
        if head != last:
            return (
                f"the journal ends at entry {expected_seq - 1} but its head says "
                f"{(head or 'none').partition(':')[0]}: entries were removed or the head edited"
            )
        return None


def _close_quietly(db: sqlite3.Connection, lock: IO[str] | None) -> None:
    db.close()
    if lock is not None:
        lock.close()


def _exclusive_lock(path: Path) -> IO[str] | None:
    """Hold ``<real path>.lock`` exclusively, or refuse: one process per paper account.

    The real path (symlinks resolved) names the lock, so every way to the file meets it; the
    lock is a separate file so it never interferes with sqlite's own locks on the database.
    """
    real = path.resolve()
    return exclusive_lock(
        real.with_name(real.name + ".lock"),
        what=f"another paper venue has {path} open",
        why="two venues on one paper account would hand out the same order ids and "
        "overwrite each other's records",
        fix="stop the other bot, or give this one its own SAFETRADE_PAPER_DB",
    )
