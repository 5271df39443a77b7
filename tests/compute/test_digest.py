"""The result digest (POCO.md): sha256 of a file, keccak of sorted sha256s for a folder."""

from __future__ import annotations

import hashlib

from eth_utils import keccak

from iexec_kit.compute.digest import path_digest, result_digest


def test_file_digest_is_sha256(tmp_path):
    f = tmp_path / "r.txt"
    f.write_bytes(b"hello")
    assert result_digest({"deterministic-output-path": "/iexec_out/r.txt"}, f) == \
        "0x" + hashlib.sha256(b"hello").hexdigest()


def test_folder_digest_is_keccak_of_sorted_sha256(tmp_path):
    for name, data in [("b.png", b"B"), ("a.png", b"A"), ("c.png", b"C")]:
        (tmp_path / name).write_bytes(data)
    expected = keccak(b"".join(hashlib.sha256(d).digest() for d in (b"A", b"B", b"C")))
    assert path_digest(tmp_path) == expected
    assert result_digest({}, tmp_path) == "0x" + expected.hex()


def test_callback_data_wins(tmp_path):
    assert result_digest({"callback-data": "0x01ff", "deterministic-output-path": "x"}, None) == \
        "0x" + keccak(b"\x01\xff").hex()
