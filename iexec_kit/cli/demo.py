"""``iexec-kit demo``: the whole demo, headless, printing its progress like
``iexec app run --watch``."""

from __future__ import annotations

import json

import typer

from iexec_kit.cli import cli
from iexec_kit.protocol.units import RLC


def _print_summary(con, summary: dict) -> None:
    from rich.table import Table

    for task in summary["tasks"]:
        t = Table(title=f"task {task['task_id'][:18]}…  {task['status']}", header_style="bold")
        for col in ("worker", "behaviour", "contribution"):
            t.add_column(col)
        for c in task["contributions"]:
            t.add_row(c["worker"], c["behaviour"], c["status"])
        con.print(t)
        if task.get("result_path"):
            con.print(
                f"  result {task.get('result_location')} -> [bold]{task['result_path']}[/bold]"
            )
    before, after = summary["accounts"]["before"], summary["accounts"]["after"]
    t = Table(title="Money (RLC): wallet + stake + locked, before -> after", header_style="bold")
    for col in ("participant", "wallet", "stake", "locked", "change"):
        t.add_column(col, justify="left" if col == "participant" else "right")
    for address, a in after.items():
        b = before.get(address, a)
        total_b = b["wallet_rlc"] + b["stake"] + b["locked"]
        total_a = a["wallet_rlc"] + a["stake"] + a["locked"]
        if total_a == total_b and a == b:
            continue
        t.add_row(
            a["name"],
            f"{a['wallet_rlc'] / RLC:,.9g}",
            f"{a['stake'] / RLC:,.9g}",
            f"{a['locked'] / RLC:,.9g}",
            f"{(total_a - total_b) / RLC:+,.9g}",
        )
    con.print(t)
    held = sum(a["stake"] + a["locked"] for a in after.values()) + summary["kitty"]["after"]
    hub = summary["hub_rlc"]["after"]
    con.print(
        f"RLC held by the hub: {hub / RLC:,.9g} = sum of stakes and locked {held / RLC:,.9g} "
        f"(kitty {summary['kitty']['after'] / RLC:,.9g})"
        + ("" if hub == held else "  [red]MISMATCH[/red]")
    )
    con.print("gas (median): " + ", ".join(f"{k} {v:,}" for k, v in summary["gas"].items()))
    con.print("timings (s): " + ", ".join(f"{k} {v:.2f}" for k, v in summary["timings"].items()))


@cli.command()
def demo(
    workers: int = typer.Option(3, "--workers", min=0, help="Honest workers."),
    trust: int | None = typer.Option(
        None,
        "--trust",
        min=0,
        help="The request's trust (default 5: three fresh workers must agree; "
        "less when fewer honest workers).",
    ),
    cheaters: int = typer.Option(
        0, "--cheaters", min=0, help="Colluding cheaters (the same wrong result), on top."
    ),
    lone_cheaters: int = typer.Option(
        0, "--lone-cheaters", min=0, help="Cheaters each with a wrong result of its own, on top."
    ),
    lazy: int = typer.Option(
        0, "--lazy", min=0, help="Lazy workers (contribute, never reveal), on top."
    ),
    crashing: int = typer.Option(0, "--crashing", min=0, help="Workers that die mid-task, on top."),
    slow: int = typer.Option(
        0, "--slow", min=0, help="Workers that contribute 15 minutes (chain time) late, on top."
    ),
    volume: int = typer.Option(1, "--volume", min=1, help="Tasks in the deal."),
    style: str = typer.Option(
        "gimpfu", "--style", help="The app's effect: gimpfu (the original demo) or cartoon."
    ),
    engine: str | None = typer.Option(
        None, "--engine", help="The app's engine: auto (default: GIMP when installed), gimp, numpy."
    ),
    input: str | None = typer.Option(
        None, "--input", help="PATH or URL of the image (default data/chelsea.png)."
    ),
    encrypt: bool = typer.Option(
        False, "--encrypt", help="Encrypt the result for the beneficiary (RSA + AES)."
    ),
    storage: str = typer.Option(
        "ipfs", "--storage", help="Where results go: ipfs or private (the proxy keeps them)."
    ),
    chain: str | None = typer.Option(
        None, "--chain", help="JSON-RPC URL of an Ethereum node (default: in-process chain)."
    ),
    ipfs: str | None = typer.Option(
        None, "--ipfs", help="Kubo RPC API URL (default: the embedded IPFS node)."
    ),
    runner: str = typer.Option(
        "process", "--runner", help="process (the app as a local process) or docker."
    ),
    output: str | None = typer.Option(None, "--output", help="Folder for the downloaded results."),
    deposit: float | None = typer.Option(
        None,
        "--deposit",
        help="RLC the requester deposits (default 100, or the deal's cost if more).",
    ),
    seed: int = typer.Option(
        0, "--seed", help="Seed of the scheduler's worker picks and the orders' salts."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print only a JSON summary at the end."),
) -> None:
    """The whole demo, headless: storage set-up, orders, a deal, workers reaching a consensus,
    the result on IPFS, downloaded and checked. Exits 1 unless every task COMPLETED and each
    downloaded result's digest is the consensus."""
    from iexec_kit.actors.events import EventStream
    from iexec_kit.cli.info import _console
    from iexec_kit.tutorial.demo import DemoConfig, run_demo

    cfg = DemoConfig(
        workers=workers,
        trust=trust,
        cheaters=cheaters,
        lone_cheaters=lone_cheaters,
        lazy=lazy,
        crashing=crashing,
        slow=slow,
        volume=volume,
        style=style,
        engine=engine,
        input=input,
        encrypt=encrypt,
        storage=storage,
        runner=runner,
        chain_url=chain,
        ipfs_api=ipfs,
        output=output,
        seed=seed,
        deposit=None if deposit is None else int(round(deposit * RLC)),
    )
    stream = EventStream()
    con = _console()
    if not as_json:
        con.rule("iexec-kit demo")
        con.print(
            f"app apps/gimp-cartoon, args {cfg.app_args()!r}; {len(cfg.behaviours())} worker(s) "
            f"({workers} honest, {cheaters} colluding, {lone_cheaters} lone cheaters, {lazy} lazy, "
            f"{crashing} crashing, {slow} slow); "
            f"trust {cfg.effective_trust()}, volume {volume}, runner {runner}"
        )
        stream.subscribe(lambda e: con.print(e.describe(), highlight=False))
    report = run_demo(cfg, stream=stream)
    if as_json:
        typer.echo(json.dumps(report.summary, indent=2))
    else:
        _print_summary(con, report.summary)
        con.print(
            "[bold green]demo OK[/bold green]: every task COMPLETED; downloaded digests = consensus"
            if report.ok
            else "[bold red]demo FAILED[/bold red]: see the task statuses above"
        )
    if not report.ok:
        raise typer.Exit(1)
