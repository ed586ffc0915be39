"""Steps about certification: signing the running code and starting the bot against it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pytest_bdd import given, when

from features.steps.helpers import INCIDENT_TIME, Startup, Trading, start_bot
from features.steps.types import parse
from safetrade.certification.conformance.mint import mint_certificate
from safetrade.certification.digest import sha256_hex
from safetrade.certification.provenance import measure_running_code
from safetrade.reference_bot import bot as reference_bot
from safetrade.testing import FakeKucoin


@dataclass
class Certificate:
    """A signed artifact and the file of keys trusted to verify it."""

    artifact: Path
    trusted_keys: Path
    altered_file: str | None = None


def certify_running_code(
    directory: Path, *, now: datetime, altered_file: tuple[str, str] | None = None
) -> Certificate:
    """Sign an artifact for the code that is running now, with a throwaway key.

    Uses the conformance harness's own scenario-certificate builder (measure, statement,
    DSSE). With ``altered_file=(part, path)`` the artifact instead records ``path`` of ``part``
    (``safetrade`` or ``bot``) as it was *before a one-character edit*: the certified file
    differs from the running one by exactly one character, which is what a hotfix after
    certification leaves.
    """
    running = measure_running_code(reference_bot.__name__.rpartition(".")[0])
    if altered_file is not None:
        part, rel = altered_file
        root = Path(reference_bot.__file__).parent
        if part == "safetrade":
            root = root.parent
        text = (root / rel).read_bytes()
        edited = text.replace(b"=", b"!", 1)  # one character, a real code change
        assert edited != text
        files = dict(running.safetrade_files if part == "safetrade" else running.bot_files)
        assert rel in files, f"{rel} is not part of the {part} tree"
        files[rel] = sha256_hex(edited)
        changes = {"safetrade_files": files} if part == "safetrade" else {"bot_files": files}
        running = attrs.evolve(running, **changes)
    private = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    minted = mint_certificate(directory, running=running, now=now, private_key=private)
    return Certificate(
        minted.artifact, minted.trusted_keys, None if altered_file is None else altered_file[1]
    )


def _trust(env: dict[str, str], cert: Certificate) -> Certificate:
    env["SAFETRADE_CERTIFICATE"] = str(cert.artifact)
    env["SAFETRADE_TRUSTED_KEYS"] = str(cert.trusted_keys)
    return cert


@given("a valid certification of the running code, signed by a trusted key")
def valid_certification(env: dict[str, str], tmp_path: Path) -> Certificate:
    return _trust(env, certify_running_code(tmp_path / "cert", now=INCIDENT_TIME))


@given(
    parse(
        "a certification signed by a trusted key, taken before a one-character change to "
        '{part:Word} file "{path}"'
    )
)
def certification_before_change(
    env: dict[str, str], tmp_path: Path, part: str, path: str
) -> Certificate:
    cert = certify_running_code(tmp_path / "cert", now=INCIDENT_TIME, altered_file=(part, path))
    return _trust(env, cert)


@when(
    parse("the bot starts {days:d} days after it was certified"),
    target_fixture="startup",
)
def bot_starts_later(
    exchange: FakeKucoin, env: dict[str, str], trading: Trading, days: int
) -> Startup:
    return start_bot(exchange, env, trading, now=INCIDENT_TIME + timedelta(days=days))
