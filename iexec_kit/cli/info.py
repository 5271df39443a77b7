"""``iexec-kit info``: the network at a glance."""

from __future__ import annotations

import json

import typer

from iexec_kit.cli import cli, protocol_option
from iexec_kit.protocol.units import RLC

ETH = 10**18


def _start(workers: int, chain: str | None, protocol: str = "kit"):
    from iexec_kit.sandbox import Sandbox

    return Sandbox.start(workers=workers, chain_url=chain, protocol=protocol)


def _console():
    from rich.console import Console

    con = Console()
    return con if con.is_terminal else Console(width=150)


def _print_network(sb) -> None:
    from rich.table import Table

    info = sb.info()
    con = _console()
    con.print(f"[bold]iexec-kit sandbox[/bold]  {info['chain']}  (chain id {info['chain_id']})")
    t = Table(title="Contracts", show_header=True, header_style="bold")
    t.add_column("contract")
    t.add_column("address")
    for k, v in info["contracts"].items():
        if k == "modules":
            for m, a in v.items():
                t.add_row(f"hub module {m}", a)
        else:
            t.add_row(k, v)
    con.print(t)
    app, pool = info["app"], info["workerpool"]
    con.print(
        f"[bold]App[/bold] {app['name']} at {app['address']}\n"
        f"  owner {app['owner']}, type {app['type']}, multiaddr {app['multiaddr']}\n"
        f"  checksum {app['checksum']}"
    )
    con.print(
        f"[bold]Workerpool[/bold] {pool['description']!r} at {pool['address']}\n"
        f"  owner {pool['owner']}, worker stake {pool['worker_stake_ratio']}% of the price, "
        f"scheduler keeps {pool['scheduler_reward_ratio']}%"
    )
    _print_accounts(con, info["accounts"])


def _print_accounts(con, accounts, title="Participants") -> None:
    from rich.table import Table

    t = Table(title=title, header_style="bold")
    for col in ("participant", "address", "ETH", "RLC wallet", "stake", "locked"):
        t.add_column(
            col, justify="right" if col in ("ETH", "RLC wallet", "stake", "locked") else "left"
        )
    for a in accounts:
        t.add_row(
            a["name"],
            a["address"],
            f"{a['eth'] / ETH:,.4f}",
            f"{a['wallet_rlc'] / RLC:,.9g}",
            f"{a['stake'] / RLC:,.9g}",
            f"{a['locked'] / RLC:,.9g}",
        )
    con.print(t)


@cli.command()
def info(
    as_json: bool = typer.Option(
        False, "--json", help="Print JSON (keys: chain_id, contracts, app, workerpool, accounts)."
    ),
    workers: int = typer.Option(5, "--workers", min=0, help="Number of worker accounts."),
    chain: str | None = typer.Option(
        None, "--chain", help="JSON-RPC URL of an Ethereum node (default: in-process chain)."
    ),
    protocol: str = protocol_option(),
) -> None:
    """Start the sandbox and print the network: chain, contracts, app, workerpool, participants."""
    sb = _start(workers, chain, protocol)
    if as_json:
        typer.echo(json.dumps(sb.info(), indent=2))
    else:
        _print_network(sb)
