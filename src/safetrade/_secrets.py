"""Keep configured secrets out of every message safetrade builds from configuration.

A secret's *key* is always shown masked (``KUCOIN_API_SECRET='***'``), but a user who pastes the
secret into the wrong line of a ``.env`` (``MAX_ORDER_VALUE_USD=<the secret>``) would otherwise
see it echoed by the message about *that* line, and by every log record, alert and refusal built
from that setting. :class:`SecretMask` holds every secret value read while loading the settings
and replaces each of them with ``***`` wherever it appears, in whatever form a message shows it:
verbatim, stripped, quoted (``repr``), JSON-escaped, lower-cased (URL host names) or as a
normalised path. It is applied centrally: to the errors :func:`safetrade.load_settings` raises,
and, while a :class:`safetrade.Trader` runs (start-up, including the live gate's refusal, and
each call), to the errors it raises, the alerts it sends and the records of the ``safetrade.*``
loggers.

Short values: a secret of fewer than :data:`MIN_SUBSTRING_LENGTH` characters is masked only
where a message shows it as a whole quoted value (``'ab'``), never as a substring: masking every
``1`` or ``e`` would make every message unreadable, and a 1-3 character value is no credential
KuCoin issues anyway (its own key is still always shown as ``'***'``).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["MASK", "MIN_SUBSTRING_LENGTH", "SecretMask"]

#: What a secret is replaced with.
MASK = "***"
#: Secrets at least this long are masked wherever they appear, also inside other text; shorter
#: ones only as a whole quoted value (module docstring).
MIN_SUBSTRING_LENGTH = 4
_PASSES = 4  # a mask can complete another secret's text ("x" + "***"): re-check a few times


def _long_forms(value: str) -> set[str]:
    """The ways a message may show ``value``: verbatim, repr/JSON-escaped, lower case, a path."""
    forms = {value, value.lower(), repr(value)[1:-1], json.dumps(value)[1:-1]}
    try:
        path = Path(value)
        forms |= {str(path), str(path.expanduser())}
    except (RuntimeError, ValueError):  # "~nobody/..." or an embedded NUL: not a usable path
        pass
    return {f for f in forms if len(f) >= MIN_SUBSTRING_LENGTH}


def _short_pattern(value: str) -> str:
    """``value`` as a whole quoted value only ('ab' or "ab"), the quotes kept."""
    inner = "|".join(
        re.escape(f) for f in sorted({value, repr(value)[1:-1]}, key=len, reverse=True)
    )
    return f"(?<=['\"])(?:{inner})(?=['\"])"


class SecretMask:
    """Secret values to keep out of messages; ``repr`` shows how many, never which.

    Args:
        values: Secret values (empty and whitespace-only ones are ignored).
    """

    __slots__ = ("_forms", "_short", "_values")

    def __init__(self, values: Iterable[str | None] = ()) -> None:
        self._values: list[str] = []
        self._forms: tuple[str, ...] | None = None  # long forms, longest first
        self._short: re.Pattern[str] | None = None
        self.add(values)

    def add(self, values: Iterable[str | None]) -> None:
        """Mask ``values`` too (used while the settings are being read)."""
        for value in values:
            if value is None or not value.strip():
                continue
            for form in {value, value.strip()}:
                if form not in self._values:
                    self._values.append(form)
                    self._forms = None

    def __bool__(self) -> bool:
        return bool(self._values)

    def __repr__(self) -> str:
        return f"SecretMask({len(self._values)} value(s))"

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._values))

    def _prepared(self) -> tuple[tuple[str, ...], re.Pattern[str] | None]:
        if self._forms is None:
            long: set[str] = set()
            short: list[str] = []
            for value in self._values:
                if len(value) >= MIN_SUBSTRING_LENGTH:
                    long |= _long_forms(value)
                elif value not in MASK:  # a secret "*" must not re-match its own mask forever
                    short.append(_short_pattern(value))
            # longest first, so that a secret containing another one is masked whole
            self._forms = tuple(sorted(long, key=len, reverse=True))
            self._short = re.compile("|".join(short)) if short else None
        return self._forms, self._short

    def _pass(self, text: str) -> str:
        forms, short = self._prepared()
        for form in forms:
            if form in text:
                text = text.replace(form, MASK)
        return text if short is None else short.sub(MASK, text)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        if not self._values or not text:
            return text
        for _ in range(_PASSES):
            masked = self._pass(text)
            if masked == text:
                return text
            text = masked
        return MASK if self.leaks(text) else text

    def leaks(self, text: str) -> bool:
        """Whether ``text`` shows a secret."""
        forms, short = self._prepared()
        return any(f in text for f in forms) or (short is not None and bool(short.search(text)))

    def scrub(self, exc: BaseException) -> BaseException:
        """Redact ``exc`` and its causes in place (message, ``what``/``why``/``fix``, ...).

        A cause whose text still shows a secret afterwards (an exception type whose message is
        not built from its attributes) is cut from the chain. Returns ``exc``.
        """
        seen: set[int] = set()
        link: BaseException | None = exc
        while link is not None and id(link) not in seen and self:
            seen.add(id(link))
            self._scrub_one(link)
            for attr in ("__cause__", "__context__"):
                cause = getattr(link, attr)
                if cause is not None:
                    self._scrub_one(cause)
                    if self.leaks(_text_of(cause)):
                        link.__cause__ = link.__context__ = None
                        link.__suppress_context__ = True
            link = link.__cause__ or link.__context__
        return exc

    def _scrub_one(self, exc: BaseException) -> None:
        args = tuple(self._redact_any(a) for a in exc.args)
        if any(a is not b for a, b in zip(args, exc.args, strict=True)):
            exc.args = args
        for name, value in list(vars(exc).items()):
            cleaned = self._redact_any(value)
            if cleaned is not value:
                setattr(exc, name, cleaned)
        if isinstance(exc, OSError):  # its message is built from these, not from args
            for name in ("filename", "filename2", "strerror"):
                value = getattr(exc, name)
                if isinstance(value, str | os.PathLike) and self.leaks(str(value)):
                    setattr(exc, name, self.redact(str(value)))

    def _redact_any(self, value: object) -> object:
        if isinstance(value, str):
            cleaned = self.redact(value)
            return value if cleaned == value else cleaned
        if isinstance(value, tuple | list) and any(isinstance(v, str) for v in value):
            items = [self._redact_any(v) for v in value]
            if any(a is not b for a, b in zip(items, value, strict=True)):
                return type(value)(items)
        return value

    def redact_record(self, record: logging.LogRecord) -> None:
        """Redact a log record in place: its message, exception text and stack."""
        if not self:
            return
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: logging reports it itself
            return
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            self.scrub(record.exc_info[1])
            text = "".join(traceback.format_exception(record.exc_info[1])).rstrip("\n")
            if self.leaks(text):  # what the scrub could not reach
                record.exc_text = self.redact(text)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)

    @contextmanager
    def applied(self) -> Iterator[SecretMask]:
        """Redact ``safetrade.*`` log records and any exception raised, while inside.

        Covers the loggers that exist when the block is entered (every safetrade module makes
        its logger on import, so import a lazily loaded module before entering).
        """
        _install_filter()
        token = _ACTIVE.set(self)
        try:
            yield self
        except BaseException as exc:
            self.scrub(exc)
            raise
        finally:
            _ACTIVE.reset(token)


def _text_of(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)) + repr(exc)


_ACTIVE: contextvars.ContextVar[SecretMask | None] = contextvars.ContextVar(
    "safetrade_secret_mask", default=None
)


class _RedactActiveMask(logging.Filter):
    """Redacts each record with the mask active in this context (if any); drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask = _ACTIVE.get()
        if mask is not None:
            mask.redact_record(record)
        return True


_FILTER = _RedactActiveMask()


def _install_filter() -> None:
    """Attach the filter to every ``safetrade`` logger.

    A logger's filter sees only its own records, not those of its children, so each needs it.
    """
    loggers = [logging.getLogger("safetrade"), *list(logging.root.manager.loggerDict.values())]
    for logger in loggers:
        if isinstance(logger, logging.Logger) and logger.name.split(".")[0] == "safetrade":
            logger.addFilter(_FILTER)  # a no-op when it is there already
