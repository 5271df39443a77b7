"""Run an ASGI app (FastAPI) on 127.0.0.1 in a background thread, with a clean stop.

Works the same in a script, under pytest and inside a Jupyter kernel (whose own event loop is
left alone: the server gets a fresh loop in its own thread). Port 0 picks a free port; the
bound one is in ``.port`` / ``.url`` once ``start()`` returns.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading

from iexec_kit.storage import messages as M
from iexec_kit.storage.errors import StorageError

LOOPBACK_NAMES = {"localhost"}

#: Seconds a client has to send a request's whole head (request line and headers), from the
#: connection or the end of the previous answer; a client that trickles headers is cut.
HEADER_TIMEOUT = 10.0
#: Seconds an idle keep-alive connection stays open (uvicorn's timeout_keep_alive).
KEEP_ALIVE_TIMEOUT = 5
#: Bytes of a request head h11 buffers at most (uvicorn's h11_max_incomplete_event_size).
MAX_HEAD_BYTES = 64 * 1024
#: Connections served at once; past it uvicorn answers 503 (uvicorn's limit_concurrency).
MAX_CONNECTIONS = 256


def _timed_h11():
    """uvicorn's h11 protocol with a deadline on each request head: uvicorn's keep-alive timer
    restarts on every byte received, so a client sending one header byte every few seconds
    would hold its connection (and a slot) forever."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimedH11Protocol(H11Protocol):
        _head_timer = None
        _head_for = None  # the request cycle in progress when the deadline was set

        def _arm_head_deadline(self) -> None:
            self._disarm_head_deadline()
            self._head_for = self.cycle
            self._head_timer = self.loop.call_later(HEADER_TIMEOUT, self._head_too_slow)

        def _disarm_head_deadline(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_too_slow(self) -> None:
            self._head_timer = None
            if self.cycle is self._head_for and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm_head_deadline()

        def connection_lost(self, exc) -> None:
            self._disarm_head_deadline()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if self._head_timer is not None and self.cycle is not self._head_for:
                self._disarm_head_deadline()  # a whole head arrived: a request is running

        def on_response_complete(self) -> None:
            if not self.transport.is_closing():
                self._arm_head_deadline()  # the next request's head, if any, is timed too
            super().on_response_complete()

    return TimedH11Protocol


def check_loopback(host: str) -> str:
    """The kit's services listen on the loopback interface only (the kit runs offline)."""
    if host in LOOPBACK_NAMES:
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise StorageError(
        M.SERVER_START,
        expected="a loopback address (127.0.0.1)",
        got=host,
        hint="the kit's services stay on this machine; use 127.0.0.1",
    )


class BackgroundServer:
    """uvicorn serving ``app`` in a daemon thread.

    >>> with BackgroundServer(app) as srv:     # port 0: a free port
    ...     requests.post(srv.url + "/api/v0/version")
    """

    def __init__(
        self,
        app,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        name: str = "http",
        allow_lan: bool = False,
        lifespan: bool = False,
    ):
        # allow_lan: a workshop's LAN front, opened to a LAN on purpose (``--listen``); every
        # other service stays on the loopback interface. lifespan: the app's ASGI lifespan runs
        # (its startup and shutdown, on the server's own loop: what it opened there, it closes)
        host = host if allow_lan and host else check_loopback(host)
        self.app, self.host, self.requested_port, self.name = app, host, port, name
        self.lifespan = lifespan
        self.port: int | None = None
        self._server = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 15.0) -> BackgroundServer:
        """Bind, start serving in a daemon thread, return once uvicorn is ready."""
        import uvicorn

        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # accepted connections inherit it (Linux): without it a kept-alive connection (the SDK's
        # fetch, a requests.Session) waits ~40 ms per answer, Nagle against delayed ACKs
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.host, self.requested_port))
        except OSError as exc:
            sock.close()
            raise StorageError(
                M.SERVER_START,
                expected=f"{self.host}:{self.requested_port} free",
                got=str(exc),
                hint=M.HINT_PORT,
            ) from exc
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="on" if self.lifespan else "off",
            timeout_graceful_shutdown=2,
            http=_timed_h11(),
            timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            limit_concurrency=MAX_CONNECTIONS,
        )
        self._server = uvicorn.Server(config)

        def run():
            try:
                asyncio.run(self._server.serve(sockets=[sock]))
            except BaseException as exc:  # surfaced by start() / stop()
                self._error = exc
            finally:
                sock.close()

        self._thread = threading.Thread(
            target=run, name=f"iexec-kit-{self.name}-{self.port}", daemon=True
        )
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise StorageError(M.SERVER_START, got=repr(self._error), hint=M.HINT_PORT)
            if waited > timeout:
                self.stop()
                raise StorageError(
                    M.SERVER_START,
                    expected=f"ready within {timeout} s",
                    got="no answer",
                    hint=M.HINT_PORT,
                )
            threading.Event().wait(0.01)
            waited += 0.01
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for its thread; idempotent."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> BackgroundServer:
        return self.start() if not self.running else self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<BackgroundServer {self.name} {self.url if self.port else ''} {state}>"


class HttpService:
    """What every kit service with an HTTP API shares (the result proxy, the SMS, the market
    API, a LAN front): ``start(host, port)`` serves :meth:`http_app` in a
    :class:`BackgroundServer` (loopback only; port 0: a free one), ``stop()`` is idempotent,
    ``url`` and ``port`` are where it listens, and ``with service:`` starts and stops it."""

    #: the server thread's name
    SERVICE_NAME = "service"
    #: whether it may listen beyond the loopback interface (a workshop's LAN front, asked for)
    ALLOW_LAN = False
    #: whether its app has an ASGI lifespan to run (startup and shutdown on the server's loop)
    LIFESPAN = False
    server: BackgroundServer | None = None

    def http_app(self):  # pragma: no cover - every service defines it
        raise NotImplementedError

    def start(self, host: str = "127.0.0.1", port: int = 0):
        if self.server is not None and self.server.running:
            return self  # already serving
        self.server = BackgroundServer(
            self.http_app(),
            host,
            port,
            name=self.SERVICE_NAME,
            allow_lan=self.ALLOW_LAN,
            lifespan=self.LIFESPAN,
        )
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int | None:
        """The port it listens on (None before :meth:`start`)."""
        return self.server.port if self.server is not None else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
