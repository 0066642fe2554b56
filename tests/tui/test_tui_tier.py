"""A cold first launch: the playground trains on the NumPy tier at once, says so, and switches to the
kernels when they are ready (the compilation itself is stubbed: Pilot waits for an idle process)."""
from __future__ import annotations

from tui_helpers import small_setup, wait_for

from nnplay.tui import warmup
from nnplay.tui.app import NnplayApp
from nnplay.tui.messages import KernelsWarm, KernelStats
from nnplay.tui.widgets.status import StatusLine


class _Pending:
    """A compilation that is ready when the test says so."""

    done = False

    def ready(self) -> bool:
        return self.done


def _status_text(app) -> str:
    rendered = app.screen.query_one(StatusLine).render()
    return getattr(rendered, "plain", str(rendered))


async def test_a_cold_start_trains_on_numpy_at_once_says_so_and_switches_when_the_kernels_are_ready(monkeypatch):
    monkeypatch.setenv("NNPLAY_NUMPY_TIER", "1")
    pending, posts = _Pending(), []
    monkeypatch.setattr(warmup, "start", lambda exp, post: posts.append(post) or pending)
    app = NnplayApp(small_setup(epochs=100_000), test_mode=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.loop is not None and app.run_state.status == "ready")
        assert app.kernel_state.text() == "compiling kernels… (NumPy trains meanwhile)"
        assert "NumPy trains meanwhile" in _status_text(app)
        await pilot.press("space")
        trainer = app.loop.trainer
        await wait_for(pilot, lambda: trainer.tier_steps["numpy"] >= 5)
        assert trainer.tier_steps["kernels"] == 0
        pending.done = True
        base = app.kernel_state.base                     # the process's counts when the playground started
        posts[0](KernelsWarm(KernelStats(0.0, 2.5, base[0] + 2, base[1])))
        await wait_for(pilot, lambda: trainer.tier_steps["kernels"] >= 5)
        assert app.kernel_state.text() == "kernels compiled (2 in 2.5s)"
        assert "NumPy" not in _status_text(app)
        await pilot.press("space")                       # pause before leaving


async def test_an_older_networks_kernels_arriving_do_not_mark_the_current_ones_ready(monkeypatch):
    """Edit the network while its kernels compile: the first build's report must not end the second's."""
    monkeypatch.setenv("NNPLAY_NUMPY_TIER", "1")
    handles, posts = [], []

    def start(exp, post):
        handles.append(_Pending())
        posts.append(post)
        return handles[-1]
    monkeypatch.setattr(warmup, "start", start)
    app = NnplayApp(small_setup(epochs=100_000), test_mode=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.loop is not None and app.run_state.status == "ready")
        app.rebuild(note="network changed")
        await wait_for(pilot, lambda: len(handles) == 2 and app.loop is not None and app.loop.compiling is handles[1])
        handles[0].done = True
        base = app.kernel_state.base
        posts[0](KernelsWarm(KernelStats(0.0, 2.0, base[0] + 2, base[1])))
        await pilot.pause(0.2)
        assert app.kernel_state.status == "compiling" and "NumPy" in _status_text(app)
        handles[1].done = True
        posts[1](KernelsWarm(KernelStats(0.5, 3.0, base[0] + 4, base[1])))
        await wait_for(pilot, lambda: app.kernel_state.status == "ready")
