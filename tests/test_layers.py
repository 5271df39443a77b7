"""The kit's layers: a module imports its own layer and the layers below it, never one above.

Bottom to top: protocol (``iexec_kit.protocol.*`` and ``iexec_kit.errors``), chain, compute,
storage, poco, market, actors, sandbox (``iexec_kit.sandbox``), tutorial, ui, cli; then the
package itself (``iexec_kit/__init__.py``), which may import anything. The protocol leaf imports
nothing from the kit but ``iexec_kit.errors`` and itself.

Every import counts: module level or inside a function (lazy imports), ``import x`` and
``from x import y``, relative imports resolved, and ``importlib.import_module`` with a literal
name (or an f-string's literal prefix). A layer that does not exist yet (e.g. tutorial) is simply
empty.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "iexec_kit"
SOURCE = Path(__file__).resolve().parents[1] / PACKAGE

# bottom to top
LAYERS = (
    "protocol",
    "chain",
    "compute",
    "storage",
    "poco",
    "market",
    "actors",
    "sandbox",
    "tutorial",
    "ui",
    "cli",
    "package",
)
RANK = {layer: i for i, layer in enumerate(LAYERS)}

# the first name under iexec_kit -> its layer
TOP_NAMES = {
    "protocol": "protocol",
    "errors": "protocol",
    "chain": "chain",
    "compute": "compute",
    "storage": "storage",
    "poco": "poco",
    "market": "market",
    "actors": "actors",
    "sandbox": "sandbox",
    "node": "sandbox",
    "tutorial": "tutorial",
    "ui": "ui",
    "cli": "cli",
}

# names the package root holds that are no heavier than the bottom layer: any module may
# ``from iexec_kit import`` them (IexecKitError is iexec_kit.errors' own class)
ROOT_LIGHT_NAMES = {"__version__": "protocol", "IexecKitError": "protocol"}

# what the protocol leaf may import from the kit
LEAF_ALLOWED = ("iexec_kit.errors", "iexec_kit.protocol")


@dataclass(frozen=True)
class Import:
    line: int
    target: str  # the kit module imported (the package root for its light names)
    layer: str | None  # None: a name under iexec_kit that no layer claims


@dataclass(frozen=True)
class Violation:
    file: str
    line: int
    layer: str
    imported: str
    imported_layer: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: the {self.layer} layer imports {self.imported} "
            f"(layer {self.imported_layer}, above {self.layer})"
        )


def module_name(path: Path, source: Path = SOURCE) -> tuple[str, bool]:
    """(dotted module name, is a package) of a file under ``source``."""
    rel = path.relative_to(source.parent).with_suffix("")
    parts = list(rel.parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def kit_modules(source: Path = SOURCE) -> dict[str, Path]:
    """Every module of the kit, by dotted name."""
    return {module_name(p, source)[0]: p for p in sorted(source.rglob("*.py"))}


def layer_of(module: str, names: tuple[str, ...] = ()) -> str | None:
    """The layer of a kit module (for the root: of the ``names`` imported from it)."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        raise ValueError(f"{module} is not a module of the kit")
    if len(parts) == 1:
        if names and all(n in ROOT_LIGHT_NAMES for n in names):
            return max((ROOT_LIGHT_NAMES[n] for n in names), key=RANK.__getitem__)
        return "package"
    return TOP_NAMES.get(parts[1])


def _is_kit(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def _literal_prefix(node: ast.expr) -> str | None:
    """The module name an ``import_module`` argument starts with, when it is written out."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value.rsplit(".", 1)[0] if "." in first.value else None
    return None


def imports_of(source: str, module: str, is_package: bool, known: set[str]) -> list[Import]:
    """The kit modules ``source`` (the text of ``module``) imports, wherever the import is.

    ``known`` is the set of the kit's module names, to tell ``from pkg import submodule`` from
    ``from pkg import name``.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []

    def add(line: int, target: str, names: tuple[str, ...] = ()) -> None:
        found.append(Import(line, target, layer_of(target, names)))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_kit(alias.name):
                    add(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: -(node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if not _is_kit(base):
                continue
            plain = []
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    add(node.lineno, sub)
                else:
                    plain.append(alias.name)
            if plain:
                add(node.lineno, base, tuple(plain))
        elif (
            isinstance(node, ast.Call)
            and node.args
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id == "import_module")
            )
        ):
            name = _literal_prefix(node.args[0])
            if name and _is_kit(name):
                add(node.lineno, name)
    return found


def violations_in(
    source: str, module: str, file: str, is_package: bool = False, known: set[str] = frozenset()
) -> list[Violation]:
    """The imports of ``module`` that reach a layer above its own (or leave the protocol leaf)."""
    layer = layer_of(module)
    if module == PACKAGE:
        return []  # the package level may import anything
    out = []
    for imp in imports_of(source, module, is_package, set(known)):
        if layer is None or imp.layer is None:
            continue  # reported by test_every_module_has_a_layer
        leaf_escape = layer == "protocol" and not any(
            imp.target == a or imp.target.startswith(a + ".") for a in LEAF_ALLOWED
        )
        if RANK[imp.layer] > RANK[layer] or leaf_escape:
            out.append(Violation(file, imp.line, layer, imp.target, imp.layer))
    return sorted(out, key=lambda v: (v.file, v.line, v.imported))


def all_violations(source: Path = SOURCE) -> list[Violation]:
    modules = kit_modules(source)
    known = set(modules)
    out = []
    for name, path in modules.items():
        _, is_package = module_name(path, source)
        rel = path.relative_to(source.parent).as_posix()
        out += violations_in(path.read_text(), name, rel, is_package, known)
    return out


# ----- the kit ---------------------------------------------------------------------------------


def test_every_module_has_a_layer():
    modules = kit_modules()
    known = set(modules)
    unmapped = sorted(n for n in modules if n != PACKAGE and layer_of(n) is None)
    assert not unmapped, f"modules no layer claims (add them to TOP_NAMES): {unmapped}"
    strays = []
    for name, path in modules.items():
        _, is_package = module_name(path)
        for imp in imports_of(path.read_text(), name, is_package, known):
            if imp.layer is None:
                strays.append(f"{path.relative_to(SOURCE.parent)}:{imp.line}: {imp.target}")
    assert not strays, "imports of kit names no layer claims:\n" + "\n".join(strays)


def test_no_module_imports_a_layer_above_its_own():
    new = all_violations()
    assert not new, "imports of a layer above (bottom to top: {}):\n{}".format(
        ", ".join(LAYERS), "\n".join(map(str, new))
    )


# ----- the check itself --------------------------------------------------------------------------

KNOWN_MODULES = {
    "iexec_kit",
    "iexec_kit.errors",
    "iexec_kit.chain",
    "iexec_kit.chain.node",
    "iexec_kit.market",
    "iexec_kit.market.book",
    "iexec_kit.poco",
    "iexec_kit.poco.hub",
    "iexec_kit.protocol",
    "iexec_kit.protocol.units",
    "iexec_kit.sandbox",
}


def test_the_check_sees_a_lazy_import_of_a_layer_above():
    source = "import json\n\n\ndef f():\n    from iexec_kit.sandbox import Sandbox\n"
    (v,) = violations_in(source, "iexec_kit.chain.fake", "chain/fake.py", known=KNOWN_MODULES)
    assert (v.file, v.line, v.layer, v.imported, v.imported_layer) == (
        "chain/fake.py",
        5,
        "chain",
        "iexec_kit.sandbox",
        "sandbox",
    )
    assert "chain/fake.py:5" in str(v) and "sandbox" in str(v)


def test_the_check_resolves_relative_and_plain_imports():
    source = (
        "from ..market import book\n"  # poco -> market: above
        "from . import hub\n"  # same layer
        "import iexec_kit.chain.node\n"  # below
        "from iexec_kit.protocol.units import RLC\n"  # below
        "from iexec_kit import ui\n"  # above (a layer that need not exist)
    )
    found = violations_in(source, "iexec_kit.poco.fake", "poco/fake.py", known=KNOWN_MODULES)
    assert [(v.line, v.imported, v.imported_layer) for v in found] == [
        (1, "iexec_kit.market.book", "market"),
        (5, "iexec_kit", "package"),
    ]
    # in a package's __init__, `from . import x` is the package's own submodule
    init = violations_in(
        "from . import node\n", "iexec_kit.chain", "chain/__init__.py", True, KNOWN_MODULES
    )
    assert init == []


def test_the_check_keeps_the_protocol_leaf_a_leaf():
    ok = "from iexec_kit.errors import KitValueError\nfrom .units import RLC\n"
    assert violations_in(ok, "iexec_kit.protocol.fake", "p.py", known=KNOWN_MODULES) == []
    bad = "from iexec_kit import __version__\nimport iexec_kit.chain\n"
    found = violations_in(bad, "iexec_kit.protocol.fake", "p.py", known=KNOWN_MODULES)
    assert [(v.line, v.imported) for v in found] == [(1, "iexec_kit"), (2, "iexec_kit.chain")]
    # elsewhere the root's light names are fine
    light = "from iexec_kit import IexecKitError, __version__\n"
    assert violations_in(light, "iexec_kit.chain.fake", "c.py", known=KNOWN_MODULES) == []


def test_the_check_reads_import_module_with_a_literal_name():
    source = (
        "import importlib\n"
        "importlib.import_module('iexec_kit.market.book')\n"
        "importlib.import_module(f'iexec_kit.chain.{name}')\n"
    )
    found = violations_in(source, "iexec_kit.chain.fake", "c.py", known=KNOWN_MODULES)
    assert [(v.line, v.imported) for v in found] == [(2, "iexec_kit.market.book")]


def test_the_check_on_a_temporary_package(tmp_path):
    pkg = tmp_path / PACKAGE
    (pkg / "storage").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from iexec_kit.cli import main\n")  # the top: fine
    (pkg / "storage" / "__init__.py").write_text("")
    (pkg / "storage" / "x.py").write_text("def f():\n    from ..actors import worker\n")
    (v,) = all_violations(pkg)
    assert (v.file, v.line, v.layer, v.imported_layer) == (
        "iexec_kit/storage/x.py",
        2,
        "storage",
        "actors",
    )
