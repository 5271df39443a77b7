"""``iexec-kit demo``: the headless demo."""

from __future__ import annotations

from typing import Optional

import typer

from iexec_kit.cli import cli
from iexec_kit.cli.info import RLC, _console, _print_accounts, _print_network, _start


@cli.command()
def demo(
    workers: int = typer.Option(5, "--workers", min=0, help="Number of worker accounts."),
    chain: Optional[str] = typer.Option(None, "--chain", help="JSON-RPC URL of an Ethereum node (default: in-process chain)."),
) -> None:
    """The headless demo. For now: the network, then the requester and the workers move RLC into
    the hub (the marketplace and Proof-of-Contribution steps join as they land)."""
    con = _console()
    sb = _start(workers, chain)
    _print_network(sb)
    con.rule("Deposits: RLC moves from wallets to the hub (one transaction each, approveAndCall)")
    receipt = sb.deposit(sb.requester, 100 * RLC)
    con.print(f"requester deposits 100 RLC  tx {receipt.tx_hash[:18]}…  block {receipt.block}  gas {receipt.gas_used:,}")
    for w in sb.workers:
        receipt = sb.deposit(w, 10 * RLC)
        con.print(f"{w.name} stakes 10 RLC  tx {receipt.tx_hash[:18]}…  gas {receipt.gas_used:,}")
    _print_accounts(con, [a.as_dict() for a in sb.accounts()], title="After the deposits")
    hub_rlc, supply = sb.hub.hub_rlc(), sb.hub.total_supply()
    con.print(f"RLC held by the hub: {hub_rlc / RLC:,.9g} = sum of stakes {supply / RLC:,.9g}")
    if hub_rlc != supply:
        raise typer.Exit(1)
    con.print("[yellow]Orders, deals and tasks join this demo with the marketplace and PoCo issues.[/yellow]")
