"""Small modal screens: type a value, pick from a list, save a preset, edit one layer."""
from __future__ import annotations

import copy

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from nnplay.core.errors import NnplayError

from ..messages import EditRequested, SettingChanged, StackChanged
from ..session import layer_types, new_layer, parse_field_text
from ..state import LAYER_FIELDS, FieldSpec
from ..widgets.fields import FieldList, format_value


class ValueScreen(ModalScreen[object]):
    """Type a value for one setting; enter accepts (checked against the allowed range), escape cancels."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, spec: FieldSpec, value) -> None:
        super().__init__()
        self.spec, self.value = spec, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"{self.spec.label}", classes="dialog-title")
            if self.spec.help:
                yield Label(self.spec.help, classes="dim")
            yield Input(value=format_value(self.spec, self.value) if self.value is not None else "", id="value")
            yield Static("", id="error", classes="error")
            yield Label("enter: accept   escape: cancel", classes="dim")

    @on(Input.Submitted)
    def accept(self, event: Input.Submitted) -> None:
        try:
            value = parse_field_text(self.spec, event.value)
        except NnplayError as exc:
            self.query_one("#error", Static).update(str(exc))
            return
        self.dismiss(value)


class ChoiceScreen(ModalScreen[object]):
    """Pick one of a list (datasets, presets, layer types)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, choices: list[tuple[object, str]], current=None) -> None:
        super().__init__()
        self.title_text, self.choices, self.current = title, choices, current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield OptionList(*[Option(text, id=str(i)) for i, (_, text) in enumerate(self.choices)], id="choices")
            yield Label("↑ ↓ enter: pick   escape: cancel", classes="dim")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.highlighted = next((i for i, (value, _) in enumerate(self.choices) if value == self.current), 0)

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id)][0])


class SaveScreen(ModalScreen[object]):
    """Ask for a file path: where to save the setup as a preset (.toml), or which preset file to open."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, default: str, title: str = "Save the setup as a preset",
                 hint: str = "A TOML file you can open again (ctrl+o) or train headless with: nnplay run FILE",
                 verb: str = "save") -> None:
        super().__init__()
        self.default, self.title_text, self.hint, self.verb = default, title, hint, verb

    @classmethod
    def for_open(cls) -> "SaveScreen":
        return cls("", "Open a preset or a model", "The path of a .toml preset or a saved .npz / .keras model "
                   "(relative to the current folder), or a share string (nnplay1:...)", "open")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Label(self.hint, classes="dim")
            yield Input(value=self.default, id="path")
            yield Label(f"enter: {self.verb}   escape: cancel", classes="dim")

    @on(Input.Submitted)
    def accept(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class LayerScreen(ModalScreen[None]):
    """Edit one layer: ← → change the selected field, enter types a value, escape closes (changes apply live)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Done")]

    def __init__(self, layers: list[dict], index: int, check_fn) -> None:
        super().__init__()
        self.stack = copy.deepcopy(layers)
        self.index = index
        self.check_fn = check_fn    # layers -> StackCheck (for the live shape check)

    @property
    def layer(self) -> dict:
        return self.stack[self.index]

    def _specs(self) -> tuple[FieldSpec, ...]:
        types = layer_types()
        kind = self.layer.get("type")
        if kind not in types:
            types = (*types, kind)
        return (FieldSpec("type", "type", "choice", types), *LAYER_FIELDS.get(kind, ()))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Layer {self.index + 1} of {len(self.stack)}", classes="dialog-title")
            yield FieldList(self._specs(), self._values(), id="layer-fields")
            yield Static("", id="check")
            yield Label("↑ ↓ field   ← → change   enter: type a value   escape: done", classes="dim")

    def _values(self) -> dict:
        return {s.key: self.layer.get(s.key, s.default) for s in self._specs()}

    def on_mount(self) -> None:
        self.query_one(FieldList).focus()
        self._show_check()

    def _show_check(self) -> None:
        check = self.check_fn(self.stack)
        mine = check.layers[self.index] if self.index < len(check.layers) else None
        if check.error:
            text = Text("✗ " + check.error, style="red")
        elif mine is not None:
            text = Text(f"✓ output shape {mine.output_shape}, {mine.params:,} parameters", style="green")
        else:
            text = Text("")
        self.query_one("#check", Static).update(text)

    def _apply(self, key: str, value) -> None:
        if key == "type":
            fresh = new_layer(value)
            for spec in LAYER_FIELDS.get(value, ()):   # keep what carries over (units, activation)
                if spec.key in self.layer:
                    fresh[spec.key] = self.layer[spec.key]
            self.stack[self.index] = fresh
        else:
            self.layer[key] = value
        fl = self.query_one(FieldList)
        fl.set_data(self._specs(), self._values())
        self._show_check()
        self.app.post_message(StackChanged(copy.deepcopy(self.stack), self.index))

    @on(SettingChanged)
    def changed(self, event: SettingChanged) -> None:
        event.stop()
        self._apply(event.key, event.value)

    @on(EditRequested)
    def edit(self, event: EditRequested) -> None:
        event.stop()
        spec = next(s for s in self._specs() if s.key == event.key)
        if spec.kind == "choice":
            choices = [(c, str(c)) for c in spec.choices]
            self.app.push_screen(ChoiceScreen(spec.label, choices, self.layer.get(spec.key)),
                                 lambda v: v is not None and self._apply(spec.key, v))
        else:
            self.app.push_screen(ValueScreen(spec, self.layer.get(spec.key, spec.default)),
                                 lambda v: v is not None and self._apply(spec.key, v))
