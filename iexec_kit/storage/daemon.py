"""The embedded node behind its HTTP API and gateway, as one object to start and stop."""

from __future__ import annotations

import os

from iexec_kit.storage.node import IpfsNode
from iexec_kit.storage.server import BackgroundServer


def parse_address(address: str) -> tuple[str, int]:
    """'127.0.0.1:5001' or '/ip4/127.0.0.1/tcp/5001' (a Kubo multiaddr) -> (host, port)."""
    text = address.strip()
    if text.startswith("/ip4/") or text.startswith("/ip6/") or text.startswith("/dns"):
        parts = text.strip("/").split("/")
        return parts[1], int(parts[3])
    if text.startswith("http://"):
        text = text[len("http://") :].rstrip("/")
    host, _, port = text.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


class IpfsDaemon:
    """The kit's IPFS daemon: an :class:`IpfsNode` served over the Kubo RPC API (+ gateway).

    >>> with IpfsDaemon(tmp_path / "ipfs") as d:       # ephemeral port
    ...     ipfshttpclient.Client(d.api_multiaddr).add_bytes(b"hi")
    By default the gateway shares the API's port (/ipfs/...); pass ``gateway="127.0.0.1:8080"``
    for a separate one, as Kubo has. Browser calls to the API (an Origin header) are accepted
    from the API's own origin only, plus ``allowed_origins`` (default:
    $IEXEC_KIT_IPFS_ALLOWED_ORIGINS, comma-separated), e.g. ``["http://localhost:8888"]``.
    """

    def __init__(
        self,
        repo: str | os.PathLike[str] | IpfsNode | None = None,
        *,
        api: str = "127.0.0.1:0",
        gateway: str | None = None,
        allowed_origins=None,
    ):
        self.node = repo if isinstance(repo, IpfsNode) else IpfsNode(repo)
        self._api_addr = parse_address(api)
        self._gw_addr = parse_address(gateway) if gateway else None
        self.allowed_origins = allowed_origins  # None: $IEXEC_KIT_IPFS_ALLOWED_ORIGINS
        self.api_server: BackgroundServer | None = None
        self.gateway_server: BackgroundServer | None = None

    def start(self) -> IpfsDaemon:
        """Start the API (and gateway) servers; returns self."""
        from iexec_kit.storage.api import create_app

        if self.api_server is not None and self.api_server.running:
            return self  # already serving: a re-run notebook cell must not start twins
        host, port = self._api_addr
        self.api_server = BackgroundServer(
            create_app(
                self.node, gateway=self._gw_addr is None, allowed_origins=self.allowed_origins
            ),
            host,
            port,
            name="ipfs-api",
        ).start()
        if self._gw_addr is not None:
            try:
                gw_host, gw_port = self._gw_addr
                self.gateway_server = BackgroundServer(
                    create_app(self.node, api=False), gw_host, gw_port, name="ipfs-gateway"
                ).start()
            except BaseException:
                self.api_server.stop()
                raise
        return self

    def stop(self) -> None:
        """Stop the servers and wait for their threads; idempotent."""
        for srv in (self.gateway_server, self.api_server):
            if srv is not None:
                srv.stop()

    @property
    def api_url(self) -> str:
        """http://127.0.0.1:<port> (the RPC lives under /api/v0)."""
        return self.api_server.url

    @property
    def gateway_url(self) -> str:
        return (self.gateway_server or self.api_server).url

    @property
    def api_multiaddr(self) -> str:
        """The API address as Kubo writes it, for ipfshttpclient.Client(addr)."""
        srv = self.api_server
        proto = "ip6" if ":" in srv.host else "ip4"
        return f"/{proto}/{srv.host}/tcp/{srv.port}/http"

    def __enter__(self) -> IpfsDaemon:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.api_url if self.api_server and self.api_server.running else "stopped"
        return f"<IpfsDaemon {where} repo={str(self.node.repo)!r}>"
