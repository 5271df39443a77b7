"""Resource exhaustion findings of the security review, each attack reproduced: DAG walks that
blow up on repeated links (and hold the event loop), `get` spooling a huge tar to disk, IPFS
inputs read whole before the size check, silent partial adds, and the proxy's unbounded
buffers, challenges, file modes and header timeouts. Servers listen on 127.0.0.1 only and stop
at the end of each test."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
import tracemalloc

import pytest
import requests

from iexec_kit.storage.cids import RAW, cid_of_block
from iexec_kit.storage.dagpb import DataType, PBLink, PBNode, UnixfsData


@pytest.fixture
def daemon(tmp_path):
    from iexec_kit.storage.daemon import IpfsDaemon

    with IpfsDaemon(tmp_path / "repo") as d:
        yield d


def _repeated(node, child, child_size: int, child_block_len: int, fanout: int, *, lie=None):
    """A file node linking ``child`` ``fanout`` times (Tsize = the child's block length, so
    check_complete only stats it). Returns (cid, filesize, block length)."""
    size = child_size * fanout
    data = UnixfsData(DataType.FILE, None, size if lie is None else lie, (child_size,) * fanout)
    links = tuple(PBLink(bytes(child), "", child_block_len) for _ in range(fanout))
    block = PBNode(links, data.encode()).encode()
    cid = cid_of_block(block)
    node.blocks.put(cid, block)
    return cid, size, len(block)


def _tower(node, levels: int, fanout: int, leaf: bytes = b"x" * 16, *, lie=None):
    """``levels`` file nodes over one raw leaf, each linking the one below ``fanout`` times:
    levels + 1 blocks for a DAG of fanout**levels paths."""
    cid = cid_of_block(leaf, codec=RAW, version=1)
    node.blocks.put(cid, leaf)
    size, blen = len(leaf), len(leaf)
    for i in range(levels):
        cid, size, blen = _repeated(
            node, cid, size, blen, fanout, lie=lie if i == levels - 1 else None
        )
    return cid, size


# -- 1. DAG walks ----------------------------------------------------------------------------


def test_pin_ls_of_repeated_links_is_quick_and_leaves_the_server_responsive(daemon):
    node = daemon.node
    root, _ = _tower(node, 4, 42)  # 5 blocks (4 of ~2 KB), 42**4 paths
    assert len(node.blocks.get(root)) > 1500
    node._pin(str(root), "recursive")
    answer: dict = {}

    def pin_ls():
        t = time.monotonic()
        res = requests.post(f"{daemon.api_url}/api/v0/pin/ls", timeout=30)
        answer.update(res=res, seconds=time.monotonic() - t)

    worker = threading.Thread(target=pin_ls, daemon=True)
    worker.start()
    time.sleep(0.1)
    t = time.monotonic()
    version = requests.post(f"{daemon.api_url}/api/v0/version", timeout=3)
    assert version.status_code == 200 and time.monotonic() - t < 2
    worker.join(30)
    assert answer["seconds"] < 3, answer
    keys = answer["res"].json()["Keys"]
    assert len(keys) == 5 and keys[str(root)]["Type"] == "recursive"


def test_check_complete_and_gc_visit_each_block_once(tmp_path):
    from iexec_kit.storage.node import IpfsNode

    node = IpfsNode(tmp_path / "repo")
    root, _ = _tower(node, 4, 42)  # 42**4 = 3.1 M paths over 5 blocks
    t = time.monotonic()
    node.pin_add(root)  # check_complete
    assert node.gc() == 0
    assert len(node.pin_ls("all")) == 5
    assert time.monotonic() - t < 3


def test_a_walk_past_its_budget_is_a_clear_error(daemon, monkeypatch):
    from iexec_kit.storage import unixfs

    monkeypatch.setattr(unixfs, "WALK_MAX_BLOCKS", 5, raising=False)
    cid = daemon.node.add_bytes(os.urandom(2_000_000))  # 8 leaves + 1 root
    res = requests.post(f"{daemon.api_url}/api/v0/pin/ls", timeout=30)
    assert res.status_code == 400 and res.json()["Type"] == "error"
    assert "too large or too slow" in res.json()["Message"]
    monkeypatch.setattr(unixfs, "WALK_MAX_BLOCKS", 1000)
    assert cid in requests.post(f"{daemon.api_url}/api/v0/pin/ls", timeout=30).json()["Keys"]


def test_a_budget_has_a_time_bound_too():
    from iexec_kit.storage.errors import DagBudgetError
    from iexec_kit.storage.unixfs import Budget

    budget = Budget(blocks=10**9, seconds=0)
    with pytest.raises(DagBudgetError, match="too large or too slow"):
        for _ in range(1000):
            budget.spend()


def test_a_folder_linking_itself_over_and_over_is_refused_before_any_byte(daemon, monkeypatch):
    from iexec_kit.storage import unixfs

    monkeypatch.setattr(unixfs, "WALK_MAX_BLOCKS", 10_000, raising=False)
    node = daemon.node
    child = node.blocks
    leaf = b"owned"
    cid = cid_of_block(leaf, codec=RAW, version=1)
    child.put(cid, leaf)
    for _ in range(3):  # 3 folders of 40 names each linking the one below: 64,000 entries
        links = tuple(PBLink(bytes(cid), f"e{i:02}", 10) for i in range(40))
        block = PBNode(links, UnixfsData(DataType.DIRECTORY).encode()).encode()
        cid = cid_of_block(block)
        child.put(cid, block)
    res = requests.post(f"{daemon.api_url}/api/v0/get", params={"arg": str(cid)}, timeout=30)
    assert res.status_code == 400 and "too large or too slow" in res.json()["Message"]


# -- 2. get streams --------------------------------------------------------------------------


class _Counting:
    """A blockstore that counts its reads."""

    def __init__(self, inner):
        self.inner, self.reads = inner, 0

    def get(self, cid):
        self.reads += 1
        return self.inner.get(cid)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_get_streams_the_tar_without_disk_and_stops_when_the_client_leaves(daemon, monkeypatch):
    import tempfile

    def no_disk(*a, **k):
        raise AssertionError("get must not spool to a temporary file")

    node = daemon.node
    root, size = _tower(node, 2, 64, leaf=os.urandom(256 * 1024))  # 3 blocks, 1 GiB declared
    assert size == 1 << 30
    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, no_disk)
    counting = _Counting(node.blocks)
    monkeypatch.setattr(node.reader, "store", counting)
    t = time.monotonic()
    res = requests.post(
        f"{daemon.api_url}/api/v0/get", params={"arg": str(root)}, stream=True, timeout=10
    )
    assert res.status_code == 200, res.text[:200]
    head = b""
    for chunk in res.iter_content(1 << 16):
        head += chunk
        if len(head) >= 4 << 20:
            break
    first_seconds = time.monotonic() - t
    res.close()
    import tarfile

    info = tarfile.TarInfo.frombuf(head[:512], "utf-8", "surrogateescape")
    assert info.size == size or info.type == tarfile.XHDTYPE
    assert first_seconds < 3
    before, stable = counting.reads, 0
    for _ in range(40):  # the server stops reading once the client is gone
        time.sleep(0.1)
        stable = stable + 1 if counting.reads == before else 0
        before = counting.reads
        if stable >= 5:
            break
    assert stable >= 5 and counting.reads < 1000  # far from the 4,096 leaf reads of 1 GiB


def test_get_tar_is_what_tarfile_reads(daemon, tmp_path):
    import io
    import tarfile

    src = tmp_path / "res"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"alpha" * 1000)
    (src / "sub" / "b.bin").write_bytes(os.urandom(700_000))
    (src / "empty").write_bytes(b"")
    cid = daemon.node.add_path(src)
    res = requests.post(f"{daemon.api_url}/api/v0/get", params={"arg": cid}, timeout=30)
    assert res.status_code == 200 and len(res.content) % 10240 == 0
    with tarfile.open(fileobj=io.BytesIO(res.content)) as tar:
        names = {m.name: m for m in tar.getmembers()}
        assert set(names) == {cid, f"{cid}/a.txt", f"{cid}/sub", f"{cid}/sub/b.bin", f"{cid}/empty"}
        assert names[f"{cid}/sub"].isdir()
        assert tar.extractfile(f"{cid}/sub/b.bin").read() == (src / "sub" / "b.bin").read_bytes()
        assert tar.extractfile(f"{cid}/empty").read() == b""


# -- 3. ipfs:// inputs -----------------------------------------------------------------------


def _fetch_peak(tmp_path, source, ipfs_cat, limit):
    from iexec_kit.compute.errors import InputTooLargeError
    from iexec_kit.compute.fetch import fetch_inputs

    tracemalloc.start()
    try:
        with pytest.raises(InputTooLargeError) as caught:
            fetch_inputs([source], tmp_path / "in", ipfs_cat=ipfs_cat, max_bytes=limit)
        return tracemalloc.get_traced_memory()[1], str(caught.value)
    finally:
        tracemalloc.stop()


def test_an_ipfs_input_over_the_limit_is_refused_by_its_declared_size(tmp_path):
    from iexec_kit.storage.node import IpfsNode

    node = IpfsNode(tmp_path / "repo")
    root, size = _tower(node, 2, 8, leaf=os.urandom(256 * 1024))  # 16 MiB declared
    peak, message = _fetch_peak(tmp_path, f"ipfs://{root}", node.cat, 1 << 20)
    assert peak < 2 << 20, f"peak {peak} B"
    assert "declared" in message


def test_an_ipfs_input_that_lies_about_its_size_is_cut_as_bytes_arrive(tmp_path):
    from iexec_kit.storage.node import IpfsNode

    node = IpfsNode(tmp_path / "repo")
    root, _ = _tower(node, 2, 8, leaf=os.urandom(256 * 1024), lie=100)  # says 100 B, is 16 MiB
    assert node.size(root) == 100
    peak, message = _fetch_peak(tmp_path, f"/ipfs/{root}", node.cat, 1 << 20)
    assert peak < 4 << 20, f"peak {peak} B"
    assert "received" in message


def test_an_ipfs_input_through_a_kubo_client_is_checked_by_its_declared_size(daemon, tmp_path):
    from iexec_kit.storage.kubo import KuboClient

    root, _ = _tower(daemon.node, 2, 8, leaf=os.urandom(256 * 1024))
    client = KuboClient(daemon.api_url)
    assert client.size(str(root)) == 16 << 20
    peak, message = _fetch_peak(tmp_path, f"ipfs://{root}", client.cat, 1 << 20)
    assert peak < 2 << 20 and "declared" in message


# -- 4. malformed or conflicting adds --------------------------------------------------------

BOUNDARY = "kitboundary"


def _part(filename: str, body: bytes = b"", ctype: str = "application/octet-stream") -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
        ).encode()
        + body
        + b"\r\n"
    )


def _add(daemon, body: bytes):
    return requests.post(
        f"{daemon.api_url}/api/v0/add",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        timeout=30,
    )


def _refused_whole(daemon, res):
    assert res.status_code == 400, res.text
    assert res.json()["Type"] == "error" and "nothing was added" in res.json()["Message"]
    assert daemon.node.pin_ls("all") == {}


def test_an_add_without_its_closing_boundary_is_refused_whole(daemon):
    body = _part("a.txt", b"alpha") + _part("b.txt", b"beta")[:-10]  # cut mid-part
    _refused_whole(daemon, _add(daemon, body))
    complete = _part("a.txt", b"alpha") + f"--{BOUNDARY}--\r\n".encode()
    assert _add(daemon, complete).status_code == 200


@pytest.mark.parametrize(
    "parts",
    [
        [("d", b"", "application/x-directory"), ("d/x.txt", b"x", None), ("d", b"f", None)],
        [("d", b"f", None), ("d/x.txt", b"x", None)],
        [("a.txt", b"one", None), ("a.txt", b"two", None)],
        [("d/x.txt", b"x", None), ("d", b"", "application/x-directory"), ("d", b"f", None)],
    ],
    ids=["file-over-folder", "folder-under-file", "same-file-twice", "file-after-dir-part"],
)
def test_an_add_with_conflicting_names_is_refused_whole(daemon, parts):
    body = (
        b"".join(_part(n, b, c or "application/octet-stream") for n, b, c in parts)
        + f"--{BOUNDARY}--\r\n".encode()
    )
    _refused_whole(daemon, _add(daemon, body))


# -- 5. the result proxy and the servers -----------------------------------------------------


@pytest.fixture
def proxy(tmp_path):
    from iexec_kit.storage.oracle import StaticTaskOracle
    from iexec_kit.storage.proxy import ResultProxy

    with ResultProxy(StaticTaskOracle(), None, tmp_path / "proxy", chain_id=65535) as p:
        yield p


def _raw_request(url: str, head: bytes, wait: float = 3.0) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(head)
        try:
            return sock.recv(4096)
        except TimeoutError:
            return b""


def test_an_upload_without_a_token_is_refused_before_its_body(proxy):
    head = (
        f"POST /v1/results/0x{'7a' * 32} HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/zip\r\nContent-Length: 50000000\r\n\r\n"
    ).encode()
    answer = _raw_request(proxy.url, head)  # no body byte is ever sent
    assert answer.startswith(b"HTTP/1.1 401"), answer[:80]


def test_outstanding_challenges_are_bounded():
    from iexec_kit.storage.auth import Authenticator

    auth = Authenticator(1)
    for _ in range(3100):
        auth.issue_challenge(1)
    assert len(auth._live) <= 1024


def test_the_newest_challenges_still_log_in_after_a_flood():
    from eth_account import Account

    from iexec_kit.storage.auth import Authenticator, sign_challenge

    auth = Authenticator(1, max_challenges=8)
    key = "0x" + "11" * 32
    first = auth.issue_challenge(1)
    for _ in range(20):
        last = auth.issue_challenge(1)
    assert len(auth._live) == 8
    assert auth.verify(auth.login(sign_challenge(last, key))).address == (
        Account.from_key(key).address
    )
    from iexec_kit.storage.errors import ProxyAuthError

    with pytest.raises(ProxyAuthError):  # the oldest was dropped
        auth.login(sign_challenge(first, key))


def test_private_results_are_stored_for_the_owner_only(tmp_path):
    import json

    from eth_account import Account

    from iexec_kit.protocol.results import result_hash
    from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
    from iexec_kit.storage.auth import sign_challenge
    from iexec_kit.storage.oracle import ContributionView, StaticTaskOracle, TaskView
    from iexec_kit.storage.proxy import ResultProxy, sign_upload
    from iexec_kit.storage.results import result_digest, zip_result

    task, requester, worker = "0x" + "7a" * 32, "0x" + "11" * 32, "0x" + "33" * 32
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.txt").write_bytes(b"secret")
    (out / "computed.json").write_text(
        json.dumps({"deterministic-output-path": "/iexec_out/r.txt"})
    )
    archive, rhash = zip_result(out), result_hash(task, result_digest(out))
    who = Account.from_key(requester).address
    oracle = StaticTaskOracle()
    oracle.set_task(TaskView(task, TaskStatus.REVEALING, who, who, storage_provider="dropbox"))
    oracle.set_contribution(
        task, Account.from_key(worker).address, ContributionView(ContributionStatus.PROVED, rhash)
    )
    folder = tmp_path / "proxy"
    (folder / "private").mkdir(parents=True, mode=0o755)
    os.chmod(folder / "private", 0o755)  # an older kit made it world-readable
    proxy = ResultProxy(oracle, None, folder, chain_id=1)
    token = proxy.auth.login(sign_challenge(proxy.auth.issue_challenge(1), requester))
    receipt = proxy.accept_upload(
        token,
        task,
        Account.from_key(worker).address,
        sign_upload(task, archive, worker),
        archive,
    )
    assert receipt.storage == "dropbox"
    stored = folder / "private" / f"{task}.zip"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "private").stat().st_mode) == 0o700
    assert proxy.fetch(token, task) == archive


def test_a_client_trickling_its_headers_is_cut(monkeypatch):
    from fastapi import FastAPI

    from iexec_kit.storage import server

    monkeypatch.setattr(server, "HEADER_TIMEOUT", 1.0, raising=False)
    with server.BackgroundServer(FastAPI()) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            sock.settimeout(0.05)
            started, closed = time.monotonic(), False
            while time.monotonic() - started < 4 and not closed:
                try:
                    sock.sendall(b"X")  # one header byte every 0.25 s, never the blank line
                    closed = sock.recv(1) == b""
                except TimeoutError:
                    pass
                except OSError:
                    closed = True
                time.sleep(0.2)
            assert closed and time.monotonic() - started < 3


def test_a_slow_request_that_completes_its_head_in_time_is_served(monkeypatch):
    from fastapi import FastAPI

    from iexec_kit.storage import server

    app = FastAPI()

    @app.get("/slow")
    def slow():
        time.sleep(1.5)  # longer than the head deadline: the answer must still come
        return {"ok": True}

    monkeypatch.setattr(server, "HEADER_TIMEOUT", 1.0, raising=False)
    with server.BackgroundServer(app) as srv:
        session = requests.Session()
        assert session.get(srv.url + "/slow", timeout=5).json() == {"ok": True}
        assert session.get(srv.url + "/slow", timeout=5).json() == {"ok": True}  # keep-alive
