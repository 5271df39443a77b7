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
