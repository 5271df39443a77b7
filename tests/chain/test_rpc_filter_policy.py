"""The LAN's JSON-RPC policy alone (iexec_kit.chain.rpc_filter), without a node."""

from __future__ import annotations

import pytest

from iexec_kit.chain.rpc_filter import MAX_METHOD_SHOWN, verdict


@pytest.mark.parametrize("method", ["eth_call", "eth_getLogs", "eth_chainId"])
def test_reads_pass(method):
    assert verdict(method).kind == "read" and verdict(method).allowed


@pytest.mark.parametrize(
    "method",
    ["eth_sendRawTransaction", "eth_newFilter", "eth_getFilterChanges", "eth_uninstallFilter"],
)
def test_writes_and_the_nodes_filters_ask_the_token(method):
    assert verdict(method).kind == "write"


@pytest.mark.parametrize(
    "method",
    ["eth_sendTransaction", "hardhat_mine", "evm_revert", "eth_signTypedData_v4", "ETH_CALL"],
)
def test_the_rest_is_refused(method):
    v = verdict(method)
    assert v.kind == "refused" and not v.allowed and v.reason


@pytest.mark.parametrize("method", ["x" * 10_000, "hardhat_" + "y" * 10_000, None, 42])
def test_a_refusal_keeps_only_the_start_of_a_long_or_odd_name(method):
    v = verdict(method)
    assert v.kind == "refused" and len(v.method) <= MAX_METHOD_SHOWN + 1
