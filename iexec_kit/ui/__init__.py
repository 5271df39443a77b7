"""Views for notebooks: HTML tables and ipywidgets panels, one per demo step.

Each is a view over kit objects; it holds no state the kit cannot rebuild. The tables import
nothing heavy; the panels (:mod:`iexec_kit.ui.panels`, one module per step; their HTML is
:mod:`iexec_kit.ui.html`) import ipywidgets on first use, so a script that only prints a table
does not load it.
"""

from iexec_kit.ui import display as _display
from iexec_kit.ui.tables import accounts_table, app_table, workerpool_table

WIDGETS = (
    "DappInspector",
    "StorageSetupPanel",
    "OrderInspector",
    "RequestBuilder",
    "DealView",
    "ContributionWatcher",
    "ExecutionPlayer",
    "ResultViewer",
)

__all__ = ["accounts_table", "app_table", "workerpool_table", *WIDGETS]


# inside IPython (a notebook), the kit's objects render as small tables (see iexec_kit.ui.display)
_display.register()


def __getattr__(name: str):
    # ipywidgets is imported only when a panel is asked for (it pulls in IPython and comm)
    if name in WIDGETS:
        from iexec_kit.ui import panels

        return getattr(panels, name)
    raise AttributeError(f"module 'iexec_kit.ui' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
