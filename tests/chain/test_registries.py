"""Registries, assets, categories, the router's access control."""

import pytest

from iexec_kit.chain import artifacts
from iexec_kit.errors import ContractRevertError
from iexec_kit.protocol.categories import DEFAULT_CATEGORIES


def test_categories_xs_to_xl(sandbox):
    cats = sandbox.hub.categories()
    assert [(c.name, c.work_clock_time_ref) for c in cats] == [
        (c.name, c.clock) for c in DEFAULT_CATEGORIES
    ]


def test_only_the_hub_owner_creates_categories(sandbox):
    with pytest.raises(ContractRevertError) as err:
        sandbox.chain.transact(sandbox.hub.fn.createCategory("XXL", "{}", 99999), sandbox.requester)
    assert err.value.code == "hub-0x01"
    sandbox.chain.transact(
        sandbox.hub.fn.createCategory("XXL", "{}", 99999), sandbox.chain.deployer
    )
    assert sandbox.hub.category(5).work_clock_time_ref == 99999


def test_only_the_hub_owner_routes_modules(sandbox):
    router = sandbox.chain.contract(artifacts.abi("IexecRouter"), sandbox.deployment.hub)
    with pytest.raises(ContractRevertError) as err:
        sandbox.chain.transact(
            router.functions.updateModule(sandbox.deployment.rlc, [b"\x12\x34\x56\x78"]),
            sandbox.requester,
        )
    assert err.value.code == "hub-0x01"


def test_unknown_selector_is_refused_in_words(sandbox):
    with pytest.raises(Exception) as err:
        sandbox.chain.w3.eth.call({"to": sandbox.deployment.hub, "data": "0xdeadbeef"})
    assert "hub-0x04" in str(err.value)


def test_configure_only_once(sandbox):
    with pytest.raises(ContractRevertError) as err:
        sandbox.chain.transact(
            sandbox.hub.fn.configure(
                sandbox.deployment.rlc,
                "x",
                "x",
                9,
                sandbox.deployment.appregistry,
                sandbox.deployment.datasetregistry,
                sandbox.deployment.workerpoolregistry,
                sandbox.deployment.rlc,
            ),
            sandbox.chain.deployer,
        )
    assert err.value.code == "config-0x01"


def test_demo_app_registered_with_its_manifest(sandbox):
    from iexec_kit.sandbox import DEMO_APP_DIR, AppManifest

    app, manifest = sandbox.app, AppManifest.read(DEMO_APP_DIR)
    assert app.owner == sandbox.app_developer.address
    assert (app.name, app.type, app.multiaddr) == (manifest.name, "DOCKER", manifest.image)
    assert app.checksum == "0x" + manifest.checksum.hex()
    reg = sandbox.hub.appregistry.functions
    assert reg.isRegistered(app.address).call()
    assert reg.balanceOf(sandbox.app_developer.address).call() == 1
    assert reg.tokenOfOwnerByIndex(sandbox.app_developer.address, 0).call() == int(app.address, 16)


def test_registering_twice_returns_the_same_asset(sandbox):
    dev = sandbox.app_developer
    a = sandbox.hub.create_app(dev, "tiny", "example/tiny:1", b"\x01" * 32)
    b = sandbox.hub.create_app(dev, "tiny", "example/tiny:1", b"\x01" * 32)
    assert a == b
    assert sandbox.hub.count_assets("app", dev.address) == 2  # demo app + tiny
    # the contract itself refuses a duplicate (CREATE2 collision), in words
    with pytest.raises(ContractRevertError, match="already registered") as err:
        sandbox.chain.transact(
            sandbox.hub.appregistry.functions.createApp(
                dev.address, "tiny", "DOCKER", b"example/tiny:1", b"\x01" * 32, b""
            ),
            dev,
        )
    assert err.value.code == "registry-0x02"


def test_dataset_registry(sandbox):
    owner = sandbox.dataset_owner
    addr = sandbox.hub.create_dataset(owner, "faces", "/ipfs/QmFaces", b"\x02" * 32)
    ds = sandbox.hub.dataset(addr)
    assert (ds.owner, ds.name, ds.multiaddr, ds.checksum) == (
        owner.address,
        "faces",
        "/ipfs/QmFaces",
        "0x" + "02" * 32,
    )
    assert sandbox.hub.datasetregistry.functions.isRegistered(addr).call()
    assert not sandbox.hub.datasetregistry.functions.isRegistered(sandbox.app.address).call()


def test_workerpool_policy_only_by_its_owner(sandbox):
    pool = sandbox.workerpool
    assert (pool.owner, pool.worker_stake_ratio, pool.scheduler_reward_ratio) == (
        sandbox.scheduler.address,
        30,
        1,
    )
    with pytest.raises(ContractRevertError) as err:
        sandbox.hub.change_workerpool_policy(sandbox.requester, pool.address, 50, 5)
    assert err.value.code == "workerpool-0x01"
    sandbox.hub.change_workerpool_policy(sandbox.scheduler, pool.address, 50, 5)
    assert (sandbox.workerpool.worker_stake_ratio, sandbox.workerpool.scheduler_reward_ratio) == (
        50,
        5,
    )
    with pytest.raises(ContractRevertError, match="percentage"):
        sandbox.hub.change_workerpool_policy(sandbox.scheduler, pool.address, 50, 101)
