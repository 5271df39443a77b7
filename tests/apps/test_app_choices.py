"""The kit's copy of the demo app's choices agrees with the app's own parser."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from iexec_kit.tutorial.demo import APP_ENGINES, APP_STYLES

APP_DIR = Path(__file__).resolve().parents[2] / "apps" / "gimp-cartoon"


def _entrypoint():
    sys.path.insert(0, str(APP_DIR))
    try:
        spec = importlib.util.spec_from_file_location("gimp_entry", APP_DIR / "entrypoint.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(APP_DIR))


@pytest.mark.parametrize("option,choices", [("--style", APP_STYLES), ("--engine", APP_ENGINES)])
def test_the_kit_knows_the_apps_choices(option, choices):
    app = _entrypoint()
    for value in choices:  # each of the kit's values is accepted by the app
        app.parse_args([option, value])
    # and the app's refusal names exactly the kit's list, in order: nothing missing, nothing more
    with pytest.raises(app.AppError, match="bad arguments") as refused:
        app.parse_args([option, "not-a-choice"])
    assert "(choose from " + ", ".join(map(repr, choices)) + ")" in str(refused.value) or (
        "{" + ",".join(choices) + "}" in str(refused.value)
    ), str(refused.value)
