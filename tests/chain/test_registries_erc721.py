"""The registries are ERC-721s as PoCo v6.1.0's: creation mints Transfer(0, owner, asset),
predictX gives the address createX produces, enumeration follows mints and transfers, only the
holder (or whom it approved) transfers, and an asset's owner() is its token's holder now."""

import pytest

from iexec_kit.chain import artifacts
from iexec_kit.errors import ContractRevertError, KitValueError
from iexec_kit.protocol.assets import token_address, token_id
from iexec_kit.protocol.units import ZERO_ADDRESS

CHECKSUM = b"\x09" * 32


def _create_app(sb, owner, name):
    """createApp sent directly (not through hub.create_app), to see its receipt."""
    reg = sb.hub.appregistry.functions
    args = [owner.address, name, "DOCKER", b"example/" + name.encode(), CHECKSUM, b""]
    return sb.chain.transact(reg.createApp(*args), owner)


def test_creation_mints_the_token_to_the_owner(sandbox):
    sb, dev = sandbox, sandbox.app_developer
    predicted = sb.hub.predict_app(dev.address, "erc721-a", "example/erc721-a", CHECKSUM)
    assert not sb.hub.appregistry.functions.isRegistered(predicted).call()
    receipt = _create_app(sb, dev, "erc721-a")
    (event,) = sb.hub.appregistry.events.Transfer().process_receipt(receipt.raw)
    assert (event.args["from"], event.args.to) == (ZERO_ADDRESS, dev.address)
    assert token_address(event.args.tokenId) == predicted
    assert event.address == sb.hub.appregistry.address
    reg = sb.hub.appregistry.functions
    assert reg.isRegistered(predicted).call()
    assert reg.ownerOf(token_id(predicted)).call() == dev.address
    app = sb.chain.contract(artifacts.abi("App"), predicted).functions
    assert app.registry().call() == sb.hub.appregistry.address
    assert app.owner().call() == dev.address
    assert app.m_appName().call() == "erc721-a"


def test_predict_follows_pocos_salt(sandbox):
    """PoCo's salt, keccak256(abi.encodePacked(initializer calldata, owner)), with the kit's own
    asset code as CREATE2 init code: the prediction changes with the owner and every field."""
    from eth_utils import keccak, to_checksum_address

    sb, dev = sandbox, sandbox.app_developer
    reg = sb.hub.appregistry
    app_abi = sb.chain.contract(artifacts.abi("App"), ZERO_ADDRESS)
    init = app_abi.encode_abi("initialize", ["n", "DOCKER", b"m", CHECKSUM, b""])
    salt = keccak(bytes.fromhex(init[2:]) + bytes.fromhex(dev.address[2:]))
    code = bytes.fromhex(artifacts.load("App")["bytecode"][2:])
    expected = to_checksum_address(
        keccak(b"\xff" + bytes.fromhex(reg.address[2:]) + salt + keccak(code))[12:]
    )
    assert sb.hub.predict_app(dev.address, "n", "m", CHECKSUM) == expected
    assert sb.hub.predict_app(sb.requester.address, "n", "m", CHECKSUM) != expected
    assert sb.hub.predict_app(dev.address, "n", "m2", CHECKSUM) != expected
    ds = sb.hub.predict_dataset(sb.dataset_owner.address, "d", "/ipfs/Qm", CHECKSUM)
    assert sb.hub.create_dataset(sb.dataset_owner, "d", "/ipfs/Qm", CHECKSUM) == ds
    pool = sb.hub.predict_workerpool(sb.scheduler.address, "another pool")
    assert sb.hub.create_workerpool(sb.scheduler, "another pool") == pool
    assert sb.hub.workerpool(pool).owner == sb.scheduler.address


def test_the_same_asset_twice_reverts_in_words(sandbox):
    _create_app(sandbox, sandbox.app_developer, "twice")
    with pytest.raises(ContractRevertError, match="already registered") as err:
        _create_app(sandbox, sandbox.app_developer, "twice")
    assert err.value.code == "registry-0x02"
    # another owner, same fields: another asset
    _create_app(sandbox, sandbox.requester, "twice")


def test_enumeration_after_creations_and_transfers(sandbox):
    sb, hub = sandbox, sandbox.hub
    dev, other = sb.app_developer, sb.requester
    reg = hub.appregistry.functions
    demo = sb.app_address
    a = hub.create_app(dev, "e1", "example/e1", CHECKSUM)
    b = hub.create_app(dev, "e2", "example/e2", CHECKSUM)
    c = hub.create_app(dev, "e3", "example/e3", CHECKSUM)
    assert hub.apps_of(dev.address) == [demo, a, b, c]
    assert reg.totalSupply().call() == 4
    assert [token_address(reg.tokenByIndex(i).call()) for i in range(4)] == [demo, a, b, c]
    assert hub.count_assets("app", other.address) == 0

    receipt = hub.transfer_app(a, dev, other.address)
    (event,) = hub.appregistry.events.Transfer().process_receipt(receipt.raw)
    assert (event.args["from"], event.args.to, event.args.tokenId) == (
        dev.address,
        other.address,
        token_id(a),
    )
    # swap-and-pop: the owner's last token takes the leaving one's slot
    assert hub.apps_of(dev.address) == [demo, c, b]
    assert hub.apps_of(other.address) == [a]
    assert reg.balanceOf(dev.address).call() == 3
    assert reg.totalSupply().call() == 4  # a transfer mints nothing
    assert hub.asset_owner(a) == other.address == hub.app(a).owner
    with pytest.raises(ContractRevertError) as err:
        sb.chain.call(reg.tokenOfOwnerByIndex(other.address, 1))
    assert err.value.code == "registry-0x01"
    with pytest.raises(ContractRevertError) as err:
        sb.chain.call(reg.ownerOf(token_id(sb.requester.address)))
    assert err.value.code == "registry-0x03"


def test_only_the_holder_or_whom_it_approved_transfers(sandbox):
    sb, hub = sandbox, sandbox.hub
    dev, thief, friend = sb.app_developer, sb.requester, sb.dataset_owner
    reg = hub.appregistry.functions
    app = sb.app_address
    with pytest.raises(ContractRevertError) as err:
        sb.chain.transact(reg.transferFrom(dev.address, thief.address, token_id(app)), thief)
    assert err.value.code == "registry-0x04"
    with pytest.raises(KitValueError, match="only the app's owner"):
        hub.transfer_app(app, thief, thief.address)
    with pytest.raises(ContractRevertError) as err:
        sb.chain.transact(reg.transferFrom(dev.address, ZERO_ADDRESS, token_id(app)), dev)
    assert err.value.code == "registry-0x06"
    with pytest.raises(ContractRevertError) as err:  # 'from' must be the holder
        sb.chain.transact(reg.transferFrom(thief.address, friend.address, token_id(app)), dev)
    assert err.value.code == "registry-0x05"
    assert hub.asset_owner(app) == dev.address

    # approve one token: the approved account may move it once (the approval is cleared)
    r = sb.chain.transact(reg.approve(friend.address, token_id(app)), dev)
    assert hub.appregistry.events.Approval().process_receipt(r.raw)[0].args.approved == (
        friend.address
    )
    assert reg.getApproved(token_id(app)).call() == friend.address
    sb.chain.transact(reg.transferFrom(dev.address, friend.address, token_id(app)), friend)
    assert hub.asset_owner(app) == friend.address
    assert reg.getApproved(token_id(app)).call() == ZERO_ADDRESS

    # an operator for all of an owner's tokens
    sb.chain.transact(reg.setApprovalForAll(dev.address, True), friend)
    assert reg.isApprovedForAll(friend.address, dev.address).call()
    sb.chain.transact(
        reg.safeTransferFrom(friend.address, dev.address, token_id(app)), dev
    )  # the 3-argument overload the iExec SDK calls
    assert hub.asset_owner(app) == dev.address


def test_safe_transfer_to_a_contract_that_does_not_accept_tokens(sandbox):
    """safeTransferFrom asks a receiving contract for onERC721Received; the RLC token has none."""
    sb = sandbox
    reg = sb.hub.appregistry.functions
    dev = sb.app_developer
    with pytest.raises(ContractRevertError):
        sb.chain.transact(
            reg.safeTransferFrom(dev.address, sb.deployment.rlc, token_id(sb.app_address)), dev
        )
    assert sb.hub.asset_owner(sb.app_address) == dev.address
    # plain transferFrom does not ask
    sb.chain.transact(
        reg.transferFrom(dev.address, sb.deployment.rlc, token_id(sb.app_address)), dev
    )
    assert sb.hub.asset_owner(sb.app_address) == sb.deployment.rlc


def test_metadata_and_interfaces(sandbox):
    reg = sandbox.hub.appregistry.functions
    assert (reg.name().call(), reg.symbol().call()) == (
        "iExec Application Registry (V5)",
        "iExecAppsV5",
    )
    wp = sandbox.hub.workerpoolregistry.functions
    assert wp.symbol().call() == "iExecWorkerpoolV5"
    for iface in ("01ffc9a7", "80ac58cd", "5b5e139f", "780e9d63"):
        assert reg.supportsInterface(bytes.fromhex(iface)).call(), iface
    assert not reg.supportsInterface(b"\xff\xff\xff\xff").call()
    assert reg.tokenURI(token_id(sandbox.app_address)).call() == ""
    with pytest.raises(ContractRevertError) as err:
        sandbox.chain.call(reg.balanceOf(ZERO_ADDRESS))
    assert err.value.code == "registry-0x08"


def test_an_asset_is_initialized_once(sandbox):
    sb = sandbox
    app = sb.chain.contract(artifacts.abi("App"), sb.app_address)
    with pytest.raises(ContractRevertError) as err:
        sb.chain.transact(
            app.functions.initialize("x", "DOCKER", b"x", CHECKSUM, b""), sb.app_developer
        )
    assert err.value.code == "asset-0x01"
    assert sb.hub.app(sb.app_address).name == sb.app.name != "x"


def test_workerpool_policy_follows_the_current_owner(sandbox):
    sb, hub = sandbox, sandbox.hub
    pool, new_owner = sb.workerpool_address, sb.requester
    hub.transfer_workerpool(pool, sb.scheduler, new_owner.address)
    assert hub.workerpool(pool).owner == new_owner.address
    with pytest.raises(ContractRevertError) as err:
        hub.change_workerpool_policy(sb.scheduler, pool, 40, 2)
    assert err.value.code == "workerpool-0x01"
    hub.change_workerpool_policy(new_owner, pool, 40, 2)
    assert (
        hub.workerpool(pool).worker_stake_ratio,
        hub.workerpool(pool).scheduler_reward_ratio,
    ) == (
        40,
        2,
    )


def test_poco_abi_reads_the_kit_registries(sandbox):
    """The calls iExec's SDK makes, built from PoCo 6.1.0's own ABI files (not the kit's)."""
    import json
    from pathlib import Path

    abis = (
        Path(__file__).resolve().parents[2] / "node_modules/@iexec/poco/abis/contracts/registries"
    )
    reg_abi = json.loads((abis / "apps/AppRegistry.json").read_text())
    app_abi = json.loads((abis / "apps/App.json").read_text())
    sb, dev = sandbox, sandbox.app_developer
    reg = sb.chain.contract(reg_abi, sb.deployment.appregistry).functions
    args = [dev.address, "sdk", "DOCKER", b"example/sdk", CHECKSUM, b""]
    predicted = reg.predictApp(*args).call()
    sb.chain.transact(reg.createApp(*args), dev)
    assert reg.isRegistered(predicted).call()
    n = reg.balanceOf(dev.address).call()
    assert token_address(reg.tokenOfOwnerByIndex(dev.address, n - 1).call()) == predicted
    app = sb.chain.contract(app_abi, predicted).functions
    views = [e["name"] for e in app_abi if e.get("stateMutability") == "view"]
    got = {name: getattr(app, name)().call() for name in views}  # what `app show` reads
    assert got["registry"] == sb.deployment.appregistry == sb.hub.fn.appregistry().call()
    assert got["owner"] == dev.address and got["m_appName"] == "sdk"
    assert got["m_appMultiaddr"] == b"example/sdk"
