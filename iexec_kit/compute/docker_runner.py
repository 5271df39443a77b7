"""The Docker runner: an app's image in a container, as iExec workers run apps (docker SDK).

/iexec_in (read-only) and /iexec_out are bind mounts of the task's folders; the container has
no network (network_mode "none"), the IEXEC_* environment and the iexec_args as its command; it
is killed at the task's clock or when /iexec_out grows past the limit, and always removed.

The engine: DOCKER_HOST, else the kit's private engine (scripts/docker-engine.sh, socket
.sandbox/docker/docker.sock), else the system socket.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from iexec_kit.compute.errors import (
    AppNotFoundError,
    AppTimeoutError,
    DockerUnavailableError,
    OutputTooLargeError,
)
from iexec_kit.compute.runner import Runner, app_env, dir_size, load_manifest, tail_text

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The socket of the kit's private engine (scripts/docker-engine.sh).
PRIVATE_SOCKET = REPO_ROOT / ".sandbox" / "docker" / "docker.sock"


def default_docker_host() -> str:
    """DOCKER_HOST if set, else the kit's private engine if its socket exists, else the system."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    if PRIVATE_SOCKET.exists():
        return f"unix://{PRIVATE_SOCKET}"
    return "unix:///var/run/docker.sock"


def resolve_image(app: str | Path) -> str:
    """The image of ``app``: an app folder (its iexec.json "image") or an image reference."""
    p = Path(app)
    if p.is_dir():
        return load_manifest(p)["image"]
    return str(app)


class DockerRunner(Runner):
    """Runs an app image in a container on a Docker engine (``base_url``: see module doc)."""

    name = "docker"

    def __init__(
        self,
        base_url: str | None = None,
        *,
        mem_limit: str | None = "2g",
        pids_limit: int | None = 512,
        **kw,
    ):
        super().__init__(**kw)
        self.base_url = base_url or default_docker_host()
        self.mem_limit, self.pids_limit = mem_limit, pids_limit
        self._client = None

    @property
    def client(self):
        """The docker SDK client (connected on first use)."""
        if self._client is None:
            import docker  # lazy: only the Docker runner needs the SDK

            try:
                client = docker.DockerClient(base_url=self.base_url, timeout=120)
                client.ping()
            except Exception as exc:  # noqa: BLE001
                raise DockerUnavailableError(
                    f"no Docker engine answers at {self.base_url}",
                    expected="a running Docker engine",
                    got=f"{type(exc).__name__}: {exc}",
                    hint="start the kit's private engine: scripts/docker-engine.sh start "
                    "(and build the app: scripts/docker-build-app.sh), or use the "
                    "process runner",
                ) from None
            self._client = client
        return self._client

    def image_id(self, app: str | Path) -> str:
        """The image id (sha256:...) of ``app``'s image: what iexec.json's checksum holds."""
        import docker

        image = resolve_image(app)
        try:
            return self.client.images.get(image).id
        except docker.errors.ImageNotFound:
            raise AppNotFoundError(
                f"the Docker image {image} is not on the engine at {self.base_url}",
                expected="an image built on this engine",
                got="no such image",
                hint="build it: scripts/docker-build-app.sh",
            ) from None

    def _execute(
        self, app, in_dir, out_dir, input_names, argv, env, *, timeout, max_output_bytes, work
    ):
        image = resolve_image(app)
        self.image_id(app)
        environment = app_env("/iexec_in", "/iexec_out", input_names, env)
        if self.mem_limit:  # the app may refuse an input it cannot process within it
            environment["IEXEC_KIT_MAX_MEMORY"] = str(_bytes(self.mem_limit))
        container = self.client.containers.create(
            image,
            command=argv,
            environment=environment,
            network_mode="none",
            volumes={
                str(in_dir.resolve()): {"bind": "/iexec_in", "mode": "ro"},
                str(out_dir.resolve()): {"bind": "/iexec_out", "mode": "rw"},
            },
            mem_limit=self.mem_limit,
            pids_limit=self.pids_limit,
            detach=True,
        )
        try:
            container.start()
            started = time.monotonic()
            while True:
                container.reload()
                if container.status not in ("created", "running"):
                    break
                if time.monotonic() - started > timeout:
                    container.kill()
                    raise AppTimeoutError(
                        f"the app ran past its {timeout:g} s clock and its container was killed",
                        expected=f"an app that finishes within {timeout:g} s (the task's "
                        "category time reference)",
                        got=f"still running after {time.monotonic() - started:.1f} s",
                        hint="use a larger category or make the app faster",
                        logs=tail_text(container.logs()),
                    )
                if dir_size(out_dir) > max_output_bytes:
                    container.kill()
                    raise self._too_large(out_dir, max_output_bytes, container.logs())
                time.sleep(self.poll_interval)
            code = container.wait(timeout=30)["StatusCode"]
            logs = tail_text(container.logs())
        finally:
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001  (already gone)
                pass
        if dir_size(out_dir) > max_output_bytes:
            raise self._too_large(out_dir, max_output_bytes, logs.encode())
        return code, logs, "/iexec_out"

    @staticmethod
    def _too_large(out_dir: Path, limit: int, logs: bytes) -> OutputTooLargeError:
        return OutputTooLargeError(
            "the app wrote more than the output limit to /iexec_out; its container was stopped",
            expected=f"at most {limit} bytes in /iexec_out",
            got=f"{dir_size(out_dir)} bytes",
            hint="write smaller results, or raise max_output_bytes",
            logs=tail_text(logs),
        )


def _bytes(size: str | int) -> int:
    """Docker's size notation ("2g", "512m", 1024) in bytes."""
    text = str(size).strip().lower().removesuffix("b")
    scale = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(text[-1:], 1)
    return int(float(text.rstrip("kmg")) * scale)
