"""``iexec-kit demo``: the headless demo from the command line (in-process, through typer)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from iexec_kit.cli import cli
from iexec_kit.protocol.units import RLC


@pytest.fixture(scope="module")
def small_png(tmp_path_factory):
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:24, 0:40]
    rgb = np.stack([(x * 6) % 256, (y * 9) % 256, ((x * y) * 2) % 256], axis=-1).astype("uint8")
    path = tmp_path_factory.mktemp("cli") / "tiny.png"
    Image.fromarray(rgb).save(path)
    return path


def run(*args):
    return CliRunner().invoke(cli, ["demo", *args], catch_exceptions=False)


def test_json_summary_of_the_cheaters_scenario(small_png, tmp_path):
    res = run(
        "--workers",
        "5",
        "--trust",
        "5",
        "--cheaters",
        "2",
        "--engine",
        "numpy",
        "--input",
        str(small_png),
        "--output",
        str(tmp_path / "out"),
        "--json",
    )
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert {"deal_id", "tasks", "accounts", "hub_rlc", "kitty", "gas", "timings"} <= set(s)
    assert set(s["accounts"]) == {"before", "after"} and set(s["hub_rlc"]) == {"before", "after"}
    task = s["tasks"][0]
    assert {"task_id", "status", "consensus", "result_cid", "result_path", "contributions"} <= set(
        task
    )
    assert task["status"] == "COMPLETED" and task["result_path"].startswith(str(tmp_path / "out"))
    assert (tmp_path / "out").rglob("tiny.png")
    cheaters = [c for c in task["contributions"] if c["behaviour"] == "colluding"]
    assert len(cheaters) == 2 and all(c["status"] == "CONTRIBUTED" for c in cheaters)
    for c in cheaters:
        before, after = s["accounts"]["before"][c["address"]], s["accounts"]["after"][c["address"]]
        lost = sum(before[k] - after[k] for k in ("wallet_rlc", "stake", "locked"))
        assert lost == RLC * 30 // 100
    for key in ("wallet_rlc", "stake", "locked", "eth"):
        assert all(key in a for a in s["accounts"]["after"].values())
    assert s["gas"]["finalize"] > 0 and s["timings"]["total"] > 0


def test_progress_is_printed_like_iexec_app_run_watch(small_png):
    res = run("--workers", "2", "--trust", "3", "--engine", "numpy", "--input", str(small_png))
    assert res.exit_code == 0, res.output
    for words in (
        "orders published",
        "deal 0x",
        "initialized (ACTIVE)",
        "authorized",
        "contributed hash",
        "consensus on",
        "revealed digest",
        "uploaded the result",
        "finalized (COMPLETED)",
        "downloaded from /ipfs/",
        "digest = consensus",
        "demo OK",
    ):
        assert words in res.output, words


def test_a_failed_demo_exits_1(small_png):
    res = run(
        "--workers", "1", "--engine", "numpy", "--input", "http://127.0.0.1:9/none.png", "--json"
    )
    assert res.exit_code == 1
    assert json.loads(res.stdout)["tasks"][0]["status"] == "FAILED"  # the JSON alone on stdout
    assert "demo FAILED" in res.stderr and "FAILED:" in res.stderr  # why, in words, on stderr


def test_too_little_rlc_exits_with_words(small_png):
    from iexec_kit.errors import InsufficientFundsError

    with pytest.raises(InsufficientFundsError, match="nothing was signed"):
        run("--deposit", "0.5", "--engine", "numpy", "--input", str(small_png))


def test_lone_cheaters_each_lose_their_stake(small_png):
    res = run(
        "--workers",
        "4",
        "--lone-cheaters",
        "2",
        "--trust",
        "3",
        "--engine",
        "numpy",
        "--input",
        str(small_png),
        "--json",
    )
    assert res.exit_code == 0, res.output
    task = json.loads(res.stdout)["tasks"][0]
    cheaters = [c for c in task["contributions"] if c["behaviour"] == "cheater"]
    assert cheaters and all(c["status"] == "CONTRIBUTED" for c in cheaters)  # outside the consensus
