"""A workshop's LAN: the node's services opened to other laptops, each behind a front of its own.

``iexec-kit node --listen ADDRESS`` leaves every service where it is (127.0.0.1) and opens, on
``ADDRESS``, one :class:`LanFront` per service: a reverse proxy that forwards to the loopback
service and asks the workshop's token for every write. The token travels in the URL (the
*joined URL* ``http://HOST:PORT/t/<token>``, which any HTTP or JSON-RPC client keeps as it is) or
in an ``X-Iexec-Kit-Token`` header; the front strips it before forwarding.

What counts as a write (:class:`Rules`):

- ``JSONRPC`` (the chain): each call's method goes through :mod:`iexec_kit.chain.rpc_filter`:
  reads pass, ``eth_sendRawTransaction`` needs the token, the rest (``eth_sendTransaction``,
  ``eth_sign*``, ``personal_*``, ``hardhat_*``, ``evm_*``, ``debug_*``, ...) is refused with a
  JSON-RPC error naming the method and the reason; batches are filtered call by call;
- ``IPFS``: the gateway (``GET /ipfs/...``) and the Kubo API's reads (cat, get, ls, block get
  and stat, pin ls, version, id) stay open; every other API call (add, pin add/rm) needs it;
- ``WRITES`` (result proxy, market API, SMS): GET and HEAD stay open, any other method needs it
  (on top of the signatures those services check themselves);
- ``ALL`` (the scheduler): every call needs it (then the worker signs in with its wallet).

    gate = LanGate("0.0.0.0")                      # a fresh token, the LAN address found
    gate.open("chain", "chain (JSON-RPC)", "http://127.0.0.1:8545", Rules.JSONRPC)
    gate.joined("chain")                           # http://192.168.1.10:41234/t/<token>
    gate.stop()
"""

from __future__ import annotations

import hmac
import json
import secrets
import socket
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit, urlunsplit

from iexec_kit.chain.rpc_filter import (
    NO_TOKEN_CODE,
    REFUSED_CODE,
    refusal_message,
    verdict,
)
from iexec_kit.errors import KitValueError

#: the joined URL's path segment before the token: http://HOST:PORT/t/<token>/...
TOKEN_SEGMENT = "t"
#: the header that may carry the token instead
TOKEN_HEADER = "x-iexec-kit-token"
#: the Kubo API's calls that only read (the others need the token over the LAN)
IPFS_READS = frozenset(
    {
        "/api/v0/cat",
        "/api/v0/get",
        "/api/v0/ls",
        "/api/v0/block/get",
        "/api/v0/block/stat",
        "/api/v0/pin/ls",
        "/api/v0/version",
        "/api/v0/id",
    }
)
#: the largest JSON-RPC body the chain's front reads (a batch, a contract deployment)
MAX_RPC_BODY = 8 * 1024 * 1024
#: seconds the front waits for its service (an upload, a slow eth_call)
UPSTREAM_TIMEOUT = 180.0
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    TOKEN_HEADER,
}
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


class Rules(Enum):
    """Which calls need the workshop's token (see the module docstring)."""

    JSONRPC = "jsonrpc"
    IPFS = "ipfs"
    WRITES = "writes"
    ALL = "all"


def new_token() -> str:
    """A fresh workshop token (URL-safe, 128 bits)."""
    return secrets.token_urlsafe(16)


def join_token(url: str, token: str | None) -> str:
    """``url`` with the token joined: ``http://HOST:PORT/t/<token>`` (unchanged without one, or
    when it already carries a token)."""
    if not token or split_token(url)[1]:
        return url
    return url.rstrip("/") + f"/{TOKEN_SEGMENT}/{token}"


def split_token(url: str) -> tuple[str, str | None]:
    """(the URL without its joined token, the token or None)."""
    parts = urlsplit(url)
    segments = parts.path.strip("/").split("/")
    if len(segments) >= 2 and segments[0] == TOKEN_SEGMENT and segments[1]:
        rest = "/".join(segments[2:])
        path = f"/{rest}" if rest else ""
        return urlunsplit(parts._replace(path=path)), segments[1]
    return url, None


def redact_token(text: str) -> str:
    """``text`` with every joined token (``/t/<token>``) replaced by ``/t/<token>``: for logs and
    error messages, which may be read by others than the facilitator."""
    import re

    return re.sub(rf"/{TOKEN_SEGMENT}/[^/\s'\"]+", f"/{TOKEN_SEGMENT}/<token>", text)


def advertised_host(listen: str) -> str:
    """The address LAN users type: ``listen`` itself, or for 0.0.0.0 / :: this machine's address
    on its default route (127.0.0.1 when it has none)."""
    if listen not in ("0.0.0.0", "::", ""):
        return listen
    family = socket.AF_INET6 if listen == "::" else socket.AF_INET
    probe = ("fd00::1", 9) if family == socket.AF_INET6 else ("10.255.255.255", 9)
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect(probe)  # UDP: no packet is sent, the kernel only picks the route
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"


def check_listen(listen: str) -> str:
    """An address to bind: an IP (0.0.0.0 for every interface) or localhost."""
    import ipaddress

    if listen == "localhost":
        return "127.0.0.1"
    try:
        ipaddress.ip_address(listen)
    except ValueError:
        raise KitValueError(
            "--listen takes an IP address of this machine",
            expected="0.0.0.0 (every interface), this machine's LAN address, or 127.0.0.1",
            got=repr(listen),
            hint="`ip addr` lists this machine's addresses",
        ) from None
    return listen


def _token_sentence(what: str) -> str:
    return (
        f"{what} needs the workshop's token over the LAN: use the joined URL "
        f"(http://HOST:PORT/{TOKEN_SEGMENT}/<token>) the facilitator gives (iexec-kit worker "
        "--token <token> joins it for you), or send the header X-Iexec-Kit-Token"
    )


class LanFront:
    """One service opened to the LAN: a reverse proxy on ``host`` forwarding to ``upstream``
    (a loopback URL), which asks ``token`` for what ``rules`` call a write."""

    def __init__(
        self,
        name: str,
        upstream: str,
        *,
        host: str,
        token: str,
        rules: Rules,
        port: int = 0,
        advertise: str | None = None,
    ):
        self.name, self.upstream = name, upstream.rstrip("/")
        self.host, self.port, self.token, self.rules = host, port, token, rules
        self.advertise = advertise or advertised_host(host)
        self.server = None
        self.refused: list[str] = []  # what it refused, newest last (a facilitator's glance)

    def start(self) -> LanFront:
        from iexec_kit.storage.server import BackgroundServer

        self.server = BackgroundServer(
            _front_app(self), self.host, self.port, name=f"lan-{self.name}", allow_lan=True
        ).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def url(self) -> str:
        """The LAN URL, without the token (reads)."""
        host = f"[{self.advertise}]" if ":" in self.advertise else self.advertise
        return f"http://{host}:{self.server.port}"

    @property
    def joined_url(self) -> str:
        """The LAN URL with the token joined (writes)."""
        return join_token(self.url, self.token)

    def _note(self, line: str) -> None:
        self.refused.append(line)
        del self.refused[:-50]

    # ----- the policy, without HTTP -----------------------------------------------------------
    def needs_token(self, method: str, path: str) -> bool:
        """Whether an HTTP call (not JSON-RPC) needs the token under this front's rules."""
        if self.rules is Rules.ALL:
            return True
        if self.rules is Rules.WRITES:
            return method.upper() not in _READ_METHODS
        if self.rules is Rules.IPFS:
            if path.startswith("/api/"):
                return path.rstrip("/") not in IPFS_READS
            return method.upper() not in _READ_METHODS
        return False  # JSON-RPC: decided call by call

    def token_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode(), self.token.encode())

    def filter_rpc(self, payload, has_token: bool):
        """(what to forward or None, the refusals by position): a single call or a batch."""
        batch = isinstance(payload, list)
        calls = payload if batch else [payload]
        forward, refusals = [], {}
        for i, call in enumerate(calls):
            method = call.get("method") if isinstance(call, dict) else None
            cid = call.get("id") if isinstance(call, dict) else None
            v = verdict(method)
            if not v.allowed:
                refusals[i] = _rpc_error(cid, REFUSED_CODE, refusal_message(v), method, v.reason)
                self._note(f"refused {v.method}: {v.reason}")
            elif v.kind == "write" and not has_token:
                reason = _token_sentence(v.method)
                refusals[i] = _rpc_error(cid, NO_TOKEN_CODE, reason, method, "no token")
                self._note(f"refused {v.method}: no token")
            else:
                forward.append(call)
        if not batch:
            return (forward[0] if forward else None), refusals
        return (forward or None), refusals


def _rpc_error(cid, code: int, message: str, method, reason: str) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": cid,
        "error": {"code": code, "message": message, "data": {"method": method, "reason": reason}},
    }


def _merge_batch(calls: list, forwarded: list, answers, refusals: dict) -> list:
    """The batch's answers in the calls' order: the node's (matched by id) and the refusals."""
    answers = answers if isinstance(answers, list) else []
    by_id = {json.dumps(a.get("id")): a for a in answers if isinstance(a, dict)}
    queue = list(answers)
    out = []
    for i, call in enumerate(calls):
        if i in refusals:
            out.append(refusals[i])
            continue
        key = json.dumps(call.get("id") if isinstance(call, dict) else None)
        answer = by_id.pop(key, None) if key in by_id else (queue.pop(0) if queue else None)
        if answer is not None and answer in queue:
            queue.remove(answer)
        out.append(answer)
    return out


def _front_app(front: LanFront):
    """The front's ASGI app (Starlette): strip the token, check it, filter, forward."""
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    state: dict = {}

    def client() -> httpx.AsyncClient:
        if "client" not in state:  # created in the server's own event loop
            state["client"] = httpx.AsyncClient(
                base_url=front.upstream,
                timeout=httpx.Timeout(UPSTREAM_TIMEOUT, connect=10.0),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            )
        return state["client"]

    def refuse(status: int, message: str, path: str) -> JSONResponse:
        front._note(f"{status} {path}: {message.split(':')[0]}")
        return JSONResponse(
            {"status": status, "message": message, "path": path, "service": front.name},
            status_code=status,
        )

    async def handle(request: Request):
        raw_path = request.url.path
        path, token = raw_path, request.headers.get(TOKEN_HEADER)
        segments = raw_path.split("/", 3)  # ["", "t", "<token>", rest]
        joined = len(segments) >= 3 and segments[1] == TOKEN_SEGMENT
        if joined:
            token = segments[2]
            path = "/" + (segments[3] if len(segments) > 3 else "")
        parts = path.split("/")[1:]
        if any(p in (".", "..") for p in parts) or "" in parts[:-1]:
            # the upstream URL would be normalized after the rules were decided on this path
            return refuse(
                400,
                "a path with '.', '..' or an empty segment ('//') is not forwarded: "
                "ask for the resource by its plain path",
                path,
            )
        if token is not None and not front.token_ok(token):
            return refuse(
                401,
                "the workshop's token is wrong: ask the facilitator for the joined URL "
                "(iexec-kit node --listen prints it)",
                path,
            )
        has_token = token is not None
        query = request.url.query
        target = path + (f"?{query}" if query else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP]
        if request.client is not None:
            headers.append(("x-forwarded-for", request.client.host))
        if front.rules is Rules.JSONRPC:
            return await rpc(request, target, headers, has_token)
        if front.needs_token(request.method, path) and not has_token:
            return refuse(401, _token_sentence(f"{request.method} {path}"), path)
        try:
            upstream = await client().send(
                client().build_request(
                    request.method, target, headers=headers, content=request.stream()
                ),
                stream=True,
            )
        except httpx.HTTPError as exc:
            return refuse(502, f"the {front.name} behind this front does not answer: {exc}", path)
        out_headers = {
            k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP - {"host"}
        }
        location = out_headers.get("location")
        if joined and location and location.startswith("/"):
            out_headers["location"] = f"/{TOKEN_SEGMENT}/{token}{location}"

        async def body():
            try:
                async for chunk in upstream.aiter_raw():
                    yield chunk
            finally:
                await upstream.aclose()

        return StreamingResponse(body(), status_code=upstream.status_code, headers=out_headers)

    async def rpc(request: Request, target: str, headers, has_token: bool):
        if request.method != "POST":
            return JSONResponse(
                _rpc_error(None, -32600, "a JSON-RPC call is an HTTP POST", None, "not POST"),
                status_code=405,
            )
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_RPC_BODY:
                return JSONResponse(
                    _rpc_error(
                        None, -32600, f"the body is larger than {MAX_RPC_BODY} B", None, "size"
                    ),
                    status_code=413,
                )
        try:
            payload = json.loads(bytes(body))
        except ValueError:
            return JSONResponse(_rpc_error(None, -32700, "the body is not JSON", None, "parse"))
        if not isinstance(payload, dict | list) or payload == []:
            return JSONResponse(
                _rpc_error(None, -32600, "a JSON-RPC call or a batch of them", None, "shape")
            )
        forward, refusals = front.filter_rpc(payload, has_token)
        answers = None
        if forward is not None:
            try:
                res = await client().post(
                    target,
                    content=json.dumps(forward),
                    headers={"content-type": "application/json"},
                )
                answers = res.json()
            except (httpx.HTTPError, ValueError) as exc:
                message = f"the chain behind this front does not answer: {exc}"
                return JSONResponse(_rpc_error(None, -32603, message, None, "upstream"), 502)
        if not isinstance(payload, list):
            return JSONResponse(answers if forward is not None else refusals[0])
        return JSONResponse(_merge_batch(payload, forward or [], answers, refusals))

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    return Starlette(
        routes=[
            Route("/", handle, methods=methods),
            Route("/{path:path}", handle, methods=methods),
        ]
    )


@dataclass
class LanService:
    """One opened service: its key (as in node.json's urls), title, front, and what a LAN user
    can do with it (the banner's sentence)."""

    key: str
    title: str
    front: LanFront
    what: str


class LanGate:
    """The node's services opened on one LAN address with one token (see the module docstring)."""

    def __init__(self, listen: str, *, token: str | None = None, advertise: str | None = None):
        self.listen = check_listen(listen)
        self.token = token or new_token()
        self.advertise = advertise or advertised_host(self.listen)
        self.services: dict[str, LanService] = {}

    def open(
        self, key: str, title: str, upstream: str, rules: Rules, what: str, *, port: int = 0
    ) -> LanFront:
        """Start a front for the service at ``upstream``; returns it."""
        front = LanFront(
            key,
            upstream,
            host=self.listen,
            token=self.token,
            rules=rules,
            port=port,
            advertise=self.advertise,
        ).start()
        self.services[key] = LanService(key, title, front, what)
        return front

    def url(self, key: str) -> str:
        return self.services[key].front.url

    def joined(self, key: str) -> str:
        return self.services[key].front.joined_url

    @property
    def urls(self) -> dict:
        """key -> LAN URL (without the token)."""
        return {k: s.front.url for k, s in self.services.items()}

    def as_dict(self) -> dict:
        """What node.json and lan.json record (the token only in lan.json)."""
        return {
            "listen": self.listen,
            "advertise": self.advertise,
            "urls": self.urls,
        }

    def stop(self) -> None:
        for s in reversed(list(self.services.values())):
            s.front.stop()


__all__ = [
    "IPFS_READS",
    "TOKEN_HEADER",
    "TOKEN_SEGMENT",
    "LanFront",
    "LanGate",
    "LanService",
    "Rules",
    "advertised_host",
    "check_listen",
    "join_token",
    "new_token",
    "split_token",
]
