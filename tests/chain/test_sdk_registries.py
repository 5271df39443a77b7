"""iExec's own SDK (npm ``iexec`` 8.24.0, PoCo 6.1.0's ABI) deploys, shows, counts, enumerates
and transfers assets on the kit's registries, on a Hardhat node.

``sdk_registries.mjs`` (next to this file) runs, through the SDK's JS library:
``app.predictAppAddress``, ``app.deployApp`` (twice: the second is refused by the SDK's own
predictApp + isRegistered pre-check), ``app.checkDeployedApp``, ``app.showApp`` (every view of
PoCo's App ABI, ``registry()`` included), ``app.countUserApps`` (balanceOf),
``app.showUserApp`` (tokenOfOwnerByIndex), ``dataset.deployDataset``/``showDataset``/
``countUserDatasets``, ``workerpool.deployWorkerpool``/``showWorkerpool``/
``countUserWorkerpools``, and ``app.transferApp`` (owner() then
safeTransferFrom(address,address,uint256)), then a transfer by the previous owner, which the SDK
refuses. This test checks what the SDK reported against the chain, read by the kit's hub client.
Skipped where node or node_modules/.bin/hardhat is absent (`npm ci` installs it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from iexec_kit.errors import DependencyMissingError

SCRIPT = Path(__file__).with_name("sdk_registries.mjs")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kit_on_hardhat():
    from iexec_kit.chain.deploy import deploy_protocol
    from iexec_kit.chain.devnode import HardhatNode, find_hardhat
    from iexec_kit.chain.node import Chain
    from iexec_kit.poco.hub import Hub

    try:
        find_hardhat()
    except DependencyMissingError as exc:
        pytest.skip(f"{str(exc).splitlines()[0]}: run `npm ci`")
    if shutil.which("node") is None or not (REPO / "node_modules" / "iexec").exists():
        pytest.skip("node or the iexec SDK (node_modules/iexec) is missing: run `npm ci`")
    with HardhatNode() as node:
        chain = Chain.connect(node.url)
        yield node.url, Hub(chain, deploy_protocol(chain))


def test_the_sdk_runs_the_registries(kit_on_hardhat):
    url, hub = kit_on_hardhat
    a, b = hub.chain.participant("app_developer"), hub.chain.participant("requester")
    key = a.key if isinstance(a.key, str) else "0x" + bytes(a.key).hex()
    proc = subprocess.run(
        ["node", str(SCRIPT), url, hub.address, key, b.address],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)

    app = out["deployApp"]["address"]
    assert out["me"] == a.address
    assert out["predictedApp"] == app  # the SDK found the address in the Transfer event
    assert out["deployAgain"] == f"App already deployed at address {app}"
    assert out["checkDeployedApp"] is True
    shown = out["showApp"]
    assert shown["registry"] == hub.appregistry.address == hub.fn.appregistry().call()
    assert (shown["appName"], shown["appType"], shown["appMultiaddr"]) == (
        "sdk-app",
        "DOCKER",
        "registry.example/sdk-app:1.0.0",
    )
    assert shown["appChecksum"] == "0x" + "42" * 32
    assert out["countUserApps"] == "1" and out["showUserApp0"]["objAddress"] == app

    dataset, pool = out["deployDataset"]["address"], out["deployWorkerpool"]["address"]
    assert hub.datasets_of(a.address) == [dataset] and out["countUserDatasets"] == "1"
    assert out["showDataset"]["registry"] == hub.datasetregistry.address
    assert out["showDataset"]["datasetName"] == hub.dataset(dataset).name == "sdk-dataset"
    assert hub.workerpools_of(a.address) == [pool] and out["countUserWorkerpools"] == "1"
    sp = out["showWorkerpool"]
    assert (sp["owner"], sp["registry"], sp["workerpoolDescription"]) == (
        a.address,
        hub.workerpoolregistry.address,
        "sdk-pool",
    )
    assert (sp["workerStakeRatioPolicy"], sp["schedulerRewardRatioPolicy"]) == ("30", "1")

    # the transfer, as the SDK made it: the kit's hub reads the new owner
    assert out["ownerAfterTransfer"] == b.address == hub.asset_owner(app) == hub.app(app).owner
    assert (out["countUserAppsAfter"], out["countUserAppsOfB"]) == ("0", "1")
    assert hub.apps_of(b.address) == [app] and hub.apps_of(a.address) == []
    assert out["transferBack"] == "Only app owner can transfer app ownership"
