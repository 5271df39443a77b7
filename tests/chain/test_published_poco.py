"""iExec's published PoCo 6.1.0 (npm @iexec/poco, deployed by iexec_kit.chain.published) on the
kit's in-process chain: what it deploys, and the kit's hub client running a whole deal on it.

Tests that take ``any_sandbox`` run twice, once on the kit's own contracts and once on the
published PoCo, with the same Python client (iexec_kit.poco.Hub) and the same order builders as
tests/poco (TaskKit). docs/poco-differences.md lists what differs between the two.
"""

from __future__ import annotations

import pytest
from eth_utils import function_abi_to_4byte_selector

from iexec_kit.chain import artifacts as kit_artifacts
from iexec_kit.chain import published
from iexec_kit.errors import ContractRevertError, DependencyMissingError, KitValueError
from iexec_kit.poco import ContributionStatus, TaskStatus
from iexec_kit.protocol.categories import DEFAULT_CATEGORIES
from iexec_kit.protocol.reverts import CHECKS, PoCo, is_pocos, refused_as
from tests.poco.conftest import RLC, TaskKit

GOOD = b"\x11" * 32
BAD = b"\xbb" * 32
KITTY = "0x99c2268479b93fDe36232351229815DF80837e23"
ZERO = published.ZERO_ADDRESS
OTHER = "0x000000000000000000000000000000000000dEaD"  # no code, registered nowhere


@pytest.fixture(scope="module")
def poco_session():
    from iexec_kit.sandbox import Sandbox

    return Sandbox.start(workers=5, protocol="poco")


@pytest.fixture
def poco(poco_session):
    snap = poco_session.snapshot()
    yield poco_session
    poco_session.revert(snap)


@pytest.fixture(params=["kit", "poco"])
def any_sandbox(request):
    sb = request.getfixturevalue("sandbox_session" if request.param == "kit" else "poco_session")
    snap = sb.snapshot()
    yield sb
    sb.revert(snap)


def _money(sb) -> int:
    """Every nRLC the hub accounts for: stakes and locks of the participants and the kitty."""
    total = 0
    for address in [p.address for p in sb.participants] + [KITTY]:
        acct = sb.hub.account(address)
        total += acct.stake + acct.locked
    return total


# ----- the deployment -------------------------------------------------------------------------
def test_the_published_diamond_is_configured_like_the_kits_hub(poco):
    hub, d, call = poco.hub, poco.deployment, poco.chain.call
    assert d.protocol == "poco" and set(published.POCO_FACETS) <= set(d.modules)
    assert call(hub.fn.token()) == d.rlc
    assert call(hub.fn.owner()) == poco.chain.deployer.address
    assert (call(hub.fn.name()), call(hub.fn.symbol()), call(hub.fn.decimals())) == (
        "Staked RLC",
        "SRLC",
        9,
    )
    assert (
        call(hub.fn.appregistry()),
        call(hub.fn.datasetregistry()),
        call(hub.fn.workerpoolregistry()),
    ) == (d.appregistry, d.datasetregistry, d.workerpoolregistry)
    assert call(hub.fn.countCategory()) == len(DEFAULT_CATEGORIES)
    assert call(hub.fn.viewCategory(0)) == ("XS", '{"name":"XS","clock":300}', 300)
    assert [c.work_clock_time_ref for c in hub.categories()] == [
        c.clock for c in DEFAULT_CATEGORIES
    ]
    assert hub.config().kitty_address == KITTY


def test_the_domain_is_the_one_the_kit_signs_for(poco):
    hub, chain = poco.hub, poco.chain
    diamond = chain.contract(published.hub_abi(), hub.address)
    assert chain.call(diamond.functions.domain()) == (
        "iExecODB",
        "5.0.0",
        chain.chain_id,
        hub.address,
    )
    assert chain.call(diamond.functions.eip712domain_separator()) == hub.domain().separator()


def test_every_facet_selector_is_routed_by_the_diamond(poco):
    chain = poco.chain
    loupe = chain.contract(published.hub_abi(), poco.hub.address)
    for name in published.DIAMOND_DEFAULT_FACETS + published.POCO_FACETS:
        for entry in published.abi(name):
            if entry["type"] != "function":
                continue
            sel = function_abi_to_4byte_selector(entry)
            assert chain.call(loupe.functions.facetAddress(sel)) != published.ZERO_ADDRESS, (
                name,
                entry["name"],
            )
    # the escrow's receive/fallback are routed too (0x00000000, 0xffffffff)
    token_facet = poco.deployment.modules["IexecEscrowTokenFacet"]
    for sel in (b"\x00" * 4, b"\xff" * 4):
        assert chain.call(loupe.functions.facetAddress(sel)) == token_facet


def test_a_missing_package_says_run_npm_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(published, "POCO_DIR", tmp_path / "nothing")
    published.artifact.cache_clear()
    try:
        with pytest.raises(DependencyMissingError, match="npm ci"):
            published.deploy_published_poco(None)
    finally:
        monkeypatch.undo()
        published.artifact.cache_clear()


def test_the_sandbox_refuses_an_unknown_protocol():
    from iexec_kit.sandbox import Sandbox

    with pytest.raises(KitValueError, match="unknown protocol"):
        Sandbox.start(workers=1, protocol="v3")


# ----- the same client on both hubs -----------------------------------------------------------
def test_the_sandbox_app_and_workerpool_are_registered(any_sandbox):
    sb = any_sandbox
    assert sb.chain.call(sb.hub.appregistry.functions.isRegistered(sb.app_address))
    assert sb.chain.call(sb.hub.workerpoolregistry.functions.isRegistered(sb.workerpool_address))
    assert sb.app.owner == sb.app_developer.address
    assert sb.workerpool.owner == sb.scheduler.address


def test_create_app_and_dataset(any_sandbox):
    sb, hub = any_sandbox, any_sandbox.hub
    app = hub.create_app(sb.app_developer, "another", "example/another:1", b"\x05" * 32)
    assert sb.chain.call(hub.appregistry.functions.isRegistered(app))
    assert hub.app(app).name == "another" and hub.app(app).owner == sb.app_developer.address
    # the very same app again: the same address, nothing created
    assert hub.create_app(sb.app_developer, "another", "example/another:1", b"\x05" * 32) == app
    ds = hub.create_dataset(sb.dataset_owner, "faces", "/ipfs/QmFaces", b"\x07" * 32)
    assert sb.chain.call(hub.datasetregistry.functions.isRegistered(ds))
    assert hub.dataset(ds).multiaddr == "/ipfs/QmFaces"
    assert not sb.chain.call(hub.appregistry.functions.isRegistered(ds))


def test_deposit_by_approve_and_call_and_by_approve_then_deposit(any_sandbox):
    sb, hub = any_sandbox, any_sandbox.hub
    who = sb.requester
    wallet = hub.wallet(who.address)
    hub.deposit(who, 7 * RLC)  # RLC.approveAndCall -> hub.receiveApproval
    assert hub.account(who.address).stake == 7 * RLC
    sb.chain.transact(hub.rlc.functions.approve(hub.address, 3 * RLC), who)
    sb.chain.transact(hub.fn.deposit(3 * RLC), who)
    assert hub.account(who.address).stake == 10 * RLC
    assert hub.wallet(who.address) == wallet - 10 * RLC
    hub.withdraw(who, 4 * RLC)
    assert hub.account(who.address).stake == 6 * RLC


def test_one_full_deal_through_the_kits_hub_client(any_sandbox):
    """matchOrders, initialize, 3 contributions, 3 reveals, finalize: the requester pays, the
    task completes with the results, every nRLC is still accounted for."""
    sb, hub = any_sandbox, any_sandbox.hub
    tk = TaskKit(sb)
    m, taskid = tk.task(trust=5)
    assert m.deal.trust == 5 and hub.deal(m.dealid).exists
    money = _money(sb)
    for w in sb.workers[:3]:
        tk.contribute(taskid, w, GOOD)
    assert hub.task(taskid).status == TaskStatus.REVEALING
    for w in sb.workers[:3]:
        hub.reveal(taskid, GOOD, w)
    hub.finalize(taskid, tk.RESULTS, sb.scheduler)
    task = hub.task(taskid)
    assert task.status == TaskStatus.COMPLETED
    assert task.results_json()["location"] == "/ipfs/QmResult"
    assert hub.contribution(taskid, sb.workers[0].address).status == ContributionStatus.PROVED
    assert _money(sb) == money
    assert hub.account(sb.requester.address).locked == 0
    assert [hub.score(w.address) for w in sb.workers[:3]] == [1, 1, 1]


def test_the_same_deal_pays_the_same_on_both_hubs(sandbox_session, poco_session):
    """One deal with a wrong contribution, run on both: every participant's stake and lock
    ends the same (fresh workers: equal weights, so no rounding difference shows). Trust 3 with
    weights of 2: a, d (wrong), b do not reach 2/3 of the weight, c does (6 x 3 > 8 x 2)."""
    results = []
    for sb in (sandbox_session, poco_session):
        snap = sb.snapshot()
        try:
            tk = TaskKit(sb)
            m, taskid = tk.task(trust=3)
            a, b, c, d = sb.workers[:4]
            for w, digest in ((a, GOOD), (d, BAD), (b, GOOD), (c, GOOD)):
                tk.contribute(taskid, w, digest)
            for w in (a, b, c):
                sb.hub.reveal(taskid, GOOD, w)
            sb.hub.finalize(taskid, tk.RESULTS, sb.scheduler)
            results.append(
                {p.role + p.name: sb.hub.account(p.address) for p in sb.participants}
                | {"kitty": sb.hub.account(KITTY)}
            )
        finally:
            sb.revert(snap)
    assert results[0] == results[1]


#: runtime code that answers every call with 32 zero bytes: an approveAndCall receiver that
#: says false, a contract that does not accept ERC-721 tokens
_SAYS_NO = "0x600a600c600039600a6000f3" + "600060005260206000f3"


def _refusals(sb, tk):
    """(check, what to send) pairs: each send makes one of the kit's checks refuse."""
    hub, f, chain = sb.hub, sb.hub.fn, sb.chain
    req, dev, sch, w0, owner = sb.requester, sb.app_developer, sb.scheduler, sb.workers[0], None
    owner = chain.deployer
    reg = hub.appregistry.functions
    app_id = int(sb.app_address, 16)
    no = chain.w3.eth.get_transaction_receipt(
        chain.w3.eth.send_transaction({"from": owner.address, "data": _SAYS_NO})
    )["contractAddress"]
    m, taskid = tk.task(trust=5)
    hub.deposit(req, 5 * RLC)
    app_contract = chain.contract(kit_artifacts.abi("App"), sb.app_address)
    pool_contract = chain.contract(kit_artifacts.abi("Workerpool"), sb.workerpool_address)
    unknown = chain.contract(kit_artifacts.abi("RLC"), hub.address).functions.faucet()
    twice = reg.createApp(dev.address, "twice", "DOCKER", b"x", b"\x00" * 32, b"")
    chain.transact(twice, dev)

    def send(fn, who=req):
        return lambda: chain.transact(fn, who)

    def view(fn):
        return lambda: chain.call(fn)

    return [
        ("hub-0x01", send(f.createCategory("x", "y", 5))),
        ("hub-0x01", send(f.recover())),
        ("hub-0x04", view(unknown)),
        ("config-0x01", send(f.configure(sb.deployment.rlc, "x", "y", 9, ZERO, ZERO, ZERO, ZERO),
                             owner)),
        ("config-0x04", view(f.viewCategory(99))),
        ("escrow-0x01", send(f.transfer(ZERO, 1))),
        ("escrow-0x02", send(f.transfer(dev.address, 10**18))),
        ("escrow-0x02", send(f.withdraw(10**18))),
        ("escrow-0x03", send(f.depositFor(0, ZERO))),
        ("escrow-0x04", send(f.approve(ZERO, 1))),
        ("escrow-0x05", lambda: hub.sponsor_match_orders(
            tk.app(), None, tk.pool(), tk.request(), sb.dataset_owner, precheck=False)),
        ("escrow-0x08", send(f.decreaseAllowance(dev.address, 5))),
        ("escrow-0x09", send(f.transferFrom(dev.address, req.address, 5))),
        ("escrow-0x0a", send(f.approveAndCall(no, 1, b""))),
        ("escrow-0x0b", send(f.depositForArray([1, 2], [req.address]))),
        ("escrow-0x0c", send(f.receiveApproval(req.address, 1, hub.address, b""))),
        ("manageOrder-0x01", lambda: hub.manage_order(tk.app(), 1, req)),
        ("manageOrder-0x01", lambda: hub.manage_order(tk.app(), 1, req, sign=b"\x01" * 65)),
        ("iExecV5-matchOrders-0x03", lambda: hub.match_orders(
            tk.app(), None, tk.pool(), tk.request(appmaxprice=1), precheck=False)),
        ("iExecV5-matchOrders-0x20", lambda: hub.match_orders(
            tk.app(app=OTHER), None, tk.pool(), tk.request(app=OTHER), precheck=False)),
        ("initialize-0x01", send(f.initialize(m.dealid, 7), sch)),
        ("initialize-0x02", send(f.initialize(m.dealid, 0), sch)),
        ("initialize-0x03", send(f.initializeArray([m.dealid], [0, 1]), sch)),
        ("contribute-0x05", send(f.contribute(taskid, GOOD, GOOD, ZERO, b"", b"\x01" * 65), w0)),
        ("contribute-0x05", send(f.contribute(taskid, GOOD, GOOD, ZERO, b"", b""), w0)),
        ("contributeAndFinalize-0x04", lambda: hub.contribute_and_finalize(
            taskid, GOOD, tk.RESULTS, w0, tk.auth(w0, taskid))),
        ("reveal-0x01", lambda: hub.reveal(taskid, GOOD, w0)),
        ("poco-0x01", lambda: hub.finalize(taskid, tk.RESULTS, w0)),
        ("poco-0x02", lambda: hub.result_for(taskid)),
        ("claim-0x02", send(f.claim(taskid))),
        ("registry-0x01", view(reg.tokenByIndex(999))),
        ("registry-0x01", view(reg.tokenOfOwnerByIndex(dev.address, 999))),
        ("registry-0x02", send(twice, dev)),
        ("registry-0x03", view(reg.ownerOf(12345))),
        ("registry-0x04", send(reg.approve(req.address, app_id))),
        ("registry-0x04", send(reg.transferFrom(dev.address, req.address, app_id))),
        ("registry-0x05", send(reg.transferFrom(req.address, dev.address, app_id), dev)),
        ("registry-0x06", send(reg.transferFrom(dev.address, ZERO, app_id), dev)),
        ("registry-0x06", send(reg.createApp(ZERO, "n", "DOCKER", b"x", b"\x00" * 32, b""), dev)),
        ("registry-0x07", send(reg.safeTransferFrom(dev.address, no, app_id), dev)),
        ("registry-0x08", view(reg.balanceOf(ZERO))),
        ("asset-0x01", send(app_contract.functions.initialize("a", "b", b"", b"\x00" * 32, b""))),
        ("workerpool-0x01", send(pool_contract.functions.changePolicy(30, 5))),
        ("workerpool-0x02", send(pool_contract.functions.changePolicy(30, 101), sch)),
        ("RLC-0x01", send(hub.rlc.functions.transferFrom(dev.address, req.address, 1))),
    ]  # fmt: skip


def test_the_revert_table_says_what_each_hub_says(any_sandbox):
    """iexec_kit.protocol.reverts.CHECKS against both hubs: each refusal below is the kit's
    check on the kit's hub, and on the published PoCo what the table says PoCo reverts with
    there (its own message, or none); the sentence says whose message it is."""
    sb = any_sandbox
    protocol = getattr(sb.deployment, "protocol", "kit")
    wrong = []
    for code, attempt in _refusals(sb, TaskKit(sb)):
        try:
            attempt()
            wrong.append((code, "no revert"))
            continue
        except ContractRevertError as exc:
            err = exc
        if not refused_as(code, err.reason, protocol):
            wrong.append((code, err.reason))
        if protocol == "kit" and not is_pocos(code):
            assert "the kit's" in str(err), code
    assert not wrong, f"on {protocol}: {wrong}"


def test_where_poco_has_no_such_check_it_accepts(any_sandbox):
    """The table's NONE rows, run: PoCo 6.1.0 accepts what the kit refuses."""
    sb, f, owner = any_sandbox, any_sandbox.hub.fn, any_sandbox.chain.deployer
    sends = {
        "config-0x03": f.createCategory("no clock", "{}", 0),
        "hub-0x02": f.transferOwnership(ZERO),
    }
    for code, fn in sends.items():
        assert CHECKS[code].poco is PoCo.NONE
        if getattr(sb.deployment, "protocol", "kit") == "poco":
            sb.chain.transact(fn, owner)
        else:
            with pytest.raises(ContractRevertError) as err:
                sb.chain.transact(fn, owner)
            assert err.value.code == code and "PoCo 6.1.0 has no such check" in str(err.value)


def test_the_demo_runs_on_the_published_poco(tmp_path):
    """Issue 15's done-when without the CLI flag: 5 honest workers, 2 colluding cheaters, trust
    5, the kit's scheduler and workers (actors) on the published PoCo: the honest consensus, the
    cheaters lose their stakes, money conserved."""
    import numpy as np
    from PIL import Image

    from iexec_kit.actors.events import EventStream
    from iexec_kit.sandbox import Sandbox
    from iexec_kit.tutorial.demo import DemoConfig, run_demo

    y, x = np.mgrid[0:32, 0:48]
    rgb = np.stack([(x * 5) % 256, (y * 8) % 256, ((x + y) * 3) % 256], axis=-1).astype("uint8")
    png = tmp_path / "small.png"
    Image.fromarray(rgb).save(png)
    sb = Sandbox.start(workers=7, protocol="poco", folder=tmp_path / "sb")
    try:
        cfg = DemoConfig(engine="numpy", input=str(png), workers=5, cheaters=2, trust=5)
        report = run_demo(cfg, sandbox=sb, stream=EventStream())
    finally:
        sb.close()
    s = report.summary
    assert report.ok and s["trust"] == 5
    (task,) = s["tasks"]
    assert task["status"] == "COMPLETED"
    statuses = sorted((c["behaviour"], c["status"]) for c in task["contributions"])
    assert statuses == [("colluding", "CONTRIBUTED")] * 2 + [("honest", "PROVED")] * 5
    after = s["accounts"]["after"]
    held = sum(a["stake"] + a["locked"] for a in after.values()) + s["kitty"]["after"]
    assert held == s["hub_rlc"]["after"]
    before = {a["name"]: a for a in s["accounts"]["before"].values()}
    for c in task["contributions"]:
        a = next(v for v in after.values() if v["name"] == c["worker"])
        change = sum(a[k] - before[c["worker"]][k] for k in ("wallet_rlc", "stake", "locked"))
        assert (change < 0) == (c["behaviour"] == "colluding"), c
