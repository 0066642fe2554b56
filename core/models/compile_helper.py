"""The helper process of a cold start (see :mod:`nnplay.core.training.compile_ahead`): it rebuilds a model,
or a GAN's two players, from its description (JSON on stdin) and runs it on zeros or on the parent's two
samples, so that every kernel the parent will call is compiled into the shared on-disk cache. Given the
parent's samples it prints one line, ``ready``, when a warm-up step's kernels are in the cache, then goes on
at low priority with the kernels a run takes later (batches cut into sample ranges, serial and threaded).
It writes nothing else; an exit status other than 0 only means the parent compiles more itself.

Run as ``python -m nnplay.core.models.compile_helper``.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys

import numpy as np

from ..training.compile_ahead import READY


def describe_gan(gan) -> dict:
    """What :func:`warm_gan` needs to warm a GAN's players, in this process or (as JSON) a helper's: both
    players' configs and optimizers, and two real samples."""
    x = np.asarray(gan.x[:2])
    return {"generator": gan.generator.get_config(), "discriminator": gan.discriminator.get_config(),
            "d_optimizer": gan.discriminator.optimizer.get_config(),
            "g_optimizer": gan.combined.optimizer.get_config(), "x": x.tolist(), "x_dtype": x.dtype.str}


def warm_gan(spec: dict):
    """One step of each player of a copy of the GAN (:func:`describe_gan`) on two samples: every kernel its
    training takes, and the GAN itself untouched. Returns the copy (a GANTrainer)."""
    from .. import optimizers
    from .gan import GANTrainer
    from .sequential import Sequential
    g, d = Sequential.from_config(spec["generator"]), Sequential.from_config(spec["discriminator"])
    x = np.asarray(spec["x"], np.dtype(spec["x_dtype"]))
    copy = GANTrainer(g, d, x, epochs=1, batch_size=2, n_eval=2, seed=0,
                      d_optimizer=optimizers.get(spec["d_optimizer"]),
                      g_optimizer=optimizers.get(spec["g_optimizer"]))
    copy.d_step(copy.x)
    copy.g_step(2)
    return copy


def _run(spec: dict) -> None:
    """The helper's work: for a GAN (``gan``), :func:`warm_gan`; with ``full``, one train step and one
    evaluation on the given samples; else the optimizer's update, then every layer's forward and backward,
    last first."""
    from ..layers.core import Dense
    if "gan" in spec:
        from .gan import SAMPLE_BATCH
        gan = warm_gan(spec["gan"])
        _say_ready()
        # later: the samples drawn after every epoch (batches of 512) and both players' steps, cut
        _chunked_kernels([*cut_later(gan.generator, Dense, SAMPLE_BATCH), *cut_later(gan.discriminator, Dense)],
                         lambda threads: (gan.generate(2), gan.d_step(gan.x), gan.g_step(2)))
        return
    from .. import optimizers
    from .functional import Functional
    from .sequential import Sequential
    cls = {"Sequential": Sequential, "Functional": Functional}[spec["class"]]
    model = cls.from_config(spec["config"])
    if spec["input_shape"] is not None:
        model.build(tuple(spec["input_shape"]))
    model.compile(optimizer=optimizers.get(spec["optimizer"]), loss=spec["loss"])
    model._ensure_bound()
    full = spec.get("full")
    if full:                                # everything one warm-up step takes, on the parent's two samples
        x = np.asarray(full["x"], np.dtype(full["x_dtype"]))
        y = np.asarray(full["y"], np.dtype(full["y_dtype"]))
        xb, yb = model.check_data(x, y)
        model.train_step(xb, yb)
        model.evaluate_prepared(xb, yb, batch_size=2)
        _say_ready()                        # the parent loads these now; what follows it may find later
        # later: validation batches of 256 are cut even when the training batch is not, and the steps
        # serial and on threads (a threaded evaluation runs the forward kernels the threaded step compiles);
        # each layer's own forward for the playground's views (a model trained by one fused kernel
        # compiles them nowhere else)
        _chunked_kernels(cut_later(model, Dense),
                         lambda threads: (threads or model.evaluate_prepared(xb, yb, batch_size=2),
                                          threads or model.activations(xb), model.train_step(xb, yb)))
        return
    model.optimizer.apply(model.P, np.zeros_like(model.G))
    layers = list(model.layers)
    if all(type(layer) is Dense for layer in layers if layer.params):
        return                              # an all-Dense model trains in one fused kernel, compiled by the parent
    for layer in reversed(layers):
        shape = getattr(layer, "input_shape", None)
        if not shape or not all(isinstance(d, int) for d in shape):
            continue
        try:
            x = np.zeros((2, *shape), model.model_dtype)
            out = layer.forward(x, True)
            layer.backward(np.zeros_like(out))
        except Exception:                   # best effort: the parent compiles whatever this skips
            continue


def _say_ready() -> None:
    try:
        print(READY, flush=True)
    except OSError:                          # the parent has ended: nobody waits, the cache still gains
        sys.stdout = open(os.devnull, "w")   # noqa: SIM115 - until this process ends


#: The batch a run's validation and evaluation use at least (the trainer's ``max(batch_size, 256)``).
EVALUATION_BATCH = 256


def cut_later(model, dense, batch: int = EVALUATION_BATCH) -> list:
    """The layers whose batches a run may cut into sample ranges later: every conv, pooling and recurrent
    layer, and each Dense whose products are big enough to be split at an evaluation ``batch`` (its split
    products cost ~10 s to compile, the largest stall a second MLP run had)."""
    return [layer for layer in model.layers if getattr(layer, "pacer", None) is not None
            and (type(layer) is not dense or layer._chunks(batch) > 1)]


def _chunked_kernels(layers, run) -> None:
    """The kernels a run takes later, once a batch is cut into sample ranges: each of ``layers``
    (:func:`cut_later`) cut in two, then ``run(threads)`` serial and pinned to threads (the threaded twins a
    run's pacer tries after ~100 steps). Each costs seconds, a stall in the middle of a run when its thread
    compiles it."""
    if not layers:
        return
    with contextlib.suppress(OSError, AttributeError):   # behind the run it prepares, never in its way
        os.nice(10)
    for threads in (False, True):
        for layer in layers:
            layer.n_chunks, layer.pacer.force = 2, threads
        run(threads)


if __name__ == "__main__":
    try:
        _run(json.loads(sys.stdin.read()))
    except Exception:  # noqa: BLE001 - a helper that fails only means the parent compiles more itself
        sys.exit(1)
