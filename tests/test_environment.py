"""environment.yml (conda/Binder) must list exactly pyproject.toml's dependencies."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(req: str) -> str:
    return req.replace(" ", "").lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_norm(r) for r in project["dependencies"]} | {
        _norm(r) for r in project["optional-dependencies"]["dev"]
    }
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "environment.yml needs one pip: list"
    listed = {_norm(r) for r in pip_lists[0] if not r.startswith("-e")}
    assert listed - wanted == set(), (
        f"in environment.yml but not pyproject.toml: {sorted(listed - wanted)}"
    )
    assert wanted - listed == set(), (
        f"in pyproject.toml but not environment.yml: {sorted(wanted - listed)}"
    )
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert python and python[0].split("=")[1] >= project["requires-python"].lstrip(">=")


def test_environment_installs_the_kit_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)][0]
    assert "-e ." in pip
