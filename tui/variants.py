"""Variants and A/B in the playground: open one variant of a preset (``v``), train all its variants side by
side (``V``), or keep the setup as A, change one thing and train A and B side by side (``b``)."""
from __future__ import annotations

import copy

from nnplay.core.errors import NnplayError
from nnplay.core.safety import sanitize

from .compare import compare_entries


def _source(app) -> dict:
    """The whole preset the variants come from (while one variant is open, the preset it came from)."""
    return app.variants_of if app.variants_of is not None else app.setup


def _entries(app) -> list[tuple[str, dict]] | None:
    try:
        entries = compare_entries(_source(app))
    except NnplayError as exc:
        app.notify(str(exc), title="the setup is not valid", severity="error", timeout=8)
        return None
    if not entries:
        app.notify("this preset has no variants (optimizers, memory-first-symbol and moons do); b compares two "
                   "setups of your own: it keeps this one as A", title="no variants", timeout=6)
        return None
    return entries


def pick_variant(app) -> None:
    """A list of the preset's variants (and the preset itself); the one picked opens in the playground."""
    from .screens.prompts import ChoiceScreen
    entries = _entries(app)
    if entries is None:
        return
    source = _source(app)
    # names and descriptions come from the preset file: no escape sequences reach the terminal
    described = {v.get("name"): sanitize(v.get("description", ""), one_line=True) for v in source.get("variants", [])}
    choices = [("", f"{sanitize(source.get('name', 'preset'), one_line=True)} itself (no variant)")]
    choices += [(label, f"{label} — {described[label]}" if described.get(label) else label) for label, _ in entries]
    setups = dict(entries)

    def picked(label) -> None:
        if label is None:
            return
        if label == "":
            app.variants_of = None
            app.open_setup(source, source.get("name", "preset"))
        else:
            app.variants_of = source
            app.open_setup(setups[label], f"{source.get('name', 'preset')}, variant {label}")
        app.notify(f"opened {app.source} (V trains every variant side by side)", timeout=4)

    current = app.setup.get("name", "").rpartition("/")[2] if app.variants_of is not None else ""
    app.push_screen(ChoiceScreen("Open a variant", choices, current=current), picked)


def compare_variants(app) -> None:
    """Train every variant of the preset side by side."""
    from .screens.compare import CompareScreen
    entries = _entries(app)
    if entries is not None:
        name = _source(app).get("name", "preset")
        app.push_screen(CompareScreen(entries, f"{name}: {len(entries)} variants, the same data and initial seed"))


def compare_ab(app) -> None:
    """First press: keep the setup as A. Next presses: train A and the setup now (B) side by side."""
    from .screens.compare import CompareScreen
    if app.ab_a is None:
        app.ab_a = copy.deepcopy(app.setup)
        app.notify("A is this setup. Change one thing (a setting, a layer), then press b again to train A and B "
                   "side by side", title="A/B", timeout=6)
        return
    changes = setup_changes(app.ab_a, app.setup)
    if not changes:
        app.notify("B is still the same as A: change something first (ctrl+p: Forget A starts over)",
                   title="A/B", timeout=5)
        return
    app.push_screen(CompareScreen([("A", copy.deepcopy(app.ab_a)), ("B", copy.deepcopy(app.setup))],
                                  "A/B: B " + "; ".join(changes)))


def forget_a(app) -> None:
    app.ab_a = None
    app.notify("A forgotten: b keeps the next setup as A", title="A/B", timeout=3)


def setup_changes(a: dict, b: dict, limit: int = 3) -> list[str]:
    """What B changes of A, in words: ``training.optimizer.learning_rate 0.03 → 0.06``, ``layers: 3 → 4``."""
    flat_a, flat_b = _flatten(a), _flatten(b)
    out = []
    for key in dict.fromkeys([*flat_a, *flat_b]):
        if key in ("name", "description"):
            continue
        va, vb = flat_a.get(key, "—"), flat_b.get(key, "—")
        if va != vb:
            out.append(f"{key} {_short(va)} → {_short(vb)}")
    if len(out) > limit:
        out = out[:limit] + [f"and {len(out) - limit} more"]
    return out


def _flatten(d, prefix: str = "") -> dict:
    out = {}
    for key, value in d.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, path + "."))
        elif key == "layers" and isinstance(value, list):
            out[path] = " | ".join(_layer(c) for c in value)
        else:
            out[path] = value
    return out


def _layer(cfg: dict) -> str:
    rest = " ".join(str(v) for k, v in cfg.items() if k not in ("type", "name"))
    return f"{cfg.get('type', '?')} {rest}".strip()


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"
