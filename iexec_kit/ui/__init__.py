"""Views for notebooks: HTML tables and (with the tutorial issue) ipywidgets panels.

Each is a view over kit objects; it holds no state the kit cannot rebuild.
"""

from iexec_kit.ui.tables import accounts_table, app_table, workerpool_table

__all__ = ["accounts_table", "app_table", "workerpool_table"]
