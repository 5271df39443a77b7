"""Every refusal of the ``iexec-kit`` CLI is one sentence on stderr in the kit's shape (what was
expected, what came, what to do), exit code 1, never a Python traceback.

The cases run the real CLI in a subprocess (``python -m iexec_kit.cli``), so the CLI's one
error handler (:func:`iexec_kit.cli.main`) is what the user gets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = REPO_ROOT / "apps" / "gimp-cartoon"


def kit(*args, cwd=None, env=None, timeout=300):
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    for name in ("IEXEC_KIT_DEBUG", "IEXEC_KIT_IPFS_API"):
        if not (env and name in env):
            full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "iexec_kit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
    )


def refused(res, *words):
    """The run was refused with the kit's sentence: exit 1, `error:` on stderr, no traceback."""
    assert res.returncode == 1, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout, res.stderr
    assert res.stderr.startswith("error: "), res.stderr
    for w in words:
        assert w in res.stderr, (w, res.stderr)
    return res.stderr


def kit_shaped(res, *words):
    err = refused(res, *words)
    for part in ("expected: ", "got: ", "what to do: "):
        assert part in err, (part, err)
    return err


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


# ----- app run ---------------------------------------------------------------------------------


def test_app_run_unbalanced_quote_in_args():
    res = kit("app", "run", APP, "--args", "--style 'gimpfu")
    kit_shaped(res, "shell-style", "No closing quotation")


def test_app_run_output_is_an_existing_file(a_file):
    res = kit("app", "run", APP, "--output", a_file)
    kit_shaped(res, "--output names a file", str(a_file))


def test_app_run_broken_iexec_json(tmp_path):
    (tmp_path / "iexec.json").write_text('{"name": ')
    kit_shaped(kit("app", "run", tmp_path), "iexec.json is not valid JSON")


def test_app_run_iexec_json_not_an_object(tmp_path):
    (tmp_path / "iexec.json").write_text("[1, 2]")
    kit_shaped(kit("app", "run", tmp_path), "not a JSON object")


@pytest.mark.parametrize("value", ["-5", "0"])
def test_app_run_timeout_must_be_positive(value):
    kit_shaped(kit("app", "run", APP, "--timeout", value), "--timeout > 0")


@pytest.mark.parametrize("value", ["0", "-1"])
def test_app_run_max_output_must_be_positive(value):
    err = kit_shaped(kit("app", "run", APP, "--max-output-mb", value), "--max-output-mb > 0")
    assert "computed.json" not in err.split("expected")[0]  # not "the app wrote no computed.json"


# ----- ipfs -----------------------------------------------------------------------------------

CID = "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"  # b"hello"


@pytest.mark.parametrize(
    "api", ["not a url", "127.0.0.1:99999", "http://127.0.0.1:99999", "/ip4/127.0.0.1/tcp/x"]
)
def test_ipfs_api_that_is_not_an_address(api):
    kit_shaped(kit("ipfs", "cat", "--api", api, CID), "--api is not an API address")


def test_ipfs_api_from_the_environment_is_checked_too():
    res = kit("ipfs", "cat", CID, env={"IEXEC_KIT_IPFS_API": "nonsense"})
    kit_shaped(res, "$IEXEC_KIT_IPFS_API is not an API address")


def test_ipfs_daemon_api_nonsense(tmp_path):
    res = kit("ipfs", "daemon", "--api", "nonsense", "--repo", tmp_path / "repo", timeout=60)
    kit_shaped(res, "--api is not an API address")


def test_ipfs_daemon_repo_is_a_file(a_file):
    res = kit("ipfs", "daemon", "--api", "127.0.0.1:0", "--repo", a_file, timeout=60)
    kit_shaped(res, "--repo names a file", str(a_file))


def test_ipfs_add_repo_is_a_file(a_file, tmp_path):
    (tmp_path / "h.txt").write_text("hi")
    kit_shaped(kit("ipfs", "add", "--repo", a_file, tmp_path / "h.txt"), "--repo names a file")


@pytest.fixture
def repo_with_hello(tmp_path):
    (tmp_path / "hello.txt").write_bytes(b"hello")
    repo = tmp_path / "repo"
    res = kit("ipfs", "add", "-q", "--repo", repo, tmp_path / "hello.txt")
    assert res.returncode == 0 and res.stdout.strip() == CID, res.stderr
    return repo


def test_ipfs_get_to_an_unwritable_place_is_one_line(repo_with_hello):
    res = kit("ipfs", "get", CID, "-o", "/proc/x", "--repo", repo_with_hello)
    err = refused(res, "cannot save to /proc/x", "give -o a writable")
    assert len(err.strip().splitlines()) == 1  # `ipfs get` keeps its one `error:` line


def test_corrupted_pins_json(repo_with_hello, tmp_path):
    (repo_with_hello / "pins.json").write_text("{not json")
    (tmp_path / "other.txt").write_text("other")
    res = kit("ipfs", "add", "--repo", repo_with_hello, tmp_path / "other.txt")
    kit_shaped(res, "pins.json is corrupted")


def test_corrupted_identity_key(repo_with_hello):
    (repo_with_hello / "identity.key").write_bytes(b"garbage")
    kit_shaped(kit("ipfs", "cat", "--repo", repo_with_hello, CID), "identity.key is corrupted")


def test_corrupted_identity_key_daemon(repo_with_hello):
    (repo_with_hello / "identity.key").write_bytes(b"garbage")
    res = kit("ipfs", "daemon", "--api", "127.0.0.1:0", "--repo", repo_with_hello, timeout=60)
    kit_shaped(res, "identity.key is corrupted")


# ----- orders: uint256 fields -----------------------------------------------------------------


def test_an_order_price_past_uint256_is_refused_when_the_order_is_built():
    from iexec_kit.errors import KitValueError
    from iexec_kit.poco.orders import AppOrder, RequestOrder

    app = "0x" + "11" * 20
    with pytest.raises(KitValueError, match="does not fit in a uint256") as info:
        AppOrder(app=app, appprice=2**256)
    assert info.value.expected and info.value.got and info.value.hint
    with pytest.raises(KitValueError, match="RequestOrder.volume"):
        RequestOrder(app=app, appmaxprice=0, requester=app, volume=2**256)
    AppOrder(app=app, appprice=2**256 - 1)  # the largest uint256 is fine


# ----- the handler itself ---------------------------------------------------------------------


def test_a_kit_bug_is_one_line_unless_debug(monkeypatch, capsys):
    import iexec_kit.cli as cli_mod

    def boom():
        raise ZeroDivisionError("boom")

    monkeypatch.delenv("IEXEC_KIT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        cli_mod.handle(boom)
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "bug in iexec-kit" in err and "IEXEC_KIT_DEBUG=1" in err and "report it" in err
    assert len(err.strip().splitlines()) == 1
    monkeypatch.setenv("IEXEC_KIT_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli_mod.handle(boom)


def test_an_os_error_is_a_sentence(capsys):
    import iexec_kit.cli as cli_mod

    def fail():
        open("/nonexistent-folder/x")  # noqa: SIM115

    with pytest.raises(SystemExit) as info:
        cli_mod.handle(fail)
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "/nonexistent-folder/x" in err and "what to do" in err


def test_debug_shows_the_traceback(tmp_path):
    (tmp_path / "iexec.json").write_text("{")
    res = kit("app", "run", tmp_path, env={"IEXEC_KIT_DEBUG": "1"})
    assert res.returncode == 1 and "Traceback" in res.stderr


# ----- demo: refused before anything is signed ------------------------------------------------


def test_demo_output_is_a_file(a_file):
    kit_shaped(kit("demo", "--output", a_file, "--engine", "numpy"), "--output names a file")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--style", "bogus"], "unknown --style"),
        (["--engine", "bogus"], "unknown --engine"),
        (["--deposit", "-5"], "--deposit cannot be negative"),
    ],
)
def test_demo_refuses_before_anything_is_signed(args, words):
    err = kit_shaped(kit("demo", *args), words, "nothing was signed")
    assert "orders published" not in err


def test_demo_trust_the_workers_cannot_reach():
    res = kit("demo", "--trust", "1000", "--engine", "numpy")
    err = kit_shaped(res, "trust 1000", "3 worker")
    assert "--workers 10" in err  # what to do: enough workers, or a lower trust
    assert "orders published" not in res.stdout  # refused up front


def _small_png(tmp_path):
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:16, 0:24]
    rgb = np.stack([(x * 9) % 256, (y * 13) % 256, (x * y) % 256], axis=-1).astype("uint8")
    path = tmp_path / "tiny.png"
    Image.fromarray(rgb).save(path)
    return path


WRONG = ["--cheaters", "4", "--workers", "1", "--trust", "5", "--engine", "numpy"]


def test_demo_says_loudly_when_the_cheaters_won(tmp_path):
    res = kit("demo", *WRONG, "--input", _small_png(tmp_path))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert "demo OK" not in res.stdout
    assert "WRONG RESULT" in res.stdout + res.stderr
    assert "colluding" in res.stderr and "--expect-wrong-result" in res.stderr


def test_demo_wrong_result_expected_exits_0(tmp_path):
    res = kit("demo", *WRONG, "--input", _small_png(tmp_path), "--expect-wrong-result", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    summary = json.loads(res.stdout)
    assert summary["wrong_result"] == [summary["tasks"][0]["task_id"]]
    assert "WRONG RESULT" in res.stderr  # still said, on stderr
