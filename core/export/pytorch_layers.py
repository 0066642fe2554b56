"""Each nnplay layer as PyTorch code: the module made in ``__init__``, the lines of ``forward`` and the weight
conversion from Keras' layout, written so a reader can follow each step (recurrent layers are in
:mod:`.pytorch_recurrent`)."""
from __future__ import annotations

from ..layers import (Activation, Add, Average, AveragePooling1D, AveragePooling2D, BatchNormalization, Concatenate,
                      Conv1D, Conv2D, Conv2DTranspose, Dense, Dropout, Embedding, Flatten, GaussianDropout,
                      GaussianNoise, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
                      GlobalMaxPooling2D, Maximum, MaxPooling1D, MaxPooling2D, Minimum, Multiply, Reshape, Sampling,
                      Subtract, TimeDistributed, UpSampling1D, UpSampling2D)
from .code import comment_lines, py
from .geometry import same_pads, transpose_crops
from .graph import Step
from .pytorch_writer import ACTIVATION_NOTES, CF, CL, ModuleWriter, activation


def _args(*parts) -> str:
    return ", ".join(p for p in parts if p)


def _one(pair):
    """(3, 3) -> 3 (PyTorch takes an int for a square size)."""
    pair = tuple(pair)
    return pair[0] if len(set(pair)) == 1 else pair


def _activate(w: ModuleWriter, layer, expr: str, var: str) -> tuple[str, str | None]:
    name = layer.act.name
    return activation(name, expr, w.channel_dim(var)), ACTIVATION_NOTES.get(name)


# ------------------------------------------------------------------------------------------ core
def _weights(w: ModuleWriter, layer, a: str, key: str, out: str, transform: str, note: str) -> None:
    """A kernel-and-bias layer's weights (the kernel through ``transform``), their regularizers and its
    activity regularizer: the tail Dense, Conv and Conv2DTranspose share."""
    w.put(f"{a}.weight", f"{key}/kernel", transform, note)
    if layer.use_bias:
        w.put(f"{a}.bias", f"{key}/bias")
    w.penalize(layer.kernel_regularizer, f"{a}.weight")
    w.penalize(layer.bias_regularizer, f"{a}.bias")
    w.activity(layer, out)


def dense(w: ModuleWriter, step: Step, key: str) -> None:
    layer, a, x, out = step.layer, step.attr, step.inputs[0], step.output
    w.channels_last(x, "Dense acts on the last axis")
    n_in = step.in_shapes[0][-1]
    w.module(a, f"nn.Linear({_args(str(n_in), str(layer.units), '' if layer.use_bias else 'bias=False')})")
    expr, note = _activate(w, layer, f"self.{a}({x})", x)
    w.line(f"{out} = {expr}", note)
    w.declare(out, step.out_shape, CL)
    _weights(w, layer, a, key, out, "{w}.T", "Dense kernel (in, out) -> Linear weight (out, in)")


def activation_layer(w: ModuleWriter, step: Step, key: str) -> None:
    x, out = step.inputs[0], step.output
    expr, note = _activate(w, step.layer, x, x)
    w.line(f"{out} = {expr}", note)
    w.declare(out, step.out_shape, w.layout(x))


def dropout(w: ModuleWriter, step: Step, key: str) -> None:
    layer, a, x, out = step.layer, step.attr, step.inputs[0], step.output
    w.module(a, f"nn.Dropout({py(layer.rate)})")
    w.line(f"{out} = self.{a}({x})", "active in model.train() only, as in Keras")
    w.declare(out, step.out_shape, w.layout(x))


def gaussian(w: ModuleWriter, step: Step, key: str) -> None:
    layer, x, out = step.layer, step.inputs[0], step.output
    if out != x:
        w.line(f"{out} = {x}")
    if isinstance(layer, GaussianNoise):
        noisy, what = f"{out} + {py(layer.stddev)} * torch.randn_like({out})", f"GaussianNoise({py(layer.stddev)})"
    else:
        std = (layer.rate / (1.0 - layer.rate)) ** 0.5
        noisy = f"{out} * (1 + {py(std)} * torch.randn_like({out}))"
        what = f"GaussianDropout({py(layer.rate)}): noise of std sqrt(rate / (1 - rate))"
    w.line("if self.training:", f"{what}, in training only")
    w.line(f"    {out} = {noisy}")
    w.declare(out, step.out_shape, w.layout(x))


def flatten(w: ModuleWriter, step: Step, key: str) -> None:
    x, out = step.inputs[0], step.output
    w.channels_last(x, "Flatten keeps Keras' (height, width, channels) order")
    w.line(f"{out} = torch.flatten({x}, 1)")
    w.declare(out, step.out_shape, CL)


def reshape(w: ModuleWriter, step: Step, key: str) -> None:
    x, out = step.inputs[0], step.output
    w.channels_last(x, "Reshape works on the channels-last tensor, as in Keras")
    target = tuple(step.layer.target_shape)
    lead = "len(" + x + ")" if -1 in target else "-1"
    w.line(f"{out} = {x}.reshape({', '.join([lead, *map(str, step.out_shape)])})")
    w.declare(out, step.out_shape, CL)


def embedding(w: ModuleWriter, step: Step, key: str) -> None:
    layer, a, x, out = step.layer, step.attr, step.inputs[0], step.output
    w.module(a, f"nn.Embedding({layer.input_dim}, {layer.output_dim})")
    w.line(f"{out} = self.{a}({x}.long())", "integer indices -> rows of the table")
    w.declare(out, step.out_shape, CL)
    w.put(f"{a}.weight", f"{key}/embeddings")
    w.penalize(layer.embeddings_regularizer, f"{a}.weight")
    w.activity(layer, out)


def sampling(w: ModuleWriter, step: Step, key: str) -> None:
    layer, a, x, out = step.layer, step.attr, step.inputs[0], step.output
    w.helpers.add("Sampling")
    w.collects_losses = True
    w.channels_last(x)
    w.module(a, f"Sampling(beta={py(layer.beta)})")
    w.line(f"{out} = self.{a}({x})", "the latent mean in model.eval()")
    w.line(f"self.losses.append(self.{a}.kl_loss)", "the KL term joins the loss, as in nnplay")
    w.declare(out, step.out_shape, CL)


def batch_norm(w: ModuleWriter, step: Step, key: str) -> None:
    layer, a, x, out = step.layer, step.attr, step.inputs[0], step.output
    rank = len(step.in_shapes[0])
    channels = step.in_shapes[0][-1]
    if rank >= 2:
        w.channels_first(x)
    cls = {1: "BatchNorm1d", 2: "BatchNorm1d", 3: "BatchNorm2d"}.get(rank, "BatchNorm3d")
    ctor = f"nn.{cls}({channels}, eps={py(layer.epsilon)}, momentum={py(round(1.0 - layer.momentum, 12))})"
    w.module(a, ctor, f"Keras' momentum {layer.momentum} is PyTorch's 1 - {layer.momentum}; PyTorch's eps "
                      f"default is 1e-5")
    for line in comment_lines("in training PyTorch moves running_var towards the unbiased batch variance, Keras "
                              "(and nnplay) towards the biased one"):
        w.init_line(line)
    for flag, param, value in (("scale", "weight", "1"), ("center", "bias", "0")):
        if not getattr(layer, flag):
            w.init_line(f"self.{a}.{param}.requires_grad_(False)  # {flag}=False: stays at {value}")
    w.line(f"{out} = self.{a}({x})", "batch statistics in model.train(), the moving ones in model.eval()")
    w.declare(out, step.out_shape, CF if rank >= 2 else CL)
    if layer.scale:
        w.put(f"{a}.weight", f"{key}/gamma")
    if layer.center:
        w.put(f"{a}.bias", f"{key}/beta")
    w.put(f"{a}.running_mean", f"{key}/moving_mean")
    w.put(f"{a}.running_var", f"{key}/moving_variance")
    w.penalize(layer.gamma_regularizer, f"{a}.weight")
    w.penalize(layer.beta_regularizer, f"{a}.bias")


# ------------------------------------------------------------------------------------------ convolution
def _pad_line(w: ModuleWriter, x: str, pads: list[tuple[int, int]], value: str | None = None,
              note: str = "'same' padding as Keras: the extra cell goes at the end (bottom / right)") -> None:
    flat = [p for pair in reversed(pads) for p in pair]           # F.pad lists the last axis first
    fill = f", value={value}" if value else ""
    w.line(f"{x} = F.pad({x}, {py(tuple(flat))}{fill})", note)


def conv(w: ModuleWriter, step: Step, key: str) -> None:
    layer, a, x, out = step.layer, step.attr, step.inputs[0], step.output
    one_d = isinstance(layer, Conv1D)
    w.channels_first(x)
    shape = step.in_shapes[0]
    sizes, ks, ss = shape[:-1], layer.kernel_size, layer.strides
    parts = [str(shape[-1]), str(layer.filters), f"kernel_size={py(_one(ks))}"]
    if any(s != 1 for s in ss):
        parts.append(f"stride={py(_one(ss))}")
    pads, explicit = None, False
    if layer.padding == "same":
        pads = [same_pads(n, k, s) for n, k, s in zip(sizes, ks, ss)]
        if all(s == 1 for s in ss) and any(sum(p) for p in pads):
            parts.append('padding="same"')
        elif any(p[0] != p[1] for p in pads):
            explicit = True
        elif any(sum(p) for p in pads):
            parts.append(f"padding={py(_one([p[0] for p in pads]))}")
    elif layer.padding == "causal":
        pads, explicit = [(ks[0] - 1, 0)], True
    if not layer.use_bias:
        parts.append("bias=False")
    w.module(a, f"nn.{'Conv1d' if one_d else 'Conv2d'}({', '.join(parts)})")
    if explicit and layer.padding == "causal":
        _pad_line(w, x, pads, note="'causal': pad kernel_size - 1 steps on the left only")
    elif explicit:
        _pad_line(w, x, pads)
    expr, note = _activate(w, layer, f"self.{a}({x})", x)
    w.line(f"{out} = {expr}", note)
    w.declare(out, step.out_shape, CF)
    if one_d:
        _weights(w, layer, a, key, out, "{w}.transpose(2, 1, 0)",
                 "Conv1D kernel (width, in, out) -> Conv1d weight (out, in, width)")
    else:
        _weights(w, layer, a, key, out, "{w}.transpose(3, 2, 0, 1)",
                 "Conv2D kernel (height, width, in, out) -> Conv2d weight (out, in, height, width)")


def conv_transpose(w: ModuleWriter, step: Step, key: str) -> None:
    layer, a, x, out = step.layer, step.attr, step.inputs[0], step.output
    w.channels_first(x)
    shape = step.in_shapes[0]
    crops = [transpose_crops(n, k, s, layer.padding) for n, k, s in zip(shape[:2], layer.kernel_size, layer.strides)]
    padding = [c[0] for c in crops]
    extend = [-c[1] if c[1] < 0 else 0 for c in crops]
    cut = [c[1] - c[0] if c[1] > c[0] else 0 for c in crops]
    parts = [str(shape[-1]), str(layer.filters), f"kernel_size={py(_one(layer.kernel_size))}"]
    if any(s != 1 for s in layer.strides):
        parts.append(f"stride={py(_one(layer.strides))}")
    if any(padding):
        parts.append(f"padding={py(_one(padding))}")
    if any(extend):
        parts.append(f"output_padding={py(_one(extend))}")
    if not layer.use_bias:
        parts.append("bias=False")
    w.module(a, f"nn.ConvTranspose2d({', '.join(parts)})",
             "Keras' length with kernel_size < strides: the extra cells hold only the bias" if any(extend) else None)
    if any(cut):
        h, wd = step.out_shape[:2]
        w.line(f"{out} = self.{a}({x})[:, :, :{h}, :{wd}]",
               "Keras' 'same': the extra cell is cropped at the bottom / right")
        expr, note = _activate(w, layer, out, x)
        if expr != out:
            w.line(f"{out} = {expr}", note)
    else:
        expr, note = _activate(w, layer, f"self.{a}({x})", x)
        w.line(f"{out} = {expr}", note)
    w.declare(out, step.out_shape, CF)
    _weights(w, layer, a, key, out, "{w}.transpose(3, 2, 0, 1)",
             "Conv2DTranspose kernel (height, width, out, in) -> ConvTranspose2d weight (in, out, height, width)")


# ------------------------------------------------------------------------------------------ pooling
def pool(w: ModuleWriter, step: Step, key: str) -> None:
    layer, a, x, out = step.layer, step.attr, step.inputs[0], step.output
    one_d = isinstance(layer, (MaxPooling1D, AveragePooling1D))
    is_max = isinstance(layer, (MaxPooling1D, MaxPooling2D))
    w.channels_first(x)
    shape = step.in_shapes[0]
    ks, ss = layer.pool_size, layer.strides
    pads = [same_pads(n, k, s) for n, k, s in zip(shape[:-1], ks, ss)] if layer.padding == "same" else \
        [(0, 0)] * len(ks)
    cls = ("MaxPool" if is_max else "AvgPool") + ("1d" if one_d else "2d")
    parts = [py(_one(ks))] + ([f"stride={py(_one(ss))}"] if tuple(ss) != tuple(ks) else [])
    symmetric = all(p[0] == p[1] for p in pads)
    if any(sum(p) for p in pads) and symmetric:
        parts.append(f"padding={py(_one([p[0] for p in pads]))}")
        if not is_max:
            parts.append("count_include_pad=False")
    w.module(a, f"nn.{cls}({', '.join(parts)})",
             "'same' as Keras: padded cells are left out of the mean" if not is_max and any(map(sum, pads))
             and symmetric else None)
    if symmetric or not any(sum(p) for p in pads):
        w.line(f"{out} = self.{a}({x})")
    elif is_max:
        _pad_line(w, x, pads, 'float("-inf")', "'same' as Keras: the extra cell is at the end and never the max")
        w.line(f"{out} = self.{a}({x})")
    else:
        ones = f"torch.ones_like({x}[:1, :1])"
        w.line(f"counts = self.{a}(F.pad({ones}, {py(tuple(p for pr in reversed(pads) for p in pr))}))",
               "'same' as Keras: the share of real cells in each window")
        _pad_line(w, x, pads)
        w.line(f"{out} = self.{a}({x}) / counts", "so padded cells are left out of the mean")
    w.declare(out, step.out_shape, CF)


def global_pool(w: ModuleWriter, step: Step, key: str) -> None:
    layer, x, out = step.layer, step.inputs[0], step.output
    rank = len(step.in_shapes[0])
    dims = tuple(range(1, rank)) if w.layout(x) == CL else tuple(range(2, rank + 1))
    op = "mean" if isinstance(layer, (GlobalAveragePooling1D, GlobalAveragePooling2D)) else "amax"
    dim = py(dims[0]) if len(dims) == 1 else py(dims)
    keep = ", keepdim=True" if layer.keepdims else ""
    w.line(f"{out} = {x}.{op}(dim={dim}{keep})", "over every position, per channel")
    w.declare(out, step.out_shape, w.layout(x) if layer.keepdims else CL)


def upsampling(w: ModuleWriter, step: Step, key: str) -> None:
    layer, a, x, out = step.layer, step.attr, step.inputs[0], step.output
    w.channels_first(x)
    size = layer.size if isinstance(layer, UpSampling1D) else _one(layer.size)
    w.module(a, f'nn.Upsample(scale_factor={py(size)}, mode="nearest")', "repeats each cell, as Keras")
    w.line(f"{out} = self.{a}({x})")
    w.declare(out, step.out_shape, CF)


# ------------------------------------------------------------------------------------------ merging
_MERGE = {Add: " + ", Subtract: " - ", Multiply: " * "}


def merge(w: ModuleWriter, step: Step, key: str) -> None:
    layer, ins, out = step.layer, step.inputs, step.output
    for var in ins:
        w.channels_last(var)
    if type(layer) in _MERGE:
        expr = _MERGE[type(layer)].join(ins)
    elif isinstance(layer, Average):
        expr = f"({' + '.join(ins)}) / {len(ins)}"
    elif isinstance(layer, (Maximum, Minimum)):
        fn = "torch.maximum" if isinstance(layer, Maximum) else "torch.minimum"
        expr = ins[0]
        for var in ins[1:]:
            expr = f"{fn}({expr}, {var})"
    else:
        expr = f"torch.cat([{', '.join(ins)}], dim={layer.axis})"
    w.line(f"{out} = {expr}")
    w.declare(out, step.out_shape, CL)


def time_distributed(w: ModuleWriter, step: Step, key: str, emit) -> None:
    """The inner layer on every step: steps folded into the batch, then unfolded (an inner Dense needs no
    folding: ``nn.Linear`` already acts on the last axis)."""
    layer, x, out = step.layer, step.inputs[0], step.output
    inner = layer.layer
    w.channels_last(x)
    in_inner = tuple(step.in_shapes[0][1:])
    out_inner = tuple(step.out_shape[1:])
    if isinstance(inner, Dense):
        dense(w, Step(inner, [x], out, [step.in_shapes[0]], step.out_shape, step.attr), key)
        w.forward[-1] += "" if "#" in w.forward[-1] else "  # TimeDistributed(Dense): every step"
        return
    w.line(f"steps = {x}.shape[1]", "TimeDistributed: fold the steps into the batch, run the layer, unfold")
    w.line(f"{out} = {x}.reshape(-1, {', '.join(map(str, in_inner))})")
    w.declare(out, in_inner, CL)
    emit(w, Step(inner, [out], out, [in_inner], out_inner, step.attr), key)
    w.channels_last(out)
    w.line(f"{out} = {out}.reshape(-1, steps, {', '.join(map(str, out_inner))})")
    w.declare(out, step.out_shape, CL)


EMITTERS = {Dense: dense, Activation: activation_layer, Dropout: dropout, GaussianNoise: gaussian,
            GaussianDropout: gaussian, Flatten: flatten, Reshape: reshape, Embedding: embedding, Sampling: sampling,
            BatchNormalization: batch_norm, Conv2D: conv, Conv1D: conv, Conv2DTranspose: conv_transpose,
            MaxPooling2D: pool, AveragePooling2D: pool, MaxPooling1D: pool, AveragePooling1D: pool,
            GlobalAveragePooling2D: global_pool, GlobalMaxPooling2D: global_pool, GlobalAveragePooling1D: global_pool,
            GlobalMaxPooling1D: global_pool, UpSampling2D: upsampling, UpSampling1D: upsampling, Add: merge,
            Subtract: merge, Multiply: merge, Average: merge, Maximum: merge, Minimum: merge, Concatenate: merge}
#: Layers that need the ``emit`` dispatcher for an inner layer.
WRAPPERS = {TimeDistributed: time_distributed}
