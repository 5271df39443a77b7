"""A LAN front (iexec_kit.storage.lan.LanFront) before a JSON-RPC upstream, over real HTTP.

The upstream is a stand-in: a tiny JSON-RPC server (the standard library's http.server, on
127.0.0.1) whose answers a test picks by the path it posts to: well-formed but out of order, one
error object for a whole batch, fewer answers than calls, foreign ids, twice the answers, no JSON
at all; and, for an HTTP front, GETs (a large body on /big). The chain's own node answers none of
these wrongly on purpose, so a stand-in is the way to see what the front makes of them: one
well-formed JSON-RPC answer per call, never a 500 nor another call's answer. Last, the
forwarding client's life: a stopped front holds no connection to its upstream, a request after
its shutdown is answered 503, and a caller that leaves before the answer streams gives the
upstream connection back."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from iexec_kit.chain.rpc_filter import NO_TOKEN_CODE, REFUSED_CODE
from iexec_kit.storage import lan_policy
from iexec_kit.storage.lan import UPSTREAM_CODE, LanFront, Rules
from iexec_kit.storage.server import HttpService


def _answer(call: dict) -> dict:
    """The stand-in's result names the call it answers (method and params)."""
    result = f"{call.get('method')}:{json.dumps(call.get('params'))}"
    return {"jsonrpc": "2.0", "id": call.get("id"), "result": result}


def _reply(mode: str, payload):
    """The stand-in's answer to ``payload`` under ``mode`` (the path it was posted to)."""
    calls = payload if isinstance(payload, list) else [payload]
    answers = [_answer(c) for c in calls]
    if mode == "/batch-error":
        return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "no batches"}}
    if mode == "/short":
        return answers[:-1]
    if mode == "/foreign":  # other ids, and an answer with both a result and an error
        return [{**a, "id": a["id"] + 100} for a in answers] + [
            {"jsonrpc": "2.0", "id": 0, "result": 1, "error": {"code": 1, "message": "x"}}
        ]
    if mode == "/twice":
        return answers + [{**a, "result": "a second answer"} for a in answers]
    if mode == "/list-for-one":
        return answers
    if mode == "/bad-call":  # an upstream that refuses the call's shape, id null
        return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "bad shape"}}
    # /ok: well-formed, a batch answered in reverse order (the spec allows any order)
    return answers[::-1] if isinstance(payload, list) else answers[0]


#: the size of the stand-in's /big answer: more than a front reads with the headers
BIG = 4 * 1024 * 1024


class StandInRpc:
    """A stand-in JSON-RPC upstream on 127.0.0.1 (keep-alive HTTP/1.1), recording what it got."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                payload = json.loads(body)
                received.append((self.path, payload))
                if self.path == "/not-json":
                    out, kind = b"the upstream is having a bad day", "text/plain"
                else:
                    out, kind = json.dumps(_reply(self.path, payload)).encode(), "application/json"
                self.send_response(200)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def do_GET(self):
                received.append((self.path, None))
                if self.headers.get("transfer-encoding") == "chunked":  # httpx streams a body
                    while (size := int(self.rfile.readline().strip() or b"0", 16)) > 0:
                        self.rfile.read(size + 2)
                    self.rfile.readline()  # the empty line after the last (empty) chunk
                big = self.path == "/big"
                out = b"x" * BIG if big else f"GET {self.path}".encode()
                self.send_response(200)
                self.send_header("content-type", "application/octet-stream")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                try:
                    self.wfile.write(out)
                except OSError:  # the front closed the connection before reading it all
                    pass

            def log_message(self, *args):  # quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def upstream():
    s = StandInRpc()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def front(upstream):
    f = LanFront("chain", upstream.url, host="127.0.0.1", token="tok", rules=Rules.JSONRPC).start()
    yield f
    f.stop()


def post(front, path: str, body, *, token: bool = True):
    url = (front.joined_url if token else front.url) + path
    return requests.post(url, data=json.dumps(body), timeout=10)


def call(id_, method, *params):
    out = {"jsonrpc": "2.0", "method": method, "params": list(params)}
    return out if id_ is ... else {**out, "id": id_}


def test_a_front_is_an_http_service_on_the_lan_address(front):
    assert isinstance(front, HttpService)
    assert front.port == front.server.port and front.port > 0
    assert front.url == f"http://127.0.0.1:{front.port}"
    assert front.server.name == "lan-chain" and front.server.host == "127.0.0.1"
    assert front.start() is front and front.port == front.server.port  # already serving


def test_calls_sharing_an_id_each_get_their_own_answer(front, upstream):
    batch = [
        call(1, "eth_chainId"),
        call(1, "eth_blockNumber"),
        call(1, "hardhat_mine"),
        call("a", "eth_getBalance", "0x01", "latest"),
        call(1, "eth_getBalance", "0x02", "latest"),
    ]
    res = post(front, "/ok", batch)
    assert res.status_code == 200
    answers = res.json()
    assert [a["id"] for a in answers] == [1, 1, 1, "a", 1]
    assert answers[0]["result"] == "eth_chainId:[]"
    assert answers[1]["result"] == "eth_blockNumber:[]"
    assert answers[2]["error"]["code"] == REFUSED_CODE
    assert answers[3]["result"] == 'eth_getBalance:["0x01", "latest"]'
    assert answers[4]["result"] == 'eth_getBalance:["0x02", "latest"]'
    # what the upstream got: the forwarded calls numbered by the front, the refused one out
    path, sent = upstream.received[-1]
    assert path == "/ok" and [c["id"] for c in sent] == [0, 1, 2, 3]
    assert [c["method"] for c in sent] == [
        "eth_chainId",
        "eth_blockNumber",
        "eth_getBalance",
        "eth_getBalance",
    ]


def test_a_single_call_keeps_its_id_and_a_notification_gets_id_null(front):
    res = post(front, "/ok", call({"odd": "id"}, "eth_chainId"))
    assert res.status_code == 200 and res.json() == {
        "jsonrpc": "2.0",
        "id": {"odd": "id"},
        "result": "eth_chainId:[]",
    }
    res = post(front, "/ok", [call(..., "eth_chainId"), call(5, "net_version")])
    assert res.json() == [
        {"jsonrpc": "2.0", "id": None, "result": "eth_chainId:[]"},
        {"jsonrpc": "2.0", "id": 5, "result": "net_version:[]"},
    ]


def test_one_error_for_a_whole_batch_becomes_an_error_per_call(front):
    batch = [call(1, "eth_chainId"), call(2, "evm_mine"), call(3, "eth_sendRawTransaction", "0x")]
    res = post(front, "/batch-error", batch)
    assert res.status_code == 200
    a = res.json()
    assert [x["id"] for x in a] == [1, 2, 3] and all("result" not in x for x in a)
    assert a[1]["error"]["code"] == REFUSED_CODE  # refused by the front, as before
    for x in (a[0], a[2]):
        assert x["error"]["code"] == UPSTREAM_CODE
        assert (
            "answered the whole batch with one error (-32600: no batches)"
            in (x["error"]["message"])
        )
        assert x["error"]["data"]["upstream"] == {"code": -32600, "message": "no batches"}
    assert a[2]["error"]["data"]["method"] == "eth_sendRawTransaction"


def test_fewer_answers_than_calls_the_rest_are_told_so(front):
    batch = [call(7, "eth_chainId"), call(8, "eth_blockNumber"), call(9, "net_version")]
    a = post(front, "/short", batch).json()
    assert [x["id"] for x in a] == [7, 8, 9]
    assert a[0]["result"] == "eth_chainId:[]" and a[1]["result"] == "eth_blockNumber:[]"
    assert a[2]["error"]["code"] == UPSTREAM_CODE
    assert "answered 2 of the 3 calls it was sent" in a[2]["error"]["message"]


def test_foreign_ids_and_malformed_answers_are_not_taken(front):
    a = post(front, "/foreign", [call(1, "eth_chainId"), call(2, "eth_blockNumber")]).json()
    assert [x["id"] for x in a] == [1, 2]
    assert all(x["error"]["code"] == UPSTREAM_CODE for x in a), a
    assert "answered 0 of the 2" in a[0]["error"]["message"]


def test_a_second_answer_to_one_call_is_not_taken(front):
    a = post(front, "/twice", [call(1, "eth_chainId"), call(1, "net_version")]).json()
    assert [x["result"] for x in a] == ["eth_chainId:[]", "net_version:[]"]


def test_a_single_call_with_an_odd_answer(front):
    # an error with id null about the one call sent: the caller's, with the caller's id
    a = post(front, "/bad-call", call(4, "eth_chainId")).json()
    assert a["id"] == 4 and a["error"] == {"code": -32600, "message": "bad shape"}
    # a list for a single call: not an answer
    a = post(front, "/list-for-one", call(4, "eth_chainId")).json()
    assert a["id"] == 4 and a["error"]["code"] == UPSTREAM_CODE
    assert "no well-formed answer" in a["error"]["message"]


def test_an_upstream_that_answers_no_json_gives_each_call_an_error(front):
    res = post(front, "/not-json", [call(1, "eth_chainId"), call(2, "hardhat_mine")])
    assert res.status_code == 200  # a batch: web3.py and ethers would hide its errors on a 502
    a = res.json()
    assert [x["id"] for x in a] == [1, 2]
    assert a[0]["error"]["code"] == UPSTREAM_CODE and "does not answer" in a[0]["error"]["message"]
    assert a[1]["error"]["code"] == REFUSED_CODE
    res = post(front, "/not-json", call(3, "eth_chainId"))
    assert res.status_code == 502 and res.json()["id"] == 3


def test_refusals_alone_reach_no_upstream(front, upstream):
    before = len(upstream.received)
    a = post(
        front, "/ok", [call(1, "evm_mine"), call(2, "eth_sendRawTransaction", "0x")], token=False
    ).json()
    assert [x["error"]["code"] for x in a] == [REFUSED_CODE, NO_TOKEN_CODE]
    assert len(upstream.received) == before


def _established_to(port: int) -> int:
    """How many TCP sockets this process holds ESTABLISHED to 127.0.0.1:``port`` (/proc)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table) as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            remote_port = int(f[2].rsplit(":", 1)[1], 16)
            if f[3] == "01" and remote_port == port and f[9] in inodes:  # 01: ESTABLISHED
                count += 1
    return count


def test_a_stopped_front_leaves_no_connection_to_its_upstream():
    upstream = StandInRpc()  # its own, so that the module's front does not count
    try:
        f = LanFront("chain", upstream.url, host="127.0.0.1", token="t", rules=Rules.JSONRPC)
        with f:
            for i in range(3):
                assert post(f, "/ok", call(i, "eth_chainId")).json()["id"] == i
            # the forwarding client keeps its connection alive meanwhile (what could leak)
            assert _established_to(upstream.port) >= 1
        assert _established_to(upstream.port) == 0
    finally:
        upstream.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_chain_that_is_down_a_batch_still_gets_its_answers():
    down = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    with LanFront("chain", down, host="127.0.0.1", token="t", rules=Rules.JSONRPC) as f:
        batch = [call(1, "eth_chainId"), call(2, "evm_mine"), call(3, "eth_sendRawTransaction")]
        res = post(f, "", batch, token=False)
        # 200: web3.py and ethers raise on a non-2xx status, hiding the per-call answers
        assert res.status_code == 200
        a = res.json()
        assert [x["id"] for x in a] == [1, 2, 3]
        assert a[0]["error"]["code"] == UPSTREAM_CODE
        assert "does not answer" in a[0]["error"]["message"]
        assert a[1]["error"]["code"] == REFUSED_CODE and a[2]["error"]["code"] == NO_TOKEN_CODE
        res = post(f, "", call(4, "eth_chainId"))  # one call: the HTTP status says it too
        assert res.status_code == 502
        assert res.json()["id"] == 4 and res.json()["error"]["code"] == UPSTREAM_CODE


@pytest.fixture(scope="module")
def ipfs_front(upstream):
    f = LanFront("ipfs", upstream.url, host="127.0.0.1", token="tok", rules=Rules.IPFS).start()
    yield f
    f.stop()


@pytest.mark.parametrize("path", ["/debug/pprof/heap", "/debug/metrics/prometheus", "/webui"])
def test_a_kubo_daemons_other_pages_need_the_token(ipfs_front, upstream, path):
    before = len(upstream.received)
    res = requests.get(ipfs_front.url + path, timeout=10)
    assert res.status_code == 401 and "token" in res.json()["message"]
    assert len(upstream.received) == before  # not forwarded
    res = requests.get(ipfs_front.joined_url + path, timeout=10)
    assert res.status_code == 200 and res.text == f"GET {path}"
    res = requests.get(ipfs_front.url + "/ipfs/bafy/a.png", timeout=10)  # the gateway: open
    assert res.status_code == 200 and res.text == "GET /ipfs/bafy/a.png"
    assert lan_policy.needs_token(Rules.IPFS, "GET", path)


def _front_and_app(upstream_url: str, rules=Rules.WRITES):
    front = LanFront("market", upstream_url, host="127.0.0.1", token="tok", rules=rules)
    return front, front.http_app()  # the ASGI app alone, driven by the test (no server)


def test_a_request_after_the_shutdown_is_answered_503_and_not_forwarded(upstream):
    import httpx

    async def run():
        answers = []
        for rules, method, body in (
            (Rules.WRITES, "GET", None),
            (Rules.JSONRPC, "POST", json.dumps(call(1, "eth_chainId"))),
        ):
            front, app = _front_and_app(upstream.url, rules)
            async with app.router.lifespan_context(app):  # the startup, then the shutdown
                pass
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://front") as c:
                answers.append(await c.request(method, "/t/tok/after", content=body))
        return answers

    before = len(upstream.received)
    page, rpc = asyncio.run(run())
    assert page.status_code == 503 and "not serving" in page.json()["message"]
    assert rpc.status_code == 503 and rpc.json()["id"] == 1
    assert rpc.json()["error"]["code"] == UPSTREAM_CODE
    assert "not serving" in rpc.json()["error"]["message"]
    assert len(upstream.received) == before  # no client was made to forward them


@pytest.mark.parametrize("spec", ["2.3", "2.4"])
def test_a_caller_that_leaves_before_the_answer_streams_gives_the_connection_back(spec):
    """The caller is gone before the body streams. Under ASGI 2.3 (uvicorn's h11) the app
    hears an http.disconnect while its first send waits (a caller that reads nothing: its
    socket's buffer full), and Starlette cancels the streaming there; under ASGI 2.4 the first
    send raises OSError. Either way the body is never started, and the upstream's answer must
    be closed all the same."""
    upstream = StandInRpc()  # its own, so that the module's fronts do not count
    try:
        front, app = _front_and_app(upstream.url)
        sent: list = []
        received = iter([{"type": "http.request", "body": b"", "more_body": False}])

        async def receive():
            return next(received, {"type": "http.disconnect"})

        async def send(message):
            if spec == "2.4":
                raise OSError("the caller is gone")
            sent.append(message["type"])
            await asyncio.sleep(30)  # a full socket buffer: cancelled on the http.disconnect

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": spec},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/big",
            "raw_path": b"/big",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"front")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }

        async def run():
            async with app.router.lifespan_context(app):
                try:
                    await app(scope, receive, send)
                except Exception as exc:  # under 2.4, Starlette's ClientDisconnect
                    assert spec == "2.4", exc
                # still serving: a connection not given back would be held until the shutdown
                return _established_to(upstream.port)

        held = asyncio.run(run())
        assert upstream.received[-1] == ("/big", None)  # it was forwarded, then left
        assert sent == ([] if spec == "2.4" else ["http.response.start"])  # no body sent
        assert held == 0
    finally:
        upstream.stop()
