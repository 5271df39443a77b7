"""The committed contract artifacts (ABI + bytecode), and the hub's merged ABI."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from iexec_kit.errors import ArtifactError

ARTIFACTS_DIR = Path(__file__).parent / "artifacts"

# The hub's modules, in deployment order. Later issues append theirs.
HUB_MODULES = ("EscrowModule", "ConfigModule", "OrderModule", "MatchModule", "PocoModule")


@cache
def load(name: str) -> dict:
    """The artifact of contract ``name``: {"abi", "bytecode", "deployedBytecode", ...}."""
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.exists():
        known = sorted(p.stem for p in ARTIFACTS_DIR.glob("*.json"))
        raise ArtifactError(
            f"no compiled artifact for contract {name!r}",
            expected=f"one of {', '.join(known)}",
            got=str(path),
            hint="run `make contracts` after adding a Solidity contract",
        )
    return json.loads(path.read_text())


def abi(name: str) -> list[dict]:
    return load(name)["abi"]


@cache
def hub_abi() -> tuple:
    """The ABI a caller sees at the hub's address: the router's plus every module's,
    deduplicated."""
    seen, merged = set(), []
    for name in ("IexecRouter",) + HUB_MODULES:
        for entry in abi(name):
            if entry["type"] in ("constructor", "fallback", "receive"):
                continue
            sig = (
                entry["type"],
                entry.get("name"),
                tuple(i["type"] for i in entry.get("inputs", [])),
            )
            if sig not in seen:
                seen.add(sig)
                merged.append(entry)
    return tuple(merged)
