#!/usr/bin/env python3
"""Run tox from the project's own virtual environment, creating it on first use.

The README's two commands go through this script so they work on any Python >= 3.11: a pyenv or
python.org build, and a Debian/Ubuntu system Python where ``pip install`` outside a virtual
environment is refused (PEP 668, "externally-managed-environment"). Nothing is installed
outside ``.tox-bootstrap/`` (ignored by git); tox and tox-uv then build their own environments
under ``.tox/``. Standard library only, so it runs before anything is installed.

Usage: ``python3 tools/tox.py -e certify`` (any tox arguments).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".tox-bootstrap"
REQUIREMENTS = ("tox>=4.22", "tox-uv>=1.11")
_BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
_PYTHON = _BIN / ("python.exe" if os.name == "nt" else "python")
_TOX = _BIN / ("tox.exe" if os.name == "nt" else "tox")
_STAMP = VENV / "requirements.txt"


def _say(message: str) -> None:
    print(f"tools/tox.py: {message}", file=sys.stderr, flush=True)


def _create() -> None:
    """Create the venv with pip; without ensurepip (Debian's python3-venv missing) borrow pip."""
    try:
        venv.create(VENV, with_pip=True, clear=True)
        return
    except (subprocess.CalledProcessError, OSError) as exc:
        _say(f"venv with pip failed ({exc}); trying without ensurepip")
    venv.create(VENV, with_pip=False, clear=True)
    # pip >= 22.3 can install into another interpreter's environment; the target is a venv,
    # so PEP 668 does not apply to it
    borrowed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(_PYTHON), "install", "--quiet", "pip"],
        check=False,
    )
    if borrowed.returncode != 0:
        sys.exit(
            "tools/tox.py: cannot create a virtual environment with pip. Install your "
            "distribution's venv support (Debian/Ubuntu: `sudo apt install python3-venv`) "
            "and run the command again."
        )


def _ensure_tox() -> None:
    wanted = "\n".join(REQUIREMENTS) + "\n"
    if _TOX.exists() and _STAMP.is_file() and _STAMP.read_text(encoding="utf-8") == wanted:
        return
    if not _PYTHON.exists():
        _say(f"creating {VENV.name}/ (once) for tox and tox-uv")
        _create()
    subprocess.run(
        [str(_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *REQUIREMENTS],
        check=True,
    )
    _STAMP.write_text(wanted, encoding="utf-8")


def main() -> int:
    """Make sure tox is installed in ``.tox-bootstrap/``, then run it with our arguments."""
    if sys.version_info < (3, 11):
        sys.exit(f"tools/tox.py: safetrade needs Python >= 3.11, this is {sys.version.split()[0]}")
    try:
        _ensure_tox()
    except subprocess.CalledProcessError as exc:
        sys.exit(f"tools/tox.py: installing tox failed (exit {exc.returncode}); see above")
    os.chdir(ROOT)
    # tox-uv's uv trusts its own certificate bundle by default; machines whose pip is set up
    # for a corporate or proxy CA in the system store need uv to use that store too
    env = {**os.environ, "UV_NATIVE_TLS": os.environ.get("UV_NATIVE_TLS", "1")}
    return subprocess.run([str(_TOX), *sys.argv[1:]], check=False, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
