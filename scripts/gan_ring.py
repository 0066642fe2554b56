"""Train the ring8 GAN and watch mode coverage: how many of the 8 modes the generator covers per epoch.

    python scripts/gan_ring.py                      # the budget of the slow test
    python scripts/gan_ring.py --epochs 150 --k 2 --dataset swissroll2d

Prints one line every few epochs (losses, D(real), D(fake), modes covered, high-quality fraction), then
the generated samples as a density plot with the true mode centres marked ``o`` where nothing landed.
"""
from __future__ import annotations

import argparse
import time

from nnplay.core import Sequential
from nnplay.core.datasets import load
from nnplay.core.experiments.reports import render_points
from nnplay.core.layers import Dense
from nnplay.core.models.gan import GANTrainer, default_optimizer, metrics_for
from nnplay.core.training import EpochEnded, Finished


def build(units: int, latent: int, seed: int):
    g = Sequential([Dense(units, activation="relu", input_shape=(latent,)), Dense(units, activation="relu"),
                    Dense(2)], seed=seed)
    d = Sequential([Dense(units, activation="relu", input_shape=(2,)), Dense(units, activation="relu"),
                    Dense(1, activation="sigmoid")], seed=seed + 1)
    return g, d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ring8", choices=["ring8", "swissroll2d"])
    ap.add_argument("--epochs", type=int, default=80)
    ap.add_argument("--units", type=int, default=64)
    ap.add_argument("--latent", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--every", type=int, default=10, help="print every N epochs")
    args = ap.parse_args()

    ds = load(args.dataset, seed=args.seed)
    g, d = build(args.units, args.latent, args.seed)
    trainer = GANTrainer(g, d, ds.x_train, epochs=args.epochs, batch_size=args.batch_size, k=args.k,
                         label_smoothing=args.label_smoothing, d_optimizer=default_optimizer(args.lr),
                         g_optimizer=default_optimizer(args.lr), sample_metrics=metrics_for(ds), seed=args.seed)
    t0 = time.perf_counter()
    for ev in trainer.run():
        if isinstance(ev, EpochEnded) and ((ev.epoch + 1) % args.every == 0 or ev.epoch + 1 == ev.epochs):
            logs = "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in ev.logs.items())
            print(f"epoch {ev.epoch + 1:4d}  {logs}  ({time.perf_counter() - t0:.1f} s)", flush=True)
        elif isinstance(ev, Finished):
            print(f"{ev.reason} after {ev.epochs_run} epochs x {trainer.steps} steps "
                  f"in {time.perf_counter() - t0:.1f} s {ev.message}")
    print(render_points(trainer.generate(), marks=ds.meta.get("modes")))


if __name__ == "__main__":
    main()
