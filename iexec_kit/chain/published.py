"""Deploy iExec's *published* PoCo 6.1.0 (npm ``@iexec/poco``) on the kit's chain, with no compiler.

The kit's own contracts (:mod:`iexec_kit.chain.deploy`) are a readable re-implementation of PoCo.
This module deploys the real thing beside them, from the bytecode iExec published in the npm
package ``@iexec/poco`` 6.1.0 (a dev dependency in package.json, installed by ``npm ci`` in
``node_modules/``), so the two can be run side by side.

The steps and their arguments follow iExec's own deployment script, ``deploy/0_deploy.ts`` at the
tag v6.1.0 of github.com/iExecBlockchainComputing/PoCo, for a chain that is neither Arbitrum nor
native (a local Hardhat chain):

1. the RLC token: the kit's own RLC artifact (iExec's script deploys its RLC when the chain has
   none; the kit's has the same ERC-20 + ``approveAndCall`` interface, plus a faucet and a mint);
2. the diamond (EIP-2535) with its three default facets DiamondCutFacet, DiamondLoupeFacet and
   OwnershipFacet, and ``DiamondInit.init()`` as its initialiser (it records the ERC-165
   interfaces). The Diamond's bytecode is ``artifacts/contracts/Diamond.sol``; the three facets
   and DiamondInit are not among the package's artifacts (they come from ``@mudgen/diamond-1``,
   which the kit replaces by a stub since it never compiles its sources), but their creation
   bytecode is published in the same package, in ``deployments/arbitrum/*.json`` (the records of
   iExec's own Arbitrum deployment): that is what is deployed here, unchanged;
3. the library IexecLibOrders_v5, linked into the facets that use it;
4. the PoCo facets, each added by one ``diamondCut`` with every selector of its ABI (its fallback
   as ``0xffffffff``, its receive as ``0x00000000``) that the diamond does not have yet, as
   ``linkContractToProxy`` does: AccessorsABILegacy, CategoryManager, ConfigurationExtra,
   Configuration, ERC20, EscrowToken (token mode, so not EscrowNative), OrderManagement, Poco1,
   Poco2, PocoAccessors, PocoBoost and PocoBoostAccessors (deployed on every chain but Arbitrum),
   Relay;
5. the three registries, each ``initialize(address(0))`` (no previous registry) and
   ``setBaseURI("<iExec's metadata URL>/<chain id>/")``; ``setName`` is not called (it reverts
   on every chain but Bellecour);
6. ``configure(RLC, "Staked RLC", "SRLC", 9, the registries, address(0))``, which also sets the
   EIP-712 domain separator ({"iExecODB", "5.0.0", chain id, the diamond});
7. the categories: the kit's (:data:`iexec_kit.protocol.categories.DEFAULT_CATEGORIES`, with the
   kit's JSON description), where iExec's script has the same names and clocks with an empty
   description;
8. iExec's script then hands every ownership to the network's configured owner: here the owner is
   the deployer, so that step is a no-op and is skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from eth_utils import function_abi_to_4byte_selector

from iexec_kit.chain import artifacts as kit_artifacts
from iexec_kit.chain.accounts import Participant
from iexec_kit.chain.deploy import Deployment, configure_hub, create_categories
from iexec_kit.chain.node import Chain, Receipt
from iexec_kit.errors import ArtifactError, DependencyMissingError
from iexec_kit.protocol.units import ZERO_ADDRESS

REPO_ROOT = Path(__file__).resolve().parents[2]
POCO_DIR = REPO_ROOT / "node_modules" / "@iexec" / "poco"
POCO_VERSION = "6.1.0"
PROTOCOL = "poco"

#: The diamond's own facets and initialiser: published in the package as iExec's deployment
#: records (creation bytecode), not as artifacts.
DIAMOND_DEFAULT_FACETS = ("DiamondCutFacet", "DiamondLoupeFacet", "OwnershipFacet")
DIAMOND_RECORDS = "deployments/arbitrum"

#: The PoCo facets, in the order of iExec's deploy/0_deploy.ts (token mode, not Arbitrum).
POCO_FACETS = (
    "IexecAccessorsABILegacyFacet",
    "IexecCategoryManagerFacet",
    "IexecConfigurationExtraFacet",
    "IexecConfigurationFacet",
    "IexecERC20Facet",
    "IexecEscrowTokenFacet",
    "IexecOrderManagementFacet",
    "IexecPoco1Facet",
    "IexecPoco2Facet",
    "IexecPocoAccessorsFacet",
    "IexecPocoBoostFacet",
    "IexecPocoBoostAccessorsFacet",
    "IexecRelayFacet",
)
REGISTRIES = ("AppRegistry", "DatasetRegistry", "WorkerpoolRegistry")
#: iExec's config/config.json "registriesBaseUri"; the chain id and a slash are appended.
REGISTRIES_BASE_URI = {
    "AppRegistry": "https://nfts-metadata.iex.ec/app",
    "DatasetRegistry": "https://nfts-metadata.iex.ec/dataset",
    "WorkerpoolRegistry": "https://nfts-metadata.iex.ec/workerpool",
}
LIBRARY = "IexecLibOrders_v5"
FACET_CUT_ADD = 0


@dataclass(frozen=True)
class PublishedDeployment(Deployment):
    """A :class:`~iexec_kit.chain.deploy.Deployment` of the published PoCo: ``hub`` is the
    diamond, ``modules`` maps every facet (and the library, the initialiser) to its address."""

    protocol: str = PROTOCOL
    gas: dict = field(default_factory=dict)  # what each deployment step cost


def _require_package() -> None:
    manifest = POCO_DIR / "package.json"
    if not manifest.exists():
        raise DependencyMissingError(
            "iExec's published PoCo is not installed",
            expected=f"@iexec/poco {POCO_VERSION} in {POCO_DIR}",
            got="no such folder",
            hint="run `npm ci` in the repository (it installs package.json's dev dependencies)",
        )
    version = json.loads(manifest.read_text())["version"]
    if version != POCO_VERSION:
        raise DependencyMissingError(
            f"node_modules holds @iexec/poco {version}, the kit deploys {POCO_VERSION}",
            expected=POCO_VERSION,
            got=version,
            hint="run `npm ci` in the repository",
        )


@cache
def artifact(name: str) -> dict:
    """The published artifact of contract ``name``: a Hardhat artifact from ``artifacts/``
    (with its link references), or, for the diamond's default facets and DiamondInit, iExec's
    deployment record (its creation bytecode), as {"abi", "bytecode", "linkReferences"}."""
    _require_package()
    found = [
        p
        for p in (POCO_DIR / "artifacts" / "contracts").rglob(f"{name}.json")
        if "/tools/" not in p.as_posix() and "/interfaces/" not in p.as_posix()
    ]
    if len(found) == 1:
        art = json.loads(found[0].read_text())
        return {
            "abi": art["abi"],
            "bytecode": art["bytecode"],
            "linkReferences": art.get("linkReferences", {}),
        }
    record = POCO_DIR / DIAMOND_RECORDS / f"{name}.json"
    if not found and record.exists():
        rec = json.loads(record.read_text())
        return {"abi": rec["abi"], "bytecode": rec["bytecode"], "linkReferences": {}}
    raise ArtifactError(
        f"no single published artifact for {name!r} in @iexec/poco {POCO_VERSION}",
        expected="one artifacts/contracts/**/<name>.json, or a deployment record",
        got=", ".join(str(p.relative_to(POCO_DIR)) for p in found) or "none",
    )


def abi(name: str) -> list[dict]:
    return artifact(name)["abi"]


@cache
def hub_abi() -> tuple:
    """The ABI at the diamond's address: the published IexecInterfaceToken (every PoCo facet's
    functions, token mode) plus the diamond's own facets'."""
    _require_package()
    merged = json.loads((POCO_DIR / "abis" / "contracts" / "IexecInterfaceToken.json").read_text())
    seen = {
        (e["type"], e.get("name"), tuple(i["type"] for i in e.get("inputs", []))) for e in merged
    }
    for name in DIAMOND_DEFAULT_FACETS:
        for e in abi(name):
            key = (e["type"], e.get("name"), tuple(i["type"] for i in e.get("inputs", [])))
            if e["type"] in ("function", "event", "error") and key not in seen:
                seen.add(key)
                merged.append(e)
    return tuple(merged)


def linked_bytecode(art: dict, libraries: dict[str, str]) -> str:
    """The creation bytecode with every library placeholder replaced by its address."""
    hexcode = art["bytecode"][2:]
    for _source, libs in art["linkReferences"].items():
        for lib, refs in libs.items():
            if lib not in libraries:
                raise ArtifactError(f"the bytecode needs library {lib}, which is not deployed")
            addr = libraries[lib][2:].lower()
            for ref in refs:
                start = ref["start"] * 2
                hexcode = hexcode[:start] + addr + hexcode[start + ref["length"] * 2 :]
    return "0x" + hexcode


def selectors(entries: list[dict]) -> list[bytes]:
    """The 4-byte selectors a facet adds to the diamond: its functions, its fallback as
    0xffffffff and its receive as 0x00000000 (iExec's getFunctionSelectors)."""
    out = []
    for e in entries:
        if e["type"] == "function":
            out.append(function_abi_to_4byte_selector(e))
        elif e["type"] == "fallback":
            out.append(b"\xff\xff\xff\xff")
        elif e["type"] == "receive":
            out.append(b"\x00\x00\x00\x00")
    return out


def _deploy(chain: Chain, name: str, deployer: Participant, libraries=None, *args):
    art = artifact(name)
    bytecode = linked_bytecode(art, libraries or {})
    # only the constructor matters to deploy (a library's ABI names its enums, which web3 refuses)
    ctor = [e for e in art["abi"] if e["type"] == "constructor"]
    return chain.deploy({"abi": ctor, "bytecode": bytecode}, deployer, *args)


def deploy_published_poco(chain: Chain, deployer: Participant | None = None) -> PublishedDeployment:
    """Deploy iExec's published PoCo 6.1.0 on ``chain`` (see the module's docstring for the
    steps); return its addresses, with the gas of every step in ``.gas``."""
    _require_package()
    deployer = deployer or chain.deployer
    gas: dict[str, int] = {}

    def note(step: str, receipt: Receipt) -> None:
        gas[step] = gas.get(step, 0) + receipt.gas_used

    # 1. the RLC token, as the kit deploys it
    rlc, r = chain.deploy(kit_artifacts.load("RLC"), deployer)
    note("RLC", r)
    modules: dict[str, str] = {}

    # 2. the diamond with its default facets and DiamondInit
    init, r = _deploy(chain, "DiamondInit", deployer)
    note("DiamondInit", r)
    modules["DiamondInit"] = init
    cuts = []
    for name in DIAMOND_DEFAULT_FACETS:
        modules[name], r = _deploy(chain, name, deployer)
        note(name, r)
        cuts.append((modules[name], FACET_CUT_ADD, selectors(abi(name))))
    init_fn = next(e for e in abi("DiamondInit") if e.get("name") == "init")
    init_calldata = function_abi_to_4byte_selector(init_fn)
    hub, r = _deploy(
        chain, "Diamond", deployer, None, cuts, (deployer.address, init, init_calldata)
    )
    note("Diamond", r)
    diamond = chain.contract(hub_abi(), hub)

    # 3. the library, 4. the facets
    libraries = {}
    libraries[LIBRARY], r = _deploy(chain, LIBRARY, deployer)
    note(LIBRARY, r)
    modules[LIBRARY] = libraries[LIBRARY]
    existing = {s for _, _, sels in cuts for s in sels}
    for name in POCO_FACETS:
        address, r = _deploy(chain, name, deployer, libraries)
        note(name, r)
        modules[name] = address
        new = [s for s in selectors(abi(name)) if s not in existing]
        existing.update(new)
        r = chain.transact(
            diamond.functions.diamondCut([(address, FACET_CUT_ADD, new)], ZERO_ADDRESS, b""),
            deployer,
        )
        note("diamondCut", r)

    # 5. the registries
    registries = {}
    for name in REGISTRIES:
        registries[name], r = _deploy(chain, name, deployer)
        note(name, r)
        reg = chain.contract(abi(name), registries[name])
        note(name, chain.transact(reg.functions.initialize(ZERO_ADDRESS), deployer))
        uri = f"{REGISTRIES_BASE_URI[name]}/{chain.chain_id}/"
        note(name, chain.transact(reg.functions.setBaseURI(uri), deployer))

    # 6. configure (sets the EIP-712 domain separator too)
    note("configure", configure_hub(chain, diamond, rlc, registries, deployer))

    # 7. the categories, as the kit creates them
    for r in create_categories(chain, diamond, deployer):
        note("createCategory", r)

    return PublishedDeployment(
        rlc=rlc,
        hub=hub,
        appregistry=registries["AppRegistry"],
        datasetregistry=registries["DatasetRegistry"],
        workerpoolregistry=registries["WorkerpoolRegistry"],
        modules=modules,
        gas=gas,
    )
