"""The playground screen: setup on the left, the five views on the right, status on top, health below.

Below ~100 columns the setup becomes a tab ("0 Setup") next to the views, so 80x24 stays usable.
The screen only lays widgets out and pushes state into them; the app decides what the state is.
"""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Sparkline, Static, Tab, Tabs

from ..state import VIEWS
from ..widgets.errors_view import ErrorsView
from ..widgets.fields import FieldList
from ..widgets.inside import InsideView
from ..widgets.layer_stack import LayerStack
from ..widgets.model_view import ModelView
from ..widgets.output import BoundaryView, NeuronGrid
from ..widgets.plots import CurvePlot
from ..widgets.status import HealthLine, StatusLine

NARROW = 100   #: below this width the setup panel collapses into a tab


class MainScreen(Screen):
    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield Tabs(Tab("0 Setup", id="setup-tab"), *[Tab(label, id=f"{key}-tab") for key, label in VIEWS],
                   active="output-tab", id="view-tabs")
        with Horizontal(id="body"):
            with VerticalScroll(id="setup"):
                yield FieldList(label_width=12, id="data-fields", classes="panel")
                yield LayerStack(id="stack", classes="panel")
                yield FieldList(label_width=14, id="train-fields", classes="panel")
            with ContentSwitcher(initial="output", id="switcher"):
                with Vertical(id="output"):
                    with Horizontal(id="output-row"):
                        yield BoundaryView(id="boundary")
                        with VerticalScroll(id="neuron-box"):
                            yield NeuronGrid(id="neurons")
                    yield Static("", id="output-note")
                    yield Sparkline([], id="loss-spark")
                with Vertical(id="curves"):
                    yield CurvePlot("loss", id="loss-plot")
                    yield CurvePlot("accuracy", id="metric-plot")
                with VerticalScroll(id="inside"):
                    yield InsideView(id="inside-view")
                    yield NeuronGrid(thumb=10, id="inside-neurons")
                with VerticalScroll(id="model"):
                    yield ModelView(id="model-view")
                with VerticalScroll(id="errors"):
                    yield ErrorsView(id="errors-view")
        yield HealthLine(id="health")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#setup").border_title = "Setup"
        self.query_one("#data-fields").border_title = "Data"
        self.query_one("#stack").border_title = "Network"
        self.query_one("#train-fields").border_title = "Training"
        self.apply_width(self.app.size.width)

    def on_resize(self, event) -> None:
        self.apply_width(event.size.width)

    def apply_width(self, width: int) -> None:
        narrow = width < NARROW
        self.set_class(narrow, "narrow")
        self.query_one(Footer).show_command_palette = not narrow   # ^p still works; help lists it
        tabs = self.query_one(Tabs)
        if narrow:
            tabs.show("setup-tab")
            if not self.has_class("show-setup"):
                self.hide_setup()
        else:
            tabs.hide("setup-tab")
            self.remove_class("show-setup")
            if tabs.active == "setup-tab":
                tabs.active = f"{self.app.view}-tab"
        show = getattr(self.app, "show_visuals", None)
        if show is not None:
            show()

    def show_view(self, view: str) -> None:
        """Switch the right side to ``view`` ("setup" shows the setup panel on narrow screens)."""
        tabs = self.query_one(Tabs)
        if view == "setup":
            if self.has_class("narrow"):
                self.add_class("show-setup")
                tabs.active = "setup-tab"
                self.query_one("#data-fields").focus()
            else:
                self.query_one("#data-fields").focus()
            return
        self.hide_setup()
        self.query_one(ContentSwitcher).current = view
        if tabs.active != f"{view}-tab":
            tabs.active = f"{view}-tab"

    def hide_setup(self) -> None:
        """Leave the setup tab (narrow screens): its fields give up the focus, so their keys (``x`` deletes a
        layer) neither work nor show in the footer while they cannot be seen."""
        self.remove_class("show-setup")
        focused = self.focused
        if self.has_class("narrow") and focused is not None and self.query_one("#setup") in focused.ancestors:
            self.set_focus(None)

    @on(Tabs.TabActivated)
    def tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab is None or event.tab.id is None:
            return
        view = event.tab.id.removesuffix("-tab")
        if view == "setup":
            if self.has_class("narrow"):
                self.add_class("show-setup")
            return
        self.hide_setup()
        if view != self.app.view:
            self.app.action_view(view)
