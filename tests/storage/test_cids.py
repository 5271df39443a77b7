"""Every CID the kit computes equals the independent implementations' (computed at test time)."""

from __future__ import annotations

import random

import pytest

from iexec_kit.storage.blockstore import NullBlockstore
from iexec_kit.storage.unixfs import CHUNK_SIZE, MAX_LINKS, Importer

EDGE_SIZES = {
    "0 B": 0,
    "1 B": 1,
    "256 KiB - 1": CHUNK_SIZE - 1,
    "256 KiB": CHUNK_SIZE,
    "256 KiB + 1": CHUNK_SIZE + 1,
    "174 chunks": MAX_LINKS * CHUNK_SIZE,
    "174 chunks + 1": MAX_LINKS * CHUNK_SIZE + 1,
    "30 MB": 30_000_000,
}


def _write(tmp_path, size: int, seed: int = 7):
    data = random.Random(seed + size).randbytes(size)
    path = tmp_path / f"f{size}"
    path.write_bytes(data)
    return path, data


@pytest.mark.parametrize("size", EDGE_SIZES.values(), ids=EDGE_SIZES.keys())
def test_cidv0_matches_ipfs_cid_and_ipfs_only_hash(tmp_path, size, ipfs_cid, js_hash_of):
    path, data = _write(tmp_path, size)
    ours = str(Importer(NullBlockstore()).add_bytes(data).cid)
    assert ours == ipfs_cid(path)["CIDv0"]
    assert ours == js_hash_of(path, 0)


@pytest.mark.parametrize("size", EDGE_SIZES.values(), ids=EDGE_SIZES.keys())
def test_cidv1_raw_leaves_matches_ipfs_only_hash(tmp_path, size, js_hash_of):
    path, data = _write(tmp_path, size)
    ours = str(Importer(NullBlockstore(), cid_version=1).add_bytes(data).cid)
    assert ours == js_hash_of(path, 1)


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE + 1])
def test_ipfs_cid_v1_is_the_v0_dag_reencoded(tmp_path, size, ipfs_cid):
    """Debian's CIDv1 keeps UnixFS leaves (not Kubo's raw-leaves v1): same dag, other encoding."""
    path, data = _write(tmp_path, size)
    v0 = Importer(NullBlockstore()).add_bytes(data).cid
    assert str(v0.to_v1()) == ipfs_cid(path)["CIDv1"]


def test_directories_match_ipfs_unixfs_importer(tmp_path, js_cids, node):
    root = tmp_path / "out"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    files = {
        "a.txt": b"a\n",
        "b.bin": random.Random(1).randbytes(CHUNK_SIZE * 3 + 5),
        "sub/z": b"",
        "sub/deeper/e\u00e9.txt": b"utf-8 names",
        "computed.json": b'{"deterministic-output-path": "/iexec_out/a.txt"}',
    }
    for rel, data in files.items():
        (root / rel).write_bytes(data)
    entries = [{"path": f"out/{rel}", "file": str(root / rel)} for rel in files]
    entries.append({"path": "out/empty"})
    ours: dict[str, str] = {}
    for version in (0, 1):
        opts = {"cidVersion": 1, "rawLeaves": True} if version else {}
        theirs = js_cids(entries, opts)
        ours.clear()
        cid = node.add_path(
            root,
            cid_version=version,
            only_hash=True,
            on_added=lambda rel, added: ours.__setitem__(rel, str(added.cid)),
        )
        assert cid == theirs["out"]
        for path, their_cid in theirs.items():
            assert ours[path] == their_cid, path


@pytest.mark.parametrize("chunk,links", [(16, 2), (7, 3), (32, 4)])
def test_balanced_layout_deep_trees_match(tmp_path, js_cids, chunk, links):
    """Tiny chunks and fan-outs build 3-5 level trees, where layout bugs would show."""
    sizes = [
        0,
        1,
        chunk,
        chunk * links,
        chunk * links + 1,
        chunk * links**2,
        chunk * links**2 + 1,
        chunk * links**3 + chunk // 2,
        999,
    ]
    entries, ours = [], {}
    for size in sizes:
        path, data = _write(tmp_path, size, seed=chunk)
        entries.append({"path": f"f{size}", "file": str(path)})
        imp = Importer(NullBlockstore(), chunk_size=chunk, max_links=links)
        ours[f"f{size}"] = str(imp.add_bytes(data).cid)
    theirs = js_cids(
        entries,
        {
            "maxChunkSize": chunk,
            "minChunkSize": chunk,
            "avgChunkSize": chunk,
            "maxChildrenPerNode": links,
        },
    )
    assert ours == theirs
