"""Workshop mode: the scheduler as a long-running service, its workers in processes of their own.

:class:`PoolService` runs the kit's :class:`~iexec_kit.actors.scheduler.Scheduler` (the same
decision core the in-process drive uses) for one workerpool, with a small HTTP API for workers
in the shape of iexec-core's:

- ``GET  /workers/challenge?walletAddress=0x..`` an EIP-712 challenge (typed data);
- ``POST /workers/login?walletAddress=0x..`` the signed challenge (``hash_signature_address``, as
  the result proxy reads it) -> a JWT that expires (``token_ttl``);
- ``GET  /workers/config`` the chain, the hub's deployment, the services' URLs (no token);
- ``POST /workers/register`` ``{name, behaviour, session}``: joins the pool; a second process
  with the same wallet, while the first is alive, is refused (409);
- ``POST /workers/ping`` keeps the worker alive (silent for ``ping_timeout`` s: it is gone, and
  its tasks in progress go to other workers);
- ``POST /replicates/available`` a task to compute, with the workerpool's authorization
  signature (204: nothing for now);
- ``POST /replicates/{chainTaskId}/updateStatus`` ``{status, details}``: COMPUTED, CONTRIBUTED,
  COMPUTE_FAILED, CONTRIBUTE_FAILED, REVEALED, REVEAL_FAILED, RESULT_UPLOADED (details: the
  upload receipt), RESULT_UPLOAD_FAILED;
- ``GET  /replicates/interrupted?wait=S`` what the scheduler asks of the worker: PLEASE_REVEAL,
  PLEASE_UPLOAD (with the task), in iexec-core's notification names; with ``wait`` (a long
  poll, seconds from 0, at most ``MAX_WAIT``; NaN, infinite, negative or not a number: 400) it
  answers as soon as the worker has a notice or a task waiting, so a worker hears "reveal now"
  the moment the consensus is reached, not at its next poll;
- ``GET  /pool`` the facilitator's board, read only (:mod:`iexec_kit.actors.board`).

A report is checked against the chain before it counts: CONTRIBUTED needs the worker's
contribution on chain, REVEALED its reveal (PROVED), RESULT_UPLOADED a request to upload this
task and a reveal; otherwise it is refused (422) and, for CONTRIBUTED, the task goes to another
worker (the scheduler does not wait for a contribution that is not there).

Every call but challenge, login and config needs ``Authorization: Bearer <jwt>``.

A remote worker is a :class:`RemoteWorker` handle in the scheduler's list, as a local
:class:`~iexec_kit.actors.worker.Worker` is in the drive's: asked to reveal or upload, it returns
None ("asked"), and the chain (its reveal) or its report (its upload) tells the scheduler the rest
in a later step. The service keeps only what the chain cannot tell (who is connected, who
computes what, who was asked to upload): a restarted service resumes from the chain, and its
workers, whose tokens it no longer knows, sign in and register again.

:func:`run_worker` is one worker's process (``iexec-kit worker``): it signs in, registers,
deposits its stake if needed, asks for work, computes with the process or Docker runner,
contributes, reveals and uploads on its own wallet. An upload that cannot reach the storage
(the result proxy down, a timeout) is retried with a growing delay while the task is REVEALING;
the scheduler waits for it meanwhile, and past the task's final deadline the task is claimed
(FAILED: the requester refunded, the stakes unlocked, nothing lost). An input whose source is
unreachable (the node's IPFS gateway down for a while) is fetched again with a growing delay
(:class:`~iexec_kit.compute.fetch.FetchRetry`) for ``fetch_patience`` seconds, never past the
task's contribution deadline; only then is the compute reported failed. The requester's
result-proxy token is read from the SMS for the task, signed by the worker (the SMS checks on
chain that it contributed): the scheduler never holds it.
"""

# no `from __future__ import annotations`: FastAPI reads the handlers' annotations (Request)

import asyncio
import json
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import asdict, replace
from pathlib import Path

from iexec_kit.actors.events import EventStream, WorkerFailed
from iexec_kit.actors.scheduler import Assignment, Scheduler
from iexec_kit.actors.worker import Behaviour, TaskSpec, WorkerCrashedError, error_reason
from iexec_kit.errors import IexecKitError, KitValueError
from iexec_kit.storage.lan import redact_token

DOMAIN = "iexec-kit scheduler"
ISSUER = "iexec-kit-scheduler"
PING_PERIOD = 1.0  # seconds between a worker's pings
MAX_WAIT = 10.0  # seconds a long poll (GET /replicates/interrupted?wait=) may hold
LONG_POLL = 2.0  # seconds a worker's long poll asks for (also how long a stop may wait)
FULL_SWEEP = 3.0  # seconds between rounds that look at every task (deadlines, missed reports)
UPLOAD_RETRY = (0.5, 8.0)  # seconds before a failed upload's first retry, and the most
UPLOAD_REASK = 30.0  # seconds after which a PLEASE_UPLOAD without an answer is sent again
QUIET_REPORTS = ("COMPUTED",)  # reports that change nothing the scheduler decides on


class PoolError(IexecKitError, RuntimeError):
    """The scheduler refused a worker's call."""


class WorkerRefusedError(PoolError, PermissionError):
    """A worker the pool will not take (its wallet is already connected from elsewhere)."""


class NotSignedInError(PoolError, PermissionError):
    """A call without a valid token (none, foreign, or expired): sign in again."""


class LanFrontRefusedError(NotSignedInError):
    """A workshop's LAN front refused the call: the workshop's token is wrong or missing (signing
    in again cannot help; the worker stops, saying the front's reason)."""


class UnknownWorkerError(PoolError, LookupError):
    """A signed-in wallet that did not register (or the scheduler restarted): register again."""


class ReportRefusedError(PoolError, ValueError):
    """A worker's report the chain does not back (a contribution or reveal that is not there)."""


def spec_to_json(spec: TaskSpec) -> dict:
    d = asdict(spec)
    d["input_files"] = list(spec.input_files)
    return d


def spec_from_json(d: dict) -> TaskSpec:
    return TaskSpec(**{**d, "input_files": tuple(d.get("input_files", ()))})


class RemoteWorker:
    """A worker in another process, as the scheduler sees it (a worker handle)."""

    def __init__(self, address: str, name: str, behaviour: str, session: str, timeout: float):
        self.address, self.name, self.session, self.timeout = address, name, session, timeout
        try:
            self.behaviour = Behaviour.parse(behaviour)
        except IexecKitError:
            self.behaviour = Behaviour.HONEST
        self.last_seen = time.monotonic()
        self.gone = False
        self.queue: deque[Assignment] = deque()  # authorized, not yet fetched
        self.computing: dict[str, Assignment] = {}  # fetched, not yet contributed
        self.notices: dict[str, dict] = {}  # taskid -> what it is asked to do
        self.uploads: dict[str, object] = {}  # taskid -> UploadReceipt it reported
        self.upload_failed: set[str] = set()
        # tasks it was asked to upload -> when (monotonic): asked again after UPLOAD_REASK s
        # without an answer (a notice lost on the way is not lost for good)
        self.upload_asked: dict[str, float] = {}
        self.lock = threading.RLock()
        self._waiters: list = []  # (event loop, asyncio.Event) of its long polls

    def __repr__(self) -> str:
        return f"<RemoteWorker {self.name} {self.address}{' (gone)' if self.gone else ''}>"

    @property
    def alive(self) -> bool:
        return not self.gone and time.monotonic() - self.last_seen < self.timeout

    @property
    def load(self) -> int:
        """Tasks it was given and has not contributed yet (the scheduler picks the least busy)."""
        return len(self.queue) + len(self.computing)

    def seen(self) -> None:
        self.last_seen = time.monotonic()

    @property
    def has_news(self) -> bool:
        """A notice or a task waits for it (what ends a long poll)."""
        return bool(self.queue or self.notices)

    def _wake(self) -> None:
        """End its long polls (called with the lock held, from any thread)."""
        for loop, event in self._waiters:
            loop.call_soon_threadsafe(event.set)

    async def wait_news(self, seconds: float) -> None:
        """Return once it has a notice or a task, or after ``seconds``."""
        if seconds <= 0:
            return
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self.lock:
            if self.has_news:
                return
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter[1].wait(), seconds)
        except TimeoutError:
            pass
        finally:
            with self.lock:
                self._waiters.remove(waiter)

    # ----- what the scheduler asks (the decision core calls these) ---------------------------
    def reveal(self, taskid: str):
        with self.lock:
            self.notices[taskid] = {"chainTaskId": taskid, "taskNotificationType": "PLEASE_REVEAL"}
            self._wake()
        return None  # asked: the chain will show the reveal

    def upload(self, spec: TaskSpec):
        with self.lock:
            if spec.taskid in self.uploads:
                return self.uploads.pop(spec.taskid)
            if spec.taskid in self.upload_failed or not self.alive:
                raise WorkerCrashedError(
                    f"{self.name} could not upload task {spec.taskid}",
                    expected="a revealed worker that uploads its result",
                    got="gone" if not self.alive else "its upload failed",
                    hint="the scheduler asks another revealed worker",
                )
            asked = self.upload_asked.get(spec.taskid)
            if asked is None or time.monotonic() - asked > UPLOAD_REASK:
                # the worker retries an unreachable storage by itself; asking again only covers
                # a notice it never got (it re-reports an upload it already made)
                self.upload_asked[spec.taskid] = time.monotonic()
                self.notices[spec.taskid] = {
                    "chainTaskId": spec.taskid,
                    "taskNotificationType": "PLEASE_UPLOAD",
                    "task": spec_to_json(spec),
                }
                self._wake()
        return None  # asked: its RESULT_UPLOADED report answers

    def give(self, assignment: Assignment) -> None:
        with self.lock:
            self.queue.append(assignment)
            self._wake()


class PoolService:
    """The scheduler of one workerpool, serving workers over HTTP (see the module docstring)."""

    def __init__(
        self,
        hub,
        manager,
        workerpool: str,
        *,
        urls: dict,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_lan: bool = False,
        token_ttl: float = 3600,
        ping_timeout: float = 10.0,
        poll: float = 0.3,
        log=None,
    ):
        from iexec_kit.storage.auth import Authenticator

        self.hub, self.manager, self.workerpool = hub, manager, workerpool
        self.urls = dict(urls)
        self.host, self.port, self.allow_lan = host, port, allow_lan
        self.ping_timeout, self.poll = ping_timeout, poll
        self.log = log or (lambda line: None)
        self.stream = EventStream()
        self.scheduler = Scheduler(hub, manager, workerpool, [], stream=self.stream, seed=seed)
        self.auth = Authenticator(
            hub.chain.chain_id, token_ttl=token_ttl, domain=DOMAIN, issuer=ISSUER
        )
        self.handles: dict[str, RemoteWorker] = {}  # address (lower) -> handle
        self.inbox: deque = deque()  # failures reported by workers, for the loop thread
        self.errors: list[str] = []
        self.logins = 0
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # a worker's report: the loop steps at once
        self._thread: threading.Thread | None = None
        self.server = None
        self.rounds = 0  # the loop's rounds (and their seconds), for the benchmark
        self._dirty: set[str] = set()  # tasks reported on since the last round
        self._swept = 0.0  # when a round last looked at every task (monotonic)
        self._sweep_now = True  # a worker joined or left: every task may have a candidate
        self.round_seconds = 0.0

    # ----- start and stop ----------------------------------------------------------------------
    def start(self) -> "PoolService":
        from iexec_kit.storage.server import BackgroundServer

        self.server = BackgroundServer(
            create_pool_app(self), self.host, self.port, name="scheduler", allow_lan=self.allow_lan
        ).start()
        self._thread = threading.Thread(target=self._loop, name="iexec-kit-scheduler", daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self.server is not None:
            self.server.stop()

    def __enter__(self) -> "PoolService":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ----- the loop: the decision core, moved in real time ---------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            started = time.perf_counter()
            try:
                moved = self.round()
            except Exception as exc:  # noqa: BLE001 - the service outlives one bad round
                moved = False
                self.errors.append(error_reason(exc))
                del self.errors[:-50]
                self.log(f"scheduler: {error_reason(exc)} (retrying)")
            self.rounds += 1
            self.round_seconds += time.perf_counter() - started
            if not moved:  # wait for the chain's clock, or a worker's report
                self._wake.wait(self.poll)

    def poke(self) -> None:
        """Step now (a worker reported something the chain may show)."""
        self._wake.set()

    def round(self) -> bool:
        """Reap the silent workers, apply the workers' reports, step the scheduler, hand out
        the new assignments; True when something moved."""
        moved = self._reap()
        while self.inbox:
            handle, taskid = self.inbox.popleft()
            self.scheduler.report_failure(handle, taskid)
            self._dirty.add(taskid)
            moved = True
        with self.lock:
            dirty, self._dirty = self._dirty, set()
        full = self._sweep_now or moved or time.monotonic() - self._swept >= FULL_SWEEP
        if full:
            self._sweep_now, self._swept = False, time.monotonic()
        progressed, _ = self.scheduler.step(None if full else dirty, give=_hand_out)
        return moved or progressed

    def _reap(self) -> bool:
        """Mark the workers silent for ``ping_timeout`` s gone; their tasks go to others. The
        lock (every worker's HTTP call takes it) is held only to pick them: the chain's time
        for their WorkerFailed events is read after, once."""
        reaped = []
        with self.lock:
            for h in self.handles.values():
                if h.gone or h.alive:
                    continue
                h.gone = True
                with h.lock:
                    lost = list(h.computing) + [a.spec.taskid for a in h.queue]
                    h.computing.clear()
                    h.queue.clear()
                reaped.append((h, lost))
        for h, lost in reaped:  # first, before any I/O can fail: the tasks go to others
            self.log(f"scheduler: {h.name} ({h.address}) is gone; its tasks go to others")
            for tid in lost:
                self.scheduler.report_failure(h, tid)
        now = 0  # the events' chain time: 0 when the chain does not answer this once
        if any(lost for _, lost in reaped):
            try:
                now = self.hub.chain.now()
            except Exception as exc:  # noqa: BLE001 - the events still go out
                self.log(f"scheduler: chain time unknown for the WorkerFailed events: {exc}")
        for h, lost in reaped:
            for tid in lost:
                self.stream.emit(
                    WorkerFailed(
                        tid,
                        h.address,
                        h.name,
                        h.behaviour.value,
                        f"no ping for {self.ping_timeout:g} s: the worker is gone",
                        time=now,
                    )
                )
        return bool(reaped)

    # ----- the API's logic (called from the HTTP handlers' threads) ------------------------------
    def challenge(self) -> dict:
        return self.auth.issue_challenge()

    def login(self, signed: str) -> str:
        token = self.auth.login(signed)
        self.logins += 1
        return token

    def who(self, authorization: str | None) -> str:
        from iexec_kit.storage.errors import ProxyAuthError

        try:
            return self.auth.verify(authorization).address
        except ProxyAuthError as exc:
            raise NotSignedInError(
                "sign in first (GET /workers/challenge, POST /workers/login)",
                got=str(exc).splitlines()[0],
                hint="the token is missing, foreign or expired: sign in again",
            ) from None

    def handle(self, authorization: str | None) -> RemoteWorker:
        address = self.who(authorization)
        with self.lock:
            h = self.handles.get(address.lower())
        if h is None or h.gone:
            raise UnknownWorkerError(
                "this wallet is not registered with the scheduler",
                got=address,
                hint="POST /workers/register (after a scheduler restart, register again)",
            )
        h.seen()
        return h

    def register(self, authorization: str | None, body: dict) -> dict:
        address = self.who(authorization)
        session = str(body.get("session") or "")
        with self.lock:
            h = self.handles.get(address.lower())
            if h is not None and h.alive and h.session != session:
                raise WorkerRefusedError(
                    f"a worker with wallet {address} is already connected",
                    expected="one worker process per wallet",
                    got=f"a second session ({session[:8] or 'none'}) while {h.name} is alive",
                    hint="give each worker its own wallet (--wallet <node>/workerN/wallet.json)",
                )
            if h is None or h.session != session or h.gone:
                if h is not None:  # a restarted process: what its old self held goes to others
                    with h.lock:
                        lost = list(h.computing) + [a.spec.taskid for a in h.queue]
                        h.computing.clear()
                        h.queue.clear()
                        h.gone = True
                    self.inbox.extend((h, tid) for tid in lost)
                h = RemoteWorker(
                    address,
                    str(body.get("name") or address[:10]),
                    str(body.get("behaviour") or "honest"),
                    session,
                    self.ping_timeout,
                )
                self.handles[address.lower()] = h
                self.log(f"scheduler: {h.name} ({address}, {h.behaviour.value}) joined")
                self._sweep_now = True
            h.seen()
        self.poke()
        if self.scheduler.worker(address) is not h:  # new, or a restarted worker's new handle
            self.scheduler.workers = [
                w for w in self.scheduler.workers if w.address.lower() != address.lower()
            ]
            self.scheduler.add_worker(h)
        return {"walletAddress": address, "name": h.name, "session": session}

    def config(self) -> dict:
        return {
            "chainId": self.hub.chain.chain_id,
            "blockchainNodeUrl": self.urls.get("chain"),
            "iexecHubAddress": self.hub.address,
            "deployment": self.hub.deployment.as_dict(),
            "workerPoolAddress": self.workerpool,
            "schedulerAddress": self.manager.address,
            "resultRepositoryURL": self.urls.get("result_proxy"),
            "smsURL": self.urls.get("sms"),
            "ipfsGatewayURL": self.urls.get("ipfs_gateway"),
            "pingPeriod": PING_PERIOD,
            "tokenTtl": self.auth.token_ttl,
        }

    def available(self, authorization: str | None) -> dict | None:
        h = self.handle(authorization)
        with h.lock:
            if not h.queue:
                return None
            a = h.queue.popleft()
            h.computing[a.spec.taskid] = a
        return {
            "chainTaskId": a.spec.taskid,
            "task": spec_to_json(a.spec),
            "workerpoolAuthorization": {
                "workerWallet": h.address,
                "chainTaskId": a.spec.taskid,
                "enclaveChallenge": "0x" + "00" * 20,
                "signature": "0x" + bytes(a.authorization).hex(),
            },
        }

    def interrupted(self, authorization: str | None) -> list[dict]:
        h = self.handle(authorization)
        with h.lock:
            out = list(h.notices.values())
            h.notices.clear()
        return out

    def update_status(self, authorization: str | None, taskid: str, body: dict) -> dict:
        from iexec_kit.storage.proxy import UploadReceipt

        h = self.handle(authorization)
        status = str(body.get("status", "")).upper()
        details = body.get("details") or {}
        try:
            self._check_report(h, taskid, status)
            with h.lock:
                if status in ("CONTRIBUTED", "COMPUTE_FAILED", "CONTRIBUTE_FAILED"):
                    h.computing.pop(taskid, None)
                if status in ("COMPUTE_FAILED", "CONTRIBUTE_FAILED"):
                    self.inbox.append((h, taskid))
                elif status == "RESULT_UPLOADED":
                    h.uploads[taskid] = UploadReceipt(
                        taskid,
                        str(details["storage"]),
                        str(details["location"]),
                        details.get("cid"),
                        int(details.get("size", 0)),
                    )
                elif status == "RESULT_UPLOAD_FAILED":
                    h.upload_failed.add(taskid)
                # only GET /replicates/interrupted hands a notice out (and clears it): a reveal
                # asked while the worker's CONTRIBUTED report was on its way must not be lost here
                notice = h.notices.get(taskid)
        finally:
            # the task is stepped at once, once the report is recorded (a round between the two
            # would not see an upload yet, and then wait for the next sweep); COMPUTED alone
            # changes nothing the scheduler decides on: no round for it
            if status not in QUIET_REPORTS:
                with self.lock:
                    self._dirty.add(taskid)
                self.poke()
        return {"status": status, "notification": notice}

    def _check_report(self, h: RemoteWorker, taskid: str, status: str) -> None:
        """A report the chain must back (see the module docstring); raises ReportRefusedError.
        A CONTRIBUTED report with no contribution on chain counts as a failed contribution."""
        from iexec_kit.protocol.statuses import ContributionStatus

        if status not in ("CONTRIBUTED", "REVEALED", "RESULT_UPLOADED"):
            return
        if taskid not in self.scheduler.tasks:
            raise ReportRefusedError(
                f"{status} for a task this scheduler does not serve",
                got=taskid,
                hint="report only the tasks /replicates/available gave you",
            )
        try:
            on_chain = self.hub.contribution(taskid, h.address).status
        except Exception:  # noqa: BLE001 - no such task on chain yet
            on_chain = ContributionStatus.UNSET
        if status == "CONTRIBUTED":
            expected, ok = "a contribution on chain", on_chain != ContributionStatus.UNSET
        elif status == "REVEALED":
            expected, ok = "a revealed contribution (PROVED)", on_chain == ContributionStatus.PROVED
        else:
            asked = taskid in h.upload_asked
            expected = "a request to upload (PLEASE_UPLOAD) after a reveal"
            ok = asked and on_chain == ContributionStatus.PROVED
        if ok:
            return
        if status == "CONTRIBUTED":
            with h.lock:
                h.computing.pop(taskid, None)
            self.inbox.append((h, taskid))  # not counted on: another worker gets the task
        self.log(f"scheduler: {h.name} reported {status} on {taskid[:10]}..; refused")
        raise ReportRefusedError(
            f"{status} refused: the chain does not show it",
            expected=expected,
            got=f"contribution status {on_chain.name} on chain for {h.address}",
            hint="report a step once its transaction is mined (and upload only when asked)",
        )

    def view(self) -> dict:
        """Who is connected and what they do (a facilitator's glance)."""
        with self.lock:
            workers = [
                {
                    "name": h.name,
                    "address": h.address,
                    "behaviour": h.behaviour.value,
                    "alive": h.alive,
                    "queued": len(h.queue),
                    "computing": list(h.computing),
                }
                for h in self.handles.values()
            ]
        return {"workers": workers, "tasks": len(self.scheduler.tasks), "errors": self.errors[-5:]}

    def board(self) -> dict:
        """``GET /pool``: :meth:`view` with the chain's side (scores, stakes, contributions,
        consensus, earnings), for a facilitator's board (:mod:`iexec_kit.actors.board`)."""
        from iexec_kit.actors.board import pool_view

        return pool_view(self)


def long_poll_seconds(wait: str) -> float:
    """The seconds a long poll (``GET /replicates/interrupted?wait=``) holds: a number from 0,
    at most :data:`MAX_WAIT` (more is cut to it). NaN, infinities, negative numbers and words
    are refused (400): a NaN or infinite timer would break the server's event loop."""
    try:
        seconds = float(wait)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise KitValueError(
            "wait (the long poll's seconds) must be a number from 0",
            expected=f"a finite number of seconds, 0 to {MAX_WAIT:g} (more is cut to {MAX_WAIT:g})",
            got=repr(wait[:40]),
            hint=f"ask e.g. ?wait={LONG_POLL:g}, or ?wait=0 for an answer at once",
        )
    return min(seconds, MAX_WAIT)


def _hand_out(assignment: Assignment) -> None:
    """An assignment to its worker's queue (its long poll wakes up)."""
    assignment.worker.give(assignment)


_STATUS = [
    (NotSignedInError, 401),
    (UnknownWorkerError, 404),
    (WorkerRefusedError, 409),
    (ReportRefusedError, 422),
]


def create_pool_app(service: PoolService):
    """The scheduler's HTTP API (FastAPI), see the module docstring."""
    from fastapi import Body, FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse, Response
    from starlette.concurrency import run_in_threadpool

    from iexec_kit.storage.errors import ProxyAuthError

    app = FastAPI(title="iexec-kit scheduler", version="1")

    @app.exception_handler(IexecKitError)
    async def refused(request, exc: IexecKitError):
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), None)
        if status is None:
            status = 401 if isinstance(exc, ProxyAuthError) else 400
        body = {"status": status, "message": str(exc), "path": request.url.path}
        return JSONResponse(body, status_code=status)

    def auth(request: Request) -> str | None:
        return request.headers.get("authorization")

    @app.get("/version")
    def version():
        return {"version": "1", "service": "iexec-kit scheduler"}

    @app.get("/workers/challenge")
    def challenge(walletAddress: str = ""):  # noqa: N803 - iexec-core's parameter name
        return service.challenge()

    @app.post("/workers/login")
    async def login(request: Request):
        signed = (await request.body())[:4096].decode("utf-8", "replace")
        return PlainTextResponse(await run_in_threadpool(service.login, signed))

    @app.get("/workers/config")
    def config():
        return service.config()

    @app.post("/workers/register")
    def register(request: Request, body: dict = Body(default_factory=dict)):
        return service.register(auth(request), body)

    @app.post("/workers/ping")
    def ping(request: Request):
        return PlainTextResponse(service.handle(auth(request)).session)

    @app.post("/replicates/available")
    def available(request: Request, blockNumber: int = 0):  # noqa: N803
        work = service.available(auth(request))
        return Response(status_code=204) if work is None else work

    @app.get("/replicates/interrupted")
    async def interrupted(request: Request, wait: str = "0"):
        h = service.handle(auth(request))  # a token check and a lookup: no I/O
        await h.wait_news(long_poll_seconds(wait))  # a long poll holds no thread
        return service.interrupted(auth(request))

    @app.post("/replicates/{taskid}/updateStatus")
    def update_status(request: Request, taskid: str, body: dict = Body(default_factory=dict)):
        return service.update_status(auth(request), taskid, body)

    @app.get("/pool")
    def pool():
        return service.board()

    return app


class SchedulerClient:
    """A worker's side of the scheduler's API: signs in with its key, signs in again when its
    token expired (or the scheduler restarted), and registers again when the scheduler forgot
    it."""

    def __init__(self, url: str, key, *, name: str, behaviour: str, timeout: float = 30.0):
        import requests
        from eth_account import Account

        self.url, self.key, self.timeout = url.rstrip("/"), key, timeout
        self.address = Account.from_key(key).address
        self.name, self.behaviour = name, behaviour
        self.session = secrets.token_hex(8)
        self.token: str | None = None
        self.logins = 0
        self._http = requests.Session()
        self._lock = threading.RLock()

    def _raw(self, method: str, path: str, *, body=None, text=None, params=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if text is not None:
            headers["Content-Type"] = "text/plain"
        return self._http.request(
            method,
            self.url + path,
            json=body,
            data=text,
            params=params,
            headers=headers,
            timeout=self.timeout,
        )

    @staticmethod
    def _error(res) -> PoolError:
        try:
            message = res.json().get("message") or f"HTTP {res.status_code}"
        except ValueError:
            message = f"HTTP {res.status_code}"
        if res.status_code == 401 and _front_refusal(res):
            return LanFrontRefusedError(message.splitlines()[0], got=message)
        kind = {
            401: NotSignedInError,
            404: UnknownWorkerError,
            409: WorkerRefusedError,
            422: ReportRefusedError,
        }
        return kind.get(res.status_code, PoolError)(message.splitlines()[0], got=message)

    def config(self) -> dict:
        res = self._raw("GET", "/workers/config")
        if res.status_code >= 400:
            raise self._error(res)
        return res.json()

    def sign_in(self) -> None:
        """Challenge, signature, token; then register (the same session: not a second one)."""
        from iexec_kit.storage.auth import sign_challenge

        with self._lock:
            self.token = None
            res = self._raw("GET", "/workers/challenge", params={"walletAddress": self.address})
            if res.status_code >= 400:
                raise self._error(res)
            signed = sign_challenge(res.json(), self.key)
            res = self._raw(
                "POST", "/workers/login", text=signed, params={"walletAddress": self.address}
            )
            if res.status_code >= 400:
                raise self._error(res)
            self.token = res.text.strip().strip('"')
            self.logins += 1
            self.register()

    def register(self) -> dict:
        res = self._raw(
            "POST",
            "/workers/register",
            body={"name": self.name, "behaviour": self.behaviour, "session": self.session},
        )
        if res.status_code >= 400:
            raise self._error(res)
        return res.json()

    def call(self, method: str, path: str, body=None, params=None):
        """A signed-in call; on 401 (an expired token) sign in again, on 404 (forgotten by a
        restarted scheduler) register again, then retry once."""
        res = self._raw(method, path, body=body, params=params)
        if res.status_code == 401 and not _front_refusal(res):
            self.sign_in()
            res = self._raw(method, path, body=body, params=params)
        elif res.status_code == 404 and path != "/workers/register":
            self.register()
            res = self._raw(method, path, body=body, params=params)
        if res.status_code >= 400:
            raise self._error(res)
        return None if res.status_code == 204 or not res.content else _json_or_text(res)

    def ping(self):
        return self.call("POST", "/workers/ping")

    def close(self) -> None:
        """Close its HTTP connections (a client dropped by a short-lived program)."""
        self._http.close()

    def available(self) -> dict | None:
        return self.call("POST", "/replicates/available")

    def interrupted(self, wait: float = 0) -> list[dict]:
        """The scheduler's notices; with ``wait``, held until one comes (or a task waits)."""
        params = {"wait": wait} if wait else None
        return self.call("GET", "/replicates/interrupted", params=params) or []

    def update(self, taskid: str, status: str, details: dict | None = None) -> dict:
        return self.call(
            "POST", f"/replicates/{taskid}/updateStatus", {"status": status, "details": details}
        )


def _json_or_text(res):
    try:
        return res.json()
    except ValueError:
        return res.text


def run_worker(
    scheduler_url: str,
    key,
    *,
    app_dir: str | Path,
    folder: str | Path,
    chain_url: str | None = None,
    behaviour: str = "honest",
    name: str | None = None,
    runner: str = "process",
    delay: float = 5.0,
    stake: int = 0,
    stop: threading.Event | None = None,
    log=print,
    poll: float = 0.3,
    fetch_patience: float | None = None,
) -> int:
    """One worker in this process, until ``stop`` (see the module docstring). Returns an exit
    code: 0 stopped, 3 refused by the scheduler (or by a workshop's LAN front: a wrong or
    missing token), 70 the ``crashing`` behaviour died. ``fetch_patience``: seconds an
    unreachable input source is retried (default
    :data:`~iexec_kit.compute.fetch.FETCH_PATIENCE`, 60 s)."""
    import requests
    from eth_account import Account

    from iexec_kit.actors.worker import Worker
    from iexec_kit.chain.accounts import Participant
    from iexec_kit.chain.deploy import Deployment
    from iexec_kit.chain.node import Chain
    from iexec_kit.compute import get_runner
    from iexec_kit.compute.fetch import FETCH_PATIENCE, FetchRetry
    from iexec_kit.poco.hub import Hub
    from iexec_kit.storage.remote import RemoteStorage

    stop = stop or threading.Event()
    address = Account.from_key(key).address
    name = name or f"worker-{address[2:8].lower()}"
    b = Behaviour.parse(behaviour)
    client = SchedulerClient(scheduler_url, key, name=name, behaviour=b.value)
    try:
        cfg = _retry(client.config, stop, log, "the scheduler", fatal=NotSignedInError)
    except NotSignedInError as exc:  # the config asks no JWT: a LAN front refused the token
        return _refused_by_front(name, scheduler_url, exc, log)
    if cfg is None:
        return 0
    chain = Chain.connect(chain_url or cfg["blockchainNodeUrl"], workers=0)
    hub = Hub(chain, Deployment(**cfg["deployment"]))
    storage = RemoteStorage(
        proxy_url=cfg["resultRepositoryURL"],
        sms_url=cfg["smsURL"],
        ipfs_gateway=cfg["ipfsGatewayURL"],
        chain_id=cfg["chainId"],
    )
    run = get_runner(runner, ipfs_cat=storage.ipfs_cat, allow_local=False)
    participant = Participant("worker", name, -1, address, bytes.fromhex(_hex(key)))
    stream = EventStream()
    stream.subscribe(lambda e: log(f"{name}: {e.describe()}"))
    worker = Worker(
        participant, hub, app_dir=app_dir, folder=folder, behaviour=b, runner=run, stream=stream
    )
    worker.storage = storage
    patience = FETCH_PATIENCE if fetch_patience is None else fetch_patience
    fetching = FetchRetry(patience=patience, wait=stop.wait)
    if stake:
        worker.ensure_stake(stake)
    while not stop.is_set():
        try:
            client.sign_in()
            break
        except LanFrontRefusedError as exc:  # the node restarted with a new token, say
            return _refused_by_front(name, scheduler_url, exc, log)
        except WorkerRefusedError as exc:
            log(f"{name}: refused by the scheduler: {exc}")
            return 3
        except Exception as exc:  # noqa: BLE001 - the scheduler not up yet, the network
            log(f"{name}: cannot sign in: {error_reason(exc)}; retrying")
            stop.wait(1.0)
    log(f"{name} ({address}, {b.value}) signed in to {redact_token(scheduler_url)}")

    def pinger():
        while not stop.wait(cfg.get("pingPeriod", PING_PERIOD)):
            try:
                client.ping()
            except Exception:  # noqa: BLE001 - the main loop says what is wrong
                pass

    threading.Thread(target=pinger, name="iexec-kit-ping", daemon=True).start()
    # its own uploads, to answer a restarted scheduler that asks again (the proxy refuses a
    # second upload of a task: the result is already there)
    uploaded: dict[str, object] = {}
    retries: dict[
        str, list
    ] = {}  # uploads the storage did not take yet: taskid -> [spec, when, delay]
    unreachable = False
    while not stop.is_set():
        try:
            wait = LONG_POLL
            if retries:
                wait = min(wait, max(0.05, min(r[1] for r in retries.values()) - time.monotonic()))
            asked = time.monotonic()
            notices = client.interrupted(wait=wait)  # a long poll: back at once when news come
            for notice in notices:  # one that fails (the scheduler away) does not drop the rest
                try:
                    _on_notice(worker, client, notice, log, uploaded, retries)
                except requests.ConnectionError:
                    log(f"{name}: the scheduler did not take a report; it will ask again")
            _retry_uploads(worker, client, log, uploaded, retries)
            if unreachable:
                log(f"{name}: the scheduler answers again")
                unreachable = False
            work = client.available()
            if work is None:
                if not notices and time.monotonic() - asked < wait / 2:
                    stop.wait(poll)  # back too soon with nothing (a scheduler without long polls)
                continue
            done = _compute_and_contribute(worker, client, work, delay, stop, fetching, log)
            if done == "crashed":
                log(f"{name}: died while running the app (behaviour: crashing)")
                return 70
        except WorkerRefusedError as exc:
            log(f"{name}: refused by the scheduler: {exc}")
            return 3
        except LanFrontRefusedError as exc:  # the token changed under a running worker
            return _refused_by_front(name, scheduler_url, exc, log)
        except requests.ConnectionError:  # the scheduler restarting, the network
            if not unreachable:
                where = redact_token(scheduler_url)
                log(f"{name}: the scheduler does not answer at {where}; retrying")
            unreachable = True
            stop.wait(1.0)
        except Exception as exc:  # noqa: BLE001 - said, then the next round tries again
            log(f"{name}: {error_reason(exc)}; retrying")
            stop.wait(1.0)
    return 0


def _front_refusal(res) -> bool:
    """Whether a 401 comes from a workshop's LAN front (its refusal names the service it
    guards), not from the scheduler (a worker's expired JWT)."""
    try:
        body = res.json()
    except ValueError:
        return False
    return isinstance(body, dict) and "service" in body


def _hex(key) -> str:
    return bytes(key).hex() if isinstance(key, bytes | bytearray) else str(key).removeprefix("0x")


def _refused_by_front(name: str, scheduler_url: str, exc: Exception, log) -> int:
    said = redact_token(getattr(exc, "got", None) or str(exc))  # the front's sentence: what to do
    log(f"{name}: refused by the LAN front at {redact_token(scheduler_url)}: {said}")
    return 3


def _retry(fn, stop, log, what: str, *, fatal: type[Exception] | None = None):
    """``fn()`` until it answers (None once ``stop`` is set); a ``fatal`` error is raised."""
    while not stop.is_set():
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - not up yet
            if fatal is not None and isinstance(exc, fatal):
                raise
            log(f"waiting for {what}: {type(exc).__name__}")
            stop.wait(1.0)
    return None


def _compute_and_contribute(
    worker, client: SchedulerClient, work: dict, delay, stop, fetching=None, log=print
) -> str:
    spec = spec_from_json(work["task"])
    authorization = bytes.fromhex(work["workerpoolAuthorization"]["signature"][2:])
    retry = None
    if fetching is not None:
        retry = _fetch_retry(worker, spec, fetching, log)
    comp = worker.compute(spec, fetch_retry=retry)
    worker.emit_computed(comp)
    if worker.behaviour == Behaviour.CRASHING:
        return "crashed"
    if not comp.ok:
        client.update(spec.taskid, "COMPUTE_FAILED", {"error": comp.error})
        return "failed"
    client.update(spec.taskid, "COMPUTED", {"digest": comp.digest})
    if worker.behaviour == Behaviour.SLOW:
        stop.wait(delay)
    try:  # each contribution locks the deal's workerStake: top the free stake up if short
        worker.ensure_stake(_worker_stake(worker.hub, spec.dealid))
    except Exception as exc:  # noqa: BLE001 - the contribution below says it is refused
        worker.stream.emit(
            WorkerFailed(
                spec.taskid,
                worker.address,
                worker.name,
                worker.behaviour.value,
                f"could not deposit the stake: {error_reason(exc)}",
                time=worker.hub.chain.now(),
            )
        )
    receipt = worker.contribute(spec, authorization)
    client.update(spec.taskid, "CONTRIBUTED" if receipt is not None else "CONTRIBUTE_FAILED")
    return "contributed" if receipt is not None else "failed"


def _fetch_retry(worker, spec: TaskSpec, fetching, log):
    """The worker's input patience for this task: never past its contribution deadline (a
    contribution after it is refused), and at most one work clock (``spec.timeout``): while it
    waits for an input the worker answers no notice, so a reveal asked for another task meanwhile
    waits that long at most, inside its reveal window (two work clocks, PoCo's ratio). Each retry
    is said in the worker's log."""
    from iexec_kit.compute.fetch import FETCH_PATIENCE

    try:
        left = worker.hub.task(spec.taskid).contribution_deadline - worker.hub.chain.now()
    except (IexecKitError, OSError):  # the chain away for a moment: the default bounds it
        left = FETCH_PATIENCE
    if spec.timeout:
        left = min(left, spec.timeout)
    prefix = f"{worker.name}: input of task {spec.taskid[:10]}..: "
    return replace(fetching.within(left), log=lambda line: log(prefix + line))


_STAKES: dict[str, int] = {}


def _worker_stake(hub, dealid: str) -> int:
    if dealid not in _STAKES:
        _STAKES[dealid] = hub.deal(dealid).worker_stake
    return _STAKES[dealid]


def _on_notice(worker, client: SchedulerClient, notice: dict, log, uploaded: dict, retries) -> None:
    tid, kind = notice["chainTaskId"], notice["taskNotificationType"]
    if kind == "PLEASE_REVEAL":
        try:
            receipt = worker.reveal(tid)
        except Exception as exc:  # noqa: BLE001 - said to the scheduler
            log(f"{worker.name}: reveal failed: {error_reason(exc)}")
            client.update(tid, "REVEAL_FAILED", {"error": error_reason(exc)})
            return
        if receipt is not None:
            client.update(tid, "REVEALED")
    elif kind == "PLEASE_UPLOAD":
        retries.pop(tid, None)
        _upload(worker, client, spec_from_json(notice["task"]), log, uploaded, retries)


def _retry_uploads(worker, client: SchedulerClient, log, uploaded: dict, retries: dict) -> None:
    """Try again the uploads that are due, while their task is REVEALING on chain."""
    from iexec_kit.protocol.statuses import TaskStatus

    for tid, (spec, when, _delay) in list(retries.items()):
        if time.monotonic() < when:
            continue
        status = worker.hub.task(tid).status
        if status != TaskStatus.REVEALING:
            retries.pop(tid)
            log(f"{worker.name}: task {tid[:10]}.. is {status.name}: its upload is dropped")
            continue
        _upload(worker, client, spec, log, uploaded, retries)


def _upload(worker, client: SchedulerClient, spec: TaskSpec, log, uploaded, retries) -> None:
    """One attempt at uploading a task's result; an unreachable storage is retried later
    (``retries``), a refusal is reported (RESULT_UPLOAD_FAILED)."""
    import requests

    tid = spec.taskid
    try:
        receipt = uploaded.get(tid) or worker.upload(spec)
        uploaded[tid] = receipt
    except (requests.ConnectionError, requests.Timeout) as exc:
        delay = retries[tid][2] * 2 if tid in retries else UPLOAD_RETRY[0]
        delay = min(delay, UPLOAD_RETRY[1])
        retries[tid] = [spec, time.monotonic() + delay, delay]
        log(
            f"{worker.name}: the storage is unreachable ({type(exc).__name__}); "
            f"upload of {tid[:10]}.. retried in {delay:g} s"
        )
        return
    except Exception as exc:  # noqa: BLE001 - said to the scheduler
        retries.pop(tid, None)
        log(f"{worker.name}: upload failed: {error_reason(exc)}")
        client.update(tid, "RESULT_UPLOAD_FAILED", {"error": error_reason(exc)})
        return
    retries.pop(tid, None)
    client.update(
        tid,
        "RESULT_UPLOADED",
        {
            "storage": receipt.storage,
            "location": receipt.location,
            "cid": receipt.cid,
            "size": receipt.size,
        },
    )


def load_wallet(path: str | Path) -> str:
    """The private key (0x-hex) of an SDK wallet.json (the node writes one per participant)."""
    data = json.loads(Path(path).read_text())
    key = data.get("privateKey")
    if not key:
        from iexec_kit.errors import KitValueError

        raise KitValueError(
            "a wallet.json with a privateKey (the SDK's unencrypted wallet)",
            got=f"keys {sorted(data)}",
            hint="use <node folder>/workerN/wallet.json, or pass --key",
        )
    return key
