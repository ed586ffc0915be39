"""The public names are typed for users too: misuse of the lazily loaded ones fails mypy."""

from __future__ import annotations

import re
from pathlib import Path

SNIPPET = Path(__file__).parents[1] / "typing" / "user_bot_misuse.py"


def test_mypy_strict_rejects_each_misuse_of_the_lazily_loaded_api() -> None:
    from mypy import api

    out, _err, status = api.run(
        ["--strict", "--no-incremental", "--follow-imports=silent", str(SNIPPET)]
    )
    assert status == 1, out
    flagged = {int(m.group(1)) for m in re.finditer(rf"{SNIPPET.name}:(\d+): error", out)}
    lines = SNIPPET.read_text().splitlines()
    expected = {n for n, line in enumerate(lines, 1) if "# error" in line}
    assert expected == flagged, out
