"""The result proxy: where a revealed worker uploads a task's result, like iexec-result-proxy.

Storage init: the requester signs an EIP-712 challenge and gets a token (auth.py); the kit keeps
it for the workers that upload on the requester's behalf. An upload
(``POST /v1/results/<taskid>``, body = the result zip, headers ``Authorization: <token>``,
``X-Worker: <address>``, ``X-Worker-Signature: <EIP-191 signature of keccak256(taskid ++
keccak256(zip))>``) is accepted only if, in this order:

1. the token is one this proxy issued and unexpired (401), before any byte of the body is
   read; the task id is well formed (400);
2. the body is within ``max_upload_bytes`` (413);
3. the chain knows the task (404), the token speaks for its requester (403), it is REVEALING (409);
4. the worker signature recovers to X-Worker (403) and that worker revealed (409);
5. the result hash recomputed from the archive, keccak256(taskid ++ digest), equals the
   worker's on-chain resultHash (422). An encrypted result (the deal asked for encryption)
   cannot be recomputed by anyone but the beneficiary; as in iExec its digest covers the
   plaintext, so only checks 1-4 apply to it;
6. no result was stored for the task yet (409).

Then the archive is pinned on IPFS (provider "ipfs": the answer is ``/ipfs/<cid>``) or, for the
private provider (iExec's "dropbox"), kept by the proxy (mode 0600, in a 0700 folder) and served
by ``GET /results/<taskid>`` only with the beneficiary's token.
"""

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from iexec_kit.protocol.results import keccak256, result_hash
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.storage import messages as M
from iexec_kit.storage.auth import (
    Authenticator,
    recover_personal,
    sign_challenge,
    sign_personal,
)
from iexec_kit.storage.encryption import is_encrypted_result
from iexec_kit.storage.errors import (
    ApiArgumentError,
    ProxyAuthError,
    ResultError,
    ResultNotFoundError,
    StorageError,
    UploadRejectedError,
)
from iexec_kit.storage.oracle import TaskOracle
from iexec_kit.storage.results import digest_of_zip
from iexec_kit.storage.server import HttpService

DEFAULT_MAX_UPLOAD = 50 * 1024 * 1024
PRIVATE_PROVIDERS = {"dropbox", "private"}


class PayloadTooLargeError(UploadRejectedError):
    """The upload is over the proxy's size limit."""


class UploadConflictError(UploadRejectedError):
    """The task or the worker is not in the state an upload needs, or a result exists."""


class HashMismatchError(UploadRejectedError):
    """The uploaded result does not hash to the worker's on-chain resultHash."""


class NotBeneficiaryError(ProxyAuthError):
    """A private result was asked for with a token that is not the beneficiary's."""


class UnknownTaskError(ResultNotFoundError):
    """The chain knows no such task."""


def check_taskid(taskid: str) -> str:
    """A task id must be 0x + 64 hex digits (a 400 otherwise, before asking the chain)."""
    text = taskid.strip()
    body = text[2:] if text.startswith("0x") else ""
    if len(body) != 64 or any(c not in "0123456789abcdefABCDEF" for c in body):
        raise ApiArgumentError(
            M.API_BAD_ARG, expected="a task id: 0x + 64 hex digits", got=repr(taskid)[:80]
        )
    return text


def upload_message(taskid: str, archive: bytes) -> bytes:
    """What a worker signs (EIP-191) to upload: keccak256(taskid ++ keccak256(zip))."""
    return keccak256(bytes.fromhex(taskid.removeprefix("0x")) + keccak256(archive))


def sign_upload(taskid: str, archive: bytes, worker_key) -> str:
    """A worker's EIP-191 signature of :func:`upload_message` (0x-hex)."""
    return sign_personal(upload_message(taskid, archive), worker_key)


@dataclass(frozen=True)
class UploadReceipt:
    """Where an accepted result now lives (``results`` is what finalize puts on chain)."""

    taskid: str
    storage: str
    location: str
    cid: str | None
    size: int

    @property
    def results(self) -> str:
        return json.dumps(
            {"storage": self.storage, "location": self.location}, separators=(",", ":")
        )


@dataclass(frozen=True)
class SignIn:
    """One storage init as the requester sees it: the proxy's EIP-712 challenge (typed data),
    the login string signed from it (``<hash>_<signature>_<address>``, see
    :func:`~iexec_kit.storage.auth.sign_challenge`), and the token the proxy gave back."""

    challenge: dict
    signature: str
    token: str


class ResultProxy(HttpService):
    """The proxy's logic, callable directly or over HTTP (:meth:`start`)."""

    SERVICE_NAME = "result-proxy"

    def __init__(
        self,
        oracle: TaskOracle,
        ipfs,
        folder: "str | os.PathLike[str]",
        *,
        chain_id: int,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
        auth: Authenticator | None = None,
    ):
        self.oracle, self.ipfs = oracle, ipfs
        self.folder = Path(folder)
        private = self.folder / "private"
        private.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(private, 0o700)  # private results are the beneficiary's only
        self.chain_id = chain_id
        self.max_upload_bytes = max_upload_bytes
        self.auth = auth or Authenticator(chain_id, secret=self._secret())
        self._index_file = self.folder / "index.json"
        self._lock = threading.Lock()
        self.server = None

    def _secret(self) -> bytes:
        """The token-signing key, kept (mode 0600) so tokens outlive a proxy restart."""
        import secrets

        path = self.folder / "jwt.secret"
        if not path.is_file():
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
            os.replace(tmp, path)
        return path.read_bytes()

    # -- index of stored results --
    def _index(self) -> dict:
        try:
            return json.loads(self._index_file.read_text())
        except FileNotFoundError:
            return {}

    def _save(self, receipt: UploadReceipt) -> None:
        index = self._index()
        index[receipt.taskid.lower()] = asdict(receipt)
        tmp = self._index_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(index, indent=1))
        os.replace(tmp, self._index_file)

    def has_result(self, taskid: str) -> bool:
        """Whether a result was accepted for the task."""
        return taskid.lower() in self._index()

    # -- upload --
    def accept_upload(
        self, token: str | None, taskid: str, worker: str, signature: str, archive: bytes
    ) -> UploadReceipt:
        """Check an upload against the chain and store it; raises UploadRejectedError kinds."""
        if len(archive) > self.max_upload_bytes:
            raise PayloadTooLargeError(
                M.UPLOAD_TOO_BIG,
                expected=f"<= {self.max_upload_bytes} B",
                got=f"{len(archive)} B",
                hint="shrink the result",
            )
        claims = self.auth.verify(token)
        taskid = check_taskid(taskid)
        task = self.oracle.task(taskid)
        if task is None:
            raise UnknownTaskError(M.UPLOAD_UNKNOWN_TASK, got=taskid)
        if claims.address.lower() != task.requester.lower():
            raise UploadRejectedError(
                M.UPLOAD_NOT_REQUESTER,
                expected=task.requester,
                got=claims.address,
                hint=M.HINT_TOKEN,
            )
        if task.status != TaskStatus.REVEALING:
            raise UploadConflictError(
                M.UPLOAD_NOT_REVEALING,
                expected="REVEALING",
                got=task.status.name,
                hint="upload after your reveal",
            )
        signer = recover_personal(upload_message(taskid, archive), signature)
        if signer is None or signer.lower() != worker.lower():
            raise UploadRejectedError(M.UPLOAD_SIGNATURE, expected=worker, got=str(signer))
        contribution = self.oracle.contribution(taskid, worker)
        if contribution.status != ContributionStatus.PROVED:
            raise UploadConflictError(
                M.UPLOAD_NOT_REVEALED,
                expected="PROVED",
                got=contribution.status.name,
                hint="reveal first",
            )
        encrypted = task.encrypted and is_encrypted_result(archive)
        if not encrypted:
            try:
                digest = digest_of_zip(archive, max_bytes=4 * self.max_upload_bytes)
            except (ResultError, StorageError) as exc:
                raise HashMismatchError(
                    M.UPLOAD_HASH,
                    expected="a result zip with computed.json",
                    got=str(exc).splitlines()[0],
                ) from None
            recomputed = result_hash(taskid, digest)
            if recomputed.lower() != contribution.result_hash.lower():
                raise HashMismatchError(
                    M.UPLOAD_HASH,
                    expected=contribution.result_hash,
                    got=recomputed,
                    hint="upload the archive you revealed",
                )
        with self._lock:
            if self.has_result(taskid):
                raise UploadConflictError(M.UPLOAD_DUPLICATE, got=taskid)
            if task.storage_provider in PRIVATE_PROVIDERS:
                path = self.folder / "private" / f"{taskid.lower()}.zip"
                tmp = path.with_suffix(".partial")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(archive)
                os.chmod(tmp, 0o600)  # a leftover .partial may have had other bits
                os.replace(tmp, path)
                receipt = UploadReceipt(taskid, "dropbox", f"/results/{taskid}", None, len(archive))
            else:
                cid = self.ipfs.add_bytes(archive, pin=True)
                receipt = UploadReceipt(taskid, "ipfs", f"/ipfs/{cid}", cid, len(archive))
            self._save(receipt)
        return receipt

    # -- download --
    def fetch(self, token: str | None, taskid: str) -> bytes:
        """A stored result; a private one only for the task's beneficiary."""
        claims = self.auth.verify(token)
        entry = self._index().get(check_taskid(taskid).lower())
        if entry is None:
            raise ResultNotFoundError(M.RESULT_NOT_FOUND, got=taskid)
        if entry["storage"] == "dropbox":
            task = self.oracle.task(taskid)
            if task is None or claims.address.lower() != task.beneficiary.lower():
                raise NotBeneficiaryError(
                    M.RESULT_NOT_BENEFICIARY,
                    expected=task.beneficiary if task else "the beneficiary",
                    got=claims.address,
                    hint="log in with the beneficiary",
                )
            return (self.folder / "private" / f"{taskid.lower()}.zip").read_bytes()
        return self.ipfs.cat(entry["cid"])

    # -- HTTP --
    def http_app(self):
        """The ASGI app :meth:`start` serves (:class:`~iexec_kit.storage.server.HttpService`)."""
        return create_proxy_app(self)


_STATUS = [
    (ApiArgumentError, 400),
    (PayloadTooLargeError, 413),
    (HashMismatchError, 422),
    (UploadConflictError, 409),
    (UnknownTaskError, 404),
    (ResultNotFoundError, 404),
    (UploadRejectedError, 403),
    (NotBeneficiaryError, 403),
    (ProxyAuthError, 401),
    (StorageError, 500),
]


def create_proxy_app(proxy: ResultProxy):
    """The proxy's HTTP API (FastAPI)."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse, Response
    from starlette.concurrency import run_in_threadpool

    app = FastAPI(
        title="iexec-kit result proxy",
        version="1",
        description="Result uploads checked against the chain; private results.",
    )

    @app.exception_handler(StorageError)
    async def refused(request, exc: StorageError):
        status = next(code for kind, code in _STATUS if isinstance(exc, kind))
        return JSONResponse({"error": type(exc).__name__, "message": str(exc)}, status_code=status)

    @app.get("/version")
    async def version():
        return {"version": "1", "chainId": proxy.chain_id}

    @app.get("/results/challenge")
    async def challenge(chainId: int):
        return proxy.auth.issue_challenge(chainId)

    @app.post("/results/login", response_class=PlainTextResponse)
    async def login(request: Request, chainId: int):
        if chainId != proxy.chain_id:
            raise ProxyAuthError("Wrong chain.", expected=str(proxy.chain_id), got=str(chainId))
        body = (await request.body()).decode("utf-8", "replace")
        return await run_in_threadpool(proxy.auth.login, body)

    @app.post("/v1/results/{taskid}")
    async def upload(request: Request, taskid: str):
        # Who asks comes first: no byte of the body is read for a missing or foreign token.
        proxy.auth.verify(request.headers.get("authorization"))
        check_taskid(taskid)
        declared = request.headers.get("content-length")
        limit = proxy.max_upload_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLargeError(
                M.UPLOAD_TOO_BIG, expected=f"<= {limit} B", got=f"{declared} B"
            )
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise PayloadTooLargeError(
                    M.UPLOAD_TOO_BIG, expected=f"<= {limit} B", got=f"more than {limit} B"
                )
        receipt = await run_in_threadpool(
            proxy.accept_upload,
            request.headers.get("authorization"),
            taskid,
            request.headers.get("x-worker", ""),
            request.headers.get("x-worker-signature", ""),
            bytes(body),
        )
        return {**asdict(receipt), "results": receipt.results}

    @app.get("/results/{taskid}")
    async def download(request: Request, taskid: str):
        data = await run_in_threadpool(proxy.fetch, request.headers.get("authorization"), taskid)
        return Response(
            data,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="iexec-result-{taskid}.zip"'},
        )

    @app.head("/results/{taskid}")
    async def exists(request: Request, taskid: str):
        proxy.auth.verify(request.headers.get("authorization"))
        return Response(status_code=204 if proxy.has_result(taskid) else 404)

    return app


class ResultProxyClient:
    """The requester's and the workers' side of the proxy's HTTP API."""

    def __init__(self, url: str, *, chain_id: int, timeout: float = 60.0):
        import requests

        self.url, self.chain_id, self.timeout = url.rstrip("/"), chain_id, timeout
        self._http = requests.Session()

    def _check(self, res, kinds: dict | None = None):
        if res.status_code >= 400:
            try:
                message = res.json().get("message", res.text)
            except ValueError:
                message = res.text
            kind = {
                413: PayloadTooLargeError,
                422: HashMismatchError,
                409: UploadConflictError,
                404: ResultNotFoundError,
                403: UploadRejectedError,
                401: ProxyAuthError,
                **(kinds or {}),
            }.get(res.status_code, StorageError)
            error = kind(message.splitlines()[0] if message else f"HTTP {res.status_code}")
            error.status_code = res.status_code
            raise error
        return res

    def login(self, private_key) -> str:
        """Storage init: sign a fresh challenge, get a token."""
        return self.sign_in(private_key).token

    def sign_in(self, private_key) -> SignIn:
        """Storage init, each step kept: the challenge fetched, its signature, the token."""
        typed = self._check(
            self._http.get(
                f"{self.url}/results/challenge",
                params={"chainId": self.chain_id},
                timeout=self.timeout,
            )
        ).json()
        signed = sign_challenge(typed, private_key)
        token = self._check(
            self._http.post(
                f"{self.url}/results/login",
                params={"chainId": self.chain_id},
                data=signed,
                timeout=self.timeout,
            )
        ).text
        return SignIn(typed, signed, token)

    def upload(self, token: str, taskid: str, archive: bytes, worker_key) -> UploadReceipt:
        """A worker's upload of ``archive`` for ``taskid``, signed with its key."""
        from eth_account import Account

        headers = {
            "Authorization": token,
            "Content-Type": "application/zip",
            "X-Worker": Account.from_key(worker_key).address,
            "X-Worker-Signature": sign_upload(taskid, archive, worker_key),
        }
        data = self._check(
            self._http.post(
                f"{self.url}/v1/results/{taskid}",
                data=archive,
                headers=headers,
                timeout=self.timeout,
            )
        ).json()
        data.pop("results", None)
        return UploadReceipt(**data)

    def download(self, token: str, taskid: str) -> bytes:
        """A stored result's archive (a private one needs the beneficiary's token)."""
        return self._check(
            self._http.get(
                f"{self.url}/results/{taskid}",
                headers={"Authorization": token},
                timeout=self.timeout,
            ),
            {403: NotBeneficiaryError},
        ).content
