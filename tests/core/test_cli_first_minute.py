"""What a new user met first on the command line, each pinned by a test that failed before its fix."""
from __future__ import annotations

import re
import sys
import types

import pytest

from nnplay.core.cli.main import main
from nnplay.core.cli.reporters import PlainReporter, fmt_seconds
from nnplay.core.presets.files import first_sentence


def test_list_shows_whole_first_sentences_or_an_ellipsis(capsys):
    assert main(["list", "presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 20
    for line in lines:
        text = line.split(None, 1)[1]
        assert re.search(r"[.!?…]$", text), line          # never cut mid-sentence
    assert any(line.endswith("…") for line in lines)       # the long ones end at a word, with an ellipsis


def test_first_sentence():
    assert first_sentence("One thing: a detail.\nNext sentence.") == "One thing: a detail."
    assert first_sentence("No full stop at all") == "No full stop at all"
    long = "word " * 40 + "end."
    cut = first_sentence(long, limit=50)
    assert cut.endswith("…") and len(cut) <= 51 and not cut[:-1].endswith(" ") and "wor…" not in cut


def test_seconds_never_read_zero_for_a_fast_run():
    assert fmt_seconds(0.0034) == "0.0034s"
    assert fmt_seconds(0.42) == "0.42s"
    assert fmt_seconds(3.14159) == "3.1s"
    assert fmt_seconds(123.45) == "123.5s"
    assert fmt_seconds(0.0) == "<0.001s"


def test_run_echoes_the_command_line_overrides(capsys):
    assert main(["run", "xor", "--epochs", "1", "--set", "training.batch_size=8", "--seed", "3"]) in (0, 1)
    out = capsys.readouterr().out
    assert "overrides: training.batch_size=8, training.epochs=1, seed=3" in out


@pytest.mark.parametrize("quiet,tty,told", [(False, False, True), (True, True, True), (True, False, False)])
def test_the_first_compile_is_announced_on_stderr(monkeypatch, capsys, quiet, tty, told):
    import numba

    from nnplay.core.cli import run

    def warm_up():        # a function never compiled before: Numba compiles it now, as on a cold cache
        numba.njit(lambda x: x + 1)(1)
        return 0.5

    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty, raising=False)
    run._warm_up(types.SimpleNamespace(warm_up=warm_up), PlainReporter(quiet=quiet))
    captured = capsys.readouterr()
    assert captured.out == ""                                # never on stdout (--json stays clean)
    assert ("compiling kernels" in captured.err and "kernels ready in 0.5s" in captured.err) == told


def test_the_readme_engine_example_runs_and_learns_the_spiral(tmp_path, monkeypatch, capsys):
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("## The engine underneath")
    code = readme[readme.index("```python", start) + len("```python"):readme.index("```", readme.index("```python", start) + 9)]
    monkeypatch.chdir(tmp_path)                      # it saves spiral.npz
    exec(compile(code, "README.md", "exec"), {})
    loss, accuracy = eval(capsys.readouterr().out.splitlines()[0])
    assert accuracy >= 0.93 and loss < 0.15          # what the README promises, with some slack
    assert (tmp_path / "spiral.npz").is_file()


def test_run_one_variant(capsys):
    import json
    assert main(["run", "optimizers", "--variant", "adam", "--epochs", "2", "--json"]) in (0, 1)
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert [v["variant"] for v in summary["variants"]] == ["adam"]
    assert main(["run", "optimizers", "--variant", "adma"]) == 2
    assert "did you mean 'adam'" in capsys.readouterr().err
    assert main(["run", "spiral", "--variant", "adam"]) == 2
    assert "has no variants" in capsys.readouterr().err
