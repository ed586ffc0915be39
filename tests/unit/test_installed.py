"""The installed-distribution reader certification binds versions with (installed.py)."""

from __future__ import annotations

import importlib.metadata
from typing import TYPE_CHECKING

from safetrade.certification import installed
from safetrade.certification.closure import runtime_distributions

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

BODY = "\n\nA long description.\nVersion: 9.9.9\nRequires-Dist: not-a-header\n"


def _dist(site: Path, name: str, version: str, *, requires: tuple[str, ...] = (),
          record: tuple[str, ...] = (), top_level: str | None = None) -> Path:  # fmt: skip
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    headers = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    headers += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(headers) + BODY, encoding="utf-8")
    (info / "RECORD").write_text("".join(f"{r},,\n" for r in record), encoding="utf-8")
    if top_level is not None:
        (info / "top_level.txt").write_text(top_level, encoding="utf-8")
    return info


def test_agrees_with_importlib_metadata_on_this_environment() -> None:
    named = installed.by_name()
    assert "safetrade" in named
    assert "ccxt" in named
    for dist in named.values():
        assert dist.version == importlib.metadata.version(dist.name)
        assert dist.requires == tuple(importlib.metadata.requires(dist.name) or ())
    ours: dict[str, set[str]] = {}
    for dist in named.values():
        for top in dist.top_level:
            ours.setdefault(top, set()).add(dist.name)
    theirs = {k: set(v) for k, v in importlib.metadata.packages_distributions().items()}
    assert ours == theirs


def test_reads_headers_only_and_infers_packages_from_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = ("alpha/__init__.py", "alpha/sub/m.py", "alpha_mod.py", "../../bin/alpha")
    _dist(tmp_path, "alpha_pkg", "1.0", requires=("beta>=1", 'gamma; extra == "x"'), record=record)
    _dist(tmp_path, "beta", "2.5", top_level="beta\nbeta_extra\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    alpha = installed.by_name()["alpha-pkg"]
    # the long description's "Version: 9.9.9" is body text, not a header
    assert (alpha.version, alpha.requires) == ("1.0", ("beta>=1", 'gamma; extra == "x"'))
    assert alpha.top_level == ("alpha", "alpha_mod")
    assert installed.owners_of("alpha") == ["alpha_pkg"]
    assert installed.owners_of("beta_extra") == ["beta"]
    assert runtime_distributions("alpha-pkg") == {"alpha-pkg": "1.0", "beta": "2.5"}


def test_an_edit_in_place_is_seen_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = _dist(tmp_path, "edited", "1.0")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert installed.version_of("edited") == "1.0"
    metadata = info / "METADATA"
    metadata.write_text(metadata.read_text().replace("1.0", "1.1"), encoding="utf-8")
    assert installed.version_of("edited") == "1.1"
    (info / "METADATA").unlink()
    (info / "RECORD").unlink()
    info.rmdir()
    assert installed.version_of("edited") is None


def test_the_first_on_the_path_wins_as_for_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dist(tmp_path / "late", "twice", "1.0")
    _dist(tmp_path / "early", "twice", "2.0")
    monkeypatch.syspath_prepend(str(tmp_path / "late"))
    monkeypatch.syspath_prepend(str(tmp_path / "early"))
    assert [d.version for d in installed.distributions() if d.key == "twice"] == ["2.0", "1.0"]
    assert installed.version_of("Twice") == "2.0"
    assert runtime_distributions("twice") == {"twice": "2.0"}


def test_an_egg_info_distribution_keeps_its_requirements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    egg = tmp_path / "old_style.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: old-style\nVersion: 0.3\n")
    (egg / "requires.txt").write_text("beta\n\n[extra]\ngamma\n")
    (egg / "top_level.txt").write_text("old_style\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    dist = installed.by_name()["old-style"]
    assert dist.version == "0.3"
    assert "beta" in dist.requires
    assert runtime_distributions("old-style") == {"beta": "missing", "old-style": "0.3"}


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


EDGE_SITE = {
    # an empty top_level.txt: importlib infers the package from RECORD
    "a_empty-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: a-empty\nVersion: 1.0\n",
    "a_empty-1.0.dist-info/top_level.txt": "",
    "a_empty-1.0.dist-info/RECORD": "aempty/__init__.py,,\n",
    # compiled-only files (no .py): what importlib infers depends on the Python
    "b_so-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: b-so\nVersion: 1.0\n",
    "b_so-1.0.dist-info/RECORD": "bso/__init__.cpython-311-x86_64-linux-gnu.so,,\nfast.pyc,,\n",
    # an egg without top_level.txt: its file lists say what it installs
    "c_egg-1.0.egg-info/PKG-INFO": "Metadata-Version: 1.1\nName: c-egg\nVersion: 1.0\n",
    "c_egg-1.0.egg-info/SOURCES.txt": "cegg/__init__.py\n",
    "c_egg-1.0.egg-info/installed-files.txt": "../cegg/__init__.py\n",
    # an empty METADATA next to a PKG-INFO
    "d_x-1.0.dist-info/METADATA": "",
    "d_x-1.0.dist-info/PKG-INFO": "Name: d-x\nVersion: 1.0\n",
    # a folder whose name is not its Name header: importlib finds it by the folder
    "e_dir-1.0.dist-info/METADATA": "Name: other\nVersion: 9\n",
    # a one-file egg-info (distutils, Debian) required by a bot distribution
    "fileegg-3.1.egg-info": "Metadata-Version: 1.1\nName: fileegg\nVersion: 3.1\n",
    "fileegg/__init__.py": "",
    "botdist-1.0.dist-info/METADATA": (
        "Metadata-Version: 2.1\nName: botdist\nVersion: 1.0\nRequires-Dist: fileegg\n"
    ),
    "botdist-1.0.dist-info/top_level.txt": "",
    "botdist-1.0.dist-info/RECORD": "mybot/__init__.py,,\n",
}


def test_odd_installs_are_read_as_importlib_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, EDGE_SITE)
    monkeypatch.syspath_prepend(str(tmp_path))
    theirs = importlib.metadata.packages_distributions()
    for top in ("aempty", "bso", "fast", "cegg", "mybot", "fileegg"):
        assert sorted(installed.owners_of(top)) == sorted(theirs.get(top, [])), top
    assert installed.owners_of("aempty") == ["a-empty"]
    assert installed.owners_of("cegg") == ["c-egg"]
    assert installed.owners_of("mybot") == ["botdist"]
    for name in ("a-empty", "b-so", "c-egg", "d-x", "e-dir", "other", "fileegg", "botdist"):
        try:
            expected: str | None = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            expected = None
        assert installed.version_of(name) == expected, name
    assert installed.version_of("d-x") == "1.0"
    assert installed.version_of("e-dir") == "9"
    # the bot's requirement is bound by its version: an edit of it is seen
    assert runtime_distributions("botdist") == {"botdist": "1.0", "fileegg": "3.1"}
    egg = tmp_path / "fileegg-3.1.egg-info"
    egg.write_text(egg.read_text().replace("3.1", "9.9"), encoding="utf-8")
    assert runtime_distributions("botdist") == {"botdist": "1.0", "fileegg": "9.9"}


def test_a_folder_bot_installed_editable_by_a_pth_file_is_owned_and_binds_its_requirements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hatchling's editable install lists only `_c_dep.pth`: no top-level name to match."""
    from safetrade.certification.provenance import bot_owners, measure_running_code

    folder = tmp_path / "bots" / "c_dep"
    (folder / "c_dep").mkdir(parents=True)
    (folder / "c_dep" / "__init__.py").write_text("", encoding="utf-8")
    site = tmp_path / "site"
    info = _dist(site, "c_dep", "0.1.0", requires=("beta>=2",), record=("_c_dep.pth",))
    (info / "direct_url.json").write_text(
        f'{{"url": "{folder.as_uri()}", "dir_info": {{"editable": true}}}}', encoding="utf-8"
    )
    (site / "_c_dep.pth").write_text(f"{folder}\n", encoding="utf-8")
    _dist(site, "beta", "2.5", top_level="beta\n")
    # another editable distribution whose .pth points elsewhere owns nothing of the bot
    other = _dist(site, "other", "1.0", record=("_other.pth",))
    (other / "direct_url.json").write_text(
        f'{{"url": "{tmp_path.as_uri()}", "dir_info": {{"editable": true}}}}', encoding="utf-8"
    )
    (site / "_other.pth").write_text(f"{tmp_path / 'src'}\nimport sys\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(folder))  # what site would do with _c_dep.pth
    assert installed.owners_of("c_dep") == []  # by top-level names alone: nothing
    assert installed.owners_of("c_dep", location=folder / "c_dep") == ["c_dep"]
    assert bot_owners("c_dep.certify") == ["c_dep"]
    running = measure_running_code("c_dep")
    assert running.bot_distributions == ("c_dep",)
    # its own version and what it requires are bound, not only safetrade's dependencies
    assert running.distributions["c-dep"] == "0.1.0"
    assert running.distributions["beta"] == "2.5"
