"""One conformance suite for both runners (process and Docker), on the toy app."""

from __future__ import annotations

import json

import pytest

from iexec_kit.compute import AppExecutionError, AppTimeoutError, OutputTooLargeError, RunResult
from iexec_kit.errors import IexecKitError


def _ok(runner, toyapp, tmp_path, *inputs, args="ok"):
    files = []
    for i, content in enumerate(inputs):
        f = tmp_path / f"in{i}.bin"
        f.write_bytes(content)
        files.append(f)
    return runner.run(toyapp, files, args, timeout=60)


def test_contract_env_inputs_and_args(runner, toyapp, tmp_path):
    r = _ok(runner, toyapp, tmp_path, b"abc", b"12345", args="ok 'two words' --flag=1")
    assert isinstance(r, RunResult) and r.ok and r.exit_code == 0
    report = json.loads((r.out_dir / "result.json").read_text())
    assert report["args"] == ["ok", "two words", "--flag=1"]  # split shell-style
    assert report["inputs"] == ["in0.bin", "in1.bin"] and report["sizes"] == [3, 5]
    env = report["env"]
    assert env["IEXEC_INPUT_FILES_NUMBER"] == "2" and env["IEXEC_BOT_SIZE"] == "1"
    assert env["IEXEC_TASK_ID"].startswith("0x") and len(env["IEXEC_TASK_ID"]) == 66
    assert r.deterministic_path == (r.out_dir / "result.json").resolve()
    assert "toy: ok" in r.logs
    assert r.digest().startswith("0x") and len(r.digest()) == 66


def test_extra_env_reaches_the_app(runner, toyapp, tmp_path):
    f = tmp_path / "x"
    f.write_bytes(b"x")
    r = runner.run(toyapp, [f], "ok", {"IEXEC_TASK_ID": "0x" + "11" * 32}, timeout=60)
    env = json.loads((r.out_dir / "result.json").read_text())["env"]
    assert env["IEXEC_TASK_ID"] == "0x" + "11" * 32


def test_same_input_same_digest(runner, toyapp, tmp_path):
    a = _ok(runner, toyapp, tmp_path, b"same")
    b = _ok(runner, toyapp, tmp_path, b"same")
    assert a.digest() == b.digest()


def test_hang_is_killed_at_the_clock(runner, toyapp):
    with pytest.raises(AppTimeoutError) as e:
        runner.run(toyapp, [], "hang", timeout=2)
    assert isinstance(e.value, TimeoutError) and isinstance(e.value, IexecKitError)
    assert "2 s clock" in str(e.value) and "toy: hanging" in e.value.logs


def test_output_limit_stops_the_app(runner, toyapp):
    with pytest.raises(OutputTooLargeError) as e:
        runner.run(toyapp, [], "bigout", timeout=60, max_output_bytes=1_000_000)
    assert "1000000" in str(e.value)


@pytest.mark.parametrize(
    "mode, words",
    [
        ("nocomputed", "no computed.json"),
        ("exit3", "exited with code 3"),
        ("error", "toy failed on purpose"),
        ("escape", "outside $IEXEC_OUT"),
        ("badjson", "not a JSON object"),
    ],
)
def test_failures_are_never_silent(runner, toyapp, mode, words):
    r = runner.run(toyapp, [], mode, timeout=60, check=False)
    assert not r.ok and words in r.problem
    with pytest.raises(AppExecutionError) as e:
        r.check()
    assert words in str(e.value) and e.value.result is r
    with pytest.raises(AppExecutionError):
        r.digest()
    with pytest.raises(AppExecutionError):
        runner.run(toyapp, [], mode, timeout=60)


def test_callback_data_digest(runner, toyapp):
    from eth_utils import keccak

    r = runner.run(toyapp, [], "callback", timeout=60)
    assert r.digest() == "0x" + keccak(bytes.fromhex("ab" * 32)).hex()


def test_output_dir_must_be_empty(runner, toyapp, tmp_path):
    (tmp_path / "junk").write_text("x")
    with pytest.raises(AppExecutionError, match="not empty"):
        runner.run(toyapp, [], "ok", out_dir=tmp_path)


def test_docker_runner_without_engine_says_what_to_do(toyapp, tmp_path):
    from iexec_kit.compute import DockerRunner, DockerUnavailableError

    with pytest.raises(DockerUnavailableError) as e:
        DockerRunner(f"unix://{tmp_path}/none.sock").run(toyapp, [], "ok")
    assert "scripts/docker-engine.sh start" in str(e.value)


def test_get_runner_by_name():
    from iexec_kit.compute import get_runner
    from iexec_kit.errors import KitValueError

    assert get_runner("process").name == "process"
    assert get_runner("docker", base_url="unix:///nowhere.sock").name == "docker"
    with pytest.raises(KitValueError):
        get_runner("podman")
