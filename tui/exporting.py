"""``e`` in the playground: the current model, trained as far as it got, as a Keras or PyTorch script with
its weights (``nnplay export`` from inside the playground). Training pauses for the export, which runs in a
worker thread while the trainer is parked, so it never reads weights in the middle of a step."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from nnplay.core.errors import NnplayError

from . import session

FRAMEWORK_CHOICES = [("pytorch", "PyTorch: model_pytorch.py, an nn.Module with Keras' channels-last kept explicit"),
                     ("keras", "Keras 3: model_keras.py, the layers as Keras code")]


def export_current(app) -> None:
    """Ask for the framework and the folder, then export the model as it is now."""
    from .screens.prompts import ChoiceScreen
    if app.experiment is None or app.loop is None:
        app.notify("the model is still being built: try again in a moment", title="export", timeout=4)
        return
    if app.check.error:
        app.notify(app.check.error, title="fix the network first", severity="warning")
        return
    app.push_screen(ChoiceScreen("Export the model to", FRAMEWORK_CHOICES, current="pytorch"),
                    lambda to: to and _ask_folder(app, to))


def _ask_folder(app, to: str) -> None:
    from nnplay.core.export import default_out_dir

    from .screens.prompts import SaveScreen
    try:
        preset = session.to_preset(app.setup)
    except NnplayError as exc:
        app.notify(str(exc), title="cannot export this setup", severity="error", timeout=8)
        return
    default = f"{default_out_dir(preset)}-{to}"
    script = "model_keras.py" if to == "keras" else "model_pytorch.py"
    hint = (f"A folder for {script}, weights.npz (the weights as they are now), check.npz and data.npz; "
            f"then: python {script} --check")
    app.push_screen(SaveScreen(default, f"Export to {'Keras' if to == 'keras' else 'PyTorch'}", hint, "export"),
                    lambda folder: folder and _start(app, preset, to, folder))


def _start(app, preset, to: str, folder: str) -> None:
    try:
        out = app.served.path(folder) if app.served is not None else folder
    except NnplayError as exc:
        app.notify(str(exc), title="not exported", severity="error", timeout=8)
        return
    loop = app.loop
    if loop is None:
        return
    if not loop.trainer.paused:
        loop.trainer.pause()               # the export reads the weights: between steps, not during one
    exp = app.experiment
    disc = exp.gan.discriminator if exp.kind == "gan" else None
    app.notify(f"exporting to {folder}…", title="export", timeout=3)
    app.run_worker(lambda: _export(app, loop, preset, exp, disc, to, out, folder), thread=True, group="export",
                   exclusive=True, exit_on_error=False)


def _export(app, loop, preset, exp, disc, to: str, out: str, shown: str) -> None:
    """Worker thread: wait for the trainer to park, export under its lock, report to the app."""
    from nnplay.core.export import export_model
    end = time.monotonic() + 10
    while not loop.parked and time.monotonic() < end:
        time.sleep(0.02)
    try:
        with loop.lock:
            result = export_model(preset, exp.model, to, out, dataset=exp.dataset, discriminator=disc,
                                  notes=[f"Exported from the playground after {app.run_state.epoch} epochs."])
    except (NnplayError, OSError) as exc:
        app.call_from_thread(app.notify, str(exc), title="not exported", severity="error", timeout=10)
        return
    app.call_from_thread(_done, app, result, shown)


def _done(app, result, shown: str) -> None:
    from .screens.outbound import ExportedScreen
    script = result.script.name
    lines = [f"{shown}/: " + ", ".join(p.name for p in result.files),
             "",
             f"check it (needs {'Keras 3' if result.framework == 'keras' else 'PyTorch'}):",
             f"    cd {shown} && python {script} --check",
             f"train it as the preset does:   python {script}" + ("" if result.data_written else
                                                                   "  (data.npz was too big: the script says how "
                                                                   "to make it)")]
    if app.served is not None:            # the files are on the server: hand the browser a zip of them
        archive = shutil.make_archive(str(result.out_dir), "zip", root_dir=result.out_dir)
        app.deliver_binary(archive, save_filename=Path(archive).name)
        lines += ["", f"{Path(archive).name} is downloading to your browser."]
    app.push_screen(ExportedScreen(f"Exported to {'Keras' if result.framework == 'keras' else 'PyTorch'}", lines))
