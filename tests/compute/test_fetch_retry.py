"""An unreachable input source is waited for (FetchRetry), every other failure is final: real
local HTTP servers that refuse then serve, real ports closed then opened, the kit's own IPFS
gateway and API stopped then started (iexec_kit.compute.fetch.unreachable_reason is the rule)."""

from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest
import requests

from iexec_kit.compute import FetchRetry, InputFetchError, InputUnreachableError, fetch_inputs
from iexec_kit.compute.fetch import unreachable_reason
from iexec_kit.errors import KitValueError

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
QUICK = {"patience": 10.0, "first": 0.05, "longest": 0.2}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scripted(http.server.ThreadingHTTPServer):
    """Answers its requests from a script, one entry per request (the last one repeats):
    an HTTP status (200 serves PNG), "html" (200, a page), "cut" (part of the body, then the
    connection closes) or "hang" (no answer for 2 s). ``hits`` counts the requests."""

    daemon_threads = True

    def __init__(self, script, port: int = 0):
        self.script, self.hits = list(script), 0
        super().__init__(("127.0.0.1", port), _Handler)
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        srv = self.server
        step = srv.script[min(srv.hits, len(srv.script) - 1)]
        srv.hits += 1
        if step == "hang":
            time.sleep(2.0)
            return
        if step == "cut":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG[:20])
            self.wfile.flush()
            self.close_connection = True
            return
        body = PNG if step == 200 else b"<html>not a picture</html>"
        step = 200 if step == "html" else step
        self.send_response(step)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture
def serve():
    started = []

    def start(*script, port: int = 0):
        srv = Scripted(script, port)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.close()


def test_a_gateway_that_answers_503_then_502_then_serves_is_retried(serve, tmp_path):
    srv = serve(503, 502, 200)
    lines: list[str] = []
    got = fetch_inputs(
        [f"{srv.url}/ipfs/QmX/pic.png"], tmp_path, retry=FetchRetry(**QUICK, log=lines.append)
    )
    assert got[0].path.read_bytes() == PNG and srv.hits == 3
    host = srv.url.removeprefix("http://")
    assert lines == [
        f"the IPFS gateway at {host} is unreachable (HTTP 503 Service Unavailable), "
        "retrying in 0.05 s (attempt 2)",
        f"the IPFS gateway at {host} is unreachable (HTTP 502 Bad Gateway), "
        "retrying in 0.1 s (attempt 3)",
    ]


def test_a_closed_port_that_opens_is_retried(serve, tmp_path):
    port = free_port()
    lines: list[str] = []
    opener = threading.Timer(0.6, lambda: serve(200, port=port))
    opener.start()
    try:
        started = time.monotonic()
        got = fetch_inputs(
            [f"http://127.0.0.1:{port}/pic.png"],
            tmp_path,
            retry=FetchRetry(**QUICK, log=lines.append),
        )
    finally:
        opener.join()
    assert got[0].path.read_bytes() == PNG
    assert 0.6 <= time.monotonic() - started < 5
    assert len(lines) >= 3
    assert all(
        f"the server at 127.0.0.1:{port} is unreachable (connection refused)" in x for x in lines
    )
    assert lines[2].endswith("retrying in 0.2 s (attempt 4)")  # 0.05, 0.1, 0.2, then 0.2


def test_a_download_cut_midway_is_tried_again(serve, tmp_path):
    srv = serve("cut", 200)
    lines: list[str] = []
    got = fetch_inputs(
        [f"{srv.url}/pic.png"], tmp_path, retry=FetchRetry(**QUICK, log=lines.append)
    )
    assert got[0].path.read_bytes() == PNG and srv.hits == 2
    assert len(lines) == 1 and "connection lost" in lines[0]


def test_after_the_patience_the_error_says_what_was_tried_for_how_long_and_what_to_do(tmp_path):
    port = free_port()
    lines: list[str] = []
    started = time.monotonic()
    retry = FetchRetry(patience=0.6, first=0.1, longest=0.2, log=lines.append)
    with pytest.raises(InputUnreachableError) as e:
        fetch_inputs([f"http://127.0.0.1:{port}/ipfs/QmX/a.png"], tmp_path, retry=retry)
    took = time.monotonic() - started
    assert 0.6 <= took < 3
    text = str(e.value)
    tries = len(lines) + 1
    assert tries >= 4
    assert f"the IPFS gateway at 127.0.0.1:{port} stayed unreachable; tried {tries} times" in text
    assert "answering within 0.6 s" in text and "the last try: connection refused" in text
    assert "--fetch-patience" in text and "what to do:" in text
    assert isinstance(e.value, InputFetchError)  # the worker's compute fails as before


def test_without_a_retry_an_unreachable_source_fails_at_once(tmp_path):
    port = free_port()
    started = time.monotonic()
    with pytest.raises(InputUnreachableError, match=f"127.0.0.1:{port} is unreachable") as e:
        fetch_inputs([f"http://127.0.0.1:{port}/pic.png"], tmp_path)
    assert time.monotonic() - started < 2
    assert e.value.reason == "connection refused" and "what to do:" in str(e.value)


@pytest.mark.parametrize(
    ("script", "path", "options", "words"),
    [
        ((404,), "/pic.png", {}, "HTTP 404"),
        ((500,), "/pic.png", {}, "HTTP 500"),
        ((200,), "/pic.png", {"max_bytes": 10}, "too large"),
        (("html",), "/page.html", {"require_image": True}, "not a PNG or JPEG"),
        (("hang",), "/pic.png", {"timeout": 0.3}, "ReadTimeout"),
    ],
)
def test_permanent_failures_are_not_retried(serve, tmp_path, script, path, options, words):
    srv = serve(*script)
    lines: list[str] = []
    started = time.monotonic()
    with pytest.raises(InputFetchError, match=words) as e:
        fetch_inputs(
            [srv.url + path], tmp_path, retry=FetchRetry(**QUICK, log=lines.append), **options
        )
    assert not isinstance(e.value, InputUnreachableError)
    assert lines == [] and srv.hits == 1 and time.monotonic() - started < 1.5


def test_a_local_path_a_bad_url_and_a_bad_ipfs_content_fail_at_once(tmp_path):
    from iexec_kit.compute.errors import LocalInputRefusedError

    retry = FetchRetry(**QUICK, log=lambda line: pytest.fail(f"retried: {line}"))
    with pytest.raises(LocalInputRefusedError):
        fetch_inputs([str(tmp_path / "x.png")], tmp_path / "a", retry=retry)
    with pytest.raises(InputFetchError, match="unsupported input URL"):
        fetch_inputs(["ftp://127.0.0.1/x.png"], tmp_path / "b", retry=retry, allow_local=True)
    calls = []

    def cat(path):
        calls.append(path)
        return b"GIF89a not a png"

    with pytest.raises(InputFetchError, match="not a PNG or JPEG"):
        fetch_inputs(["/ipfs/QmX"], tmp_path / "c", retry=retry, ipfs_cat=cat, require_image=True)
    assert calls == ["QmX"]


def test_a_stopping_worker_gives_up_at_once(tmp_path):
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    with pytest.raises(InputUnreachableError, match="then the worker stopped"):
        fetch_inputs(
            [f"http://127.0.0.1:{free_port()}/pic.png"],
            tmp_path,
            retry=FetchRetry(patience=60, wait=stop.wait),
        )
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("through", ["gateway", "api"])
def test_the_kits_ipfs_stopped_then_started_is_waited_for(tmp_path, through):
    """The kit's IPFS node behind its HTTP API and gateway, on a port that opens 0.6 s later;
    read through a worker process's storage (the gateway) or a Kubo client (the API)."""
    from iexec_kit.storage.daemon import IpfsDaemon
    from iexec_kit.storage.kubo import KuboClient
    from iexec_kit.storage.node import IpfsNode
    from iexec_kit.storage.remote import RemoteStorage

    port = free_port()
    daemon = IpfsDaemon(tmp_path / "ipfs", api=f"127.0.0.1:{port}")
    cid = str(daemon.node.add_bytes(PNG))
    absent = str(IpfsNode(tmp_path / "other").add_bytes(b"never added to the daemon"))
    url = f"http://127.0.0.1:{port}"
    if through == "gateway":
        dead = "http://127.0.0.1:1"
        cat = RemoteStorage(proxy_url=dead, sms_url=dead, ipfs_gateway=url, chain_id=1).ipfs_cat
    else:
        cat = KuboClient(url, timeout=5).cat
    lines: list[str] = []
    opener = threading.Timer(0.6, daemon.start)
    opener.start()
    try:
        got = fetch_inputs(
            [f"/ipfs/{cid}"],
            tmp_path / "in",
            ipfs_cat=cat,
            retry=FetchRetry(**QUICK, log=lines.append),
        )
        assert got[0].path.read_bytes() == PNG
        assert len(lines) >= 3 and all(x.startswith("IPFS is unreachable (") for x in lines)
        assert "connection refused" in lines[0]
        lines.clear()
        with pytest.raises(InputFetchError) as e:  # content the node does not hold: at once
            fetch_inputs(
                [f"/ipfs/{absent}"],
                tmp_path / "in2",
                ipfs_cat=cat,
                retry=FetchRetry(**QUICK, log=lines.append),
            )
        assert not isinstance(e.value, InputUnreachableError) and lines == []
    finally:
        opener.join()
        daemon.stop()


def test_the_rule_on_real_errors(serve):
    """unreachable_reason reads the whole chain: a kit error raised from a requests error counts
    as that error."""
    from iexec_kit.compute.errors import InputTooLargeError
    from iexec_kit.storage.errors import KuboApiError

    port = free_port()
    try:
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    except requests.RequestException as exc:
        refused = exc
    assert unreachable_reason(refused) == "connection refused"
    try:
        raise KuboApiError("IPFS API unreachable") from refused
    except KuboApiError as exc:
        assert unreachable_reason(exc) == "connection refused"
    assert unreachable_reason(KuboApiError("HTTP 500: boom")) is None  # a ConnectionError too
    srv = serve(503, 404)
    for want in ("HTTP 503 Service Unavailable", None):
        res = requests.get(srv.url, timeout=2)
        try:
            res.raise_for_status()
        except requests.HTTPError as exc:
            assert unreachable_reason(exc) == want
    assert unreachable_reason(InputTooLargeError("big")) is None
    assert unreachable_reason(KeyError("QmX")) is None
    try:
        requests.get("http://no-such-host.invalid/", timeout=2)
    except requests.RequestException as exc:
        assert unreachable_reason(exc) is None  # a bad host name: another try says the same


def test_the_patience_is_bounded_and_checked():
    retry = FetchRetry(patience=60)
    assert retry.within(12.5).patience == 12.5 and retry.within(600).patience == 60
    assert retry.within(-3).patience == 0  # the deadline passed: one try, no wait
    for bad in ({"patience": -1}, {"first": 0}, {"first": 6, "longest": 5}):
        with pytest.raises(KitValueError, match="patience >= 0 and 0 < first <= longest"):
            FetchRetry(**bad)
