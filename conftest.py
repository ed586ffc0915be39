"""Shared pytest set-up for tests/ and features/: hypothesis profiles, the harness allowance.

``dev`` is quick; ``certify`` is derandomized (same examples every run) so certification results
are reproducible. The profile is loaded explicitly because hypothesis would otherwise pick its
built-in ``ci`` profile whenever CI is set.

The suite starts bots in live mode in-process, beside its own modules (tests/, features/, this
file): live start-up refuses any module outside the certified trees, the standard library and
site-packages, so the suite names its own files as a test harness. Only this suite does;
``safetrade conformance`` (the certify run) and a live bot never do. A module a test imports
from its temporary folder is forgotten after that test, so no later test's live start-up runs
beside it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from safetrade.certification.gate import allow_test_harness

_ROOT = Path(__file__).resolve().parent
allow_test_harness(_ROOT / "tests", _ROOT / "features", _ROOT / "conftest.py")

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "certify",
    derandomize=True,
    database=None,
    max_examples=300,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _forget_modules_imported_from_tmp(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Drop the modules a test imported from pytest's temporary folders once it is done."""
    before = set(sys.modules)
    yield
    base = os.path.realpath(tmp_path_factory.getbasetemp()) + os.sep
    for name in set(sys.modules) - before:
        file = getattr(sys.modules.get(name), "__file__", None)
        if isinstance(file, str) and os.path.realpath(file).startswith(base):
            del sys.modules[name]
