"""A workshop's LAN: the node's services opened to other laptops, each behind a front of its own.

``iexec-kit node --listen ADDRESS`` leaves every service where it is (127.0.0.1) and opens, on
``ADDRESS``, one :class:`LanFront` per service: a reverse proxy that forwards to the loopback
service and asks the workshop's token for every write. The token travels in the URL (the
*joined URL* ``http://HOST:PORT/t/<token>``, which any HTTP or JSON-RPC client keeps as it is) or
in an ``X-Iexec-Kit-Token`` header; the front strips it before forwarding.

What each front lets a LAN user do without the token, with it, and never is one list,
:data:`iexec_kit.storage.lan_policy.LAN_USES` (the start banner and the README's table are made
from it). A JSON-RPC batch is filtered call by call and answered call by call (:func:`rpc_answers`).

    gate = LanGate("0.0.0.0")                      # a fresh token, the LAN address found
    gate.open("chain", "http://127.0.0.1:8545")    # its title and rules: LAN_USES["chain"]
    gate.joined("chain")                           # http://192.168.1.10:41234/t/<token>
    gate.stop()
"""

from __future__ import annotations

import hmac
import json
import secrets
import socket
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from iexec_kit.chain.rpc_filter import (
    NO_TOKEN_CODE,
    REFUSED_CODE,
    refusal_message,
    verdict,
)
from iexec_kit.errors import KitValueError
from iexec_kit.storage.lan_policy import IPFS_READS, LAN_USES, Rules, needs_token
from iexec_kit.storage.server import HttpService

#: the joined URL's path segment before the token: http://HOST:PORT/t/<token>/...
TOKEN_SEGMENT = "t"
#: the header that may carry the token instead
TOKEN_HEADER = "x-iexec-kit-token"
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
#: the JSON-RPC error code of a call the chain behind the front left without an answer
UPSTREAM_CODE = -32603
_JSON_TYPES = {
    dict: "object",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


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


def _stopped_sentence(name: str) -> str:
    return (
        f"this front to the {name} is not serving (stopped, or not started yet): ask the "
        "facilitator whether the node is running (iexec-kit node --listen)"
    )


class LanFront(HttpService):
    """One service opened to the LAN: a reverse proxy on ``host`` forwarding to ``upstream``
    (a loopback URL), which asks ``token`` for what ``rules`` call a write. It is a
    :class:`~iexec_kit.storage.server.HttpService` that may listen beyond the loopback
    interface; its forwarding client lives on the server's loop and is closed when it stops."""

    ALLOW_LAN = True  # what --listen asked for
    LIFESPAN = True  # the forwarding client: opened at start, closed at stop, on the server's loop

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
        self.host, self.token, self.rules = host, token, rules
        self.requested_port = port
        self.advertise = advertise or advertised_host(host)
        self.SERVICE_NAME = f"lan-{name}"  # its server thread's name
        self.server = None
        self.refused: list[str] = []  # what it refused, newest last (a facilitator's glance)

    def start(self, host: str | None = None, port: int | None = None) -> LanFront:
        """Serve on ``host`` / ``port`` (by default the ones it was made with)."""
        return super().start(host or self.host, self.requested_port if port is None else port)

    def http_app(self):
        return _front_app(self)

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
        return needs_token(self.rules, method, path)

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


def _rpc_error(cid, code: int, message: str, method, reason: str, **data) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": cid,
        "error": {
            "code": code,
            "message": message,
            "data": {"method": method, "reason": reason, **data},
        },
    }


def _is_answer(a) -> bool:
    """A well-formed JSON-RPC answer: an object with a result or (exclusive) an error object
    carrying an integer code and a message."""
    if not isinstance(a, dict) or ("result" in a) == ("error" in a):
        return False
    if "result" in a:
        return True
    err = a["error"]
    return (
        isinstance(err, dict)
        and isinstance(err.get("code"), int)
        and not isinstance(err.get("code"), bool)
        and isinstance(err.get("message"), str)
    )


def _by_number(answers, n: int, batch: bool) -> tuple[dict, str, dict]:
    """The upstream's answers to ``n`` calls the front numbered 0..n-1: ({number: answer}, why
    a call has none, extra error data), every answer checked well-formed and claimed once."""
    if not batch:
        if _is_answer(answers) and "error" in answers and answers.get("id") is None:
            answers = {**answers, "id": 0}  # an error about the one call sent (e.g. its shape)
        answers = [answers]
    elif isinstance(answers, dict) and _is_answer(answers) and "error" in answers:
        err = answers["error"]
        why = (
            f"the chain behind this front answered the whole batch with one error "
            f"({err['code']}: {err['message'][:200]}), none for this call"
        )
        return {}, why, {"upstream": {"code": err["code"], "message": err["message"][:200]}}
    elif not isinstance(answers, list):
        shown = _JSON_TYPES.get(type(answers), "value")
        why = f"the chain behind this front answered the batch with a JSON {shown}, not a list"
        return {}, why, {}
    got: dict = {}
    for a in answers:
        number = a.get("id") if isinstance(a, dict) else None
        if (
            _is_answer(a)
            and isinstance(number, int)
            and not isinstance(number, bool)
            and 0 <= number < n
        ):
            got.setdefault(number, a)  # a second answer to one call is not taken
    why = (
        f"the chain behind this front answered {len(got)} of the {n} calls it was sent "
        "(well-formed, with the ids they were sent with), none for this one"
        if batch
        else "the chain behind this front gave no well-formed answer to this call"
    )
    return got, why, {}


def rpc_answers(
    calls: list,
    forwarded: list,
    answers,
    refusals: dict,
    *,
    batch: bool = True,
    problem: str | None = None,
) -> list:
    """One answer per call, in the calls' order: a refusal, or the upstream's answer to the
    call (it was forwarded numbered by its position in ``forwarded``, so two calls that share
    an id, or answers out of order, are not mixed up) with the caller's id back in it, or an
    error saying why the upstream left it without one (``problem``: it did not answer at all).
    A call without an id is answered too, with id null."""
    if problem is not None:
        got, why, extra = {}, problem, {}
    else:
        got, why, extra = _by_number(answers, len(forwarded), batch)
    out, number = [], 0
    for i, call in enumerate(calls):
        if i in refusals:
            out.append(refusals[i])
            continue
        cid, method = call.get("id"), call.get("method")  # forwarded: a JSON object
        answer = got.get(number)
        if answer is not None:
            out.append({"jsonrpc": "2.0", **answer, "id": cid})
        else:
            out.append(_rpc_error(cid, UPSTREAM_CODE, why, method, "upstream", **extra))
        number += 1
    return out


def _front_app(front: LanFront):
    """The front's ASGI app (Starlette): strip the token, check it, filter, forward."""
    import anyio
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    state: dict = {}  # "client": the forwarding client, from the startup to the shutdown

    @asynccontextmanager
    async def lifespan(app):
        # created here, in the server's own event loop, and only here: a request that comes
        # before the startup or after the shutdown is answered 503 (no client left unclosed)
        state["client"] = httpx.AsyncClient(
            base_url=front.upstream,
            timeout=httpx.Timeout(UPSTREAM_TIMEOUT, connect=10.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )
        try:
            yield
        finally:  # the server stops: its connections to the upstream close
            await state.pop("client").aclose()

    class Forwarded(StreamingResponse):
        """The upstream's answer streamed back; the upstream response is closed however the
        streaming ends (done, failed, or never begun: the caller left before it started),
        so its pooled connection is always given back."""

        def __init__(self, upstream: httpx.Response, headers: dict):
            super().__init__(upstream.aiter_raw(), upstream.status_code, headers)
            self.upstream = upstream

        async def __call__(self, scope, receive, send):
            try:
                await super().__call__(scope, receive, send)
            finally:
                with anyio.CancelScope(shield=True):
                    await self.upstream.aclose()

    def stopped(path: str) -> JSONResponse:
        return refuse(503, _stopped_sentence(front.name), path)

    def refuse(status: int, message: str, path: str) -> JSONResponse:
        front._note(f"{status} {path}: {message.split(':')[0]}")
        return JSONResponse(
            # "error" too: iExec's SDK prints a market API answer's json.error
            {
                "status": status,
                "message": message,
                "error": message,
                "path": path,
                "service": front.name,
            },
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
        client = state.get("client")
        if client is None:
            return stopped(path)
        try:
            upstream = await client.send(
                client.build_request(
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
        return Forwarded(upstream, out_headers)

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
        batch = isinstance(payload, list)
        calls = payload if batch else [payload]
        forwarded = (forward or []) if batch else ([forward] if forward is not None else [])
        answers, problem, status = None, None, 200
        client = state.get("client")
        if forwarded and client is None:
            problem, status = _stopped_sentence(front.name), 503
        elif forwarded:
            numbered = [{**call, "id": n} for n, call in enumerate(forwarded)]
            try:
                res = await client.post(
                    target,
                    content=json.dumps(numbered if batch else numbered[0]),
                    headers={"content-type": "application/json"},
                )
                answers = res.json()
            except (httpx.HTTPError, ValueError) as exc:
                problem = f"the chain behind this front does not answer: {exc}"
                # a batch is answered call by call (web3.py and ethers raise on a non-2xx
                # status, and would hide the per-call errors and refusals); one call: 502
                status = 200 if batch else 502
        out = rpc_answers(calls, forwarded, answers, refusals, batch=batch, problem=problem)
        return JSONResponse(out if batch else out[0], status_code=status)

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    return Starlette(
        routes=[
            Route("/", handle, methods=methods),
            Route("/{path:path}", handle, methods=methods),
        ],
        lifespan=lifespan,
    )


@dataclass
class LanService:
    """One opened service: its key (as in node.json's urls), title, front, and what a LAN user
    can do with it (the banner's sentence, from :data:`LAN_USES`)."""

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

    def open(self, key: str, upstream: str, *, port: int = 0) -> LanFront:
        """Start a front for the service ``key`` (its title and rules: :data:`LAN_USES`) at
        ``upstream``; returns it."""
        use = LAN_USES.get(key)
        if use is None:
            raise KitValueError(
                "no LAN policy for this service",
                expected=" or ".join(LAN_USES),
                got=repr(key),
                hint="add the service to LAN_USES in iexec_kit/storage/lan_policy.py",
            )
        front = LanFront(
            key,
            upstream,
            host=self.listen,
            token=self.token,
            rules=use.rules,
            port=port,
            advertise=self.advertise,
        ).start()
        self.services[key] = LanService(key, use.title, front, use.what)
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
    "LAN_USES",
    "TOKEN_HEADER",
    "TOKEN_SEGMENT",
    "LanFront",
    "LanGate",
    "LanService",
    "Rules",
    "UPSTREAM_CODE",
    "advertised_host",
    "check_listen",
    "join_token",
    "new_token",
    "rpc_answers",
    "split_token",
]
