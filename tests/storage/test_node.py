"""The embedded node: reads verify blocks, nothing half-written is served, paths stay inside."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iexec_kit.storage.blockstore import MemoryBlockstore
from iexec_kit.storage.cids import cid_of_block, parse_cid
from iexec_kit.storage.dagpb import DataType, PBLink, PBNode, UnixfsData
from iexec_kit.storage.errors import (
    BlockNotFoundError,
    CorruptBlockError,
    InvalidCidError,
    PathEscapeError,
    UnixfsError,
)
from iexec_kit.storage.unixfs import Importer, Reader, safe_join

DATA = random.Random(3).randbytes(3 * 256 * 1024 + 99)


def test_corrupted_block_on_disk_is_an_error_never_bad_data(node):
    cid = node.add_bytes(DATA)
    leaf = parse_cid(PBNode.decode(node.block_get(cid)).links[1].hash)
    path = node.blocks.path(leaf)
    raw = bytearray(path.read_bytes())
    raw[100] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptBlockError) as info:
        node.cat(cid)
    assert "corrupted" in str(info.value)
    assert node.cat(cid, 0, 1000) == DATA[:1000]  # blocks before the damage still read
    with pytest.raises(CorruptBlockError):
        node.cat(cid, 256 * 1024, 10)


def test_missing_block_fails_before_the_first_byte(node, tmp_path):
    cid = node.add_bytes(DATA)
    last = parse_cid(PBNode.decode(node.block_get(cid)).links[-1].hash)
    node.blocks.path(last).unlink()
    with pytest.raises(BlockNotFoundError):
        node.read(cid)  # raises on the call, not after streaming the first blocks
    with pytest.raises(BlockNotFoundError):
        node.get(cid, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


def _evil_directory(node, name: str) -> str:
    child = Importer(node.blocks).add_bytes(b"owned")
    block = PBNode(
        (PBLink(bytes(child.cid), name, child.tsize),), UnixfsData(DataType.DIRECTORY).encode()
    ).encode()
    cid = cid_of_block(block)
    node.blocks.put(cid, block)
    return str(cid)


@pytest.mark.parametrize("name", ["..", "../escape", "/etc/passwd", "a/../../b", "."])
def test_get_refuses_entries_that_escape(node, tmp_path, name):
    cid = _evil_directory(node, name)
    dest = tmp_path / "box" / "out"
    with pytest.raises(PathEscapeError):
        node.get(cid, dest)
    assert not dest.exists()
    assert not (tmp_path / "escape").exists() and not (tmp_path / "box" / "escape").exists()


@pytest.mark.parametrize("rel", ["../x", "/abs", "a/../../x", "C:evil"])
def test_safe_join_refuses(tmp_path, rel):
    with pytest.raises(PathEscapeError):
        safe_join(tmp_path, rel)


def test_safe_join_keeps_inside(tmp_path):
    assert safe_join(tmp_path, "a/b/../c") == (tmp_path / "a" / "c").resolve()


def test_pins_survive_a_restart(tmp_path):
    from iexec_kit.storage.node import IpfsNode

    first = IpfsNode(tmp_path / "repo")
    cid = first.add_bytes(b"pinned")
    peer = first.peer_id
    again = IpfsNode(tmp_path / "repo")
    assert again.pin_ls() == {cid: "recursive"}
    assert again.peer_id == peer and peer.startswith("12D3KooW")
    assert again.cat(cid) == b"pinned"


def test_indirect_pins_list_every_block(node):
    cid = node.add_bytes(DATA)
    everything = node.pin_ls("all")
    assert everything[cid] == "recursive"
    assert sum(1 for kind in everything.values() if kind == "indirect") == 4


def test_pin_rm_of_unpinned_is_an_error(node):
    cid = node.add_bytes(b"x", pin=False)
    with pytest.raises(UnixfsError):
        node.pin_rm(cid)


def test_cat_of_a_directory_says_so(node, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"1")
    cid = node.add_path(tmp_path / "d")
    with pytest.raises(UnixfsError, match="not a file"):
        node.cat(cid)
    assert node.cat(f"/ipfs/{cid}/f") == b"1"
    with pytest.raises(UnixfsError, match="No entry"):
        node.cat(f"{cid}/missing")


def test_hidden_files_skipped_unless_asked(node, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / ".secret").write_bytes(b"s")
    (tmp_path / "d" / "seen").write_bytes(b"v")
    plain = node.ls(node.add_path(tmp_path / "d"))
    assert [e.name for e in plain] == ["seen"]
    full = node.ls(node.add_path(tmp_path / "d", hidden=True))
    assert [e.name for e in full] == [".secret", "seen"]


@pytest.mark.parametrize("bad", [b"\x0a\x05\x08", b"\x0b", b"\x12\x02\x0a\x00", b"\xff" * 11])
def test_malformed_dag_pb_is_refused(bad):
    with pytest.raises(UnixfsError):
        UnixfsData.decode(PBNode.decode(bad).data or b"")


def test_parse_cid_refuses_unsupported_kinds():
    with pytest.raises(InvalidCidError, match="sha2-256"):
        parse_cid("bafkr4ihkr4ld3m4gqkjf4reryxsy2s5tkbxprqkow6fin2iiyvreuzzab4")  # blake3
    with pytest.raises(InvalidCidError, match="dag-pb and raw"):
        parse_cid("bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy")  # dag-cbor


@settings(max_examples=40, deadline=None)
@given(
    data=st.binary(max_size=3000),
    chunk=st.integers(1, 64),
    links=st.integers(2, 6),
    offset=st.integers(0, 3100),
    length=st.one_of(st.none(), st.integers(0, 3100)),
    version=st.sampled_from([0, 1]),
)
def test_any_slice_reads_back(data, chunk, links, offset, length, version):
    store = MemoryBlockstore()
    added = Importer(store, chunk_size=chunk, max_links=links, cid_version=version).add_bytes(data)
    reader = Reader(store)
    assert reader.size(added.cid) == len(data) == added.filesize
    end = None if length is None else offset + length
    assert reader.cat(added.cid, offset, length) == data[offset:end]


@settings(max_examples=60, deadline=None)
@given(
    links=st.lists(
        st.tuples(st.binary(min_size=1, max_size=40), st.text(max_size=10), st.integers(0, 2**63)),
        max_size=5,
    ),
    data=st.one_of(st.none(), st.binary(max_size=50)),
)
def test_dag_pb_round_trip(links, data):
    node = PBNode(tuple(PBLink(*link) for link in links), data)
    assert PBNode.decode(node.encode()) == node


@settings(max_examples=100, deadline=None)
@given(
    block=st.binary(max_size=100),
    codec=st.sampled_from(["dag-pb", "raw"]),
    version=st.sampled_from([0, 1]),
)
def test_fast_cids_agree_with_multiformats(block, codec, version):
    from multiformats import CID

    if version == 0:
        codec = "dag-pb"
    ours = cid_of_block(block, codec=codec, version=version)
    theirs = CID.decode(str(ours))
    assert bytes(theirs) == bytes(ours) and theirs.version == version
    assert theirs.codec.name == ours.codec and theirs.raw_digest == ours.digest
    assert str(theirs) == str(ours) and parse_cid(str(ours)) == ours
    assert str(theirs.set(version=1, base="base32")) == str(ours.to_v1())


def test_directories_kubo_would_shard_are_refused():
    from iexec_kit.storage.unixfs import Added

    imp = Importer(MemoryBlockstore())
    child = imp.add_bytes(b"x")
    entries = {f"{i:05d}-" + "n" * 60: Added(child.cid, child.tsize, 1) for i in range(2700)}
    assert imp.add_directory_entries(dict(list(entries.items())[:2000])).is_dir
    with pytest.raises(UnixfsError, match="HAMT"):
        imp.add_directory_entries(entries)


def test_gc_keeps_pinned_dags_and_removes_the_rest(node):
    kept = node.add_bytes(DATA)
    dropped = node.add_bytes(random.Random(8).randbytes(600_000))
    node.pin_rm(dropped)
    assert node.gc() == 4  # the dropped file's root and its 3 leaves
    assert node.cat(kept) == DATA
    with pytest.raises(BlockNotFoundError):
        node.cat(dropped)
    assert node.gc() == 0


def test_every_path_spelling_reaches_the_same_file(node, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "in.png").write_bytes(b"png")
    cid = node.add_path(tmp_path / "d")
    for spelling in (
        f"/ipfs/{cid}/in.png",
        f"ipfs://{cid}/in.png",
        f"{cid}/in.png",
        f"{parse_cid(cid).to_v1()}/in.png",
    ):
        assert node.cat(spelling) == b"png"


def test_two_processes_pinning_in_one_repo_lose_nothing(tmp_path):
    import subprocess
    import sys

    script = (
        "import sys; from iexec_kit.storage.node import IpfsNode\n"
        "n = IpfsNode(sys.argv[1])\n"
        "for i in range(40): n.add_bytes(f'{sys.argv[2]}-{i}'.encode())\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "repo"), tag])
        for tag in ("a", "b")
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    from iexec_kit.storage.node import IpfsNode

    assert len(IpfsNode(tmp_path / "repo").pin_ls()) == 80
