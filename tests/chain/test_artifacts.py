"""The committed artifacts are what the pinned compiler makes of the committed sources."""

import json
import shutil

import pytest

from iexec_kit.chain import artifacts
from iexec_kit.chain import compile as solc


def test_artifacts_are_fresh():
    if shutil.which("node") is None or not solc.SOLC_JS.exists():
        pytest.skip(
            f"node or solc-js missing (node={shutil.which('node')}, {solc.SOLC_JS} "
            f"present={solc.SOLC_JS.exists()}): run `npm ci`; CI has both"
        )
    fresh = solc.compile_all()
    committed = {p.stem for p in artifacts.ARTIFACTS_DIR.glob("*.json")}
    assert committed == set(fresh), (
        "artifacts differ from the sources' contracts: run `make contracts`"
    )
    for name, art in fresh.items():
        old = json.loads((artifacts.ARTIFACTS_DIR / f"{name}.json").read_text())
        assert old["abi"] == art["abi"], f"{name}: ABI is stale, run `make contracts`"
        assert old["bytecode"] == art["bytecode"], (
            f"{name}: bytecode is stale, run `make contracts`"
        )


def test_compiler_settings_are_cancun_and_pinned():
    for path in artifacts.ARTIFACTS_DIR.glob("*.json"):
        art = json.loads(path.read_text())
        assert art["compiler"]["settings"]["evmVersion"] == "cancun"
        assert art["compiler"]["solc"].startswith("0.8.37")


def test_every_contract_fits_eip170():
    for path in artifacts.ARTIFACTS_DIR.glob("*.json"):
        runtime = (len(json.loads(path.read_text())["deployedBytecode"]) - 2) // 2
        assert runtime <= 24_576, f"{path.stem} runtime is {runtime} bytes, above EIP-170's 24,576"
