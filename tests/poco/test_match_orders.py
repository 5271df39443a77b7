"""matchOrders: every revert code provoked on chain and said in words by the kit; deals, locks,
volumes; replay, tampering, foreign signatures and cancellations refused with funds untouched."""

from dataclasses import replace

import pytest

from iexec_kit.errors import ContractRevertError, InsufficientFundsError
from iexec_kit.poco.matching import OrdersMismatchError
from iexec_kit.poco.orders import DatasetOrder
from iexec_kit.protocol.tags import Tag
from iexec_kit.protocol.units import RLC
from tests.poco.conftest import assert_refused

OTHER = "0x000000000000000000000000000000000000dEaD"
TEE = Tag.TEE.to_bytes32()


def _with_dataset(
    kit, app_kw=None, ds_kw=None, pool_kw=None, req_kw=None, register=True, ds_sign_as=None
):
    ds_addr = kit.register_dataset() if register else OTHER
    ds = kit.dataset(ds_addr, sign_as=ds_sign_as, **(ds_kw or {}))
    req = kit.request(**({"dataset": ds_addr, "datasetmaxprice": 2 * RLC} | (req_kw or {})))
    return kit.app(**(app_kw or {})), ds, kit.pool(**(pool_kw or {})), req


# code -> builder(kit) -> (app, dataset|None, pool, request); the sentence fragment the pre-check
# must say
CASES = {
    "0x00": (
        lambda k: (k.app(), None, k.pool(category=1), k.request()),
        "category 0, the workerpool order sells category 1",
    ),
    "0x01": (
        lambda k: (k.app(), None, k.pool(category=9), k.request(category=9)),
        "category 9 does not exist",
    ),
    "0x02": (
        lambda k: (k.app(), None, k.pool(trust=3), k.request(trust=5)),
        "trust 5, the workerpool order offers at most 3",
    ),
    "0x03": (
        lambda k: (k.app(), None, k.pool(), k.request(appmaxprice=1)),
        "your app max price 1 nRLC is below the app order's price 5 RLC",
    ),
    "0x04": (
        lambda k: _with_dataset(k, req_kw={"datasetmaxprice": RLC}),
        "dataset max price 1 RLC is below",
    ),
    "0x05": (
        lambda k: (k.app(), None, k.pool(), k.request(workerpoolmaxprice=RLC // 2)),
        "workerpool max price 0.5 RLC",
    ),
    "0x06": (
        lambda k: (k.app(), None, k.pool(), k.request(tag=Tag.GPU.to_bytes32())),
        "does not offer",
    ),
    "0x07": (
        lambda k: (k.app(), None, k.pool(tag=TEE), k.request(tag=TEE)),
        "app order is not tagged TEE",
    ),
    "0x10": (lambda k: (k.app(), None, k.pool(), k.request(app=OTHER)), "the request is for app"),
    "0x11": (
        lambda k: (k.app(), None, k.pool(), k.request(dataset=OTHER)),
        "the request is for dataset",
    ),
    "0x12": (
        lambda k: (k.app(), None, k.pool(), k.request(workerpool=OTHER)),
        "the request only accepts workerpool",
    ),
    "0x13": (
        lambda k: _with_dataset(k, app_kw={"datasetrestrict": OTHER}),
        "the app order only accepts dataset",
    ),
    "0x14": (
        lambda k: (k.app(workerpoolrestrict=OTHER), None, k.pool(), k.request()),
        "the app order only accepts workerpool",
    ),
    "0x15": (
        lambda k: (k.app(requesterrestrict=OTHER), None, k.pool(), k.request()),
        "the app order only accepts requester",
    ),
    "0x16": (
        lambda k: _with_dataset(k, ds_kw={"apprestrict": OTHER}),
        "the dataset order only accepts app",
    ),
    "0x17": (
        lambda k: _with_dataset(k, ds_kw={"workerpoolrestrict": OTHER}),
        "the dataset order only accepts workerpool",
    ),
    "0x18": (
        lambda k: _with_dataset(k, ds_kw={"requesterrestrict": OTHER}),
        "the dataset order only accepts requester",
    ),
    "0x19": (
        lambda k: (k.app(), None, k.pool(apprestrict=OTHER), k.request()),
        "the workerpool order only accepts app",
    ),
    "0x1a": (
        lambda k: _with_dataset(k, pool_kw={"datasetrestrict": OTHER}),
        "the workerpool order only accepts dataset",
    ),
    "0x1b": (
        lambda k: (k.app(), None, k.pool(requesterrestrict=OTHER), k.request()),
        "the workerpool order only accepts requester",
    ),
    "0x20": (
        lambda k: (k.app(app=OTHER), None, k.pool(), k.request(app=OTHER)),
        "is not registered in the app registry",
    ),
    "0x21": (
        lambda k: (k.app(sign_as=k.sb.requester), None, k.pool(), k.request()),
        "not by the app's owner",
    ),
    "0x30": (
        lambda k: _with_dataset(k, register=False),
        "is not registered in the dataset registry",
    ),
    "0x31": (
        lambda k: _with_dataset(k, ds_sign_as=k.sb.app_developer),
        "not by the dataset's owner",
    ),
    "0x40": (
        lambda k: (k.app(), None, k.pool(workerpool=OTHER), k.request()),
        "is not registered in the workerpool registry",
    ),
    "0x41": (
        lambda k: (k.app(), None, k.pool(sign_as=k.sb.app_developer), k.request()),
        "not by the workerpool's owner",
    ),
    "0x50": (
        lambda k: (k.app(), None, k.pool(), k.request(sign_as=k.sb.scheduler)),
        "not by its requester",
    ),
    "0x60": (lambda k: (k.app(), None, k.pool(), k.request(volume=0)), "nothing left to match"),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_every_revert_code_on_chain_and_in_words(kit, code):
    build, sentence = CASES[code]
    kit.fund()
    app, ds, pool, req = build(kit)
    before = {p.name: kit.hub.account(p.address) for p in kit.sb.participants}
    # the contract itself refuses with PoCo's code...
    with pytest.raises(ContractRevertError) as onchain:
        kit.hub.match_orders(app, ds, pool, req, kit.sb.requester, precheck=False)
    assert_refused(onchain, kit.sb, f"iExecV5-matchOrders-{code}")
    assert "what to do" in str(onchain.value) or not onchain.value.reason  # PoCo: a bare revert
    # ...and the kit's pre-check says the same code, with the orders' numbers
    with pytest.raises(OrdersMismatchError) as pre:
        kit.hub.match_orders(app, ds, pool, req, kit.sb.requester)
    assert pre.value.code == code
    assert sentence in str(pre.value)
    assert isinstance(pre.value, ValueError)
    # nothing moved
    assert {p.name: kit.hub.account(p.address) for p in kit.sb.participants} == before


def test_a_deal_locks_the_funds_and_records_pocos_fields(kit):
    kit.fund()
    sb, hub = kit.sb, kit.hub
    app, pool, req = kit.app(), kit.pool(), kit.request(volume=3, trust=3)
    m = hub.match_orders(app, None, pool, req)
    d = m.deal
    assert m.volume == 3 and d.bot_first == 0 and d.bot_size == 3
    assert (d.app.pointer, d.app.owner, d.app.price) == (
        sb.app_address,
        sb.app_developer.address,
        5 * RLC,
    )
    assert (d.workerpool.pointer, d.workerpool.owner, d.workerpool.price) == (
        sb.workerpool_address,
        sb.scheduler.address,
        RLC,
    )
    assert (
        d.dataset.price == 0
        and d.trust == 3
        and d.category == 0
        and d.requester == sb.requester.address
    )
    assert d.worker_stake == RLC * 30 // 100 and d.scheduler_reward_ratio == 1
    assert d.start_time == sb.chain.now()
    assert hub.account(sb.requester.address).locked == 3 * 6 * RLC
    assert hub.account(sb.scheduler.address).locked == 3 * (RLC * 30 // 100)
    for order in (app, pool, req):
        assert hub.consumed(order) == 3
    assert len(d.task_ids()) == 3 and len(set(d.task_ids())) == 3
    assert hub.hub_rlc() == hub.total_supply()
    from web3.logs import DISCARD

    notices = hub.contract.events.SchedulerNotice().process_receipt(m.receipt.raw, errors=DISCARD)
    assert [(n["args"]["workerpool"], "0x" + n["args"]["dealid"].hex()) for n in notices] == [
        (sb.workerpool_address, m.dealid)
    ]


def test_trust_zero_becomes_one(kit):
    kit.fund()
    m = kit.hub.match_orders(kit.app(), None, kit.pool(), kit.request(trust=0))
    assert m.deal.trust == 1


def test_partial_matches_continue_the_bag_of_tasks(kit):
    """A request of volume 5 against a workerpool order of volume 2: two deals, botFirst 0
    then 2."""
    kit.fund()
    req = kit.request(volume=5)
    m1 = kit.hub.match_orders(kit.app(), None, kit.pool(volume=2), req)
    m2 = kit.hub.match_orders(kit.app(), None, kit.pool(volume=10), req)
    assert (m1.deal.bot_first, m1.volume, m2.deal.bot_first, m2.volume) == (0, 2, 2, 3)
    assert m1.dealid != m2.dealid
    assert kit.hub.remaining(req) == 0


def test_with_a_dataset(kit):
    kit.fund()
    app, ds, pool, req = _with_dataset(kit)
    m = kit.hub.match_orders(app, ds, pool, req)
    assert m.deal.dataset.price == 2 * RLC and m.deal.dataset.owner == kit.sb.dataset_owner.address
    assert kit.hub.account(kit.sb.requester.address).locked == 2 * 8 * RLC
    assert kit.hub.consumed(ds) == 2


def test_replay_of_a_consumed_request_is_refused(kit):
    kit.fund()
    app, pool, req = kit.app(), kit.pool(), kit.request()
    kit.hub.match_orders(app, None, pool, req)
    locked = kit.hub.account(kit.sb.requester.address).locked
    with pytest.raises(ContractRevertError) as err:
        kit.hub.match_orders(app, None, pool, req, precheck=False)
    assert_refused(err, kit.sb, "iExecV5-matchOrders-0x60")
    assert kit.hub.account(kit.sb.requester.address).locked == locked


def test_tampered_field_after_signing_is_refused(kit):
    kit.fund()
    req = replace(kit.request(), appmaxprice=50 * RLC)  # changed after the requester signed
    with pytest.raises(OrdersMismatchError) as err:
        kit.hub.match_orders(kit.app(), None, kit.pool(), req)
    assert err.value.code == "0x50" and "changed after signing" in str(err.value)
    cheap_app = replace(kit.app(), appprice=1)  # a requester lowering the app's price
    with pytest.raises(ContractRevertError) as err2:
        kit.hub.match_orders(cheap_app, None, kit.pool(), kit.request(), precheck=False)
    assert_refused(err2, kit.sb, "iExecV5-matchOrders-0x21")
    assert kit.hub.account(kit.sb.requester.address).locked == 0


def test_cancelled_order_is_refused_and_only_its_owner_cancels(kit):
    kit.fund()
    app = kit.app()
    with pytest.raises(ContractRevertError) as err:
        kit.hub.cancel_order(app, kit.sb.requester)
    assert_refused(err, kit.sb, "manageOrder-0x01")
    kit.hub.cancel_order(app, kit.sb.app_developer)
    assert kit.hub.remaining(app) == 0
    with pytest.raises(ContractRevertError) as err:
        kit.hub.match_orders(app, None, kit.pool(), kit.request(), precheck=False)
    assert_refused(err, kit.sb, "iExecV5-matchOrders-0x60")
    assert kit.hub.account(kit.sb.requester.address).locked == 0


def test_presigned_orders_need_no_signature(kit):
    kit.fund()
    app = replace(kit.app(), sign=b"")
    kit.hub.manage_order(app, 0, kit.sb.app_developer)
    assert kit.hub.presigned(app) == kit.sb.app_developer.address
    m = kit.hub.match_orders(app, None, kit.pool(), kit.request())
    assert m.volume == 2
    # a presignature by someone else than the owner is impossible
    other = replace(kit.app(), sign=b"")
    with pytest.raises(ContractRevertError):
        kit.hub.manage_order(other, 0, kit.sb.requester)


def test_too_little_stake_is_said_before_sending(kit):
    kit.sb.deposit(kit.sb.scheduler, 10 * RLC)
    kit.sb.deposit(kit.sb.requester, 4 * RLC)
    block = kit.sb.chain.block_number()
    with pytest.raises(InsufficientFundsError) as err:
        kit.hub.match_orders(kit.app(), None, kit.pool(), kit.request())
    assert "missing 8 RLC" in str(err.value) and "deposit" in str(err.value)
    assert kit.sb.chain.block_number() == block
    # on chain the lock itself refuses
    with pytest.raises(ContractRevertError) as raw:
        kit.hub.match_orders(kit.app(), None, kit.pool(), kit.request(), precheck=False)
    assert_refused(raw, kit.sb, "escrow-0x05")


def test_anyone_may_send_matchorders_but_the_requester_pays(kit):
    kit.fund()
    m = kit.hub.match_orders(kit.app(), None, kit.pool(), kit.request(), kit.sb.workers[0])
    assert kit.hub.account(kit.sb.requester.address).locked == 12 * RLC
    assert kit.hub.account(kit.sb.workers[0].address).locked == 0
    assert m.deal.requester == kit.sb.requester.address


def test_empty_dataset_order_is_the_zero_order():
    assert DatasetOrder.empty().as_tuple()[0] == "0x0000000000000000000000000000000000000000"
