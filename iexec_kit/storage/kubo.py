"""The kit's IPFS interface over any Kubo RPC API: a real Kubo daemon or the kit's own.

Set ``IEXEC_KIT_IPFS_API=http://127.0.0.1:5001`` (or pass ``api=``) to make the kit use a Kubo
daemon instead of its embedded node; :func:`open_ipfs` chooses. Reads pass ``offline=true`` so a
CID that no local block backs fails at once instead of searching a network the kit never joins
(a daemon that ignores it, as js-ipfs does, waits: the call then ends with a timeout error).
CIDs the daemon returns are given back in the kit's text form (CIDv0 base58btc, CIDv1 base32,
as Kubo prints them), whatever multibase the daemon chose (js-ipfs prints CIDv1 in base58btc).
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

from iexec_kit.storage import messages as M
from iexec_kit.storage.cids import Cid, parse_cid, split_ipfs_path
from iexec_kit.storage.errors import (
    BlockNotFoundError,
    InvalidCidError,
    KuboApiError,
    PathEscapeError,
    StorageError,
)
from iexec_kit.storage.unixfs import check_name, safe_join

ENV_API = "IEXEC_KIT_IPFS_API"


def _url(api: str) -> str:
    from iexec_kit.storage.daemon import parse_address

    if api.startswith("http://") or api.startswith("https://"):
        return api.rstrip("/")
    host, port = parse_address(api)
    return f"http://{host}:{port}"


class KuboClient:
    """:class:`iexec_kit.storage.node.IpfsBackend` over HTTP (the Kubo RPC API, /api/v0)."""

    def __init__(self, api: str, *, timeout: float = 60.0):
        import requests  # lazily: only this backend needs it

        self.base = _url(api)
        self.timeout = timeout
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"KuboClient({self.base!r})"

    # -- plumbing --
    def _post(self, cmd: str, params=None, data=None, headers=None, stream=False):
        import requests

        try:
            res = self._session.post(
                f"{self.base}/api/v0/{cmd}",
                params=params,
                data=data,
                headers=headers,
                stream=stream,
                timeout=self.timeout,
            )
        except requests.Timeout as exc:  # before ConnectionError: ConnectTimeout is both
            raise KuboApiError(
                M.API_TIMEOUT,
                expected=f"an answer to {cmd} from {self.base} within {self.timeout:g} s",
                got=f"no answer ({type(exc).__name__})",
                hint=M.HINT_TIMEOUT,
            ) from exc
        except requests.ConnectionError as exc:
            raise KuboApiError(
                M.API_UNREACHABLE,
                expected=f"a Kubo RPC API at {self.base}",
                got=type(exc).__name__,
                hint=M.HINT_API,
            ) from exc
        if res.status_code >= 400:
            try:
                message = res.json().get("Message", res.text)
            except ValueError:
                message = res.text
            res.close()
            low = message.lower()
            if res.status_code == 404 or "not found" in low:
                raise BlockNotFoundError(M.BLOCK_MISSING, got=message.strip(), hint=M.HINT_MISSING)
            if "cid" in low and ("invalid" in low or "not a cid" in low or "decode" in low):
                raise InvalidCidError(M.CID_INVALID, got=message.strip(), hint=M.HINT_CID)
            raise KuboApiError(
                M.API_ERROR,
                expected=f"{cmd} to succeed",
                got=f"HTTP {res.status_code}: {message.strip()}",
            )
        return res

    def _json(self, cmd: str, params=None):
        return self._post(cmd, params).json()

    @staticmethod
    def _cid(text: str) -> str:
        """A CID the daemon printed, in the kit's text form (v0 base58btc, v1 base32); a kind
        the kit does not handle (another codec or hash, pinned by someone else) is left as is."""
        try:
            return str(parse_cid(text))
        except InvalidCidError:
            return text

    @staticmethod
    def _arg(cid) -> str:
        text = str(cid)
        if "/" not in text.strip("/"):
            parse_cid(text)  # fail fast, before any network call
        return text

    # -- add --
    def _add(
        self,
        parts: Iterator[tuple[str, str, object]],
        cid_version: int,
        only_hash: bool,
        pin: bool,
        wrap: bool = False,
    ) -> list[dict]:
        boundary = uuid.uuid4().hex

        def body():
            for name, ctype, source in parts:
                quoted = urllib.parse.quote(name, safe="")
                yield (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                    f'filename="{quoted}"\r\nContent-Type: {ctype}\r\n\r\n'
                ).encode()
                if isinstance(source, (bytes, bytearray)):
                    yield bytes(source)
                elif source is not None:
                    with open(source, "rb") as fh:
                        while chunk := fh.read(1 << 20):
                            yield chunk
                yield b"\r\n"
            yield f"--{boundary}--\r\n".encode()

        params = {
            "cid-version": str(cid_version),
            "only-hash": str(only_hash).lower(),
            "pin": str(pin).lower(),
            "wrap-with-directory": str(wrap).lower(),
            "progress": "false",
        }
        res = self._post(
            "add",
            params,
            data=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        return [json.loads(line) for line in res.text.splitlines() if line.strip()]

    def add_bytes(
        self, data: bytes, *, cid_version: int = 0, only_hash: bool = False, pin: bool = True
    ) -> str:
        """Add bytes as one file through /api/v0/add; returns the CID."""
        lines = self._add(
            iter([("file", "application/octet-stream", data)]), cid_version, only_hash, pin
        )
        return self._cid(lines[-1]["Hash"])

    def add_path(
        self,
        path,
        *,
        cid_version: int = 0,
        only_hash: bool = False,
        pin: bool = True,
        hidden: bool = False,
    ) -> str:
        """Add a file or a folder (streamed multipart, folders recursive); returns the root CID."""
        root = Path(path)
        if not root.exists():
            raise StorageError(
                M.NODE_PATH_MISSING, expected="an existing file or folder", got=str(root)
            )

        def parts():
            if root.is_file():
                yield root.name, "application/octet-stream", root
                return
            yield root.name, "application/x-directory", None
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if hidden or not d.startswith("."))
                rel = Path(dirpath).relative_to(root.parent).as_posix()
                for d in dirnames:
                    yield f"{rel}/{d}", "application/x-directory", None
                for f in sorted(filenames):
                    if hidden or not f.startswith("."):
                        yield f"{rel}/{f}", "application/octet-stream", Path(dirpath) / f

        lines = self._add(parts(), cid_version, only_hash, pin)
        root_line = next(line for line in reversed(lines) if line["Name"] == root.name)
        return self._cid(root_line["Hash"])

    # -- read --
    def read(self, cid, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Stream a file's bytes from /api/v0/cat (offline: unknown CIDs fail at once)."""
        params = {"arg": self._arg(cid), "offset": str(offset), "offline": "true"}
        if length is not None:
            params["length"] = str(length)
        res = self._post("cat", params, stream=True)

        def chunks():
            import requests

            with res:
                try:
                    yield from res.iter_content(1 << 16)
                except requests.RequestException as exc:  # the daemon cut the stream
                    raise KuboApiError(
                        M.API_ERROR,
                        expected="the whole file",
                        got=f"stream cut: {type(exc).__name__}",
                        hint="check the daemon's repo (a corrupted block?)",
                    ) from exc

        return chunks()

    def cat(self, cid, offset: int = 0, length: int | None = None) -> bytes:
        """A file's bytes (or a slice of them)."""
        return b"".join(self.read(cid, offset, length))

    def _reader(self):
        """A UnixFS Reader over this API's block/get: each block it touches is fetched by its
        CID, verified and decoded here."""
        from iexec_kit.storage.unixfs import Reader

        return Reader(_ApiBlocks(self))

    def resolve(self, path) -> Cid:
        """A CID or an /ipfs/<cid>/a/b path -> the CID it names. The directories are walked here
        through their blocks: Kubo's reference names block/get's and block/stat's arg a CID
        (Kubo also takes a path there; js-ipfs refuses one)."""
        if isinstance(path, Cid):
            return path
        root, segments = split_ipfs_path(str(path))
        return self._reader().resolve(root, segments) if segments else root

    def size(self, cid) -> int:
        """A file's size as its root node declares it (UnixFS filesize), without its data:
        the root block (and, for a path, the directories' on the way) is fetched and checked
        here."""
        reader = self._reader()
        root, segments = split_ipfs_path(str(cid))
        return reader.size(reader.resolve(root, segments))

    def get(self, cid, dest, *, force: bool = False) -> Path:
        """Download a file or a folder, with the node's rules (see IpfsNode.get): ``dest`` is
        never deleted, an existing folder receives the download inside it, a taken place is
        refused unless ``force``; a tar member with a name that is not plain (``..``, ``.``,
        absolute) refuses the whole download, and nothing half-written is left."""
        from iexec_kit.storage.node import download_target, place_download

        final = download_target(cid, dest, force=force)
        res = self._post("get", {"arg": self._arg(cid), "offline": "true"}, stream=True)

        def write(staged: Path) -> None:
            unpack = staged.parent / "tar"
            unpack.mkdir()
            with res, tarfile.open(fileobj=res.raw, mode="r|") as tar:
                for member in tar:
                    for part in member.name.split("/"):
                        check_name(part)  # '', '.', '..': the whole download is refused
                    out = safe_join(unpack, member.name)
                    if member.isdir():
                        out.mkdir(parents=True, exist_ok=True)
                    elif member.isfile():
                        out.parent.mkdir(parents=True, exist_ok=True)
                        src = tar.extractfile(member)
                        with open(out, "wb") as fh:
                            shutil.copyfileobj(src, fh, 1 << 20)
                    # links and devices from foreign content are skipped
            tops = list(unpack.iterdir())
            if len(tops) != 1:
                raise PathEscapeError(
                    M.PATH_ESCAPE,
                    expected="one top entry in the tar",
                    got=str([t.name for t in tops]),
                )
            os.replace(tops[0], staged)

        try:
            return place_download(final, write, force=force)
        finally:
            res.close()

    # -- pins, blocks, identity --
    def pin_add(self, cid) -> None:
        self._json("pin/add", {"arg": self._arg(cid), "offline": "true"})

    def pin_ls(self, type: str = "recursive") -> dict[str, str]:
        keys = self._json("pin/ls", {"type": type}).get("Keys", {})
        return {self._cid(cid): info["Type"] for cid, info in keys.items()}

    def pin_rm(self, cid) -> None:
        self._json("pin/rm", {"arg": self._arg(cid)})

    def block_get(self, cid) -> bytes:
        """One raw block; an /ipfs/<cid>/a/b path names the block it resolves to (as Kubo)."""
        return self._block(self.resolve(cid))

    def _block(self, cid: Cid) -> bytes:
        return self._post("block/get", {"arg": str(cid), "offline": "true"}).content

    def block_stat(self, cid) -> dict:
        """{'Key': cid, 'Size': block length} from block/stat (paths resolved here)."""
        stat = self._json("block/stat", {"arg": str(self.resolve(cid)), "offline": "true"})
        return {**stat, "Key": self._cid(stat["Key"])} if "Key" in stat else stat

    def version(self) -> dict:
        return self._json("version")

    def id(self) -> dict:
        return self._json("id")


class _ApiBlocks:
    """The read side of a Blockstore over a KuboClient's block/get: a block is fetched when the
    Reader first asks for it, kept, and verified against its CID at every get."""

    def __init__(self, client: KuboClient):
        from iexec_kit.storage.blockstore import MemoryBlockstore

        self.client, self._kept = client, MemoryBlockstore()

    def get(self, cid: Cid) -> bytes:
        if not self._kept.has(cid):
            self._kept.put(cid, self.client._block(cid))
        return self._kept.get(cid)

    def has(self, cid: Cid) -> bool:
        return self._kept.has(cid)

    def put(self, cid: Cid, block: bytes) -> None:
        self._kept.put(cid, block)

    def size(self, cid: Cid) -> int:
        return len(self.get(cid))


def open_ipfs(*, api: str | None = None, repo=None):
    """The IPFS backend the kit should use: a Kubo API when one is named (``api=`` or
    $IEXEC_KIT_IPFS_API), else the embedded node over ``repo``."""
    api = api or os.environ.get(ENV_API)
    if api:
        return KuboClient(api)
    from iexec_kit.storage.node import IpfsNode

    return IpfsNode(repo)
