"""Helpers for driving the playground: small fast setups, and waiting without busy workers.

Pilot waits for the whole process to go idle after each key, so the tests keep the trainer paused (or let
short runs finish) and poll with fixed short sleeps.
"""
from __future__ import annotations

import asyncio

from nnplay.tui.state import new_setup


def small_setup(**training) -> dict:
    """Spiral with few samples and epochs: trains to the end in well under a second."""
    s = new_setup()
    s["data"].update(n_samples=120, noise=0.0)
    s["training"].update({"epochs": 5, **training})
    return s


def regression_setup() -> dict:
    """Linear layers on a regression plane with plain SGD: diverges once the learning rate is large."""
    s = new_setup()
    s["data"] = {"name": "reg-plane", "n_samples": 200, "noise": 0.0, "train_ratio": 0.5,
                 "features": ["x1", "x2", "x1^2", "x2^2"], "seed": 0}
    s["model"]["layers"] = [{"type": "dense", "units": 8, "activation": "linear"},
                            {"type": "dense", "units": 1, "activation": "linear"}]
    s["training"].update(loss="mse", metrics=["mae"], epochs=50, batch_size=10,
                         optimizer={"name": "sgd", "learning_rate": 0.01})
    return s


async def wait_for(pilot, predicate, timeout: float = 30.0, step: float = 0.05) -> None:
    """Poll ``predicate`` with plain sleeps (no idle waiting); fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("timed out waiting for the app")
        await asyncio.sleep(step)
    await pilot.pause(0.05)


def settled(app) -> bool:
    """Parked, no build or picture worker still running, and the boundary drawn for the current size."""
    if not parked(app):
        return False
    if any(w.group in ("build", "visuals") and not w.is_finished for w in app.workers):
        return False
    b = app.visuals.boundary
    return b is None or app.view != "output" or not app.boundary_visible() or b.shape[::-1] == app.grid_size()


def parked(app) -> bool:
    """Built, worker parked (paused or done), and the first pictures arrived."""
    return app.loop is not None and app.loop.parked and app.visuals is not None and \
        app.run_state.status not in ("building",)
