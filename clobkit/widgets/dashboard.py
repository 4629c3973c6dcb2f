"""The cluster dashboard: drive a simulated cluster with buttons and watch it.

``ck.Dashboard(cluster)`` builds an ipywidgets layout (kept in
:attr:`Dashboard.widget`, a ``VBox``; the dashboard displays as that widget
through ``_repr_mimebundle_``, so ending a cell with ``dash`` or calling
``display(dash)`` both work, and ``dash.widget`` can go inside your own
layout). From top to bottom:

* a **status line** (:attr:`Dashboard.status`): time, primary and view,
  commit number, live or replay, and the last error;
* the **node panel**: one row per node (role, status, view, op and commit
  numbers) with ``crash`` / ``restart`` / ``replace`` / ``isolate`` buttons
  (:attr:`Dashboard.node_buttons`);
* **network controls**: a node selection and ``partition`` (the selected
  nodes against the rest), ``heal``, and a message-loss slider;
* an **order-entry form**: user, side, price, quantity, order type, ``place``;
* **time controls**: ``step`` (one simulator event), ``run 50 ms``,
  ``run 500 ms``, and an optional ``Play`` widget that runs a slice of
  simulated time per tick. The play loop is driven by the browser (nothing
  runs in the kernel unless a front end ticks it), so executing a notebook
  or a test never starts an endless loop;
* the **time slider** (:attr:`Dashboard.time_slider`, simulated ms): drag
  it back and the node panel, figures and log show the cluster *as it was
  then*. That state is exact, not estimated: the dashboard replays the
  cluster's action journal into a :meth:`~clobkit.sim.Cluster.fork` up to
  the chosen time (the same seed gives the same trace, checked record for
  record) and draws that. ``fork from here`` then makes that replay the
  dashboard's live cluster, so you can try a different action at that
  moment; the previous run stays in :attr:`Dashboard.parent`;
* the **cluster picture** (:attr:`Dashboard.picture`, an SVG anywidget, see
  :mod:`clobkit.widgets.picture_widget`): nodes on a ring, messages in flight,
  cut links, each node's log and the committed book, redrawn on every step and
  slider move; clicking a node offers its actions, which press that node's
  button;
* live **depth** and **lag** figures (:attr:`Dashboard.depth_fig`,
  :attr:`Dashboard.lag_fig`, each a :class:`~clobkit.widgets.figures.PlotOutput`: a plotly
  figure in a core ``Output`` widget, not a ``FigureWidget``, so a second browser session
  into the same kernel renders it too) redrawn in place;
* the **message log**: the last trace records up to the shown time;
* an **output area** (:attr:`Dashboard.output`): a failing button prints
  its error here (and in the status line) instead of losing it.

Buttons always act on the live cluster: pressing one while the slider shows
the past first returns to the present. Everything a button does is an
ordinary :class:`~clobkit.sim.Cluster` call, recorded in
``dash.cluster.journal``; tests drive the dashboard the same way a user
does, with ``dash.node_buttons["n0"]["crash"].click()``.

A replay costs the simulation work up to the chosen time (a few hundred
milliseconds for a notebook-sized run); the last few replays are cached.
A cluster driven by a :class:`~clobkit.sim.workload.RandomWorkload` cannot
be replayed (its calls come from inside the simulation); the slider then
shows the trace-derived lag figure and log at the chosen time, and says so.

>>> import clobkit as ck
>>> c = ck.Cluster(3, seed=1, storage="memory")
>>> dash = ck.Dashboard(c)
>>> dash.node_buttons["n0"]["crash"].click()
>>> dash.run_buttons[500].click()
>>> c.primary, c.nodes["n0"].status
('n1', 'crashed')
"""

from __future__ import annotations

import contextlib
import html
import traceback
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from clobkit.errors import ClobError, InvalidType
from clobkit.widgets.figures import (
    PlotOutput,
    depth_chart_for,
    depth_figure,
    lag_chart_for,
    lag_figure,
)
from clobkit.widgets.moment import Moment, moment_of

if TYPE_CHECKING:  # pragma: no cover
    from clobkit.sim import Cluster

__all__ = ["Dashboard", "ORDER_TYPES", "NODE_ACTIONS"]

#: The order-entry form's "type" choices -> keyword arguments of ``Cluster.place``.
ORDER_TYPES: dict[str, dict[str, Any]] = {
    "limit": {},
    "limit IOC": {"tif": "ioc"},
    "limit FOK": {"tif": "fok"},
    "post-only": {"post_only": True},
    "market": {"order_type": "market"},
}
#: The per-node buttons, in display order.
NODE_ACTIONS = ("crash", "restart", "replace", "isolate")
_LAG_WIDTH, _DEPTH_WIDTH = 560, 420  # px: the two figures side by side
_ROLE_COLORS = {"primary": "#1a7f37", "backup": "#444", "learner": "#9a6700", "down": "#cf222e"}


class Dashboard:
    """Buttons, sliders and live figures for one :class:`~clobkit.sim.Cluster` (see module doc).

    ``levels``: depth levels shown; ``log_lines``: trace records in the
    message log; ``run_ms``: the run buttons (ms of simulated time);
    ``play_ms``: simulated time per Play tick; ``cache``: replays kept.

    The widgets are attributes, so a notebook or a test can drive the
    dashboard exactly as a user does (``button.click()``, ``slider.value = ...``):

    * ``cluster``: the live cluster (a fork after "fork from here"); ``parent``:
      the run it was forked from; ``forks``: every fork made here;
    * ``widget``: the whole layout (an ``ipywidgets.VBox``);
    * ``status``: the status line (``HTML`` with ``data-primary``, ``data-view``
      and ``data-live`` attributes);
    * ``node_labels[n]``: node ``n``'s line (``HTML`` with ``data-role``,
      ``data-status``, ``data-view``, ``data-commit``); ``node_buttons[n][a]``:
      its ``Button`` for each action ``a`` in :data:`NODE_ACTIONS`;
    * ``partition_select`` (group A), ``partition_button`` (A against the rest),
      ``heal_button``, ``loss_slider``;
    * ``order_user``, ``order_side``, ``order_price``, ``order_qty``,
      ``order_type``, ``order_button``; ``order_result`` shows the last result;
    * ``step_button``, ``run_buttons[ms]``, ``play`` (each tick runs ``play_ms``);
    * ``time_slider`` (simulated ms), ``live_button``, ``fork_button``;
    * ``lag_fig``, ``depth_fig``: :class:`~clobkit.widgets.figures.PlotOutput` s
      (``.figure`` is the plotly figure shown), redrawn in place;
    * ``log``: the message log; ``output`` and ``errors``: callback errors.

    Every widget also carries a CSS class (``clobkit-crash-n0``,
    ``clobkit-run-500``, ``clobkit-node-n0``, ``clobkit-status``...) for
    browser tests and styling.

    Raises :class:`~clobkit.errors.InvalidType` if ``cluster`` is not a Cluster.
    """

    def __init__(
        self,
        cluster: Cluster,
        *,
        levels: int = 10,
        log_lines: int = 25,
        run_ms: tuple[int, ...] = (50, 500),
        play_ms: int = 20,
        cache: int = 4,
    ) -> None:
        from clobkit.sim import Cluster

        if not isinstance(cluster, Cluster):
            raise InvalidType(f"cluster must be a clobkit Cluster, got {cluster!r}")
        import ipywidgets as w

        self.cluster: Cluster = cluster
        self.parent: Cluster | None = None
        self.forks: list[Cluster] = []
        self.levels = levels
        self.log_lines = log_lines
        self.play_ms = play_ms
        self.errors: list[str] = []
        self.view_us: int | None = None  # None: live; else the replayed time shown
        self._cache_size = cache
        self._replays: OrderedDict[int, Cluster] = OrderedDict()
        self._syncing = False
        self._last_error = ""
        names = list(cluster.replica_names)

        # -- status ------------------------------------------------------------------
        self.status = w.HTML()
        self.status.add_class("clobkit-status")

        # -- node panel ----------------------------------------------------------------
        self.node_labels: dict[str, Any] = {}
        self.node_buttons: dict[str, dict[str, Any]] = {}
        rows = []
        for name in names:
            label = w.HTML(layout=w.Layout(width="430px"))
            label.add_class(f"clobkit-node-{name}")
            self.node_labels[name] = label
            buttons = {}
            for action in NODE_ACTIONS:
                button = w.Button(
                    description=action,
                    tooltip=f"{action} {name}",
                    layout=w.Layout(width="80px"),
                    button_style="danger" if action == "crash" else "",
                )
                button.add_class(f"clobkit-{action}-{name}")
                button.on_click(self._guard(f"{action} {name}", self._node_action(action, name)))
                buttons[action] = button
            self.node_buttons[name] = buttons
            rows.append(w.HBox([label, *buttons.values()]))
        node_panel = w.VBox(rows)

        # -- network -------------------------------------------------------------------
        self.partition_select = w.SelectMultiple(
            options=names, rows=min(len(names), 4), description="group A", layout={"width": "200px"}
        )
        self.partition_button = w.Button(description="partition", tooltip="A | the rest")
        self.partition_button.on_click(self._guard("partition", self._partition))
        self.heal_button = w.Button(description="heal", tooltip="restore every link")
        self.heal_button.on_click(self._guard("heal", lambda _b: self._act(self.cluster.heal)))
        self.loss_slider = w.FloatSlider(
            value=float(cluster.network.loss),
            min=0.0,
            max=0.5,
            step=0.01,
            description="loss",
            continuous_update=False,
            readout_format=".2f",
        )
        self.loss_slider.observe(self._guard("loss", self._loss), names="value")
        network = w.HBox(
            [
                self.partition_select,
                w.VBox([self.partition_button, self.heal_button]),
                self.loss_slider,
            ]
        )

        # -- order entry -----------------------------------------------------------------
        narrow = w.Layout(width="150px")
        self.order_user = w.Text(value="alice", description="user", layout=narrow)
        self.order_side = w.Dropdown(options=["buy", "sell"], description="side", layout=narrow)
        self.order_price = w.Text(value="100.00", description="price", layout=narrow)
        self.order_qty = w.BoundedIntText(
            value=10, min=1, max=10**9, description="qty", layout=narrow
        )
        self.order_type = w.Dropdown(options=list(ORDER_TYPES), description="type", layout=narrow)
        for field in (self.order_user, self.order_side, self.order_price, self.order_qty):
            field.style.description_width = "40px"
        self.order_type.style.description_width = "40px"
        self.order_button = w.Button(description="place", button_style="primary")
        self.order_button.add_class("clobkit-place")
        self.order_button.on_click(self._guard("place", self._place))
        # one fixed-height line, so a result never pushes the panels below it down
        self.order_result = w.HTML(
            value=_PLACE_HINT, layout=w.Layout(height="24px", overflow="hidden")
        )
        self.order_result.add_class("clobkit-order-result")
        orders = w.VBox(
            [
                w.HBox(
                    [
                        self.order_user,
                        self.order_side,
                        self.order_price,
                        self.order_qty,
                        self.order_type,
                        self.order_button,
                    ]
                ),
                self.order_result,
            ]
        )

        # -- time ------------------------------------------------------------------------
        self.step_button = w.Button(description="step", tooltip="run one simulator event")
        self.step_button.add_class("clobkit-step")
        self.step_button.on_click(self._guard("step", lambda _b: self._act(self.cluster.step)))
        self.run_buttons: dict[int, Any] = {}
        for ms in run_ms:
            button = w.Button(description=f"run {ms} ms")
            button.add_class(f"clobkit-run-{ms}")
            button.on_click(self._guard(f"run {ms} ms", self._runner(ms)))
            self.run_buttons[ms] = button
        self.play = w.Play(value=0, min=0, max=10**9, step=1, interval=400, description="play")
        self.play.observe(self._guard("play", self._play_tick), names="value")
        self.time_slider = w.FloatSlider(
            value=0.0,
            min=0.0,
            max=0.0,
            step=0.001,
            description="time (ms)",
            continuous_update=False,
            readout_format=".1f",
            layout=w.Layout(width="520px"),
        )
        self.time_slider.add_class("clobkit-time")
        self.time_slider.observe(self._guard("time slider", self._scrub), names="value")
        self.live_button = w.Button(description="back to now", tooltip="show the live cluster")
        self.live_button.on_click(self._guard("back to now", lambda _b: self.show_time(None)))
        self.fork_button = w.Button(
            description="fork from here",
            tooltip="continue a new run from the shown time (same seed)",
            button_style="warning",
        )
        self.fork_button.add_class("clobkit-fork")
        self.fork_button.on_click(self._guard("fork from here", lambda _b: self.fork_here()))
        time_box = w.VBox(
            [
                w.HBox(
                    [
                        self.step_button,
                        *self.run_buttons.values(),
                        w.Label(f"auto-run ({play_ms} ms a tick):"),
                        self.play,
                    ]
                ),
                w.HBox([self.time_slider, self.live_button, self.fork_button]),
            ]
        )

        # -- figures, log, errors --------------------------------------------------------------
        first = moment_of(cluster, levels=levels)
        self._figure_failures: set[str] = set()
        self.output = w.Output(layout={"border": "1px solid #ddd", "max_height": "200px"})
        self.output.add_class("clobkit-output")
        # Core Output widgets holding each figure's JSON (figures.PlotOutput): a reload or a
        # second browser session draws the current figure, with plotly.js loaded once per page.
        self.lag_fig = PlotOutput(self._lag(first), layout={"width": f"{_LAG_WIDTH + 10}px"})
        self.depth_fig = PlotOutput(self._depth(first), layout={"width": f"{_DEPTH_WIDTH + 10}px"})
        self.lag_fig.add_class("clobkit-lag-figure")
        self.depth_fig.add_class("clobkit-depth-figure")
        self.log = w.HTML()
        self.log.add_class("clobkit-log")

        # -- the cluster picture (an SVG anywidget drawn from viz.picture_state) ----------------
        from clobkit.widgets.picture_widget import PictureWidget

        self.picture = PictureWidget(
            on_action=self._guard("picture", self._picture_action), actions=NODE_ACTIONS
        )
        self.picture.add_class("clobkit-picture-panel")

        self.widget = w.VBox(
            [
                self.status,
                node_panel,
                network,
                orders,
                time_box,
                self.picture,
                w.HBox([self.lag_fig, self.depth_fig]),
                w.HTML("<b>message log</b> (latest last)"),
                self.log,
                w.HTML("<b>errors</b>"),
                self.output,
            ]
        )
        self.widget.add_class("clobkit-dashboard")
        self._render(first)

    # -- display ------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        where = "live" if self.view_us is None else f"replay at {self.view_us / 1000:g} ms"
        return f"<Dashboard {self.cluster!r} {where}>"

    # -- what buttons do -------------------------------------------------------------------

    def _guard(self, label: str, fn: Callable[..., Any]) -> Callable[..., None]:
        """``fn`` as a callback whose errors land in :attr:`output` and the status line."""

        def callback(*args: Any) -> None:
            if self._syncing:
                return
            try:
                fn(*args)
            except Exception as exc:
                self._report(label, exc)

        return callback

    def _report(self, label: str, exc: BaseException) -> None:
        message = f"{label}: {type(exc).__name__}: {exc}"
        self.errors.append(message)
        self._last_error = message
        if isinstance(exc, ClobError):
            text = message + "\n"
        else:  # a bug: keep the whole traceback
            text = f"{label} failed:\n" + "".join(traceback.format_exception(exc))
        self.output.append_stdout(text)
        with contextlib.suppress(Exception):  # never hide the first error behind a second
            self._render_status(self._moment())

    def _act(self, action: Callable[[], Any]) -> Any:
        """Return to live, run ``action`` on the live cluster, redraw."""
        if self.view_us is not None:
            self.view_us = None
        self._last_error = ""
        try:
            return action()
        finally:
            self.refresh()

    def _node_action(self, action: str, name: str) -> Callable[[Any], None]:
        def press(_button: Any) -> None:
            self._act(lambda: getattr(self.cluster, action)(name))

        return press

    def _runner(self, ms: int) -> Callable[[Any], None]:
        return lambda _button: self._act(lambda: self.cluster.run(ms=ms))

    def _play_tick(self, _change: Any) -> None:
        self._act(lambda: self.cluster.run(ms=self.play_ms))

    def _partition(self, _button: Any) -> None:
        group = sorted(self.partition_select.value)
        rest = [n for n in self.cluster.replica_names if n not in group]
        self._act(lambda: self.cluster.partition(group, rest))

    def _loss(self, change: dict[str, Any]) -> None:
        self._act(lambda: self.cluster.set_loss(float(change["new"])))

    def _place(self, _button: Any) -> None:
        options = dict(ORDER_TYPES[self.order_type.value])
        price = None if options.get("order_type") == "market" else self.order_price.value.strip()
        user, side, qty = self.order_user.value.strip(), self.order_side.value, self.order_qty.value
        self.order_result.value = _PLACE_HINT
        result = self._act(lambda: self.cluster.place(user, side, price=price, qty=qty, **options))
        self.order_result.value = _placed_line(user, side, qty, price, result)

    # -- time travel -----------------------------------------------------------------------

    def show_time(self, ms: float | None) -> None:
        """Show the cluster as it was at ``ms`` (simulated), or live with ``None``.

        Same as dragging :attr:`time_slider`. Raises ``InvalidArgument`` for a time
        outside ``[0, now]``.
        """
        if ms is None or ms >= self.cluster.now_ms:
            self.view_us = None
            self.refresh()
            return
        at_us = round(ms * 1000)
        if at_us < 0:
            from clobkit.errors import InvalidArgument

            raise InvalidArgument(f"ms must be >= 0, got {ms!r}")
        self.view_us = at_us
        self.refresh()

    def _scrub(self, change: dict[str, Any]) -> None:
        self.show_time(float(change["new"]))

    def replay(self, at_us: int) -> Cluster:
        """The cluster as it was at ``at_us``: a cached :meth:`~clobkit.sim.Cluster.fork`."""
        fork = self._replays.get(at_us)
        if fork is None:
            fork = self.cluster.fork(
                at_us, storage="memory" if self.cluster.storage == "memory" else None
            )
            self._replays[at_us] = fork
            while len(self._replays) > self._cache_size:
                _t, old = self._replays.popitem(last=False)
                old.close()
        else:
            self._replays.move_to_end(at_us)
        return fork

    def fork_here(self) -> Cluster:
        """Make a fork of the shown time the live cluster (the old one -> :attr:`parent`)."""
        at_us = self.cluster.now_us if self.view_us is None else self.view_us
        fork = self._replays.pop(at_us, None)
        if fork is None:
            fork = self.cluster.fork(at_us)
        self._drop_replays()
        self.parent = self.cluster
        self.cluster = fork
        self.forks.append(fork)
        self.view_us = None
        self.refresh()
        self.order_result.value = (
            f"forked at t = {at_us / 1000:g} ms (seed {fork.seed}); the previous run is "
            f"<code>dash.parent</code>"
        )
        return fork

    def _drop_replays(self) -> None:
        for fork in self._replays.values():
            fork.close()
        self._replays.clear()

    def close(self) -> None:
        """Close the cached replays and the widgets (the clusters stay open)."""
        self._drop_replays()
        stack = [self.widget]
        while stack:
            widget = stack.pop()
            stack.extend(getattr(widget, "children", ()))
            widget.close()

    # -- drawing ---------------------------------------------------------------------------

    def _moment(self) -> Moment:
        """The moment to show: live, or the replay at :attr:`view_us`."""
        if self.view_us is None:
            return moment_of(self.cluster, levels=self.levels)
        try:
            fork = self.replay(self.view_us)
        except ClobError as exc:  # not replayable: trace-only view of the past
            self._last_error = f"replay unavailable ({exc}); showing the trace only"
            live = moment_of(self.cluster, levels=self.levels)
            records = [r for r in live.records if r.time_us <= self.view_us]
            return Moment(self.view_us, [], None, None, records, live=False)
        return moment_of(fork, levels=self.levels, live=False)

    def refresh(self) -> None:
        """Redraw every panel from the cluster (live) or the replay (slider in the past)."""
        self._render(self._moment())

    def _lag(self, moment: Moment) -> Any:
        fig = self._figure(
            "lag figure",
            lambda: lag_chart_for(moment),
            lambda: lag_figure(
                moment.records, list(self.cluster.replica_names), until_us=moment.time_us
            ),
        )
        fig.update_layout(width=_LAG_WIDTH)
        return fig

    def _depth(self, moment: Moment) -> Any:
        market = self.cluster.market
        fig = self._figure(
            "depth figure",
            lambda: depth_chart_for(moment, market, levels=self.levels),
            lambda: depth_figure(moment.depth_ticks, market),
        )
        fig.update_layout(width=_DEPTH_WIDTH)
        return fig

    def _figure(self, label: str, draw: Callable[[], Any], fallback: Callable[[], Any]) -> Any:
        """``draw()``; if it raises, report that once and draw ``fallback()`` instead."""
        try:
            return draw()
        except Exception as exc:
            if label not in self._figure_failures:
                self._figure_failures.add(label)
                self._report(f"{label} (showing a simpler one)", exc)
            return fallback()

    def _render(self, moment: Moment) -> None:
        cluster = self.cluster
        self._syncing = True
        try:
            slider = self.time_slider
            now_ms = cluster.now_ms
            if slider.max < now_ms:
                slider.max = now_ms
            else:
                slider.min = 0.0
                slider.max = now_ms
            slider.value = now_ms if moment.live else moment.time_us / 1000
            self.loss_slider.value = float(cluster.network.loss)
        finally:
            self._syncing = False
        rows = {row["node"]: row for row in moment.rows}
        # Buttons act on the live cluster even while a replay is shown, so they are enabled
        # by the live state (a node down *now* cannot be crashed), not by the replayed one.
        live_down = {
            name: self.cluster.world.hosts[name].status == "crashed" for name in self.node_labels
        }
        for name, label in self.node_labels.items():
            row = rows.get(name)
            label.value = _node_html(name, row)
            buttons = self.node_buttons[name]
            down = live_down[name]
            buttons["crash"].disabled = down
            buttons["restart"].disabled = not down
            buttons["isolate"].disabled = down
            for action, button in buttons.items():
                button.tooltip = f"{action} {name}" + ("" if moment.live else " (live cluster)")
        self.fork_button.disabled = moment.live
        self.live_button.disabled = moment.live
        if moment.live:
            self.widget.remove_class("clobkit-replaying")
        else:
            self.widget.add_class("clobkit-replaying")
        self.lag_fig.show(self._lag(moment))
        self.depth_fig.show(self._depth(moment))
        tail = moment.records[-self.log_lines :]
        self.log.value = (
            "<pre style='font-size:11px;line-height:1.2;max-height:260px;overflow:auto'>"
            + html.escape("\n".join(r.text(self.cluster.market) for r in tail))
            + "</pre>"
        )
        self._render_status(moment)
        self._render_picture(moment)

    # -- the cluster picture ---------------------------------------------------------------

    def _picture_action(self, node: str, action: str) -> None:
        """A node action chosen in the picture: press that node's button (same code path)."""
        button = self.node_buttons[node][action]
        if button.disabled:
            from clobkit.errors import InvalidArgument

            raise InvalidArgument(f"{action} {node} is not available now")
        button.click()

    def _render_picture(self, moment: Moment) -> None:
        """Give the picture panel the state of the moment shown (live or replayed)."""
        from clobkit.viz.picture_data import picture_state

        try:
            if moment.source is not None:
                state = picture_state(moment.source)
            else:  # a past the cluster cannot replay: rebuilt from the live trace
                state = picture_state(self.cluster, at_ms=moment.time_us / 1000)
        except Exception as exc:
            if "picture" not in self._figure_failures:
                self._figure_failures.add("picture")
                self._report("cluster picture", exc)
            return
        state["live"] = moment.live
        self.picture.state = state

    def _render_status(self, moment: Moment) -> None:
        where = (
            "live"
            if moment.live
            else f"REPLAY of the past: the buttons act on the live cluster "
            f"(now {self.cluster.now_ms:.1f} ms) and return to it"
        )
        primary = moment.primary
        view = moment.view
        head = (
            f"t = {moment.time_us / 1000:.1f} ms · "
            + (f"primary {primary} (view {view})" if primary else "no primary")
            + f" · commit {moment.commit if moment.commit is not None else '-'} · {where}"
        )
        error = ""
        if self._last_error:
            error = f"<br><span style='color:#cf222e'>⚠ {html.escape(self._last_error)}</span>"
        self.status.value = (
            f"<div class='clobkit-status-line' data-time-us='{moment.time_us}' "
            f"data-primary='{primary or ''}' data-view='{'' if view is None else view}' "
            f"data-live='{str(moment.live).lower()}'"
            + ("" if moment.live else " style='background:#fff3c4;padding:2px 6px'")
            + f"><b>{html.escape(head)}</b>{error}</div>"
        )


_PLACE_HINT = "<span style='color:#888'>place an order: its result shows here</span>"


def _placed_line(user: str, side: str, qty: int, price: Any, result: Any) -> str:
    """A placed order's result as one readable line (prices as people read them)."""
    spec = result.spec
    asked = "at market" if price is None else f"@ {html.escape(str(price))}"
    head = f"op {result.op}: {html.escape(user)} {side}s {qty} {asked} → "
    if not result.accepted:
        return (
            f"<span style='color:#cf222e'>{head}rejected ({html.escape(str(result.reason))})</span>"
        )
    # The result's fills are already in market units (qty_lots/price_ticks hold the raw counts).
    fills = ", ".join(
        f"{spec.format_qty(f.qty_lots)} @ {spec.format_price(f.price_ticks)}" for f in result.fills
    )
    text = f"{head}{result.status.replace('_', ' ')}, order {result.order_id}"
    if fills:
        text += f", traded {fills}"
    if result.resting_qty and result.status != "resting":
        text += f", {spec.format_qty(result.resting_qty_lots)} resting"
    return f"<span>{html.escape(text, quote=False)}</span>"


def _node_html(name: str, row: dict[str, Any] | None) -> str:
    """One node's line in the panel, with data attributes for tests and CSS."""
    if row is None:
        return f"<span class='clobkit-node' data-node='{name}'><b>{name}</b> (unknown)</span>"
    role = str(row["role"])
    color = _ROLE_COLORS.get(role, "#444")

    def num(key: str) -> str:
        value = row[key]
        return "-" if value is None else str(value)

    text = (
        f"<b>{html.escape(name)}</b> <span style='color:{color}'><b>{html.escape(role)}</b></span>"
        f" · {html.escape(str(row['status']))} · view {num('view')} · op {num('op_number')}"
        f" · commit {num('commit_number')}"
    )
    return (
        f"<span class='clobkit-node' data-node='{html.escape(name)}' data-role='{role}' "
        f"data-status='{html.escape(str(row['status']))}' data-view='{num('view')}' "
        f"data-commit='{num('commit_number')}'>{text}</span>"
    )
