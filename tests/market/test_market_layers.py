"""The market layer imports iexec_kit.poco and iexec_kit.chain, never the layers above it."""

from __future__ import annotations

import ast
from pathlib import Path

import iexec_kit.market

ABOVE = (
    "iexec_kit.sandbox",
    "iexec_kit.actors",
    "iexec_kit.tutorial",
    "iexec_kit.ui",
    "iexec_kit.cli",
)


def test_market_imports_point_down_only():
    for path in Path(iexec_kit.market.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert not name.startswith(ABOVE), f"{path.name} imports {name}"
