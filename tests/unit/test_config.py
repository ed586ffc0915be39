"""Unit tests for safetrade.config: strict settings, near misses named, no silent money defaults."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from safetrade import ConfigError, Mode, Settings, load_settings
from safetrade.config import settings_schema

D = Decimal

LIVE = {
    "TRADING_MODE": "live",
    "ACCOUNT_BALANCE_USD": "123",
    "RISK_PERCENT": "1",
    "MAX_OPEN_POSITIONS": "1",
    "KUCOIN_API_KEY": "k-123",
    "KUCOIN_API_SECRET": "s3cr3t-value",
    "KUCOIN_API_PASSPHRASE": "pass-phrase",
    "SAFETRADE_CERTIFICATE": "certification/out/cert.json",
    "SAFETRADE_TRUSTED_KEYS": "trusted.pub",
}
LIVE_REQUIRED = (
    "ACCOUNT_BALANCE_USD",
    "RISK_PERCENT",
    "MAX_OPEN_POSITIONS",
    "KUCOIN_API_KEY",
    "KUCOIN_API_SECRET",
    "KUCOIN_API_PASSPHRASE",
    "SAFETRADE_CERTIFICATE",
    "SAFETRADE_TRUSTED_KEYS",
)
PAPER = {"TRADING_MODE": "paper"}


def without(env: dict[str, str], *keys: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in keys}


def problems(env: dict[str, str], **kwargs: object) -> str:
    """The ConfigError message load_settings raises for ``env``."""
    with pytest.raises(ConfigError) as info:
        load_settings(env=env, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


class TestLiveMode:
    def test_complete_live_settings_are_parsed_exactly(self):
        settings = load_settings(env=LIVE)
        assert settings.mode is Mode.LIVE
        assert settings.is_live
        assert settings.account_balance_usd == D(123)
        assert isinstance(settings.account_balance_usd, Decimal)
        assert settings.risk_percent == D(1)
        assert settings.max_open_positions == 1
        assert settings.api_key == "k-123"
        assert settings.api_secret == "s3cr3t-value"
        assert settings.api_passphrase == "pass-phrase"
        assert settings.certificate == Path("certification/out/cert.json")
        assert settings.trusted_keys == Path("trusted.pub")

    def test_live_defaults_apply_only_to_non_money_keys(self):
        settings = load_settings(env=LIVE)
        assert settings.price_collar_percent == D(5)
        assert settings.balance_tolerance_percent == D(2)
        assert settings.kill_switch_file == Path(".safetrade/kill-switch.json")
        assert settings.min_signal_strength is None
        assert settings.max_order_value_usd is None

    @pytest.mark.parametrize("key", LIVE_REQUIRED)
    def test_each_money_critical_key_has_no_default_in_live_mode(self, key):
        message = problems(without(LIVE, key))
        assert f"{key} is not set (" in message
        assert message.startswith("1 setting problem(s)")

    def test_every_missing_key_is_reported_at_once(self):
        message = problems({"TRADING_MODE": "live"})
        assert message.startswith(f"{len(LIVE_REQUIRED)} setting problem(s)")
        for key in LIVE_REQUIRED:
            assert f"{key} is not set" in message
        assert "settings_schema()" in message  # the fix names where every key is described

    def test_missing_balance_message_explains_the_key(self):
        message = problems(without(LIVE, "ACCOUNT_BALANCE_USD"))
        assert "ACCOUNT_BALANCE_USD is not set (the balance you expect the exchange to report" in (
            message
        )

    def test_incident_typo_is_named_with_its_value(self):
        """Feb 6: the .env said ACCOUNT_BALANCE=123 and the bot silently used 10000."""
        env = {**without(LIVE, "ACCOUNT_BALANCE_USD"), "ACCOUNT_BALANCE": "123"}
        message = problems(env)
        assert (
            "ACCOUNT_BALANCE_USD is not set; found ACCOUNT_BALANCE=123 — did you mean "
            "ACCOUNT_BALANCE_USD?"
        ) in message
        assert "10000" not in message

    def test_missing_mode_is_an_error_not_live_or_paper(self):
        message = problems(without(LIVE, "TRADING_MODE"))
        assert "TRADING_MODE is not set (paper or live; required in every mode)" in message

    @pytest.mark.parametrize("mode", ["Live", "LIVE", " live ", "live\n"])
    def test_mode_is_case_and_space_insensitive(self, mode):
        assert load_settings(env={**LIVE, "TRADING_MODE": mode}).mode is Mode.LIVE

    @pytest.mark.parametrize("mode", ["production", "real", "1", "true", "paper-live", ""])
    def test_unknown_mode_is_refused(self, mode):
        message = problems({**LIVE, "TRADING_MODE": mode})
        assert f"TRADING_MODE is {mode!r}; use 'paper' or 'live'" in message

    def test_bad_mode_still_reports_other_problems(self):
        message = problems({**LIVE, "TRADING_MODE": "prod", "RISK_PERCENT": "nan"})
        assert message.startswith("2 setting problem(s)")
        assert "RISK_PERCENT='nan'" in message


class TestNearMisses:
    @pytest.mark.parametrize(
        ("key", "typo"),
        [
            ("ACCOUNT_BALANCE_USD", "ACCOUNT_BALANCE"),
            ("ACCOUNT_BALANCE_USD", "account_balance_usd"),
            ("ACCOUNT_BALANCE_USD", "Account_Balance_USD"),
            ("ACCOUNT_BALANCE_USD", "ACCOUNT-BALANCE-USD"),
            ("ACCOUNT_BALANCE_USD", "ACCT_BAL_USD"),
            ("ACCOUNT_BALANCE_USD", "BALANCE_USD"),
            ("RISK_PERCENT", "RISK_PCT"),
            ("RISK_PERCENT", "risk_pct"),
            ("RISK_PERCENT", "RISK_PERC"),
            ("RISK_PERCENT", "RISK_PRECENT"),
            ("MAX_OPEN_POSITIONS", "MAX_OPEN_POSITION"),
            ("MAX_OPEN_POSITIONS", "MAXIMUM_OPEN_POS"),
        ],
    )
    def test_near_miss_is_named_with_the_exact_message(self, key, typo):
        env = {**without(LIVE, key), typo: "7"}
        assert f"{key} is not set; found {typo}=7 — did you mean {key}?" in problems(env)

    def test_near_miss_is_an_error_in_paper_mode_too(self):
        """A typo is never silently ignored, even where a paper default would exist."""
        message = problems({**PAPER, "RISK_PCT": "2"})
        assert "RISK_PERCENT is not set; found RISK_PCT=2 — did you mean RISK_PERCENT?" in message

    def test_near_miss_of_an_optional_key_is_an_error(self):
        message = problems({**LIVE, "MAX_ORDER_VALUE": "50"})
        assert (
            "MAX_ORDER_VALUE_USD is not set; found MAX_ORDER_VALUE=50 — did you mean "
            "MAX_ORDER_VALUE_USD?"
        ) in message

    def test_several_near_misses_are_all_listed(self):
        env = {**without(LIVE, "ACCOUNT_BALANCE_USD"), "ACCOUNT_BALANCE": "1", "ACC_BALANCE": "2"}
        assert "found ACCOUNT_BALANCE=1, ACC_BALANCE=2 — did you mean" in problems(env)

    def test_near_miss_of_a_secret_never_shows_its_value(self):
        env = {**without(LIVE, "KUCOIN_API_SECRET"), "KUCOIN_SECRET": "hunter2-value"}
        message = problems(env)
        assert "KUCOIN_API_SECRET is not set; found KUCOIN_SECRET='***'" in message
        assert "hunter2-value" not in message

    def test_near_miss_of_the_mode_is_named(self):
        message = problems({**without(LIVE, "TRADING_MODE"), "trading_mode": "live"})
        assert "TRADING_MODE is not set; found trading_mode=live — did you mean" in message

    def test_unrelated_variables_are_ignored(self):
        env = {**LIVE, "PATH": "/usr/bin", "HOME": "/root", "RISK": "x", "ACCOUNT": "y"}
        assert load_settings(env=env).risk_percent == D(1)

    def test_near_miss_next_to_the_real_key_is_only_a_warning(self, caplog):
        env = {**LIVE, "RISK_PCT": "50"}
        with caplog.at_level(logging.WARNING, logger="safetrade.config"):
            settings = load_settings(env=env)
        assert settings.risk_percent == D(1)  # the real key wins; the typo does not
        assert "unknown setting RISK_PCT looks like ['RISK_PERCENT']; it is ignored" in (
            caplog.text
        )


class TestStrictParsing:
    @pytest.mark.parametrize(
        "text",
        [
            "nan",
            "NaN",
            "inf",
            "-inf",
            "Infinity",
            "1e3",
            "1E2",
            "$123",
            "123$",
            "1%",
            "1,000",
            "1 000",
            "0x7b",
            "one",
            "123 USDT",
            "1.2.3",
            "--1",
            "+",
            ".",
        ],
    )
    def test_decimal_must_be_a_plain_number(self, text):
        message = problems({**LIVE, "ACCOUNT_BALANCE_USD": text})
        assert f"ACCOUNT_BALANCE_USD={text!r} (from env) is not a plain number" in message
        assert "no $, %, nan, inf" in message

    @pytest.mark.parametrize(
        ("text", "value"),
        [("123", D(123)), (" 123.45 ", D("123.45")), ("+7", D(7)), (".5", D("0.5")), ("5.", D(5))],
    )
    def test_plain_numbers_are_accepted_exactly(self, text, value):
        assert load_settings(env={**LIVE, "ACCOUNT_BALANCE_USD": text}).account_balance_usd == value

    def test_more_than_1e15_is_refused(self):
        message = problems({**LIVE, "ACCOUNT_BALANCE_USD": "1" + "0" * 16})
        assert "ACCOUNT_BALANCE_USD='10000000000000000' (from env): ACCOUNT_BALANCE_USD is 1" in (
            message
        )

    @pytest.mark.parametrize(
        "key",
        ["ACCOUNT_BALANCE_USD", "RISK_PERCENT", "MAX_ORDER_VALUE_USD", "PRICE_COLLAR_PERCENT"],
    )
    @pytest.mark.parametrize("text", ["-1", "-0.01", "0", "0.0", "-0"])
    def test_positive_keys_refuse_zero_and_negatives(self, key, text):
        assert f"{key}={text!r} (from env) must be positive" in problems({**LIVE, key: text})

    @pytest.mark.parametrize(
        ("key", "field"),
        [
            ("BALANCE_TOLERANCE_PERCENT", "balance_tolerance_percent"),
            ("MIN_SIGNAL_STRENGTH", "min_signal_strength"),
        ],
    )
    def test_zero_allowed_keys_accept_zero_but_refuse_negatives(self, key, field):
        assert getattr(load_settings(env={**LIVE, key: "0"}), field) == D(0)
        assert f"{key}='-1' (from env) must be zero or more" in problems({**LIVE, key: "-1"})

    @pytest.mark.parametrize(
        "key", ["RISK_PERCENT", "PRICE_COLLAR_PERCENT", "BALANCE_TOLERANCE_PERCENT"]
    )
    def test_percent_above_100_is_refused(self, key):
        assert load_settings(env={**LIVE, key: "100"}) is not None  # 100 itself is allowed
        message = problems({**LIVE, key: "100.01"})
        assert f"{key}='100.01' (from env) is above 100 percent" in message
        assert "write percents as 1 for 1 %" in message

    def test_risk_percent_is_not_a_fraction_trap(self):
        """1 means 1 %, so 0.01 is a legal (tiny) risk, not silently 1 %."""
        assert load_settings(env={**LIVE, "RISK_PERCENT": "0.01"}).risk_percent == D("0.01")

    @pytest.mark.parametrize("text", ["1.5", "-1", "+2", "two", "1e1", "0x2", " "])
    def test_max_open_positions_must_be_a_whole_number(self, text):
        message = problems({**LIVE, "MAX_OPEN_POSITIONS": text})
        assert "MAX_OPEN_POSITIONS=" in message
        assert "is not a whole number" in message or "is empty" in message

    @pytest.mark.parametrize("text", ["0", "00"])
    def test_max_open_positions_must_be_at_least_one(self, text):
        assert "must be at least 1" in problems({**LIVE, "MAX_OPEN_POSITIONS": text})

    def test_max_open_positions_accepts_leading_zeros_and_spaces(self):
        assert load_settings(env={**LIVE, "MAX_OPEN_POSITIONS": " 03 "}).max_open_positions == 3

    @pytest.mark.parametrize("key", ["RISK_PERCENT", "KUCOIN_API_KEY", "SAFETRADE_CERTIFICATE"])
    @pytest.mark.parametrize("text", ["", "   ", "\t"])
    def test_empty_value_is_refused_not_treated_as_unset(self, key, text):
        message = problems({**LIVE, key: text})
        assert f"{key}={text!r} (from env) is empty" in message
        assert f"give {key} a value or remove it" in message

    def test_every_malformed_value_is_reported_at_once(self):
        env = {
            **LIVE,
            "ACCOUNT_BALANCE_USD": "nan",
            "RISK_PERCENT": "150",
            "MAX_OPEN_POSITIONS": "x",
            "PRICE_COLLAR_PERCENT": "-5",
        }
        message = problems(env)
        assert message.startswith("4 setting problem(s)")
        for key in (
            "ACCOUNT_BALANCE_USD",
            "RISK_PERCENT",
            "MAX_OPEN_POSITIONS",
            "PRICE_COLLAR_PERCENT",
        ):
            assert f"{key}=" in message

    def test_paths_expand_the_home_directory(self):
        settings = load_settings(env={**LIVE, "SAFETRADE_TRUSTED_KEYS": "~/keys.pub"})
        assert settings.trusted_keys == Path("~/keys.pub").expanduser()
        assert "~" not in str(settings.trusted_keys)

    def test_optional_keys_are_parsed_when_set(self):
        env = {
            **LIVE,
            "MIN_SIGNAL_STRENGTH": "0.65",
            "MAX_ORDER_VALUE_USD": "50",
            "PRICE_COLLAR_PERCENT": "2.5",
            "BALANCE_TOLERANCE_PERCENT": "0",
            "SAFETRADE_KILL_SWITCH_FILE": "/var/run/ks.json",
        }
        settings = load_settings(env=env)
        assert settings.min_signal_strength == D("0.65")
        assert settings.max_order_value_usd == D(50)
        assert settings.price_collar_percent == D("2.5")
        assert settings.balance_tolerance_percent == D(0)
        assert settings.kill_switch_file == Path("/var/run/ks.json")


class TestPaperMode:
    def test_paper_mode_needs_only_the_mode(self):
        settings = load_settings(env=PAPER)
        assert settings.mode is Mode.PAPER
        assert not settings.is_live
        assert settings.account_balance_usd is None  # the exchange's balance is used
        assert settings.risk_percent == D(1)
        assert settings.max_open_positions == 1
        assert settings.price_collar_percent == D(5)
        assert settings.balance_tolerance_percent == D(2)
        assert settings.kill_switch_file is None  # in-memory kill switch
        assert (settings.api_key, settings.api_secret, settings.api_passphrase) == (None,) * 3
        assert settings.certificate is None

    def test_paper_mode_still_parses_strictly(self):
        message = problems({**PAPER, "RISK_PERCENT": "1%"})
        assert "RISK_PERCENT='1%' (from env) is not a plain number" in message
        # the example it gives is itself accepted (it said RISK_PERCENT=123, above 100)
        assert "e.g. RISK_PERCENT=1 or RISK_PERCENT=0.5" in message
        assert load_settings(env={**PAPER, "RISK_PERCENT": "1"}).risk_percent == D(1)
        balance = problems({**PAPER, "ACCOUNT_BALANCE_USD": "$123"})
        assert "e.g. ACCOUNT_BALANCE_USD=123 or ACCOUNT_BALANCE_USD=0.5" in balance

    def test_paper_mode_uses_given_values(self):
        env = {**PAPER, "ACCOUNT_BALANCE_USD": "123", "RISK_PERCENT": "0.5"}
        settings = load_settings(env=env)
        assert settings.account_balance_usd == D(123)
        assert settings.risk_percent == D("0.5")


class TestDotenv:
    def test_settings_load_from_a_dotenv_file(self, tmp_path):
        body = "\n".join(f"{k}={v}" for k, v in LIVE.items())
        path = write_env(tmp_path, "# safetrade settings\n" + body + "\n")
        settings = load_settings(env={}, dotenv_path=path)
        assert settings.account_balance_usd == D(123)
        assert settings.sources["ACCOUNT_BALANCE_USD"] == str(path)
        assert settings.sources == dict.fromkeys(LIVE, str(path))

    def test_path_may_be_given_as_text(self, tmp_path):
        path = write_env(tmp_path, "TRADING_MODE=paper\n")
        assert load_settings(env={}, dotenv_path=str(path)).mode is Mode.PAPER

    def test_dotenv_supports_quotes_comments_and_export(self, tmp_path):
        path = write_env(
            tmp_path,
            "export TRADING_MODE=paper\nRISK_PERCENT='0.5'  # half a percent\n"
            'ACCOUNT_BALANCE_USD="123.45"\n',
        )
        settings = load_settings(env={}, dotenv_path=path)
        assert settings.risk_percent == D("0.5")
        assert settings.account_balance_usd == D("123.45")

    def test_env_and_dotenv_are_merged_with_sources(self, tmp_path):
        path = write_env(tmp_path, "RISK_PERCENT=2\n")
        settings = load_settings(env=PAPER, dotenv_path=path)
        assert settings.risk_percent == D(2)
        assert settings.sources["TRADING_MODE"] == "env"
        assert settings.sources["RISK_PERCENT"] == str(path)

    def test_dotenv_is_not_written_into_the_process_environment(self, tmp_path, monkeypatch):
        monkeypatch.delenv("RISK_PERCENT", raising=False)
        path = write_env(tmp_path, "TRADING_MODE=paper\nRISK_PERCENT=3\n")
        load_settings(env={}, dotenv_path=path)
        import os

        assert "RISK_PERCENT" not in os.environ

    def test_conflicting_values_in_env_and_dotenv_are_an_error(self, tmp_path):
        path = write_env(tmp_path, "ACCOUNT_BALANCE_USD=123\n")
        message = problems({**LIVE, "ACCOUNT_BALANCE_USD": "10000"}, dotenv_path=path)
        assert (
            f"ACCOUNT_BALANCE_USD is '123' in {path} but '10000' in the process environment; "
            "remove one"
        ) in message

    def test_equal_values_in_both_places_are_fine(self, tmp_path):
        path = write_env(tmp_path, "ACCOUNT_BALANCE_USD= 123 \n")
        settings = load_settings(env=LIVE, dotenv_path=path)
        assert settings.account_balance_usd == D(123)

    def test_key_without_a_value_is_named(self, tmp_path):
        path = write_env(tmp_path, "TRADING_MODE=paper\nRISK_PERCENT\n")
        assert f"RISK_PERCENT in {path} has no value (write RISK_PERCENT=...)" in problems(
            {}, dotenv_path=path
        )

    def test_missing_dotenv_file_is_an_error(self, tmp_path):
        missing = tmp_path / "nope.env"
        with pytest.raises(ConfigError, match=r"\.env file .*nope\.env does not exist"):
            load_settings(env=PAPER, dotenv_path=missing)

    def test_a_directory_is_not_a_dotenv_file(self, tmp_path):
        with pytest.raises(ConfigError, match="does not exist"):
            load_settings(env=PAPER, dotenv_path=tmp_path)

    def test_incident_dotenv_is_refused_with_the_near_miss(self, tmp_path):
        """The Feb 6 .env, loaded as the bot loaded it."""
        body = "\n".join(f"{k}={v}" for k, v in without(LIVE, "ACCOUNT_BALANCE_USD").items())
        path = write_env(tmp_path, body + "\nACCOUNT_BALANCE=123\n")
        message = problems({}, dotenv_path=path)
        assert (
            "ACCOUNT_BALANCE_USD is not set; found ACCOUNT_BALANCE=123 — did you mean "
            "ACCOUNT_BALANCE_USD?"
        ) in message

    def test_malformed_value_names_the_dotenv_file(self, tmp_path):
        path = write_env(tmp_path, "TRADING_MODE=paper\nRISK_PERCENT=1%\n")
        assert f"RISK_PERCENT='1%' (from {path}) is not a plain number" in problems(
            {}, dotenv_path=path
        )

    def test_process_environment_is_the_default(self, monkeypatch):
        for key in LIVE:
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("TRADING_MODE", "paper")
        monkeypatch.setenv("RISK_PERCENT", "0.25")
        settings = load_settings()
        assert settings.risk_percent == D("0.25")
        assert settings.sources["RISK_PERCENT"] == "env"


class TestSettingsValue:
    def test_secrets_never_appear_in_repr(self):
        text = repr(load_settings(env=LIVE))
        for secret in ("k-123", "s3cr3t-value", "pass-phrase"):
            assert secret not in text
        assert "api_secret='***'" in text
        assert "account_balance_usd=Decimal('123')" in text

    def test_unset_secrets_show_none(self):
        assert "api_key=None" in repr(load_settings(env=PAPER))

    def test_settings_are_frozen(self):
        settings = load_settings(env=LIVE)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            settings.risk_percent = D(50)  # type: ignore[misc]
        changed = attrs.evolve(settings, risk_percent=D(2))
        assert changed.risk_percent == D(2)
        assert settings.risk_percent == D(1)

    def test_sources_do_not_affect_equality(self, tmp_path):
        path = write_env(tmp_path, "\n".join(f"{k}={v}" for k, v in LIVE.items()))
        from_file = load_settings(env={}, dotenv_path=path)
        from_env = load_settings(env=LIVE)
        assert from_file == from_env
        assert from_file.sources != from_env.sources

    def test_mode_values(self):
        assert [m.value for m in Mode] == ["paper", "live"]
        assert Mode("live") is Mode.LIVE
        assert isinstance(load_settings(env=PAPER), Settings)


class TestSchema:
    def test_schema_lists_every_key_once_with_its_rules(self):
        schema = settings_schema()
        assert schema["schema"] == "safetrade.Settings/v1"
        names = [k["name"] for k in schema["keys"]]
        assert len(names) == len(set(names))
        assert set(LIVE_REQUIRED) | {"TRADING_MODE"} == {
            k["name"] for k in schema["keys"] if k["requiredInLive"]
        }
        assert {
            "MIN_SIGNAL_STRENGTH",
            "MAX_ORDER_VALUE_USD",
            "PRICE_COLLAR_PERCENT",
            "BALANCE_TOLERANCE_PERCENT",
            "SAFETRADE_KILL_SWITCH_FILE",
        } <= set(names)
        assert any("near-miss" in rule for rule in schema["rules"])

    def test_schema_records_defaults_as_text(self):
        keys = {k["name"]: k for k in settings_schema()["keys"]}
        assert keys["ACCOUNT_BALANCE_USD"]["paperDefault"] is None
        assert keys["ACCOUNT_BALANCE_USD"]["liveDefault"] is None
        assert keys["RISK_PERCENT"]["paperDefault"] == "1"
        assert keys["RISK_PERCENT"]["liveDefault"] is None
        assert keys["PRICE_COLLAR_PERCENT"]["liveDefault"] == "5"
        assert keys["SAFETRADE_KILL_SWITCH_FILE"]["liveDefault"] == ".safetrade/kill-switch.json"
        assert keys["MIN_SIGNAL_STRENGTH"]["positive"] is False
        assert keys["RISK_PERCENT"]["kind"] == "percent"

    def test_schema_is_json_and_deterministic(self):
        """Certification hashes it, so it must serialise the same way every time."""
        first = json.dumps(settings_schema(), sort_keys=True)
        assert first == json.dumps(settings_schema(), sort_keys=True)
        assert json.loads(first) == settings_schema()

    def test_every_schema_key_is_read_by_load_settings(self):
        """No key in the schema is dead: setting it (validly) changes or satisfies Settings."""
        schema_names = {k["name"] for k in settings_schema()["keys"]}
        fields = {f.name for f in attrs.fields(Settings)}
        assert len(schema_names) == len(fields - {"sources", "read_secrets"})


class TestMalformedInputNeverEscapesAsABareException:
    """Regressions: each of these crashed load_settings or silently dropped a setting."""

    @pytest.mark.parametrize("text", ["²", "³", "1²", "9" * 5000])
    def test_max_open_positions_oddities_are_a_config_error(self, text):
        # str.isdigit() accepts superscripts that int() refuses (bare ValueError), and int()
        # refuses more than 4300 digits (bare ValueError)
        message = problems({**LIVE, "MAX_OPEN_POSITIONS": text})
        assert "MAX_OPEN_POSITIONS=" in message
        assert "is not a whole number" in message

    @pytest.mark.parametrize(
        ("key", "text"),
        [("ACCOUNT_BALANCE_USD", "١٢٣"), ("RISK_PERCENT", "٣"), ("MAX_OPEN_POSITIONS", "٣")],
    )
    def test_non_ascii_digits_are_not_plain_numbers(self, key, text):
        """Arabic-Indic digits parsed as 123 / 3: plain numbers are ASCII digits only."""
        message = problems({**LIVE, key: text})
        assert f"{key}={text!r} (from env) is not a " in message

    def test_dotenv_that_is_not_utf8_is_a_config_error(self, tmp_path):
        path = tmp_path / ".env"
        path.write_bytes(b"TRADING_MODE=paper\nRISK_PERCENT=\xff1\n")
        with pytest.raises(ConfigError, match=r"cannot be read.*UTF-8"):
            load_settings(env={}, dotenv_path=path)

    @pytest.mark.parametrize(
        "line", ['MAX_ORDER_VALUE_USD="100', "MAX_ORDER_VALUE_USD='100", "=100", 'A="x" y']
    )
    def test_unparsable_dotenv_line_is_an_error_not_a_dropped_setting(self, tmp_path, line):
        """python-dotenv skips a line it cannot parse; MAX_ORDER_VALUE_USD="100 (unclosed quote)
        silently disabled the max-order-value limit."""
        path = write_env(tmp_path, f"TRADING_MODE=paper\n{line}\nRISK_PERCENT=2\n")
        message = problems({}, dotenv_path=path)
        assert f"line 2 of {path} cannot be parsed" in message
        assert "setting problem(s)" in message

    @pytest.mark.parametrize("key", ["SAFETRADE_CERTIFICATE", "SAFETRADE_TRUSTED_KEYS"])
    def test_home_of_an_unknown_user_is_a_config_error(self, key):
        """Path.expanduser raised a bare RuntimeError for ~user of an unknown user."""
        message = problems({**LIVE, key: "~no-such-user-7f3a/cert.json"})
        assert f"{key}='~no-such-user-7f3a/cert.json' (from env) starts with a home directory" in (
            message
        )


def test_a_malformed_value_is_reported_with_its_own_fix_and_a_fitting_overall_fix():
    """The aggregate refusal must not tell the owner to *set* a key that is set but malformed."""
    with pytest.raises(ConfigError) as exc:
        load_settings(env={"TRADING_MODE": "paper", "RISK_PERCENT": "abc"})
    text = str(exc.value)
    assert "RISK_PERCENT='abc' (from env) is not a plain number" in text
    assert "set the keys named above" not in text
    assert exc.value.fix.startswith("correct each setting named")


class TestDuplicatesAndSecrets:
    """A key set twice is refused; no message shows a secret, not even a mistyped one's."""

    @pytest.mark.parametrize(
        ("first", "second", "shown"),
        [
            (
                "RISK_PERCENT=1",
                "RISK_PERCENT=25",
                "line 1 (RISK_PERCENT=1) and line 3 (RISK_PERCENT=25)",
            ),
            ("TRADING_MODE=paper", "TRADING_MODE=live", "line 1 (TRADING_MODE=paper) and line 3"),
            ("KUCOIN_API_SECRET=aaa", "KUCOIN_API_SECRET=bbb", "line 1 (KUCOIN_API_SECRET='***')"),
        ],
    )
    def test_a_key_set_twice_in_dotenv_is_refused_naming_both_lines(
        self, tmp_path: Path, first: str, second: str, shown: str
    ) -> None:
        name = first.partition("=")[0]
        text = f"{first}\nMAX_OPEN_POSITIONS=1\n{second}\n"
        message = problems(without(LIVE, name), dotenv_path=write_env(tmp_path, text))
        assert f"{name} is set twice in {tmp_path / '.env'}: {shown}" in message
        assert "aaa" not in message
        assert "bbb" not in message

    def test_the_same_line_twice_is_refused_too(self, tmp_path: Path) -> None:
        path = write_env(tmp_path, "RISK_PERCENT=1\nRISK_PERCENT=1\n")
        assert "RISK_PERCENT is set twice" in problems(
            without(LIVE, "RISK_PERCENT"), dotenv_path=path
        )

    @pytest.mark.parametrize("typo", ["KUCOIN_API_SECRT", "KUCOIN_APISECRET", "kucoin_api_secret_"])
    def test_a_mistyped_secret_key_never_shows_its_value(self, typo: str) -> None:
        env = {**without(LIVE, "KUCOIN_API_SECRET"), typo: "s3cr3t-value"}
        message = problems(env)
        assert "KUCOIN_API_SECRET is not set" in message
        assert "s3cr3t-value" not in message
        assert f"{typo}='***'" in message

    def test_an_env_and_dotenv_conflict_on_a_secret_shows_neither_value(
        self, tmp_path: Path
    ) -> None:
        path = write_env(tmp_path, "KUCOIN_API_SECRET=from-the-file\n")
        message = problems(LIVE, dotenv_path=path)
        assert "KUCOIN_API_SECRET is '***' in" in message
        assert "but '***' in the process environment" in message
        assert "from-the-file" not in message
        assert "s3cr3t-value" not in message

    def test_a_conflict_on_a_plain_setting_still_shows_both_values(self, tmp_path: Path) -> None:
        path = write_env(tmp_path, "RISK_PERCENT=25\n")
        message = problems(LIVE, dotenv_path=path)
        assert "RISK_PERCENT is '25' in" in message
        assert "but '1' in the process environment" in message


class TestDeveloperKeyConsent:
    def test_live_refuses_developer_keys_unless_the_owner_writes_the_consent(self) -> None:
        assert load_settings(env=LIVE).live_with_developer_key is False
        consent = {
            **LIVE,
            "SAFETRADE_LIVE_WITH_DEVELOPER_KEY": "I accept an unreviewed developer key",
        }
        assert load_settings(env=consent).live_with_developer_key is True

    @pytest.mark.parametrize("value", ["yes", "true", "1", "i accept an unreviewed developer key"])
    def test_anything_but_the_exact_consent_is_refused(self, value: str) -> None:
        message = problems({**LIVE, "SAFETRADE_LIVE_WITH_DEVELOPER_KEY": value})
        assert "is not the consent it asks for" in message


def test_every_setting_is_declared_once_with_its_key():
    """Settings attributes declare their environment keys: no second table to drift from."""
    import attrs

    from safetrade import config

    declared = [
        f.name for f in attrs.fields(config.Settings) if f.name not in ("sources", "read_secrets")
    ]
    assert [k.field for k in config._KEYS] == declared
    assert [k["name"] for k in config.settings_schema()["keys"]] == [k.name for k in config._KEYS]
    assert len({k.name for k in config._KEYS}) == len(config._KEYS)


def test_certifys_own_variables_are_never_near_misses_of_a_setting() -> None:
    """SAFETRADE_CERT_KEY_FILE (what `safetrade keygen` says to export) read as a misspelt
    SAFETRADE_CERTIFICATE: every paper start and certify's suite failed with a signing key set."""
    from safetrade.certification import keys, suite_cache
    from safetrade.config import OTHER_VARIABLES

    assert {keys.ENV_KEY, keys.ENV_KEY_FILE, keys.ENV_KEY_PASSPHRASE, suite_cache.ENV_CACHE} == (
        OTHER_VARIABLES
    )
    env = {**PAPER, **dict.fromkeys(OTHER_VARIABLES, "set")}
    assert load_settings(env=env).certificate is None
    # a real near miss still is one
    assert "did you mean SAFETRADE_CERTIFICATE?" in problems({**env, "SAFETRADE_CERT": "a.json"})
