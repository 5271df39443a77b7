"""One conformance suite, two chains: the in-process py-evm chain and a real JSON-RPC dev node
(Hardhat 2.x from package.json, started once per session on 127.0.0.1, offline).

The Hardhat half is skipped, with the reason printed, where node_modules/.bin/hardhat is absent
(`npm ci` installs it; `make test` does).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from iexec_kit.chain import Chain
from iexec_kit.chain.devnode import HardhatNode, find_hardhat
from iexec_kit.errors import (
    ChainConnectionError,
    ContractRevertError,
    DependencyMissingError,
    InsufficientFundsError,
    KitValueError,
)
from iexec_kit.protocol.units import RLC
from iexec_kit.sandbox import STARTING_RLC, Sandbox

ETH = 10**18
HOUR = 3600


def _need_hardhat() -> None:
    try:
        find_hardhat()
    except DependencyMissingError as exc:
        pytest.skip(f"{str(exc).splitlines()[0]} (node_modules/.bin/hardhat): run `npm ci`")


@pytest.fixture(scope="session")
def hardhat_node():
    _need_hardhat()
    with HardhatNode() as node:
        yield node


@pytest.fixture(scope="session")
def hardhat_sandbox(hardhat_node):
    return Sandbox.start(chain_url=hardhat_node.url)


@pytest.fixture(params=["in-process", "hardhat"])
def net(request):
    """A deployed, funded sandbox on each chain; whatever the test does is undone afterwards."""
    sb = request.getfixturevalue(
        "sandbox_session" if request.param == "in-process" else "hardhat_sandbox"
    )
    snap = sb.snapshot()
    yield sb
    sb.revert(snap)


# ----- the same checks on both chains -----------------------------------------------------
def test_sandbox_deploys_and_registers(net):
    chain, hub = net.chain, net.hub
    if chain.kind == "rpc":
        assert chain.chain_id == 31337 and chain.url.startswith("http://127.0.0.1:")
        # the node's dev accounts are the kit's participants (same mnemonic, same HD path)
        assert chain.w3.eth.accounts[: len(net.participants)] == [
            p.address for p in net.participants
        ]
    for address in (net.deployment.hub, net.deployment.rlc, *net.deployment.modules.values()):
        assert len(chain.w3.eth.get_code(address)) > 0, address
    assert [c.name for c in hub.categories()] == ["XS", "S", "M", "L", "XL"]
    assert chain.call(hub.appregistry.functions.isRegistered(net.app_address))
    assert chain.call(hub.workerpoolregistry.functions.isRegistered(net.workerpool_address))
    assert net.app.name == "gimp-cartoon" and net.app.owner == net.app_developer.address
    assert net.workerpool.owner == net.scheduler.address
    for a in net.accounts():
        assert a.eth > 1_000 * ETH, a.name
        assert a.wallet_rlc == STARTING_RLC.get(a.role, 0), a.name
        assert a.stake == a.locked == 0


def test_deposit_is_one_transaction(net):
    req = net.requester
    wallet0, block0 = net.hub.wallet(req.address), net.chain.block_number()
    receipt = net.deposit(req, 25 * RLC)
    assert net.chain.block_number() == block0 + 1 == receipt.block
    assert net.hub.wallet(req.address) == wallet0 - 25 * RLC
    assert net.hub.account(req.address).stake == 25 * RLC
    assert net.hub.hub_rlc() == net.hub.total_supply() == 25 * RLC


def test_withdraw_above_stake_is_refused_before_sending(net):
    net.deposit("requester", 2 * RLC)
    block = net.chain.block_number()
    with pytest.raises(InsufficientFundsError) as err:
        net.withdraw("requester", 5 * RLC)
    assert "cannot withdraw 5 RLC: the free stake is 2 RLC" in str(err.value)
    assert net.chain.block_number() == block


def test_contract_revert_carries_its_code(net):
    """withdraw(1) with no stake: the contract's require surfaces as a ContractRevertError, whether
    the node refuses at gas estimation, at sending (explicit gas), or in a call."""
    fn, req = net.hub.fn.withdraw(1), net.requester
    for kw in ({}, {"gas": 300_000}):
        with pytest.raises(ContractRevertError) as err:
            net.chain.transact(fn, req, **kw)
        assert err.value.code == "escrow-0x02", kw
        assert err.value.reason == "iexec-kit (not PoCo): escrow-0x02 amount exceeds stake", kw
        assert "exceeds the account's free stake" in str(err.value)
    with pytest.raises(ContractRevertError) as err:
        net.chain.call(fn, req)
    assert err.value.code == "escrow-0x02"
    # the failed attempts leave the sender's nonce in step
    net.deposit(req, RLC)
    assert net.chain.call(fn, req) is True
    net.chain.transact(fn, req)
    assert net.hub.account(req.address).stake == RLC - 1


def test_eth_shortage_is_insufficient_funds(net):
    with pytest.raises(InsufficientFundsError):
        net.chain.send_eth(net.requester, net.scheduler.address, 10**9 * ETH)


def test_snapshot_and_revert(net):
    hub, req = net.hub, net.requester
    wallet, block = hub.wallet(req.address), net.chain.block_number()
    snap = net.snapshot()
    net.deposit(req, 7 * RLC)
    net.time_travel(HOUR)
    assert hub.wallet(req.address) == wallet - 7 * RLC
    net.revert(snap)
    assert hub.wallet(req.address) == wallet
    assert net.chain.block_number() == block
    net.deposit(req, RLC)  # nonces are re-read after a revert
    assert hub.account(req.address).stake == RLC


def test_time_travel_three_hours(net):
    t0 = net.chain.now()
    t1 = net.time_travel(3 * HOUR)
    assert t0 + 3 * HOUR <= t1 <= t0 + 3 * HOUR + 60
    receipt = net.deposit("requester", RLC)  # later blocks keep the new time
    assert net.chain.w3.eth.get_block(receipt.block)["timestamp"] >= t1
    assert net.time_travel(0) >= t1
    with pytest.raises(KitValueError, match="only goes forward"):
        net.time_travel(-1)


def test_faucet_cooldown(net):
    dev = net.dataset_owner
    w0 = net.hub.wallet(dev.address)
    net.hub.faucet(dev)
    assert net.hub.wallet(dev.address) == w0 + 100 * RLC
    with pytest.raises(ContractRevertError) as err:
        net.hub.faucet(dev)
    assert err.value.code == "RLC-0x04"
    net.time_travel(24 * HOUR)
    net.hub.faucet(dev)
    assert net.hub.wallet(dev.address) == w0 + 200 * RLC


def test_cli_info_json(net):
    args = [sys.executable, "-m", "iexec_kit.cli", "info", "--json", "--workers", "2"]
    if net.chain.kind == "rpc":
        args += ["--chain", net.chain.url]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert [a["name"] for a in info["accounts"]] == [
        "deployer",
        "requester",
        "app_developer",
        "dataset_owner",
        "scheduler",
        "worker1",
        "worker2",
    ]
    assert info["app"]["name"] == "gimp-cartoon" and set(info["contracts"]) >= {
        "hub",
        "rlc",
        "modules",
    }
    if net.chain.kind == "rpc":
        assert info["chain_id"] == 31337 and net.chain.url in info["chain"]
        # a second deployment on the same node: new addresses, the session's protocol untouched
        assert info["contracts"]["hub"] != net.deployment.hub
        assert net.app.name == "gimp-cartoon"


# ----- the dev node itself ----------------------------------------------------------------
def test_hardhat_node_stops_on_exit_even_after_a_failure(tmp_path):
    _need_hardhat()
    with pytest.raises(RuntimeError, match="boom"):
        with HardhatNode() as node:
            proc, url, folder = node.proc, node.url, node.folder
            assert url.startswith("http://127.0.0.1:")
            chain = Chain.connect(url, workers=0)
            assert chain.chain_id == 31337 and chain.now() > 0
            raise RuntimeError("boom")
    assert proc.poll() is not None and not folder.exists()
    with pytest.raises(ChainConnectionError, match="stopped answering"):
        chain.now()
    with pytest.raises(ChainConnectionError, match="no Ethereum node answers"):
        Chain.connect(url, timeout=2)


def test_hardhat_logs_each_request_only_when_asked(hardhat_node):
    """Hardhat's log of every JSON-RPC request is off by default (it doubles the node's CPU per
    request); its start-up lines stay, and ``log_requests=True`` brings the requests back."""
    Chain.connect(hardhat_node.url, workers=0).block_number()
    quiet = hardhat_node.log_path.read_text()
    assert "Started HTTP and WebSocket JSON-RPC server" in quiet
    assert "eth_blockNumber" not in quiet and "eth_chainId" not in quiet
    with HardhatNode(log_requests=True) as node:
        Chain.connect(node.url, workers=0).block_number()
        deadline = time.monotonic() + 10
        while "eth_blockNumber" not in node.log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "eth_blockNumber" in node.log_path.read_text()


def test_missing_hardhat_is_a_dependency_error(tmp_path):
    with pytest.raises(DependencyMissingError) as err:
        HardhatNode(hardhat=tmp_path / "node_modules" / ".bin" / "hardhat").start()
    assert "npm ci" in str(err.value) and isinstance(err.value, RuntimeError)
