"""Interactive widgets: the cluster :class:`Dashboard` for JupyterLab and Binder.

``ck.Dashboard(cluster)`` (this package is imported only when that name is
first used, so ``import clobkit`` never loads ipywidgets or plotly) gives
buttons for faults and orders, run/step controls, a time slider that
replays the cluster's past exactly, "fork from here", live depth and lag
figures and a message log. See :mod:`clobkit.widgets.dashboard`.

>>> import clobkit as ck
>>> from clobkit.widgets import Dashboard
>>> Dashboard is ck.Dashboard
True
"""

from __future__ import annotations

from clobkit.widgets.dashboard import NODE_ACTIONS, ORDER_TYPES, Dashboard

__all__ = ["Dashboard", "NODE_ACTIONS", "ORDER_TYPES"]
