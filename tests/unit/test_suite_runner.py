"""Merging the evidence of the two processes that run the certification suite."""

from __future__ import annotations

import pytest

from safetrade.certification.suite_runner import merge_evidence


def _part(nodeids: list[str], *, exitstatus: int = 0, files: dict[str, str] | None = None) -> dict:
    return {
        "format": "safetrade-evidence/1",
        "exitstatus": exitstatus,
        "hypothesisProfile": "certify",
        "args": ["x"],
        "testedFiles": files if files is not None else {"a.py": "0" * 64},
        "testedFilesAtEnd": files if files is not None else {"a.py": "0" * 64},
        "items": [{"nodeid": n, "outcome": "passed"} for n in nodeids],
    }


def test_items_are_joined_and_the_worst_exit_status_kept() -> None:
    merged = merge_evidence([_part(["f::s", "t::u"]), _part(["p::q"], exitstatus=1)])
    assert [i["nodeid"] for i in merged["items"]] == ["f::s", "t::u", "p::q"]
    assert merged["exitstatus"] == 1
    assert merged["collectionErrors"] == []
    assert merged["testedFiles"] == {"a.py": "0" * 64}


def test_processes_that_tested_different_code_are_a_collection_error() -> None:
    merged = merge_evidence([_part(["f::s"]), _part(["p::q"], files={"a.py": "1" * 64})])
    assert merged["collectionErrors"] == [
        "the test processes saw different safetrade code (testedFiles)",
        "the test processes saw different safetrade code (testedFilesAtEnd)",
    ]


def test_parts_of_different_formats_are_refused() -> None:
    other = {**_part([]), "format": "something-else"}
    with pytest.raises(ValueError, match="disagree on their format"):
        merge_evidence([_part([]), other])
