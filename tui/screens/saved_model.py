"""A saved model opened in the playground (``nnplay tui model.npz`` or ``model.keras``, or such a path in
the open dialog): its summary (with what feeds each layer, for a graph) and its diagram. A file holds no data, so the views
that train and draw need a preset or a script (``nnplay watch``); this screen says so."""
from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from nnplay.core.models.summary import diagram_text


class SavedModelScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "dismiss(None)", "Close")]

    def __init__(self, model, path: str) -> None:
        super().__init__()
        self.model, self.path = model, path

    def compose(self) -> ComposeResult:
        m = self.model
        kind = "a graph (functional model)" if hasattr(m, "_nodes") and not m.is_chain() else "a chain of layers"
        note = ("A saved model holds no data: to train it and watch it learn, open a preset with the same layers "
                "(ctrl+o) or run your script with nnplay watch.")
        #: the text shown (kept for tests and copying)
        self.text = "\n".join([f"{self.path}: {kind}, {m.count_params():,} parameters", note, "",
                               m.summary(print_fn=None, line_length=96), "",
                               diagram_text(m, show_shapes=True, show_layer_names=True)])
        with VerticalScroll(id="saved-model"):
            yield Static(Group(Text(f"{self.path}: {kind}, {m.count_params():,} parameters", style="bold"),
                               Text(note, style="dim"), Text(""), Text(m.summary(print_fn=None, line_length=96)),
                               Text(""), Text(diagram_text(m, show_shapes=True, show_layer_names=True))))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#saved-model").focus()
