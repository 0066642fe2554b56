"""The layer-stack editor: the network as a list of layers with their output shapes, checked as you edit."""
from __future__ import annotations

import copy

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget

from ..messages import LayerEditRequested, StackChanged
from ..session import layer_label, new_layer
from ..state import ACTIVATIONS, LayerCheck, StackCheck


_UNITS = Binding.Group("Units", compact=True)


def _shape(shape) -> str:
    return str(tuple(int(s) for s in shape)) if shape is not None else "?"


class LayerStack(Widget, can_focus=True):
    """Shows the layers and the shape check; every edit posts :class:`StackChanged` with the new list."""

    DEFAULT_CSS = """
    LayerStack { height: auto; }
    """
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("a", "add", "Add", tooltip="Insert a layer below the selected one"),
        Binding("x,delete", "remove", "Del", tooltip="Remove the selected layer"),
        Binding("enter", "edit", "Edit", tooltip="Change type, units, activation, ..."),
        Binding("left", "units(-1)", "Units", key_display="←", group=_UNITS, tooltip="Fewer units (or filters)"),
        Binding("right", "units(1)", "Units", key_display="→", group=_UNITS, tooltip="More units (or filters)"),
        Binding("c", "activation", "Act", tooltip="Cycle the selected layer's activation"),
        Binding("f", "freeze", "Freeze", show=False, tooltip="Freeze or unfreeze the selected layer's weights"),
        Binding("shift+up,K", "move(-1)", "Move up", show=False),
        Binding("shift+down,J", "move(1)", "Move down", show=False),
        # on narrow screens these hidden twins of the app's run keys leave the footer room for the keys
        # above and for Help and Quit; the keys work the same
        Binding("n", "app_key('step')", show=False),
        Binding("r", "app_key('reset')", show=False),
        Binding("g", "app_key('regenerate')", show=False),
        Binding("plus,equals_sign,right_square_bracket", "app_key('learning_rate', 2.0)", show=False),
        Binding("minus,left_square_bracket", "app_key('learning_rate', 0.5)", show=False),
    ]

    cursor: reactive[int] = reactive(0)
    """Index of the selected layer."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.stack_layers: list[dict] = []
        self.check = StackCheck()

    def set_data(self, layers: list[dict], check: StackCheck) -> None:
        self.stack_layers = copy.deepcopy(layers)
        self.check = check
        self.cursor = min(self.cursor, max(0, len(self.stack_layers) - 1))
        self.refresh(layout=True)

    # ------------------------------------------------------------------ drawing
    def _lines(self, width: int) -> list[Text]:
        if self.check.base:        # [model.base]: the stack below builds on a (pre)trained base
            lines = list(Text(self.check.base, style="cyan").wrap(self.app.console, max(10, width)))
            lines.append(Text.assemble(("in  ", "dim"), ("the base's output".ljust(max(1, width - 16)), "dim"),
                                       (_shape(self.check.input_shape).rjust(12), "dim"), no_wrap=True))
        else:
            lines = [Text.assemble(("in  ", "dim"), ("input".ljust(max(1, width - 16)), "dim"),
                                   (_shape(self.check.input_shape).rjust(12), "dim"), no_wrap=True)]
        self._head_rows = len(lines)         # rows above the first layer (for clicks)
        checks = self.check.layers
        for i, cfg in enumerate(self.stack_layers):
            chk = checks[i] if i < len(checks) else LayerCheck(layer_label(cfg))
            selected = i == self.cursor and self.has_focus
            tag = "out" if i == len(self.stack_layers) - 1 else f"{i + 1:>2} "
            bad = chk.error is not None
            shape = "✗" if bad else _shape(chk.output_shape) if chk.output_shape is not None else "·"
            label = layer_label(cfg)[: max(1, width - 17)]
            line = Text.assemble((f"{tag:<3}", "dim"), ("▸" if selected else " "),
                                 (label.ljust(max(1, width - 16)), "bold red" if bad else "bold"),
                                 (shape.rjust(12), "red" if bad else ""), no_wrap=True, overflow="ellipsis")
            if selected:
                line.stylize("reverse")
            lines.append(line)
        if not self.stack_layers:
            lines.append(Text("   (no layers: press a to add one)", style="dim"))
        summary = f"{self.check.total_params:,} params" if not self.check.error else ""
        if self.check.error:
            lines.extend(Text("✗ " + self.check.error, style="red").wrap(self.app.console, max(10, width)))
        else:
            lines.append(Text(f"✓ shapes fit · {summary}", style="green"))
        return lines

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Text:
        return Text("\n").join(self._lines(max(20, self.size.width)))

    # ------------------------------------------------------------------ keys
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "app_key":          # the twins only exist on narrow screens
            return self.screen.has_class("narrow")
        return True

    def action_app_key(self, name: str, *args) -> None:
        getattr(self.app, f"action_{name}")(*args)

    # ------------------------------------------------------------------ editing
    def _changed(self, cursor: int, note: str = "") -> None:
        self.cursor = max(0, min(cursor, len(self.stack_layers) - 1))
        self.post_message(StackChanged(copy.deepcopy(self.stack_layers), self.cursor, note))

    def watch_cursor(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        """Move the selection; it stops at the first and last layer (tab moves to the next panel)."""
        self.cursor = max(0, min(self.cursor + delta, len(self.stack_layers) - 1))

    def action_units(self, delta: int) -> None:
        if not self.stack_layers:
            return
        cfg = self.stack_layers[self.cursor]
        for key in ("units", "filters"):
            if key in cfg:
                cfg[key] = max(1, int(cfg[key]) + delta)
                self._changed(self.cursor)
                return
        if "rate" in cfg:
            cfg["rate"] = round(min(0.9, max(0.0, float(cfg["rate"]) + 0.05 * delta)), 2)
            self._changed(self.cursor)

    def action_add(self) -> None:
        at = self.cursor + 1 if self.stack_layers else 0
        if self.stack_layers and at == len(self.stack_layers):
            at -= 1     # keep the output layer last: insert above it
        template = self.stack_layers[min(at, len(self.stack_layers) - 1)] if self.stack_layers else None
        if template and template.get("type") == "dense" and at < len(self.stack_layers):
            layer = {"type": "dense", "units": 8, "activation": self._hidden_activation()}
        elif template is not None and at > 0:
            layer = copy.deepcopy(self.stack_layers[at - 1])
        else:
            layer = new_layer("dense")
        self.stack_layers.insert(at, layer)
        self._changed(at, f"added {layer_label(layer)}")

    def _hidden_activation(self) -> str:
        hidden = [c.get("activation") for c in self.stack_layers[:-1] if c.get("activation")]
        return hidden[-1] if hidden else "relu"

    def action_remove(self) -> None:
        if self.stack_layers:
            removed = self.stack_layers.pop(self.cursor)
            self._changed(self.cursor if self.cursor < len(self.stack_layers) else self.cursor - 1,
                          f"removed {layer_label(removed)}")

    def action_move(self, delta: int) -> None:
        i, j = self.cursor, self.cursor + delta
        if self.stack_layers and 0 <= j < len(self.stack_layers):
            self.stack_layers[i], self.stack_layers[j] = self.stack_layers[j], self.stack_layers[i]
            self._changed(j)

    def action_activation(self) -> None:
        if self.stack_layers and "activation" in self.stack_layers[self.cursor]:
            cfg = self.stack_layers[self.cursor]
            acts = list(ACTIVATIONS)
            cur = cfg["activation"]
            cfg["activation"] = acts[(acts.index(cur) + 1) % len(acts)] if cur in acts else acts[0]
            self._changed(self.cursor)

    def action_freeze(self) -> None:
        """Freeze the selected layer's weights (``trainable = False``), or unfreeze them."""
        if not self.stack_layers:
            return
        cfg = self.stack_layers[self.cursor]
        if cfg.get("trainable", True):
            cfg["trainable"] = False
            note = f"froze {layer_label(cfg)}"
        else:
            cfg.pop("trainable", None)
            note = f"unfroze {layer_label(cfg)}"
        self._changed(self.cursor, note)

    def action_edit(self) -> None:
        if self.stack_layers:
            self.post_message(LayerEditRequested(self.cursor))

    def on_click(self, event: events.Click) -> None:
        row = event.y - getattr(self, "_head_rows", 1)
        if 0 <= row < len(self.stack_layers):
            again = row == self.cursor and self.has_focus
            self.cursor = row
            if again or event.chain > 1:
                self.action_edit()
