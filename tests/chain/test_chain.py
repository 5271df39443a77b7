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


def test_view_of_an_overloaded_name_answers_as_call(sandbox):
    """Chain.view of a name the ABI overloads (a registry's safeTransferFrom: 3 and 4 arguments,
    simulated as an eth_call) answers as call() does, a revert included, for each overload; the
    name is remembered as "use call()" instead of being tried on the fast path every time."""
    from iexec_kit.chain.node import _USE_CALL
    from iexec_kit.errors import ContractRevertError
    from iexec_kit.protocol.assets import token_id

    sb, chain, reg = sandbox, sandbox.chain, sandbox.hub.appregistry
    dev, token = sb.app_developer, token_id(sb.app_address)
    to = sb.requester.address
    for args in ((dev.address, to, token), (dev.address, to, token, b"hello")):
        got = chain.view(reg, "safeTransferFrom", *args, sender=dev)
        assert got == chain.call(reg.functions.safeTransferFrom(*args), dev), args
    assert chain._views[(reg.address, "safeTransferFrom")] is _USE_CALL
    # refused (the requester does not hold the token): the same error, by either path
    for args in ((dev.address, to, token), (dev.address, to, token, b"")):
        with pytest.raises(ContractRevertError) as by_view:
            chain.view(reg, "safeTransferFrom", *args, sender=sb.requester)
        with pytest.raises(ContractRevertError) as by_call:
            chain.call(reg.functions.safeTransferFrom(*args), sb.requester)
        assert str(by_view.value) == str(by_call.value) and by_view.value.reason
    assert sb.hub.asset_owner(sb.app_address) == dev.address  # simulations: nothing moved
    # a name with one entry keeps the fast path
    chain.view(reg, "ownerOf", token)
    assert chain._views[(reg.address, "ownerOf")][0]["name"] == "ownerOf"


def test_wrong_rpc_url_is_a_clear_error():
    with pytest.raises(ChainConnectionError) as err:
        Chain.connect("http://127.0.0.1:9", timeout=2)  # port 9 (discard): nothing listens
    text = str(err.value)
    assert "no Ethereum node answers at http://127.0.0.1:9" in text and "what to do" in text
    assert isinstance(err.value, ConnectionError) and isinstance(err.value, IexecKitError)


def test_malformed_rpc_url_is_refused():
    with pytest.raises(KitValueError, match="must start with http"):
        Chain.connect("localhost:8545")
