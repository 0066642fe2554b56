"""Keras' image augmentation layers (RandomFlip, RandomRotation, RandomTranslation, RandomZoom, RandomContrast)
as PyTorch code: the identity in eval mode, one random transform per image in training, as nnplay does.
Rotation, translation and zoom resample through ``F.grid_sample`` with Keras' pixel matrices."""
from __future__ import annotations

from .code import py
from .graph import Step
from .pytorch_writer import CL, ModuleWriter

#: Keras' fill modes as grid_sample's padding ("constant" adds fill_value where nothing was read).
PADDING = {"constant": "zeros", "nearest": "border", "reflect": "reflection"}

AFFINE_HELPER = '''def keras_affine(x, mats, mode, padding, fill_value=0.0):
    """Resample NHWC images as Keras' affine_transform does: row n of mats, (a0, a1, a2, b0, b1, b2), maps an
    output pixel (column j, row i) to the input point it reads, (a0 j + a1 i + a2, b0 j + b1 i + b2);
    grid_sample's "reflection" and "border" are Keras' "reflect" and "nearest" fills."""
    n, h, w, c = x.shape
    rows = torch.tensor([0.0, 0.0, 1.0]).expand(n, 1, 3)
    m = torch.cat([mats.reshape(n, 2, 3), rows], dim=1)
    to_pixels = torch.tensor([[w / 2, 0.0, (w - 1) / 2], [0.0, h / 2, (h - 1) / 2], [0.0, 0.0, 1.0]])
    theta = (torch.linalg.inv(to_pixels) @ m @ to_pixels)[:, :2]        # in grid_sample's [-1, 1] coordinates
    grid = F.affine_grid(theta, [n, c, h, w], align_corners=False)
    out = F.grid_sample(x.permute(0, 3, 1, 2), grid, mode=mode, padding_mode=padding, align_corners=False)
    if fill_value:
        inside = F.grid_sample(torch.ones_like(x[..., :1]).permute(0, 3, 1, 2), grid, mode=mode,
                               padding_mode="zeros", align_corners=False)
        out = out + fill_value * (1 - inside)
    return out.permute(0, 2, 3, 1)'''


def _bounds(value, lo_default_zero: bool = False) -> tuple[float, float]:
    """A factor as (lower, upper): a number f is (-|f|, |f|) (or (0, f)), a pair is sorted."""
    if isinstance(value, (tuple, list)):
        a, b = sorted(float(v) for v in value)
        return a, b
    f = abs(float(value))
    return (0.0, f) if lo_default_zero else (-f, f)


def _uniform(lo: float, hi: float, what: str = "n") -> str:
    return f"torch.empty({what}).uniform_({py(lo)}, {py(hi)})"


def augment(w: ModuleWriter, step: Step, key: str) -> None:
    layer, x, out = step.layer, step.inputs[0], step.output
    kind = type(layer).__name__
    w.channels_last(x, f"{kind} works on (batch, height, width, channels)")
    h, wd = step.in_shapes[0][:2]
    if out != x:
        w.line(f"{out} = {x}")
    w.line("if self.training:", f"{kind}: one random transform per image in training, none in eval mode")
    body: list[str] = []
    if kind == "RandomFlip":
        dims = {"horizontal": "2", "vertical": "1", "horizontal_and_vertical": "1, 2"}[layer.mode]
        body += [f"flip = (torch.rand(len({out})) <= 0.5)[:, None, None, None]  # each image with probability 1/2",
                 f"{out} = torch.where(flip, {out}.flip({dims}), {out})"]
    elif kind == "RandomContrast":
        lo, hi = _bounds(layer.factor, lo_default_zero=True)
        low, high = (float(v) for v in layer.value_range)
        body += [f"f = {_uniform(1.0 - lo, 1.0 + hi, f'len({out}), 1, 1, 1')}",
                 f"mean = {out}.mean(dim=(1, 2), keepdim=True)",
                 f"{out} = ((({out} - mean) * f) + mean).clamp({py(low)}, {py(high)})"]
    else:
        if layer.fill_mode not in PADDING:
            raise w.refuse(layer, f"fill_mode={layer.fill_mode!r} has no counterpart in PyTorch's grid_sample",
                           "use 'reflect', 'nearest' or 'constant', or export --to keras")
        w.helpers.add("keras_affine")
        body.append(f"n = len({out})")
        if kind == "RandomRotation":
            lo, hi = _bounds(layer.factor)
            cx, cy = 0.5 * (wd - 1), 0.5 * (h - 1)
            body += [f"angle = torch.deg2rad({_uniform(lo * 360.0, hi * 360.0)})  # counter-clockwise",
                     "c, s = torch.cos(angle), torch.sin(angle)",
                     f"mats = torch.stack([c, -s, {py(cx)} * (1 - c) + {py(cy)} * s, s, c, "
                     f"{py(cy)} * (1 - c) - {py(cx)} * s], dim=1)"]
        elif kind == "RandomTranslation":
            (h0, h1), (w0, w1) = _bounds(layer.height_factor), _bounds(layer.width_factor)
            body += [f"dy, dx = {_uniform(h0 * h, h1 * h)}, {_uniform(w0 * wd, w1 * wd)}  # pixels down, right",
                     "one, zero = torch.ones(n), torch.zeros(n)",
                     "mats = torch.stack([one, zero, -dx, zero, one, -dy], dim=1)"]
        else:  # RandomZoom
            h0, h1 = _bounds(layer.height_factor)
            body.append(f"zy = {_uniform(1.0 + h0, 1.0 + h1)}  # above 1 zooms out")
            if layer.width_factor is None:
                body.append("zx = zy")
            else:
                w0, w1 = _bounds(layer.width_factor)
                body.append(f"zx = {_uniform(1.0 + w0, 1.0 + w1)}")
            body += ["zero = torch.zeros(n)",
                     f"mats = torch.stack([zx, zero, {py(0.5 * (wd - 1))} * (1 - zx), zero, zy, "
                     f"{py(0.5 * (h - 1))} * (1 - zy)], dim=1)"]
        fill = f", {py(layer.fill_value)}" if layer.fill_mode == "constant" and layer.fill_value else ""
        body.append(f'{out} = keras_affine({out}, mats, "{layer.interpolation}", "{PADDING[layer.fill_mode]}"'
                    f"{fill})")
    for line in body:
        w.line("    " + line)
    w.declare(out, step.out_shape, CL)


AUGMENT_EMITTERS = {name: augment for name in ("RandomFlip", "RandomContrast", "RandomRotation", "RandomTranslation",
                                               "RandomZoom")}
