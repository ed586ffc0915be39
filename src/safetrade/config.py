"""Strict settings from the process environment and/or a ``.env`` file.

On Feb 6 the ``.env`` said ``ACCOUNT_BALANCE=123``, the code read ``ACCOUNT_BALANCE_USD``,
found nothing, and used 10000. Here:

* money-critical keys (mode, balance, risk, max positions, exchange credentials,
  certification paths) have **no default in live mode**; every missing one is reported at once;
* a missing key whose near miss *is* present (``ACCOUNT_BALANCE`` for ``ACCOUNT_BALANCE_USD``,
  ``RISK_PCT`` for ``RISK_PERCENT``, ``account_balance_usd``) is named in the error, in every
  mode: a typo is never silently ignored;
* values are parsed strictly: plain decimals only (no ``nan``, ``inf``, ``$``, ``%``), no
  negatives, percents at most 100;
* a key set in both the process environment and the ``.env`` file with different values is an
  error, because which one wins is exactly the kind of thing nobody remembers at 12:39 PM;
* no message shows a secret: not under its own key, and not where it was pasted into another
  setting's line (:class:`safetrade._secrets.SecretMask` masks every secret-looking value read,
  used or not, in every error raised here and in the trader's logs, alerts and refusals).

The schema itself (:func:`settings_schema`) is part of what certification binds to.
"""

from __future__ import annotations

import difflib
import enum
import functools
import io
import logging
import os
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from safetrade._decimal import PLAIN_NUMBER, to_decimal
from safetrade._secrets import SecretMask
from safetrade.errors import ConfigError, InvalidValue

__all__ = ["Mode", "Settings", "load_settings", "settings_schema"]

log = logging.getLogger("safetrade.config")

#: Where a paper account lives unless SAFETRADE_PAPER_DB says otherwise (relative to the
#: working directory; certify reads it relative to the project root).
DEFAULT_PAPER_DB = Path(".safetrade/paper.sqlite3")


class Mode(enum.Enum):
    """Paper trades against a simulated balance; live sends real orders."""

    PAPER = "paper"
    LIVE = "live"


@attrs.frozen(kw_only=True)
class _Key:
    name: str
    kind: str  # mode | decimal | percent | int | secret | path | consent | url | account
    description: str
    live_required: bool
    paper_default: object = None
    live_default: object = None
    positive: bool = True
    field: str = ""  # the Settings attribute that declares the key (filled in below)


#: The exact words SAFETRADE_LIVE_WITH_DEVELOPER_KEY must say: a "yes" typed in passing is not
#: an owner accepting an unreviewed signing key for real money.
DEVELOPER_KEY_CONSENT = "I accept an unreviewed developer key"

_META = "safetrade.setting"


def _setting(key: _Key, *, default: object = attrs.NOTHING, secret: bool = False) -> Any:  # noqa: ANN401 - attrs.field's own return type
    """A Settings attribute and the environment key it is read from, declared once."""
    shown: Any = (lambda v: "None" if v is None else "'***'") if secret else True
    return attrs.field(default=default, repr=shown, metadata={_META: key})


@attrs.frozen(kw_only=True)
class Settings:
    """Validated settings. Secrets never appear in ``repr``.

    Each attribute declares the environment key it is read from, its rules and its
    defaults (``settings_schema()`` lists them).

    Attributes:
        mode: Paper or live.
        account_balance_usd: Expected exchange balance; ``None`` only in paper mode.
        risk_percent: Largest loss per trade, percent.
        max_open_positions: Most positions held at once.
        min_signal_strength: Minimum strategy signal, or ``None``.
        max_order_value_usd: Largest order value, or ``None``.
        price_collar_percent: Price collar width, percent.
        balance_tolerance_percent: Allowed configured/exchange balance gap, percent.
        api_key: KuCoin API key.
        api_secret: KuCoin API secret.
        api_passphrase: KuCoin API passphrase.
        certificate: Path of the certification artifact.
        trusted_keys: Path of the trusted public keys file.
        kill_switch_file: Path of the persistent kill switch, or ``None`` for in-memory.
        paper_db: Paper mode: the paper account's sqlite file (``None`` in live mode).
        paper_market_data_url: Paper mode: base URL of KuCoin's public API (``None``: KuCoin).
        live_with_developer_key: The owner accepted live trading under a certificate signed
            with an unreviewed developer key (SAFETRADE_LIVE_WITH_DEVELOPER_KEY).
        sources: Where each key came from (``"env"`` or the ``.env`` path), for messages.
        read_secrets: Every secret-looking value read while loading, used or not (a near miss
            such as ``KUCOIN_API_SECRT``, both lines of a key set twice, ...); never shown.
    """

    mode: Mode = _setting(
        _Key(name="TRADING_MODE", kind="mode", live_required=True,
             description="paper or live; required in every mode")
    )  # fmt: skip
    account_balance_usd: Decimal | None = _setting(
        _Key(name="ACCOUNT_BALANCE_USD", kind="decimal", live_required=True,
             description="the balance you expect the exchange to report (USDT); the guard "
             "refuses to trade when the exchange disagrees. Paper mode without it uses the "
             "exchange's (or the paper account's) balance"),
        default=None,
    )  # fmt: skip
    risk_percent: Decimal = _setting(
        _Key(name="RISK_PERCENT", kind="percent", live_required=True, paper_default=Decimal(1),
             description="largest loss per trade at the stop, percent of the balance (1 = 1 %)")
    )  # fmt: skip
    max_open_positions: int = _setting(
        _Key(name="MAX_OPEN_POSITIONS", kind="int", live_required=True, paper_default=1,
             description="most positions held at once")
    )  # fmt: skip
    min_signal_strength: Decimal | None = _setting(
        _Key(name="MIN_SIGNAL_STRENGTH", kind="decimal", live_required=False, positive=False,
             description="smallest strategy signal that may trade; unset disables the check"),
        default=None,
    )  # fmt: skip
    max_order_value_usd: Decimal | None = _setting(
        _Key(name="MAX_ORDER_VALUE_USD", kind="decimal", live_required=False,
             description="largest single order value; unset disables it"),
        default=None,
    )  # fmt: skip
    price_collar_percent: Decimal = _setting(
        _Key(name="PRICE_COLLAR_PERCENT", kind="percent", live_required=False,
             paper_default=Decimal(5), live_default=Decimal(5),
             description="largest distance of an entry from the last price, percent")
    )  # fmt: skip
    balance_tolerance_percent: Decimal = _setting(
        _Key(name="BALANCE_TOLERANCE_PERCENT", kind="percent", live_required=False,
             paper_default=Decimal(2), live_default=Decimal(2), positive=False,
             description="how far ACCOUNT_BALANCE_USD may differ from the exchange, percent")
    )  # fmt: skip
    api_key: str | None = _setting(
        _Key(name="KUCOIN_API_KEY", kind="secret", live_required=True,
             description="KuCoin API key"),
        default=None, secret=True,
    )  # fmt: skip
    api_secret: str | None = _setting(
        _Key(name="KUCOIN_API_SECRET", kind="secret", live_required=True,
             description="KuCoin API secret"),
        default=None, secret=True,
    )  # fmt: skip
    api_passphrase: str | None = _setting(
        _Key(name="KUCOIN_API_PASSPHRASE", kind="secret", live_required=True,
             description="KuCoin API passphrase"),
        default=None, secret=True,
    )  # fmt: skip
    certificate: Path | None = _setting(
        _Key(name="SAFETRADE_CERTIFICATE", kind="path", live_required=True,
             description="signed certification artifact from `tox -e certify`"),
        default=None,
    )  # fmt: skip
    trusted_keys: Path | None = _setting(
        _Key(name="SAFETRADE_TRUSTED_KEYS", kind="path", live_required=True,
             description="file of public keys trusted to sign certifications"),
        default=None,
    )  # fmt: skip
    kill_switch_file: Path | None = _setting(
        _Key(name="SAFETRADE_KILL_SWITCH_FILE", kind="path", live_required=False,
             paper_default=None, live_default=Path(".safetrade/kill-switch.json"),
             description="where the kill switch state survives restarts"),
        default=None,
    )  # fmt: skip
    paper_db: Path | None = _setting(
        _Key(name="SAFETRADE_PAPER_DB", kind="path", live_required=False,
             paper_default=DEFAULT_PAPER_DB, live_default=None,
             description="paper mode: the paper account's sqlite file (balances, orders, "
             "journal); it survives restarts and certify reads its journal"),
        default=None,
    )  # fmt: skip
    paper_market_data_url: str | None = _setting(
        _Key(name="SAFETRADE_PAPER_MARKET_DATA_URL", kind="url", live_required=False,
             paper_default=None, live_default=None,
             description="paper mode: where KuCoin's public market data is read (default "
             "https://api.kucoin.com), e.g. a `safetrade fake-kucoin` replaying a price path; "
             "public endpoints only, nothing is signed"),
        default=None,
    )  # fmt: skip
    paper_account: str = _setting(
        _Key(name="SAFETRADE_PAPER_ACCOUNT", kind="account", live_required=False,
             paper_default="classic", live_default="classic",
             description="paper mode: the KuCoin account type the paper venue copies, classic "
             "or hf (set it to your live account's: an HF account refuses a clientOid it "
             "still knows and a remark over 20 characters, which a classic one accepts)"),
        default="classic",
    )  # fmt: skip
    live_with_developer_key: bool = _setting(
        _Key(name="SAFETRADE_LIVE_WITH_DEVELOPER_KEY", kind="consent", live_required=False,
             paper_default=False, live_default=False,
             description="live mode refuses a certificate signed with the auto-created "
             "developer key (nobody reviewed it) unless this says "
             f"{DEVELOPER_KEY_CONSENT!r}"),
        default=False,
    )  # fmt: skip
    sources: Mapping[str, str] = attrs.field(factory=dict, repr=False, eq=False)
    read_secrets: tuple[str, ...] = attrs.field(default=(), repr=False, eq=False)

    @property
    def is_live(self) -> bool:
        """Whether real orders are sent."""
        return self.mode is Mode.LIVE

    def secret_mask(self) -> SecretMask:
        """Masks the API credentials and every other secret read with these settings."""
        return SecretMask([*self.read_secrets, self.api_key, self.api_secret, self.api_passphrase])


_KEYS: tuple[_Key, ...] = tuple(
    attrs.evolve(f.metadata[_META], field=f.name)
    for f in attrs.fields(Settings)
    if _META in f.metadata
)
_BY_NAME = {k.name: k for k in _KEYS}

# Abbreviations people actually type; expanded before comparing key names.
_ABBREVIATIONS = {
    "PCT": "PERCENT",
    "PC": "PERCENT",
    "PERC": "PERCENT",
    "BAL": "BALANCE",
    "POS": "POSITIONS",
    "POSITION": "POSITIONS",
    "ACC": "ACCOUNT",
    "ACCT": "ACCOUNT",
    "MAXIMUM": "MAX",
    "MINIMUM": "MIN",
    "SECRETKEY": "SECRET",
    "PASS": "PASSPHRASE",
    "PASSWORD": "PASSPHRASE",
    "CERT": "CERTIFICATE",
    "SIG": "SIGNAL",
}
# ASCII digits only: ``\d`` and ``str.isdigit`` also match Arabic-Indic digits and superscripts.
_PLAIN_NUMBER = PLAIN_NUMBER  # the library's one rule for number text
_WHOLE_NUMBER = re.compile(r"[0-9]{1,15}")


def settings_schema() -> dict[str, Any]:
    """A JSON-able description of every key, rule and default; certification hashes it."""
    return {
        "schema": "safetrade.Settings/v1",
        "keys": [
            {
                "name": k.name,
                "kind": k.kind,
                "requiredInLive": k.live_required,
                "paperDefault": None if k.paper_default is None else str(k.paper_default),
                "liveDefault": None if k.live_default is None else str(k.live_default),
                "positive": k.positive,
                "description": k.description,
            }
            for k in _KEYS
        ],
        "rules": [
            "near-miss keys of missing keys are errors in every mode",
            "a key set in env and .env with different values is an error",
            "decimals are plain numbers: no nan, inf, exponent, currency or percent signs",
            "percents are at most 100",
        ],
    }


def load_settings(
    *, env: Mapping[str, str] | None = None, dotenv_path: str | Path | None = None
) -> Settings:
    """Load and validate settings; report every problem at once.

    Args:
        env: Variables to read; defaults to ``os.environ``.
        dotenv_path: A ``.env`` file to read as well (parsed with python-dotenv, never written
            into ``os.environ``). It must exist when given.

    Returns:
        Validated :class:`Settings`.

    Raises:
        ConfigError: Listing every missing key (with near misses found), malformed value and
            env/.env conflict.
    """
    process = dict(os.environ if env is None else env)
    # only what is read: the mapping given (os.environ without one) and the .env file
    mask = SecretMask(value for name, value in process.items() if _secretish(name))
    with mask.applied():  # every error raised below, and the warnings, are redacted
        return _load(process, dotenv_path, mask)


def _load(process: dict[str, str], dotenv_path: str | Path | None, mask: SecretMask) -> Settings:
    merged, sources, problems = _merge(process, dotenv_path, mask)
    mode = _read_mode(merged, problems)
    values: dict[str, object] = {}
    for key in _KEYS:
        if key.name == "TRADING_MODE":
            continue
        raw = merged.get(key.name)
        if raw is None:
            values[key.field] = _missing(key, mode, merged, problems)
            continue
        try:
            values[key.field] = _parse(key, raw, sources.get(key.name, "env"))
        except ConfigError as exc:
            problems.append(str(exc))
    if problems or mode is None:
        raise ConfigError(
            f"{len(problems)} setting problem(s)" if problems else "settings invalid",
            why=" | ".join(problems),
            fix="correct each setting named above in the environment or the .env file "
            "(every key: safetrade.config.settings_schema())",
        )
    for name in merged:
        if _unknown(name) and (near := _near_misses_of(name)):
            log.warning("unknown setting %s looks like %s; it is ignored", name, near)
    return Settings(mode=mode, sources=sources, read_secrets=tuple(mask), **values)  # type: ignore[arg-type]


def _merge(
    process: dict[str, str], dotenv_path: str | Path | None, mask: SecretMask
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    problems: list[str] = []
    sources = dict.fromkeys(process, "env")
    if dotenv_path is None:
        return process, sources, problems
    path = Path(dotenv_path)
    if not path.is_file():
        raise ConfigError(
            f".env file {path} does not exist",
            fix="pass the path of your .env file, or dotenv_path=None to use the environment",
        )
    from dotenv import dotenv_values  # noqa: PLC0415 - only needed when a file is given
    from dotenv.parser import parse_stream  # noqa: PLC0415

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f".env file {path} cannot be read as UTF-8 text ({exc})",
            fix="save the .env file as plain UTF-8 text",
        ) from None
    # python-dotenv skips a line it cannot parse (an unclosed quote, say), which would silently
    # drop that setting; an optional limit such as MAX_ORDER_VALUE_USD would then be off
    first_line: dict[str, tuple[int, str | None]] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            # the line was not understood, but it may still hold a secret (an unclosed quote)
            mask.add(_secret_in_broken_line(binding.original.string))
            problems.append(
                f"line {binding.original.line} of {path} cannot be parsed (check its quotes and "
                "the KEY=value form)"
            )
        elif binding.key is not None:
            if _secretish(binding.key):  # both lines of a key set twice are secrets
                mask.add([binding.value])
            # python-dotenv keeps the last of two lines silently: RISK_PERCENT=1 then =25 is 25
            line = binding.original.line
            if binding.key in first_line:
                earlier, value = first_line[binding.key]
                problems.append(
                    f"{binding.key} is set twice in {path}: line {earlier} "
                    f"({binding.key}={_shown(binding.key, value or '')}) and line {line} "
                    f"({binding.key}={_shown(binding.key, binding.value or '')}); keep one"
                )
            else:
                first_line[binding.key] = (line, binding.value)
    merged = dict(process)
    values = dotenv_values(stream=io.StringIO(text))
    mask.add(v for n, v in values.items() if _secretish(n))  # values after ${VAR} expansion
    for name, value in values.items():
        if value is None:
            problems.append(f"{name} in {path} has no value (write {name}=...)")
            continue
        if name in process and process[name].strip() != value.strip():
            problems.append(
                f"{name} is {_shown(name, value, quote=True)} in {path} but "
                f"{_shown(name, process[name], quote=True)} in the process environment; "
                "remove one"
            )
            continue
        merged[name] = value
        sources[name] = str(path)
    return merged, sources, problems


def _read_mode(merged: Mapping[str, str], problems: list[str]) -> Mode | None:
    raw = merged.get("TRADING_MODE")
    if raw is None:
        problems.append(_missing_message(_BY_NAME["TRADING_MODE"], merged))
        return None
    try:
        return Mode(raw.strip().lower())
    except ValueError:
        problems.append(f"TRADING_MODE is {raw!r}; use 'paper' or 'live'")
        return None


def _missing(
    key: _Key, mode: Mode | None, merged: Mapping[str, str], problems: list[str]
) -> object:
    near = _near_misses_for(key.name, merged)
    if near or (key.live_required and mode is not Mode.PAPER):
        problems.append(_missing_message(key, merged))
        return None
    return key.paper_default if mode is Mode.PAPER else key.live_default


def _missing_message(key: _Key, merged: Mapping[str, str]) -> str:
    near = _near_misses_for(key.name, merged)
    text = f"{key.name} is not set ({key.description})"
    if near:
        found = ", ".join(f"{n}={_shown(n, merged[n])}" for n in near)
        text = f"{key.name} is not set; found {found} — did you mean {key.name}?"
    return text


_SECRET_WORDS = ("SECRET", "PASS", "KEY", "TOKEN", "PHRASE", "PRIVATE", "CREDENTIAL", "AUTH")


def _secretish(name: str) -> bool:
    """A secret key, a name that nearly is one (KUCOIN_API_SECRT), or one that sounds secret."""
    upper = name.upper()
    known = _BY_NAME.get(upper)
    if known is not None:  # a known key is what its kind says (SAFETRADE_TRUSTED_KEYS: a path)
        return known.kind == "secret"
    if any(word in upper for word in _SECRET_WORDS):
        return True
    return any(k.kind == "secret" and _similar(upper, k.name) for k in _KEYS)


_LINE = re.compile(r"\s*(?:export\s+)?([^=\s]+)\s*=(.*)", re.DOTALL)


def _secret_in_broken_line(line: str) -> list[str]:
    """The value of an unparsable ``.env`` line, if its key looks secret (quotes dropped)."""
    found = _LINE.match(line)
    if found is None or not _secretish(found.group(1)):
        return []
    raw = found.group(2).strip()
    return [raw, raw.strip("'\"").strip()]


def _shown(name: str, value: str, *, quote: bool = False) -> str:
    """The value as a message may show it: never a secret's, not even a near miss's."""
    if value.strip() and _secretish(name):
        return "'***'"
    return repr(value) if quote else value


def _tokens(name: str) -> list[str]:
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", name.upper()) if p]
    return [_ABBREVIATIONS.get(p, p) for p in parts]


@functools.lru_cache(maxsize=4096)  # pure; asked for every name read, for every key, per load
def _similar(candidate: str, known: str) -> bool:
    if candidate == known:
        return False
    cand_tokens, known_tokens = _tokens(candidate), _tokens(known)
    if cand_tokens == known_tokens:  # case, separators or abbreviations differ
        return True
    cand_set, known_set = set(cand_tokens), set(known_tokens)
    common = cand_set & known_set
    # ACCOUNT_BALANCE vs ACCOUNT_BALANCE_USD: one name is the other minus a qualifier
    if len(common) >= 2 and (cand_set <= known_set or known_set <= cand_set):
        return True
    ratio = difflib.SequenceMatcher(None, "_".join(cand_tokens), "_".join(known_tokens)).ratio()
    return ratio >= 0.85


#: safetrade's own variables that are no setting (certify's signing key, the suite cache): set
#: for certify, they are never a misspelt setting (SAFETRADE_CERT_KEY_FILE is not a near miss
#: of SAFETRADE_CERTIFICATE); tests check they match the names their modules read
OTHER_VARIABLES = frozenset(
    {
        "SAFETRADE_CERT_KEY",
        "SAFETRADE_CERT_KEY_FILE",
        "SAFETRADE_CERT_KEY_PASSPHRASE",
        "SAFETRADE_SUITE_CACHE",
    }
)


def _unknown(name: str) -> bool:
    """Neither a setting nor one of safetrade's other variables: maybe a misspelt setting."""
    return name not in _BY_NAME and name not in OTHER_VARIABLES


def _near_misses_for(known: str, merged: Mapping[str, str]) -> list[str]:
    return sorted(n for n in merged if _unknown(n) and _similar(n, known))


def _near_misses_of(candidate: str) -> list[str]:
    return [k.name for k in _KEYS if _similar(candidate, k.name)]


def _parse(key: _Key, raw: str, source: str) -> object:
    text = raw.strip()
    where = f"{key.name}={_shown(key.name, raw, quote=True)} (from {source})"
    if not text:
        raise ConfigError(f"{where} is empty", fix=f"give {key.name} a value or remove it")
    parser = _PARSERS[key.kind]
    return parser(key, text, where)


def _parse_decimal(key: _Key, text: str, where: str) -> Decimal:
    if not _PLAIN_NUMBER.fullmatch(text):
        raise ConfigError(
            f"{where} is not a plain number",
            # a percent's example must itself be accepted (at most 100)
            fix=f"write digits only, e.g. {key.name}={'1' if key.kind == 'percent' else '123'} "
            f"or {key.name}=0.5 (no $, %, nan, inf)",
        )
    try:
        value = to_decimal(text, key.name)
    except InvalidValue as exc:
        raise ConfigError(f"{where}: {exc.what}", fix=exc.fix) from None
    if value < 0 or (key.positive and value == 0):
        bound = "positive" if key.positive else "zero or more"
        raise ConfigError(f"{where} must be {bound}", fix=f"check {key.name}")
    return value


def _parse_percent(key: _Key, text: str, where: str) -> Decimal:
    value = _parse_decimal(key, text, where)
    if value > 100:
        raise ConfigError(
            f"{where} is above 100 percent", fix=f"write percents as 1 for 1 % in {key.name}"
        )
    return value


def _parse_int(key: _Key, text: str, where: str) -> int:
    if not _WHOLE_NUMBER.fullmatch(text):
        raise ConfigError(f"{where} is not a whole number", fix=f"e.g. {key.name}=1")
    value = int(text)
    if value < 1:
        raise ConfigError(f"{where} must be at least 1", fix=f"e.g. {key.name}=1")
    return value


def _parse_text(key: _Key, text: str, where: str) -> str:
    return text


def _parse_consent(key: _Key, text: str, where: str) -> bool:
    if text == DEVELOPER_KEY_CONSENT:
        return True
    raise ConfigError(
        f"{where} is not the consent it asks for",
        fix=f"write {key.name}={DEVELOPER_KEY_CONSENT} to accept the risk, or remove it "
        "(and sign with a reviewed key from `safetrade keygen`)",
    )


def _parse_account(key: _Key, text: str, where: str) -> str:
    value = text.lower()
    if value not in ("classic", "hf"):
        raise ConfigError(
            f"{where} is not a KuCoin account type",
            fix=f"write {key.name}=classic or {key.name}=hf (your live account's type)",
        )
    return value


def _parse_path(key: _Key, text: str, where: str) -> Path:
    try:
        return Path(text).expanduser()
    except RuntimeError:  # "~someone/..." for a user this machine does not know
        raise ConfigError(
            f"{where} starts with a home directory that cannot be found",
            fix=f"give {key.name} as an absolute path or relative to the working directory",
        ) from None


def _parse_url(key: _Key, text: str, where: str) -> str:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:  # "http://a[b" (an unclosed IPv6 bracket), "http://host:x"
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where} is not an http(s) URL",
                          fix=f"e.g. {key.name}=http://127.0.0.1:8088")  # fmt: skip
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(
            f"{where} carries credentials, a query or a fragment",
            fix=f"give {key.name} as scheme://host[:port] only (public data needs no keys)",
        )
    return text.rstrip("/")


_PARSERS: dict[str, Callable[[_Key, str, str], object]] = {
    "decimal": _parse_decimal,
    "percent": _parse_percent,
    "int": _parse_int,
    "secret": _parse_text,
    "path": _parse_path,
    "consent": _parse_consent,
    "url": _parse_url,
    "account": _parse_account,
}
