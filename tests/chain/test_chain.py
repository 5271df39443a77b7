"""The chain layer: deterministic participants, funding, snapshots, time travel, bad URLs."""

import pytest

from iexec_kit.chain import Chain, participants
from iexec_kit.errors import ChainConnectionError, IexecKitError, KitValueError


def test_participants_are_deterministic_and_role_ordered():
    a, b = participants(3), participants(3)
    assert [p.address for p in a] == [p.address for p in b]
    assert [p.name for p in a] == [
        "deployer",
        "requester",
        "app_developer",
        "dataset_owner",
        "scheduler",
        "worker1",
        "worker2",
        "worker3",
    ]
    # Hardhat's first dev account, from the same public mnemonic
    assert a[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert len({p.address for p in a}) == len(a)
    assert "key" not in repr(a[0]) and a[0].key.hex() not in repr(a[0])


def test_negative_worker_count_is_refused():
    with pytest.raises(KitValueError, match="cannot be negative"):
        participants(-1)


def test_every_participant_has_eth(sandbox):
    for p in sandbox.participants:
        assert sandbox.chain.eth_balance(p.address) > 10**21, p.name


def test_snapshot_and_revert_restore_state(sandbox):
    hub = sandbox.hub
    before = hub.wallet(sandbox.requester.address)
    snap = sandbox.snapshot()
    sandbox.deposit("requester", 7 * 10**9)
    assert hub.wallet(sandbox.requester.address) == before - 7 * 10**9
    sandbox.revert(snap)
    assert hub.wallet(sandbox.requester.address) == before
    # and the chain still accepts transactions from the same sender (nonces re-read)
    sandbox.deposit("requester", 10**9)
    assert hub.account(sandbox.requester.address).stake == 10**9


def test_time_travel_moves_block_time_forward(sandbox):
    t0 = sandbox.chain.now()
    t1 = sandbox.time_travel(3 * 3600)
    assert t1 >= t0 + 3 * 3600
    with pytest.raises(KitValueError, match="only goes forward"):
        sandbox.time_travel(-1)


def test_wrong_rpc_url_is_a_clear_error():
    with pytest.raises(ChainConnectionError) as err:
        Chain.connect("http://127.0.0.1:9", timeout=2)  # port 9 (discard): nothing listens
    text = str(err.value)
    assert "no Ethereum node answers at http://127.0.0.1:9" in text and "what to do" in text
    assert isinstance(err.value, ConnectionError) and isinstance(err.value, IexecKitError)


def test_malformed_rpc_url_is_refused():
    with pytest.raises(KitValueError, match="must start with http"):
        Chain.connect("localhost:8545")
