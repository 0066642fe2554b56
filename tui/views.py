"""The app's side of showing things: push the run state and the latest visuals into the visible widgets.

Only the visible view is redrawn, and the expensive ones at a bounded rate, so a fast run spends its time
training rather than drawing.
"""
from __future__ import annotations

import dataclasses
import time

from textual.widgets import Sparkline, Static

from .probes import Visuals
from .widgets.errors_view import ErrorsView
from .widgets.inside import InsideView
from .widgets.model_view import ModelView
from .widgets.output import BoundaryView, NeuronGrid
from .widgets.plots import CurvePlot
from .widgets.status import HealthLine, StatusLine, fmt_rate, metric_key

PLANE_NOTE = "d discretize · t test points · right: each input feature and hidden unit over the same plane"
CURVES_EVERY = 0.25      #: seconds between plot rebuilds while training; the two plots take turns, so each
                         #: redraws twice a second and no single frame builds both (keeps key latency low)
SPARK_EVERY = 0.25       #: seconds between loss-sparkline updates while training


def _set_display(widget, show: bool) -> None:
    if widget.display != show:      # assigning display, even unchanged, costs a layout pass
        widget.display = show


class ViewsMixin:
    batch_losses: tuple = ()
    _last_curves = 0.0
    _last_spark = 0.0
    _curve_turn = 0

    # ------------------------------------------------------------------ helpers
    def is_plane(self) -> bool:
        exp = self.experiment
        ds = exp.dataset if exp is not None else None
        return ds is not None and ds.meta.get("points_train") is not None and "domain" in ds.meta \
            and exp.kind != "gan"

    def grid_size(self) -> tuple[int, int]:
        if not self.is_mounted_main():
            return (48, 48)
        return self.screen_main().query_one(BoundaryView).grid_size()

    def title_text(self) -> str:
        ds = self.experiment.dataset if self.experiment is not None else None
        name = self.setup.get("data", {}).get("name", "?")
        if ds is None or self.check.error:
            return name
        sizes = [str(c.output_shape[-1]) if c.output_shape else "?" for c in self.check.layers]
        shape = "x".join(str(s) for s in self.experiment.input_shape)
        if self.experiment.kind == "gan":      # the stack is the generator: noise in, a sample out
            shape = "z" + shape
        return f"{name} · {shape}→{'→'.join(sizes)}" if len(sizes) <= 6 else f"{name} · {len(sizes)} layers"

    @staticmethod
    def merge_visuals(old: Visuals | None, new: Visuals) -> Visuals:
        """Keep what the new visuals did not recompute (other views' pictures) from the old ones."""
        if old is None or old.run_id != new.run_id:
            return new
        keep = {}
        for f in dataclasses.fields(Visuals):
            value = getattr(new, f.name)
            if value is None or (isinstance(value, tuple) and not value and f.name != "value_range"):
                keep[f.name] = getattr(old, f.name)
        return dataclasses.replace(new, **keep)

    # ------------------------------------------------------------------ pushing state down
    def show_status(self) -> None:
        if not self.is_mounted_main():
            return
        kernels = self.kernel_state.text()
        if self.options.test_mode:
            kernels = "kernels ready" if self.kernel_state.status != "compiling" else kernels
        gan = self.experiment is not None and self.experiment.kind == "gan"
        self.screen_main().query_one(StatusLine).set_data(self.run_state, self.title_text(), kernels,
                                                          show_speed=not self.options.test_mode, gan=gan)

    def show_health(self) -> None:
        if not self.is_mounted_main():
            return
        rs, line = self.run_state, self.screen_main().query_one(HealthLine)
        if rs.status in ("error", "diverged") and rs.message:
            tip = "  — lower the learning rate (-) and press r for fresh weights" if rs.status == "diverged" else ""
            line.set_data("bad", rs.message + tip)
        elif rs.status == "building" and self.kernel_state.status == "compiling" and self.warm_kernels:
            line.set_data("info", "compiling the kernels for this network (the first start only; later starts "
                                  "load them from the cache)…")
        elif rs.status == "building":
            line.set_data("info", "building the network…" + (f" ({rs.message})" if rs.message else ""))
        elif rs.status == "waiting":
            line.set_data("info", rs.message)
        elif self.visuals is not None and self.visuals.health:
            order = {"bad": 0, "warn": 1, "ok": 2}
            worst = sorted(self.visuals.health, key=lambda f: order.get(f[0], 3))
            more = f"  (+{len(worst) - 1} more in 4 Model)" if len(worst) > 1 else ""
            line.set_data(worst[0][0], worst[0][1] + more)
        elif rs.status == "ready":
            line.set_data("info", "ready: press space to train, n for one step, ? for help")

    def show_progress(self, status_changed: bool = False) -> None:
        if not self.is_mounted_main() or self.experiment is None:
            return
        screen, now = self.screen_main(), time.monotonic()
        running = self.run_state.status == "running"
        if self.view == "output" and self.batch_losses:
            if status_changed or not running or now - self._last_spark >= SPARK_EVERY:
                self._last_spark = now
                screen.query_one(Sparkline).data = list(self.batch_losses)
        elif self.view == "curves":
            if status_changed or not running:
                self.show_curves()
            elif now - self._last_curves >= CURVES_EVERY:
                self._last_curves = now
                self._curve_turn = 1 - self._curve_turn
                self.show_curves(only=self._curve_turn)

    def show_curves(self, only: int | None = None) -> None:
        """Replot both curves (``only``: just the loss (0) or the metric (1) plot)."""
        if not self.is_mounted_main() or self.experiment is None:
            return
        screen, hist, color = self.screen_main(), self.run_state.history, self.options.color
        if self.experiment.kind == "gan":
            self._show_gan_curves(screen, hist, color, only)
            return
        if only in (None, 0):
            screen.query_one("#loss-plot", CurvePlot).replot(
                {"train": hist.get("loss", ()), "val": hist.get("val_loss", ())}, "loss", color)
        if only in (None, 1):
            key = metric_key(hist) or ("accuracy" if self.experiment.dataset.task != "regression" else "mae")
            screen.query_one("#metric-plot", CurvePlot).replot(
                {"train": hist.get(key, ()), "val": hist.get("val_" + key, ())}, key, color)

    def _show_gan_curves(self, screen, hist: dict, color: bool, only: int | None) -> None:
        """Both players' losses; what D says about real and generated samples, and the coverage share."""
        if only in (None, 0):
            screen.query_one("#loss-plot", CurvePlot).replot(
                {"d_loss": hist.get("d_loss", ()), "g_loss": hist.get("g_loss", ())},
                "GAN losses: d_loss (discriminator), g_loss (generator)", color)
        if only in (None, 1):
            series = {"D(real)": hist.get("d_real", ()), "D(fake)": hist.get("d_fake", ())}
            ds, title = self.experiment.dataset, "D(real) and D(fake): the discriminator's mean P(real)"
            for key, total, what in (("modes_covered", ds.meta.get("n_modes"), "modes"),
                                     ("classes_covered", ds.n_classes, "classes")):
                values = hist.get(key)
                if values and total:
                    series[f"{what} covered (share)"] = [v / total for v in values]
                    title += f"; {what} covered {int(values[-1])}/{total}"
            screen.query_one("#metric-plot", CurvePlot).replot(series, title, color)

    def show_visuals(self) -> None:
        if not self.is_mounted_main() or self.experiment is None:
            return
        screen, vis, ds, opts = self.screen_main(), self.visuals, self.experiment.dataset, self.options
        plane = self.is_plane()
        if self.view == "output":
            screen.query_one(BoundaryView).set_data(vis, ds, opts)
            grid = screen.query_one("#neurons", NeuronGrid)
            # drawn one frame later, so no single frame holds the event loop for both big pictures
            self.set_timer(0.03, lambda: grid.set_data(vis.neurons if vis else (), opts.color))
            _set_display(screen.query_one("#neuron-box"), plane)
            _set_display(screen.query_one("#output-row"), plane)
            note = screen.query_one("#output-note", Static)
            note.update(self._output_note() if not plane else PLANE_NOTE)
            _set_display(note, not plane or not screen.has_class("narrow"))
        elif self.view == "inside":
            screen.query_one(InsideView).set_data(vis, opts, plane)
            grid = screen.query_one("#inside-neurons", NeuronGrid)
            grid.display = plane
            grid.set_data(vis.neurons if vis else (), opts.color)
        elif self.view == "model":
            rs = self.run_state
            speed = "hidden in test mode" if opts.test_mode else (
                f"{fmt_rate(rs.samples_per_s)} now, {fmt_rate(rs.average_samples_per_s)} on average over "
                f"{rs.samples_total:,} samples" if rs.average_samples_per_s else "not measured yet")
            screen.query_one(ModelView).set_data(self.experiment.model, vis, self.kernel_state.text()
                                                 if not opts.test_mode else "ready", speed,
                                                 gan=getattr(self.experiment, "gan", None))
        elif self.view == "errors":
            screen.query_one(ErrorsView).set_data(vis, ds, opts.color, gan=self.experiment.kind == "gan")

    def _output_note(self):
        from rich.console import Group
        from rich.text import Text
        from .widgets.errors_view import confusion_table, recon_strip, sample_strip, series_table
        from .widgets.samples import autoencoder_view, gan_view
        vis, ds, exp = self.visuals, self.experiment.dataset, self.experiment
        width = max(40, self.screen_main().query_one("#output-note").size.width or 76)
        height = self.screen_main().query_one("#output").size.height or 20
        height -= 0 if self.screen_main().has_class("narrow") else 1     # the loss sparkline
        if exp.kind == "gan":
            head = Text(f"{ds.name}: a GAN, input {tuple(exp.input_shape)} noise → generator → samples of shape "
                        f"{ds.input_shape}", style="bold", no_wrap=True, overflow="ellipsis")
            if vis is None or vis.gan is None:
                return Group(head, Text("drawing the generator's samples…", style="dim"))
            return Group(head, gan_view(vis.gan, self.run_state.history, ds.n_classes, width, height - 1,
                                        self.options.color))
        parts = [Text(f"{ds.name}: {ds.task}, input {ds.input_shape}", style="bold")]
        if vis is not None and (vis.latent is not None or (vis.recon and ds.task == "generative")):
            parts.append(autoencoder_view(vis.recon, vis.latent, ds.class_names, width, height - 1,
                                          self.options.color))
            return Group(*parts)
        if vis is not None and vis.augmented:
            parts.append(Text("What the network sees in training: a training image (first), and the same image "
                              "as [data.augment] hands it to the network, different each time", style="bold"))
            parts.append(sample_strip([(img, None, None, None) for img in vis.augmented], width, self.options.color,
                                      captions=False))
        if vis is not None and vis.samples:
            parts.append(sample_strip(vis.samples, width, self.options.color))
        if vis is not None and vis.recon:
            parts.append(recon_strip(vis.recon, width, self.options.color))
        if vis is not None and vis.series:
            parts.append(series_table(vis.series, ds.task))
        if vis is not None and vis.text:
            seed, generated = vis.text
            parts.append(Text.assemble(("The network writes, after a test sequence:\n", "bold"),
                                       (seed.replace("\n", "⏎"), "dim"), (generated.replace("\n", "⏎"), "bold")))
        if vis is not None and vis.confusion is not None:
            parts.append(confusion_table(vis.confusion, ds.class_names))
        parts.append(Text("2 Curves: loss and accuracy · 3 Inside: feature maps / states · 5 Errors", style="dim"))
        return Group(*parts)

    def show_all(self) -> None:
        self.show_status()
        self.show_progress(status_changed=True)
        if self.view == "curves":
            self.show_curves()
        self.show_visuals()
        self.call_after_refresh(self.request_visuals)   # after layout: the boundary's size is known

    def boundary_visible(self) -> bool:
        # a resize can arrive while the main screen is being rebuilt or closed, with no boundary map in it
        views = self.screen_main().query(BoundaryView) if self.is_mounted_main() else ()
        return bool(views) and views.first().size.width > 0

    def on_grid_resized(self, event) -> None:
        if self.view == "output" and self.boundary_visible():
            self.request_visuals()

    # ------------------------------------------------------------------ view keys
    def action_view(self, view: str) -> None:
        if not self.is_mounted_main():
            return
        if view != "setup":
            self.view = view
        self.screen_main().show_view(view)
        if view != "setup":
            self.show_all()

    def _option(self, **changes) -> None:
        self.options = dataclasses.replace(self.options, **changes)
        self.show_visuals()
        self.request_visuals()

    def action_discretize(self) -> None:
        self._option(discretize=not self.options.discretize)

    def action_show_test(self) -> None:
        self._option(show_test=not self.options.show_test)

    def action_scale(self) -> None:
        self._option(global_scale=not self.options.global_scale)

    def action_layer(self, delta: int) -> None:
        n = len(self.experiment.model.layers) if self.experiment is not None else 1
        self._option(layer=(self.options.layer + delta) % max(1, n))

    def action_sample(self, delta: int) -> None:
        ds = self.experiment.dataset if self.experiment is not None else None
        n = (ds.n_test or ds.n_train) if ds is not None else 1
        self._option(sample=(self.options.sample + delta) % max(1, n))
