"""``iexec-kit scheduler`` and ``iexec-kit worker``: a workerpool across processes (and laptops).

The facilitator runs ``iexec-kit node --workerpool external`` (or ``--worker-processes``), then
``iexec-kit scheduler --node FOLDER``; each attendee runs ``iexec-kit worker --scheduler URL
--wallet wallet.json``; over a workshop's LAN (``iexec-kit node --listen``) with ``--token``, or
the scheduler's joined URL (``http://HOST:PORT/t/<token>``). See :mod:`iexec_kit.actors.pool`,
:mod:`iexec_kit.storage.lan` and the README's "Running a workshop".
"""

from __future__ import annotations

from pathlib import Path

import typer

from iexec_kit.cli import cli


def _key(key: str | None, wallet: Path | None) -> str:
    from iexec_kit.actors.pool import load_wallet
    from iexec_kit.errors import KitValueError

    if (key is None) == (wallet is None):
        raise KitValueError(
            "the worker's wallet: one of --key or --wallet",
            expected="--key 0x<64 hex> or --wallet <node>/workerN/wallet.json",
            got="both" if key else "neither",
        )
    return key if key is not None else load_wallet(wallet)


@cli.command()
def scheduler(
    node: Path = typer.Option(
        Path(".sandbox/node"),
        "--node",
        help="The node's folder (node.json, scheduler/wallet.json).",
    ),
    port: int = typer.Option(0, "--port", help="The API's port (0: any free port)."),
    listen: str | None = typer.Option(
        None,
        "--listen",
        help="Open the API to a LAN on this address (e.g. 0.0.0.0) for a workshop, behind a "
        "front asking the workshop's token (the node must run with --listen: its lan.json); "
        "default 127.0.0.1 only.",
    ),
    token_ttl: float = typer.Option(3600, "--token-ttl", help="Seconds a worker's token lives."),
    ping_timeout: float = typer.Option(
        10, "--ping-timeout", help="Seconds without a ping before a worker is gone."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print {url} on one line when ready."),
) -> None:
    """Run the workerpool's scheduler as a service for worker processes (iexec-core's API)."""
    import json
    import signal
    import threading

    from iexec_kit.actors.pool import PoolService, load_wallet
    from iexec_kit.chain.accounts import Participant
    from iexec_kit.chain.deploy import Deployment
    from iexec_kit.chain.node import Chain
    from iexec_kit.poco.hub import Hub

    info = _node_info(node)
    lan = _node_lan(node) if listen else None  # before anything starts: say it now
    key = load_wallet(node / "scheduler" / "wallet.json")
    chain = Chain.connect(info["urls"]["chain"], workers=0)
    hub = Hub(chain, Deployment(**info["deployment"]))
    manager = chain.participant("scheduler")
    if manager.key.hex() != key.removeprefix("0x"):
        manager = Participant("scheduler", "scheduler", -1, manager.address, bytes.fromhex(key[2:]))
    urls = info["urls"]
    if lan is not None:
        urls = {**urls, **lan["joined"]}
        if "ipfs_gateway" not in lan["joined"]:
            urls["ipfs_gateway"] = lan["joined"]["ipfs"]
    service = PoolService(
        hub,
        manager,
        info["workerpool"],
        urls=urls,
        host="127.0.0.1",
        port=0 if listen else port,
        token_ttl=token_ttl,
        ping_timeout=ping_timeout,
        log=lambda line: typer.echo(line, err=True),
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    service.start()
    front = None
    try:
        if lan is not None:
            from iexec_kit.storage.lan import LAN_USES, LanFront, check_listen

            front = LanFront(
                "scheduler",
                service.url,
                host=check_listen(listen),
                token=lan["token"],
                rules=LAN_USES["scheduler"].rules,
                port=port,
                advertise=lan.get("advertise"),  # the address the node's banner gave
            ).start()
            typer.secho(
                f"WARNING: the scheduler's API is OPEN TO THE NETWORK at {front.url}: "
                f"{LAN_USES['scheduler'].what}. An attendee: "
                f"iexec-kit worker --scheduler {front.url} --token {lan['token']} --key <0x key> "
                f"(or --scheduler {front.joined_url}). The test keys are public: never real funds.",
                fg=typer.colors.RED,
                bold=True,
                err=True,
            )
        if json_out:
            shown = {"url": service.url} | ({"lan_url": front.url} if front else {})
            typer.echo(json.dumps(shown), nl=True)
        else:
            typer.echo(f"scheduler of workerpool {info['workerpool']} ready at {service.url}")
        import sys

        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        if front is not None:
            front.stop()
        service.stop()


def _node_info(node: Path) -> dict:
    """The running node's node.json (written by ``iexec-kit node``)."""
    import json

    from iexec_kit.errors import KitValueError
    from iexec_kit.node import NODE_FILE

    where = node / NODE_FILE
    if not where.is_file():
        raise KitValueError(
            "the folder of a running node, to serve its workerpool",
            expected=f"{where} (written by iexec-kit node --folder {node})",
            got=f"no {NODE_FILE} in {node}",
            hint="start the node first (iexec-kit node --workerpool external, in another "
            "terminal), or give its folder with --node",
        )
    return json.loads(where.read_text())


def _node_lan(node: Path) -> dict:
    """The node's lan.json (written by ``iexec-kit node --listen``): token, LAN URLs."""
    import json

    from iexec_kit.errors import KitValueError
    from iexec_kit.node import LAN_FILE

    where = node / LAN_FILE
    if not where.exists():
        raise KitValueError(
            "a node opened to the LAN, to open its scheduler there too",
            expected=f"{where} (written by iexec-kit node --listen ADDRESS)",
            got="the node runs on 127.0.0.1 only: its chain, IPFS and result proxy would be "
            "out of the attendees' reach",
            hint="restart the node with --listen ADDRESS --workerpool external",
        )
    return json.loads(where.read_text())


@cli.command()
def worker(
    scheduler_url: str = typer.Option(..., "--scheduler", help="The scheduler's URL."),
    chain: str | None = typer.Option(
        None, "--chain", help="The chain's JSON-RPC URL (default: the one the scheduler gives)."
    ),
    key: str | None = typer.Option(None, "--key", help="The worker's private key (0x-hex)."),
    wallet: Path | None = typer.Option(
        None, "--wallet", help="An SDK wallet.json (the node writes <node>/workerN/wallet.json)."
    ),
    behaviour: str = typer.Option(
        "honest", "--behaviour", help="honest, cheater, colluding, lazy, crashing or slow."
    ),
    name: str | None = typer.Option(None, "--name", help="A name the room sees."),
    runner: str = typer.Option("process", "--runner", help="process or docker."),
    folder: Path = typer.Option(
        Path(".sandbox/worker"), "--folder", help="Where the worker computes."
    ),
    delay: float = typer.Option(5.0, "--delay", help="Seconds a slow worker waits to contribute."),
    fetch_patience: float | None = typer.Option(
        None,
        "--fetch-patience",
        min=0,
        help="Seconds to keep retrying a task's input while its source (the node's IPFS) is "
        "unreachable, never past the task's contribution deadline (default: "
        "iexec_kit.compute.fetch.FETCH_PATIENCE).",
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        help="The workshop's token, for a node opened to a LAN (iexec-kit node --listen prints "
        "it); or give the scheduler's joined URL http://HOST:PORT/t/<token>.",
    ),
) -> None:
    """Join a workerpool as one worker: sign in, compute, contribute, reveal, upload."""
    import signal
    import sys
    import threading

    from iexec_kit.actors.pool import run_worker
    from iexec_kit.actors.worker import Behaviour
    from iexec_kit.sandbox import DEMO_APP_DIR
    from iexec_kit.storage.lan import join_token, split_token

    Behaviour.parse(behaviour)  # say a bad name now
    base, joined = split_token(scheduler_url)
    token = token or joined
    if token:  # every call goes through the LAN's fronts with it (the config's URLs carry it)
        scheduler_url = join_token(base, token)
        chain = join_token(chain, token) if chain else None
    secret = _key(key, wallet)
    if name is None and wallet is not None:
        name = wallet.resolve().parent.name
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def say(line: str) -> None:
        typer.echo(line)
        sys.stdout.flush()

    code = run_worker(
        scheduler_url,
        secret,
        app_dir=DEMO_APP_DIR,
        folder=folder,
        chain_url=chain,
        behaviour=behaviour,
        name=name,
        runner=runner,
        delay=delay,
        stop=stop,
        log=say,
        fetch_patience=fetch_patience,
    )
    raise typer.Exit(code)
