"""``iexec-kit demo``: the whole demo, headless, printing its progress like
``iexec app run --watch``."""

from __future__ import annotations

import json

import typer

from iexec_kit.cli import cli, protocol_option
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


# what apps/gimp-cartoon's own parser accepts (entrypoint.py's parse_args; its iexec.json does
# not list them): checked here, before anything is signed, so a typo costs no deal
# behaviours whose revealed digest is not the app's true result
_WRONG_BEHAVIOURS = {"colluding", "cheater"}


def _check_options(cfg, *, deposit: float | None, runner: str) -> None:
    """Refuse, before a sandbox starts or anything is signed, what the demo cannot do."""
    import shutil
    from pathlib import Path

    from iexec_kit.errors import KitValueError
    from iexec_kit.poco.consensus import contributions_needed
    from iexec_kit.tutorial.demo import APP_ENGINES, APP_STYLES

    if cfg.style not in APP_STYLES:
        raise KitValueError(
            "unknown --style for apps/gimp-cartoon; nothing was signed",
            expected=" or ".join(APP_STYLES),
            got=repr(cfg.style),
            hint="use --style gimpfu (the original demo's effect) or --style cartoon",
        )
    if cfg.engine is not None and cfg.engine not in APP_ENGINES:
        raise KitValueError(
            "unknown --engine for apps/gimp-cartoon; nothing was signed",
            expected=", ".join(APP_ENGINES),
            got=repr(cfg.engine),
            hint="use --engine numpy (always there), gimp (GIMP installed) or leave it out",
        )
    if cfg.engine == "gimp" and runner == "process" and not shutil.which("gimp"):
        raise KitValueError(
            "--engine gimp asked but GIMP is not installed here; nothing was signed",
            expected="a `gimp` command on PATH (the process runner runs the app here)",
            got="no gimp on PATH",
            hint="install Debian's gimp, use --engine numpy, or --runner docker",
        )
    if deposit is not None and deposit < 0:
        raise KitValueError(
            "--deposit cannot be negative; nothing was signed",
            expected="RLC >= 0 (default 100, or the deal's cost if more)",
            got=f"--deposit {deposit:g}",
            hint="give --deposit a positive amount of RLC, or leave it out",
        )
    if cfg.output is not None and Path(cfg.output).exists() and not Path(cfg.output).is_dir():
        raise KitValueError(
            "--output names a file, not a folder; nothing was signed",
            expected="a folder for the downloaded results (created when missing)",
            got=f"{cfg.output} is an existing file",
            hint="give --output a new or existing folder, e.g. --output results/",
        )
    behaviours = cfg.check()
    trust = cfg.effective_trust()
    needed = contributions_needed(trust)
    if needed > len(behaviours):
        fit = next((t for t in (5, 4, 3, 2) if contributions_needed(t) <= len(behaviours)), 1)
        raise KitValueError(
            f"at trust {trust} the consensus cannot be reached with {len(behaviours)} "
            f"worker(s); nothing was signed",
            expected=f"at least {needed} workers agreeing (fresh workers, trust {trust})",
            got=f"--trust {trust} with {len(behaviours)} worker(s) in all",
            hint=f"add workers (--workers {needed}) or lower the trust "
            f"(--trust {fit} with {len(behaviours)} worker(s))",
        )


def _wrong_results(summary: dict) -> list[dict]:
    """The COMPLETED tasks whose consensus is a cheaters' digest: every revealed (PROVED)
    contribution came from a cheating worker. True to PoCo (the majority won), wrong for the
    requester."""
    wrong = []
    for task in summary["tasks"]:
        proved = [c for c in task["contributions"] if c["status"] == "PROVED"]
        if task["status"] == "COMPLETED" and proved:
            if all(c["behaviour"] in _WRONG_BEHAVIOURS for c in proved):
                wrong.append(task)
    return wrong


def _why_failed(summary: dict) -> str:
    """Why the demo failed, task by task, in words."""
    from iexec_kit.poco.consensus import contributions_needed

    trust = summary["trust"]
    needed = contributions_needed(trust)
    reasons = []
    for task in summary["tasks"]:
        tid = f"task {task['task_id'][:18]}…"
        if task["status"] != "COMPLETED":
            n = sum(c["status"] != "UNSET" for c in task["contributions"])
            if n == 0:
                reasons.append(
                    f"{tid} {task['status']}: no worker contributed (the app failed on every "
                    "worker, or none was scheduled: see the progress above)"
                )
                continue
            reasons.append(
                f"{tid} {task['status']}: at trust {trust} the consensus needs {needed} agreeing "
                f"contribution(s) from fresh workers; {n} worker(s) contributed and no answer "
                "gathered enough before the deadline (see the contributions above)"
            )
        elif not task.get("result_path"):
            reasons.append(f"{tid} COMPLETED but its result could not be downloaded")
    return "; ".join(reasons) or "a downloaded result's digest is not the consensus"


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
    protocol: str = protocol_option(),
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
    expect_wrong_result: bool = typer.Option(
        False,
        "--expect-wrong-result",
        help="Exit 0 when cheaters win the consensus (the requester gets their wrong result); "
        "without it such a run exits 1.",
    ),
) -> None:
    """The whole demo, headless: storage set-up, orders, a deal, workers reaching a consensus,
    the result on IPFS, downloaded and checked. Exits 1 unless every task COMPLETED and each
    downloaded result's digest is the consensus, and exits 1 when cheaters won the consensus
    (the requester got a wrong result) unless --expect-wrong-result."""
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
        protocol=protocol,
        ipfs_api=ipfs,
        output=output,
        seed=seed,
        deposit=None if deposit is None else int(round(deposit * RLC)),
    )
    _check_options(cfg, deposit=deposit, runner=runner)
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
    wrong = _wrong_results(report.summary) if report.ok else []
    if as_json:
        typer.echo(
            json.dumps({**report.summary, "wrong_result": [t["task_id"] for t in wrong]}, indent=2)
        )
    else:
        _print_summary(con, report.summary)
        if wrong:
            con.print(
                "[bold red]demo WRONG RESULT[/bold red]: the tasks COMPLETED, but the consensus "
                "is the cheaters' digest (details on stderr)"
            )
        elif report.ok:
            con.print(
                "[bold green]demo OK[/bold green]: every task COMPLETED; "
                "downloaded digests = consensus"
            )
        else:
            con.print(f"[bold red]demo FAILED[/bold red]: {_why_failed(report.summary)}")
    if wrong:
        tasks = ", ".join(f"{t['task_id'][:18]}… ({t['consensus'][:18]}…)" for t in wrong)
        typer.secho(
            f"{'warning' if expect_wrong_result else 'error'}: WRONG RESULT: the requester got "
            "a wrong result; the consensus is the colluding cheaters' digest\n"
            "  expected: the app's true result (the honest workers' digest) as the consensus\n"
            f"  got: task(s) {tasks} won by cheating workers only (PoCo is right: they "
            "were the majority at this trust)\n"
            "  what to do: raise --trust or add honest --workers so they outweigh the cheaters; "
            "pass --expect-wrong-result when this outcome is what the run shows",
            fg=typer.colors.YELLOW if expect_wrong_result else typer.colors.RED,
            err=True,
        )
        if not expect_wrong_result:
            raise typer.Exit(1)
    if not report.ok:
        if as_json:
            typer.secho(f"error: demo FAILED: {_why_failed(report.summary)}", err=True)
        raise typer.Exit(1)
