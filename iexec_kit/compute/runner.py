"""What every runner shares: the iExec app contract around one execution.

A runner puts the task's inputs in a fresh IEXEC_IN, gives the app an empty IEXEC_OUT, the
IEXEC_* environment and its arguments, runs it under a clock (the category's time reference) and
an output-size limit, captures its logs, then reads $IEXEC_OUT/computed.json. Two runners share
this contract (tests/compute runs one suite on both):

- :class:`~iexec_kit.compute.process.ProcessRunner`: the app's entrypoint as a local process
  (the default; needs nothing but Python, and GIMP for --engine gimp);
- :class:`~iexec_kit.compute.docker_runner.DockerRunner`: the app's image in a Docker container
  (docker SDK), with no network, as iExec workers run apps.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from iexec_kit.compute.errors import AppExecutionError, AppNotFoundError
from iexec_kit.compute.fetch import (
    MAX_INPUT_BYTES,
    FetchedInput,
    FetchRetry,
    IpfsCat,
    check_sources,
    fetch_inputs,
)
from iexec_kit.protocol.categories import DEFAULT_CLOCK
from iexec_kit.protocol.results import IEXEC_OUT
from iexec_kit.protocol.units import ZERO_ADDRESS

#: Default memory limit of an app (the Docker runner's mem_limit is the same 2 GiB).
MAX_MEMORY_BYTES = 2 * 1024**3
#: Default limit on what an app may write to $IEXEC_OUT.
MAX_OUTPUT_BYTES = 200 * 1024 * 1024
#: How much of the app's log a result keeps (the end of it).
MAX_LOG_CHARS = 200_000
ZERO32 = "0x" + "00" * 32


@dataclass(frozen=True)
class RunResult:
    """What one execution of an app produced.

    ``inputs`` describe the fetched inputs (their files are removed after the run: only
    ``out_dir`` stays). ``computed`` is $IEXEC_OUT/computed.json (None when missing or
    unreadable); ``out_dir`` the host folder that was $IEXEC_OUT; ``deterministic_path`` the host
    path that computed.json's "deterministic-output-path" names (None when absent); ``logs`` the
    app's stdout+stderr.
    """

    runner: str
    exit_code: int
    computed: dict | None
    out_dir: Path
    logs: str
    duration: float
    deterministic_path: Path | None = None
    inputs: tuple[FetchedInput, ...] = field(default_factory=tuple)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when the app exited 0 and wrote a usable computed.json."""
        return self.problem is None

    @property
    def error_message(self) -> str | None:
        """computed.json's "error-message", if the app wrote one."""
        return (self.computed or {}).get("error-message")

    def digest(self) -> str:
        """The task's result digest (0x-hex), as a worker computes it for its contribution."""
        from iexec_kit.protocol.results import callback_digest, output_digest

        if not self.ok:
            raise AppExecutionError(
                f"no result digest for a failed run: {self.problem}", result=self
            )
        if (self.computed or {}).get("callback-data") is not None:
            return callback_digest(self.computed["callback-data"])
        return output_digest(self.deterministic_path)

    def check(self) -> RunResult:
        """Return self when ok, else raise :class:`AppExecutionError` saying what went wrong."""
        if self.ok:
            return self
        tail = "\n".join(self.logs.strip().splitlines()[-8:])
        raise AppExecutionError(
            f"the app failed ({self.runner} runner): {self.problem}",
            expected="exit code 0 and $IEXEC_OUT/computed.json with deterministic-output-path",
            got=f"exit code {self.exit_code}, computed.json {json.dumps(self.computed)}"
            + (f"\n  last log lines:\n{tail}" if tail else ""),
            hint="read the logs above; run the app on the same input with "
            "`iexec-kit app run` to reproduce",
            result=self,
        )


def load_manifest(app_dir: str | Path) -> dict:
    """Read an app folder's iexec.json (name, type, image, checksum, default_args...)."""
    path = Path(app_dir) / "iexec.json"
    if not path.is_file():
        raise AppNotFoundError(
            f"no iexec.json in {app_dir}",
            expected="an app folder with iexec.json",
            got=f"{path} missing",
            hint="point at apps/gimp-cartoon or similar",
        )
    return json.loads(path.read_text())


def app_env(
    in_dir: str, out_dir: str, input_names: Sequence[str], extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The IEXEC_* environment of POCO.md's app contract, for the given folders as the app sees
    them (container paths for Docker, host paths for a process)."""
    env = {
        "IEXEC_IN": in_dir,
        "IEXEC_OUT": out_dir,
        "IEXEC_TASK_ID": ZERO32,
        "IEXEC_DEAL_ID": ZERO32,
        "IEXEC_TASK_INDEX": "0",
        "IEXEC_BOT_SIZE": "1",
        "IEXEC_BOT_FIRST_INDEX": "0",
        "IEXEC_BOT_TASK_INDEX": "0",
        "IEXEC_INPUT_FILES_FOLDER": in_dir,
        "IEXEC_INPUT_FILES_NUMBER": str(len(input_names)),
        "IEXEC_DATASET_ADDRESS": ZERO_ADDRESS,
        "IEXEC_DATASET_FILENAME": "",
    }
    for i, name in enumerate(input_names, start=1):
        env[f"IEXEC_INPUT_FILE_NAME_{i}"] = name
    env.update({k: str(v) for k, v in (extra or {}).items()})
    return env


def split_args(args: str | Sequence[str] | None) -> list[str]:
    """iexec_args as the worker passes them: a string split shell-style, or a list as is."""
    if args is None:
        return []
    if isinstance(args, str):
        return shlex.split(args)
    return [str(a) for a in args]


def dir_size(path: Path) -> int:
    """Total bytes of the regular files under ``path`` (symlinks not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                st = os.lstat(os.path.join(root, f))
            except OSError:
                continue
            total += st.st_size
    return total


def tail_text(raw: bytes, limit: int = MAX_LOG_CHARS) -> str:
    """Decode a log, keeping its end when too long."""
    text = raw.decode("utf-8", errors="replace")
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


class Runner(ABC):
    """Runs an iExec app on inputs, under the app contract. Subclasses start the app."""

    #: "process" or "docker"
    name: str = "runner"

    def __init__(
        self,
        *,
        ipfs_cat: IpfsCat | None = None,
        max_input_bytes: int = MAX_INPUT_BYTES,
        poll_interval: float = 0.1,
        allow_local: bool = True,
        max_memory_bytes: int | None = MAX_MEMORY_BYTES,
    ):
        """``allow_local``: whether inputs may be local paths or ``file://`` (True: a runner you
        hold runs your own files; a worker serving a deal passes False, see
        :func:`~iexec_kit.compute.fetch.fetch_inputs`). ``max_memory_bytes``: the app's memory
        limit (None: none); the app is told it as IEXEC_KIT_MAX_MEMORY, so it can refuse an
        input it cannot process within it."""
        self.allow_local = allow_local
        self.max_memory_bytes = max_memory_bytes
        self.ipfs_cat = ipfs_cat
        self.max_input_bytes = max_input_bytes
        self.poll_interval = poll_interval

    def run(
        self,
        app: str | Path,
        inputs: Sequence[str | Path] = (),
        args: str | Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        *,
        timeout: float = DEFAULT_CLOCK,
        max_output_bytes: int = MAX_OUTPUT_BYTES,
        out_dir: str | Path | None = None,
        require_image: bool = False,
        check: bool = True,
        allow_local: bool | None = None,
        fetch_retry: FetchRetry | None = None,
    ) -> RunResult:
        """Run ``app`` on ``inputs`` (paths or URLs) with ``args`` (iexec_args) and extra ``env``.

        ``timeout`` is the task's clock in seconds (default: category XS, 300 s);
        ``max_output_bytes`` caps $IEXEC_OUT. Results land in ``out_dir`` (a fresh temporary
        folder when None; it must be empty). With ``check`` (default) a failed app raises
        :class:`AppExecutionError`; a hang raises AppTimeoutError, too much output
        OutputTooLargeError, a bad input InputFetchError. ``allow_local`` (default: the
        runner's) says whether local paths and ``file://`` inputs may be read; when not, a local
        input raises LocalInputRefusedError before anything is read or created.
        ``fetch_retry``: how long an unreachable input source is waited for (a
        :class:`~iexec_kit.compute.fetch.FetchRetry`; default: not at all, as for your own run;
        a worker process passes its patience).
        """
        allow_local = self.allow_local if allow_local is None else allow_local
        inputs = check_sources(inputs, allow_local=allow_local)
        work = Path(tempfile.mkdtemp(prefix=f"iexec-{self.name}-"))
        in_dir = work / "iexec_in"
        out = Path(out_dir) if out_dir is not None else work / "iexec_out"
        out.mkdir(parents=True, exist_ok=True)
        if any(out.iterdir()):
            raise AppExecutionError(
                f"output folder {out} is not empty",
                expected="an empty or new folder",
                got="existing files",
                hint="choose another --output folder or empty it",
            )
        fetched = fetch_inputs(
            inputs,
            in_dir,
            ipfs_cat=self.ipfs_cat,
            max_bytes=self.max_input_bytes,
            require_image=require_image,
            allow_local=allow_local,
            retry=fetch_retry,
        )
        started = time.monotonic()
        try:
            exit_code, logs, out_prefix = self._execute(
                app,
                in_dir,
                out,
                [f.path.name for f in fetched],
                split_args(args),
                dict(env or {}),
                timeout=timeout,
                max_output_bytes=max_output_bytes,
                work=work,
            )
        finally:  # keep only the results: inputs, the app's home and temp files go
            for entry in work.iterdir():
                if entry != out:
                    shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(
                        missing_ok=True
                    )
            if out_dir is not None:
                shutil.rmtree(work, ignore_errors=True)
        duration = time.monotonic() - started
        result = self._finish(exit_code, logs, out, out_prefix, duration, tuple(fetched))
        return result.check() if check else result

    @abstractmethod
    def _execute(
        self,
        app,
        in_dir: Path,
        out_dir: Path,
        input_names: list[str],
        argv: list[str],
        env: dict[str, str],
        *,
        timeout: float,
        max_output_bytes: int,
        work: Path,
    ) -> tuple[int, str, str]:
        """Start the app and wait: return (exit code, logs, the IEXEC_OUT path the app saw)."""

    def _finish(
        self,
        exit_code: int,
        logs: str,
        out: Path,
        out_prefix: str,
        duration: float,
        fetched: tuple[FetchedInput, ...],
    ) -> RunResult:
        computed, problem, det = None, None, None
        cpath = out / "computed.json"
        if cpath.is_file():
            try:
                computed = json.loads(cpath.read_text())
                if not isinstance(computed, dict):
                    raise ValueError("not a JSON object")
            except (ValueError, UnicodeDecodeError) as exc:
                computed, problem = None, f"computed.json is not a JSON object ({exc})"
        else:
            problem = "the app wrote no computed.json (every iExec app must write one)"
        if computed is not None:
            if computed.get("error-message"):
                problem = f"the app reported: {computed['error-message']}"
            elif "deterministic-output-path" in computed:
                det, why = self._map_path(
                    str(computed["deterministic-output-path"]), out, out_prefix
                )
                if det is None:
                    problem = why
            elif computed.get("callback-data") is None:
                problem = "computed.json has neither deterministic-output-path nor callback-data"
        if exit_code != 0 and problem is None:
            problem = f"the app exited with code {exit_code}"
        elif exit_code != 0:
            problem = f"{problem} (exit code {exit_code})"
        return RunResult(
            runner=self.name,
            exit_code=exit_code,
            computed=computed,
            out_dir=out,
            logs=logs,
            duration=duration,
            deterministic_path=det,
            inputs=fetched,
            problem=problem,
        )

    @staticmethod
    def _map_path(path: str, out: Path, out_prefix: str) -> tuple[Path | None, str]:
        """Map the app's deterministic-output-path, as the app wrote it, to a host path inside
        ``out``: ``/iexec_out/...`` (the app's contract, wherever the folder is) or a path under
        the IEXEC_OUT the app was shown (``out_prefix``). computed.json itself is left as it is."""
        from iexec_kit.errors import KitValueError
        from iexec_kit.protocol.results import output_relpath

        prefix = out_prefix.rstrip("/")
        if prefix != IEXEC_OUT and (path == prefix or path.startswith(prefix + "/")):
            path = IEXEC_OUT + path[len(prefix) :]
        try:
            rel = output_relpath(path)
        except KitValueError as exc:
            why = str(exc).splitlines()[0]
            return None, f"deterministic-output-path {path} is outside $IEXEC_OUT ({why})"
        host = (out / rel).resolve()
        if host != out.resolve() and out.resolve() not in host.parents:
            return None, f"deterministic-output-path {path} escapes $IEXEC_OUT"
        if not host.exists():
            return None, f"deterministic-output-path {path} does not exist"
        return host, ""
