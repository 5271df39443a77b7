"""``iexec-kit app ...``: run an iExec app off-chain, as a developer tests an app before selling it.

Heavy imports (the runners, the docker SDK, rich) happen inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

from iexec_kit.protocol.categories import DEFAULT_CLOCK

app = typer.Typer(
    help="Run an iExec app off-chain (no chain, no deal): inputs in, results out.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _group() -> None:
    """Run an iExec app off-chain (no chain, no deal): inputs in, results out."""


def _check_limits(timeout: float, max_output_mb: float) -> None:
    from iexec_kit.errors import KitValueError

    if not timeout > 0:
        raise KitValueError(
            "the task's clock must be a positive number of seconds; nothing was run",
            expected=f"--timeout > 0 (category XS: {DEFAULT_CLOCK})",
            got=f"--timeout {timeout:g}",
            hint=f"give --timeout a positive number of seconds, e.g. --timeout {DEFAULT_CLOCK}",
        )
    if not max_output_mb > 0:
        raise KitValueError(
            "the app needs room for its results; nothing was run",
            expected="--max-output-mb > 0 (every app writes at least computed.json)",
            got=f"--max-output-mb {max_output_mb:g}",
            hint="give --max-output-mb a positive size, e.g. the default 200",
        )


def _check_output(output: Path | None) -> None:
    from iexec_kit.errors import KitValueError

    if output is not None and output.exists() and not output.is_dir():
        raise KitValueError(
            "--output names a file, not a folder; nothing was run",
            expected="a folder for $IEXEC_OUT (created when missing)",
            got=f"{output} is an existing file",
            hint="give --output a new or existing folder, e.g. --output out/",
        )


def _manifest(load_manifest, app_dir: Path) -> dict:
    """The app's iexec.json, a broken one refused with words."""
    import json

    from iexec_kit.errors import KitValueError

    try:
        manifest = load_manifest(app_dir)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KitValueError(
            f"{app_dir}/iexec.json is not valid JSON; nothing was run",
            expected="a JSON object (name, type, image, default_args...)",
            got=str(exc),
            hint=f"fix {app_dir}/iexec.json (e.g. compare with apps/gimp-cartoon/iexec.json)",
        ) from None
    if not isinstance(manifest, dict):
        raise KitValueError(
            f"{app_dir}/iexec.json is not a JSON object; nothing was run",
            expected="a JSON object (name, type, image, default_args...)",
            got=type(manifest).__name__,
            hint=f"fix {app_dir}/iexec.json (e.g. compare with apps/gimp-cartoon/iexec.json)",
        )
    return manifest


def _check_args(args: str) -> None:
    """The app's arguments split shell-style, as the worker does: unbalanced quotes refused."""
    import shlex

    from iexec_kit.errors import KitValueError

    try:
        shlex.split(args)
    except ValueError as exc:
        raise KitValueError(
            "the app's arguments cannot be split shell-style; nothing was run",
            expected="iexec_args with balanced quotes, e.g. --args \"--style 'gimpfu'\"",
            got=f"{args!r} ({exc})",
            hint="close the quote, or drop it",
        ) from None


@app.command("run")
def run(
    app_dir: Path = typer.Argument(..., help="the app folder, e.g. apps/gimp-cartoon"),
    input: list[str] = typer.Option(
        [],
        "--input",
        "-i",
        help="an input file: path, file://, http(s)://, ipfs://CID or /ipfs/CID (repeatable)",
    ),
    args: str | None = typer.Option(
        None,
        "--args",
        help="the app's arguments (iexec_args), shell-style; default: iexec.json's default_args",
    ),
    runner: str = typer.Option("process", "--runner", help="process (default) or docker"),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="folder for $IEXEC_OUT (default: a temporary one)"
    ),
    timeout: float = typer.Option(
        float(DEFAULT_CLOCK),
        "--timeout",
        help=f"the task's clock in seconds (category XS: {DEFAULT_CLOCK})",
    ),
    max_output_mb: float = typer.Option(
        200.0, "--max-output-mb", help="limit on what the app may write to $IEXEC_OUT"
    ),
    docker_host: str | None = typer.Option(
        None,
        "--docker-host",
        help="Docker engine URL (default: DOCKER_HOST, else the kit's private engine)",
    ),
) -> None:
    """Run APP_DIR on the inputs; print computed.json, the result digest and the output folder."""
    import json

    from rich.console import Console

    from iexec_kit.compute import get_runner, load_manifest

    console = Console(soft_wrap=True)
    _check_limits(timeout, max_output_mb)
    _check_output(output)
    manifest = _manifest(load_manifest, app_dir)
    if args is None:
        args = manifest.get("default_args", "")
    _check_args(args)
    kw = {"base_url": docker_host} if runner == "docker" and docker_host else {}
    r = get_runner(runner, allow_local=True, **kw)  # your own app on your own files
    console.print(
        f"[bold]{manifest.get('name', app_dir)}[/] on {len(input)} input(s), "
        f"args [cyan]{args or '(none)'}[/], {r.name} runner"
    )
    try:
        result = r.run(
            app_dir,
            input,
            args,
            timeout=timeout,
            max_output_bytes=int(max_output_mb * 1024 * 1024),
            out_dir=output,
        )
    except Exception as exc:
        logs = getattr(getattr(exc, "result", None), "logs", None) or getattr(exc, "logs", "")
        if logs:
            console.print("[dim]app logs (end):[/]")
            console.print("\n".join(logs.strip().splitlines()[-15:]), markup=False, highlight=False)
        raise
    console.print("[dim]app logs:[/]")
    console.print(result.logs.rstrip(), markup=False, highlight=False)
    console.print("computed.json:")
    console.print(json.dumps(result.computed, indent=2), markup=False, highlight=False)
    console.print(f"result digest: [green]{result.digest()}[/]")
    console.print(f"output folder: {result.out_dir}")
    if result.deterministic_path is not None:
        det = result.deterministic_path
        files = sorted(p.name for p in det.iterdir()) if det.is_dir() else [det.name]
        console.print(f"deterministic output: {det} ({', '.join(files)})")
    if r.name == "docker":
        console.print(f"image: {manifest.get('image')} ({r.image_id(app_dir)})")
    console.print(f"ran in {result.duration:.2f} s")
