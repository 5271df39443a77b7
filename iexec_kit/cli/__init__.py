"""The ``iexec-kit`` command line: one entry point whose sub-commands go through the Sandbox.

Sub-command groups live in their own modules of this package (``ipfs``, ``app``) and expose a
``typer.Typer`` named ``app``; they import heavy libraries inside their commands only, so that
``iexec-kit --help`` stays fast.
"""

from __future__ import annotations

import importlib

import typer

cli = typer.Typer(
    name="iexec-kit",
    help="iExec's off-chain computing (PoCo v5), run for real on one laptop.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# group name -> module of this package that defines `app` (a typer.Typer)
_GROUPS = {"ipfs": "iexec_kit.cli.ipfs", "app": "iexec_kit.cli.app"}
for _name, _module in _GROUPS.items():
    try:
        _mod = importlib.import_module(_module)
    except ModuleNotFoundError as exc:  # a group not written yet is simply absent
        if exc.name != _module:
            raise
        continue
    cli.add_typer(_mod.app, name=_name)

from iexec_kit.cli import demo as _demo  # noqa: E402,F401  (registers `demo`)
from iexec_kit.cli import info as _info  # noqa: E402,F401  (registers `info`)


def main() -> None:
    """Console-script entry point."""
    from iexec_kit.errors import IexecKitError

    try:
        cli()
    except IexecKitError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise SystemExit(1) from None
