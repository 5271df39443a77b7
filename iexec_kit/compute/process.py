"""The process runner: an app's entrypoint as a local subprocess, under the app contract."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from iexec_kit.compute.errors import AppNotFoundError, AppTimeoutError, OutputTooLargeError
from iexec_kit.compute.runner import Runner, app_env, dir_size, load_manifest, tail_text

_TRAMPOLINE = (
    "import os, resource, signal, sys; n, m = int(sys.argv[1]), int(sys.argv[2]); "
    "resource.setrlimit(resource.RLIMIT_FSIZE, (n, n)); "
    "m and resource.setrlimit(resource.RLIMIT_DATA, (m, m)); "
    "signal.signal(signal.SIGXFSZ, signal.SIG_DFL); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)

# What a process app inherits from the kit's environment (the rest is IEXEC_* and env=...).
_PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")


def resolve_entrypoint(app: str | Path) -> list[str]:
    """The command that starts ``app``: an app folder (iexec.json "entrypoint", default
    entrypoint.py) or an executable file; Python files run with the kit's interpreter."""
    p = Path(app)
    if p.is_dir():
        entry = p / load_manifest(p).get("entrypoint", "entrypoint.py")
    else:
        entry = p
    if not entry.is_file():
        raise AppNotFoundError(
            f"no entrypoint for app {app}",
            expected="an app folder with iexec.json and its entrypoint, or an executable file",
            got=f"{entry} missing",
            hint="check the app path",
        )
    if entry.suffix == ".py":
        return [sys.executable, str(entry.resolve())]
    if not os.access(entry, os.X_OK):
        raise AppNotFoundError(
            f"{entry} is not executable",
            expected="an executable entrypoint",
            got="no execute permission",
            hint=f"chmod +x {entry}",
        )
    return [str(entry.resolve())]


class ProcessRunner(Runner):
    """Runs an app folder's entrypoint in a subprocess (the default runner: no Docker needed).

    Same folders and IEXEC_* environment as in a container, but host paths; a fresh process
    group is killed as a whole on timeout or when $IEXEC_OUT grows past the limit; each file the
    app writes is also capped by RLIMIT_FSIZE.
    """

    name = "process"

    def _execute(
        self, app, in_dir, out_dir, input_names, argv, env, *, timeout, max_output_bytes, work
    ):
        cmd = resolve_entrypoint(app) + argv
        (work / "home").mkdir(exist_ok=True)
        (work / "tmp").mkdir(exist_ok=True)
        full_env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
        full_env.update(
            HOME=str(work / "home"),
            TMPDIR=str(work / "tmp"),
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONUNBUFFERED="1",
        )
        full_env.update(app_env(str(in_dir), str(out_dir), input_names, env))
        if self.max_memory_bytes:
            full_env["IEXEC_KIT_MAX_MEMORY"] = str(self.max_memory_bytes)
        log_path = work / "app.log"
        # A small trampoline sets the per-file size limit and execs the app (preexec_fn is not
        # safe in a threaded parent such as a Jupyter kernel). It needs only built-in modules:
        # -I -S skip site (the venv's .pth files), half of its start-up (measured: 40 -> 22 ms
        # of CPU per run); the app it execs starts as usual.
        memory = str(self.max_memory_bytes or 0)  # RLIMIT_DATA: the app's heap and mappings
        trampoline = [sys.executable, "-I", "-S", "-c", _TRAMPOLINE]
        trampoline += [str(max_output_bytes + 1), memory]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                trampoline + cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=str(work),
                start_new_session=True,
            )
            started = time.monotonic()
            try:
                while proc.poll() is None:
                    if time.monotonic() - started > timeout:
                        self._kill(proc)
                        raise AppTimeoutError(
                            f"the app ran past its {timeout:g} s clock and was killed",
                            expected=f"an app that finishes within {timeout:g} s (the task's "
                            "category time reference)",
                            got=f"still running after {time.monotonic() - started:.1f} s",
                            hint="use a larger category or make the app faster",
                            logs=tail_text(log_path.read_bytes()),
                        )
                    if dir_size(out_dir) > max_output_bytes:
                        self._kill(proc)
                        raise self._too_large(out_dir, max_output_bytes, log_path)
                    time.sleep(self.poll_interval)
            finally:
                if proc.poll() is None:
                    self._kill(proc)
        if dir_size(out_dir) > max_output_bytes or proc.returncode == -signal.SIGXFSZ:
            raise self._too_large(out_dir, max_output_bytes, log_path)
        return proc.returncode, tail_text(log_path.read_bytes()), str(out_dir)

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    @staticmethod
    def _too_large(out_dir: Path, limit: int, log_path: Path) -> OutputTooLargeError:
        return OutputTooLargeError(
            "the app wrote more than the output limit to $IEXEC_OUT and was stopped",
            expected=f"at most {limit} bytes in $IEXEC_OUT",
            got=f"{dir_size(out_dir)} bytes",
            hint="write smaller results, or raise max_output_bytes",
            logs=tail_text(log_path.read_bytes()),
        )
