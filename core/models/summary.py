"""``model.summary()``: one row per layer with its output shape and parameters, and for a graph that is not a
plain chain (several inputs, branches, merges, shared layers) Keras' "Connected to" column: the calls that
feed each layer, as ``layer[node][tensor]``."""
from __future__ import annotations

import shutil

from ..layers.base import format_shape


def _shape(shape) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return format_shape(shape)


def _connections(model, layer) -> str:
    refs = []
    for node in layer._inbound_nodes:
        if node not in model._nodes:
            continue
        for t in node.inputs:
            src = t.node.layer
            index = [n for n in src._inbound_nodes if n in model._nodes or not n.inputs].index(t.node)
            refs.append(f"{src.name}[{index}][{t.index}]")
    return ", ".join(refs) or "-"


def _wrap(text: str, width: int) -> list[str]:
    """``text`` cut into lines of at most ``width`` characters, at ", " where it can."""
    lines, line = [], ""
    for part in text.split(", "):
        piece = part if not line else f"{line}, {part}"
        if len(piece) <= width or not line:
            line = piece
        else:
            lines.append(line + ",")
            line = part
    lines.append(line)
    return [l if len(l) <= width else l[:width - 1] + "…" for l in lines]


def summary_text(model, line_length: int | None = None) -> str:
    graph = hasattr(model, "_nodes") and not model.is_chain()
    if graph:
        line_length = line_length or min(108, max(72, shutil.get_terminal_size((80, 24)).columns - 4))
        widths = [int(line_length * f) for f in (0.3, 0.24, 0.14)]
    else:           # Keras' 65 columns, the first widened so a long "name (Type)" never runs into the shape
        first = max([28] + [len(f"{l.name} ({type(l).__name__})") + 1 for l in model.layers])
        line_length = max(line_length or 65, first + 37)
        widths = [first, 22]
    widths.append(line_length - sum(widths))
    heads = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if graph else [])

    def row(cells):
        out = "".join(c.rjust(w - 1) + " " if i == 2 and graph else c.rjust(w) if i == 2 else c.ljust(w)
                      for i, (c, w) in enumerate(zip(cells, widths)))
        return out.rstrip()

    rows = [f'Model: "{model.name}"', "─" * line_length, row(heads), "═" * line_length]
    for i, layer in enumerate(model.layers):
        cells = [f"{layer.name} ({type(layer).__name__})", _shape(layer.output_shape), f"{layer.count_params():,}"]
        if graph:
            if i:
                rows.append("─" * line_length)
            label = [cells[0]] if len(cells[0]) < widths[0] else [layer.name, f"({type(layer).__name__})"]
            conn = _wrap(_connections(model, layer), widths[3] - 1)
            for k in range(max(len(label), len(conn))):
                rows.append(row([label[k] if k < len(label) else "", *(cells[1:] if k == 0 else ["", ""]),
                                 conn[k] if k < len(conn) else ""]))
        else:
            rows.append(row(cells))
    total = model.count_params()
    trainable = sum(o.params[n].size for o, n in model.trainable_weights())
    rows += ["═" * line_length, f" Total params: {total:,}", f" Trainable params: {trainable:,}",
             f" Non-trainable params: {total - trainable:,}", "─" * line_length]
    return "\n".join(rows)


def _io_shape(shape) -> str:
    return _shape(shape) if shape is not None else "?"


def diagram_text(model, show_shapes: bool = True, show_layer_names: bool = True, show_dtype: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False) -> str:
    """The model as boxes and arrows in text (what ``plot_model`` draws): one box per layer, top to bottom in
    the order data flows, each saying what feeds it when that is not simply the box above."""
    graph = hasattr(model, "_nodes")
    boxes = []
    previous = None
    for layer in model.layers:
        kind = type(layer).__name__
        lines = [f"{layer.name} ({kind})" if show_layer_names else kind]
        act = getattr(layer, "activation", None)
        if show_layer_activations and isinstance(act, str):
            lines.append(f"activation: {act}")
        if show_shapes:
            lines.append(f"{_io_shape(layer.input_shape)} → {_io_shape(layer.output_shape)}")
        if show_dtype and layer.dtype is not None:
            lines.append(f"dtype: {layer.dtype}")
        if show_trainable:
            lines.append(f"trainable: {'yes' if layer.trainable else 'no'}")
        feeds = []
        if graph:
            for node in layer._inbound_nodes:
                if node in model._nodes:
                    feeds += [t.node.layer.name for t in node.inputs]
            if feeds and feeds != [previous]:
                lines.append("from " + ", ".join(feeds))
        boxes.append(lines)
        previous = layer.name
    width = max(len(line) for box in boxes for line in box) + 4
    out = [f'Model: "{model.name}"']
    for i, box in enumerate(boxes):
        out.append("┌" + "─" * (width - 2) + "┐")
        out += ["│ " + line.ljust(width - 4) + " │" for line in box]
        out.append("└" + "─" * (width - 2) + "┘")
        if i < len(boxes) - 1:
            out.append(" " * (width // 2) + "▼")
    return "\n".join(out)
