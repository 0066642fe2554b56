"""What leaves the playground: the setup as a share line (``l``), and the model as a Keras or PyTorch script
(``e``). Both screens only show what the app made; the app decides and writes."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class ShareScreen(ModalScreen[None]):
    """The share line of the current setup, already copied to the terminal's clipboard."""

    BINDINGS = [Binding("escape,enter,q", "dismiss(None)", "Close"), Binding("c", "copy", "Copy again")]

    def __init__(self, line: str, name: str) -> None:
        super().__init__()
        self.line, self.setup_name = line, name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Share {self.setup_name}: the setup as one line (no weights)", classes="dialog-title")
            yield Static(self.line, id="share-line", markup=False)
            yield Label("Copied to the clipboard (through the terminal, so it works over SSH and in tmux with "
                        "set-clipboard on; some terminals ask first). Whoever gets it opens it with "
                        "nnplay tui LINE, nnplay run LINE, or ctrl+o here.", classes="dim")
            yield Label("c: copy again   escape: close", classes="dim")

    def on_mount(self) -> None:
        self.action_copy()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.line)


class ExportedScreen(ModalScreen[None]):
    """Where an export went and how to check it."""

    BINDINGS = [Binding("escape,enter,q", "dismiss(None)", "Close")]

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__()
        self.title_text, self.lines = title, lines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static("\n".join(self.lines), id="export-lines", markup=False)
            yield Label("escape: close", classes="dim")
