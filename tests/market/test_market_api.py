"""The market API over real HTTP on 127.0.0.1: real EIP-712 signatures, the sandbox's chain.

What iExec's SDK relies on: the challenge sign-in, the four order routes with its filters and
pages, status and remaining volume following the chain, and each bad input refused with iExec's
status code and ``{"ok": false, "error": ...}`` while nothing is stored.
"""

from __future__ import annotations

import pytest
from orderkit import GPU, OTHER, RLC, TEE

from iexec_kit.market.api import MarketApi, MarketApiClient, order_json, sign_challenge

ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def api(book, sandbox):
    with MarketApi(book, sandbox.hub) as server:
        yield server


@pytest.fixture
def client(api):
    return MarketApiClient(api.url, chain_id=api.chain_id)


def _post(client, kind, order, key, **kw):
    """(status, body) of a raw publish, with a fresh Authorization unless given."""
    auth = kw.pop("authorization", None) or client.authorization(key)
    return client.call(
        "POST",
        f"/{kind}orders",
        json_body={"order": kw.pop("body", None) or order_json(order, numbers=False)},
        headers={"Authorization": auth},
        **kw,
    )


def test_publish_the_four_kinds_and_read_them_back(sandbox, orders, book, client):
    orders.fund()
    dataset = orders.register_dataset()
    sb = sandbox
    app = orders.app()
    ds = orders.dataset(dataset)
    pool = orders.pool()
    req = orders.request(dataset=dataset, datasetmaxprice=5 * RLC, appmaxprice=50 * RLC)
    published = {
        "app": client.publish(app, sb.app_developer.key),
        "dataset": client.publish(ds, sb.dataset_owner.key),
        "workerpool": client.publish(pool, sb.scheduler.key),
        "request": client.publish(req, sb.requester.key),
    }
    assert len(book) == 4
    for kind, order in (("app", app), ("dataset", ds), ("workerpool", pool), ("request", req)):
        rec = published[kind]
        assert rec["orderHash"] == "0x" + order.hash(book.domain).hex()
        assert rec["status"] == "open" and rec["remaining"] == order.volume
        assert rec["chainId"] == client.chain_id
        assert rec["order"]["sign"] == "0x" + order.sign.hex()
        assert rec["publicationTimestamp"].endswith("Z")
        assert client.order(kind, rec["orderHash"]) == rec
    assert published["app"]["signer"] == sb.app_developer.address
    assert published["request"]["signer"] == sb.requester.address

    # the queries the SDK sends (fetchXOrderbook)
    listed = client.orders(
        "app", app=sb.app_address, isDatasetStrict=False, pageIndex=0, pageSize=20
    )
    assert [o["orderHash"] for o in listed["orders"]] == [published["app"]["orderHash"]]
    assert listed["count"] == 1 and "nextPage" not in listed
    assert client.orders("dataset", dataset=dataset)["count"] == 1
    assert client.orders("dataset", datasetOwner=sb.dataset_owner.address)["count"] == 1
    assert client.orders("workerpool", category=0)["count"] == 1
    assert client.orders("workerpool", category=1)["count"] == 0
    assert client.orders("workerpool", workerpoolOwner=sb.scheduler.address)["count"] == 1
    assert client.orders("request", requester=sb.requester.address, category=0)["count"] == 1
    assert client.orders("request", beneficiary=sb.requester.address)["count"] == 1
    assert client.orders("request", beneficiary=OTHER)["count"] == 0
    assert client.orders("app", app=OTHER)["count"] == 0
    # and the one record the SDK reads by hash is a 404 for another kind
    status, body = client.call("GET", f"/workerpoolorders/{published['app']['orderHash']}")
    assert (status, body) == (404, {"ok": False, "error": "workerpoolorder not found"})


def test_pages_sort_and_filters(sandbox, orders, client):
    sb, key = sandbox, sandbox.app_developer.key
    prices = [(i * 7) % 25 for i in range(25)]  # 25 distinct prices, shuffled
    for p in prices:
        client.publish(orders.app(appprice=p * RLC), key)
    seen = []
    page = client.orders("app", app=sb.app_address, pageSize=10)
    assert page["count"] == 25 and page["nextPage"] == 10
    seen += page["orders"]
    page = client.orders("app", app=sb.app_address, pageSize=10, pageIndex=1)
    assert page["nextPage"] == 20
    seen += page["orders"]
    page = client.orders("app", app=sb.app_address, pageSize=10, pageIndex=2)
    assert len(page["orders"]) == 5 and "nextPage" not in page
    seen += page["orders"]
    assert [o["order"]["appprice"] for o in seen] == sorted(p * RLC for p in prices)
    assert len({o["orderHash"] for o in seen}) == 25
    for bad in (5, 1001):
        status, body = client.call(
            "GET", "/apporders", params={"app": sb.app_address, "pageSize": bad}
        )
        assert status == 400 and not body["ok"] and "pageSize" in body["error"]

    # tags, restrictions, trust, volume
    tee = client.publish(orders.app(tag=TEE, appprice=100 * RLC), key)["orderHash"]
    mine = client.publish(
        orders.app(requesterrestrict=sb.requester.address, appprice=101 * RLC), key
    )["orderHash"]

    def hashes(kind="app", **q):
        q.setdefault("pageSize", 100)
        return {o["orderHash"] for o in client.orders(kind, **q)["orders"]}

    assert hashes(app=sb.app_address, minTag="0x" + TEE.hex()) == {tee}
    assert tee not in hashes(app=sb.app_address, maxTag="0x" + GPU.hex())
    assert mine not in hashes(app=sb.app_address)  # unset: unrestricted orders only (iExec)
    assert mine in hashes(app=sb.app_address, requester=sb.requester.address)
    assert mine not in hashes(app=sb.app_address, requester=OTHER)
    assert mine in hashes(app=sb.app_address, requester="any")
    assert hashes(app=sb.app_address, requester=sb.requester.address, isRequesterStrict=True) == {
        mine
    }
    assert len(hashes(app="any")) == 26 and len(hashes(app="any", requester="any")) == 27
    orders.fund()
    scheduler = sb.scheduler.key
    low = client.publish(orders.pool(trust=1, volume=3), scheduler)["orderHash"]
    high = client.publish(orders.pool(trust=8, volume=30), scheduler)["orderHash"]
    assert hashes("workerpool", category=0, minTrust=5) == {high}
    assert hashes("workerpool", category=0, minTrust=1) == {low, high}  # 0 and 1: no filter
    assert hashes("workerpool", minVolume=10) == {high}


def test_status_and_remaining_follow_the_chain(sandbox, orders, book, client):
    sb = sandbox
    orders.fund()
    app, pool, req = (
        orders.app(volume=10),
        orders.pool(volume=10),
        orders.request(volume=3, appmaxprice=10 * RLC, workerpoolmaxprice=10 * RLC),
    )
    a = client.publish(app, sb.app_developer.key)["orderHash"]
    p = client.publish(pool, sb.scheduler.key)["orderHash"]
    r = client.publish(req, sb.requester.key)["orderHash"]
    sb.hub.match_orders(app, None, pool, req)  # on chain, outside the API
    assert client.order("app", a)["remaining"] == 7
    assert client.order("workerpool", p)["remaining"] == 7
    rec = client.order("request", r)
    assert (rec["remaining"], rec["status"]) == (0, "filled")
    assert client.orders("request", requester=sb.requester.address)["count"] == 0
    listed = client.orders("app", app=sb.app_address)["orders"]
    assert [(o["orderHash"], o["remaining"], o["status"]) for o in listed] == [(a, 7, "open")]
    # minVolume counts the volume left, not the order's
    assert client.orders("app", app=sb.app_address, minVolume=8)["count"] == 0

    sb.hub.cancel_order(app, sb.app_developer)
    rec = client.order("app", a)
    assert (rec["remaining"], rec["status"]) == (0, "canceled")
    assert client.orders("app", app=sb.app_address)["count"] == 0
    # a stale order cannot come back
    before = len(book)
    status, body = _post(client, "app", app, sb.app_developer.key)
    assert (status, body) == (403, {"ok": False, "error": "order already consumed"})
    status, body = _post(client, "request", req, sb.requester.key)
    assert (status, body) == (403, {"ok": False, "error": "order already consumed"})
    assert len(book) == before


def test_bad_input_is_refused_and_nothing_is_stored(sandbox, orders, book, client):
    sb = sandbox
    dev = sb.app_developer
    good = orders.app()

    def refused(status, body, code, error):
        assert (status, body) == (code, {"ok": False, "error": error})
        assert len(book) == 0

    # a wrong chain id, on every route the SDK calls
    wrong = {"chainId": 5}
    refused(*client.call("GET", "/challenge", params={**wrong, "address": dev.address}), 400,
            "chainId 5 is not supported")  # fmt: skip
    refused(*_post(client, "app", good, dev.key, params=wrong), 400, "chainId 5 is not supported")
    refused(*client.call("GET", "/apporders", params={**wrong, "app": sb.app_address}), 400,
            "chainId 5 is not supported")  # fmt: skip
    # no Authorization, or one not signed by its address
    refused(*client.call("POST", "/apporders", json_body={"order": order_json(good)}), 403,
            "invalid authorization")  # fmt: skip
    typed = client.challenge(dev.address)
    forged = sign_challenge(typed, sb.requester.key).rsplit("_", 1)[0] + "_" + dev.address
    refused(*_post(client, "app", good, None, authorization=forged), 403, "invalid authorization")
    # unsigned, badly signed, changed after signing
    body = {k: v for k, v in order_json(good, numbers=False).items() if k != "sign"}
    refused(*_post(client, "app", good, dev.key, body=body), 400, "order.sign is a required field")
    body = order_json(good, numbers=False) | {"sign": "0x"}  # iExec: well formed, not valid
    refused(*_post(client, "app", good, dev.key, body=body), 403, "invalid sign")
    refused(*_post(client, "app", orders.app(sign_as=sb.requester), dev.key), 403, "invalid sign")
    body = order_json(good, numbers=False) | {"appprice": "1"}
    refused(*_post(client, "app", good, dev.key, body=body), 403, "invalid sign")
    body = order_json(good, numbers=False) | {"volume": "-1"}
    refused(*_post(client, "app", good, dev.key, body=body), 400,
            "order.volume must be greater than or equal to 0")  # fmt: skip
    # signed in as someone else than the owner
    refused(*_post(client, "app", good, sb.requester.key), 403,
            f"only order signer {dev.address} can publish an order")  # fmt: skip
    # an asset the registry does not know
    refused(*_post(client, "app", orders.app(app=OTHER), dev.key), 403, "Resource not deployed")
    refused(*_post(client, "workerpool", orders.pool(workerpool=OTHER), sb.scheduler.key), 403,
            "Resource not deployed")  # fmt: skip
    # not enough stake behind a workerpool or request order (iExec's market checks it)
    refused(*_post(client, "request", orders.request(), sb.requester.key), 403,
            "requester stake is too low to cover requestorder payment, "
            f"minimum stake required is {200 * RLC} nRLC")  # fmt: skip
    # a request order nothing on the market can serve (iExec's market checks it)
    orders.fund()
    cheap = orders.request(appmaxprice=RLC, workerpoolmaxprice=RLC)
    refused(*_post(client, "request", cheap, sb.requester.key), 403,
            f"No apporder published for app {sb.app_address}")  # fmt: skip
    client.publish(orders.app(appprice=2 * RLC, volume=1), dev.key)
    status, body = _post(client, "request", cheap, sb.requester.key)
    assert (status, body) == (403, {"ok": False, "error": f"appmaxprice for app {sb.app_address} "
                              f"is too low, actual best price is {2 * RLC} nRLC"})  # fmt: skip
    assert len(book) == 1
    book.remove(list(book.store.query("SELECT hash FROM orders")[0]))
    # publishing twice
    client.publish(good, dev.key)
    status, body = _post(client, "app", good, dev.key)
    assert (status, body) == (403, {"ok": False, "error": "order already published"})
    assert len(book) == 1


def test_a_challenge_is_single_use_and_expires(sandbox, orders, book):
    now = [1_000_000.0]
    sb, dev = sandbox, sandbox.app_developer
    with MarketApi(book, sb.hub, challenge_ttl=60, clock=lambda: now[0]) as api:
        client = MarketApiClient(api.url, chain_id=api.chain_id)
        # until used, the same address gets the same challenge (as iExec's)
        assert client.challenge(dev.address) == client.challenge(dev.address)
        auth = client.authorization(dev.key)
        assert _post(client, "app", orders.app(), None, authorization=auth)[0] == 200
        status, body = _post(client, "app", orders.app(), None, authorization=auth)  # replay
        assert (status, body) == (403, {"ok": False, "error": "invalid authorization"})
        status, _ = client.call(
            "PUT", "/apporders", json_body={"target": "unpublish_all", "app": sb.app_address},
            headers={"Authorization": auth},
        )  # fmt: skip
        assert status == 403 and len(book) == 1
        late = client.authorization(dev.key)
        now[0] += 61
        status, body = _post(client, "app", orders.app(), None, authorization=late)
        assert (status, body) == (403, {"ok": False, "error": "invalid authorization"})
        assert len(book) == 1
        assert client.challenge(dev.address) != api.challenges.issue(sb.requester.address)


def test_unpublish_by_the_signer_only(sandbox, orders, book, client):
    sb, dev = sandbox, sandbox.app_developer
    first, second, third = (client.publish(orders.app(), dev.key)["orderHash"] for _ in range(3))
    status, body = client.call(
        "PUT", "/apporders", json_body={"orderHash": first},
        headers={"Authorization": client.authorization(sb.requester.key)},
    )  # fmt: skip
    assert (status, body) == (
        403, {"ok": False, "error": f"only order signer {dev.address} can unpublish an order"},
    )  # fmt: skip
    assert len(book) == 3
    gone = client.unpublish("app", dev.key, first)
    assert [r["orderHash"] for r in gone] == [first] and first not in book
    status, body = client.call(
        "PUT", "/apporders", json_body={"orderHash": first},
        headers={"Authorization": client.authorization(dev.key)},
    )  # fmt: skip
    assert (status, body) == (
        403, {"ok": False, "error": f"apporder with orderHash {first} is not published"},
    )  # fmt: skip
    last = client.unpublish("app", dev.key, target="unpublish_last", address=sb.app_address)
    assert [r["orderHash"] for r in last] == [third]
    rest = client.unpublish("app", dev.key, target="unpublish_all", address=sb.app_address)
    assert [r["orderHash"] for r in rest] == [second] and len(book) == 0


def test_volumes_follow_a_chain_revert(sandbox, orders, client):
    """The server notices the chain went back (a snapshot restored) and re-reads the volumes."""
    sb = sandbox
    orders.fund()
    app, pool = orders.app(volume=4), orders.pool(volume=4)
    a = client.publish(app, sb.app_developer.key)["orderHash"]
    client.publish(pool, sb.scheduler.key)
    snap = sb.snapshot()
    sb.hub.match_orders(app, None, pool, orders.request(volume=4))
    assert client.orders("app", app=sb.app_address)["count"] == 0
    assert client.order("app", a)["status"] == "filled"
    sb.revert(snap)
    listed = client.orders("app", app=sb.app_address)["orders"]
    assert [(o["orderHash"], o["remaining"], o["status"]) for o in listed] == [(a, 4, "open")]
