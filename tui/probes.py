"""What the views show, computed from a model and a dataset (forward passes only; no Textual).

The training worker calls :func:`compute` between batches, in its own thread, a few times a second; the
result is an immutable :class:`Visuals` the widgets draw. Nothing here touches a widget.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnplay.core.metrics import confusion_matrix

from . import sample_probes

HEALTH_BATCH = 256     #: samples used for the dead/saturated-unit check
CONFUSION_MAX = 2000   #: test samples used for the confusion matrix
GATE_NAMES = {4: ("input gate i", "forget gate f", "candidate c~", "output gate o"),
              3: ("update gate z", "reset gate r", "candidate h~")}


@dataclass(frozen=True)
class Panel:
    """One small 2-D picture with a caption (a neuron's response, a feature map, a filter, a state)."""

    title: str
    data: np.ndarray            #: (rows, cols) float


@dataclass(frozen=True)
class Inside:
    """The inside view for one chosen layer and sample."""

    layer: str
    index: int
    n_layers: int
    kind: str                   #: "conv" | "recurrent" | "dense" | "none"
    panels: tuple[Panel, ...] = ()
    filters: tuple[Panel, ...] = ()
    note: str = ""
    source: Panel | None = None     #: the sample itself (images), for context


@dataclass(frozen=True)
class Visuals:
    run_id: int
    boundary: np.ndarray | None = None          #: (H, W): p(class 1), class index, or regression value
    confidence: np.ndarray | None = None        #: (H, W) max probability (multiclass)
    value_range: tuple[float, float] = (0.0, 1.0)
    neurons: tuple[tuple[str, tuple[Panel, ...]], ...] = ()   #: per column (inputs, each hidden layer)
    norms: tuple[tuple[str, float, float], ...] = ()          #: (layer, |weights|, |gradients|)
    health: tuple[tuple[str, str], ...] = ()                  #: (level ok|warn|bad, text)
    confusion: np.ndarray | None = None
    samples: tuple[tuple[np.ndarray, int, int, float], ...] = ()   #: (image, true, predicted, confidence)
    augmented: tuple = ()       #: [data.augment]: one training image as it is, then as training sees it
    inside: Inside | None = None
    series: tuple = ()          #: sequences: (first input feature over time, true, predicted) per test sample
    text: tuple | None = None   #: char models: (seed text, generated continuation)
    recon: tuple = ()           #: image-to-image models: (input, output) per test sample
    latent: sample_probes.Latent | None = None     #: autoencoders: the bottleneck codes in the plane
    gan: sample_probes.GanSamples | None = None    #: GANs: generated samples from a fixed noise batch
    d_norms: tuple = ()         #: GANs: the discriminator's (layer, |weights|, |gradients|)
    extras: dict = field(default_factory=dict)


# ------------------------------------------------------------------ the grid over the plane
def plane_grid(domain: tuple[float, float], cols: int, rows: int) -> np.ndarray:
    """Raw points (rows*cols, 2) at pixel centres; row 0 is the top (largest x2)."""
    lo, hi = domain
    xs = lo + (np.arange(cols) + 0.5) / cols * (hi - lo)
    ys = hi - (np.arange(rows) + 0.5) / rows * (hi - lo)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def _regression_range(ds) -> tuple[float, float]:
    lo, hi = ds.meta.get("target_range", (float(ds.y_train.min()), float(ds.y_train.max())))
    m = max(abs(lo), abs(hi), 1e-6)
    return (-m, m)


def boundary(model, ds, cols: int, rows: int):
    """The network's output over the data plane: (values, confidence, value range)."""
    pts = plane_grid(ds.meta["domain"], cols, rows)
    out = model.predict(ds.featurize(pts), batch_size=4096)
    if ds.task == "multiclass":
        return (out.argmax(axis=1).reshape(rows, cols).astype(np.float32),
                out.max(axis=1).reshape(rows, cols), (0.0, float(max(ds.n_classes or 2, 2) - 1)))
    if ds.task == "regression":
        return out[:, 0].reshape(rows, cols), None, _regression_range(ds)
    return out[:, 0].reshape(rows, cols), None, (0.0, 1.0)


def neurons(model, ds, size: int = 12) -> tuple:
    """TensorFlow Playground's thumbnails: each input feature and each hidden unit over the plane."""
    pts = plane_grid(ds.meta["domain"], size, size)
    x = ds.featurize(pts)
    names = ds.meta.get("feature_names") or [f"x{i + 1}" for i in range(x.shape[1])]
    cols = [("inputs", tuple(Panel(n, x[:, i].reshape(size, size)) for i, n in enumerate(names)))]
    acts = model.activations(x)
    for layer, a in zip(model.layers[:-1], acts[:-1]):
        out = a["output"]
        if out.ndim != 2 or not getattr(layer, "params", None):
            continue
        cols.append((layer.name, tuple(Panel(f"{j + 1}", out[:, j].reshape(size, size))
                                       for j in range(out.shape[1]))))
    return tuple(cols)


# ------------------------------------------------------------------ model statistics
def _activation_name(layer) -> str | None:
    act = getattr(layer, "activation", None)
    return act if isinstance(act, str) else getattr(act, "name", None)


def norms(model) -> tuple:
    rows = []
    for layer in model.layers:
        params = getattr(layer, "params", {}) or {}
        if not params:
            continue
        w = float(np.sqrt(sum(float(np.sum(np.square(p, dtype=np.float64))) for p in params.values())))
        g = float(np.sqrt(sum(float(np.sum(np.square(gr, dtype=np.float64)))
                              for gr in (layer.grads or {}).values())))
        rows.append((layer.name, w, g))
    return tuple(rows)


def health(model, x, norm_rows, trained: bool) -> tuple:
    """Flags for dead ReLUs, saturated tanh/sigmoid units and exploding or vanishing gradients."""
    flags: list[tuple[str, str]] = []
    acts = model.activations(x[:HEALTH_BATCH]) if len(x) else []
    for i, (layer, a) in enumerate(zip(model.layers, acts)):
        act = _activation_name(layer)
        out = a["output"]
        if i == len(model.layers) - 1 or out.ndim < 2 or act is None:
            continue
        units = out.reshape(-1, out.shape[-1])
        if act in ("relu",):
            dead = int((units.max(axis=0) <= 0).sum())
            if dead:
                level = "bad" if dead == units.shape[1] else "warn"
                flags.append((level, f"{layer.name}: {dead}/{units.shape[1]} ReLUs dead (never fire)"))
        elif act in ("tanh", "sigmoid"):
            edge = np.abs(units) > 0.97 if act == "tanh" else (units < 0.03) | (units > 0.97)
            sat = int((edge.mean(axis=0) > 0.9).sum())
            if sat:
                flags.append(("warn", f"{layer.name}: {sat}/{units.shape[1]} {act} units saturated"))
    grads = [g for _, _, g in norm_rows if np.isfinite(g)]
    if trained and grads:
        top, low = max(grads), min(grads)
        if top > 1e3:
            flags.append(("bad", f"exploding gradients (|g| up to {top:.3g}): lower the learning rate or clip"))
        elif top > 0 and low / top < 1e-4:
            flags.append(("warn", f"vanishing gradients: the smallest layer gradient is {low / top:.1e} of the "
                                  f"largest; try relu or fewer layers"))
    if not flags:
        flags.append(("ok", "healthy: no dead or saturated units" + (", gradients in range" if trained else "")))
    return tuple(flags)


def confusion(model, ds) -> np.ndarray | None:
    if ds.task not in ("binary", "multiclass") or not ds.n_test:
        return None
    x, y = ds.x_test[:CONFUSION_MAX], ds.y_test[:CONFUSION_MAX]
    p = model.predict(x, batch_size=512)
    k = 2 if ds.task == "binary" else int(ds.n_classes or p.shape[-1])
    if p.ndim > 2 or y.ndim > 1:   # per-step targets: count every step
        p, y = p.reshape(-1, p.shape[-1]), y.reshape(-1)
    return confusion_matrix(y, p, n_classes=k)


def samples(model, ds, k: int = 8) -> tuple:
    if len(ds.input_shape) != 3 or not ds.n_test or ds.task != "multiclass":
        return ()
    x, y = ds.x_test[:k], ds.y_test[:k]
    p = model.predict(x)
    return tuple((x[i, :, :, 0], int(y[i]), int(p[i].argmax()), float(p[i].max())) for i in range(len(x)))


def reconstructions(model, ds, k: int = 8) -> tuple:
    """Autoencoders and other image-to-image models: a few test inputs and what the network made of them."""
    if len(ds.input_shape) != 3 or not ds.n_test or tuple(model.layers[-1].output_shape) != ds.input_shape:
        return ()
    x = ds.x_test[:k]
    p = model.predict(x)
    return tuple((x[i, :, :, 0], p[i, :, :, 0]) for i in range(len(x)))


def series(model, ds, k: int = 6) -> tuple:
    """A few test sequences with the network's answer (regression value, or class and confidence)."""
    if len(ds.input_shape) != 2 or not ds.n_test or ds.x_test.dtype.kind != "f":
        return ()
    x, y = ds.x_test[:k], ds.y_test[:k]
    p = model.predict(x)
    out = []
    for i in range(len(x)):
        if ds.task == "regression":
            out.append((x[i, :, 0], float(np.ravel(y[i])[0]), f"{float(np.ravel(p[i])[0]):.3f}"))
        elif p.ndim == 2:
            cls = int(p[i].argmax()) if p.shape[1] > 1 else int(p[i, 0] > 0.5)
            conf = float(p[i].max()) if p.shape[1] > 1 else float(max(p[i, 0], 1 - p[i, 0]))
            out.append((x[i, :, 0], int(np.ravel(y[i])[0]), f"{cls} ({conf:.0%})"))
    return tuple(out)


def generate(model, ds, n: int = 80, temperature: float = 0.7):
    """A char model writing ``n`` characters after a test sequence (sampled with a fixed seed, so a
    given set of weights always writes the same text)."""
    vocab = ds.meta.get("vocab")
    out_shape = model.layers[-1].output_shape
    if not vocab or len(ds.input_shape) != 1 or tuple(out_shape) != (len(vocab),):
        return None
    seq = np.array(ds.x_test[0] if ds.n_test else ds.x_train[0], dtype=np.int64)
    rng = np.random.default_rng(0)
    chars = []
    for _ in range(n):
        p = model.predict(seq[None].astype(np.float32))[0].astype(np.float64)
        logits = np.log(np.clip(p, 1e-9, 1.0)) / temperature
        q = np.exp(logits - logits.max())
        k = int(rng.choice(len(q), p=q / q.sum()))
        chars.append(vocab[k])
        seq = np.roll(seq, -1)
        seq[-1] = k
    seed = "".join(vocab[int(i)] for i in np.asarray(ds.x_test[0] if ds.n_test else ds.x_train[0]))
    return seed, "".join(chars)


# ------------------------------------------------------------------ inside one layer
def inside(model, ds, layer_index: int, sample: int, pool=None) -> Inside:
    """Feature maps and filters (conv), states and gates over time (recurrent) or unit outputs (dense).

    ``pool``: the inputs to pick the sample from (a GAN's generator takes noise vectors, not data).
    """
    n = len(model.layers)
    i = max(0, min(layer_index, n - 1))
    noise = pool is not None
    if pool is None:
        pool = ds.x_test if ds.n_test else ds.x_train
    s = max(0, min(sample, len(pool) - 1))
    acts = model.activations(pool[s:s + 1])
    layer, a = model.layers[i], acts[i]
    out = a["output"][0]
    extras = {k: v for k, v in a.items() if k not in ("name", "type", "output")}
    note = f"fixed noise vector {s}" if noise else f"sample {s} of the {'test' if ds.n_test else 'training'} set"
    if out.ndim == 3:   # (H, W, C)
        panels = tuple(Panel(f"{c + 1}", out[:, :, c]) for c in range(min(out.shape[2], 32)))
        kern = (layer.params or {}).get("kernel") if hasattr(layer, "params") else None
        filters = ()
        if kern is not None and kern.ndim == 4:
            filters = tuple(Panel(f"{c + 1}", kern[:, :, :, c].mean(axis=2)) for c in range(min(kern.shape[3], 32)))
        src = Panel("sample", pool[s, :, :, 0]) if pool.ndim == 4 else None
        return Inside(layer.name, i, n, "conv", panels, filters, note, src)
    if extras or out.ndim == 2:
        panels = []
        if out.ndim == 2:
            panels.append(Panel("output (units x time)", out.T))
        for key, value in extras.items():
            for title, arr in _flatten_extra(key, value):
                panels.append(Panel(title, arr))
        return Inside(layer.name, i, n, "recurrent", tuple(panels), (), note)
    if out.ndim == 1:
        return Inside(layer.name, i, n, "dense", (Panel("unit outputs", out[None, :]),), (), note)
    return Inside(layer.name, i, n, "none", (), (), note)


def _flatten_extra(key: str, value):
    """Layer extras as (title, units x time) pictures for one sample; gate dicts give one picture per gate."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten_extra(f"{key} {k}", v)
        return
    arr = np.asarray(value)
    if arr.ndim >= 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 3:   # (T, gates, units)
        names = GATE_NAMES.get(arr.shape[1], tuple(str(g) for g in range(arr.shape[1])))
        for g in range(arr.shape[1]):
            yield f"{key} {names[g]}", arr[:, g, :].T
    elif arr.ndim == 2:
        yield key, arr.T
    elif arr.ndim == 1:
        yield key, arr[None, :]


# ------------------------------------------------------------------ everything a refresh needs
def compute(model, ds, run_id: int, view: str, size: tuple[int, int], layer: int, sample: int,
            trained: bool, with_health: bool = True, gan=None, augment=None) -> Visuals:
    """The visuals for the current view (other views keep their last picture until shown).

    ``gan``: the GAN trainer when ``model`` is a GAN's generator. ``augment``: the experiment's
    :class:`~nnplay.core.layers.augment.Augmenter` ([data.augment]), or None.
    """
    if gan is not None:
        return compute_gan(model, ds, run_id, view, layer, sample, trained, gan, with_health)
    if len(getattr(model, "input_shapes", ())) > 1 or getattr(model, "output_count", 1) > 1:
        return Visuals(run_id=run_id, norms=norms(model), health=(
            ("warn", "this model has several inputs or outputs: 2 Curves and 4 Model show it; the pictures of "
                     "1 Output, 3 Inside and 5 Errors need one input and one output"),))
    kw: dict = {}
    is_plane = "domain" in ds.meta and ds.input_shape and len(ds.meta.get("domain", ())) == 2 \
        and ds.featurizer is not None and ds.meta.get("points_train") is not None
    if is_plane and view == "output":
        cols, rows = max(4, size[0]), max(4, size[1])
        kw["boundary"], kw["confidence"], kw["value_range"] = boundary(model, ds, cols, rows)
    if is_plane and view in ("output", "inside"):
        kw["neurons"] = neurons(model, ds)
    if view in ("output", "errors") and not is_plane:
        kw["samples"] = samples(model, ds)
        kw["series"] = series(model, ds)
        kw["recon"] = reconstructions(model, ds)
    if view == "output" and augment is not None and len(ds.x_train):
        kw["augmented"] = augmented(augment, ds, sample)
    if view == "output" and not is_plane and ds.task == "generative":
        kw["latent"] = sample_probes.latent(model, ds)
    if view == "output" and not is_plane:
        kw["text"] = generate(model, ds)
    if view == "errors" or (view == "output" and not is_plane):
        kw["confusion"] = confusion(model, ds)
    if view == "inside" and not is_plane:
        kw["inside"] = inside(model, ds, layer, sample)
    norm_rows = norms(model)
    kw["norms"] = norm_rows
    if with_health:
        kw["health"] = health(model, ds.x_train, norm_rows, trained)
    return Visuals(run_id=run_id, **kw)


def augmented(augment, ds, sample: int, n: int = 7) -> tuple:
    """Training image ``sample`` as it is, then ``n`` random augmentations of it (drawn by copies of the
    augmentation layers from a fixed seed, so training's own random stream is untouched)."""
    image = ds.x_train[max(0, sample) % len(ds.x_train)]
    if image.ndim != 3:
        return ()
    return tuple(pic.mean(axis=-1) for pic in (image, *augment.samples(image, n=n, seed=0)))


def compute_gan(generator, ds, run_id: int, view: str, layer: int, sample: int, trained: bool, gan,
                with_health: bool = True) -> Visuals:
    """A GAN's visuals: generated samples (output), the generator's layers for a noise vector (inside),
    both players' weight norms, and the generator's health on the fixed noise batch."""
    kw: dict = {}
    if view == "output":
        kw["gan"] = sample_probes.gan_samples(gan, ds)
    if view == "inside":
        kw["inside"] = inside(generator, ds, layer, sample, pool=gan.eval_z)
    norm_rows = norms(generator)
    kw["norms"], kw["d_norms"] = norm_rows, norms(gan.discriminator)
    if with_health:
        kw["health"] = health(generator, gan.eval_z, norm_rows, trained)
    return Visuals(run_id=run_id, **kw)
