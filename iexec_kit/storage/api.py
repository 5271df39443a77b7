"""The Kubo RPC API subset and a path gateway, over the embedded node (FastAPI).

RPC (every call is POST, as Kubo): /api/v0/add, cat, get, ls, pin/add, pin/ls, pin/rm, version,
id, block/get, block/stat. Errors come back as Kubo's JSON ``{"Message", "Code", "Type"}``;
a malformed CID is a 400 at once and an unknown one a 404 (Kubo would search the network; the
kit's node is alone, so it answers at once).

Gateway: GET/HEAD /ipfs/<cid>[/path] with a content type, byte ranges and, for a folder, its
index.html or a listing, so a browser or an <img> can load results.
"""

# No `from __future__ import annotations` here: FastAPI reads the handlers' Request annotations.
import html
import json
import mimetypes
import os
import tarfile
import urllib.parse
from collections.abc import Iterator

from python_multipart.multipart import parse_options_header

from iexec_kit.storage import messages as M
from iexec_kit.storage.dagpb import DataType
from iexec_kit.storage.errors import (
    ApiArgumentError,
    BlockNotFoundError,
    CorruptBlockError,
    InvalidCidError,
    PathEscapeError,
    StorageError,
    UnixfsError,
)
from iexec_kit.storage.node import IpfsNode
from iexec_kit.storage.unixfs import check_name

_STATUS = [
    (ApiArgumentError, 400),
    (InvalidCidError, 400),
    (PathEscapeError, 400),
    (BlockNotFoundError, 404),
    (CorruptBlockError, 500),
    (UnixfsError, 400),
    (StorageError, 500),
]

_TRUE = {"1", "true", "yes", ""}

# Content from IPFS is foreign: a page served by the gateway gets an opaque origin, so its
# scripts cannot call the RPC API on the same port (the API refuses the "null" origin).
_GATEWAY_SAFETY = {
    "Content-Security-Policy": "sandbox allow-scripts allow-popups",
    "X-Content-Type-Options": "nosniff",
}


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.lower() in _TRUE


def _int(query, name: str, default: int | None, *, lo: int = 0, hi: int | None = None):
    """An integer query argument, or ApiArgumentError (a 400) for anything else."""
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < lo or (hi is not None and value > hi):
        span = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ApiArgumentError(M.API_BAD_ARG, expected=f"{name} an integer {span}", got=repr(raw))
    return value


def _params(*specs: tuple[str, str, bool, str]) -> dict:
    """OpenAPI query parameters (name, type, required, description) for a handler that reads
    its arguments from the request itself, so the spec still tells a client (or a fuzzer)."""
    return {
        "parameters": [
            {"name": n, "in": "query", "required": r, "description": d, "schema": {"type": t}}
            for n, t, r, d in specs
        ]
    }


_ARG = ("arg", "string", True, "a CID or an /ipfs/<cid>/path")
_ADD_PARAMS = _params(
    ("cid-version", "integer", False, "0 (default) or 1"),
    ("raw-leaves", "boolean", False, "raw leaves (default: cid-version 1)"),
    ("only-hash", "boolean", False, "compute CIDs, store nothing"),
    ("pin", "boolean", False, "pin the roots (default true)"),
    ("wrap-with-directory", "boolean", False, "wrap the entries in a folder"),
)
_CAT_PARAMS = _params(
    _ARG,
    ("offset", "integer", False, "first byte"),
    ("length", "integer", False, "at most this many bytes"),
)
_PIN_ADD_PARAMS = _params(_ARG, ("recursive", "boolean", False, "the whole DAG (default true)"))
_PIN_LS_PARAMS = _params(
    ("arg", "string", False, "only these CIDs"),
    ("type", "string", False, "all, recursive, direct or indirect"),
)


def sniff_content_type(name: str, head: bytes) -> str:
    """Content type from the file name, else from its first bytes (as a gateway does)."""
    guessed, _ = mimetypes.guess_type(name)
    if guessed:
        return guessed
    magic = [
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF8", "image/gif"),
        (b"PK\x03\x04", "application/zip"),
        (b"%PDF", "application/pdf"),
        (b"RIFF", "image/webp"),
    ]
    for prefix, kind in magic:
        if head.startswith(prefix):
            return kind
    try:
        head.decode("utf-8")
        return "text/plain; charset=utf-8"
    except UnicodeDecodeError:
        return "application/octet-stream"


def create_app(node: IpfsNode, *, api: bool = True, gateway: bool = True, allowed_origins=None):
    """A FastAPI app serving the Kubo RPC subset (``api``) and/or the path gateway.

    The RPC API accepts browser calls (an Origin header) from its own origin only, plus
    ``allowed_origins`` (default: $IEXEC_KIT_IPFS_ALLOWED_ORIGINS, comma-separated), as Kubo's
    API.HTTPHeaders Access-Control-Allow-Origin."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    app = FastAPI(
        title="iexec-kit IPFS node",
        version=node.version()["Version"],
        description="Kubo RPC API subset and path gateway of the kit's embedded node.",
    )
    app.state.node = node

    @app.exception_handler(StorageError)
    async def storage_error(request: Request, exc: StorageError):
        status = next(code for kind, code in _STATUS if isinstance(exc, kind))
        return JSONResponse({"Message": str(exc), "Code": 0, "Type": "error"}, status_code=status)

    def kubo_error(message: str, status: int = 400):
        return JSONResponse({"Message": message, "Code": 0, "Type": "error"}, status_code=status)

    # Kubo refuses RPC calls that a web page on another origin makes (CSRF); so does the kit.
    # A plain ASGI middleware: Starlette's BaseHTTPMiddleware would end a stream cut by a
    # corrupted block as if it were complete.
    app.add_middleware(_RefuseForeignOrigins, allowed=allowed_origins_from(allowed_origins))

    def arg(request: Request) -> str:
        values = request.query_params.getlist("arg")
        if not values:
            raise InvalidCidError(M.API_ARG, expected="?arg=<cid>", got="no arg", hint=M.HINT_CID)
        return values[0]

    if api:
        _add_rpc_routes(app, node, arg, kubo_error)
    if gateway:
        _add_gateway_routes(app, node)
    return app


def _add_rpc_routes(app, node: IpfsNode, arg, kubo_error) -> None:
    from fastapi import Request
    from fastapi.responses import Response, StreamingResponse
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException

    @app.post("/api/v0/add", openapi_extra=_ADD_PARAMS)
    async def add(request: Request):
        q = request.query_params
        cid_version = _int(q, "cid-version", 0, hi=1)
        raw_leaves = _flag(q.get("raw-leaves"), cid_version == 1)
        only_hash = _flag(q.get("only-hash"), False)
        pin = _flag(q.get("pin"), True)
        wrap = _flag(q.get("wrap-with-directory"), False)
        if q.get("hash", "sha2-256") != "sha2-256":
            return kubo_error(f"{M.CID_HASH} (hash={q.get('hash')})")
        if q.get("chunker", "size-262144") != "size-262144" or _flag(q.get("trickle"), False):
            return kubo_error("the kit's node supports Kubo's default chunker and layout only")
        ctype, options = parse_options_header(request.headers.get("content-type", ""))
        boundary = options.get(b"boundary", b"")
        if ctype != b"multipart/form-data" or not boundary:
            return kubo_error(M.API_NO_FILE)
        # The parser drops a part cut by a missing closing boundary without a word; the last
        # bytes of the body are kept to refuse such a body whole.
        tail = bytearray()
        receive = request.receive

        async def keep_tail():
            message = await receive()
            if message["type"] == "http.request":
                tail.extend(message.get("body", b""))
                del tail[: -(len(boundary) + 512)]
            return message

        request = Request(request.scope, keep_tail)
        try:
            form = await request.form(max_files=1_000_000, max_fields=1_000_000)
        except HTTPException as exc:  # Starlette's parse errors: Kubo's error shape instead
            return kubo_error(f"{M.UPLOAD_MALFORMED} ({exc.detail})")
        if b"--" + boundary + b"--" not in tail:
            await form.close()
            return kubo_error(f"{M.UPLOAD_MALFORMED} (no closing boundary: the body is cut)")
        parts = [(key, value) for key, value in form.multi_items() if hasattr(value, "file")]
        if not parts:
            return kubo_error(M.API_NO_FILE)
        builder = node.tree_builder(
            cid_version=cid_version, raw_leaves=raw_leaves, only_hash=only_hash
        )

        def work() -> list[dict]:
            lines: list[dict] = []
            for _, upload in parts:
                name = urllib.parse.unquote(upload.filename or "").strip("/") or "file"
                if (upload.content_type or "").startswith("application/x-directory"):
                    builder.add_dir(name)
                    continue
                upload.file.seek(0)
                path, added = builder.add_file(name, upload.file)
                lines.append({"Name": path, "Hash": str(added.cid), "Size": str(added.tsize)})
            for path, added in builder.finish():
                lines.append({"Name": path, "Hash": str(added.cid), "Size": str(added.tsize)})
            roots = list(builder.top.values())
            if wrap:
                wrapper = builder.importer.add_directory_entries(builder.top)
                lines.append({"Name": "", "Hash": str(wrapper.cid), "Size": str(wrapper.tsize)})
                roots = [wrapper]
            if pin and not only_hash:
                for root in roots:
                    node.pin_add(root.cid)
            return lines

        try:
            lines = await run_in_threadpool(work)
        finally:
            await form.close()
        body = "".join(json.dumps(line) + "\n" for line in lines)
        return Response(body, media_type="application/json", headers={"X-Chunked-Output": "1"})

    @app.post("/api/v0/cat", openapi_extra=_CAT_PARAMS)
    async def cat(request: Request):
        q = request.query_params
        offset = _int(q, "offset", 0)
        length = _int(q, "length", None)
        target = await run_in_threadpool(node.resolve, arg(request))
        iterator = await run_in_threadpool(node.read, target, offset, length)
        # StreamingResponse runs this sync iterator in a thread pool; blocks are verified as
        # read, and a bad block cuts the stream (the client sees an incomplete body).
        return StreamingResponse(
            iterator, media_type="text/plain", headers={"X-Stream-Output": "1"}
        )

    @app.post("/api/v0/get", openapi_extra=_params(_ARG))
    async def get(request: Request):
        path = arg(request)
        target = await run_in_threadpool(node.resolve, path)
        await run_in_threadpool(node.reader.check_complete, target)
        top = path.rstrip("/").rsplit("/", 1)[-1] if "/" in path.strip("/") else str(target)
        if top.startswith("/ipfs/"):
            top = str(target)
        check_name(top)  # /ipfs/<cid>/.. must not become a tar member named '..'

        # Every name is checked (a bounded walk) before the first byte, so a bad entry is a 400;
        # then the tar is written as the DAG is walked, nothing on disk. Starlette stops
        # iterating when the client goes away.
        await run_in_threadpool(_check_walk, node, target)
        return StreamingResponse(
            _tar_stream(node, target, top),
            media_type="application/x-tar",
            headers={"X-Stream-Output": "1"},
        )

    @app.post("/api/v0/ls", openapi_extra=_params(_ARG))
    async def ls(request: Request):
        target = await run_in_threadpool(node.resolve, arg(request))
        entries = await run_in_threadpool(node.ls, target)
        links = [
            {
                "Name": e.name,
                "Hash": str(e.cid),
                "Size": e.tsize,
                "Type": 1 if e.is_dir else 2,
                "Target": "",
            }
            for e in entries
        ]
        return {"Objects": [{"Hash": str(target), "Links": links}]}

    @app.post("/api/v0/pin/add", openapi_extra=_PIN_ADD_PARAMS)
    async def pin_add(request: Request):
        recursive = _flag(request.query_params.get("recursive"), True)
        target = await run_in_threadpool(node.resolve, arg(request))
        await run_in_threadpool(node.pin_add, target, recursive)
        return {"Pins": [str(target)]}

    # Sync handlers: FastAPI runs them in its thread pool, so a long walk never holds the
    # event loop (and the walks are bounded, see unixfs.Budget).
    @app.post("/api/v0/pin/ls", openapi_extra=_PIN_LS_PARAMS)
    def pin_ls(request: Request):
        kind = request.query_params.get("type", "all")  # Kubo's default
        pins = node.pin_ls(kind)
        wanted = request.query_params.getlist("arg")
        if wanted:
            keys = {}
            for value in wanted:
                cid = str(node.resolve(value))
                if cid not in pins:
                    return kubo_error(f"path '{value}' is not pinned", 400)
                keys[cid] = pins[cid]
            pins = keys
        return {"Keys": {cid: {"Type": kind_} for cid, kind_ in pins.items()}}

    @app.post("/api/v0/pin/rm", openapi_extra=_params(_ARG))
    def pin_rm(request: Request):
        target = node.resolve(arg(request))
        node.pin_rm(target)
        return {"Pins": [str(target)]}

    @app.post("/api/v0/version")
    async def version():
        return node.version()

    @app.post("/api/v0/id")
    async def ident():
        return node.id()

    @app.post("/api/v0/block/get", openapi_extra=_params(_ARG))
    async def block_get(request: Request):
        data = await run_in_threadpool(node.block_get, arg(request))
        return Response(data, media_type="application/octet-stream")

    @app.post("/api/v0/block/stat", openapi_extra=_params(_ARG))
    async def block_stat(request: Request):
        return await run_in_threadpool(node.block_stat, arg(request))


ENV_ALLOWED_ORIGINS = "IEXEC_KIT_IPFS_ALLOWED_ORIGINS"


def _normalise_origin(origin: str) -> str:
    """'HTTP://LocalHost:8888/' -> 'http://localhost:8888' (how browsers send an Origin)."""
    return origin.strip().rstrip("/").lower()


def allowed_origins_from(configured=None) -> frozenset[str]:
    """The extra web origins the RPC API accepts: ``configured`` (an iterable, or a string
    separated by commas/spaces), else $IEXEC_KIT_IPFS_ALLOWED_ORIGINS; none by default."""
    if configured is None:
        configured = os.environ.get(ENV_ALLOWED_ORIGINS, "")
    if isinstance(configured, str):
        configured = configured.replace(",", " ").split()
    return frozenset(_normalise_origin(o) for o in configured if o.strip())


def own_origins(scheme: str, host: str, port: int) -> set[str]:
    """The origins of the API itself: its scheme, its port, and the loopback spellings of the
    host it is served on (127.0.0.1 and localhost; [::1] and localhost)."""
    if host in ("127.0.0.1", "localhost"):
        hosts = {"127.0.0.1", "localhost"}
    elif host == "::1":
        hosts = {"[::1]", "localhost"}
    else:
        hosts = {f"[{host}]" if ":" in host else host}
    default = {"http": 80, "https": 443}.get(scheme)
    out = {f"{scheme}://{h}:{port}" for h in hosts}
    if port == default:
        out |= {f"{scheme}://{h}" for h in hosts}
    return out


class _RefuseForeignOrigins:
    """403 for /api/ calls whose Origin header is neither the API's own origin (the scheme,
    host and port it is served on) nor a configured one, as Kubo does: a page served by any
    other local port cannot add, pin or unpin. Calls without an Origin (curl, ipfshttpclient,
    the kit's own client) are not a browser's and stay accepted."""

    def __init__(self, app, allowed: frozenset[str] = frozenset()):
        self.app, self.allowed = app, allowed

    def _accepts(self, scope, origin: str) -> bool:
        if origin in self.allowed:
            return True
        server = scope.get("server")
        if not server or server[1] is None:
            return False
        return origin in own_origins(scope.get("scheme", "http"), server[0], server[1])

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"origin")
        if raw is None:
            return await self.app(scope, receive, send)
        origin = _normalise_origin(raw.decode("latin-1"))
        if not self._accepts(scope, origin):
            return await _send_json(
                send,
                403,
                {
                    "Message": f"{M.API_ORIGIN} (origin {origin!r}; {M.HINT_ORIGIN})",
                    "Code": 0,
                    "Type": "error",
                },
            )
        cors = [
            (b"access-control-allow-origin", raw),
            (b"vary", b"Origin"),
        ]
        if scope["method"] == "OPTIONS":  # a browser's preflight from an accepted origin
            asked = headers.get(b"access-control-request-headers", b"")
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": cors
                    + [
                        (b"access-control-allow-methods", b"POST"),
                        (b"access-control-allow-headers", asked),
                        (b"content-length", b"0"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers") or []) + cors}
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _send_json(send, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_TAR_BLOCK = 512
_TAR_RECORD = 20 * _TAR_BLOCK
_TAR_FLUSH = 1 << 16  # small headers are sent together, up to this many bytes


def _check_walk(node: IpfsNode, target) -> None:
    """Walk the DAG once (names and kinds only, within unixfs.Budget) before any byte."""
    for _ in node.walk(target):
        pass


def _tar_stream(node: IpfsNode, target, top: str) -> Iterator[bytes]:
    """The tar of ``target`` (as ``ipfs get`` sends it), produced while walking: headers and
    file bytes go out as they are made, so memory stays ~ one chunk and nothing is spooled."""
    pending = bytearray()
    total = 0
    for rel, cid, kind in node.walk(target):
        name = f"{top}/{rel}" if rel else top
        info = tarfile.TarInfo(name)
        if kind == DataType.DIRECTORY:
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            pending += info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        elif kind in (DataType.FILE, DataType.RAW):
            size = node.reader.size(cid)
            info.size, info.mode = size, 0o644
            pending += info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
            sent = 0
            for chunk in node.reader.read(cid):
                sent += len(chunk)
                if sent > size:
                    break
                pending += chunk
                if len(pending) >= _TAR_FLUSH:
                    total += len(pending)
                    yield bytes(pending)
                    pending.clear()
            if sent != size:  # a root whose filesize lies: cut the stream, never a bad tar
                raise CorruptBlockError(
                    M.PB_TRUNCATED, expected=f"{size} bytes of {cid}", got=f"{sent} bytes"
                )
            pending += bytes(-size % _TAR_BLOCK)
        else:
            continue  # symlinks and other kinds from foreign content are not sent
        if len(pending) >= _TAR_FLUSH:
            total += len(pending)
            yield bytes(pending)
            pending.clear()
    pending += bytes(2 * _TAR_BLOCK)  # the end-of-archive marker, padded as tarfile pads
    pending += bytes(-(total + len(pending)) % _TAR_RECORD)
    yield bytes(pending)


def _add_gateway_routes(app, node: IpfsNode) -> None:
    from fastapi import Request
    from fastapi.responses import HTMLResponse, Response, StreamingResponse
    from starlette.concurrency import run_in_threadpool

    async def gateway(request: Request, cid: str, path: str = ""):
        """A file (with type and ranges) or a folder (index.html or a listing) by IPFS path."""
        full = f"/ipfs/{cid}/{path}" if path else f"/ipfs/{cid}"
        target = await run_in_threadpool(node.resolve, full)
        name = path.rstrip("/").rsplit("/", 1)[-1] if path else ""
        if await run_in_threadpool(node.is_dir, target):
            entries = await run_in_threadpool(node.ls, target)
            index = next((e for e in entries if e.name == "index.html" and not e.is_dir), None)
            if index is None:
                if not request.url.path.endswith("/"):
                    return Response(status_code=301, headers={"Location": request.url.path + "/"})
                rows = "".join(
                    f'<li><a href="{html.escape(urllib.parse.quote(e.name))}'
                    f'{"/" if e.is_dir else ""}">{html.escape(e.name)}</a> {e.tsize} B</li>'
                    for e in entries
                )
                return HTMLResponse(
                    f"<!doctype html><title>{html.escape(full)}</title>"
                    f"<h1>Index of {html.escape(full)}</h1><ul>{rows}</ul>",
                    headers={"Etag": f'"{target}"', **_GATEWAY_SAFETY},
                )
            target, name = index.cid, "index.html"
        await run_in_threadpool(node.reader.check_complete, target)  # once, before any byte
        size = await run_in_threadpool(node.reader.size, target)
        head = await run_in_threadpool(node.reader.cat, target, 0, 512)
        headers = {
            "Etag": f'"{target}"',
            "Accept-Ranges": "bytes",
            "X-Ipfs-Path": full,
            "Cache-Control": "public, max-age=29030400, immutable",
            **_GATEWAY_SAFETY,
        }
        filename = request.query_params.get("filename")
        if filename:  # ?filename=x.zip[&download=true], as Kubo's gateway
            kind = "attachment" if _flag(request.query_params.get("download"), False) else "inline"
            headers["Content-Disposition"] = (
                f"{kind}; filename*=UTF-8''{urllib.parse.quote(filename, safe='')}"
            )
            name = filename
        ctype = sniff_content_type(name, head)
        start, length, status = 0, size, 200
        rng = request.headers.get("range")
        if rng and rng.startswith("bytes=") and "," not in rng:
            lo, _, hi = rng[6:].partition("-")
            try:
                if lo:
                    start = int(lo)
                    end = min(int(hi), size - 1) if hi else size - 1
                else:
                    start, end = max(size - int(hi), 0), size - 1
            except ValueError:
                return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
            if start >= size or end < start:
                return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
            length, status = end - start + 1, 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        headers["Content-Length"] = str(length)
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers, media_type=ctype)
        iterator = node.reader.read(target, start, length)
        return StreamingResponse(iterator, status_code=status, headers=headers, media_type=ctype)

    for route, suffix in (("/ipfs/{cid}", "root"), ("/ipfs/{cid}/{path:path}", "path")):
        for method in ("GET", "HEAD"):
            app.add_api_route(
                route, gateway, methods=[method], operation_id=f"gateway_{suffix}_{method.lower()}"
            )
