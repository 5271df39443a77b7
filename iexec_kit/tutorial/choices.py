"""The learner's choices, saved so that they travel from notebook to notebook.

Notebook 03's request builder saves what the learner bought (the image, the style, the engine,
trust, volume, storage) as JSON in ``.sandbox/choices/choices.json`` (``IEXEC_KIT_CHOICES``
names another file); an uploaded image is copied next to it, so it outlives the sandbox it was
put on. A later notebook's fast-forward replays them: ``at("request",
config=saved_config(DemoConfig(volume=2)))`` plays the demo's own steps with these choices on a
fresh, seeded sandbox, and the same choices give the same input CID, request order and deal id
every time (the sandbox's accounts, the orders' salts and the input's bytes are all fixed).
Without a saved file (a fresh learner, nbmake) the defaults apply.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from iexec_kit.tutorial.demo import REPO_ROOT, DemoConfig

CHOICES_ENV = "IEXEC_KIT_CHOICES"


def choices_path() -> Path:
    """Where the choices live: ``$IEXEC_KIT_CHOICES``, else ``.sandbox/choices/choices.json``."""
    env = os.environ.get(CHOICES_ENV)
    return Path(env) if env else REPO_ROOT / ".sandbox" / "choices" / "choices.json"


@dataclass(frozen=True)
class Choices:
    """What the learner chose in notebook 03: ``input`` is a local path or an http(s) URL
    (None: the sample image); the rest are :class:`~iexec_kit.tutorial.demo.DemoConfig`'s."""

    input: str | None = None
    style: str = "gimpfu"
    engine: str | None = None
    trust: int | None = None
    volume: int = 1
    storage: str = "ipfs"
    encrypt: bool = False

    def save(self, path: str | Path | None = None) -> Path:
        """Write the choices; a local input is copied next to them (stable across sandboxes)."""
        path = Path(path) if path else choices_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        src = self.input
        if src and not src.startswith(("http://", "https://", "/ipfs/", "ipfs://")):
            kept = path.parent / "inputs" / Path(src).name
            if Path(src).resolve() != kept.resolve():
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, kept)
            data["input"] = str(kept)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        tmp.replace(path)  # a reader sees the old choices or the new ones, never half of them
        return path

    @classmethod
    def load(cls, path: str | Path | None = None) -> Choices | None:
        """The saved choices, or None when there are none (or they cannot be read)."""
        path = Path(path) if path else choices_path()
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def config(self, base: DemoConfig | None = None) -> DemoConfig:
        """``base`` (default DemoConfig()) with these choices; the volume is at least base's (a
        notebook that needs 2 tasks keeps 2)."""
        base = base or DemoConfig()
        return replace(
            base,
            input=self.input or base.input,
            style=self.style,
            engine=self.engine if self.engine is not None else base.engine,
            trust=self.trust if self.trust is not None else base.trust,
            volume=max(self.volume, base.volume),
            storage=self.storage,
            encrypt=self.encrypt,
        )


def saved_config(
    base: DemoConfig | None = None,
    path: str | Path | None = None,
    *,
    only: tuple[str, ...] | None = None,
) -> DemoConfig:
    """``base`` with the saved choices applied, or ``base`` itself when none were saved.
    ``only``: the DemoConfig fields to take from the choices (e.g. ("input", "style") for a
    notebook whose scenario needs its own workers and trust)."""
    choices = Choices.load(path)
    base = base or DemoConfig()
    if choices is None:
        return base
    mine = choices.config(base)
    if only is None:
        return mine
    return replace(base, **{name: getattr(mine, name) for name in only})


def input_bytes(sb, url: str | None) -> bytes:
    """The bytes of a request's input: ``/ipfs/<cid>/<name>`` from the sandbox's IPFS, an
    http(s) URL downloaded, a path read (None: the sample image)."""
    from iexec_kit.tutorial.demo import DEFAULT_INPUT

    if not url:
        return DEFAULT_INPUT.read_bytes()
    if url.startswith(("/ipfs/", "ipfs://")):
        return sb.storage.ipfs.cat(url.split("ipfs/", 1)[1].lstrip("/"))
    if url.startswith(("http://", "https://")):
        import requests

        r = requests.get(url, timeout=10)
        r.raise_for_status()
        return r.content
    return Path(url).read_bytes()


__all__ = ["CHOICES_ENV", "Choices", "choices_path", "input_bytes", "saved_config"]
