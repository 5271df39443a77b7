"""``iexec-kit ipfs``: the kit's IPFS node from the terminal (daemon, add, cat, get).

Without a daemon, add/cat/get work on the repo folder directly (as Kubo does offline); with
``--api`` or $IEXEC_KIT_IPFS_API they go through that Kubo RPC API (the kit's daemon or Kubo).
Heavy imports happen inside the commands, so ``iexec-kit --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

app = typer.Typer(
    name="ipfs",
    help="The kit's IPFS node: real CIDs, the Kubo RPC API, a gateway.",
    no_args_is_help=True,
    add_completion=False,
)

_REPO = typer.Option(
    None, "--repo", help="Repo folder (default $IEXEC_KIT_IPFS_REPO or ~/.iexec-kit/ipfs)."
)
_API = typer.Option(
    None,
    "--api",
    help="Use this Kubo RPC API (e.g. 127.0.0.1:5001) instead of "
    "the repo; default $IEXEC_KIT_IPFS_API.",
)


def _check_api(api: str, *, option: str = "--api", env: str | None = None) -> str:
    """An API address the kit can use ('127.0.0.1:5001', '/ip4/127.0.0.1/tcp/5001' or an
    http(s) URL, port 0-65535), else a :class:`KitValueError` saying so."""
    from urllib.parse import urlsplit

    from iexec_kit.errors import KitValueError
    from iexec_kit.storage.daemon import parse_address

    source = f"${env}" if env else option
    try:
        if api.startswith(("http://", "https://")):
            parts = urlsplit(api)
            port, host = parts.port, parts.hostname  # .port raises ValueError when out of range
        else:
            host, port = parse_address(api)
        if port is not None and not 0 <= port <= 65535:
            raise ValueError(f"port {port} out of range 0-65535")
        if not host:
            raise ValueError("no host")
    except (ValueError, IndexError) as exc:
        raise KitValueError(
            f"{source} is not an API address",
            expected="HOST:PORT (e.g. 127.0.0.1:5001), /ip4/HOST/tcp/PORT or http://HOST:PORT, "
            "with a port from 0 to 65535",
            got=f"{api!r} ({exc})",
            hint=f"give {source} an address like 127.0.0.1:5001",
        ) from None
    return api


def _check_repo(repo: Path | None) -> None:
    from iexec_kit.errors import KitValueError

    if repo is not None and repo.exists() and not repo.is_dir():
        raise KitValueError(
            "--repo names a file, not a repo folder",
            expected="a folder for the node's blocks, pins and identity (created when missing)",
            got=f"{repo} is an existing file",
            hint="give --repo a new or existing folder, e.g. --repo ~/.iexec-kit/ipfs",
        )


def _backend(api: str | None, repo: Path | None):
    from iexec_kit.storage.kubo import ENV_API, open_ipfs

    if api:
        _check_api(api)
    elif os.environ.get(ENV_API):
        _check_api(os.environ[ENV_API], env=ENV_API)
    else:
        _check_repo(repo)
    return open_ipfs(api=api, repo=repo)


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def daemon(
    api: str = typer.Option("127.0.0.1:5001", "--api", help="API address (port 0: any)."),
    gateway: str | None = typer.Option(
        None, "--gateway", help="Separate gateway address; default: /ipfs/ on the API port."
    ),
    allow_origin: list[str] | None = typer.Option(
        None,
        "--allow-origin",
        help="Also accept browser calls from this origin (repeatable; e.g. "
        "http://localhost:8888); default $IEXEC_KIT_IPFS_ALLOWED_ORIGINS. The API's own "
        "origin is always accepted, every other one refused.",
    ),
    repo: Path | None = _REPO,
) -> None:
    """Serve the repo over the Kubo RPC API and a path gateway until Ctrl-C."""
    import threading

    from iexec_kit.errors import IexecKitError
    from iexec_kit.storage import messages as M
    from iexec_kit.storage.daemon import IpfsDaemon

    try:
        _check_api(api)
        if gateway is not None:
            _check_api(gateway, option="--gateway")
        _check_repo(repo)
        d = IpfsDaemon(repo, api=api, gateway=gateway, allowed_origins=allow_origin or None).start()
    except IexecKitError as exc:
        _fail(exc)
    typer.echo(M.DAEMON_READY.format(api=d.api_multiaddr, gateway=d.gateway_url, repo=d.node.repo))
    stop = threading.Event()
    import signal

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)):
        signal.signal(sig, lambda *_: stop.set())  # a service manager's stop is clean too
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        d.stop()
        typer.echo("Daemon stopped.")


@app.command()
def add(
    path: Path = typer.Argument(..., help="File or folder (folders are added recursively)."),
    only_hash: bool = typer.Option(
        False, "--only-hash", "-n", help="Compute the CID, store nothing."
    ),
    cid_version: int = typer.Option(
        0,
        "--cid-version",
        min=0,
        max=1,
        help="0 (Qm..., Kubo's default) or 1 (bafy..., raw leaves).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print the root CID only."),
    hidden: bool = typer.Option(False, "--hidden", "-H", help="Include dot-files."),
    api: str | None = _API,
    repo: Path | None = _REPO,
) -> None:
    """Add a file or a folder; prints each entry, the root CID last."""
    from iexec_kit.errors import IexecKitError
    from iexec_kit.storage.node import IpfsNode

    try:
        if only_hash and not (api or os.environ.get("IEXEC_KIT_IPFS_API")):
            from iexec_kit.storage import messages as M
            from iexec_kit.storage.blockstore import NullBlockstore
            from iexec_kit.storage.errors import StorageError
            from iexec_kit.storage.unixfs import Importer

            if not os.path.lexists(path):
                raise StorageError(
                    M.NODE_PATH_MISSING, expected="an existing file or folder", got=str(path)
                )

            added = Importer(NullBlockstore(), cid_version=cid_version).add_path(
                path,
                hidden=hidden,
                on_added=None if quiet else lambda rel, a: typer.echo(f"added {a.cid} {rel}"),
            )
            typer.echo(str(added.cid))  # no repo needed, none created
            return
        backend = _backend(api, repo)
        if isinstance(backend, IpfsNode):
            cid = backend.add_path(
                path,
                cid_version=cid_version,
                only_hash=only_hash,
                hidden=hidden,
                on_added=None
                if quiet
                else lambda rel, added: typer.echo(f"added {added.cid} {rel}"),
            )
        else:
            cid = backend.add_path(
                path, cid_version=cid_version, only_hash=only_hash, hidden=hidden
            )
            if not quiet:
                typer.echo(f"added {cid} {path.name}")
    except IexecKitError as exc:
        _fail(exc)
    typer.echo(cid)


@app.command()
def cat(
    cid: str = typer.Argument(..., help="CID or /ipfs/<cid>/path of a file."),
    offset: int = typer.Option(0, "--offset", "-o", min=0),
    length: int | None = typer.Option(None, "--length", "-l", min=0),
    api: str | None = _API,
    repo: Path | None = _REPO,
) -> None:
    """Write a file's bytes to stdout."""
    from iexec_kit.errors import IexecKitError

    try:
        backend = _backend(api, repo)
        out = sys.stdout.buffer
        for chunk in backend.read(cid, offset, length):
            out.write(chunk)
        out.flush()
    except IexecKitError as exc:
        _fail(exc)


def _fail_line(exc: Exception, dest: Path | None = None) -> None:
    """One line on stderr, no traceback: the error's sentence, then where and what to do."""
    from iexec_kit.errors import IexecKitError

    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    details = [d for d in (getattr(exc, "got", None), getattr(exc, "hint", None)) if d]
    if isinstance(exc, OSError) and not isinstance(exc, IexecKitError):
        where = dest or exc.filename or "the destination"
        message = f"cannot save to {where}: {exc.strerror or type(exc).__name__}"
        details = [
            f"at {exc.filename}" if exc.filename and str(exc.filename) != str(where) else "",
            "expected a place you can write to; give -o a writable file or folder",
        ]
        details = [d for d in details if d]
    suffix = f" ({'; '.join(details)})" if details else ""
    typer.secho(f"error: {message}{suffix}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def get(
    cid: str = typer.Argument(..., help="CID or /ipfs/<cid>/path."),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Where to write it (default ./<name>). An existing folder receives it inside, "
        "as <cid> or the path's last segment; it is never replaced.",
    ),
    force: bool = typer.Option(
        False, "--force", "-f", help="Replace an existing file or entry of that name."
    ),
    api: str | None = _API,
    repo: Path | None = _REPO,
) -> None:
    """Download a file or a folder (as `ipfs get -o`); never deletes what is already there."""
    from iexec_kit.errors import IexecKitError

    try:
        dest = _backend(api, repo).get(cid, output or Path("."), force=force)
    except (IexecKitError, OSError) as exc:
        _fail_line(exc, output or Path("."))
    typer.echo(f"Saved {cid} to {dest}")
