"""Input fetching for the runners: the request's iexec_input_files into $IEXEC_IN.

An input is a local path, a ``file://`` URL, an ``http(s)://`` URL, or an IPFS address
(``ipfs://CID[/path]`` or ``/ipfs/CID[/path]``). IPFS goes through a pluggable ``ipfs_cat(path)
-> bytes`` (the kit's IPFS node, iexec_kit.storage, passes its own); nothing else is needed here.
Every input has a size limit and a content check (not empty; optionally a PNG/JPEG signature).

Local inputs (a path, ``file://``) are a policy: ``allow_local`` is False by default, as for a
worker serving someone else's deal (a requester must not make it read the worker's own files);
only the owner running an app on their own machine (``iexec-kit app run``) passes True.

A source that does not answer (the node's IPFS gateway restarting, a LAN front whose upstream is
down) is *unreachable*, which another try may cure: :func:`unreachable_reason` is the one rule of
which failures those are. With a :class:`FetchRetry` (a worker process passes one) such a fetch
is tried again with a growing wait for a bounded patience, each retry said in words; without one
(the default) it fails at once, as every other failure (404, too large, not an image) always
does.
"""

from __future__ import annotations

import errno
import math
import re
import shutil
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from iexec_kit.compute.errors import (
    InputFetchError,
    InputTooLargeError,
    InputUnreachableError,
    LocalInputRefusedError,
)
from iexec_kit.errors import IexecKitError

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
#: Seconds an http(s) connection may take to open (a LAN host that is down, not refusing).
CONNECT_TIMEOUT = 10.0

#: Seconds a worker process keeps retrying an unreachable input in all, by default.
FETCH_PATIENCE = 60.0
#: The retries' wait: the first, doubled after each try up to the longest (seconds).
FETCH_BACKOFF = (0.5, 5.0)


# ----- the one rule: which failures are worth another try ------------------------------------
#: HTTP answers that mean "what stands before the content is there, what is behind is not, for
#: now" (a gateway or a LAN front whose upstream is down, a node starting up).
TRANSIENT_STATUS = frozenset({502, 503, 504})

_UNREACHABLE_ERRNO = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.ECONNABORTED: "connection aborted",
    errno.EPIPE: "connection closed",
    errno.EHOSTUNREACH: "no route to the host",
    errno.ENETUNREACH: "network unreachable",
}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what lies under it: causes, contexts, and the errors requests and urllib3
    wrap (in ``args``, ``reason``)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo and len(seen) < 32:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]


def unreachable_reason(exc: BaseException) -> str | None:
    """Why a fetch's source is unreachable, in a few words ("connection refused", "HTTP 503
    Service Unavailable", "no answer while connecting"), or None when another try would get the
    same answer (a 404, a bad host name, a TLS error, a server that answered too slowly, and
    every check of the kit's: too large, not an image, a refused local path, a bad URL).

    The one rule of which failures a worker retries; it reads the whole chain of the error (a
    kit error raised from a requests error counts as the requests error)."""
    import requests  # lazy: requests and urllib3 are imported by whoever raised them
    import urllib3.exceptions as u3

    chain = list(_chain(exc))
    for e in chain:
        if isinstance(e, InputUnreachableError):
            return e.reason
    final = (requests.exceptions.SSLError, u3.SSLError, socket.gaierror, InputFetchError)
    final += (getattr(u3, "NameResolutionError", socket.gaierror), requests.exceptions.InvalidURL)
    final += (requests.ReadTimeout, u3.ReadTimeoutError)
    if any(isinstance(e, final) for e in chain):
        return None
    for e in chain:
        status = getattr(getattr(e, "response", None), "status_code", None)
        if isinstance(e, requests.HTTPError) and status is not None:
            if status not in TRANSIENT_STATUS:
                return None
            return f"HTTP {status} {e.response.reason or ''}".strip()
        if isinstance(e, OSError) and not isinstance(e, IexecKitError):
            if e.errno in _UNREACHABLE_ERRNO:
                return _UNREACHABLE_ERRNO[e.errno]
        if isinstance(e, requests.ConnectTimeout) or (
            isinstance(e, u3.ConnectTimeoutError) and not isinstance(e, u3.NewConnectionError)
        ):
            return "no answer while connecting"
    for e in chain:  # a connection lost in another way (closed before an answer, mid-download)
        if isinstance(e, requests.ConnectionError | u3.ProtocolError) or (
            isinstance(e, ConnectionError) and not isinstance(e, IexecKitError)
        ):
            return "connection lost"
    return None


def _where(source: str) -> str:
    """The source's server, as a learner reads it (no path: a LAN front's token stays out)."""
    if _IPFS.match(source):
        return "IPFS"
    parts = urllib.parse.urlparse(source)
    host = parts.netloc.rpartition("@")[2]
    if "/ipfs/" in parts.path or "/ipns/" in parts.path:  # a LAN front's may come after /t/...
        return f"the IPFS gateway at {host}"
    return f"the server at {host}"


def _unreachable(source: str, reason: str) -> InputUnreachableError:
    where = _where(source)
    return InputUnreachableError(
        f"could not fetch input {source}: {where} is unreachable ({reason})",
        expected=f"{where} answering",
        got=reason,
        hint="start it (the kit's IPFS runs with the node), or check the URL; nothing outside "
        "127.0.0.1 and your LAN is reachable offline",
        where=where,
        reason=reason,
    )


def _secs(x: float) -> str:
    return f"{round(x, 2):g}"


@dataclass(frozen=True)
class FetchRetry:
    """How a fetch waits out an unreachable source (:func:`unreachable_reason`): tried again
    after ``first`` seconds, the wait doubling up to ``longest``, until ``patience`` seconds have
    passed since the first try. ``log(line)`` hears each retry in words; ``wait(seconds)``
    sleeps (a stop Event's ``wait``: when it returns True the fetch gives up at once).

    >>> fetch_inputs(urls, dest, retry=FetchRetry(patience=30, log=print))
    """

    patience: float = FETCH_PATIENCE
    first: float = FETCH_BACKOFF[0]
    longest: float = FETCH_BACKOFF[1]
    log: Callable[[str], None] | None = None
    wait: Callable[[float], object] | None = None

    def __post_init__(self):
        finite = all(math.isfinite(x) for x in (self.patience, self.first, self.longest))
        if not (finite and self.patience >= 0 and 0 < self.first <= self.longest):
            from iexec_kit.errors import KitValueError

            raise KitValueError(
                "a fetch's patience and backoff",
                expected="finite seconds: patience >= 0 and 0 < first <= longest",
                got=f"patience {self.patience}, first {self.first}, longest {self.longest}",
                hint=f"e.g. FetchRetry(patience={FETCH_PATIENCE:g}) with the default backoff",
            )

    def within(self, seconds: float) -> FetchRetry:
        """The same, with a patience of at most ``seconds`` (e.g. what is left before the task's
        contribution deadline)."""
        return replace(self, patience=max(0.0, min(self.patience, seconds)))


def _patiently(read: Callable[[], bytes], source: str, retry: FetchRetry | None) -> bytes:
    """``read()``, tried again while its source is unreachable, as ``retry`` says."""
    started, attempt = time.monotonic(), 1
    delay = retry.first if retry else 0.0
    while True:
        try:
            return read()
        except InputUnreachableError as exc:
            if retry is None:
                raise
            elapsed = time.monotonic() - started
            left = retry.patience - elapsed
            stopped = False
            if left > 0:
                pause = min(delay, left)
                if retry.log is not None:
                    retry.log(
                        f"{exc.where} is unreachable ({exc.reason}), retrying in "
                        f"{_secs(pause)} s (attempt {attempt + 1})"
                    )
                stopped = (retry.wait or time.sleep)(pause) is True
                if not stopped:
                    attempt, delay = attempt + 1, min(delay * 2, retry.longest)
                    continue
            elapsed = time.monotonic() - started
            raise InputUnreachableError(
                f"input {source}: {exc.where} stayed unreachable; tried {attempt} time"
                f"{'s' if attempt > 1 else ''} over {_secs(elapsed)} s"
                + (", then the worker stopped" if stopped else ""),
                expected=f"{exc.where} answering within {_secs(retry.patience)} s",
                got=f"the last try: {exc.reason}",
                hint="check that the node's IPFS (or the URL's server) runs and that this machine "
                "reaches it, then buy the task again; a worker waits longer with `iexec-kit "
                "worker --fetch-patience SECONDS`",
                where=exc.where,
                reason=exc.reason,
            ) from None


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
    for the whole download (a server trickling bytes cannot hold a worker forever). An
    unreachable server raises :class:`InputUnreachableError` (see :func:`unreachable_reason`)."""
    import requests  # lazy: only http inputs need it
    import urllib3.exceptions as u3

    started = time.monotonic()

    try:
        with requests.get(url, stream=True, timeout=(min(timeout, CONNECT_TIMEOUT), timeout)) as r:
            if r.status_code != 200:
                answer = requests.HTTPError(f"HTTP {r.status_code} {r.reason}", response=r)
                if (reason := unreachable_reason(answer)) is not None:
                    raise _unreachable(url, reason)
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
    except (requests.RequestException, u3.HTTPError, OSError) as exc:
        if (reason := unreachable_reason(exc)) is not None:
            raise _unreachable(url, reason) from None
        raise InputFetchError(
            f"could not download input {url}",
            expected=f"a reachable http(s) URL that answers within {_secs(timeout)} s per read",
            got=f"{type(exc).__name__}: {exc}",
            hint="check the URL and its server; nothing outside 127.0.0.1 and your LAN is "
            "reachable offline",
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
    except InputFetchError:
        raise
    except Exception as exc:  # noqa: BLE001  (any storage failure becomes a fetch error)
        if (reason := unreachable_reason(exc)) is not None:
            raise _unreachable(source, reason) from None
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
    retry: FetchRetry | None = None,
) -> list[FetchedInput]:
    """Fetch every input into ``dest`` (created); return them in order.

    Names come from the URL's last path segment (sanitised, made unique). ``require_image``
    refuses anything whose first bytes are not PNG or JPEG, before the app ever runs.
    ``timeout`` bounds each read of an http(s) input and ``deadline`` its whole download.
    ``allow_local``: whether paths and ``file://`` inputs may be read (default False: only
    remote inputs; every input is checked before any is fetched). ``retry``: how long an
    unreachable source is waited for (None: not at all, the first failure raises
    :class:`InputUnreachableError`); any other failure raises at once.
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
            read = partial(_read_ipfs, source, ipfs_cat, max_bytes)
            target.write_bytes(_patiently(read, source, retry))
        elif source.startswith(("http://", "https://")):
            read = partial(_read_http, source, max_bytes, timeout, deadline)
            target.write_bytes(_patiently(read, source, retry))
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
