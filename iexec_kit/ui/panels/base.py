"""The base of the panels: a title, the view, buttons, and an ``output`` where callbacks write.

A button's callback runs the kit; what it prints, and any error it raises, goes to the panel's
``output`` (an ``ipywidgets.Output``), so a failing button is seen, not lost. The error is cut
to what a learner should read (:func:`trimmed_traceback`).
"""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

import ipywidgets as W

from iexec_kit.errors import IexecKitError
from iexec_kit.ui.html import e

KIT_DIR = str(Path(__file__).resolve().parents[2])  # the iexec_kit package folder
# frames a learner need not read
_INTERNAL = ("/ipywidgets/", "/traitlets/", "/comm/", "/ipykernel/")


def trimmed_traceback(exc: BaseException) -> str:
    """The error as a learner should read it: a kit error is its message (what was expected,
    what happened, what to do); another error keeps only the frames outside the kit and widgets."""
    if isinstance(exc, IexecKitError):
        return f"{type(exc).__name__}: {exc}\n"
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(KIT_DIR) and not any(part in f.filename for part in _INTERNAL)
    ]
    head = (
        "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
        if frames
        else ""
    )
    return head + "".join(traceback.format_exception_only(type(exc), exc))


class Panel(W.VBox):
    """Base of the panels: a title, the view, the buttons, and ``output`` where callbacks write."""

    title = "panel"

    def __init__(self, children=(), **kwargs):
        # hidden until a callback writes to it
        self.output = W.Output(
            layout=W.Layout(border="1px solid #ddd", padding="4px", display="none")
        )
        self._out_lock = threading.Lock()
        super().__init__([W.HTML(f"<b>{e(self.title)}</b>"), *children, self.output], **kwargs)
        self.add_class("iexec-panel")

    # -- the Output, written directly so it also works from threads and without a kernel --
    def say(self, text: str) -> None:
        """Append a line to the panel's output."""
        with self._out_lock:
            self.output.layout.display = None
            self.output.append_stdout(text if text.endswith("\n") else text + "\n")

    def show_error(self, exc: BaseException) -> None:
        with self._out_lock:
            self.output.layout.display = None
            self.output.append_stderr(trimmed_traceback(exc))

    def clear(self) -> None:
        with self._out_lock:
            self.output.outputs = ()

    def _button(self, description: str, action, **kwargs) -> W.Button:
        """A button whose click runs ``action()``; what it raises lands in the output."""
        button = W.Button(
            description=description,
            layout=W.Layout(width="auto", align_self="flex-start"),
            **kwargs,
        )

        def on_click(_):
            self.clear()
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - shown to the learner in the Output
                self.show_error(exc)

        button.on_click(on_click)
        return button

    def texts(self) -> str:
        """Everything written to the output so far (for tests and for printing)."""
        return "".join(o.get("text", "") for o in self.output.outputs)


__all__ = ["Panel", "trimmed_traceback"]
