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


def protocol_option():
    """``--protocol kit|poco``, the same on every command that starts a network (checked by
    Sandbox.start, which says what it accepts)."""
    return typer.Option(
        "kit",
        "--protocol",
        help="kit: the kit's own readable contracts (default); poco: iExec's published PoCo "
        "6.1.0 from npm @iexec/poco, as iExec deployed it.",
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
from iexec_kit.cli import node as _node  # noqa: E402,F401  (registers `node`)
from iexec_kit.cli import workshop as _workshop  # noqa: E402,F401  (`scheduler`, `worker`)

# no public tracker is named in the package metadata: point at the one the kit came from
BUG_REPORT_WHERE = "the issue tracker of the repository iexec-kit came from (with the command run)"
DEBUG_ENV = "IEXEC_KIT_DEBUG"


def _error(text: str) -> None:
    typer.secho(f"error: {text}", fg=typer.colors.RED, err=True)


def _os_error_sentence(exc: OSError) -> str:
    """An OSError as the kit's three parts: what was expected, what came, what to do."""
    where = exc.filename if exc.filename is not None else "(a file or folder)"
    what = exc.strerror or type(exc).__name__
    return (
        f"the kit could not use {where}: {what}\n"
        "  expected: a file or folder the kit can read or write, of the kind the option names\n"
        f"  got: {type(exc).__name__} on {where}\n"
        "  what to do: check the paths given on the command line (a folder where a folder is "
        "due, a writable place for outputs)"
    )


def handle(fn, *args, **kwargs):
    """Run ``fn`` as the CLI's one error handler: a kit error prints its block, an OSError or a
    ValueError from what the user gave prints a sentence, a kit bug one line (a traceback with
    $IEXEC_KIT_DEBUG=1); each exits 1. ``typer.Exit``/``SystemExit`` pass through."""
    import os

    from iexec_kit.errors import IexecKitError

    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        return fn(*args, **kwargs)
    except KeyboardInterrupt:
        _error("interrupted (Ctrl-C); nothing more was done")
        raise SystemExit(130) from None
    except IexecKitError as exc:
        if debug:
            raise
        _error(str(exc))
    except OSError as exc:
        if debug:
            raise
        _error(_os_error_sentence(exc))
    except ValueError as exc:
        if debug:
            raise
        _error(
            f"a value was refused: {exc}\n"
            "  expected: options and files in the form `iexec-kit COMMAND --help` describes\n"
            f"  got: {type(exc).__name__}: {exc}\n"
            f"  what to do: fix the value on the command line; if it looks right, rerun with "
            f"{DEBUG_ENV}=1 and report it to {BUG_REPORT_WHERE}"
        )
    except Exception as exc:  # noqa: BLE001  (a kit bug: one line, the traceback on demand)
        if debug:
            raise
        _error(
            f"this is a bug in iexec-kit ({type(exc).__name__}: {exc}); rerun with "
            f"{DEBUG_ENV}=1 for the traceback and report it to {BUG_REPORT_WHERE}"
        )
    raise SystemExit(1)


def main() -> None:
    """Console-script entry point: the typer app inside the CLI's one error handler."""
    handle(cli)
