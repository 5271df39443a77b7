"""``iexec-kit node``: a local iExec network that keeps running, for iExec's own CLI.

Everything listens on 127.0.0.1. Ctrl-C (or SIGTERM) stops it all. See :mod:`iexec_kit.node`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from iexec_kit.cli import cli, protocol_option


@cli.command()
def node(
    folder: Path = typer.Option(
        Path(".sandbox/node"),
        "--folder",
        help="Where the node writes chain.json, the wallets "
        "and its state (a previous run's files are replaced: its chain is gone).",
    ),
    chain: str | None = typer.Option(
        None, "--chain", help="Use this JSON-RPC node instead of starting a Hardhat devnode."
    ),
    port: int = typer.Option(
        8545, "--port", help="The Hardhat devnode's port on 127.0.0.1 (0: any free port)."
    ),
    workers: int = typer.Option(3, "--workers", help="Worker accounts serving the workerpool."),
    protocol: str = protocol_option(),
    runner: str = typer.Option(
        "process", "--runner", help="How workers run the app: process or docker."
    ),
    json_out: bool = typer.Option(
        False, "--json", help="Print node.json's content on one line when ready (for scripts)."
    ),
    worker_processes: bool = typer.Option(
        False,
        "--worker-processes",
        help="Run the workers as processes (`iexec-kit worker`) served by the scheduler's API.",
    ),
    workerpool: str | None = typer.Option(
        None,
        "--workerpool",
        help="drive (all in this process, the default), processes (as --worker-processes) or "
        "external (run `iexec-kit scheduler` and `iexec-kit worker` yourself).",
    ),
    behaviour: list[str] = typer.Option(
        [], "--behaviour", help="A worker process's behaviour, once per worker (default honest)."
    ),
    scheduler_port: int = typer.Option(
        0, "--scheduler-port", help="The scheduler's API port, with worker processes (0: any)."
    ),
    listen: str | None = typer.Option(
        None,
        "--listen",
        help="Open the scheduler's API to a LAN on this address (a workshop); default 127.0.0.1.",
    ),
) -> None:
    """Start a local iExec network (chain, protocol, IPFS, result proxy, market API, SMS,
    workerpool) and keep it running until Ctrl-C; writes chain.json and SDK wallets."""
    import json
    import signal

    from iexec_kit.node import Node, NodeConfig

    def say(line: str) -> None:
        typer.echo(line, err=json_out)

    n = Node(
        folder,
        chain_url=chain,
        port=None if port == 0 else port,
        config=NodeConfig(
            workers=workers,
            runner=runner,
            workerpool=workerpool or ("processes" if worker_processes or listen else "drive"),
            behaviours=tuple(behaviour),
            listen=listen,
            scheduler_port=scheduler_port,
            protocol=protocol,
        ),
        log=say,
    )
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)):
        signal.signal(sig, lambda *_: n.request_stop())
    try:
        n.start()
        info = n.info
        if json_out:
            typer.echo(json.dumps(info.as_dict()))
        else:
            _print_ready(info)
        try:
            n.wait()
        except KeyboardInterrupt:
            pass
    finally:
        n.stop()
        say("Node stopped.")


def _print_ready(info) -> None:
    u = info.urls
    rows = [
        ("chain (JSON-RPC)", f"{u['chain']}  (chain id {info.chain_id})"),
        ("hub", info.hub),
        ("RLC token", info.rlc),
        ("IPFS API / gateway", f"{u['ipfs_api']}  /  {u['ipfs_gateway']}"),
        ("result proxy", u["result_proxy"]),
        ("market API", u["market"]),
        ("SMS", u["sms"]),
        ("scheduler API", u.get("scheduler") or f"in this process ({info.workerpool_mode})"),
        ("demo app", info.app),
        ("workerpool", info.workerpool),
        ("sample input", info.sample_input),
        ("SDK files", f"{info.folder}/chain.json and {info.folder}/<participant>/wallet.json"),
    ]
    width = max(len(k) for k, _ in rows)
    if u.get("scheduler") and not u["scheduler"].startswith("http://127.0.0.1:"):
        typer.secho(
            f"WARNING: the scheduler's API is open to the network at {u['scheduler']} "
            "(every call but the sign-in needs a worker's token; the test keys are public)",
            fg=typer.colors.RED,
            bold=True,
        )
    typer.secho("iexec-kit node is ready (Ctrl-C stops it)", bold=True)
    for k, v in rows:
        typer.echo(f"  {k:<{width}}  {v}")
    typer.echo(
        "  participants: "
        + ", ".join(f"{name} {p['address']}" for name, p in info.participants.items())
    )
    typer.secho(
        "The wallets hold the kit's public test keys: never send real funds to them.",
        fg=typer.colors.YELLOW,
    )
    typer.secho("Try it, in another terminal:", bold=True)
    for line in info.try_it().splitlines():
        typer.echo(f"  {line}")
