"""Input fetching for the runners: the request's iexec_input_files into $IEXEC_IN.

An input is a local path, a ``file://`` URL, an ``http(s)://`` URL, or an IPFS address
(``ipfs://CID[/path]`` or ``/ipfs/CID[/path]``). IPFS goes through a pluggable ``ipfs_cat(path)
-> bytes`` (the kit's IPFS node, iexec_kit.storage, passes its own); nothing else is needed here.
Every input has a size limit and a content check (not empty; optionally a PNG/JPEG signature).

Local inputs (a path, ``file://``) are a policy: ``allow_local`` is False by default, as for a
worker serving someone else's deal (a requester must not make it read the worker's own files);
only the owner running an app on their own machine (``iexec-kit app run``) passes True.
"""

from __future__ import annotations

import re
import shutil
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from iexec_kit.compute.errors import InputFetchError, InputTooLargeError, LocalInputRefusedError

#: Default limit per input file.
MAX_INPUT_BYTES = 50 * 1024 * 1024

IpfsCat = Callable[[str], bytes]

_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"GIF87a": "gif",
    b"GIF89a": "gif",
    b"BM": "bmp",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
    b"PK\x03\x04": "zip",
    b"%PDF": "pdf",
}

#: Seconds an http(s) input may take to download in all (each read has its own timeout).
DOWNLOAD_DEADLINE = 120.0


def sniff(head: bytes) -> str:
    """A short name of the content type from its first bytes ("png", "jpeg", ... or "unknown")."""
    for sig, kind in _SIGNATURES.items():
        if head.startswith(sig):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.lstrip()[:1] in (b"<",):
        return "html/xml"
    return "unknown"


@dataclass(frozen=True)
class FetchedInput:
    """One input file placed in $IEXEC_IN."""

    source: str
    path: Path
    size: int
    kind: str


_IPFS = re.compile(r"^(?:ipfs://|/ipfs/)([A-Za-z0-9]+)(/.*)?$")


def is_remote(source: str | Path) -> bool:
    """Whether an input is fetched over the network (http(s)://, ipfs://CID, /ipfs/CID), not
    read from the local disk."""
    text = str(source)
    return bool(_IPFS.match(text)) or text.startswith(("http://", "https://"))


def check_sources(sources: Iterable[str | Path], *, allow_local: bool = False) -> list[str]:
    """The inputs as strings, after the policy check (nothing is read): with ``allow_local``
    False, a path or ``file://`` input raises :class:`LocalInputRefusedError`."""
    out = [str(s) for s in sources]
    if not allow_local:
        for source in out:
            if not is_remote(source) and ("://" not in source or source.startswith("file://")):
                raise LocalInputRefusedError(
                    f"input {source} refused: it names a local file of the worker's machine, "
                    "and a worker serving a deal fetches only remote inputs; nothing was read",
                    expected="an http(s):// URL, ipfs://CID or /ipfs/CID",
                    got=source,
                    hint="publish the file first (iexec-kit ipfs add FILE) and name /ipfs/<cid>; "
                    "local paths are for running your own app with `iexec-kit app run`",
                )
    return out


def _name_for(source: str, index: int) -> str:
    m = _IPFS.match(source)
    if m:
        tail = (m.group(2) or "").rstrip("/")
        name = tail.rsplit("/", 1)[-1] if tail else m.group(1)
    elif "://" in source:
        name = urllib.parse.unquote(urllib.parse.urlparse(source).path).rsplit("/", 1)[-1]
    else:
        name = Path(source).name
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")
    return name or f"input-{index}"


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    stem, dot, ext = name.partition(".")
    k = 2
    while f"{stem}-{k}{dot}{ext}" in taken:
        k += 1
    return f"{stem}-{k}{dot}{ext}"


def _too_large(source: str, limit: int, got: str) -> InputTooLargeError:
    return InputTooLargeError(
        f"input {source} is too large",
        expected=f"at most {limit} bytes",
        got=got,
        hint="use a smaller file, or raise the runner's max_input_bytes",
    )


def _read_http(url: str, limit: int, timeout: float, deadline: float = DOWNLOAD_DEADLINE) -> bytes:
    """GET ``url`` with a cap on its size, ``timeout`` seconds per read, and ``deadline`` seconds
    for the whole download (a server trickling bytes cannot hold a worker forever)."""
    import time

    import requests  # lazy: only http inputs need it

    started = time.monotonic()

    try:
        with requests.get(url, stream=True, timeout=timeout) as r:
            if r.status_code != 200:
                raise InputFetchError(
                    f"could not download input {url}",
                    expected="HTTP 200",
                    got=f"HTTP {r.status_code} {r.reason}",
                    hint="check the URL (the kit runs offline: use a local server or a path)",
                )
            declared = r.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise _too_large(url, limit, f"Content-Length {declared}")
            buf = bytearray()
            while chunk := r.raw.read1(65536, decode_content=True):  # as soon as bytes come
                buf += chunk
                if len(buf) > limit:
                    raise _too_large(url, limit, f"more than {limit} bytes received")
                if time.monotonic() - started > deadline:
                    raise InputFetchError(
                        f"input {url} took too long to download",
                        expected=f"the whole input within {deadline:g} s",
                        got=f"{len(buf)} bytes after {time.monotonic() - started:.0f} s",
                        hint="serve the file from a faster source, or put it on IPFS",
                    )
            return bytes(buf)
    except requests.RequestException as exc:
        raise InputFetchError(
            f"could not download input {url}",
            expected="a reachable http(s) URL",
            got=f"{type(exc).__name__}: {exc}",
            hint="start the server or use a local path; nothing outside 127.0.0.1 is reachable "
            "offline",
        ) from None


def _read_ipfs(source: str, ipfs_cat: IpfsCat | None, limit: int) -> bytes:
    m = _IPFS.match(source)
    if ipfs_cat is None:
        raise InputFetchError(
            f"cannot fetch {source}",
            expected="an ipfs_cat function (the kit's IPFS node)",
            got="no IPFS access given to the runner",
            hint="pass ipfs_cat=sandbox.ipfs.cat (or any callable path -> bytes) to the runner",
        )
    path = m.group(1) + (m.group(2) or "")
    # A node's bound cat (IpfsNode, KuboClient) has size() and read() beside it: the declared
    # size (UnixFS filesize) is checked before any byte, and bytes are counted as they come.
    node = getattr(ipfs_cat, "__self__", None)
    size, read = getattr(node, "size", None), getattr(node, "read", None)
    try:
        if callable(size) and callable(read):
            declared = size(path)
            if declared > limit:
                raise _too_large(source, limit, f"{declared} bytes declared")
            data = bytearray()
            for chunk in read(path):
                data += chunk
                if len(data) > limit:
                    raise _too_large(source, limit, f"more than {limit} bytes received")
        else:
            data = ipfs_cat(path)
    except InputTooLargeError:
        raise
    except Exception as exc:  # noqa: BLE001  (any storage failure becomes a fetch error)
        raise InputFetchError(
            f"could not fetch {source} from IPFS",
            expected="content the IPFS node holds",
            got=f"{type(exc).__name__}: {exc}",
            hint="add the file to the kit's IPFS first (iexec-kit ipfs add FILE)",
        ) from None
    if len(data) > limit:
        raise _too_large(source, limit, f"{len(data)} bytes")
    return bytes(data)


def fetch_inputs(
    sources: Iterable[str | Path],
    dest: Path,
    *,
    ipfs_cat: IpfsCat | None = None,
    max_bytes: int = MAX_INPUT_BYTES,
    require_image: bool = False,
    timeout: float = 30.0,
    deadline: float = DOWNLOAD_DEADLINE,
    allow_local: bool = False,
) -> list[FetchedInput]:
    """Fetch every input into ``dest`` (created); return them in order.

    Names come from the URL's last path segment (sanitised, made unique). ``require_image``
    refuses anything whose first bytes are not PNG or JPEG, before the app ever runs.
    ``timeout`` bounds each read of an http(s) input and ``deadline`` its whole download.
    ``allow_local``: whether paths and ``file://`` inputs may be read (default False: only
    remote inputs; every input is checked before any is fetched).
    """
    sources = check_sources(sources, allow_local=allow_local)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    out: list[FetchedInput] = []
    for i, src in enumerate(sources, start=1):
        source = str(src)
        name = _unique(_name_for(source, i), taken)
        taken.add(name)
        target = dest / name
        if _IPFS.match(source):
            target.write_bytes(_read_ipfs(source, ipfs_cat, max_bytes))
        elif source.startswith(("http://", "https://")):
            target.write_bytes(_read_http(source, max_bytes, timeout, deadline))
        else:
            local = Path(
                urllib.parse.unquote(source[len("file://") :])
                if source.startswith("file://")
                else source
            ).expanduser()
            if "://" in source and not source.startswith("file://"):
                raise InputFetchError(
                    f"unsupported input URL {source}",
                    expected="a path, file://, http(s)://, ipfs://CID or /ipfs/CID",
                    got=source.split("://", 1)[0] + "://",
                    hint="use one of the supported forms",
                )
            if not local.is_file():
                raise InputFetchError(
                    f"input file not found: {source}",
                    expected="an existing file",
                    got="nothing at that path" if not local.exists() else "a folder",
                    hint="check the path",
                )
            size = local.stat().st_size
            if size > max_bytes:
                raise _too_large(source, max_bytes, f"{size} bytes")
            shutil.copyfile(local, target)
        size = target.stat().st_size
        with open(target, "rb") as f:
            head = f.read(16)
        kind = sniff(head)
        if size == 0:
            raise InputFetchError(
                f"input {source} is empty",
                expected="a non-empty file",
                got="0 bytes",
                hint="check the file or URL",
            )
        if require_image and kind not in ("png", "jpeg"):
            raise InputFetchError(
                f"input {source} is not a PNG or JPEG picture",
                expected="a PNG or JPEG file",
                got=f"{kind} content (first bytes {head[:8]!r})",
                hint="convert it to PNG or JPEG first",
            )
        out.append(FetchedInput(source=source, path=target, size=size, kind=kind))
    return out
