"""computed.json, the result digest, the deterministic zip and its safe extraction."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import time
import zipfile

import pytest
from Crypto.Hash import keccak as _keccak  # pycryptodome: an independent keccak for the checks

from iexec_kit.protocol.results import result_hash, result_seal
from iexec_kit.storage.blockstore import NullBlockstore
from iexec_kit.storage.errors import PathEscapeError, ResultError
from iexec_kit.storage.results import (
    digest_of_zip,
    read_computed,
    result_digest,
    unzip_result,
    zip_result,
)
from iexec_kit.storage.unixfs import Importer

TASK = "0x" + "ab" * 32
WORKER = "0x" + "12" * 20


def keccak(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


def make_out(root, computed: dict, files: dict[str, bytes]):
    root.mkdir(parents=True)
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "computed.json").write_text(json.dumps(computed))
    return root


def test_digest_of_a_file_is_its_sha256(tmp_path):
    out = make_out(
        tmp_path / "o",
        {"deterministic-output-path": "/iexec_out/result.txt"},
        {"result.txt": b"Processed 1 file(s)", "cartoon.png": b"\x89PNG..."},
    )
    assert result_digest(out) == "0x" + hashlib.sha256(b"Processed 1 file(s)").hexdigest()


def test_digest_of_a_folder_is_keccak_of_sorted_sha256s(tmp_path):
    files = {"imgs/b.png": b"bbb", "imgs/a.png": b"aa", "imgs/sub/c": b"c"}
    out = make_out(tmp_path / "o", {"deterministic-output-path": "/iexec_out/imgs"}, files)
    sub = keccak(hashlib.sha256(b"c").digest())
    expected = keccak(hashlib.sha256(b"aa").digest() + hashlib.sha256(b"bbb").digest() + sub)
    assert result_digest(out) == "0x" + expected.hex()


def test_digest_with_callback_data_is_keccak_of_its_bytes(tmp_path):
    out = make_out(tmp_path / "o", {"callback-data": "0x" + "00" * 31 + "2a"}, {})
    assert result_digest(out) == "0x" + keccak(bytes(31) + b"\x2a").hex()


def test_result_hash_and_seal_follow_poco():
    digest = "0x" + "cd" * 32
    assert result_hash(TASK, digest) == "0x" + keccak(bytes.fromhex("ab" * 32 + "cd" * 32)).hex()
    assert (
        result_seal(WORKER, TASK, digest)
        == "0x" + keccak(bytes.fromhex("12" * 20 + "ab" * 32 + "cd" * 32)).hex()
    )


@pytest.mark.parametrize(
    "content,match",
    [
        (None, "no computed.json"),
        ("not json", "not a JSON object"),
        ("[1, 2]", "not a JSON object"),
        ("{}", "neither"),
        ('{"callback-data": "12"}', "0x-prefixed hex"),
        ('{"callback-data": "0xzz"}', "0x-prefixed hex"),
    ],
)
def test_bad_computed_json_is_explained(tmp_path, content, match):
    tmp_path.joinpath("o").mkdir()
    if content is not None:
        (tmp_path / "o" / "computed.json").write_text(content)
    with pytest.raises(ResultError, match=match) as info:
        read_computed(tmp_path / "o")
    assert "what to do" in str(info.value)


@pytest.mark.parametrize(
    "det,error",
    [
        ("/iexec_out/missing.txt", ResultError),
        ("/etc/passwd", PathEscapeError),
        ("/iexec_out/../../etc/passwd", PathEscapeError),
    ],
)
def test_deterministic_path_must_exist_inside_the_output(tmp_path, det, error):
    out = make_out(tmp_path / "o", {"deterministic-output-path": det}, {"a": b"1"})
    with pytest.raises(error):
        result_digest(out)


def test_zip_is_deterministic_across_honest_workers(tmp_path):
    files = {
        "cartoon.png": os.urandom(5000),
        "result.txt": b"done",
        "logs/z.txt": b"z",
        "logs/a.txt": b"a",
        "\u00e9t\u00e9.txt": b"utf8",
    }
    computed = {"deterministic-output-path": "/iexec_out/cartoon.png"}
    first = make_out(tmp_path / "w1", computed, files)
    time.sleep(1.1)  # a different mtime, another creation order, other permissions
    second = tmp_path / "w2"
    second.mkdir()
    for rel in reversed(list(files)):
        (second / rel).parent.mkdir(parents=True, exist_ok=True)
        (second / rel).write_bytes(files[rel])
        os.chmod(second / rel, 0o600)
    (second / "computed.json").write_text(json.dumps(computed))
    a, b = zip_result(first), zip_result(second)
    assert a == b
    imp = Importer(NullBlockstore())
    assert imp.add_bytes(a).cid == imp.add_bytes(b).cid
    with zipfile.ZipFile(io.BytesIO(a)) as zf:
        names = zf.namelist()
        assert names == sorted(names, key=str.encode)
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
        assert zf.read("logs/a.txt") == b"a"


def test_zip_reads_with_the_unzip_tool(tmp_path):
    if shutil.which("unzip") is None:
        pytest.skip("the unzip command is missing (apt-get install unzip)")
    out = make_out(tmp_path / "o", {"deterministic-output-path": "/iexec_out/r"}, {"r": b"x"})
    zip_result(out, tmp_path / "r.zip")
    res = subprocess.run(["unzip", "-t", str(tmp_path / "r.zip")], capture_output=True, text=True)
    assert res.returncode == 0 and "No errors" in res.stdout


def test_zip_round_trip_keeps_the_digest(tmp_path):
    out = make_out(
        tmp_path / "o",
        {"deterministic-output-path": "/iexec_out/imgs"},
        {"imgs/a.png": b"a", "imgs/b.png": b"b"},
    )
    archive = zip_result(out)
    assert digest_of_zip(archive) == result_digest(out)
    back = unzip_result(archive, tmp_path / "back")
    assert (back / "imgs" / "b.png").read_bytes() == b"b"


def _zip_with(name: str, data: bytes = b"x", attr: int | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo(name)
        if attr is not None:
            info.external_attr = attr << 16
        zf.writestr(info, data)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt"])
def test_unzip_refuses_zip_slip(tmp_path, name):
    with pytest.raises(PathEscapeError):
        unzip_result(_zip_with(name), tmp_path / "box" / "out")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "box" / "evil.txt").exists()
    assert not (tmp_path / "box" / "out").exists()


def test_unzip_refuses_symlinks_and_bombs(tmp_path):
    with pytest.raises(PathEscapeError):
        unzip_result(_zip_with("link", b"/etc/passwd", 0o120777), tmp_path / "o1")
    with pytest.raises(ResultError, match="more bytes"):
        unzip_result(_zip_with("big", b"0" * 10_000), tmp_path / "o2", max_bytes=1000)
    with pytest.raises(ResultError, match="not a readable zip"):
        unzip_result(b"PK\x03\x04 garbage", tmp_path / "o3")
