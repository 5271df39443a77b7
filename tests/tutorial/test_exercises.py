"""The notebooks' exercises in three modes, one kernel per notebook:

(a) as shipped: the notebook runs top to bottom (as nbmake runs it) and every check says
    "not yet" (the blank ``answer = ...``), nothing raises;
(b) with the solution (read from the tagged, collapsed solution cell) put in the exercise cell's
    place, the check says "right";
(c) with a wrong answer (each exercise's plausible mistake, and ``None``), the check does not
    say "right".

The cells run in order up to each check cell; (b) and (c) run there, in the same kernel, before
the rest of the notebook (which closes the sandbox the checks read).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from iexec_kit.tutorial.exercises import EXERCISES, check, solution_source

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("0[0-9]_*.ipynb"))
TIMEOUT = 300


def _tagged(cell, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def _feedback(cell) -> str:
    """The check cell's feedback, its plain text (``right: ...``, ``not yet: ...``)."""
    for out in cell.outputs:
        if out.output_type == "error":
            raise AssertionError(f"the check raised: {out.ename}: {out.evalue}")
        if out.output_type == "execute_result":
            return out.data["text/plain"]
    raise AssertionError(f"the check cell showed no feedback: {cell.outputs}")


def _exercise_id(source: str) -> str:
    return next(x for x in EXERCISES if f'"{x}"' in source)


def test_every_notebook_has_its_exercise_tagged():
    ids = []
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        tags = [t for c in cells for t in c.get("metadata", {}).get("tags", [])]
        assert tags.count("exercise") == tags.count("check") == tags.count("solution") == 1, path
        ex = next(c for c in cells if _tagged(c, "exercise"))
        assert ex.source.startswith("answer = ..."), f"{path.name}: the exercise ships a blank"
        sol = next(c for c in cells if _tagged(c, "solution"))
        assert sol.cell_type == "markdown" and sol.source.startswith("<details>"), path.name
        assert "answer =" in solution_source(sol.source)
        ids.append(_exercise_id(next(c for c in cells if _tagged(c, "check")).source))
    assert sorted(ids) == sorted(EXERCISES)


def test_feedback_never_raises():
    assert check("05-consensus", ...).status == "not yet"
    assert check("05-consensus", 4).status == "right"
    assert check("05-consensus", "four").status == "not right"
    assert check("00-owner", "0x00", None).status == "not right"  # the check failed: no sandbox
    assert check("nope", 1).status == "not right"
    fb = check("05-consensus", 4)
    assert str(fb).startswith("right: ") and "iexec-feedback-right" in fb._repr_html_()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_exercise_three_modes(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("IEXEC_KIT_CHOICES", str(tmp_path / "no-choices.json"))  # the defaults
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    i_check = next(i for i, c in enumerate(cells) if _tagged(c, "check"))
    solution = solution_source(next(c for c in cells if _tagged(c, "solution")).source)
    exercise = _exercise_id(cells[i_check].source)
    client = NotebookClient(
        nb, timeout=TIMEOUT, kernel_name="python3", resources={"metadata": {"path": path.parent}}
    )
    seen = {}
    with client.setup_kernel():
        for i, cell in enumerate(cells):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, i)  # raises CellExecutionError when a cell raises
            if i != i_check:
                continue
            seen["shipped"] = _feedback(cell)
            for mode, source in (
                ("solution", solution),
                ("wrong", EXERCISES[exercise].wrong),
                ("none", "answer = None"),
            ):
                client.execute_cell(nbformat.v4.new_code_cell(source), i - 1)
                again = nbformat.v4.new_code_cell(cell.source)
                client.execute_cell(again, i)
                seen[mode] = _feedback(again)
    assert seen["shipped"].startswith("not yet: "), seen
    assert seen["solution"].startswith("right: "), seen
    assert seen["wrong"].startswith("not right: "), seen
    assert seen["none"].startswith("not right: "), seen
