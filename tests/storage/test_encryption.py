"""Encrypted results decrypt only with the beneficiary's key; the format is iExec's."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import zipfile

import pytest

from iexec_kit.storage.encryption import (
    AES_KEY_FILE,
    aes_decrypt,
    aes_encrypt,
    decrypt_result,
    encrypt_result,
    generate_beneficiary_keys,
    is_encrypted_result,
)
from iexec_kit.storage.errors import EncryptionError


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("secrets")
    return generate_beneficiary_keys(folder, "0xBeneficiary"), generate_beneficiary_keys(
        folder, "0xSomeoneElse"
    )


def _plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("computed.json", '{"deterministic-output-path": "/iexec_out/r.png"}')
        zf.writestr("r.png", os.urandom(70_000))
    return buf.getvalue()


def test_keys_are_rsa_4096_pem_and_private_is_0600(keys):
    from cryptography.hazmat.primitives import serialization as s

    mine, _ = keys
    assert stat.S_IMODE(mine.private.stat().st_mode) == 0o600
    assert mine.private.name == "0xBeneficiary_key" and mine.public.name == "0xBeneficiary_key.pub"
    assert s.load_pem_public_key(mine.public.read_bytes()).key_size == 4096
    assert generate_beneficiary_keys(mine.private.parent, "0xBeneficiary") == mine  # reused


def test_encrypt_then_decrypt_with_the_beneficiary_key(keys):
    mine, _ = keys
    plain = _plain_zip()
    archive = encrypt_result(plain, mine.public)
    assert is_encrypted_result(archive) and not is_encrypted_result(plain)
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert sorted(zf.namelist()) == [AES_KEY_FILE, "iexec_out.zip.aes"]
        assert plain not in zf.read("iexec_out.zip.aes")
    assert decrypt_result(archive, mine.private) == plain
    assert encrypt_result(plain, mine.public) != archive  # fresh key and IV every time


def test_another_key_cannot_decrypt(keys):
    mine, other = keys
    archive = encrypt_result(_plain_zip(), mine.public)
    for _ in range(3):
        with pytest.raises(EncryptionError, match="cannot be decrypted"):
            decrypt_result(archive, other.private)


def test_tampered_ciphertext_is_refused(keys):
    mine, _ = keys
    archive = encrypt_result(_plain_zip(), mine.public)
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        blob, wrapped = bytearray(zf.read("iexec_out.zip.aes")), zf.read(AES_KEY_FILE)
    blob[-20] ^= 0xFF
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("iexec_out.zip.aes", bytes(blob))
        zf.writestr(AES_KEY_FILE, wrapped)
    with pytest.raises(EncryptionError):
        decrypt_result(buf.getvalue(), mine.private)


def test_not_an_encrypted_archive(keys):
    with pytest.raises(EncryptionError, match="not an encrypted iExec result"):
        decrypt_result(_plain_zip(), keys[0].private)


def test_aes_layout_is_iv_then_cbc(tmp_path):
    """openssl, an independent implementation, decrypts the kit's AES-256-CBC blob."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing (apt-get install openssl)")
    key, data = os.urandom(32), os.urandom(1000)
    blob = aes_encrypt(data, key)
    assert len(blob) == 16 + 1008 and aes_decrypt(blob, key) == data
    (tmp_path / "ct").write_bytes(blob[16:])
    out = subprocess.run(
        [
            "openssl",
            "enc",
            "-d",
            "-aes-256-cbc",
            "-K",
            key.hex(),
            "-iv",
            blob[:16].hex(),
            "-in",
            str(tmp_path / "ct"),
        ],
        capture_output=True,
        check=True,
    )
    assert out.stdout == data


def test_openssl_unwraps_the_aes_key(keys, tmp_path):
    """The AES key is RSA PKCS#1 v1.5 encrypted, as iExec's post-compute writes it."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing (apt-get install openssl)")
    mine, _ = keys
    plain = _plain_zip()
    with zipfile.ZipFile(io.BytesIO(encrypt_result(plain, mine.public))) as zf:
        (tmp_path / "k").write_bytes(zf.read(AES_KEY_FILE))
        blob = zf.read("iexec_out.zip.aes")
    key = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-decrypt",
            "-inkey",
            str(mine.private),
            "-pkeyopt",
            "rsa_padding_mode:pkcs1",
            "-in",
            str(tmp_path / "k"),
        ],
        capture_output=True,
        check=True,
    ).stdout
    assert len(key) == 32 and aes_decrypt(blob, key) == plain
