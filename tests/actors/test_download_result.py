"""download_result: a task's result fetched by its on-chain location, unzipped, its digest
recomputed and compared with the chain's (the hub is a stand-in; the storage functions are real)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from iexec_kit.actors import events as E
from iexec_kit.actors.results import download_result
from iexec_kit.errors import KitValueError
from iexec_kit.protocol.statuses import TaskStatus
from iexec_kit.storage.results import result_digest, zip_result

TASK, DEAL = "0x" + "11" * 32, "0x" + "22" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


class Hub:
    """What download_result reads of a hub: a task, its deal, the chain's clock."""

    def __init__(self, location: str, digest: str, status=TaskStatus.COMPLETED):
        results = json.dumps({"storage": "ipfs", "location": location}).encode()
        self._task = SimpleNamespace(
            taskid=TASK,
            dealid=DEAL,
            status=status,
            result_digest=digest,
            results_json=lambda: json.loads(results),
        )
        self.chain = SimpleNamespace(now=lambda: 1234)

    def task(self, taskid):
        return self._task

    def deal(self, dealid):
        return SimpleNamespace(requester="0x" + "33" * 20)


class Ipfs:
    """An IPFS client: ``cat`` by path."""

    def __init__(self, files: dict):
        self.files = files

    def cat(self, location: str) -> bytes:
        return self.files[location]


@pytest.fixture
def result(tmp_path) -> tuple[bytes, str]:
    out = tmp_path / "iexec_out"
    out.mkdir()
    (out / "notes.txt").write_text("a log")
    (out / "other.png").write_bytes(PNG + b"other")
    (out / "cartoon.png").write_bytes(PNG)
    (out / "computed.json").write_text(
        json.dumps({"deterministic-output-path": "/iexec_out/cartoon.png"})
    )
    return zip_result(out), result_digest(out)


def test_download_unzips_checks_the_digest_and_finds_the_images(tmp_path, result):
    archive, digest = result
    hub = Hub("/ipfs/QmResult", digest.upper().replace("0X", "0x"))
    stream = E.EventStream()
    got = download_result(
        hub, Ipfs({"/ipfs/QmResult": archive}), TASK, tmp_path / "got", stream=stream
    )
    assert got.folder == tmp_path / "got" and (got.folder / "computed.json").is_file()
    assert got.digest == digest and got.matches and got.cid == "QmResult"
    assert got.output == got.folder / "cartoon.png" and got.image == got.output
    assert [p.name for p in got.images] == ["cartoon.png", "other.png"]
    (event,) = list(stream)
    assert isinstance(event, E.ResultDownloaded) and event.digest_ok and event.time == 1234
    assert Path(event.path) == got.output


def test_a_different_digest_does_not_match(tmp_path, result):
    archive, _ = result
    hub = Hub("/ipfs/QmResult", "0x" + "00" * 32)
    got = download_result(hub, Ipfs({"/ipfs/QmResult": archive}), TASK, tmp_path / "got")
    assert not got.matches


def test_no_result_before_the_task_completes(tmp_path, result):
    archive, digest = result
    hub = Hub("/ipfs/QmResult", digest, status=TaskStatus.REVEALING)
    with pytest.raises(KitValueError, match="no result yet"):
        download_result(hub, Ipfs({"/ipfs/QmResult": archive}), TASK, tmp_path / "got")


def test_a_private_result_needs_the_storage_not_an_ipfs_client(tmp_path, result):
    _, digest = result
    with pytest.raises(KitValueError, match="not on IPFS"):
        download_result(Hub(f"/results/{TASK}", digest), Ipfs({}), TASK, tmp_path / "got")


def test_the_storage_fetches_with_the_requesters_token(tmp_path, result):
    archive, digest = result
    asked = []

    class Storage:
        def token_for(self, requester):
            return f"token-of-{requester}"

        def fetch(self, location, *, token=None):
            asked.append((location, token))
            return archive

    got = download_result(Hub(f"/results/{TASK}", digest), Storage(), TASK, tmp_path / "got")
    assert got.matches and got.cid is None
    assert asked == [(f"/results/{TASK}", "token-of-0x" + "33" * 20)]
