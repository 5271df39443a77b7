"""The kit's daemon over real HTTP: ipfshttpclient adds and cats through it, the gateway serves
results to a browser, bad input gets a clear 4xx at once."""

from __future__ import annotations

import random
import time
import warnings

import pytest
import requests

from iexec_kit.storage.cids import parse_cid
from iexec_kit.storage.dagpb import PBNode

pytestmark = pytest.mark.filterwarnings("ignore:The .strict. parameter:FutureWarning")

PNG = b"\x89PNG\r\n\x1a\n" + random.Random(5).randbytes(300_000)


@pytest.fixture
def daemon(tmp_path):
    from iexec_kit.storage.daemon import IpfsDaemon

    with IpfsDaemon(tmp_path / "repo") as d:
        yield d
    assert not d.api_server.running


@pytest.fixture
def client(daemon):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ipfshttpclient
    # Client(addr), not connect(): connect() refuses any daemon outside [0.4.23, 0.8.0).
    return ipfshttpclient.Client(daemon.api_multiaddr)


def test_ipfshttpclient_adds_and_cats(client, ipfs_cid, tmp_path):
    path = tmp_path / "cartoon.png"
    path.write_bytes(PNG)
    added = client.add(str(path))
    assert added["Hash"] == ipfs_cid(path)["CIDv0"]
    assert added["Name"] == "cartoon.png"
    assert client.cat(added["Hash"]) == PNG
    assert client.cat(added["Hash"], offset=10, length=20) == PNG[10:30]
    assert client.add_bytes(b"hello") == ipfs_cid(_write(tmp_path / "h", b"hello"))["CIDv0"]


def _write(path, data):
    path.write_bytes(data)
    return path


def test_ipfshttpclient_folders_get_and_pins(client, tmp_path, js_cids):
    src = tmp_path / "iexec_out"
    (src / "sub").mkdir(parents=True)
    (src / "computed.json").write_bytes(b'{"deterministic-output-path": "/iexec_out/c.png"}')
    (src / "sub" / "c.png").write_bytes(PNG)
    added = client.add(str(src), recursive=True)
    root = next(a for a in added if a["Name"] == "iexec_out")
    theirs = js_cids(
        [
            {"path": "iexec_out/computed.json", "file": str(src / "computed.json")},
            {"path": "iexec_out/sub/c.png", "file": str(src / "sub" / "c.png")},
        ]
    )
    assert root["Hash"] == theirs["iexec_out"]
    assert root["Hash"] in client.pin.ls(type="recursive")["Keys"]
    client.get(root["Hash"], target=str(tmp_path / "dl"))
    assert (tmp_path / "dl" / root["Hash"] / "sub" / "c.png").read_bytes() == PNG
    names = [link["Name"] for link in client.ls(root["Hash"])["Objects"][0]["Links"]]
    assert names == ["computed.json", "sub"]
    client.pin.rm(root["Hash"])
    assert root["Hash"] not in client.pin.ls(type="recursive")["Keys"]


def test_version_is_the_kits_own(client):
    assert client.version()["Version"].endswith("-iexec-kit")
    assert client.id()["ID"].startswith("12D3KooW")


def test_gateway_serves_files_with_content_type_and_ranges(daemon, client, tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "cartoon.png").write_bytes(PNG)
    (folder / "notes.txt").write_bytes(b"plain text")
    root = next(a for a in client.add(str(folder), recursive=True) if a["Name"] == "site")["Hash"]
    url = f"{daemon.gateway_url}/ipfs/{root}"
    res = requests.get(f"{url}/cartoon.png", timeout=10)
    assert res.status_code == 200 and res.headers["content-type"] == "image/png"
    assert res.content == PNG and res.headers["etag"].strip('"')
    png_cid = client.add_bytes(PNG)
    res = requests.get(f"{daemon.gateway_url}/ipfs/{png_cid}", timeout=10)  # sniffed by magic
    assert res.headers["content-type"] == "image/png"
    res = requests.get(f"{url}/cartoon.png", headers={"Range": "bytes=100-199"}, timeout=10)
    assert res.status_code == 206 and res.content == PNG[100:200]
    assert res.headers["content-range"] == f"bytes 100-199/{len(PNG)}"
    res = requests.head(f"{url}/notes.txt", timeout=10)
    assert res.status_code == 200 and res.headers["content-length"] == "10"
    listing = requests.get(f"{url}/", timeout=10)
    assert "cartoon.png" in listing.text and listing.headers["content-type"].startswith("text/html")
    res = requests.get(f"{url}/cartoon.png", headers={"Range": f"bytes={len(PNG)}-"}, timeout=10)
    assert res.status_code == 416


def test_gateway_serves_index_html(daemon, client, tmp_path):
    site = tmp_path / "www"
    site.mkdir()
    (site / "index.html").write_bytes(b"<h1>result</h1>")
    root = next(a for a in client.add(str(site), recursive=True) if a["Name"] == "www")["Hash"]
    res = requests.get(f"{daemon.gateway_url}/ipfs/{root}/", timeout=10)
    assert res.text == "<h1>result</h1>" and res.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "path,status",
    [
        ("/api/v0/cat?arg=QmNotACid", 400),
        ("/api/v0/cat?arg=/ipfs/bafy", 400),
        ("/api/v0/cat", 400),
        ("/api/v0/cat?arg=QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaY", 404),
        ("/api/v0/block/get?arg=QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaY", 404),
        ("/api/v0/pin/add?arg=QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaY", 404),
    ],
)
def test_bad_cids_get_a_clear_4xx_at_once(daemon, path, status):
    started = time.monotonic()
    res = requests.post(daemon.api_url + path, timeout=10)
    assert res.status_code == status
    assert res.json()["Type"] == "error" and res.json()["Message"]
    assert time.monotonic() - started < 2


def test_gateway_bad_cid_is_400(daemon):
    assert requests.get(f"{daemon.gateway_url}/ipfs/not-a-cid", timeout=10).status_code == 400


def test_rpc_is_post_only_and_refuses_foreign_origins(daemon):
    assert requests.get(daemon.api_url + "/api/v0/version", timeout=10).status_code == 405
    res = requests.post(
        daemon.api_url + "/api/v0/version", timeout=10, headers={"Origin": "https://evil.example"}
    )
    assert res.status_code == 403
    # Another local port is another origin (a page of any local web server): refused, as Kubo.
    other = requests.post(
        daemon.api_url + "/api/v0/version", timeout=10, headers={"Origin": "http://127.0.0.1:8888"}
    )
    assert other.status_code == 403
    ok = requests.post(
        daemon.api_url + "/api/v0/version", timeout=10, headers={"Origin": daemon.api_url}
    )
    assert ok.status_code == 200


def test_corrupted_block_is_never_served_as_complete(daemon):
    node = daemon.node
    data = random.Random(9).randbytes(3 * 256 * 1024)
    cid = node.add_bytes(data)
    leaf = parse_cid(PBNode.decode(node.block_get(cid)).links[2].hash)
    path = node.blocks.path(leaf)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    # the first blocks are fine, so the answer starts; the bad one cuts the stream, and the
    # client sees a body that ended early (never a "complete" corrupted file)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _ = requests.post(f"{daemon.api_url}/api/v0/cat?arg={cid}", timeout=10).content
    with pytest.raises(requests.exceptions.RequestException):
        _ = requests.get(f"{daemon.gateway_url}/ipfs/{cid}", timeout=10).content


def test_separate_gateway_port(tmp_path):
    from iexec_kit.storage.daemon import IpfsDaemon

    with IpfsDaemon(tmp_path / "r", gateway="127.0.0.1:0") as d:
        cid = d.node.add_bytes(b"gw")
        assert d.gateway_url != d.api_url
        assert requests.get(f"{d.gateway_url}/ipfs/{cid}", timeout=10).content == b"gw"
        assert requests.post(f"{d.gateway_url}/api/v0/version", timeout=10).status_code == 404


def test_servers_listen_on_loopback_only(tmp_path):
    from iexec_kit.storage.daemon import IpfsDaemon
    from iexec_kit.storage.errors import StorageError

    with pytest.raises(StorageError, match="loopback"):
        IpfsDaemon(tmp_path / "r", api="0.0.0.0:0").start()


def test_ipfshttpclient_options_match_the_independent_importer(client, tmp_path, js_cids):
    src = tmp_path / "out"
    src.mkdir()
    (src / "a.png").write_bytes(PNG)
    (src / "b.txt").write_bytes(b"b")
    entries = [
        {"path": "out/a.png", "file": str(src / "a.png")},
        {"path": "out/b.txt", "file": str(src / "b.txt")},
    ]
    # ipfshttpclient sends raw-leaves=false unless told otherwise; Kubo (and the kit) obey it
    for raw in (False, True):
        v1 = next(
            a
            for a in client.add(str(src), recursive=True, cid_version=1, raw_leaves=raw)
            if a["Name"] == "out"
        )["Hash"]
        assert v1 == js_cids(entries, {"cidVersion": 1, "rawLeaves": raw})["out"]
    wrapped = client.add(str(src / "a.png"), wrap_with_directory=True)
    theirs = js_cids([{"path": "a.png", "file": str(src / "a.png")}], {"wrapWithDirectory": True})
    assert wrapped[-1]["Name"] == "" and wrapped[-1]["Hash"] == theirs[""]
    only = client.add(str(src / "b.txt"), only_hash=True)["Hash"]
    assert only not in client.pin.ls(type="recursive")["Keys"]
    assert client.block.stat(v1)["Size"] == len(client.block.get(v1))


def test_get_of_a_directory_with_escaping_names_is_refused(daemon):
    from iexec_kit.storage.cids import cid_of_block
    from iexec_kit.storage.dagpb import DataType, PBLink, PBNode, UnixfsData

    node = daemon.node
    child = parse_cid(node.add_bytes(b"owned", pin=False))
    block = PBNode(
        (PBLink(bytes(child), "../../etc/cron.d/x", 13),), UnixfsData(DataType.DIRECTORY).encode()
    ).encode()
    evil = cid_of_block(block)
    node.blocks.put(evil, block)
    res = requests.post(f"{daemon.api_url}/api/v0/get?arg={evil}", timeout=10)
    assert res.status_code == 400 and "name is not allowed" in res.json()["Message"]


@pytest.mark.parametrize("query", ["offset=-1", "offset=x", "length=abc", "length=-5"])
def test_bad_cat_arguments_are_400_before_any_byte(daemon, query):
    cid = daemon.node.add_bytes(b"hello")
    res = requests.post(f"{daemon.api_url}/api/v0/cat?arg={cid}&{query}", timeout=10)
    assert res.status_code == 400 and res.json()["Type"] == "error"


@pytest.mark.parametrize(
    "query",
    [
        "cid-version=abc",
        "cid-version=2",
        "cid-version=-1",
        "hash=blake3",
        "chunker=rabin",
        "trickle=true",
    ],
)
def test_bad_add_options_are_400(daemon, query):
    res = requests.post(
        f"{daemon.api_url}/api/v0/add?{query}",
        timeout=10,
        files={"file": ("f", b"data", "application/octet-stream")},
    )
    assert res.status_code == 400 and res.json()["Message"]


def test_add_without_a_file_part_is_400(daemon):
    res = requests.post(
        f"{daemon.api_url}/api/v0/add",
        data=b"--x\r\n",
        timeout=10,
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert res.status_code == 400
    assert requests.post(f"{daemon.api_url}/api/v0/add", data=b"raw", timeout=10).status_code == 400


def test_gateway_pages_cannot_drive_the_api(daemon):
    """A result page runs in an opaque origin: its calls to the RPC API carry Origin 'null'."""
    cid = daemon.node.add_bytes(b"<script>fetch('/api/v0/pin/rm?arg=x',{method:'POST'})</script>")
    res = requests.get(f"{daemon.gateway_url}/ipfs/{cid}?filename=page.html", timeout=10)
    assert res.headers["content-type"].startswith("text/html")
    assert res.headers["content-security-policy"].startswith("sandbox")
    assert res.headers["x-content-type-options"] == "nosniff"
    res = requests.post(f"{daemon.api_url}/api/v0/pin/ls", headers={"Origin": "null"}, timeout=10)
    assert res.status_code == 403


def test_gateway_download_names(daemon):
    cid = daemon.node.add_bytes(b"PK\x03\x04zipbytes")
    res = requests.get(
        f"{daemon.gateway_url}/ipfs/{cid}?filename=result%20%C3%A9.zip&download=true", timeout=10
    )
    assert res.headers["content-disposition"] == "attachment; filename*=UTF-8''result%20%C3%A9.zip"
    assert res.headers["content-type"] == "application/zip"


def test_openapi_spec_describes_the_rpc_arguments(daemon):
    spec = requests.get(f"{daemon.api_url}/openapi.json", timeout=10).json()
    cat = spec["paths"]["/api/v0/cat"]["post"]
    assert [p["name"] for p in cat["parameters"]] == ["arg", "offset", "length"]
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
