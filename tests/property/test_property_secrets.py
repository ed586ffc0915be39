"""Property: a secret pasted into any other setting is never echoed.

Random secret values for the KuCoin credentials (and for a secret-looking key safetrade never
reads) are pasted, with a little junk around them, into random non-secret settings, from the
environment or the ``.env`` file. Whatever happens next (a ConfigError from loading, or the
live gate refusing start-up), no error message (nor a cause's) and no log record shows any of
the secrets.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

import safetrade
from safetrade._secrets import MIN_SUBSTRING_LENGTH
from safetrade.certification import gate
from safetrade.certification.provenance import RunningCode
from safetrade.config import _KEYS

SECRET_KEYS = [k.name for k in _KEYS if k.kind == "secret"]
NON_SECRET_KEYS = [k.name for k in _KEYS if k.kind != "secret"]
UNREAD_SECRET = "OTHER_EXCHANGE_API_SECRET"  # secret-looking, in the file, never used
BOT = "safetrade.reference_bot"

# what a key, secret or passphrase is made of, plus characters a message shows differently
# (quotes and backslashes escaped by repr, non-ASCII, a zero-width space, "İ" that lower-cases
# to two characters, path separators); long enough to be masked inside other text (shorter
# ones: safetrade._secrets's docstring). No "*": a secret such as "'***" would be found in
# the mask itself.
EDGE = string.ascii_letters + string.digits + string.punctuation.replace("*", "") + "éß€İ\u200b"
SECRET = st.text(EDGE, min_size=MIN_SUBSTRING_LENGTH, max_size=12)
PREFIXES = st.sampled_from(["", " ", "x", "1.", "d/", "./", "http://", "~/", "$"])
SUFFIXES = st.sampled_from(["", " ", "0", "/", "/f.pub", "%", "'"])
TARGETS = st.lists(st.sampled_from(NON_SECRET_KEYS), min_size=1, max_size=2)
WHICH = st.integers(0, len(SECRET_KEYS))  # which of the secrets (the unread one last)
# where each line is written: the environment, the .env file, or the secrets in one and the
# lines they were pasted into in the other
WHERE = st.sampled_from(["env", "file", "secrets in file", "pasted in file"])


def quoted(value: str) -> str:
    """``value`` in single quotes, escaped the way python-dotenv reads it back."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@st.composite
def pasted(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(process env, .env entries, the secrets) with secrets pasted into other settings."""
    secrets = {name: draw(SECRET) for name in [*SECRET_KEYS, UNREAD_SECRET]}
    values = {
        "TRADING_MODE": "live", "ACCOUNT_BALANCE_USD": "123", "RISK_PERCENT": "1",
        "MAX_OPEN_POSITIONS": "1", "SAFETRADE_CERTIFICATE": "out/safetrade.cert.json",
        "SAFETRADE_TRUSTED_KEYS": "trusted-keys", **secrets,
    }  # fmt: skip
    pasted_into = draw(TARGETS)
    for target in pasted_into:
        secret = list(secrets.values())[draw(WHICH)]
        values[target] = draw(PREFIXES) + secret + draw(SUFFIXES)
    where = draw(WHERE)
    in_file = {
        "env": set(),
        "file": set(values),
        "secrets in file": set(secrets) - set(pasted_into),
        "pasted in file": set(pasted_into),
    }[where]
    process = {k: v for k, v in values.items() if k not in in_file}
    dotenv = {k: v for k, v in values.items() if k in in_file}
    return process, dotenv, list(secrets.values())


# what the gate measures of the running code: no artifact exists, so its digests are never
# compared (measuring the real code would cost more than all the examples)
RUNNING = RunningCode(safetrade_files={}, bot_package=BOT, bot_files={}, config_schema_digest=None)


@functools.cache
def _folder() -> str:
    # one folder for every example: nothing is written but the .env (the kill switch lives in
    # memory; the certificate and the trusted keys are only read)
    return tempfile.mkdtemp(prefix="safetrade-secrets-")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts += [record.getMessage(), record.exc_text or ""]


@contextlib.contextmanager
def _captured() -> Iterator[_Records]:
    handler = _Records()
    root, package = logging.getLogger(), logging.getLogger("safetrade")
    level = package.level
    root.addHandler(handler)
    package.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        package.setLevel(level)


def _messages(exc: BaseException | None) -> Iterator[str]:
    """The message of ``exc`` and of each cause a traceback would show.

    Only what safetrade wrote: a traceback's source lines, class and logger names are code,
    and a random secret such as ``None`` or ``rror`` is found in them by chance.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield str(exc)
        yield from getattr(exc, "__notes__", [])
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)


def _never_connect() -> safetrade.Gateway:
    raise AssertionError("start-up reached the exchange without a certification")


@given(pasted())
def test_a_secret_pasted_into_another_setting_is_never_shown(case):
    process, dotenv, secrets = case
    texts: list[str] = []
    with (
        contextlib.chdir(_folder()),  # relative paths the settings name resolve in here
        mock.patch.object(gate, "measure_running_code", return_value=RUNNING),
        _captured() as records,
    ):
        if dotenv:
            Path(".env").write_text("".join(f"{k}={quoted(v)}\n" for k, v in dotenv.items()))
        try:
            settings = safetrade.load_settings(env=process, dotenv_path=".env" if dotenv else None)
            safetrade.Trader.start(
                settings, _never_connect, symbol="SOL/USDT", bot_package=BOT,
                kill_switch=safetrade.KillSwitch(None),  # nothing written outside tmp
            )  # fmt: skip
        except safetrade.SafetradeError as exc:
            texts += _messages(exc)
        else:
            raise AssertionError("live start-up without a certificate")
        texts += records.texts
    for secret in secrets:
        for text in texts:
            assert secret not in text
            assert repr(secret)[1:-1] not in text
