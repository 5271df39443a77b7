"""Result encryption for the beneficiary, as iExec does it, with `cryptography`.

The beneficiary owns an RSA key pair (4096-bit; PEM files ``<name>_key`` and ``<name>_key.pub``
as the iExec SDK writes them under .secrets/beneficiary/). A worker zips the results
(``iexec_out.zip``), encrypts it with a fresh random AES-256 key in CBC mode (PKCS#7 padding, a
random 16-byte IV written in front), encrypts the AES key with the RSA public key (PKCS#1 v1.5,
as iExec's post-compute does) and zips the two files ``iexec_out.zip.aes`` and ``aes-key.rsa``.
Only the private key's holder can undo it: :func:`decrypt_result`.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from iexec_kit.storage import messages as M
from iexec_kit.storage.errors import EncryptionError

AES_KEY_FILE = "aes-key.rsa"
DATA_SUFFIX = ".aes"
PLAIN_NAME = "iexec_out.zip"


@dataclass(frozen=True)
class KeyPair:
    """Paths of the beneficiary's PEM files."""

    private: Path
    public: Path


def generate_beneficiary_keys(
    folder: str | os.PathLike[str],
    name: str = "beneficiary",
    *,
    bits: int = 4096,
    overwrite: bool = False,
) -> KeyPair:
    """Create (or reuse) the beneficiary's RSA key pair in ``folder``; private key mode 0600."""
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric import rsa

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pair = KeyPair(folder / f"{name}_key", folder / f"{name}_key.pub")
    if pair.private.is_file() and pair.public.is_file() and not overwrite:
        return pair
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption())
    public_pem = key.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo)
    fd = os.open(pair.private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_pem)
    pair.public.write_bytes(public_pem)
    return pair


def _pem(value: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str) and value.lstrip().startswith("-----BEGIN"):
        return value.encode()
    path = Path(value)
    if not path.is_file():
        raise EncryptionError(
            M.KEY_MISSING, expected=str(path), got="no such file", hint=M.HINT_KEYS
        )
    return path.read_bytes()


def _public_key(pem):
    from cryptography.hazmat.primitives import serialization as s

    try:
        return s.load_pem_public_key(_pem(pem))
    except ValueError as exc:
        raise EncryptionError(
            "This is not an RSA public key in PEM.", got=str(exc)[:80], hint=M.HINT_KEYS
        ) from None


def _private_key(pem):
    from cryptography.hazmat.primitives import serialization as s

    try:
        return s.load_pem_private_key(_pem(pem), password=None)
    except (ValueError, TypeError) as exc:
        raise EncryptionError(
            "This is not an RSA private key in PEM.", got=str(exc)[:80], hint=M.HINT_KEYS
        ) from None


def aes_encrypt(data: bytes, key: bytes) -> bytes:
    """AES-256-CBC with PKCS#7 padding; returns IV (16 random bytes) + ciphertext."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + enc.update(padded) + enc.finalize()


def aes_decrypt(blob: bytes, key: bytes) -> bytes:
    """Undo :func:`aes_encrypt` (IV in front); wrong keys fail on the padding."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if len(blob) < 32 or len(blob) % 16:
        raise EncryptionError(
            M.DECRYPT_FAILED,
            expected="IV + whole AES blocks",
            got=f"{len(blob)} bytes",
            hint=M.HINT_DECRYPT,
        )
    dec = Cipher(algorithms.AES(key), modes.CBC(blob[:16])).decryptor()
    padded = dec.update(blob[16:]) + dec.finalize()
    try:
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise EncryptionError(
            M.DECRYPT_FAILED, expected="valid PKCS#7 padding", got="garbage", hint=M.HINT_DECRYPT
        ) from None


def encrypt_result(plain_zip: bytes, public_key: bytes | str | os.PathLike[str]) -> bytes:
    """The encrypted archive (a zip of ``iexec_out.zip.aes`` and ``aes-key.rsa``)."""
    from cryptography.hazmat.primitives.asymmetric import padding

    aes_key = os.urandom(32)
    wrapped = _public_key(public_key).encrypt(aes_key, padding.PKCS1v15())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(PLAIN_NAME + DATA_SUFFIX, aes_encrypt(plain_zip, aes_key))
        zf.writestr(AES_KEY_FILE, wrapped)
    return buf.getvalue()


def is_encrypted_result(archive: bytes) -> bool:
    """Whether an archive has the encrypted layout (aes-key.rsa + *.aes)."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile:
        return False
    return AES_KEY_FILE in names and any(n.endswith(DATA_SUFFIX) for n in names)


def decrypt_result(archive: bytes, private_key: bytes | str | os.PathLike[str]) -> bytes:
    """The plain result zip back, with the beneficiary's private key; any other key fails."""
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            names = zf.namelist()
            data_name = next(n for n in names if n.endswith(DATA_SUFFIX))
            wrapped, blob = zf.read(AES_KEY_FILE), zf.read(data_name)
    except (zipfile.BadZipFile, KeyError, StopIteration):
        raise EncryptionError(M.ENCRYPTED_LAYOUT, hint="is this result encrypted at all?") from None
    key = _private_key(private_key)
    try:
        aes_key = key.decrypt(wrapped, padding.PKCS1v15())
    except ValueError:
        raise EncryptionError(
            M.DECRYPT_FAILED, got="RSA decryption failed", hint=M.HINT_DECRYPT
        ) from None
    if len(aes_key) != 32:  # OpenSSL's implicit rejection returns random bytes, not an error
        raise EncryptionError(
            M.DECRYPT_FAILED,
            expected="a 32-byte AES key",
            got=f"{len(aes_key)} bytes",
            hint=M.HINT_DECRYPT,
        )
    plain = aes_decrypt(blob, aes_key)
    try:  # a wrong key that slipped through padding still cannot give a valid zip
        with zipfile.ZipFile(io.BytesIO(plain)) as zf:
            if zf.testzip() is not None:
                raise zipfile.BadZipFile("CRC mismatch")
    except zipfile.BadZipFile:
        raise EncryptionError(
            M.DECRYPT_FAILED, expected="a zip once decrypted", got="garbage", hint=M.HINT_DECRYPT
        ) from None
    return plain
