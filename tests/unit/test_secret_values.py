"""No message shows a configured secret's value, also where it was pasted into another setting.

The two cases a security review reproduced (the secret echoed by the config error about the
line it was pasted into, and by the live gate's CRITICAL refusal), and the rules around them:
secrets safetrade never reads, near misses, quoted forms, short values, causes, alerts, logs.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest

import safetrade as st
from safetrade._secrets import SecretMask
from safetrade.alerts import Alert, redacting
from safetrade.certification import gate
from safetrade.certification.provenance import RunningCode
from safetrade.preflight import render, run_preflight
from safetrade.testing import FakeKucoin

KEY, SECRET, PASSPHRASE = "SECRETKEY_AAAA1111", "SECRETSECRET_BBBB2222", "SECRETPASS_CCCC3333"
CREDENTIALS = (
    f"KUCOIN_API_KEY={KEY}\nKUCOIN_API_SECRET={SECRET}\nKUCOIN_API_PASSPHRASE={PASSPHRASE}\n"
)
LIVE = {
    "TRADING_MODE": "live",
    "ACCOUNT_BALANCE_USD": "123",
    "RISK_PERCENT": "1",
    "MAX_OPEN_POSITIONS": "1",
    "SAFETRADE_CERTIFICATE": "out/safetrade.cert.json",
    "SAFETRADE_TRUSTED_KEYS": "trusted-keys",
}
BOT = "safetrade.reference_bot"


def _dotenv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def _config_error(env: dict[str, str], dotenv: Path | None = None) -> st.ConfigError:
    with pytest.raises(st.ConfigError) as info:
        st.load_settings(env=env, dotenv_path=dotenv)
    return info.value


def _everything(exc: BaseException) -> str:
    """What a user may see of ``exc``: message, repr and the whole traceback with causes."""
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc))])


@pytest.fixture
def gate_without_measuring(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate with a stand-in for the running code (no artifact exists: never compared)."""
    running = RunningCode(safetrade_files={}, bot_package=BOT, bot_files={},
                          config_schema_digest=None)  # fmt: skip
    monkeypatch.setattr(gate, "measure_running_code", lambda _bot: running)


class TestReproducedCases:
    def test_a_secret_pasted_into_a_numeric_setting_is_not_echoed(self, tmp_path: Path) -> None:
        """Review case 6: MAX_ORDER_VALUE_USD=<the API secret> in the .env file."""
        dotenv = _dotenv(tmp_path, CREDENTIALS + f"MAX_ORDER_VALUE_USD={SECRET}\n")
        error = _config_error(LIVE, dotenv)
        assert SECRET not in _everything(error)
        # still says which line, what is wrong with it and what to do
        assert f"MAX_ORDER_VALUE_USD='***' (from {dotenv}) is not a plain number" in str(error)
        assert "write digits only, e.g. MAX_ORDER_VALUE_USD=123" in str(error)

    @pytest.mark.usefixtures("gate_without_measuring")
    def test_a_secret_pasted_into_the_trusted_keys_path_is_not_logged_or_raised(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Review case 7: SAFETRADE_TRUSTED_KEYS=<the API secret>; the gate refuses start-up."""
        monkeypatch.chdir(tmp_path)
        settings = st.load_settings(
            env={**LIVE, "SAFETRADE_TRUSTED_KEYS": SECRET},
            dotenv_path=_dotenv(tmp_path, CREDENTIALS),
        )
        with caplog.at_level(logging.DEBUG), pytest.raises(st.CertificationError) as info:
            st.Trader.start(settings, symbol="SOL/USDT", bot_package=BOT,
                            kill_switch=st.KillSwitch(None))  # fmt: skip
        assert SECRET not in _everything(info.value)
        assert "trusted keys file *** does not exist" in str(info.value)
        assert "SAFETRADE_TRUSTED_KEYS" in str(info.value)  # the fix names the key
        critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
        assert critical, "the refusal is still logged"
        assert "trusted keys file *** does not exist" in critical[0].getMessage()
        assert SECRET not in caplog.text
        assert all(SECRET not in r.getMessage() for r in caplog.records)


class TestWhichValuesAreSecret:
    def test_a_secret_looking_key_safetrade_never_reads_is_masked_too(self) -> None:
        token = "ghp_0123456789abcdef"
        error = _config_error({**LIVE, "KUCOIN_API_KEY": KEY, "KUCOIN_API_SECRET": SECRET,
                               "KUCOIN_API_PASSPHRASE": PASSPHRASE, "GITHUB_TOKEN": token,
                               "RISK_PERCENT": token})  # fmt: skip
        assert token not in _everything(error)
        assert "RISK_PERCENT='***' (from env) is not a plain number" in str(error)

    def test_the_value_of_a_near_miss_secret_key_is_masked_where_it_was_pasted(self) -> None:
        error = _config_error({**LIVE, "KUCOIN_API_KEY": KEY, "KUCOIN_API_SECRT": SECRET,
                               "KUCOIN_API_PASSPHRASE": PASSPHRASE,
                               "MIN_SIGNAL_STRENGTH": SECRET})  # fmt: skip
        assert SECRET not in _everything(error)
        assert "did you mean KUCOIN_API_SECRET?" in str(error)
        assert "MIN_SIGNAL_STRENGTH='***'" in str(error)

    def test_both_lines_of_a_secret_set_twice_are_masked(self, tmp_path: Path) -> None:
        dotenv = _dotenv(tmp_path, CREDENTIALS + "KUCOIN_API_SECRET=the-second-one\n")
        error = _config_error({**LIVE, "MAX_OPEN_POSITIONS": "the-second-one"}, dotenv)
        assert "the-second-one" not in _everything(error)
        assert "KUCOIN_API_SECRET is set twice" in str(error)

    def test_a_secret_on_a_line_that_cannot_be_parsed_is_masked(self, tmp_path: Path) -> None:
        dotenv = _dotenv(
            tmp_path, f'KUCOIN_API_PASSPHRASE="{PASSPHRASE}\nTRADING_MODE={PASSPHRASE}\n'
        )
        error = _config_error({}, dotenv)
        assert PASSPHRASE not in _everything(error)


class TestForms:
    def test_quoted_and_escaped_forms_are_masked(self) -> None:
        odd = "se'cr\\et-\u200b-1234"
        error = _config_error({**LIVE, "KUCOIN_API_KEY": KEY, "KUCOIN_API_SECRET": odd,
                               "KUCOIN_API_PASSPHRASE": PASSPHRASE,
                               "ACCOUNT_BALANCE_USD": odd})  # fmt: skip
        text = _everything(error)
        assert odd not in text
        assert repr(odd)[1:-1] not in text
        assert 'ACCOUNT_BALANCE_USD="***" (from env)' in text  # repr chose double quotes

    def test_a_substring_a_path_and_lower_case_are_masked(self) -> None:
        mask = SecretMask(["AbCdEf123"])
        assert mask.redact("file x/AbCdEf123.pub") == "file x/***.pub"
        assert mask.redact("host abcdef123.example") == "host ***.example"
        assert SecretMask(["dir//AbCd/"]).redact("no dir/AbCd here") == "no *** here"

    def test_an_os_error_naming_a_path_is_masked(self) -> None:
        """OSError's message comes from its filename, not its args; a Path is masked too."""
        error = FileNotFoundError(2, "No such file or directory", Path("d") / SECRET)
        assert str(SecretMask([SECRET]).scrub(error)) == (
            "[Errno 2] No such file or directory: 'd/***'"
        )

    def test_a_short_secret_is_masked_only_as_a_whole_quoted_value(self) -> None:
        """1-3 characters: masking every "ab" inside other words would garble every message."""
        mask = SecretMask(["ab"])
        assert mask.redact("X='ab' and Y=\"ab\"; a table about abc") == (
            "X='***' and Y=\"***\"; a table about abc"
        )
        short = {"KUCOIN_API_PASSPHRASE": "ab", "MAX_ORDER_VALUE_USD": "ab"}
        error = _config_error({**LIVE, "KUCOIN_API_KEY": KEY, "KUCOIN_API_SECRET": SECRET, **short})
        assert "MAX_ORDER_VALUE_USD='***' (from env)" in str(error)

    def test_the_mask_never_shows_what_it_masks(self) -> None:
        settings = st.load_settings(env={"TRADING_MODE": "paper", "KUCOIN_API_SECRET": SECRET,
                                         "OTHER_API_SECRET": "other-secret"})  # fmt: skip
        assert "other-secret" not in repr(settings)
        assert SECRET not in repr(settings.secret_mask())
        assert settings.secret_mask().redact(f"a {SECRET} b other-secret") == "a *** b ***"


class TestWhereTheMaskApplies:
    def test_a_cause_showing_the_secret_is_masked(self, tmp_path: Path) -> None:
        """The kill-switch file cannot be created: the OSError cause names the path."""
        (tmp_path / "blocker").write_text("a file, not a folder")
        settings = st.load_settings(env={
            **LIVE, "KUCOIN_API_KEY": KEY, "KUCOIN_API_SECRET": SECRET,
            "KUCOIN_API_PASSPHRASE": PASSPHRASE,
            "SAFETRADE_KILL_SWITCH_FILE": str(tmp_path / "blocker" / SECRET / "ks.json"),
        })  # fmt: skip
        with pytest.raises(st.ConfigError, match="cannot be written") as info:
            st.Trader.start(settings, symbol="SOL/USDT", bot_package=BOT)
        assert SECRET not in _everything(info.value)
        assert "SAFETRADE_KILL_SWITCH_FILE" in str(info.value)

    def test_log_records_and_their_exceptions_are_masked_inside(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        mask = SecretMask([SECRET])
        log = logging.getLogger("safetrade.trader")
        with caplog.at_level(logging.INFO), mask.applied():
            log.info("path %s", Path("x") / SECRET)
            try:
                raise ValueError(f"bad {SECRET!r}")
            except ValueError:
                log.exception("failed")
        assert SECRET not in caplog.text
        assert "path x/***" in caplog.text
        assert "ValueError: bad '***'" in caplog.text

    def test_an_error_leaving_the_block_is_masked(self) -> None:
        with pytest.raises(st.ConfigError) as info, SecretMask([SECRET]).applied():
            raise st.ConfigError(f"file {SECRET} missing", fix=f"remove {SECRET}")
        assert (info.value.what, info.value.fix) == ("file *** missing", "remove ***")
        assert str(info.value) == "file *** missing. Fix: remove ***."

    def test_outside_the_block_nothing_is_masked(self, caplog: pytest.LogCaptureFixture) -> None:
        with SecretMask([SECRET]).applied():
            pass
        with caplog.at_level(logging.INFO):
            logging.getLogger("safetrade.trader").info("not a secret here: %s", SECRET)
        assert SECRET in caplog.text

    def test_alerts_of_a_trader_are_masked(self, tmp_path: Path) -> None:
        settings = st.load_settings(env={
            "TRADING_MODE": "paper", "KUCOIN_API_SECRET": SECRET,
            "SAFETRADE_KILL_SWITCH_FILE": str(tmp_path / "ks.json"),
        })  # fmt: skip
        alerts: list[Alert] = []
        with FakeKucoin(prices={"SOL/USDT": "87.36"}) as fake:
            trader = st.Trader(settings, st.Gateway(fake.ccxt_client()), symbol="SOL/USDT",
                               alert=alerts.append)  # fmt: skip
            trader._raise_alert("sync-failed", f"could not read {SECRET}")
        assert [a.message for a in alerts] == ["could not read ***"]
        assert trader.protector is not None  # the protector got the same masked hook

    def test_redacting_masks_every_text_of_an_alert(self) -> None:
        seen: list[Alert] = []
        hook = redacting(seen.append, SecretMask([SECRET]).redact)
        hook(Alert(level="critical", event="e", message=f"m {SECRET}", symbol="SOL/USDT",
                   exchange_message=f"said {SECRET}"))  # fmt: skip
        assert (seen[0].message, seen[0].exchange_message) == ("m ***", "said ***")


@pytest.mark.usefixtures("gate_without_measuring")
def test_preflight_rows_do_not_show_a_secret_pasted_into_a_path(tmp_path: Path) -> None:
    """`safetrade preflight` prints the gate's verdict and the kill switch's path."""
    (tmp_path / "blocker").write_text("a file, not a folder")
    settings = st.load_settings(env={
        **LIVE, "KUCOIN_API_KEY": KEY, "KUCOIN_API_SECRET": SECRET,
        "KUCOIN_API_PASSPHRASE": PASSPHRASE, "SAFETRADE_TRUSTED_KEYS": str(tmp_path / SECRET),
        "SAFETRADE_CERTIFICATE": str(tmp_path / "out" / "cert.json"),
        "SAFETRADE_KILL_SWITCH_FILE": str(tmp_path / "blocker" / PASSPHRASE),
    })  # fmt: skip
    with FakeKucoin() as fake:
        rows = run_preflight(settings, lambda: st.Gateway(fake.ccxt_client()), symbol="SOL/USDT",
                             bot_package=BOT)  # fmt: skip
    table = render(rows)
    assert SECRET not in table
    assert PASSPHRASE not in table
    assert "trusted keys file" in table
    assert "***" in table
