"""The tutorial sits above the sandbox: nothing below the sandbox imports it or the sandbox (not
even lazily inside a function), and the tutorial imports nothing above it."""

from __future__ import annotations

import ast
from pathlib import Path

import iexec_kit

KIT = Path(iexec_kit.__file__).parent
BELOW_SANDBOX = ("protocol", "chain", "compute", "storage", "poco", "market", "actors")


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    return names


def test_nothing_below_the_sandbox_imports_it_or_the_tutorial():
    for layer in BELOW_SANDBOX:
        for path in (KIT / layer).rglob("*.py"):
            for name in imported(path):
                assert not name.startswith(("iexec_kit.sandbox", "iexec_kit.tutorial")), (
                    f"{path.relative_to(KIT)} imports {name}"
                )


def test_the_tutorial_imports_nothing_above_it():
    for path in (KIT / "tutorial").rglob("*.py"):
        for name in imported(path):
            assert not name.startswith(("iexec_kit.ui", "iexec_kit.cli")), (
                f"{path.relative_to(KIT)} imports {name}"
            )


def test_one_fast_forward():
    assert not (KIT / "ui" / "steps.py").exists()
    assert not (KIT / "actors" / "demo.py").exists()
