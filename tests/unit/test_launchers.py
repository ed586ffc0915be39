"""Console-script launchers the live gate accepts: exactly what pip and uv write, per version.

A review found every launcher pip 25.2 and later writes refused ("a script outside the certified
bot package"), including the one certify's own environment installs: their template changed
(no ``re``). Each installer's text is here as it ships, and the installed pip's own template is
rendered by pip itself, so the next change of shape fails here rather than at a live start.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from safetrade.certification.provenance import _launches

_PIP_26 = """\
import sys
from mybot.__main__ import main
if __name__ == '__main__':
    sys.argv[0] = sys.argv[0].removesuffix('.exe')
    sys.exit(main())
"""
_PIP_25_2 = """\
import sys
from mybot.__main__ import main
if __name__ == '__main__':
    if sys.argv[0].endswith('.exe'):
        sys.argv[0] = sys.argv[0][:-4]
    sys.exit(main())
"""
_DISTLIB_0_3_9 = """\
# -*- coding: utf-8 -*-
import re
import sys
if __name__ == '__main__':
    from mybot.__main__ import main
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""
_PIP_24 = """\
# -*- coding: utf-8 -*-
import re
import sys
from mybot.__main__ import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


def _launcher(tmp_path: Path, text: str, name: str) -> str:
    script = tmp_path / name
    script.write_text("#!/venv/bin/python3\n" + text, encoding="utf-8")
    return str(script)


@pytest.mark.parametrize(
    "text",
    [_PIP_24, _PIP_25_2, _PIP_26, _DISTLIB_0_3_9],
    ids=["pip-24", "pip-25.2", "pip-26", "distlib-0.3.9"],
)
def test_each_installers_launcher_of_the_bot_is_one_and_one_statement_more_is_not(
    tmp_path: Path, text: str
) -> None:
    assert _launches(_launcher(tmp_path, text, "mybot"), ("mybot",))
    assert not _launches(_launcher(tmp_path, text, "mybot2"), ("otherbot",))  # another's
    tampered = text.replace("    sys.exit(main())", "    print('hi')\n    sys.exit(main())")
    assert not _launches(_launcher(tmp_path, tampered, "mybot3"), ("mybot",))


def test_the_installed_pips_own_launcher_is_accepted(tmp_path: Path) -> None:
    # what `pip install` in this very environment writes (certify installs bots with it)
    from pip._internal.operations.install.wheel import PipScriptMaker

    maker = PipScriptMaker(None, str(tmp_path))
    maker.clobber = True
    maker.variants = {""}
    [script] = maker.make("mybot = mybot.__main__:main")
    text = Path(script).read_text(encoding="utf-8")
    assert "from mybot.__main__ import main" in textwrap.dedent(text)
    assert _launches(script, ("mybot",)), text
