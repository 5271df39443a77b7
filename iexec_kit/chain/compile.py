"""Compile the kit's Solidity sources with the pinned solc-js, and write one artifact per contract.

Users never need this: the artifacts (ABI + bytecode) are committed. Developers run
``make contracts`` (``python -m iexec_kit.chain.compile``) after editing a .sol file; a test
recompiles and fails when a committed artifact is stale.

The compiler is npm's ``solc`` pinned in package.json (it carries its own compiler and works
offline). evmVersion is "cancun": py-evm and common dev nodes run it; solc's own default (osaka)
is not fully supported by py-evm.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from iexec_kit.errors import DependencyMissingError, IexecKitError

CONTRACTS_DIR = Path(__file__).parent / "contracts"
ARTIFACTS_DIR = Path(__file__).parent / "artifacts"
REPO_ROOT = Path(__file__).resolve().parents[2]
SOLC_JS = REPO_ROOT / "node_modules" / "solc"

SETTINGS = {
    "evmVersion": "cancun",
    "optimizer": {"enabled": True, "runs": 200},
    "metadata": {"bytecodeHash": "none"},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}

_NODE_DRIVER = """
const solc = require(process.argv[1]);
let input = '';
process.stdin.on('data', c => input += c);
process.stdin.on('end', () => {
  const out = JSON.parse(solc.compile(input));
  out.solcVersion = solc.version();
  process.stdout.write(JSON.stringify(out));
});
"""


def standard_input() -> dict:
    """The standard-JSON input for every .sol file in the contracts folder (sorted)."""
    sources = {p.name: {"content": p.read_text()} for p in sorted(CONTRACTS_DIR.glob("*.sol"))}
    return {"language": "Solidity", "sources": sources, "settings": SETTINGS}


def compile_all() -> dict[str, dict]:
    """Run solc-js; return {contract name: artifact} for every contract with bytecode."""
    node = shutil.which("node")
    if node is None or not SOLC_JS.exists():
        raise DependencyMissingError(
            "cannot compile the contracts: node or the pinned solc-js is missing",
            expected=f"node on PATH and {SOLC_JS}",
            got=f"node={node}, solc-js present={SOLC_JS.exists()}",
            hint="install Node.js, then run `npm ci` (or `make node`) in the repository",
        )
    proc = subprocess.run(
        [node, "-e", _NODE_DRIVER, str(SOLC_JS)],
        input=json.dumps(standard_input()),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise IexecKitError("solc-js crashed", got=proc.stderr.strip()[-2000:])
    out = json.loads(proc.stdout)
    errors = [e for e in out.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise IexecKitError(
            "the contracts do not compile", got="\n".join(e["formattedMessage"] for e in errors)
        )
    artifacts = {}
    for source, contracts in sorted(out["contracts"].items()):
        for name, c in sorted(contracts.items()):
            bytecode = c["evm"]["bytecode"]["object"]
            if (
                not bytecode or not c["abi"]
            ):  # interfaces, abstract contracts, struct-only libraries
                continue
            artifacts[name] = {
                "contractName": name,
                "sourceName": source,
                "compiler": {
                    "solc": out["solcVersion"],
                    "settings": {k: v for k, v in SETTINGS.items() if k != "outputSelection"},
                },
                "abi": c["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + c["evm"]["deployedBytecode"]["object"],
            }
    return artifacts


def write_artifacts(artifacts: dict[str, dict]) -> list[Path]:
    """Replace the artifacts folder's JSON files with these."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    for old in ARTIFACTS_DIR.glob("*.json"):
        old.unlink()
    paths = []
    for name, art in artifacts.items():
        path = ARTIFACTS_DIR / f"{name}.json"
        path.write_text(json.dumps(art, indent=1, sort_keys=True) + "\n")
        paths.append(path)
    return paths


def main() -> int:
    artifacts = compile_all()
    for path in write_artifacts(artifacts):
        size = (len(artifacts[path.stem]["deployedBytecode"]) - 2) // 2
        print(f"{path.relative_to(REPO_ROOT)}  runtime {size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
