"""Every function the kit shares with PoCo v5.3.0 has PoCo's selector and outputs, and is routed."""

import json
from pathlib import Path

import pytest
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector

from iexec_kit.chain import artifacts

REF = Path(__file__).resolve().parents[3] / "shared" / "reference" / "poco-v5.3.0-abi"
if not REF.exists():  # the checkout sits beside shared/ (../shared)
    REF = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "poco-v5.3.0-abi"

# (kit artifact(s), PoCo ABI file)
PAIRS = [
    (("IexecRouter",) + artifacts.HUB_MODULES, "IexecInterfaceToken.json"),
    (("App",), "AppInterface.json"),
    (("Dataset",), "DatasetInterface.json"),
    (("Workerpool",), "WorkerpoolInterface.json"),
    (("AppRegistry",), "AppRegistryInterface.json"),
    (("DatasetRegistry",), "DatasetRegistryInterface.json"),
    (("WorkerpoolRegistry",), "WorkerpoolRegistryInterface.json"),
]

# What the foundation must expose at the hub (the later issues add theirs).
REQUIRED_AT_HUB = {
    "deposit",
    "depositFor",
    "depositForArray",
    "withdraw",
    "withdrawTo",
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
}


def _load_ref(name):
    if not REF.exists():
        pytest.skip(f"PoCo reference ABI not found at {REF}")
    return json.loads((REF / name).read_text())


def _outputs(entry):
    def shape(p):
        return (p["type"], tuple(shape(c) for c in p.get("components", [])))

    return tuple(shape(o) for o in entry.get("outputs", []))


@pytest.mark.parametrize("kit_names,ref_name", PAIRS, ids=[p[1] for p in PAIRS])
def test_shared_functions_match_poco(kit_names, ref_name):
    ref = {e["name"]: e for e in _load_ref(ref_name) if e["type"] == "function"}
    ref_by_selector = {function_abi_to_4byte_selector(e): e for e in ref.values()}
    shared = 0
    for kit_name in kit_names:
        for e in artifacts.abi(kit_name):
            if e["type"] != "function" or e["name"] not in ref:
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
            if e["type"] == "event" and e["name"] in ref:
                assert event_abi_to_log_topic(e) == event_abi_to_log_topic(ref[e["name"]]), e[
                    "name"
                ]
                assert [i["indexed"] for i in e["inputs"]] == [
                    i["indexed"] for i in ref[e["name"]]["inputs"]
                ], f"{kit_name}.{e['name']}: indexed flags differ from PoCo's"


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
    # and a call built from PoCo's own ABI works
    poco_hub = sandbox.chain.contract(ref, sandbox.deployment.hub)
    assert poco_hub.functions.countCategory().call() == 5
    assert poco_hub.functions.viewAccount(sandbox.requester.address).call() == (0, 0)
