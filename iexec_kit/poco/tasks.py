"""Tasks and contributions: typed views, the hashes workers commit, the scheduler's
authorization, and the hub calls of Proof-of-Contribution (mixed into :class:`Hub`)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import keccak, to_bytes, to_checksum_address

from iexec_kit.chain.accounts import Participant
from iexec_kit.chain.node import Receipt
from iexec_kit.protocol.results import result_hash, result_seal
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.protocol.units import ZERO_ADDRESS


def _b32(x) -> bytes:
    if isinstance(x, str):
        x = bytes.fromhex(x[2:] if x.startswith("0x") else x)
    x = bytes(x)
    if len(x) != 32:
        from iexec_kit.errors import KitValueError

        raise KitValueError("expected 32 bytes (a task id, digest or hash)", got=f"{len(x)} bytes")
    return x


def _hex(b) -> str:
    return "0x" + bytes(b).hex()


def task_id(dealid, idx: int) -> str:
    """keccak256(dealid ++ idx): the id of task ``idx`` of a deal."""
    return _hex(keccak(_b32(dealid) + int(idx).to_bytes(32, "big")))


def authorization_message(worker: str, taskid, enclave: str = ZERO_ADDRESS) -> bytes:
    """keccak256(worker ++ taskid ++ enclaveChallenge) (20 + 32 + 20 bytes): what the
    scheduler signs."""
    return keccak(
        to_bytes(hexstr=to_checksum_address(worker))
        + _b32(taskid)
        + to_bytes(hexstr=to_checksum_address(enclave))
    )


def sign_authorization(
    scheduler: Participant, worker: str, taskid, enclave: str = ZERO_ADDRESS
) -> bytes:
    """The scheduler's EIP-191 personal signature authorizing ``worker`` on ``taskid``."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    msg = encode_defunct(primitive=authorization_message(worker, taskid, enclave))
    return bytes(Account.sign_message(msg, scheduler.key).signature)


#: Extra gas over the node's estimate for a contribution (only the gas used is paid).
CONTRIBUTE_GAS_MARGIN = 300_000


@dataclass(frozen=True)
class Task:
    """A task as the hub records it (PoCo's Task struct)."""

    taskid: str
    status: TaskStatus
    dealid: str
    idx: int
    timeref: int
    contribution_deadline: int
    reveal_deadline: int
    final_deadline: int
    consensus_value: str
    reveal_counter: int
    winner_counter: int
    contributors: tuple[str, ...]
    result_digest: str
    results: bytes
    results_timestamp: int
    results_callback: bytes

    @classmethod
    def from_chain(cls, taskid, raw) -> Task:
        (
            status,
            dealid,
            idx,
            timeref,
            cdl,
            rdl,
            fdl,
            consensus,
            rc,
            wc,
            contributors,
            digest,
            results,
            rts,
            cb,
        ) = raw
        return cls(
            _hex(_b32(taskid)),
            TaskStatus(status),
            _hex(dealid),
            idx,
            timeref,
            cdl,
            rdl,
            fdl,
            _hex(consensus),
            rc,
            wc,
            tuple(contributors),
            _hex(digest),
            bytes(results),
            rts,
            bytes(cb),
        )

    def results_json(self) -> dict | None:
        """The finalized results ({"storage": ..., "location": ...}), when they are JSON."""
        import json

        try:
            return json.loads(self.results.decode())
        except (UnicodeDecodeError, ValueError):
            return None


@dataclass(frozen=True)
class Contribution:
    """One worker's contribution to a task."""

    status: ContributionStatus
    result_hash: str
    result_seal: str
    enclave_challenge: str
    weight: int

    @classmethod
    def from_chain(cls, raw) -> Contribution:
        status, rh, rs, enclave, weight = raw
        return cls(ContributionStatus(status), _hex(rh), _hex(rs), enclave, weight)


class TaskCalls:
    """Proof-of-Contribution calls on the hub (mixed into :class:`iexec_kit.poco.Hub`)."""

    def task(self, taskid) -> Task:
        return Task.from_chain(taskid, self.chain.view(self.contract, "viewTask", _b32(taskid)))

    def contribution(self, taskid, worker: str) -> Contribution:
        return Contribution.from_chain(
            self.chain.view(
                self.contract, "viewContribution", _b32(taskid), to_checksum_address(worker)
            )
        )

    def score(self, worker: str) -> int:
        return self.chain.view(self.contract, "viewScore", to_checksum_address(worker))

    def result_for(self, taskid) -> bytes:
        return bytes(self.chain.call(self.fn.resultFor(_b32(taskid))))

    def initialize(self, dealid, idx: int, sender: Participant) -> tuple[str, Receipt]:
        """Start task ``idx`` of a deal (anyone may); return (taskid, receipt)."""
        receipt = self.chain.transact(self.fn.initialize(_b32(dealid), idx), sender)
        return task_id(dealid, idx), receipt

    def contribute(
        self,
        taskid,
        digest,
        worker: Participant,
        authorization: bytes,
        enclave: str = ZERO_ADDRESS,
        enclave_sign: bytes = b"",
    ) -> Receipt:
        """Commit: the worker sends resultHash and resultSeal of its digest (not the digest itself)
        and locks its stake; ``authorization`` is the scheduler's signature."""
        return self.chain.transact(
            self.fn.contribute(
                _b32(taskid),
                _b32(result_hash(taskid, digest)),
                _b32(result_seal(worker.address, taskid, digest)),
                to_checksum_address(enclave),
                enclave_sign,
                authorization,
            ),
            worker,
            # the contribution that reaches the consensus also enters REVEALING (a loop over the
            # contributors): with workers in separate processes, others' contributions may land
            # between this one's gas estimate and its mining, so the estimate can fall short
            margin=CONTRIBUTE_GAS_MARGIN,
        )

    def contribute_raw(
        self,
        taskid,
        rhash,
        rseal,
        worker: Participant,
        authorization: bytes,
        enclave: str = ZERO_ADDRESS,
        enclave_sign: bytes = b"",
    ) -> Receipt:
        """contribute with hashes given as they are (to show what the hub refuses)."""
        return self.chain.transact(
            self.fn.contribute(
                _b32(taskid),
                _b32(rhash),
                _b32(rseal),
                to_checksum_address(enclave),
                enclave_sign,
                authorization,
            ),
            worker,
        )

    def reveal(self, taskid, digest, worker: Participant) -> Receipt:
        """Reveal: the worker shows the digest behind its commitment."""
        return self.chain.transact(self.fn.reveal(_b32(taskid), _b32(digest)), worker)

    def reopen(self, taskid, scheduler: Participant) -> Receipt:
        return self.chain.transact(self.fn.reopen(_b32(taskid)), scheduler)

    def finalize(
        self, taskid, results: bytes | str, scheduler: Participant, results_callback: bytes = b""
    ) -> Receipt:
        """The scheduler closes the task with its results
        (e.g. {"storage":"ipfs","location":"/ipfs/<cid>"})."""
        if isinstance(results, str):
            results = results.encode()
        return self.chain.transact(
            self.fn.finalize(_b32(taskid), results, results_callback), scheduler
        )

    def claim(self, taskid, sender: Participant) -> Receipt:
        """After the final deadline of an unfinished task: FAILED, and the requester is refunded."""
        return self.chain.transact(self.fn.claim(_b32(taskid)), sender)

    def contribute_and_finalize(
        self,
        taskid,
        digest,
        results: bytes | str,
        worker: Participant,
        authorization: bytes,
        results_callback: bytes = b"",
        enclave: str = ZERO_ADDRESS,
        enclave_sign: bytes = b"",
    ) -> Receipt:
        """Trust 1 only: one worker contributes and finalizes in one transaction (no stake)."""
        if isinstance(results, str):
            results = results.encode()
        return self.chain.transact(
            self.fn.contributeAndFinalize(
                _b32(taskid),
                _b32(digest),
                results,
                results_callback,
                to_checksum_address(enclave),
                enclave_sign,
                authorization,
            ),
            worker,
        )
