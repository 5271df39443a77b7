"""A small SMS (Secret Management Service) for standard tasks, like iexec-sms's web2 secrets.

What iExec's SDK and CLI push and check for a standard (non-TEE) task: the result proxy token
(``iexec storage init``, secret ``iexec-result-iexec-ipfs-token``) and the beneficiary's public
key (``iexec result push-encryption-key``, ``iexec-result-encryption-public-key``). The HTTP
API is iexec-sms's ``/secrets/web2`` (query ``ownerAddress`` and ``secretName``, the secret as
a text/plain body, the owner's signature in the ``Authorization`` header):

- ``HEAD``: 204 if the owner has a secret of that name, 404 otherwise. Only existence is
  answered to owners and strangers: the one route that returns a value is a worker's read of
  its task's secret, below.
- ``POST`` (add): 401 unless signed by the owner, 413 over 4096 bytes, 409 if it exists, 204.
- ``PUT`` (update): 401, 413, 404 if it does not exist yet, 204.
- 400 for a missing header or parameter, or an owner that is not an address.

The signature is EIP-191 (``personal_sign``) of the challenge iexec-sms's
``AuthorizationService.getChallengeForSetWeb2Secret`` builds::

    keccak256(keccak256("IEXEC_SMS_DOMAIN") ++ owner (20 bytes) ++ keccak256(name) ++
              keccak256(value))

so a signature is good for one owner, one name and one value: another secret's signature, or
a replay of the owner's old signature with a new value, recovers to someone else (401). Owner
and name are case-insensitive (iexec-sms lowercases both). iexec-sms answers errors with an
empty body; the kit adds a Spring Boot style JSON body (``status``, ``error``, ``message``,
``path``) whose message says what was expected and what to do.

Secrets live in ``<folder>/web2-secrets.json`` (mode 0600, folder 0700), or in memory
(``Sms(None)``). iexec-sms also encrypts them at rest with a key of its own; the kit does not
(the file's mode is the guard on one laptop).

How a worker gets a secret. In iExec a worker reaches secrets only through a session the SMS
opens for one task, after checking a workerpool authorization (the task is on chain and ACTIVE,
signed by the workerpool's owner) and the worker's own signature. The kit's workers run in the
same process, so :meth:`Sms.web2_secret_for_task` is the equivalent: the worker signs
``keccak256(keccak256("IEXEC_SMS_DOMAIN") ++ taskid ++ keccak256(name))`` and the SMS checks
with the hub (a :class:`~iexec_kit.storage.oracle.TaskOracle`) that the task exists, is ACTIVE
or REVEALING, and that this worker contributed to it (a contribution needs the scheduler's
authorization on chain). It then hands out only the task's requester's storage token or the
beneficiary's encryption key, never another secret. A worker in a process of its own (workshop
mode, ``iexec-kit worker``) makes the same read over HTTP: ``GET /secrets/web2/task?taskId=
&secretName=&workerAddress=`` with that signature as ``Authorization`` (401 unless every check
passes, 404 when the requester pushed no token).

Entry point (what ``iexec-kit node`` starts)::

    from iexec_kit.storage.sms import Sms
    sms = Sms(folder / "sms", oracle=HubTaskOracle(hub)).start()   # 127.0.0.1, a free port
    sms.url                  # give it to the SDK: new IExec(..., {smsURL: sms.url})
    LocalStorage(folder / "storage", oracle=..., chain_id=..., sms=sms)  # workers read from it
    sms.stop()

or ``python -m iexec_kit.storage.sms --folder DIR --port 13300`` (no oracle: pushes and checks
only, no worker reads).
"""

import base64
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from iexec_kit.protocol.results import keccak256
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.storage import messages as M
from iexec_kit.storage.auth import recover_personal, sign_personal
from iexec_kit.storage.errors import ApiArgumentError, StorageError
from iexec_kit.storage.oracle import TaskOracle
from iexec_kit.storage.server import HttpService

#: iexec-sms's App.DOMAIN, hashed first in every challenge.
SMS_DOMAIN = "IEXEC_SMS_DOMAIN"
#: iexec-sms's ReservedSecretKeyName (the SDK's reservedSecretKeyName).
RESULT_ENCRYPTION_PUBLIC_KEY = "iexec-result-encryption-public-key"
RESULT_DROPBOX_TOKEN = "iexec-result-dropbox-token"
RESULT_IPFS_TOKEN = "iexec-result-iexec-ipfs-token"
#: iexec-sms's SecretUtils.SECRET_MAX_SIZE: bytes of UTF-8.
SECRET_MAX_SIZE = 4096
#: The secrets a worker may read for a task, and whose they are (the deal's party).
WORKER_READABLE = {
    RESULT_IPFS_TOKEN: "requester",
    RESULT_DROPBOX_TOKEN: "requester",
    RESULT_ENCRYPTION_PUBLIC_KEY: "beneficiary",
}
SECRETS_FILE = "web2-secrets.json"


class SmsError(StorageError):
    """Root of the SMS's refusals."""


class SecretAuthError(SmsError, PermissionError):
    """The push is not signed by the secret's owner (401)."""


class SecretExistsError(SmsError, FileExistsError):
    """A POST for a secret that exists (409)."""


class SecretNotFoundError(SmsError, LookupError):
    """No such secret (404; for a worker: the requester or beneficiary never pushed it)."""


class SecretTooLargeError(SmsError, ValueError):
    """The secret is over :data:`SECRET_MAX_SIZE` bytes (413)."""


class WorkerNotAuthorizedError(SmsError, PermissionError):
    """A worker asked for a secret of a task it does not work on, or one it may not read."""


def _address(value: str, what: str = "ownerAddress") -> str:
    """A 0x + 40 hex address, lowercased (a 400 otherwise)."""
    text = (value or "").strip()
    body = text[2:] if text[:2] in ("0x", "0X") else ""
    if len(body) != 40 or any(c not in "0123456789abcdefABCDEF" for c in body):
        raise ApiArgumentError(
            M.API_BAD_ARG, expected=f"{what}: 0x + 40 hex digits", got=repr(value)[:80]
        )
    return "0x" + body.lower()


def web2_challenge(owner: str, name: str, value: str) -> bytes:
    """What the owner signs to add or update a web2 secret (iexec-sms's
    getChallengeForSetWeb2Secret; the SDK's getChallengeForSetWeb2Secret)."""
    return keccak256(
        keccak256(SMS_DOMAIN.encode())
        + bytes.fromhex(_address(owner)[2:])
        + keccak256(name.encode())
        + keccak256(value.encode())
    )


def sign_web2_secret(private_key, name: str, value: str) -> str:
    """The owner's ``Authorization`` for pushing ``name = value`` (EIP-191, 0x-hex)."""
    from eth_account import Account

    owner = Account.from_key(private_key).address
    return sign_personal(web2_challenge(owner, name, value), private_key)


def worker_read_challenge(taskid: str, name: str) -> bytes:
    """What a worker signs to read a task's secret: keccak256(keccak256(domain) ++ taskid ++
    keccak256(name)) (the kit's stand-in for iExec's worker session, see the module doc)."""
    return keccak256(
        keccak256(SMS_DOMAIN.encode())
        + bytes.fromhex(taskid.removeprefix("0x"))
        + keccak256(name.encode())
    )


def sign_worker_read(taskid: str, name: str, worker_key) -> str:
    """A worker's signature of :func:`worker_read_challenge`."""
    return sign_personal(worker_read_challenge(taskid, name), worker_key)


def encode_public_key(pem: str | bytes) -> str:
    """The beneficiary's public key as the SDK pushes it (formatEncryptionKey): a PEM is sent
    base64-encoded; anything else is taken as base64 already."""
    text = pem.decode() if isinstance(pem, bytes) else pem
    if text.startswith("-----BEGIN PUBLIC KEY-----"):
        return base64.b64encode(text.encode()).decode()
    return text


def decode_public_key(value: str) -> bytes:
    """The PEM of a pushed encryption key (the worker encrypts the result with it)."""
    if value.startswith("-----BEGIN"):
        return value.encode()
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise SmsError(
            "The pushed result encryption key is neither PEM nor base64 of a PEM.",
            got=value[:40],
            hint=M.HINT_SMS_KEY,
        ) from None


class Sms(HttpService):
    """Web2 secrets per (owner, name), pushed signed by the owner; see the module docstring."""

    SERVICE_NAME = "sms"

    def __init__(self, folder: str | os.PathLike[str] | None, *, oracle: TaskOracle | None = None):
        self.folder = Path(folder) if folder is not None else None
        self.oracle = oracle
        self._memory: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self.server = None
        if self.folder is not None:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.folder, 0o700)

    @property
    def path(self) -> Path | None:
        """The secrets file (None in memory)."""
        return None if self.folder is None else self.folder / SECRETS_FILE

    # -- storage --
    def _load(self) -> dict[str, dict[str, str]]:
        if self.path is None:
            return self._memory
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def _save(self, data: dict[str, dict[str, str]]) -> None:
        if self.path is None:
            self._memory = data
            return
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.chmod(tmp, 0o600)  # a leftover .tmp may have had other bits
        os.replace(tmp, self.path)

    # -- the HTTP API's logic --
    def has_web2_secret(self, owner: str, name: str) -> bool:
        """Whether ``owner`` has a secret called ``name`` (the answer to HEAD)."""
        return name.lower() in self._load().get(_address(owner), {})

    def _check_push(self, owner: str, name: str, value: str, authorization: str | None) -> str:
        owner = _address(owner)
        if not authorization:
            raise ApiArgumentError(M.SMS_MISSING_AUTH, hint=M.HINT_SMS_SIGN)
        signer = recover_personal(web2_challenge(owner, name, value), authorization)
        if signer is None or signer.lower() != owner:
            raise SecretAuthError(
                M.SMS_UNAUTHORIZED, expected=owner, got=str(signer), hint=M.HINT_SMS_SIGN
            )
        size = len(value.encode())
        if size > SECRET_MAX_SIZE:
            raise SecretTooLargeError(
                M.SMS_TOO_LARGE, expected=f"<= {SECRET_MAX_SIZE} B", got=f"{size} B"
            )
        return owner

    def add_web2_secret(self, owner: str, name: str, value: str, authorization: str | None):
        """POST: store a new secret signed by its owner (401, 413, 409 as iexec-sms)."""
        owner = self._check_push(owner, name, value, authorization)
        with self._lock:
            data = self._load()
            if name.lower() in data.get(owner, {}):
                raise SecretExistsError(M.SMS_EXISTS, got=f"{owner} {name}", hint=M.HINT_SMS_UPDATE)
            data.setdefault(owner, {})[name.lower()] = value
            self._save(data)

    def update_web2_secret(self, owner: str, name: str, value: str, authorization: str | None):
        """PUT: replace an existing secret, signed by its owner (401, 413, 404 as iexec-sms)."""
        owner = self._check_push(owner, name, value, authorization)
        with self._lock:
            data = self._load()
            if name.lower() not in data.get(owner, {}):
                raise SecretNotFoundError(
                    M.SMS_NOT_FOUND, got=f"{owner} {name}", hint=M.HINT_SMS_PUSH
                )
            data[owner][name.lower()] = value
            self._save(data)

    def push_web2_secret(self, private_key, name: str, value: str) -> bool:
        """In-process push as the SDK's ``pushWeb2Secret(..., {forceUpdate: true})`` does it:
        signed with ``private_key``, added or else updated. Returns True when it updated."""
        from eth_account import Account

        owner = Account.from_key(private_key).address
        authorization = sign_web2_secret(private_key, name, value)
        if self.has_web2_secret(owner, name):
            self.update_web2_secret(owner, name, value, authorization)
            return True
        self.add_web2_secret(owner, name, value, authorization)
        return False

    # -- reads: the kit's own code; a task's worker (also over HTTP, GET /secrets/web2/task) --
    def web2_secret(self, owner: str, name: str) -> str | None:
        """A secret's value, for the kit's own code in this process (None when absent)."""
        return self._load().get(_address(owner), {}).get(name.lower())

    def web2_secret_for_task(self, taskid: str, name: str, worker: str, signature: str) -> str:
        """What a worker working on ``taskid`` may read: the requester's storage token or the
        beneficiary's encryption key (see the module doc for the checks)."""
        role = WORKER_READABLE.get(name.lower())
        if role is None:
            raise WorkerNotAuthorizedError(
                M.SMS_WORKER_NAME, expected=" or ".join(WORKER_READABLE), got=name
            )
        if self.oracle is None:
            raise WorkerNotAuthorizedError(
                M.SMS_WORKER_TASK, got="an SMS started without the chain (no oracle)"
            )
        signer = recover_personal(worker_read_challenge(taskid, name), signature)
        if signer is None or signer.lower() != worker.lower():
            raise WorkerNotAuthorizedError(M.SMS_WORKER_SIGNATURE, expected=worker, got=signer)
        task = self.oracle.task(taskid)
        if task is None:
            raise WorkerNotAuthorizedError(M.SMS_WORKER_TASK, got=taskid)
        if task.status not in (TaskStatus.ACTIVE, TaskStatus.REVEALING):
            raise WorkerNotAuthorizedError(
                M.SMS_WORKER_STATUS, expected="ACTIVE or REVEALING", got=task.status.name
            )
        contribution = self.oracle.contribution(taskid, worker)
        if contribution.status == ContributionStatus.UNSET:
            raise WorkerNotAuthorizedError(
                M.SMS_WORKER_NOT_CONTRIBUTOR,
                expected="a worker the scheduler authorized and that contributed",
                got=worker,
            )
        owner = task.requester if role == "requester" else task.beneficiary
        value = self.web2_secret(owner, name)
        if value is None:
            storage = role == "requester"
            raise SecretNotFoundError(
                (M.SMS_NO_TOKEN if storage else M.SMS_NO_KEY).format(owner=owner),
                expected=f"secret {name.lower()} of {owner}",
                got="none",
                hint=M.HINT_SMS_TOKEN if storage else M.HINT_SMS_KEY,
            )
        return value

    # -- HTTP --
    def http_app(self):
        """The ASGI app :meth:`start` serves (:class:`~iexec_kit.storage.server.HttpService`)."""
        return create_sms_app(self)


_STATUS = [
    (ApiArgumentError, 400),
    (SecretAuthError, 401),
    (SecretTooLargeError, 413),
    (SecretExistsError, 409),
    (SecretNotFoundError, 404),
    (WorkerNotAuthorizedError, 401),
    (StorageError, 500),
]
_REASON = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict"}
_REASON |= {413: "Payload Too Large", 500: "Internal Server Error"}


def create_sms_app(sms: Sms):
    """The SMS's HTTP API (FastAPI): HEAD/POST/PUT ``/secrets/web2``."""
    from datetime import UTC, datetime

    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response
    from starlette.concurrency import run_in_threadpool

    app = FastAPI(
        title="iexec-kit SMS",
        version="1",
        description="Web2 secrets for standard tasks: pushed signed by their owner, read only by "
        "a task's worker that contributed to it.",
    )

    @app.exception_handler(StorageError)
    async def refused(request, exc: StorageError):
        status = next(code for kind, code in _STATUS if isinstance(exc, kind))
        body = {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "status": status,
            "error": _REASON[status],
            "message": str(exc),
            "path": request.url.path,
        }
        return JSONResponse(body, status_code=status)

    def params(request: Request) -> tuple[str, str]:
        owner, name = (request.query_params.get(k) for k in ("ownerAddress", "secretName"))
        if not owner or not name:
            raise ApiArgumentError(
                M.API_BAD_ARG, expected="query ownerAddress and secretName", got=str(request.url)
            )
        return owner, name

    @app.get("/version")
    async def version():
        return {"version": "1", "service": "iexec-kit sms"}

    @app.head("/secrets/web2")
    async def exists(request: Request):
        owner, name = params(request)
        found = await run_in_threadpool(sms.has_web2_secret, owner, name)
        return Response(status_code=204 if found else 404)

    async def push(request: Request, action):
        owner, name = params(request)
        body = await request.body()
        if len(body) > 4 * SECRET_MAX_SIZE:  # never decode a huge body
            raise SecretTooLargeError(
                M.SMS_TOO_LARGE, expected=f"<= {SECRET_MAX_SIZE} B", got=f"{len(body)} B"
            )
        value = body.decode("utf-8", "replace")
        await run_in_threadpool(action, owner, name, value, request.headers.get("authorization"))
        return Response(status_code=204)

    @app.get("/secrets/web2/task")
    async def for_task(request: Request):
        """A worker's read of a task's secret (the requester's storage token, the beneficiary's
        key): signed by the worker, checked against the chain (it contributed to the task)."""
        q = request.query_params
        taskid, name, worker = (q.get(k) for k in ("taskId", "secretName", "workerAddress"))
        if not taskid or not name or not worker:
            raise ApiArgumentError(
                M.API_BAD_ARG,
                expected="query taskId, secretName and workerAddress",
                got=str(request.url),
            )
        signature = request.headers.get("authorization") or ""
        value = await run_in_threadpool(sms.web2_secret_for_task, taskid, name, worker, signature)
        return Response(value, media_type="text/plain")

    @app.post("/secrets/web2")
    async def add(request: Request):
        return await push(request, sms.add_web2_secret)

    @app.put("/secrets/web2")
    async def update(request: Request):
        return await push(request, sms.update_web2_secret)

    return app


@dataclass(frozen=True)
class PushResult:
    """What the SDK's pushWeb2Secret returns: ``{isPushed, isUpdated}``."""

    pushed: bool
    updated: bool


class SmsClient:
    """The owner's side of the SMS's HTTP API, as iExec's SDK speaks it."""

    def __init__(self, url: str, *, timeout: float = 30.0):
        import requests

        self.url, self.timeout = url.rstrip("/"), timeout
        self._http = requests.Session()

    def _raise(self, res, kinds: dict):
        kind = kinds.get(res.status_code, SmsError)
        try:
            message = res.json().get("message") or f"HTTP {res.status_code}"
        except ValueError:
            message = f"HTTP {res.status_code}"
        error = kind(message)
        error.status_code = res.status_code
        raise error

    def has_web2_secret(self, owner: str, name: str) -> bool:
        """HEAD /secrets/web2: True on 204, False on 404."""
        res = self._http.head(
            f"{self.url}/secrets/web2",
            params={"ownerAddress": owner, "secretName": name},
            timeout=self.timeout,
        )
        if res.status_code in (200, 204):
            return True
        if res.status_code == 404:
            return False
        self._raise(res, {400: ApiArgumentError})

    def web2_secret_for_task(self, taskid: str, name: str, worker_key) -> str:
        """A task's secret read as its worker (GET /secrets/web2/task, signed with the worker's
        key): what a worker in another process uses to upload (see Sms.web2_secret_for_task)."""
        from eth_account import Account

        worker = Account.from_key(worker_key).address
        res = self._http.get(
            f"{self.url}/secrets/web2/task",
            params={"taskId": taskid, "secretName": name, "workerAddress": worker},
            headers={"Authorization": sign_worker_read(taskid, name, worker_key)},
            timeout=self.timeout,
        )
        if res.status_code >= 400:
            self._raise(
                res,
                {400: ApiArgumentError, 401: WorkerNotAuthorizedError, 404: SecretNotFoundError},
            )
        return res.text

    def push_web2_secret(
        self, private_key, name: str, value: str, *, force_update: bool = False
    ) -> PushResult:
        """As the SDK's pushWeb2Secret: HEAD first; POST a new secret, PUT over an existing one
        only with ``force_update`` (SecretExistsError otherwise, nothing sent)."""
        from eth_account import Account

        owner = Account.from_key(private_key).address
        exists = self.has_web2_secret(owner, name)
        if exists and not force_update:
            raise SecretExistsError(M.SMS_EXISTS, got=f"{owner} {name}", hint=M.HINT_SMS_UPDATE)
        res = self._http.request(
            "PUT" if exists else "POST",
            f"{self.url}/secrets/web2",
            params={"ownerAddress": owner, "secretName": name},
            data=value.encode(),
            headers={
                "Authorization": sign_web2_secret(private_key, name, value),
                "Content-Type": "text/plain",
            },
            timeout=self.timeout,
        )
        if res.status_code >= 400:
            self._raise(
                res,
                {
                    400: ApiArgumentError,
                    401: SecretAuthError,
                    404: SecretNotFoundError,
                    409: SecretExistsError,
                    413: SecretTooLargeError,
                },
            )
        return PushResult(True, exists)


def main(argv: list[str] | None = None) -> None:
    """``python -m iexec_kit.storage.sms``: serve an SMS until Ctrl-C (pushes and checks only)."""
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=None, help="where secrets live (default: memory)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with Sms(args.folder).start(port=args.port) as sms:
        print(f"SMS listening on {sms.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
