"""An asset changes hands with its registry token, and the protocol follows the holder: matchOrders
checks the app's and the workerpool's orders against their owners now, and the deal records
those owners (as PoCo's), so the rewards and the scheduler's authorizations follow them."""

import pytest

from iexec_kit.errors import ContractRevertError
from iexec_kit.poco import TaskStatus, sign_authorization
from iexec_kit.poco.matching import OrdersMismatchError
from tests.poco.conftest import RLC, TaskKit, assert_refused

GOOD = b"\x11" * 32


def _fund_workers(tk: TaskKit):
    for w in tk.sb.workers:
        if tk.hub.account(w.address).stake < 10 * RLC:
            tk.sb.deposit(w, 10 * RLC)


def _total(hub, who) -> int:
    a = hub.account(who.address)
    return a.stake + a.locked


def test_after_an_app_transfer_only_the_new_owner_sells_it_and_is_paid(tk):
    sb, hub = tk.sb, tk.hub
    old, new = sb.app_developer, sb.dataset_owner
    tk.fund()
    _fund_workers(tk)
    hub.transfer_app(sb.app_address, old, new.address)
    assert sb.app.owner == new.address

    stale = tk.app(sign_as=old, volume=10)
    with pytest.raises(OrdersMismatchError) as err:  # the kit's pre-check reads the owner now
        hub.match_orders(stale, None, tk.pool(), tk.request(volume=1, trust=1))
    assert err.value.code == "0x21"
    with pytest.raises(ContractRevertError) as err:  # and so does the contract
        hub.match_orders(stale, None, tk.pool(), tk.request(volume=1, trust=1), precheck=False)
    assert_refused(err, sb, "iExecV5-matchOrders-0x21")

    old_before, new_before = _total(hub, old), _total(hub, new)
    m = hub.match_orders(
        tk.app(sign_as=new, volume=10), None, tk.pool(), tk.request(volume=1, trust=1)
    )
    assert m.deal.app.owner == new.address
    taskid, _ = hub.initialize(m.dealid, m.deal.bot_first, sb.scheduler)
    w = sb.workers[0]
    hub.contribute_and_finalize(taskid, GOOD, tk.RESULTS, w, tk.auth(w, taskid))
    assert hub.task(taskid).status == TaskStatus.COMPLETED
    assert _total(hub, new) == new_before + m.deal.app.price
    assert _total(hub, old) == old_before


def test_a_deal_keeps_the_owners_it_recorded_at_match(tk):
    """As PoCo's: a transfer after matchOrders does not redirect that deal's rewards."""
    sb, hub = tk.sb, tk.hub
    old, new = sb.app_developer, sb.dataset_owner
    m, taskid = tk.task(trust=1)
    hub.transfer_app(sb.app_address, old, new.address)
    old_before, new_before = _total(hub, old), _total(hub, new)
    w = sb.workers[0]
    hub.contribute_and_finalize(taskid, GOOD, tk.RESULTS, w, tk.auth(w, taskid))
    assert _total(hub, old) == old_before + m.deal.app.price
    assert _total(hub, new) == new_before


def test_after_a_workerpool_transfer_the_new_owner_schedules_and_is_paid(tk):
    sb, hub = tk.sb, tk.hub
    old, new = sb.scheduler, sb.dataset_owner
    tk.fund()
    _fund_workers(tk)
    sb.deposit(new, 5 * RLC)  # the new owner locks the pool's stake
    hub.transfer_workerpool(sb.workerpool_address, old, new.address)
    assert sb.workerpool.owner == new.address

    stale = tk.pool(sign_as=old)
    with pytest.raises(ContractRevertError) as err:
        hub.match_orders(tk.app(), None, stale, tk.request(volume=1, trust=1), precheck=False)
    assert_refused(err, sb, "iExecV5-matchOrders-0x41")

    old_before, new_before = _total(hub, old), _total(hub, new)
    m = hub.match_orders(tk.app(), None, tk.pool(sign_as=new), tk.request(volume=1, trust=1))
    assert m.deal.workerpool.owner == new.address
    assert hub.account(new.address).locked > 0  # the pool's stake is the new owner's
    taskid, _ = hub.initialize(m.dealid, m.deal.bot_first, new)

    w = sb.workers[0]
    with pytest.raises(ContractRevertError) as err:  # the old scheduler no longer authorizes
        hub.contribute_and_finalize(
            taskid, GOOD, tk.RESULTS, w, sign_authorization(old, w.address, taskid)
        )
    assert_refused(err, sb, "contribute-0x05")
    assert hub.account(hub.config().kitty_address).locked == 0  # no kitty bonus to count
    hub.contribute_and_finalize(
        taskid, GOOD, tk.RESULTS, w, sign_authorization(new, w.address, taskid)
    )
    assert hub.task(taskid).status == TaskStatus.COMPLETED
    price = m.deal.workerpool.price
    assert _total(hub, new) == new_before + price - price * 99 // 100
    assert _total(hub, old) == old_before
