"""iExec's CLI as a learner uses it, against ``iexec-kit node`` (see conftest.py)."""

from __future__ import annotations

from iexec_kit.protocol.units import RLC


def test_wallet_and_account_show(iexec, kit_node):
    wallet = iexec.run("wallet", "show")
    requester = kit_node.sb.requester
    assert wallet["wallet"]["address"] == requester.address
    assert int(wallet["balance"]["nRLC"]) == kit_node.sb.hub.wallet(requester.address)
    account = iexec.run("account", "show")
    stake = kit_node.sb.hub.account(requester.address)
    assert (int(account["balance"]["stake"]), int(account["balance"]["locked"])) == (
        stake.stake,
        stake.locked,
    )


def test_deposit_and_withdraw_move_the_stake(iexec, kit_node):
    hub, who = kit_node.sb.hub, kit_node.sb.requester
    before = hub.account(who.address).stake
    iexec.run("account", "deposit", "5", "RLC")  # the CLI's default unit is nRLC
    assert hub.account(who.address).stake == before + 5 * RLC
    iexec.run("account", "withdraw", "2000000000")
    assert hub.account(who.address).stake == before + 3 * RLC


def test_deposit_more_than_the_wallet_holds_is_refused(iexec, kit_node):
    hub, who = kit_node.sb.hub, kit_node.sb.requester
    before = hub.account(who.address).stake
    answer = iexec.run("account", "deposit", "1000000", "RLC", ok=False)
    assert "balance" in answer["error"]["message"].lower() or "exceed" in str(answer).lower()
    assert hub.account(who.address).stake == before


def test_category_show_reads_the_hub(iexec, kit_node):
    answer = iexec.run("category", "show", "0")
    cat = kit_node.sb.hub.category(0)
    assert answer["category"]["name"] == cat.name
    assert int(answer["category"]["workClockTimeRef"]) == cat.work_clock_time_ref


def _bought_and_completed(kit_node):
    """A deal bought from Python (the kit's requester) and run to COMPLETED by the node."""

    from iexec_kit.actors.requester import buy_execution
    from iexec_kit.poco.orders import RequestParams

    sb = kit_node.sb
    sb.storage.storage_init(sb.requester.key)
    sb.hub.deposit(sb.requester, 5 * RLC)
    match = buy_execution(
        sb.hub,
        sb.book,
        sb.requester,
        sb.app_address,
        params=RequestParams(args="--engine numpy", input_files=(kit_node.info.sample_input,)),
        workerpool=sb.workerpool_address,
    )
    taskid = match.deal.task_id(0)
    kit_node.wait_completed(taskid)
    return match, taskid


def test_deal_show_and_task_show_download(iexec, kit_node, tmp_path):
    import zipfile

    match, taskid = _bought_and_completed(kit_node)
    sb = kit_node.sb
    deal = iexec.run("deal", "show", match.dealid)["deal"]
    assert deal["app"]["pointer"] == sb.app_address
    assert deal["workerpool"]["pointer"] == sb.workerpool_address
    assert deal["requester"] == sb.requester.address
    assert deal["sponsor"] == sb.requester.address  # PoCo v6's last deal field
    assert taskid in deal["tasks"]
    task = iexec.run("task", "show", taskid, "--download", "result-of-python-deal")
    assert task["task"]["statusName"] == "COMPLETED"
    path = iexec.folder("requester") / "result-of-python-deal.zip"  # the CLI's cwd
    assert task["resultPath"] == str(path)
    with zipfile.ZipFile(path) as z:
        assert any(n.endswith(".png") for n in z.namelist())
    # the zip the CLI fetched from the gateway is the one whose digest the chain holds
    from iexec_kit.storage.results import digest_of_zip

    assert digest_of_zip(path.read_bytes()) == sb.hub.task(taskid).result_digest
