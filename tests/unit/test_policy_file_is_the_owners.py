"""certification/policy.toml is the owner's to tighten: no test of the suite may read it.

The suite runs inside every certification. A review set `min_days = 7` (as the file's own
comment advises for a bot trading money) and two tests that compared the working file with the
library defaults failed, so certification failed however long the bot had paper-traded. Tests
read ``safetrade.certification.policy.SHIPPED_POLICY`` instead.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
# a path built to the checkout's own policy file (a policy written into tmp_path is fine)
_READS_WORKING_POLICY = re.compile(
    r"""(parents\[\d\]|ROOT|root_dir|PROJECT)\s*/\s*["']certification["']\s*/\s*["']policy\.toml"""
)


def test_no_test_reads_the_working_policy_file() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("tests", "features")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != Path(__file__).name
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _READS_WORKING_POLICY.search(line)
    ]
    assert offenders == [], offenders


def test_the_pattern_finds_what_the_review_found() -> None:
    assert _READS_WORKING_POLICY.search('(ROOT / "certification" / "policy.toml").read_bytes()')
    assert _READS_WORKING_POLICY.search(
        'Path(__file__).parents[2] / "certification" / "policy.toml"'
    )
    assert not _READS_WORKING_POLICY.search('(tmp_path / "policy.toml").write_text(POLICY)')
