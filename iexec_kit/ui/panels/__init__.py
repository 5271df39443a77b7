"""ipywidgets panels, one module per demo step: views over kit objects plus buttons that call
the kit (importing this package imports ipywidgets).

Each panel is a box (``display(panel)`` or leave it last in a cell) that reads the sandbox, the
chain or an :class:`iexec_kit.actors.events.EventStream`, and holds no state the kit cannot
rebuild: a panel made again over the same objects shows the same thing. The HTML they show is
made by :mod:`iexec_kit.ui.html`; what they compute is the kit's (the stream's views in
:mod:`iexec_kit.actors.views`, the result's download in :mod:`iexec_kit.actors.results`).
"""

from iexec_kit.ui.html import CONSENSUS_CLASS
from iexec_kit.ui.panels.base import Panel, trimmed_traceback
from iexec_kit.ui.panels.dapp import DappInspector
from iexec_kit.ui.panels.deal import DealView
from iexec_kit.ui.panels.orders import OrderInspector
from iexec_kit.ui.panels.player import EventPlayer, ExecutionPlayer
from iexec_kit.ui.panels.request import RequestBuilder
from iexec_kit.ui.panels.result import ResultViewer
from iexec_kit.ui.panels.storage import StorageSetupPanel
from iexec_kit.ui.panels.watcher import ContributionWatcher

__all__ = [
    "CONSENSUS_CLASS",
    "ContributionWatcher",
    "DappInspector",
    "DealView",
    "EventPlayer",
    "ExecutionPlayer",
    "OrderInspector",
    "Panel",
    "RequestBuilder",
    "ResultViewer",
    "StorageSetupPanel",
    "trimmed_traceback",
]
