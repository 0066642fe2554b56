"""A compact list of settings: ↑ ↓ pick a row, ← → step its value, enter types or picks one."""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget

from ..messages import EditRequested, SettingChanged
from ..session import step_value
from ..state import FieldSpec


def format_value(spec: FieldSpec, value: Any) -> str:
    if value is None:
        return "—"
    if spec.kind == "bool":
        return "on" if value else "off"
    if spec.kind == "log":
        return f"{float(value):g}"
    if spec.kind == "float":
        return f"{float(value):.2f}".rstrip("0").rstrip(".") if float(value) else "0"
    if spec.key.endswith("clipnorm"):
        return f"{float(value):g}" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class FieldList(Widget, can_focus=True):
    """Shows ``specs`` with ``values``; posts :class:`SettingChanged` / :class:`EditRequested` (never edits state)."""

    DEFAULT_CSS = """
    FieldList { height: auto; }
    """
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("left", "step(-1)", "Less", show=False),
        Binding("right", "step(1)", "More", show=False),
        Binding("enter", "edit", "Edit", show=False, tooltip="Type a value or pick from a list"),
    ]

    cursor: reactive[int] = reactive(0)
    """Index of the selected row."""

    def __init__(self, specs: tuple[FieldSpec, ...] = (), values: dict | None = None, *, label_width: int = 14,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.specs = tuple(specs)
        self.values = dict(values or {})
        self.label_width = label_width
        self.errors: dict[str, str] = {}

    def set_data(self, specs: tuple[FieldSpec, ...], values: dict) -> None:
        """New rows or values from the owner (attributes down)."""
        resized = len(specs) != len(self.specs)
        self.specs, self.values = tuple(specs), dict(values)
        self.cursor = min(self.cursor, max(0, len(self.specs) - 1))
        self.refresh(layout=resized)

    @property
    def current(self) -> FieldSpec | None:
        return self.specs[self.cursor] if self.specs else None

    def select_key(self, key: str) -> None:
        for i, spec in enumerate(self.specs):
            if spec.key == key:
                self.cursor = i

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self.specs))

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        width = max(10, self.size.width)
        for i, spec in enumerate(self.specs):
            selected = i == self.cursor and self.has_focus
            value = format_value(spec, self.values.get(spec.key))
            shown = f"‹ {value} ›" if selected else f"  {value}  "
            label = spec.label[: self.label_width].ljust(self.label_width)
            style = "reverse" if selected else ""
            line = Text(label, style="bold" if selected else "dim")
            line.append(shown[: max(1, width - self.label_width)], style="bold")
            line.stylize(style)
            if i:
                text.append("\n")
            text.append_text(line)
        return text

    # ------------------------------------------------------------------ keys and mouse
    def watch_cursor(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        """Move the selection; it stops at the first and last row (tab moves to the next panel)."""
        if self.specs:
            self.cursor = max(0, min(self.cursor + delta, len(self.specs) - 1))

    def action_step(self, direction: int) -> None:
        spec = self.current
        if spec is None:
            return
        value = step_value(spec, self.values.get(spec.key), direction)
        self.values[spec.key] = value
        self.refresh()
        self.post_message(SettingChanged(spec.key, value))

    def action_edit(self) -> None:
        spec = self.current
        if spec is not None:
            if spec.kind == "bool":
                self.action_step(1)
            else:
                self.post_message(EditRequested(spec.key))

    def on_click(self, event: events.Click) -> None:
        row = event.y
        if not 0 <= row < len(self.specs):
            return
        again = row == self.cursor and self.has_focus
        self.cursor = row
        if not (again or event.chain > 1):
            return
        value = format_value(self.specs[row], self.values.get(self.specs[row].key))
        if event.x <= self.label_width + 1:
            self.action_step(-1)          # on "‹"
        elif event.x >= self.label_width + 3 + len(value):
            self.action_step(1)           # on "›"
        else:
            self.action_edit()
