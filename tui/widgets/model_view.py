"""The model summary with per-layer weight and gradient norms, the health checks and the kernel state."""
from __future__ import annotations

import math

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

LEVEL_STYLE = {"ok": "green", "warn": "yellow", "bad": "bold red"}
LEVEL_MARK = {"ok": "✓", "warn": "!", "bad": "✗"}


def _bar(value: float, top: float, width: int = 10) -> str:
    if not (math.isfinite(value) and top > 0):
        return ""
    n = max(0, min(width, round(width * math.log10(1 + 9 * value / top))))
    return "█" * n + "·" * (width - n)


class ModelView(Widget):
    """Layers, output shapes and parameter counts, |w| and |grad| per layer, and what the health check found."""

    DEFAULT_CSS = """
    ModelView { width: 1fr; height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.model = None
        self.visuals = None
        self.kernels = ""
        self.speed = ""
        self.gan = None

    def set_data(self, model, visuals, kernels: str, speed: str, gan=None) -> None:
        self.model, self.visuals, self.kernels, self.speed, self.gan = model, visuals, kernels, speed, gan
        self.refresh(layout=True)

    def render(self):
        model, vis, gan = self.model, self.visuals, self.gan
        if model is None:
            return Text("no model yet", style="dim")
        if gan is None:
            opt, loss = model.optimizer, model.loss
            head = f"Model: {len(model.layers)} layers, {model.count_params():,} parameters"
            frozen = model.count_params() - trainable_params(model)
            if frozen:
                head += f" ({trainable_params(model):,} trainable, {frozen:,} frozen ❄)"
            parts: list = [Text(f"{head} (optimizer {getattr(opt, 'name', '—')}, loss {type(loss).__name__})",
                                style="bold"), _layer_table(model, vis.norms if vis else ()), Text("")]
        else:   # the generator is trained through the combined model; the discriminator on its own
            g_opt, d_opt = gan.combined.optimizer, gan.discriminator.optimizer
            parts = [Text(f"Generator (the layer stack you edit): {len(model.layers)} layers, "
                          f"{model.count_params():,} parameters (optimizer {g_opt.name}, "
                          f"lr {g_opt.current_learning_rate():.3g})", style="bold"),
                     _layer_table(model, vis.norms if vis else ()), Text(""),
                     Text(f"Discriminator (set in the preset's [gan] table): {len(gan.discriminator.layers)} layers, "
                          f"{gan.discriminator.count_params():,} parameters (optimizer {d_opt.name}, "
                          f"lr {d_opt.current_learning_rate():.3g})", style="bold"),
                     _layer_table(gan.discriminator, vis.d_norms if vis else ()), Text("")]
        parts.append(Text("Health (checked a few times a second on a training batch):", style="bold"))
        for level, msg in (vis.health if vis else ()):
            parts.append(Text(f" {LEVEL_MARK.get(level, '?')} {msg}", style=LEVEL_STYLE.get(level, "")))
        parts.append(Text(""))
        parts.append(Text.assemble(("Speed: ", "bold"), self.speed or "—", ("   Kernels: ", "bold"), self.kernels))
        parts.append(Text("|w| and |grad| are L2 norms over each layer's weights; the bars are log-scaled to the "
                          "largest. A gradient bar that shrinks toward the first layer means vanishing "
                          "gradients; a huge one means exploding.", style="dim"))
        return Group(*parts)


def trainable_params(model) -> int:
    """Weights the next training step updates (Keras' "Trainable params")."""
    return int(sum(owner.params[name].size for owner, name in model.trainable_weights()))


def _layer_table(model, norm_rows) -> Table:
    """Layers, output shapes, parameters, and the |w| and |grad| norms with log-scaled bars."""
    norms = {name: (w, g) for name, w, g in norm_rows}
    top_w = max((w for w, _ in norms.values()), default=0.0)
    top_g = max((g for _, g in norms.values()), default=0.0)
    table = Table(box=None, pad_edge=False, expand=False, header_style="bold", show_edge=False)
    for col, justify in (("layer", "left"), ("type", "left"), ("output", "left"), ("params", "right"),
                         ("|w|", "right"), ("", "left"), ("|grad|", "right"), ("", "left")):
        table.add_column(col, justify=justify, no_wrap=True, overflow="ellipsis")
    for layer in model.layers:
        shape = str(tuple(int(s) for s in layer.output_shape))
        w, g = norms.get(layer.name, (None, None))
        kind = type(layer).__name__ + ("" if layer.trainable or not layer.count_params() else " ❄")
        table.add_row(layer.name, kind, shape, f"{layer.count_params():,}",
                      "" if w is None else f"{w:.3g}", "" if w is None else _bar(w, top_w, 6),
                      "" if g is None else f"{g:.2g}", "" if g is None else _bar(g, top_g, 6))
    return table
