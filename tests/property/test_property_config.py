"""Properties of safetrade.config: valid values round-trip exactly, near misses are always named,
and malformed values are a ConfigError (never a bare exception), from env or from a .env file."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safetrade import ConfigError, Mode, load_settings

LIVE_BASE = {
    "TRADING_MODE": "live",
    "ACCOUNT_BALANCE_USD": "123",
    "RISK_PERCENT": "1",
    "MAX_OPEN_POSITIONS": "1",
    "KUCOIN_API_KEY": "key",
    "KUCOIN_API_SECRET": "secret",
    "KUCOIN_API_PASSPHRASE": "pass",
    "SAFETRADE_CERTIFICATE": "cert.json",
    "SAFETRADE_TRUSTED_KEYS": "trusted.pub",
}
PAPER_BASE = {"TRADING_MODE": "paper"}

DECIMAL_KEYS = {
    "ACCOUNT_BALANCE_USD": "account_balance_usd",
    "MAX_ORDER_VALUE_USD": "max_order_value_usd",
}
PERCENT_KEYS = {
    "RISK_PERCENT": "risk_percent",
    "PRICE_COLLAR_PERCENT": "price_collar_percent",
}
NUMERIC_KEYS = [
    *DECIMAL_KEYS,
    *PERCENT_KEYS,
    "BALANCE_TOLERANCE_PERCENT",
    "MIN_SIGNAL_STRENGTH",
    "MAX_OPEN_POSITIONS",
]


def plain(value: Decimal, spaces: tuple[str, str]) -> str:
    """``value`` written the way a person writes it in a .env file (no exponent)."""
    return f"{spaces[0]}{value:f}{spaces[1]}"


SPACES = st.tuples(st.sampled_from(["", " ", "\t"]), st.sampled_from(["", " ", "  "]))
MONEY = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e12"), places=4)
PERCENTS = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100), places=4)
SECRETS = st.text(
    alphabet=st.characters(codec="ascii", categories=("L", "N", "P")), min_size=1, max_size=30
)


@st.composite
def valid_live_envs(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, Any]]:
    env = dict(LIVE_BASE)
    expected: dict[str, Any] = {}
    env["TRADING_MODE"] = draw(st.sampled_from(["live", "LIVE", " Live ", "live\t"]))
    for name, field in DECIMAL_KEYS.items():
        value = draw(MONEY)
        env[name] = plain(value, draw(SPACES))
        expected[field] = value
    for name, field in PERCENT_KEYS.items():
        value = draw(PERCENTS)
        env[name] = plain(value, draw(SPACES))
        expected[field] = value
    tolerance = draw(st.decimals(min_value=0, max_value=100, places=2))
    env["BALANCE_TOLERANCE_PERCENT"] = plain(tolerance, ("", ""))
    expected["balance_tolerance_percent"] = tolerance
    signal = draw(st.decimals(min_value=0, max_value=1000, places=3))  # config: no negatives
    env["MIN_SIGNAL_STRENGTH"] = plain(signal, ("", ""))
    expected["min_signal_strength"] = signal
    positions = draw(st.integers(1, 10**6))
    env["MAX_OPEN_POSITIONS"] = str(positions)
    expected["max_open_positions"] = positions
    for name, field in (
        ("KUCOIN_API_KEY", "api_key"),
        ("KUCOIN_API_SECRET", "api_secret"),
        ("KUCOIN_API_PASSPHRASE", "api_passphrase"),
    ):
        secret = draw(SECRETS)
        env[name] = secret
        expected[field] = secret
    return env, expected


def quoted(value: str) -> str:
    """``value`` in single quotes, escaped the way python-dotenv reads it back."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _check(settings: Any, expected: dict[str, Any]) -> None:
    assert settings.mode is Mode.LIVE
    assert settings.is_live
    for field, value in expected.items():
        got = getattr(settings, field)
        assert got == value, field
        assert type(got) is type(value), field
    assert settings.certificate == Path("cert.json")
    assert settings.kill_switch_file == Path(".safetrade/kill-switch.json")  # live default


@given(valid_live_envs())
def test_valid_live_values_round_trip_from_the_environment(case):
    env, expected = case
    settings = load_settings(env=env)
    _check(settings, expected)
    assert set(settings.sources.values()) == {"env"}
    assert "secret" not in repr(settings).lower() or "'***'" in repr(settings)
    for field in ("api_key", "api_secret", "api_passphrase"):
        assert f"{field}='***'" in repr(settings)


@given(valid_live_envs(), st.sets(st.sampled_from(sorted(LIVE_BASE))))
def test_valid_values_round_trip_from_a_dotenv_file_and_agree_with_env(case, in_file):
    """Keys moved to .env load the same; a key in both with the same value is no conflict."""
    env, expected = case
    file_part = {k: v for k, v in env.items() if k in in_file or k not in LIVE_BASE}
    process = {k: v for k, v in env.items() if k not in in_file}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ".env"
        path.write_text("".join(f"{k}={quoted(v)}\n" for k, v in file_part.items()), "utf-8")
        settings = load_settings(env=process, dotenv_path=path)
    _check(settings, expected)
    for key in file_part:
        assert settings.sources[key] == str(path)


NEAR_MISSES = {
    "ACCOUNT_BALANCE_USD": [
        "ACCOUNT_BALANCE",
        "account_balance_usd",
        "Account_Balance_Usd",
        "ACCOUNT-BALANCE-USD",
        "ACCT_BALANCE_USD",
        "ACCOUNT_BAL_USD",
        "ACOUNT_BALANCE_USD",
    ],
    "RISK_PERCENT": ["RISK_PCT", "risk_percent", "RISK_PERC", "RISK-PERCENT", "RISK_PRECENT"],
    "MAX_OPEN_POSITIONS": [
        "MAX_OPEN_POSITION",
        "max_open_positions",
        "MAXIMUM_OPEN_POSITIONS",
        "MAX_OPEN_POS",
    ],
}


@given(
    st.sampled_from(sorted(NEAR_MISSES)).flatmap(
        lambda key: st.tuples(st.just(key), st.sampled_from(NEAR_MISSES[key]))
    ),
    st.sampled_from([LIVE_BASE, PAPER_BASE]),
    st.integers(1, 99),
)
def test_a_near_miss_of_a_missing_key_is_named_in_every_mode(pair, base, value):
    key, typo = pair
    env = {k: v for k, v in base.items() if k != key}
    env[typo] = str(value)
    with pytest.raises(ConfigError) as info:
        load_settings(env=env)
    assert f"{key} is not set; found {typo}={value} — did you mean {key}?" in str(info.value)


@given(
    st.sampled_from(NUMERIC_KEYS),
    st.one_of(
        st.sampled_from(
            [
                "nan",
                "NaN",
                "inf",
                "-inf",
                "Infinity",
                "1e3",
                "1E-2",
                "$100",
                "100%",
                "1,000",
                "0x10",
                "one",
                "1 000",
                "--1",
                "1.2.3",
                "٣",
                "²",
                "½",
                "1e999",
            ]
        ),
        st.text(min_size=1, max_size=10).filter(lambda t: t.strip() and not _is_plain(t)),
    ),
    st.sampled_from([LIVE_BASE, PAPER_BASE]),
)
def test_malformed_numbers_are_a_config_error_naming_the_key(key, text, base):
    with pytest.raises(ConfigError) as info:
        load_settings(env={**base, key: text})
    assert key in str(info.value)


def _is_plain(text: str) -> bool:
    stripped = text.strip()
    body = stripped.lstrip("+-")
    return (
        stripped.isascii()
        and body.replace(".", "", 1).isdigit()
        and body.count(".") <= 1
        and (stripped[:1] not in "+-" or len(stripped) > 1)
    )


@given(
    st.sampled_from([*PERCENT_KEYS, "BALANCE_TOLERANCE_PERCENT"]),
    st.decimals(min_value=Decimal("100.0001"), max_value=Decimal("1e12"), places=4),
)
def test_percents_above_100_are_refused(key, value):
    with pytest.raises(ConfigError, match="above 100 percent"):
        load_settings(env={**LIVE_BASE, key: f"{value:f}"})


@given(
    st.sampled_from([*DECIMAL_KEYS, *PERCENT_KEYS, "BALANCE_TOLERANCE_PERCENT"]),
    st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("-0.0001"), places=4),
)
def test_negative_money_and_percents_are_refused(key, value):
    with pytest.raises(ConfigError, match="must be"):
        load_settings(env={**LIVE_BASE, key: f"{value:f}"})


@given(st.text(max_size=8), st.sampled_from([LIVE_BASE, PAPER_BASE]))
def test_any_mode_text_is_a_mode_or_a_config_error(text, base):
    if text.strip().lower() in ("paper", "live"):
        assert load_settings(env={**base, "TRADING_MODE": text}).mode.value == text.strip().lower()
    else:
        with pytest.raises(ConfigError, match="TRADING_MODE"):
            load_settings(env={**base, "TRADING_MODE": text})


@given(
    st.dictionaries(
        st.sampled_from(sorted(set(LIVE_BASE) | {"MIN_SIGNAL_STRENGTH", "PRICE_COLLAR_PERCENT"})),
        st.text(max_size=12),
        max_size=6,
    ),
    st.sampled_from([LIVE_BASE, PAPER_BASE]),
)
def test_arbitrary_values_give_settings_or_a_config_error_never_a_crash(overrides, base):
    try:
        settings = load_settings(env={**base, **overrides})
    except ConfigError:
        return
    assert settings.risk_percent > 0
    assert 0 < settings.price_collar_percent <= 100
    assert settings.max_open_positions >= 1
