"""iExec's CLI through the node's market API, SMS and ERC-721 registries: deploy an app, sign
and publish its order, read the order books, initialize the storage, and buy the demo app from
its developer's published orders with `iexec app run --watch` (see conftest.py)."""

from __future__ import annotations

import json
import zipfile

import pytest

from iexec_kit.protocol.statuses import TaskStatus


@pytest.fixture(scope="module")
def deployed_app(iexec):
    """The app developer's own app, deployed with `iexec app init` + `iexec app deploy`."""
    folder = iexec.folder("app_developer")
    iexec.run("app", "init", who="app_developer")
    conf = json.loads((folder / "iexec.json").read_text())
    conf["app"].update(name="my-first-app", multiaddr="iexec-kit/my-first-app:0.1.0")
    (folder / "iexec.json").write_text(json.dumps(conf, indent=2))
    answer = iexec.run("app", "deploy", who="app_developer")
    return answer["address"]


def test_app_deploy_then_show_and_count(iexec, kit_node, deployed_app):
    sb = kit_node.sb
    assert sb.hub.app(deployed_app).name == "my-first-app"  # on the kit's registry
    shown = iexec.run("app", "show", deployed_app, who="app_developer")["app"]
    assert shown["appName"] == "my-first-app" and shown["owner"] == sb.app_developer.address
    count = iexec.run("app", "count", "--user", sb.app_developer.address, who="app_developer")
    assert int(count["count"]) == 2  # the demo app, registered by the node, and this one
    first = iexec.run("app", "show", "0", "--user", sb.app_developer.address)["app"]
    assert first["appName"] == sb.app.name
    again = iexec.run("app", "deploy", who="app_developer", ok=False)  # same app twice
    assert "already deployed" in again["error"]["message"].lower()


def test_workerpool_show(iexec, kit_node):
    sb = kit_node.sb
    pool = iexec.run("workerpool", "show", sb.workerpool_address)["workerpool"]
    assert pool["owner"] == sb.scheduler.address


def test_order_sign_publish_and_orderbook(iexec, kit_node, deployed_app):
    sb = kit_node.sb
    iexec.run("order", "init", "--app", who="app_developer")
    iexec.run("order", "sign", "--app", who="app_developer")
    published = iexec.run("order", "publish", "--app", "--force", who="app_developer")
    order_hash = published["apporder"]["orderHash"]
    book = iexec.run("orderbook", "app", deployed_app)
    hashes = [o["orderHash"] for o in book["appOrders"]]
    assert order_hash in hashes
    assert sb.book.get(order_hash) is not None  # the kit's order book holds it
    iexec.run("order", "unpublish", "--app", order_hash, "--force", who="app_developer")
    assert order_hash not in [
        o["orderHash"] for o in iexec.run("orderbook", "app", deployed_app)["appOrders"]
    ]


def test_orderbook_workerpool_lists_the_nodes_order(iexec, kit_node):
    book = iexec.run("orderbook", "workerpool", "--category", "0")
    pools = {o["workerpool"] for o in book["workerpoolOrders"]}  # the CLI flattens records
    assert kit_node.sb.workerpool_address in pools


def test_storage_init_pushes_the_token_to_the_sms(iexec, kit_node):
    requester = kit_node.sb.requester.address
    iexec.run("storage", "init", "--force-update")
    check = iexec.run("storage", "check", "--user", requester)
    assert check["isInitialized"] is True
    assert kit_node.sms.has_web2_secret(requester, "iexec-result-iexec-ipfs-token")


def test_app_run_watch_buys_and_runs_the_demo_app(iexec, kit_node, tmp_path):
    """The demo app bought from its developer's published order, on the node's workerpool:
    the CLI finds both orders on the market API, signs the request, matches, and watches the
    task to COMPLETED; then downloads the cartoon."""
    sb = kit_node.sb
    iexec.run("account", "deposit", "10", "RLC")
    iexec.run("storage", "init", "--force-update")
    run = iexec.run(
        *kit_node.info.app_run_args("--style gimpfu --engine numpy", force=True), timeout=300
    )
    dealid = run["deals"][0]["dealid"]
    taskid = run["tasks"][0]["taskid"]
    deal = sb.hub.deal(dealid)
    assert deal.requester == sb.requester.address and deal.app.pointer == sb.app_address
    assert sb.hub.task(taskid).status == TaskStatus.COMPLETED
    shown = iexec.run("task", "show", taskid, "--download", "cartoon")
    with zipfile.ZipFile(shown["resultPath"]) as z:
        assert any(n.endswith(".png") for n in z.namelist())


def test_a_wrong_chain_id_is_refused_by_the_market_api(iexec, kit_node):
    """A chain.json naming another chain id: the market API says it does not serve that chain,
    with iExec's message, and the CLI buys nothing."""
    import shutil

    folder = kit_node.folder / "wrong-chain"
    folder.mkdir(exist_ok=True)
    for name in ("wallet.json", "iexec.json"):
        shutil.copy(iexec.folder("requester") / name, folder / name)
    conf = json.loads((kit_node.folder / "chain.json").read_text())
    conf["chains"]["kit"]["id"] = "1234"
    (folder / "chain.json").write_text(json.dumps(conf))
    deals_before = len(kit_node.sb.hub.contract.events.OrdersMatched.get_logs(from_block=0))
    answer = iexec.run(
        "app", "run", kit_node.sb.app_address, "--force", who="wrong-chain", ok=False
    )
    assert "chainId 1234 is not supported" in answer["error"]["message"]
    assert len(kit_node.sb.hub.contract.events.OrdersMatched.get_logs(from_block=0)) == deals_before
