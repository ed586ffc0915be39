"""The `safetrade` command line: dispatch, help, unknown commands, errors as exit status 1."""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from safetrade.cli import COMMANDS, main
from safetrade.testing import serve


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps long help lines
    for name, (_module, help_text) in COMMANDS.items():
        assert f"{name} {help_text}" in out


@pytest.mark.parametrize("argv", [[], ["launch-rockets"], ["--verbose"]])
def test_missing_or_unknown_command_is_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: safetrade")
    if argv == ["launch-rockets"]:
        assert "invalid choice: 'launch-rockets'" in err


def test_subcommand_help_shows_its_own_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["certify", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: safetrade certify")
    assert "--conformance" in out
    assert COMMANDS["certify"][1] in " ".join(out.split())


def test_bad_subcommand_argument_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["fake-kucoin", "--balance", "USDT"])
    assert exited.value.code == 2
    assert "expected NAME=NUMBER, got 'USDT'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fake-kucoin", "--price", "=87.36"])
    assert "expected NAME=NUMBER, got '=87.36'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fake-kucoin", "--price", "SOL-USDT=cheap"])
    assert "got 'SOL-USDT=cheap'" in capsys.readouterr().err


def test_safetrade_errors_become_exit_status_1_with_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFETRADE_CERT_KEY_FILE", str(tmp_path / "ci.pem"))  # never the dev key
    status = main(["certify", "--out", str(tmp_path / "out"), "--policy", str(tmp_path / "p")])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("safetrade certify: ")
    assert "ci.pem does not exist" in err
    assert "Fix: " in err


def test_fake_kucoin_stops_cleanly_on_ctrl_c(capsys: pytest.CaptureFixture[str]) -> None:
    class CtrlC(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            raise KeyboardInterrupt

    parser = argparse.ArgumentParser()
    serve.configure(parser, "fake-kucoin")
    args = parser.parse_args(["--port", "0", "--hf"])
    assert serve.run(args, "fake-kucoin", stop=CtrlC()) == 0
    out = capsys.readouterr().out
    assert "fake KuCoin listening on http://127.0.0.1:" in out
    assert out.endswith("safetrade fake-kucoin: stopped\n")


def test_help_does_not_import_ccxt() -> None:
    """`safetrade --help` stays fast: command modules (and ccxt) load only when they run."""
    code = (
        "import sys\n"
        "from safetrade.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('ccxt' in sys.modules, 'safetrade.certification.cli' in sys.modules)\n"
    )
    done = subprocess.run(  # noqa: S603 -- fixed argv
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "False False"
