"""SimpleRNN, LSTM, GRU and Bidirectional as PyTorch's ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``.

Keras' weights are converted on load: kernels are transposed; LSTM gates i, f, c, o are already PyTorch's
order; GRU gates z, r, h become PyTorch's r, z, n (``reset_after=True`` is PyTorch's GRU); Keras' single bias
of SimpleRNN and LSTM goes to ``bias_ih`` and PyTorch's second bias ``bias_hh`` stays 0 (frozen), while a GRU's
two bias rows are PyTorch's two biases.
"""
from __future__ import annotations

from ..layers import GRU, LSTM, Bidirectional, SimpleRNN
from .code import py
from .graph import Step
from .pytorch_writer import CL, ModuleWriter

TORCH_CLASS = {SimpleRNN: "nn.RNN", LSTM: "nn.LSTM", GRU: "nn.GRU"}


def _check(w: ModuleWriter, outer, layer) -> None:
    """Refuse what PyTorch's built-in recurrent layers cannot compute."""
    torch_cls = TORCH_CLASS[type(layer)]
    if isinstance(layer, SimpleRNN):
        if layer.activation not in ("tanh", "relu"):
            raise w.refuse(outer, f"activation={layer.activation!r} has no counterpart in nn.RNN (tanh or relu)",
                           "use tanh or relu, or export --to keras")
    elif layer.activation != "tanh" or layer.recurrent_activation != "sigmoid":
        raise w.refuse(outer, f"activation={layer.activation!r} with recurrent_activation="
                              f"{layer.recurrent_activation!r}: {torch_cls} computes tanh and sigmoid only",
                       "keep the default activations, or export --to keras")
    if isinstance(layer, GRU) and not layer.reset_after:
        raise w.refuse(outer, "reset_after=False: nn.GRU applies the reset gate after the recurrent product "
                              "(reset_after=True, Keras' default)", "use reset_after=True, or export --to keras")
    if layer.recurrent_dropout:
        raise w.refuse(outer, f"recurrent_dropout={layer.recurrent_dropout}: {torch_cls} cannot drop its "
                              f"recurrent state", "set recurrent_dropout = 0, or export --to keras")


def _ctor(layer, n_in: int, bidirectional: bool = False) -> str:
    parts = [str(n_in), str(layer.units), "batch_first=True"]
    if isinstance(layer, SimpleRNN) and layer.activation == "relu":
        parts.append('nonlinearity="relu"')
    if not layer.use_bias:
        parts.append("bias=False")
    if bidirectional:
        parts.append("bidirectional=True")
    return f"{TORCH_CLASS[type(layer)]}({', '.join(parts)})"


def _input_lines(w: ModuleWriter, layer, x: str, out: str) -> str:
    """Dropout on the inputs and go_backwards; returns the variable to feed the layer."""
    src = x
    if layer.dropout or layer.go_backwards:
        if out != x:
            w.line(f"{out} = {x}")
        src = out
    if layer.dropout:
        keep = py(round(1.0 - layer.dropout, 12))
        w.line("if self.training:", f"{type(layer).__name__}(dropout={layer.dropout}): one mask per sequence, "
                                    f"the same at every step, as Keras")
        w.line(f"    {src} = {src} * torch.bernoulli(torch.full_like({src}[:, :1], {keep})) / {keep}")
    if layer.go_backwards:
        w.line(f"{src} = {src}.flip(1)", "go_backwards: read the sequence from its end (outputs stay in that order)")
    return src


def _load(w: ModuleWriter, layer, a: str, key: str, suffix: str = "") -> None:
    gru = isinstance(layer, GRU)
    if gru:
        w.helpers.add("gru_gates")
    conv = "gru_gates({w}).T" if gru else "{w}.T"
    gates = {SimpleRNN: "", LSTM: ", gates i, f, c, o in both", GRU: ", gates z, r, h -> r, z, n"}[type(layer)]
    w.put(f"{a}.weight_ih_l0{suffix}", f"{key}/kernel", conv, f"kernel (in, gates * units) -> (gates * units, in)"
                                                              f"{gates}")
    w.put(f"{a}.weight_hh_l0{suffix}", f"{key}/recurrent_kernel", conv)
    if not layer.use_bias:
        return
    if gru:
        w.put(f"{a}.bias_ih_l0{suffix}", f"{key}/bias", "gru_gates({w}[0])", "bias row 0: the input bias")
        w.put(f"{a}.bias_hh_l0{suffix}", f"{key}/bias", "gru_gates({w}[1])", "bias row 1: the recurrent bias")
    else:
        w.put(f"{a}.bias_ih_l0{suffix}", f"{key}/bias")
        w.put(f"{a}.bias_hh_l0{suffix}", f"{key}/bias", "np.zeros_like({w})",
              "Keras has one bias: PyTorch's second one stays 0")


def _freeze_second_bias(w: ModuleWriter, layer, a: str, suffixes=("",)) -> None:
    if layer.use_bias and not isinstance(layer, GRU):
        for suffix in suffixes:
            w.init_line(f"self.{a}.bias_hh_l0{suffix}.requires_grad_(False)  # Keras has one bias: this one "
                          f"stays 0")


def _penalties(w: ModuleWriter, layer, a: str, suffixes=("",)) -> None:
    for suffix in suffixes:
        w.penalize(layer.kernel_regularizer, f"{a}.weight_ih_l0{suffix}")
        w.penalize(layer.recurrent_regularizer, f"{a}.weight_hh_l0{suffix}")
        if layer.use_bias:
            w.penalize(layer.bias_regularizer, f"{a}.bias_ih_l0{suffix}")
            if isinstance(layer, GRU):
                w.penalize(layer.bias_regularizer, f"{a}.bias_hh_l0{suffix}")


def recurrent(w: ModuleWriter, step: Step, key: str) -> None:
    layer, a, x, out = step.layer, step.attr, step.inputs[0], step.output
    _check(w, layer, layer)
    w.channels_last(x)
    w.module(a, _ctor(layer, step.in_shapes[0][-1]))
    _freeze_second_bias(w, layer, a)
    src = _input_lines(w, layer, x, out)
    w.line(f"{out}, _ = self.{a}({src})", "(batch, steps, units): the output of every step")
    if not layer.return_sequences:
        w.line(f"{out} = {out}[:, -1]", "return_sequences=False: Keras returns the last step only")
    w.declare(out, step.out_shape, CL)
    _load(w, layer, a, key)
    _penalties(w, layer, a)
    w.activity(layer, out)


def bidirectional(w: ModuleWriter, step: Step, key: str) -> None:
    outer, a, x, out = step.layer, step.attr, step.inputs[0], step.output
    layer = outer.forward_layer
    _check(w, outer, layer)
    if outer._backward_config is not None or layer.go_backwards:
        raise w.refuse(outer, "a backward layer of its own (or a forward layer with go_backwards) has no "
                              "counterpart in PyTorch's bidirectional=True", "export --to keras")
    if layer.activity_regularizer is not None:
        raise w.refuse(outer, "an activity_regularizer inside Bidirectional is not written for PyTorch",
                       "remove it, or export --to keras")
    w.channels_last(x)
    w.module(a, _ctor(layer, step.in_shapes[0][-1], bidirectional=True))
    _freeze_second_bias(w, layer, a, ("", "_reverse"))
    src = _input_lines(w, layer, x, out)
    units = layer.units
    w.line(f"{out}, _ = self.{a}({src})", f"(batch, steps, 2 * {units}): both directions, aligned in time")
    mode = outer.merge_mode
    if layer.return_sequences and mode == "concat":
        pass
    else:
        if layer.return_sequences:
            w.line(f"ahead, back = {out}[..., :{units}], {out}[..., {units}:]")
        else:
            w.line(f"ahead, back = {out}[:, -1, :{units}], {out}[:, 0, {units}:]",
                   "each direction's last step (the backward one ends at step 0)")
        expr = {"concat": "torch.cat([ahead, back], dim=-1)", "sum": "ahead + back", "mul": "ahead * back",
                "ave": "(ahead + back) / 2"}[mode]
        w.line(f"{out} = {expr}", f"merge_mode={mode!r}")
    w.declare(out, step.out_shape, CL)
    _load(w, layer, a, f"{key}/forward")
    _load(w, outer.backward_layer, a, f"{key}/backward", "_reverse")
    _penalties(w, layer, a, ("", "_reverse"))


RECURRENT_EMITTERS = {SimpleRNN: recurrent, LSTM: recurrent, GRU: recurrent, Bidirectional: bidirectional}
