"""Every function the kit shares with PoCo v6.1.0 has PoCo's selector and outputs, and is routed.

The reference is the ABI published in the npm package ``@iexec/poco`` 6.1.0 (a dev dependency in
package.json, installed by ``npm ci``, which ``make test`` runs): the test reads nothing outside
the repository. The kit follows v6.1.0's ABI for every function it shares with it, and v5's
protocol behaviour where the two agree.
"""

import json
from pathlib import Path

import pytest
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector

from iexec_kit.chain import artifacts

REPO = Path(__file__).resolve().parents[2]
POCO = REPO / "node_modules" / "@iexec" / "poco"
POCO_VERSION = "6.1.0"
ABIS = POCO / "abis" / "contracts"

# (kit artifact(s), PoCo ABI file under abis/contracts/)
PAIRS = [
    (("IexecRouter",) + artifacts.HUB_MODULES, "IexecInterfaceToken.json"),
    (("App",), "registries/apps/App.json"),
    (("Dataset",), "registries/datasets/Dataset.json"),
    (("Workerpool",), "registries/workerpools/Workerpool.json"),
    (("AppRegistry",), "registries/apps/AppRegistry.json"),
    (("DatasetRegistry",), "registries/datasets/DatasetRegistry.json"),
    (("WorkerpoolRegistry",), "registries/workerpools/WorkerpoolRegistry.json"),
]

# What the hub must expose (the later issues add theirs).
REQUIRED_AT_HUB = {
    "deposit",
    "depositFor",
    "depositForArray",
    "withdraw",
    "withdrawTo",
    "recover",
    "viewAccount",
    "balanceOf",
    "frozenOf",
    "receiveApproval",
    "approveAndCall",
    "totalSupply",
    "transfer",
    "transferFrom",
    "approve",
    "allowance",
    "name",
    "symbol",
    "decimals",
    "token",
    "configure",
    "createCategory",
    "viewCategory",
    "countCategory",
    "appregistry",
    "datasetregistry",
    "workerpoolregistry",
    "owner",
    "kitty_address",
    "contribution_deadline_ratio",
    "reveal_deadline_ratio",
    "final_deadline_ratio",
    "workerpool_stake_ratio",
    "kitty_ratio",
    "kitty_min",
    "matchOrders",
    "sponsorMatchOrders",
    "viewDeal",
    "viewApp",
    "viewDataset",
    "viewWorkerpool",
}

# What the kit has and PoCo v6.1.0 does not, each with its reason. Anything else the kit's
# contracts expose must be in v6.1.0's ABI, with its selector, outputs and event topics.
KIT_ONLY = {
    # the kit's router (PoCo v6 is an ERC-2535 diamond, whose loupe the kit does not copy)
    ("IexecRouter", "function", "updateModule"): "the kit's module router",
    ("IexecRouter", "function", "viewModule"): "the kit's module router",
    ("IexecRouter", "function", "viewSelectors"): "the kit's module router",
    ("IexecRouter", "event", "ModuleUpdate"): "the kit's module router",
}


def _load_ref(name):
    manifest = POCO / "package.json"
    if not manifest.exists():
        pytest.fail(
            f"the PoCo reference ABI is missing: no {manifest.relative_to(REPO)}. "
            f"It comes from the npm dev dependency @iexec/poco {POCO_VERSION}: run "
            "`npm ci --no-audit --no-fund --ignore-scripts` in the repository "
            "(`make test` does it)",
            pytrace=False,
        )
    version = json.loads(manifest.read_text())["version"]
    if version != POCO_VERSION:
        pytest.fail(
            f"node_modules holds @iexec/poco {version}, the kit follows {POCO_VERSION}: run npm ci",
            pytrace=False,
        )
    return json.loads((ABIS / name).read_text())


def _outputs(entry):
    def shape(p):
        return (p["type"], tuple(shape(c) for c in p.get("components", [])))

    return tuple(shape(o) for o in entry.get("outputs", []))


def test_the_reference_is_inside_the_repository():
    assert POCO.is_relative_to(REPO)
    assert _load_ref("IexecInterfaceToken.json")


@pytest.mark.parametrize("kit_names,ref_name", PAIRS, ids=[p[1] for p in PAIRS])
def test_shared_functions_match_poco(kit_names, ref_name):
    ref = {e["name"]: e for e in _load_ref(ref_name) if e["type"] == "function"}
    ref_by_selector = {
        function_abi_to_4byte_selector(e): e for e in _load_ref(ref_name) if e["type"] == "function"
    }
    shared = 0
    for kit_name in kit_names:
        for e in artifacts.abi(kit_name):
            if e["type"] != "function":
                continue
            if e["name"] not in ref:
                assert (kit_name, "function", e["name"]) in KIT_ONLY, (
                    f"{kit_name}.{e['name']} is not in PoCo {POCO_VERSION}'s {ref_name}: "
                    "follow PoCo, or list it in KIT_ONLY with the reason"
                )
                continue
            shared += 1
            sel = function_abi_to_4byte_selector(e)
            assert sel in ref_by_selector, f"{kit_name}.{e['name']}: arguments differ from PoCo's"
            assert _outputs(e) == _outputs(ref_by_selector[sel]), (
                f"{kit_name}.{e['name']}: outputs differ"
            )
            read_only = {"view", "pure"}
            assert (e["stateMutability"] in read_only) == (
                ref_by_selector[sel]["stateMutability"] in read_only
            ), f"{kit_name}.{e['name']}: one is read-only, the other is not"
    assert shared > 0


@pytest.mark.parametrize("kit_names,ref_name", PAIRS, ids=[p[1] for p in PAIRS])
def test_shared_events_match_poco(kit_names, ref_name):
    ref = {e["name"]: e for e in _load_ref(ref_name) if e["type"] == "event"}
    for kit_name in kit_names:
        for e in artifacts.abi(kit_name):
            if e["type"] != "event":
                continue
            if e["name"] not in ref:
                assert (kit_name, "event", e["name"]) in KIT_ONLY, (
                    f"event {kit_name}.{e['name']} is not in PoCo {POCO_VERSION}'s {ref_name}"
                )
                continue
            assert event_abi_to_log_topic(e) == event_abi_to_log_topic(ref[e["name"]]), e["name"]
            assert [i["indexed"] for i in e["inputs"]] == [
                i["indexed"] for i in ref[e["name"]]["inputs"]
            ], f"{kit_name}.{e['name']}: indexed flags differ from PoCo's"


def test_kit_only_entries_are_really_absent_from_poco():
    """KIT_ONLY stays honest: an entry PoCo has is checked like any other, not excused."""
    by_kit = {k: ref for kits, ref in PAIRS for k in kits}
    for kit_name, kind, name in KIT_ONLY:
        ref = _load_ref(by_kit[kit_name])
        assert name not in {e.get("name") for e in ref if e["type"] == kind}, (kit_name, name)
        assert name in {e.get("name") for e in artifacts.abi(kit_name) if e["type"] == kind}


def test_viewdeal_ends_with_the_sponsor():
    (deal,) = next(e for e in artifacts.hub_abi() if e.get("name") == "viewDeal")["outputs"]
    assert deal["components"][-1]["name"] == "sponsor"
    assert deal["components"][-1]["type"] == "address"


def test_foundation_functions_exist_at_the_hub():
    names = {e["name"] for e in artifacts.hub_abi() if e["type"] == "function"}
    assert REQUIRED_AT_HUB - names == set()


def test_poco_selectors_are_routed_on_chain(sandbox):
    """A selector computed from PoCo's ABI reaches a module through the deployed hub."""
    ref = [e for e in _load_ref("IexecInterfaceToken.json") if e["type"] == "function"]
    kit = {e["name"] for e in artifacts.hub_abi() if e["type"] == "function"}
    router = sandbox.chain.contract(artifacts.abi("IexecRouter"), sandbox.deployment.hub)
    routed = 0
    for e in ref:
        if e["name"] in kit and e["name"] not in (
            "owner",
            "transferOwnership",
            "renounceOwnership",
        ):
            module = router.functions.viewModule(function_abi_to_4byte_selector(e)).call()
            assert module in sandbox.deployment.modules.values(), e["name"]
            routed += 1
    assert routed >= len(REQUIRED_AT_HUB) - 1
    # and calls built from PoCo's own ABI work
    poco_hub = sandbox.chain.contract(ref, sandbox.deployment.hub)
    assert poco_hub.functions.countCategory().call() == 5
    assert poco_hub.functions.viewAccount(sandbox.requester.address).call() == (0, 0)
    app = poco_hub.functions.viewApp(sandbox.app_address).call()
    assert app[0] == sandbox.app_developer.address
    pool = poco_hub.functions.viewWorkerpool(sandbox.workerpool_address).call()
    assert (pool[0], pool[2], pool[3]) == (sandbox.scheduler.address, 30, 1)
