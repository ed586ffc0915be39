"""Shared pytest set-up for tests/ and features/: hypothesis profiles.

``dev`` is quick; ``certify`` is derandomized (same examples every run) so certification results
are reproducible. The profile is loaded explicitly because hypothesis would otherwise pick its
built-in ``ci`` profile whenever CI is set.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

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
