"""The dashboard's live cluster picture: a small anywidget drawing plain SVG.

:class:`PictureWidget` holds one :func:`clobkit.viz.picture_state` dict in its
``state`` trait; its ES module (``picture_widget.js`` beside this file, no build step, no
network) redraws the SVG whenever the trait changes, so the dashboard updates the picture on
every step and slider move by assigning a new dict, without rebuilding the page. Between two
states, with ``speed > 0`` (simulated µs per real ms), the dots glide along their links on
the browser's clock (``requestAnimationFrame``).

Clicking a node in the browser opens a menu of :attr:`PictureWidget.actions`; choosing one
sends ``{"event": "action", "node": ..., "action": ...}`` to the kernel, where
:meth:`PictureWidget.handle_action` passes it to the ``on_action`` callback (the dashboard
presses its own button for that node and action: the same code path as clicking the button).

>>> import clobkit as ck
>>> from clobkit.viz import picture_state
>>> c = ck.Cluster(3, seed=1, storage="memory")
>>> seen = []
>>> w = PictureWidget(on_action=lambda node, action: seen.append((node, action)))
>>> w.state = picture_state(c)
>>> w.handle_action({"event": "action", "node": "n1", "action": "crash"})
>>> seen
[('n1', 'crash')]
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from clobkit.errors import InvalidArgument

__all__ = ["PictureWidget"]

_HERE = Path(__file__).parent


class PictureWidget(anywidget.AnyWidget):
    """The SVG cluster picture (see the module doc).

    ``state``: the picture dict drawn; ``speed``: simulated µs per real ms for gliding dots
    (0: still); ``actions``: what a node's menu offers; ``on_action(node, action)``: called
    for a node action chosen in the browser (or with :meth:`handle_action`).
    """

    _esm = _HERE / "picture_widget.js"
    state = traitlets.Dict().tag(sync=True)
    speed = traitlets.Float(0.0).tag(sync=True)
    actions = traitlets.List(traitlets.Unicode(), default_value=[]).tag(sync=True)

    def __init__(
        self,
        on_action: Callable[[str, str], None] | None = None,
        *,
        actions: tuple[str, ...] = ("crash", "restart", "replace", "isolate"),
        **kwargs: Any,
    ) -> None:
        super().__init__(actions=list(actions), **kwargs)
        self.on_action = on_action
        self.on_msg(self._on_front_end_message)

    def _on_front_end_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        self.handle_action(content)

    def handle_action(self, content: dict[str, Any]) -> None:
        """Run a node action message from the front end through ``on_action``.

        Raises :class:`~clobkit.errors.InvalidArgument` for an unknown node or action (the
        browser only sends the names it was given).
        """
        if not isinstance(content, dict) or content.get("event") != "action":
            return
        node, action = content.get("node"), content.get("action")
        names = [n["name"] for n in self.state.get("nodes", [])]
        if node not in names:
            raise InvalidArgument(f"node must be one of {names}, got {node!r}")
        if action not in self.actions:
            raise InvalidArgument(f"action must be one of {list(self.actions)}, got {action!r}")
        if self.on_action is not None:
            self.on_action(str(node), str(action))
