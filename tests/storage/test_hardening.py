"""Security review findings: `get` never deletes the destination, the RPC API accepts only its
own origin (plus configured ones), block/get and block/stat resolve /ipfs/ paths."""

from __future__ import annotations

import pytest
import requests
from typer.testing import CliRunner

from iexec_kit.errors import IexecKitError
from iexec_kit.storage.cids import cid_of_block
from iexec_kit.storage.dagpb import DataType, PBLink, PBNode, UnixfsData
from iexec_kit.storage.errors import PathEscapeError, StorageError
from iexec_kit.storage.unixfs import Importer

runner = CliRunner()


@pytest.fixture
def daemon(tmp_path):
    from iexec_kit.storage.daemon import IpfsDaemon

    with IpfsDaemon(tmp_path / "repo") as d:
        yield d


@pytest.fixture(params=["node", "kubo"])
def backend(request, daemon):
    """The embedded node, and the Kubo client over the kit's own daemon (same repo)."""
    if request.param == "node":
        return daemon.node
    from iexec_kit.storage.kubo import KuboClient

    return KuboClient(daemon.api_url)


def _folder(tmp_path, name="res"):
    src = tmp_path / name
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"alpha")
    (src / "sub" / "b.txt").write_bytes(b"beta")
    return src


def _victim(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "precious.txt").write_bytes(b"mine")
    return folder


def _evil_directory(node, names) -> str:
    """A directory block whose entries carry the given (hostile) names."""
    child = Importer(node.blocks).add_bytes(b"owned")
    links = tuple(PBLink(bytes(child.cid), n, child.tsize) for n in names)
    block = PBNode(links, UnixfsData(DataType.DIRECTORY).encode()).encode()
    cid = cid_of_block(block)
    node.blocks.put(cid, block)
    return str(cid)


# --- 1. get never deletes the destination -----------------------------------------------------


def test_get_into_an_existing_folder_goes_inside_it(backend, daemon, tmp_path):
    cid = daemon.node.add_path(_folder(tmp_path))
    docs = _victim(tmp_path / "Documents")
    out = backend.get(cid, docs)
    assert out == docs / cid
    assert (docs / "precious.txt").read_bytes() == b"mine"
    assert (docs / cid / "sub" / "b.txt").read_bytes() == b"beta"
    assert sorted(p.name for p in docs.iterdir()) == sorted([cid, "precious.txt"])


def test_get_a_path_into_a_folder_uses_its_last_segment(backend, daemon, tmp_path):
    cid = daemon.node.add_path(_folder(tmp_path))
    docs = _victim(tmp_path / "Documents")
    out = backend.get(f"/ipfs/{cid}/sub", docs)
    assert out == docs / "sub"
    assert (docs / "sub" / "b.txt").read_bytes() == b"beta"
    assert (docs / "precious.txt").read_bytes() == b"mine"


def test_existing_child_is_refused_unless_force(backend, daemon, tmp_path):
    cid = daemon.node.add_bytes(b"new content")
    docs = _victim(tmp_path / "Documents")
    (docs / cid).mkdir()
    (docs / cid / "old.txt").write_bytes(b"old")
    with pytest.raises(FileExistsError):
        backend.get(cid, docs)
    assert (docs / cid / "old.txt").read_bytes() == b"old"
    out = backend.get(cid, docs, force=True)
    assert out == docs / cid and out.read_bytes() == b"new content"
    assert (docs / "precious.txt").read_bytes() == b"mine"  # only the child was replaced
    assert sorted(p.name for p in docs.iterdir()) == sorted([cid, "precious.txt"])


def test_existing_file_is_refused_unless_force(backend, daemon, tmp_path):
    cid = daemon.node.add_bytes(b"new content")
    target = tmp_path / "notes.txt"
    target.write_bytes(b"mine")
    with pytest.raises(FileExistsError):
        backend.get(cid, target)
    assert target.read_bytes() == b"mine"
    assert backend.get(cid, target, force=True).read_bytes() == b"new content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "repo"]


def test_get_dot_keeps_the_current_folder(backend, daemon, tmp_path, monkeypatch):
    cid = daemon.node.add_path(_folder(tmp_path))
    here = _victim(tmp_path / "here")
    monkeypatch.chdir(here)
    out = backend.get(cid, ".")
    assert (here / "precious.txt").read_bytes() == b"mine"
    assert (here / cid / "a.txt").read_bytes() == b"alpha"
    assert out.resolve() == (here / cid).resolve()


@pytest.mark.parametrize("bad", ["..", ".", "a/b", "/etc/passwd"])
def test_hostile_entry_names_refuse_the_whole_get(backend, daemon, tmp_path, bad):
    cid = _evil_directory(daemon.node, ["fine.txt", bad])
    box = _victim(tmp_path / "box")
    with pytest.raises(IexecKitError):
        backend.get(cid, box / "out")
    assert sorted(p.name for p in box.iterdir()) == ["precious.txt"]  # nothing written


def test_dotdot_path_never_empties_the_parent(backend, daemon, tmp_path):
    cid = _evil_directory(daemon.node, [".."])
    parent = _victim(tmp_path / "parent")
    child = _victim(parent / "child")
    for dest in (child / "..", parent, child):
        with pytest.raises(IexecKitError):
            backend.get(f"/ipfs/{cid}/..", dest, force=True)
    assert (parent / "precious.txt").read_bytes() == b"mine"
    assert (child / "precious.txt").read_bytes() == b"mine"
    assert sorted(p.name for p in parent.iterdir()) == ["child", "precious.txt"]


def test_a_failed_get_leaves_nothing_half_written(daemon, tmp_path):
    from iexec_kit.storage.cids import parse_cid

    node = daemon.node
    cid = node.add_bytes(bytes(range(256)) * 4000)
    last = parse_cid(PBNode.decode(node.block_get(cid)).links[-1].hash)
    node.blocks.path(last).unlink()
    docs = _victim(tmp_path / "Documents")
    with pytest.raises(StorageError):
        node.get(cid, docs)
    assert sorted(p.name for p in docs.iterdir()) == ["precious.txt"]


def test_cli_get_force_and_one_line_errors(tmp_path, monkeypatch):
    from iexec_kit.cli.ipfs import app

    repo = str(tmp_path / "repo")
    src = _folder(tmp_path)
    cid = runner.invoke(app, ["add", "-q", "--repo", repo, str(src)]).output.strip()
    docs = _victim(tmp_path / "Documents")
    res = runner.invoke(app, ["get", "--repo", repo, cid, "-o", str(docs)])
    assert res.exit_code == 0, res.output
    assert (docs / "precious.txt").read_bytes() == b"mine"
    assert (docs / cid / "a.txt").read_bytes() == b"alpha"
    res = runner.invoke(app, ["get", "--repo", repo, cid, "-o", str(docs)])
    assert res.exit_code == 1
    assert res.output.startswith("error: ") and "Traceback" not in res.output
    assert "--force" in res.output
    res = runner.invoke(app, ["get", "--repo", repo, cid, "-o", str(docs), "--force"])
    assert res.exit_code == 0, res.output
    assert (docs / "precious.txt").read_bytes() == b"mine"
    monkeypatch.chdir(docs)  # the default destination is ./<cid>, refused when it exists
    res = runner.invoke(app, ["get", "--repo", repo, cid])
    assert res.exit_code == 1 and "Traceback" not in res.output
    res = runner.invoke(app, ["get", "--repo", repo, f"{cid}/sub"])
    assert res.exit_code == 0, res.output
    assert (docs / "sub" / "b.txt").read_bytes() == b"beta"


def test_cli_get_dotdot_entry_exits_1_and_keeps_the_parent(tmp_path, monkeypatch):
    from iexec_kit.cli.ipfs import app
    from iexec_kit.storage.node import IpfsNode

    repo = tmp_path / "repo"
    cid = _evil_directory(IpfsNode(repo), [".."])
    parent = _victim(tmp_path / "parent")
    here = _victim(parent / "here")
    monkeypatch.chdir(here)
    for extra in ([], ["-o", "."], ["-o", ".."], ["--force"]):
        res = runner.invoke(app, ["get", "--repo", str(repo), f"/ipfs/{cid}/..", *extra])
        assert res.exit_code == 1, res.output
        assert "Traceback" not in res.output and res.output.startswith("error: ")
    assert sorted(p.name for p in parent.iterdir()) == ["here", "precious.txt"]
    assert sorted(p.name for p in here.iterdir()) == ["precious.txt"]


# --- 2. the RPC API accepts its own origin only (plus configured ones) ------------------------


def _version(url, origin=None):
    headers = {"Origin": origin} if origin else {}
    return requests.post(f"{url}/api/v0/version", headers=headers, timeout=10).status_code


def test_own_origin_ok_other_local_ports_refused(daemon):
    port = daemon.api_server.port
    url = daemon.api_url
    assert _version(url) == 200  # curl, ipfshttpclient: no Origin
    assert _version(url, f"http://127.0.0.1:{port}") == 200
    assert _version(url, f"http://localhost:{port}") == 200
    other = port + 1 if port < 65535 else port - 1
    for origin in (
        f"http://127.0.0.1:{other}",
        f"http://localhost:{other}",
        "http://127.0.0.1:8888",
        "http://localhost",
        f"https://127.0.0.1:{port}",
        "http://[::1]:8080",
        "null",
        "https://evil.example",
    ):
        assert _version(url, origin) == 403, origin
    res = requests.post(
        f"{url}/api/v0/pin/add",
        params={"arg": daemon.node.add_bytes(b"x", pin=False)},
        headers={"Origin": "http://localhost:8000"},
        timeout=10,
    )
    assert res.status_code == 403 and res.json()["Type"] == "error"


def test_configured_origins_are_accepted(tmp_path, monkeypatch):
    from iexec_kit.storage.daemon import IpfsDaemon

    with IpfsDaemon(tmp_path / "a", allowed_origins=["http://localhost:8888"]) as d:
        assert _version(d.api_url, "http://localhost:8888") == 200
        assert _version(d.api_url, "http://localhost:8889") == 403
        assert _version(d.api_url, f"http://127.0.0.1:{d.api_server.port}") == 200
    monkeypatch.setenv("IEXEC_KIT_IPFS_ALLOWED_ORIGINS", "http://127.0.0.1:3000, http://x.test")
    with IpfsDaemon(tmp_path / "b") as d:
        assert _version(d.api_url, "http://127.0.0.1:3000") == 200
        assert _version(d.api_url, "http://x.test") == 200
        assert _version(d.api_url, "http://127.0.0.1:3001") == 403


# --- 3. block/get and block/stat resolve paths ------------------------------------------------


def test_block_calls_resolve_paths(backend, daemon, tmp_path):
    root = daemon.node.add_path(_folder(tmp_path))
    leaf = str(daemon.node.resolve(f"/ipfs/{root}/a.txt"))
    assert backend.block_get(f"/ipfs/{root}/a.txt") == backend.block_get(leaf)
    assert backend.block_get(f"/ipfs/{root}/a.txt") != backend.block_get(root)
    stat = backend.block_stat(f"/ipfs/{root}/sub/b.txt")
    assert stat["Key"] == str(daemon.node.resolve(f"/ipfs/{root}/sub/b.txt"))


def test_block_paths_over_http(daemon, tmp_path):
    root = daemon.node.add_path(_folder(tmp_path))
    leaf = daemon.node.resolve(f"/ipfs/{root}/a.txt")
    url = daemon.api_url + "/api/v0/block/"
    res = requests.post(url + "get", params={"arg": f"/ipfs/{root}/a.txt"}, timeout=10)
    assert res.status_code == 200 and res.content == daemon.node.blocks.get(leaf)
    res = requests.post(url + "stat", params={"arg": f"/ipfs/{root}/a.txt"}, timeout=10)
    assert res.status_code == 200 and res.json()["Key"] == str(leaf)
    for bad in (f"/ipfs/{root}/nope", f"/ipfs/{root}/a.txt/deeper"):
        for call in ("get", "stat"):
            res = requests.post(url + call, params={"arg": bad}, timeout=10)
            assert 400 <= res.status_code < 500, (call, bad, res.status_code)
            body = res.json()
            assert body["Type"] == "error" and body["Message"], body


def test_path_escape_error_is_a_kit_error():
    assert issubclass(PathEscapeError, IexecKitError)


def test_configured_origin_gets_cors_headers_others_none(tmp_path):
    from iexec_kit.storage.daemon import IpfsDaemon

    origin = "http://localhost:8888"
    with IpfsDaemon(tmp_path / "a", allowed_origins=[origin]) as d:
        url = f"{d.api_url}/api/v0/version"
        pre = requests.options(
            url,
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            timeout=10,
        )
        assert pre.status_code == 200
        assert pre.headers["Access-Control-Allow-Origin"] == origin
        res = requests.post(url, headers={"Origin": origin}, timeout=10)
        assert res.headers["Access-Control-Allow-Origin"] == origin
        evil = requests.options(url, headers={"Origin": "http://localhost:9999"}, timeout=10)
        assert evil.status_code == 403 and "Access-Control-Allow-Origin" not in evil.headers


def test_rpc_get_of_a_dotdot_path_is_refused(daemon):
    cid = _evil_directory(daemon.node, [".."])
    res = requests.post(
        f"{daemon.api_url}/api/v0/get", params={"arg": f"/ipfs/{cid}/.."}, timeout=10
    )
    assert res.status_code == 400 and res.json()["Type"] == "error"
