"""A task's results as iExec workers handle them: computed.json, the result digest, the zip.

- :func:`read_computed` reads and validates ``$IEXEC_OUT/computed.json``.
- :func:`result_digest` is the digest of POCO.md for an output folder; the rule itself, with the
  result hash and seal a worker commits, is :mod:`iexec_kit.protocol.results`.
- :func:`zip_result` makes a deterministic archive (sorted entries, fixed timestamps and
  permissions, stored uncompressed so no zlib version can change a byte), so honest workers
  produce the same bytes, hence the same CID.
- :func:`unzip_result` extracts safely (no zip slip, a size cap).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from iexec_kit.errors import KitValueError
from iexec_kit.protocol.results import (
    COMPUTED_JSON,
    IEXEC_OUT,
    callback_digest,
    output_digest,
    output_relpath,
)
from iexec_kit.storage import messages as M
from iexec_kit.storage.errors import PathEscapeError, ResultError
from iexec_kit.storage.unixfs import safe_join

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold
DEFAULT_MAX_UNZIPPED = 512 * 1024 * 1024


@dataclass(frozen=True)
class Computed:
    """computed.json: where the deterministic output is, or the callback data."""

    deterministic_output_path: str | None = None
    callback_data: str | None = None
    raw: dict = field(default_factory=dict, compare=False)


def read_computed(out_dir: str | os.PathLike[str]) -> Computed:
    """Read and validate ``out_dir/computed.json`` (a missing or bad file fails the task)."""
    path = Path(out_dir) / COMPUTED_JSON
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultError(
            M.COMPUTED_MISSING, expected=str(path), got="no such file", hint=M.HINT_COMPUTED
        ) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ResultError(
            M.COMPUTED_BAD_JSON, got=f"{text[:80]!r} ({exc})", hint=M.HINT_COMPUTED
        ) from None
    if not isinstance(data, dict):
        raise ResultError(M.COMPUTED_BAD_JSON, got=type(data).__name__, hint=M.HINT_COMPUTED)
    det, cb = data.get("deterministic-output-path"), data.get("callback-data")
    if cb is not None:
        if not (isinstance(cb, str) and cb.startswith("0x")):
            raise ResultError(M.COMPUTED_BAD_CALLBACK, got=repr(cb)[:80], hint=M.HINT_COMPUTED)
        try:
            bytes.fromhex(cb[2:])
        except ValueError:
            raise ResultError(
                M.COMPUTED_BAD_CALLBACK, got=repr(cb)[:80], hint=M.HINT_COMPUTED
            ) from None
    elif not isinstance(det, str) or not det:
        raise ResultError(M.COMPUTED_NO_KEY, got=json.dumps(data)[:120], hint=M.HINT_COMPUTED)
    return Computed(det if isinstance(det, str) else None, cb, data)


def deterministic_output(out_dir: str | os.PathLike[str], computed: Computed) -> Path:
    """The host path of computed.json's deterministic-output-path (/iexec_out/x -> out_dir/x)."""
    det = computed.deterministic_output_path or ""
    try:
        rel = output_relpath(det)
    except KitValueError:
        raise PathEscapeError(
            M.COMPUTED_BAD_PATH, expected=f"a path under {IEXEC_OUT}", got=det, hint=M.HINT_COMPUTED
        ) from None
    target = safe_join(out_dir, rel) if rel != "." else Path(out_dir).resolve()
    if not target.exists():
        raise ResultError(
            M.COMPUTED_BAD_PATH, expected=str(target), got="nothing there", hint=M.HINT_COMPUTED
        )
    return target


def result_digest(out_dir: str | os.PathLike[str]) -> str:
    """The task's result digest (0x-hex) from an output folder holding computed.json."""
    computed = read_computed(out_dir)
    if computed.callback_data is not None:
        return callback_digest(computed.callback_data)
    return output_digest(deterministic_output(out_dir, computed))


# --- the archive ----------------------------------------------------------------------------


def _zipinfo(name: str, is_dir: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.create_system = 3  # Unix, so the permission bits below mean what they say
    info.external_attr = ((0o40755 if is_dir else 0o100644) << 16) | (0x10 if is_dir else 0)
    info.compress_type = zipfile.ZIP_STORED
    return info


def zip_result(
    out_dir: str | os.PathLike[str], dest: str | os.PathLike[str] | None = None
) -> bytes:
    """A deterministic zip of the output folder (entries relative to it, sorted, fixed time).

    Returns the archive's bytes; also writes them to ``dest`` when given. Symlinks and special
    files are refused: an honest app writes plain files."""
    root = Path(out_dir)
    if not root.is_dir():
        raise ResultError(M.COMPUTED_MISSING, expected=f"a folder {root}", got="nothing there")
    entries: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p.is_symlink() or not (p.is_dir() or p.is_file()):
                raise ResultError(
                    "The output folder holds a link or a special file.",
                    expected="plain files and folders",
                    got=str(p),
                    hint="write real files under $IEXEC_OUT",
                )
            entries.append((p.relative_to(root).as_posix() + ("/" if p.is_dir() else ""), p))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, p in sorted(entries, key=lambda e: e[0].encode("utf-8")):
            is_dir = name.endswith("/")
            zf.writestr(_zipinfo(name, is_dir), b"" if is_dir else p.read_bytes())
    data = buf.getvalue()
    if dest is not None:
        tmp = Path(f"{dest}.partial")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    return data


def unzip_result(
    archive: bytes | str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_UNZIPPED,
) -> Path:
    """Extract a result archive into ``dest``: names that escape are refused (zip slip), the
    total size is capped (zip bomb), and ``dest`` appears only once everything is written."""
    import shutil

    source = io.BytesIO(archive) if isinstance(archive, (bytes, bytearray)) else archive
    dest = Path(dest)
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ResultError(M.ZIP_BAD, got=str(exc), hint="download the result again") from None
    staging = dest.parent / f".{dest.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with zf:
            total = sum(i.file_size for i in zf.infolist())
            if total > max_bytes:
                raise ResultError(
                    M.ZIP_TOO_BIG, expected=f"at most {max_bytes} bytes", got=f"{total} bytes"
                )
            for info in zf.infolist():
                target = safe_join(staging, info.filename)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise PathEscapeError(
                        M.PATH_ESCAPE,
                        expected="plain files",
                        got=f"symlink {info.filename}",
                        hint=M.HINT_PATH,
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > info.file_size:
                            raise ResultError(
                                M.ZIP_TOO_BIG,
                                expected=f"{info.file_size} bytes",
                                got=f"more in {info.filename}",
                            )
                        out.write(chunk)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(staging, dest)
    except zipfile.BadZipFile as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ResultError(M.ZIP_BAD, got=str(exc)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def digest_of_zip(archive: bytes, *, max_bytes: int = DEFAULT_MAX_UNZIPPED) -> str:
    """The result digest recomputed from a result archive (what the result proxy checks)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="iexec-result-") as tmp:
        out = unzip_result(archive, Path(tmp) / "iexec_out", max_bytes=max_bytes)
        return result_digest(out)


__all__ = [
    "COMPUTED_JSON",
    "IEXEC_OUT",
    "Computed",
    "deterministic_output",
    "digest_of_zip",
    "read_computed",
    "result_digest",
    "unzip_result",
    "zip_result",
]
