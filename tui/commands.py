"""Command palette (ctrl+p): open a shipped preset or a file, save the setup as a preset, and the run actions."""
from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from textual.command import DiscoveryHit, Hit, Hits, Provider

from nnplay.core.errors import NnplayError

from . import session
from .screens.prompts import ChoiceScreen, SaveScreen
from .variants import forget_a


def _commands(app) -> list[tuple[str, str, object]]:
    cmds = [
        ("Save setup as preset…", "write the current setup to a .toml file (ctrl+s)", app.action_save_preset),
        ("Open preset…", "pick a shipped preset or type a .toml path (ctrl+o)", app.action_open_preset),
        ("Export the model to Keras or PyTorch…", "a script with the weights as they are now, and a --check (e)",
         app.action_export),
        ("Freeze / unfreeze the base", "a [model.base]: train only the new layers, or all of them (F)",
         app.action_toggle_base),
        ("Share setup as one line…", "a nnplay1: line to paste in a chat, copied to the clipboard (l)",
         app.action_share),
        ("Open a variant…", "one of the preset's variants, e.g. SGD / momentum / Adam (v)", app.action_pick_variant),
        ("Compare variants side by side", "train every variant on the same data and seed (V)",
         app.action_compare_variants),
        ("A/B: keep this setup as A, or compare A with it", "change one thing between the two presses (b)",
         app.action_ab),
        ("A/B: forget A", "the next b keeps a new A", partial(forget_a, app)),
        ("Reset weights", "fresh weights, same setup (r)", app.action_reset),
        ("Regenerate data", "new data seed, then reset (g)", app.action_regenerate),
        ("Help", "what every view shows and every key (?)", app.action_help),
    ]
    for name, description in session.preset_choices():
        cmds.append((f"Open preset: {name}", description, partial(open_preset, app, name)))
    return cmds


class PresetCommands(Provider):
    """nnplay's own palette entries."""

    async def discover(self) -> Hits:
        for name, help_text, callback in _commands(self.app):
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in _commands(self.app):
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


def open_preset(app, ref: str) -> None:
    """Load a preset (shipped name or path) into the app, or say in place why it cannot be opened. A saved
    model (``.npz``, or a ``.keras`` file from nnplay or Keras 3) opens read-only: its summary and diagram."""
    if app.served is not None and _is_path(ref):
        try:
            ref = app.served.path(ref)
        except NnplayError as exc:
            app.notify(str(exc), title="cannot open it", severity="error", timeout=8)
            return
    if str(ref).strip().endswith((".npz", ".keras")):
        open_saved_model(app, str(ref).strip())
        return
    try:
        setup = session.load_setup(ref)
    except NnplayError as exc:
        app.notify(str(exc), title="cannot open the preset", severity="error", timeout=8)
        return
    label = source_label(ref, setup)
    app.open_setup(setup, label)
    app.notify(f"opened {label}", timeout=3)


def _is_path(ref: str) -> bool:
    """A file path, as opposed to a shipped preset's name or a share string."""
    from nnplay.core.presets import is_share_string
    text = str(ref).strip()
    return not is_share_string(text) and (text.endswith((".toml", ".npz", ".keras")) or "/" in text
                                          or os.sep in text or text.startswith("~"))


def source_label(ref: str, setup: dict) -> str:
    """How to name what was opened: a share string by its preset's name (not the whole line)."""
    from nnplay.core.presets import is_share_string
    return f"{setup.get('name') or 'preset'} (share string)" if is_share_string(ref) else ref


def share_setup(app) -> None:
    """Show the setup's share line and copy it to the clipboard; a setup that is not valid says why."""
    from nnplay.core.presets import share_string

    from .screens.outbound import ShareScreen
    try:
        line = share_string(session.to_preset(app.setup))
    except NnplayError as exc:
        app.notify(str(exc), title="cannot share this setup", severity="error", timeout=8)
        return
    from nnplay.core.safety import sanitize       # the name came from a file
    app.push_screen(ShareScreen(line, sanitize(app.setup.get("name") or "this setup", one_line=True)))


def open_preset_screen(app) -> None:
    choices = [(name, f"{name} — {desc}" if desc else name) for name, desc in session.preset_choices()]
    choices.append(("__file__", "a .toml preset, a share string, or a saved .npz / .keras model… (type or paste it)"))

    def picked(value) -> None:
        if value == "__file__":
            app.push_screen(SaveScreen.for_open(), lambda path: path and open_preset(app, path))
        elif value:
            open_preset(app, value)

    app.push_screen(ChoiceScreen("Open a preset", choices), picked)


def open_saved_model(app, path: str) -> None:
    from nnplay.core.models import load_model

    from .screens.saved_model import SavedModelScreen
    try:
        model = load_model(path, compile=False)
    except NnplayError as exc:
        app.notify(str(exc), title="cannot open the model", severity="error", timeout=8)
        return
    app.push_screen(SavedModelScreen(model, path))


def save_preset_screen(app) -> None:
    default = f"{Path(str(app.setup.get('name') or 'playground')).stem}.toml"

    def save(path) -> None:
        if not path:
            return
        try:
            target = app.served.path(path) if app.served is not None else path
            written = session.save_setup(app.setup, target)
        except (NnplayError, OSError) as exc:
            app.notify(str(exc), title="not saved", severity="error", timeout=8)
            return
        if app.served is not None:          # the file lives on the server: hand the browser a copy
            app.deliver_text(str(written), save_filename=Path(str(written)).name)
            written = Path(str(written)).name
        app.notify(f"saved {written}\nopen it again with ctrl+o, or run it headless: nnplay run {written}",
                   title="preset saved", timeout=6)

    app.push_screen(SaveScreen(default), save)
