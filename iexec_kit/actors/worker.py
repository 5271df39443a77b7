"""A worker, like iexec-worker: stake, compute, commit, reveal, upload.

A :class:`Worker` holds a participant's key. When the scheduler authorizes it on a task, it
fetches the task's inputs, runs the app with a runner (:mod:`iexec_kit.compute`), computes the
result digest and commits ``resultHash``/``resultSeal`` with its stake; when asked, it reveals
the digest; when chosen, it zips ``$IEXEC_OUT`` and uploads it through the result proxy.

Behaviours, for teaching (one per worker):

- ``honest``: does all of the above.
- ``cheater``: returns a wrong result of its own (its output bytes altered with its address).
- ``colluding``: a wrong result shared by every colluding worker (they altered it the same way).
- ``lazy``: contributes, then never reveals (its stake is lost, or the task reopens).
- ``crashing``: dies while running the app (never contributes; the scheduler picks another).
- ``slow``: contributes ``delay`` seconds of chain time after the others.

:meth:`Worker.compute` touches no chain (the drive runs several at once in threads); every
transaction goes through :meth:`contribute`, :meth:`reveal` and :meth:`upload`.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from iexec_kit.actors.events import (
    AppComputed,
    ContributionCommitted,
    ContributionRevealed,
    EventStream,
    ResultUploaded,
    Tx,
    WorkerFailed,
)
from iexec_kit.chain.accounts import Participant
from iexec_kit.errors import IexecKitError, KitValueError
from iexec_kit.protocol.results import IEXEC_OUT, app_path, result_hash
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus


class Behaviour(StrEnum):
    """How a worker behaves (for teaching what the consensus defends against)."""

    HONEST = "honest"
    CHEATER = "cheater"
    COLLUDING = "colluding"
    LAZY = "lazy"
    CRASHING = "crashing"
    SLOW = "slow"

    @classmethod
    def parse(cls, value) -> Behaviour:
        if isinstance(value, Behaviour):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            raise KitValueError(
                f"unknown worker behaviour {value!r}",
                expected=", ".join(b.value for b in cls),
                got=str(value),
            ) from None


def error_reason(exc: BaseException) -> str:
    """An exception as one line for an event's reason. The kit's own errors read as they are;
    anything else is a bug of the kit, said so (the reason is reported, never swallowed)."""
    from iexec_kit.storage.lan import redact_token  # a URL in the message may carry the token

    if isinstance(exc, IexecKitError):
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        return redact_token("; ".join(lines) or type(exc).__name__)
    return redact_token(
        f"unexpected error, a bug of the kit (please report it): {type(exc).__name__}: {exc}"
    )


class WorkerCrashedError(IexecKitError, RuntimeError):
    """A worker died in the middle of a task (the ``crashing`` behaviour)."""


@dataclass(frozen=True)
class TaskSpec:
    """What a worker needs to run a task, read from the chain by the scheduler."""

    taskid: str
    dealid: str
    idx: int
    bot_first: int
    bot_size: int
    args: str
    input_files: tuple[str, ...]
    requester: str
    beneficiary: str
    encryption: bool
    timeout: int  # the category's clock, seconds


@dataclass(frozen=True)
class Computation:
    """A worker's run of a task: the digest it commits (None when the run failed)."""

    taskid: str
    worker: str
    digest: str | None
    out_dir: Path | None
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.digest is not None


class Worker:
    """One worker of the workerpool (see the module docstring for its behaviours)."""

    def __init__(
        self,
        participant: Participant,
        hub,
        *,
        app_dir: str | Path,
        folder: str | Path,
        behaviour: Behaviour | str = Behaviour.HONEST,
        runner=None,
        storage=None,
        stream: EventStream | None = None,
        delay: int = 900,
    ):
        self.participant = participant
        self.hub = hub
        self.app_dir = Path(app_dir)
        self.folder = Path(folder) / participant.name
        self.behaviour = Behaviour.parse(behaviour)
        self.runner = runner
        self.storage = storage
        self.stream = stream if stream is not None else EventStream()
        self.delay = delay if self.behaviour == Behaviour.SLOW else 0
        self.alive = True
        self.computations: dict[str, Computation] = {}

    @property
    def name(self) -> str:
        return self.participant.name

    @property
    def address(self) -> str:
        return self.participant.address

    def __repr__(self) -> str:
        return f"<Worker {self.name} {self.behaviour.value}{'' if self.alive else ' (dead)'}>"

    def _now(self) -> int:
        return self.hub.chain.now()

    # ----- money ---------------------------------------------------------------------------
    def ensure_stake(self, amount: int):
        """Deposit RLC until the free stake on the hub is at least ``amount`` nRLC (a worker locks
        the deal's workerStake per contribution). Returns the receipt, or None if nothing moved."""
        missing = amount - self.hub.account(self.address).stake
        return self.hub.deposit(self.participant, missing) if missing > 0 else None

    # ----- compute (no chain access: may run in a thread) ------------------------------------
    def compute(self, spec: TaskSpec, *, fetch_retry=None) -> Computation:
        """Fetch the inputs, run the app, compute the digest; behaviours alter the result here.
        ``fetch_retry`` (a :class:`~iexec_kit.compute.fetch.FetchRetry`): how long an
        unreachable input source is waited for (default: the runner's, not at all)."""
        started = time.monotonic()
        out = self.folder / spec.taskid[2:14] / "iexec_out"
        if out.parent.exists():
            shutil.rmtree(out.parent)
        out.parent.mkdir(parents=True)
        if self.behaviour == Behaviour.CRASHING:
            self.alive = False
            comp = Computation(
                spec.taskid,
                self.address,
                None,
                None,
                time.monotonic() - started,
                "the worker process died while running the app (behaviour: crashing)",
            )
            self.computations[spec.taskid] = comp
            return comp
        env = {
            "IEXEC_TASK_ID": spec.taskid,
            "IEXEC_DEAL_ID": spec.dealid,
            "IEXEC_TASK_INDEX": str(spec.idx),
            "IEXEC_BOT_SIZE": str(spec.bot_size),
            "IEXEC_BOT_FIRST_INDEX": str(spec.bot_first),
            "IEXEC_BOT_TASK_INDEX": str(spec.idx - spec.bot_first),
        }
        try:
            result = self.runner.run(
                self.app_dir,
                inputs=list(spec.input_files),
                args=spec.args,
                env=env,
                timeout=spec.timeout,
                out_dir=out,
                allow_local=False,  # a requester's deal: never the worker's own files
                fetch_retry=fetch_retry,
            )
            if self.behaviour in (Behaviour.CHEATER, Behaviour.COLLUDING):
                self._tamper(result.deterministic_path)
            self._container_paths(result, out)
            digest = result.digest()
        except (IexecKitError, OSError) as exc:  # a failed input, app or disk: no contribution
            from iexec_kit.storage.lan import redact_token  # an input URL may carry the token

            said = redact_token(str(exc))
            comp = Computation(
                spec.taskid, self.address, None, None, time.monotonic() - started, said
            )
        except Exception as exc:  # noqa: BLE001 - a bug: this task fails, with its reason
            comp = Computation(
                spec.taskid,
                self.address,
                None,
                None,
                time.monotonic() - started,
                error_reason(exc),
            )
        else:
            comp = Computation(spec.taskid, self.address, digest, out, time.monotonic() - started)
        self.computations[spec.taskid] = comp
        return comp

    @staticmethod
    def _container_paths(result, out: Path) -> None:
        """Write computed.json's deterministic-output-path as the app contract names it
        (``/iexec_out/...``): the process runner shows the app host paths, which would differ from
        worker to worker and which the result proxy refuses."""
        import json

        det = result.deterministic_path
        named = (result.computed or {}).get("deterministic-output-path")
        if det is None or not named or str(named).startswith(IEXEC_OUT):
            return  # computed.json stays as the app wrote it
        rel = Path(det).resolve().relative_to(out.resolve()).as_posix()
        computed = dict(result.computed)
        computed["deterministic-output-path"] = app_path(rel)
        (out / "computed.json").write_text(json.dumps(computed, indent=2) + "\n")

    def _tamper(self, path: Path | None) -> None:
        """A wrong result: every output file gets extra bytes (the same for colluding workers,
        the worker's own for a lone cheater), so the digest differs from the honest one."""
        if path is None:
            return
        mark = (
            b"\0colluding cheaters' shared answer"
            if self.behaviour == Behaviour.COLLUDING
            else b"\0cheater " + self.address.encode()
        )
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            with open(f, "ab") as fh:
                fh.write(mark)

    # ----- chain ---------------------------------------------------------------------------
    def contribute(self, spec: TaskSpec, authorization: bytes):
        """Commit the computed digest (resultHash, resultSeal) and lock the stake. Returns the
        receipt, or None when the worker could not (the reason is emitted as WorkerFailed)."""
        comp = self.computations.get(spec.taskid)
        if comp is None or not comp.ok or not self.alive:
            return None
        try:
            receipt = self.hub.contribute(spec.taskid, comp.digest, self.participant, authorization)
        except Exception as exc:  # noqa: BLE001 - refused (or a bug): said, and this task only
            self.stream.emit(
                WorkerFailed(
                    spec.taskid,
                    self.address,
                    self.name,
                    self.behaviour.value,
                    f"contribution refused: {error_reason(exc)}",
                    time=self._now(),
                )
            )
            return None
        self.stream.emit(
            ContributionCommitted(
                spec.taskid,
                self.address,
                self.name,
                self.behaviour.value,
                result_hash(spec.taskid, comp.digest),
                time=self._now(),
                tx=Tx.of(receipt),
            )
        )
        return receipt

    def reveal(self, taskid: str):
        """Reveal the digest when asked (a lazy worker never does). Returns the receipt or None."""
        if self.behaviour == Behaviour.LAZY or not self.alive:
            return None
        comp = self.computations.get(taskid)
        if comp is None or not comp.ok:
            return None
        if self.hub.contribution(taskid, self.address).status != ContributionStatus.CONTRIBUTED:
            return None
        receipt = self.hub.reveal(taskid, comp.digest, self.participant)
        self.stream.emit(
            ContributionRevealed(
                taskid, self.address, self.name, comp.digest, time=self._now(), tx=Tx.of(receipt)
            )
        )
        return receipt

    def upload(self, spec: TaskSpec):
        """Zip $IEXEC_OUT (encrypted for the beneficiary when the deal asks) and upload it through
        the result proxy with the requester's stored token. Returns the UploadReceipt."""
        from iexec_kit.storage.results import zip_result

        comp = self.computations.get(spec.taskid)
        if comp is None or comp.out_dir is None or not self.alive:
            raise WorkerCrashedError(
                f"{self.name} has no result for task {spec.taskid}",
                expected="a revealed worker that still holds its $IEXEC_OUT",
                got="nothing",
                hint="the scheduler picks another revealed worker",
            )
        if self.hub.task(spec.taskid).status != TaskStatus.REVEALING:
            raise WorkerCrashedError("the task is not REVEALING any more", got=str(spec.taskid))
        archive = zip_result(comp.out_dir)
        if spec.encryption:
            from iexec_kit.storage.encryption import encrypt_result

            archive = encrypt_result(
                archive,
                self.storage.result_encryption_key(
                    spec.beneficiary, spec.taskid, self.participant.key
                ),
            )
        receipt = self.storage.upload(spec.requester, spec.taskid, archive, self.participant.key)
        self.stream.emit(
            ResultUploaded(
                spec.taskid,
                self.address,
                self.name,
                receipt.storage,
                receipt.location,
                receipt.cid,
                receipt.size,
                time=self._now(),
            )
        )
        return receipt

    def emit_computed(self, comp: Computation) -> None:
        """Report a computation on the stream (the drive calls it in a fixed order)."""
        if comp.ok:
            self.stream.emit(
                AppComputed(
                    comp.taskid,
                    self.address,
                    self.name,
                    self.behaviour.value,
                    comp.digest,
                    comp.seconds,
                    time=self._now(),
                )
            )
        else:
            self.stream.emit(
                WorkerFailed(
                    comp.taskid,
                    self.address,
                    self.name,
                    self.behaviour.value,
                    comp.error or "unknown failure",
                    time=self._now(),
                )
            )
