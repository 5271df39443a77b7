"""Input fetching: paths, file://, http(s) from a local server, IPFS through a given ipfs_cat."""

from __future__ import annotations

import http.server
import threading

import pytest

from iexec_kit.compute import InputFetchError, InputTooLargeError, fetch_inputs
from iexec_kit.compute.fetch import sniff

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A local http.server on 127.0.0.1 serving a folder."""
    root = tmp_path_factory.mktemp("www")
    (root / "pic.png").write_bytes(PNG)
    (root / "big.bin").write_bytes(b"x" * 5000)
    (root / "page.html").write_bytes(b"<html>not a picture</html>")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_paths_and_file_urls(tmp_path):
    src = tmp_path / "a b.png"
    src.write_bytes(PNG)
    got = fetch_inputs([src, f"file://{src}", str(src)], tmp_path / "in", allow_local=True)
    assert [g.path.name for g in got] == ["a_b.png", "a_b-2.png", "a_b-3.png"]
    assert all(g.path.read_bytes() == PNG and g.kind == "png" and g.size == len(PNG) for g in got)


def test_http(server, tmp_path):
    got = fetch_inputs([f"{server}/pic.png"], tmp_path, require_image=True)
    assert got[0].path.read_bytes() == PNG and got[0].path.name == "pic.png"


def test_http_404_says_so(server, tmp_path):
    with pytest.raises(InputFetchError, match="HTTP 404"):
        fetch_inputs([f"{server}/missing.png"], tmp_path)


def test_http_unreachable(tmp_path):
    with pytest.raises(InputFetchError, match="reachable"):
        fetch_inputs(["http://127.0.0.1:9/x.png"], tmp_path, timeout=2)


def test_size_limits(server, tmp_path):
    with pytest.raises(InputTooLargeError) as e:
        fetch_inputs([f"{server}/big.bin"], tmp_path, max_bytes=1000)
    assert isinstance(e.value, ValueError) and "at most 1000 bytes" in str(e.value)
    big = tmp_path / "big"
    big.write_bytes(b"y" * 2000)
    with pytest.raises(InputTooLargeError):
        fetch_inputs([big], tmp_path / "in", max_bytes=1000, allow_local=True)
    with pytest.raises(InputTooLargeError):
        fetch_inputs(
            ["ipfs://QmX"], tmp_path / "in2", max_bytes=1000, ipfs_cat=lambda p: b"z" * 2000
        )


def test_content_check(server, tmp_path):
    with pytest.raises(InputFetchError, match="not a PNG or JPEG") as e:
        fetch_inputs([f"{server}/page.html"], tmp_path, require_image=True)
    assert "html" in str(e.value)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(InputFetchError, match="empty"):
        fetch_inputs([empty], tmp_path / "in", allow_local=True)


def test_ipfs_through_the_given_cat(tmp_path):
    seen = []

    def cat(path):
        seen.append(path)
        return PNG

    got = fetch_inputs(
        ["ipfs://QmAbc", "/ipfs/QmDef/photo.png", "/ipfs/QmAbc"], tmp_path, ipfs_cat=cat
    )
    assert seen == ["QmAbc", "QmDef/photo.png", "QmAbc"]
    assert [g.path.name for g in got] == ["QmAbc", "photo.png", "QmAbc-2"]


def test_ipfs_without_a_cat_or_failing(tmp_path):
    with pytest.raises(InputFetchError, match="ipfs_cat"):
        fetch_inputs(["ipfs://QmAbc"], tmp_path)

    def broken(path):
        raise KeyError(path)

    with pytest.raises(InputFetchError, match="from IPFS"):
        fetch_inputs(["/ipfs/QmAbc"], tmp_path, ipfs_cat=broken)


def test_missing_and_unsupported(tmp_path):
    with pytest.raises(InputFetchError, match="not found"):
        fetch_inputs([tmp_path / "nope.png"], tmp_path / "in", allow_local=True)
    with pytest.raises(InputFetchError, match="unsupported input URL"):
        fetch_inputs(["ftp://example.org/x.png"], tmp_path / "in")


def test_local_inputs_are_refused_unless_allowed(tmp_path, server):
    """The default policy is a worker's: a path or file:// input is refused before anything is
    fetched or read (even the remote inputs named before it)."""
    from iexec_kit.compute.errors import LocalInputRefusedError

    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    secret.chmod(0o600)
    for source in (f"file://{secret}", str(secret), secret, "relative/path.png", "~/x.png"):
        dest = tmp_path / "in"
        with pytest.raises(LocalInputRefusedError) as e:
            fetch_inputs([f"{server}/pic.png", source], dest)
        assert isinstance(e.value, InputFetchError)
        assert "local file" in str(e.value) and "nothing was read" in str(e.value)
        assert not dest.exists()  # nothing fetched, nothing created
    got = fetch_inputs(
        [f"{server}/pic.png", "/ipfs/QmAbc"], tmp_path / "ok", ipfs_cat=lambda p: PNG
    )
    assert [g.kind for g in got] == ["png", "png"]


def test_a_runner_refuses_local_inputs_when_told(tmp_path):
    """Runner(allow_local=False), or run(..., allow_local=False) as a worker calls it."""
    from pathlib import Path

    from iexec_kit.compute import ProcessRunner
    from iexec_kit.compute.errors import LocalInputRefusedError

    app = Path(__file__).resolve().parent / "toyapp"
    src = tmp_path / "in.png"
    src.write_bytes(PNG)
    with pytest.raises(LocalInputRefusedError):
        ProcessRunner(allow_local=False).run(app, [src], "ok", timeout=60)
    with pytest.raises(LocalInputRefusedError):
        ProcessRunner().run(app, [f"file://{src}"], "ok", timeout=60, allow_local=False)
    assert ProcessRunner().run(app, [src], "ok", timeout=60).ok  # your own runner, your files


def test_sniff():
    assert sniff(PNG) == "png" and sniff(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff(b"GIF89a") == "gif" and sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "webp"
    assert sniff(b"hello") == "unknown"


def test_ipfs_input_from_the_kits_own_node(tmp_path):
    """The kit's embedded IPFS node plugs in as ipfs_cat; the app then runs on the fetched file."""
    try:
        from iexec_kit.storage import IpfsNode
    except ImportError as exc:  # the storage layer is optional for this layer's tests
        pytest.skip(f"iexec_kit.storage is not available: {exc}")
    from pathlib import Path

    from iexec_kit.compute import ProcessRunner

    repo = Path(__file__).resolve().parents[2]
    node = IpfsNode()
    cid = str(node.add_bytes((repo / "data" / "chelsea.png").read_bytes()))
    got = fetch_inputs(
        [f"ipfs://{cid}", f"/ipfs/{cid}"], tmp_path / "in", ipfs_cat=node.cat, require_image=True
    )
    assert [g.kind for g in got] == ["png", "png"] and got[0].path.name == cid
    r = ProcessRunner(ipfs_cat=node.cat).run(
        repo / "apps" / "gimp-cartoon", [f"/ipfs/{cid}"], "--engine numpy", timeout=120
    )
    assert [p.name for p in r.deterministic_path.iterdir()] == [f"{cid}.png"]
