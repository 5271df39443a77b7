"""PoCo v6's sponsorMatchOrders (a third party pays a requester's deal) and recover (RLC sent to
the hub outside a deposit is credited to the hub's owner)."""

from __future__ import annotations

import pytest
from web3.logs import DISCARD

from iexec_kit.errors import ContractRevertError, InsufficientFundsError
from iexec_kit.poco import TaskStatus
from tests.poco.conftest import RLC, assert_refused

GOOD = b"\x01" * 32


def _sponsor(sb, rlc=100):
    p = sb.dataset_owner
    missing = rlc * RLC - sb.hub.account(p.address).stake
    if missing > 0:
        sb.hub.mint(p.address, missing)  # its wallet holds only the set-up's few RLC
        sb.deposit(p, missing)
    return p


def _sponsored_task(tk, trust=3):
    tk.fund()
    sponsor = _sponsor(tk.sb)
    for w in tk.sb.workers:
        if tk.hub.account(w.address).stake < 10 * RLC:
            tk.sb.deposit(w, 10 * RLC)
    m = tk.hub.sponsor_match_orders(
        tk.app(), None, tk.pool(trust=5), tk.request(volume=1, trust=trust), sponsor
    )
    taskid, _ = tk.hub.initialize(m.dealid, m.deal.bot_first, tk.sb.scheduler)
    return m, taskid, sponsor


def test_matchorders_records_the_requester_as_sponsor(kit):
    kit.fund()
    m = kit.hub.match_orders(kit.app(), None, kit.pool(), kit.request(), kit.sb.workers[0])
    assert m.deal.sponsor == m.deal.requester == kit.sb.requester.address
    assert not m.deal.sponsored


def test_the_sponsor_pays_the_locks_not_the_requester(kit):
    kit.fund()
    sb, hub = kit.sb, kit.hub
    sponsor = _sponsor(sb)
    req0 = hub.account(sb.requester.address)
    m = hub.sponsor_match_orders(kit.app(), None, kit.pool(), kit.request(volume=2), sponsor)
    assert m.deal.sponsor == sponsor.address and m.deal.requester == sb.requester.address
    assert m.deal.sponsored
    assert hub.account(sponsor.address).locked == 2 * 6 * RLC
    assert hub.account(sb.requester.address) == req0
    assert hub.account(sb.scheduler.address).locked == 2 * (RLC * 30 // 100)
    ev = hub.contract.events.DealSponsored().process_receipt(m.receipt.raw, errors=DISCARD)
    assert [("0x" + e["args"]["dealId"].hex(), e["args"]["sponsor"]) for e in ev] == [
        (m.dealid, sponsor.address)
    ]
    assert hub.hub_rlc() == hub.total_supply()


def test_a_sponsor_without_stake_is_told_before_sending(kit):
    kit.fund()
    poor = kit.sb.workers[4]
    assert kit.hub.account(poor.address).stake == 0
    block = kit.sb.chain.block_number()
    with pytest.raises(InsufficientFundsError) as err:
        kit.hub.sponsor_match_orders(kit.app(), None, kit.pool(), kit.request(), poor)
    assert "the sponsor" in str(err.value)
    assert kit.sb.chain.block_number() == block
    with pytest.raises(ContractRevertError) as raw:
        kit.hub.sponsor_match_orders(
            kit.app(), None, kit.pool(), kit.request(), poor, precheck=False
        )
    assert_refused(raw, kit.sb, "escrow-0x05")


def test_finalize_spends_the_sponsors_lock(tk):
    sb, hub = tk.sb, tk.hub
    m, taskid, sponsor = _sponsored_task(tk, trust=1)
    s0, r0 = hub.account(sponsor.address), hub.account(sb.requester.address)
    w = sb.workers[0]
    hub.contribute_and_finalize(taskid, GOOD, tk.RESULTS, w, tk.auth(w, taskid))
    s1 = hub.account(sponsor.address)
    assert s1.locked == s0.locked - m.deal.price_per_task == 0 and s1.stake == s0.stake
    assert hub.account(sb.requester.address) == r0
    assert hub.hub_rlc() == hub.total_supply()


def test_claim_refunds_the_sponsor(tk):
    sb, hub = tk.sb, tk.hub
    m, taskid, sponsor = _sponsored_task(tk, trust=3)
    tk.contribute(taskid, sb.workers[0], GOOD)
    s0, r0 = hub.account(sponsor.address), hub.account(sb.requester.address)
    sb.time_travel(hub.task(taskid).final_deadline - sb.chain.now())
    hub.claim(taskid, sb.workers[4])
    assert hub.task(taskid).status == TaskStatus.FAILED
    s1 = hub.account(sponsor.address)
    price = m.deal.price_per_task
    assert s1.stake == s0.stake + price and s1.locked == s0.locked - price == 0
    assert hub.account(sb.requester.address) == r0  # the requester paid nothing, gets nothing
    assert hub.account(sb.workers[0].address).locked == 0
    assert hub.hub_rlc() == hub.total_supply()


def test_recover_credits_rlc_sent_outside_a_deposit_to_the_owner(sandbox):
    sb, hub = sandbox, sandbox.hub
    owner = sb.chain.participant_by_address(hub.chain.call(hub.fn.owner()))
    sender = sb.requester
    assert hub.wallet(sender.address) >= 5 * RLC
    supply0, owner0 = hub.total_supply(), hub.account(owner.address)
    # a plain ERC-20 transfer to the hub: the hub holds 5 RLC that no account holds
    sb.chain.transact(hub.rlc.functions.transfer(hub.address, 5 * RLC), sender)
    assert hub.hub_rlc() == supply0 + 5 * RLC and hub.total_supply() == supply0
    assert hub.account(sender.address).stake == 0
    # only the owner recovers it
    with pytest.raises(ContractRevertError) as err:
        hub.recover(sender)
    assert_refused(err, sb, "hub-0x01")
    assert hub.chain.call(hub.fn.recover(), owner) == 5 * RLC  # what it would return
    hub.recover(owner)
    owner1 = hub.account(owner.address)
    assert owner1.stake == owner0.stake + 5 * RLC and owner1.locked == owner0.locked
    assert hub.hub_rlc() == hub.total_supply() == supply0 + 5 * RLC
    # nothing left to recover: a second call credits 0
    hub.recover(owner)
    assert hub.account(owner.address).stake == owner1.stake
