"""The result digest, hash and seal (POCO.md), written once in iexec_kit.protocol.results."""

from __future__ import annotations

import hashlib

import pytest
from eth_utils import keccak

from iexec_kit.errors import KitValueError
from iexec_kit.protocol.results import (
    callback_digest,
    output_digest,
    output_relpath,
    path_digest,
    result_hash,
    result_seal,
)


def test_file_digest_is_sha256(tmp_path):
    f = tmp_path / "r.txt"
    f.write_bytes(b"hello")
    assert output_digest(f) == "0x" + hashlib.sha256(b"hello").hexdigest()


def test_folder_digest_is_keccak_of_sorted_sha256(tmp_path):
    for name, data in [("b.png", b"B"), ("a.png", b"A"), ("c.png", b"C")]:
        (tmp_path / name).write_bytes(data)
    expected = keccak(b"".join(hashlib.sha256(d).digest() for d in (b"A", b"B", b"C")))
    assert path_digest(tmp_path) == expected
    assert output_digest(tmp_path) == "0x" + expected.hex()


def test_nested_folder_counts_by_its_own_digest(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x").write_bytes(b"X")
    (tmp_path / "a").write_bytes(b"A")
    inner = keccak(hashlib.sha256(b"X").digest())
    assert path_digest(tmp_path) == keccak(hashlib.sha256(b"A").digest() + inner)


def test_callback_digest_is_keccak_of_the_bytes():
    assert callback_digest("0x01ff") == "0x" + keccak(b"\x01\xff").hex()


@pytest.mark.parametrize("bad", ["01ff", "hello", "0xzz", 5, None])
def test_callback_without_0x_hex_is_refused(bad):
    with pytest.raises(KitValueError, match="callback-data"):
        callback_digest(bad)


@pytest.mark.parametrize(
    "path, rel",
    [("/iexec_out/images", "images"), ("/iexec_out", "."), ("images/a.png", "images/a.png")],
)
def test_output_relpath(path, rel):
    assert output_relpath(path) == rel


@pytest.mark.parametrize("bad", ["/etc/passwd", "/iexec_out/../x", "../x", "", "/iexec_outx/a"])
def test_output_relpath_refuses_escapes(bad):
    with pytest.raises(KitValueError):
        output_relpath(bad)


def test_hash_and_seal():
    taskid, digest = "0x" + "11" * 32, "0x" + "22" * 32
    worker = "0x" + "33" * 20
    assert result_hash(taskid, digest) == "0x" + keccak(b"\x11" * 32 + b"\x22" * 32).hex()
    assert (
        result_seal(worker, taskid, digest)
        == "0x" + keccak(b"\x33" * 20 + b"\x11" * 32 + b"\x22" * 32).hex()
    )
    with pytest.raises(KitValueError, match="32 bytes"):
        result_hash("0x1234", digest)
