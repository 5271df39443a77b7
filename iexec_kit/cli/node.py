"""``iexec-kit node``: a local iExec network that keeps running, for iExec's own CLI.

Everything listens on 127.0.0.1, unless ``--listen ADDRESS`` opens the services to a LAN for a
workshop (each behind a front that asks the workshop's token for every write; the banner says
what is open). Ctrl-C (or SIGTERM) stops it all. See :mod:`iexec_kit.node`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from iexec_kit.cli import cli, protocol_option

#: the scheduler's port the banner proposes with --workerpool external (the README's too)
EXTERNAL_SCHEDULER_PORT = 7000


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
        help="Open the node's services to a LAN on this address for a workshop (0.0.0.0: every "
        "interface): a front per service, the workshop's token on every write, the chain behind "
        "a filtering JSON-RPC proxy. Default: 127.0.0.1 only.",
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
        if n.lan is not None:
            _print_lan_banner(n, err=json_out)
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
        ("scheduler API", u.get("scheduler") or _scheduler_where(info)),
        ("demo app", info.app),
        ("workerpool", info.workerpool),
        ("sample input", info.sample_input),
        ("SDK files", f"{info.folder}/chain.json and {info.folder}/<participant>/wallet.json"),
    ]
    width = max(len(k) for k, _ in rows)
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


def _scheduler_where(info) -> str:
    if info.workerpool_mode == "external":
        return f"yours to run: iexec-kit scheduler --node {info.folder}"
    return f"in this process ({info.workerpool_mode})"


def lan_banner(node) -> list[tuple[str, bool]]:
    """The lines ``--listen`` prints on start, each with whether it is a warning (red): every
    URL opened, what a LAN user can do with it, the token and how an attendee passes it."""
    from iexec_kit.node import ATTENDEES_FOLDER, LAN_FILE, TOKEN_MODULE, WALLET_FILE
    from iexec_kit.storage.lan import join_token

    lan = node.lan
    opened = node.info.lan["advertise"] if node.info and node.info.lan else lan.advertise
    lines = [
        (
            f"WARNING: this node is OPEN TO THE NETWORK on {lan.listen} (LAN address {opened}): "
            "anyone on this network can reach the URLs below; every write needs the workshop's "
            "token. The Hardhat node itself stays on 127.0.0.1, behind the JSON-RPC filter.",
            True,
        )
    ]
    width = max(len(s.title) for s in lan.services.values())
    for s in lan.services.values():
        lines.append((f"  {s.title:<{width}}  {s.front.url}", True))
        lines.append((f"  {'':<{width}}    {s.what}", False))
    lines.append(
        (
            f"The workshop's token (for the attendees only; also in {node.folder / LAN_FILE}): "
            f"{lan.token}",
            True,
        )
    )
    free = node.spare_workers()
    url = lan.url("scheduler") if "scheduler" in lan.services else None
    if url is None and node.config.workerpool == "external":
        # the facilitator starts the scheduler: it opens its own front (it reads lan.json) and
        # prints its URL; the attendees' lines and wallets are given now, for the port below
        host = f"[{opened}]" if ":" in opened else opened
        url = f"http://{host}:{EXTERNAL_SCHEDULER_PORT}"
        lines.append(
            (
                "The scheduler is yours to run (--workerpool external), in another terminal; it "
                "opens its own front on the LAN (another --port: change the attendees' URL too):",
                False,
            )
        )
        lines.append(
            (
                f"  iexec-kit scheduler --node {node.folder} --listen {lan.listen} "
                f"--port {EXTERNAL_SCHEDULER_PORT}",
                False,
            )
        )
    if url is not None:
        joined = (
            lan.joined("scheduler") if "scheduler" in lan.services else join_token(url, lan.token)
        )
        lines.append(("An attendee joins the workerpool as a worker (one wallet each):", False))
        lines.append(
            (
                f"  iexec-kit worker --scheduler {url} --token {lan.token} --key <0x key> "
                "[--behaviour honest|cheater|colluding|...]",
                False,
            )
        )
        lines.append((f"  or: iexec-kit worker --scheduler {joined} --key ...", False))
        if free:
            lines.append(
                (
                    f"Wallets no local worker uses (hand one to each attendee; "
                    f"{node.folder}/<name>/{WALLET_FILE}):",
                    False,
                )
            )
            lines += [(f"  {w.name}: --key 0x{bytes(w.key).hex()}", False) for w in free]
    if free:
        attendees = node.folder / ATTENDEES_FOLDER
        lines.append(
            (
                "An attendee uses iExec's SDK from their laptop with the same wallet: copy the "
                f"folder {attendees}/<name>/ to it (a USB stick, scp -r; it holds the token and "
                f"the key: chain.json with the URLs above, wallet.json, {TOKEN_MODULE}), then "
                "in a terminal there:",
                False,
            )
        )
        lines += [(f"  {line}", False) for line in node.info.attendee_try_it().splitlines()]
    lines.append(
        (
            "The wallets hold the kit's public test keys: anyone can sign with them. Never send "
            "real funds to them, and stop the node (Ctrl-C) when the workshop ends.",
            True,
        )
    )
    return lines


def _print_lan_banner(node, *, err: bool = False) -> None:
    for text, warning in lan_banner(node):
        if warning:
            typer.secho(text, fg=typer.colors.RED, bold=True, err=err)
        else:
            typer.echo(text, err=err)
