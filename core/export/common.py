"""What both script writers share: the facts an export is about (:class:`ScriptInfo`), the header, and the
code that reads ``data.npz`` and ``check.npz``."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from .code import py
from .graph import FRAMEWORK_NAMES
from .plan import TrainingPlan

#: Largest absolute difference from nnplay's outputs that ``--check`` accepts (float32 arithmetic).
TOLERANCE = 1e-4
SCRIPT_NAMES = {"keras": "model_keras.py", "pytorch": "model_pytorch.py"}
#: Written in every script's header: how an earlier export is recognised in an output folder.
MARKER = "Made by `nnplay export --to {to}`"


@dataclass
class ScriptInfo:
    """The facts a script is written from."""

    to: str                                  #: "keras" or "pytorch"
    preset_name: str
    description: str                         #: the preset's description (its first line goes in the header)
    origin: str                              #: where the weights come from, one sentence
    plan: TrainingPlan
    data_note: str = ""                      #: why data.npz is missing, when it is
    notes: list[str] = field(default_factory=list)   #: "where it differs" lines for the header


def header(info: ScriptInfo, needs: str) -> list[str]:
    """The module docstring: what this is, where it came from, how to run it."""
    script = SCRIPT_NAMES[info.to]
    first = info.description.strip().splitlines()[0] if info.description.strip() else ""
    what = {"gan": "a GAN (generator and discriminator)", "autoencoder": "an autoencoder"}.get(info.plan.kind,
                                                                                             "a model")
    text = [f'"""{info.preset_name}: {what}, written for {FRAMEWORK_NAMES[info.to]}.', ""]
    body = (f"{MARKER.format(to=info.to)} from the nnplay preset {info.preset_name!r} (the same preset is in "
            f"preset.toml next to this script). {first} Weights: {info.origin}")
    text += textwrap.wrap(body, 110) + [""]
    text += [f"    python {script} --check      # load weights.npz, predict check.npz's inputs, compare with nnplay's "
             f"outputs",
             f"    python {script}              # train as the preset does (data.npz); --epochs N to change "
             f"the epochs", ""]
    text += textwrap.wrap(needs, 110)
    for note in info.notes:
        text += [""] + textwrap.wrap(note, 110)
    return text + ['"""']


def data_loader(info: ScriptInfo) -> list[str]:
    """``load_data()``: the preset's split from data.npz (or how to make the file with nnplay)."""
    kind = info.plan.kind
    keys = {"gan": ["x_train"], "autoencoder": ["x_train", "x_test"]}.get(kind, ["x_train", "y_train", "x_test",
                                                                               "y_test"])
    make = ("python3 -c \\\"from nnplay.core.export import write_data; write_data('preset.toml', 'data.npz')\\\"")
    why = f"{info.data_note} " if info.data_note else ""
    lines = ["def load_data():",
             '    """The preset\'s own split, as nnplay made it: ' + ", ".join(keys) + '."""',
             '    path = HERE / "data.npz"',
             "    if not path.exists():",
             f'        sys.exit(f"{{path}} is missing. {why}Make it with nnplay, in this folder:\\n"',
             f'                 "    {make}")',
             "    with np.load(path) as data:",
             f"        return tuple(data[key] for key in {py(tuple(keys))})"]
    return lines


def check_lines(predict: str) -> list[str]:
    """``check(model)``: predict check.npz's inputs with ``predict`` (an expression of ``inputs``) and compare."""
    return ["def check(model):",
            '    """Predict check.npz\'s inputs and compare with the outputs nnplay gave: exit status 0 when they '
            'agree."""',
            '    with np.load(HERE / "check.npz") as saved:',
            '        inputs, expected = saved["inputs"], saved["outputs"]',
            f"    got = {predict}",
            "    if got.shape != expected.shape:",
            '        print(f"the outputs have shape {got.shape}, nnplay\'s have {expected.shape}")',
            "        return 1",
            "    diff = float(np.max(np.abs(got - expected)))",
            '    verdict = "ok" if diff < TOLERANCE else f"more than {TOLERANCE}"',
            '    print(f"largest absolute difference from nnplay\'s outputs: {diff:.3g} ({verdict})")',
            "    return 0 if diff < TOLERANCE else 1"]


def argument_parser(info: ScriptInfo) -> list[str]:
    what = "the generator" if info.plan.kind == "gan" else "the model"
    return ["    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
            f'    parser.add_argument("--check", action="store_true", help="compare {what}\'s outputs with '
            'nnplay\'s (check.npz)")',
            '    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs to train (the preset '
            'says {EPOCHS})")',
            "    args = parser.parse_args()"]
