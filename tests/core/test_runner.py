"""``nnplay run / list / show``: exit codes, output modes, files, overrides, reproducibility and Ctrl-C."""
import csv
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nnplay.core import load_model
from nnplay.core.cli import main
from nnplay.core.presets import load_preset, shipped_preset_names

BROKEN = sorted((Path(__file__).parent / "broken_presets").glob("*.toml"))
ROOT = Path(__file__).resolve().parents[2]


def nnplay(*args, cwd=None, timeout=120):
    """``nnplay ARGS`` in a fresh process with pipes (so stdout is not a terminal)."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    return subprocess.run([sys.executable, "-m", "nnplay.core", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=env)


def run_in_process(capsys, *args):
    code = main(["run", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(text):
    return [json.loads(line) for line in text.splitlines()]


# ------------------------------------------------------------------------------------------ bad input
# One file per kind of mistake runs as a real `nnplay run` process; every file also runs in-process (the
# same main(), so a traceback would fail the test just the same) to keep the suite fast.
SUBPROCESS_SAMPLE = {"syntax", "unknown-optimizer-arg", "wrong-type-epochs", "out-of-range-noise", "dense-zero",
                     "conv2d-on-2d", "lstm-on-2d", "huge-samples", "huge-dense", "missing-file", "bad-variant",
                     "deep-nesting", "huge-decay-epochs", "nan-label"}


def expected_error(path: Path) -> str:
    return path.read_text().splitlines()[0].removeprefix("# expect: ")


def check_bad_input(path, code, stdout, stderr, out):
    lines = stderr.splitlines()
    assert code == 2, (path.name, stderr)
    assert len(lines) == 1 and lines[0].startswith("nnplay: error: "), (path.name, stderr)
    assert expected_error(path) in lines[0], (path.name, lines[0])
    assert "Traceback" not in stderr and stdout == ""
    assert not out.exists() or not any(out.iterdir()), path.name


def test_broken_preset_corpus_in_subprocesses(tmp_path):
    sample = [p for p in BROKEN if p.stem in SUBPROCESS_SAMPLE]
    assert len(sample) == len(SUBPROCESS_SAMPLE)

    def run(path):
        out = tmp_path / path.stem
        return path, out, nnplay("run", path, "--out", out)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for path, out, proc in pool.map(run, sample):
            check_bad_input(path, proc.returncode, proc.stdout, proc.stderr, out)


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_preset_exits_2_with_one_line_and_no_files(path, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", str(path), "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    check_bad_input(path, code, stdout, stderr, out)


def test_corpus_covers_every_kind_of_mistake():
    names = {p.stem for p in BROKEN}
    assert len(names) >= 30
    for kind in ("syntax", "unknown-", "wrong-type-", "out-of-range-", "-on-2d", "dense-zero", "huge-samples",
                 "huge-dense", "missing-file"):
        assert any(kind in n for n in names), kind


def test_set_errors_and_bad_values(capsys):
    code, out, err = run_in_process(capsys, "spiral", "--set", "training.optimizer.lr=0.1")
    assert code == 2 and out == ""
    assert err == "nnplay: error: --set training.optimizer.lr: unknown key (did you mean 'learning_rate'?)\n"
    code, _, err = run_in_process(capsys, "spiral", "--set", "training.epochs")
    assert code == 2 and "expected KEY=VALUE" in err
    code, _, err = run_in_process(capsys, "spiral", "--epochs", "0")
    assert code == 2 and err.startswith("nnplay: error: --epochs training.epochs: must be a whole number")
    code, _, err = run_in_process(capsys, "spirl")
    assert code == 2 and "unknown preset 'spirl' (did you mean 'spiral'?)" in err


# ------------------------------------------------------------------------------------------ outputs
def test_json_lines_summary_and_out_dir(tmp_path):
    out = tmp_path / "run"
    proc = nnplay("run", "spiral", "--epochs", "3", "--json", "--out", out)
    assert proc.returncode in (0, 1), proc.stderr
    events = json_lines(proc.stdout)
    assert [e["event"] for e in events] == ["epoch"] * 3 + ["summary"]
    assert [e["epoch"] for e in events[:3]] == [1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "epochs"} <= set(events[0])
    s = events[-1]
    assert s["status"] == "target_missed" and proc.returncode == 1             # 3 epochs are not enough
    assert s["epochs_run"] == 3 and s["seconds"] > 0
    assert {"train_loss", "train_accuracy", "val_loss", "test_loss", "test_accuracy"} <= set(s["metrics"])
    assert s["target"]["metric"] == "test_accuracy" and s["target"]["met"] is False
    assert sorted(p.name for p in out.iterdir()) == ["history.csv", "metrics.json", "model.npz", "preset.toml"]
    rows = list(csv.DictReader((out / "history.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert float(rows[-1]["loss"]) == pytest.approx(events[2]["loss"])
    resolved = load_preset(out / "preset.toml")
    assert resolved.training.epochs == 3 and resolved.data == load_preset("spiral").data
    assert json.loads((out / "metrics.json").read_text())["metrics"] == s["metrics"]
    model = load_model(out / "model.npz")
    assert model.count_params() == 145


def test_plain_lines_without_escape_codes(capsys):
    proc = nnplay("run", "xor", "--epochs", "2")
    assert "\x1b" not in proc.stdout and "\x1b" not in proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("preset xor: ")
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert len(epoch_lines) == 2 and epoch_lines[0].startswith("epoch 1/2 loss=")
    assert "val_accuracy=" in epoch_lines[0]
    assert any(line.startswith("test: loss=") for line in lines)
    assert lines[-1].startswith("status: ")
    code, out, err = run_in_process(capsys, "xor", "--epochs", "2", "--quiet")
    assert not any(line.startswith("epoch ") for line in out.splitlines()) and out.splitlines()[-1].startswith("status")


def test_terminal_mode_draws_progress_table_and_plot():
    pid, fd = pty.fork()
    if pid == 0:  # child: a terminal on stdout
        os.environ.update(TERM="xterm-256color", COLUMNS="100", LINES="40")
        os.environ.pop("NO_COLOR", None)
        os.execv(sys.executable, [sys.executable, "-m", "nnplay.core", "run", "xor", "--epochs", "3"])
    chunks, deadline = [], time.time() + 120
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    _, status = os.waitpid(pid, 0)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "\x1b[" in text                                      # colours and cursor control
    assert "Epoch 3/3" in text and "accuracy" in text and "train" in text and "test" in text
    assert "epoch" in text and "┤" in text                      # the loss plot's axis
    assert "target met" in text


def test_no_color_plot_and_compile_notice(monkeypatch):
    from nnplay.core.cli import reporters, run

    monkeypatch.setenv("NO_COLOR", "1")
    plot = reporters.HumanReporter()._plot({"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.6]})
    assert "\x1b" not in plot and "epoch" in plot
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[" in reporters.HumanReporter()._plot({"loss": [1.0, 0.5, 0.25]})

    import numba

    calls = []

    class Reporter:
        quiet = False

        def compiling(self):
            calls.append("compiling")
            return "spinner"

        def compiled(self, handle, seconds):
            calls.append(("compiled", handle))

    @numba.njit
    def fresh_kernel(x):
        return x + 1

    class Exp:
        def warm_up(self):
            fresh_kernel(1)
            return 0.1

    run._warm_up(Exp(), Reporter())
    assert calls == ["compiling", ("compiled", "spinner")]      # a cold kernel: the notice shows
    calls.clear()
    run._warm_up(Exp(), Reporter())
    assert calls == []                                          # compiled already: silent


# ------------------------------------------------------------------------------------------ exit codes
def test_exit_1_when_a_target_is_missed(capsys):
    code, out, _ = run_in_process(capsys, "perceptron-xor", "--epochs", "3", "--json", "--quiet",
                                  "--set", 'target={ metric = "test_accuracy", min = 0.9 }')
    assert code == 1 and json_lines(out)[-1]["status"] == "target_missed"
    code, out, _ = run_in_process(capsys, "gauss", "--epochs", "3", "--json", "--set", "target.min=1.01")
    summary = json_lines(out)[-1]
    assert code == 1 and summary["target"]["min"] == 1.01 and summary["target"]["met"] is False
    code, out, _ = run_in_process(capsys, "gauss", "--json", "--quiet")
    assert code == 0 and json_lines(out) == [json_lines(out)[-1]] and json_lines(out)[-1]["status"] == "success"


def test_same_seed_same_metrics_and_overrides_apply(capsys):
    args = ("moons-dropout", "--epochs", "3", "--json", "--quiet")
    first = json_lines(nnplay("run", *args).stdout)[-1]                        # another process...
    again = json_lines(run_in_process(capsys, *args)[1])[-1]                  # ...and this one
    other = json_lines(run_in_process(capsys, *args, "--seed", "1")[1])[-1]
    assert first["metrics"] == again["metrics"]
    assert first["metrics"] != other["metrics"]
    code, out, _ = run_in_process(capsys, "xor", "--json", "--set", "training.epochs=2", "--set",
                                  "data.name=circle", "--set", "training.optimizer.learning_rate=0.05")
    events = json_lines(out)
    assert len(events) == 3 and events[0]["epochs"] == 2


def test_divergence_is_reported_once_and_exits_1(capsys):
    code, out, err = run_in_process(capsys, "reg-plane", "--epochs", "3", "--set",
                                    "training.optimizer.learning_rate=1e9")
    assert code == 1 and err.count("training diverged at epoch 1") == 1 and "Warning" not in err
    assert out.splitlines()[-1].startswith("status: diverged")
    code, out, _ = run_in_process(capsys, "reg-plane", "--json", "--set", "training.optimizer.learning_rate=1e9")
    summary = json_lines(out)[-1]                                            # strict JSON: no NaN or Infinity
    assert summary["status"] == "diverged" and summary["metrics"]["test_loss"] is None
    assert "lower learning rate" in summary["message"]


def test_variants_run_in_turn_and_report_each(tmp_path, capsys):
    code, out, _ = run_in_process(capsys, "optimizers", "--epochs", "2", "--json", "--out", tmp_path)
    events = json_lines(out)
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["variant"] for e in epochs] == ["sgd", "sgd", "momentum", "momentum", "adam", "adam"]
    summary = events[-1]
    assert [v["variant"] for v in summary["variants"]] == ["sgd", "momentum", "adam"]
    assert "adam/test_accuracy" in summary["metrics"] and summary["epochs_run"] == 6
    assert code == {"success": 0, "target_missed": 1}[summary["status"]]
    assert {p.name for p in tmp_path.iterdir()} == {"preset.toml", "metrics.json", "sgd", "momentum", "adam"}
    assert (tmp_path / "adam" / "model.npz").exists()
    assert load_preset(tmp_path / "sgd" / "preset.toml").training.optimizer["name"] == "sgd"


def test_ctrl_c_stops_saves_and_exits_130(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "nnplay.core", "run", "spiral", "--epochs", "100000",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while not line.startswith("epoch "):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert (out / "model.npz").exists() and load_model(out / "model.npz").count_params() == 145
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and 1 <= metrics["epochs_run"] < 100000
    assert len((out / "history.csv").read_text().splitlines()) == metrics["epochs_run"] + 1
    assert not [p for p in out.iterdir() if p.name.startswith(".")]             # no temp files left


# ------------------------------------------------------------------------------------------ list / show
def test_list_and_show(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "presets" in out and "datasets" in out
    for name in shipped_preset_names():
        assert f"  {name} " in out
    assert main(["list", "presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == shipped_preset_names()
    assert main(["list", "datasets"]) == 0
    assert any(line.startswith("font-digits ") for line in capsys.readouterr().out.splitlines())
    assert main(["show", "spiral"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 145" in out and "optimizer adam(learning_rate=0.01)" in out
    assert "target test_accuracy >= 0.9" in out and "memory about" in out
    assert main(["show", "optimizers"]) == 0
    assert "momentum: training.optimizer = " in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("NNPLAY_SLOW") != "1", reason="full preset runs: set NNPLAY_SLOW=1")
def test_every_shipped_preset_reaches_its_target_in_time():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_presets.py")], capture_output=True,
                          text=True, timeout=3600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
