"""``nnplay run`` under hard stops: stop signals, a full disk, unwritable output, a busy or broken --out folder,
hostile text. Whatever happens, one line (never a traceback), no temp file, and the folder holds one run's
complete results or what it held before."""
import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nnplay.core import load_model
from nnplay.core.cli import main
from nnplay.core.cli import outdir as outdir_mod
from nnplay.core.errors import NnplayError

RUN_FILES = ["history.csv", "metrics.json", "model.npz", "preset.toml"]


@pytest.fixture(autouse=True)
def no_signal_escapes():
    """A stop signal or Ctrl-C that nnplay does not handle must fail the test, not end the test session."""
    def escaped(signum, frame):
        raise AssertionError(f"signal {signum} reached the test process: nnplay did not handle it")
    previous = signal.signal(signal.SIGTERM, escaped)
    yield escaped
    signal.signal(signal.SIGTERM, previous)


def call_main(argv):
    try:
        return main(argv)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped main(): a traceback for the user")


def run(capsys, *args):
    code = call_main(["run", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnplay: error: ") and "Traceback" not in err, err
    return lines[0]


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob(".*")]


def metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


# ------------------------------------------------------------------------------------------ --out, before training
@pytest.mark.parametrize("blocker, words", [
    ("preset.toml/", "preset.toml is a folder, and the run writes its preset.toml there"),
    ("model.npz/", "model.npz is a folder, and the run writes its model.npz there"),
    ("FILE", "is a file; give a folder"),
])
def test_the_out_folder_is_checked_before_anything_trains(tmp_path, capsys, blocker, words):
    out = tmp_path / "out"
    if blocker == "FILE":
        out.write_text("x")
    else:
        (out / blocker).mkdir(parents=True)
    code, stdout, err = run(capsys, "xor", "--epochs", "1", "--out", out)
    assert code == 2 and words in one_error_line(err) and stdout == ""      # nothing trained, nothing said


def test_a_variant_named_like_a_result_file_is_refused(tmp_path):
    # a preset with such a variant is in the corpus (broken_presets/variant-named-like-a-file.toml)
    with pytest.raises(NnplayError, match="the variant 'preset.toml' cannot be a folder beside"):
        outdir_mod.OutDir(str(tmp_path / "o"), ["sgd", "preset.toml"]).prepare()


def test_too_little_free_space_is_refused_before_training(tmp_path, capsys, monkeypatch):
    class Usage:
        free = 12 << 10                          # a 12 KiB disk
    monkeypatch.setattr(outdir_mod.shutil, "disk_usage", lambda path: Usage)
    code, stdout, err = run(capsys, "xor", "--epochs", "1", "--out", tmp_path / "o")
    assert code == 2 and "has 12.0 KB free, but the run's results need about" in one_error_line(err)
    assert stdout == "" and not (tmp_path / "o").exists()


def test_a_full_disk_while_saving_keeps_the_old_results_and_no_temp_file(tmp_path, capsys, monkeypatch):
    out = tmp_path / "o"
    assert run(capsys, "xor", "--epochs", "2", "--out", out)[0] in (0, 1)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    from nnplay.core import fileio
    real = fileio._write_fd

    def full(fd, data):
        if len(data) > 2000:                     # the model: the disk fills up
            os.close(fd)
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, data)
    monkeypatch.setattr(fileio, "_write_fd", full)
    code, stdout, err = run(capsys, "xor", "--epochs", "3", "--out", out)
    line = one_error_line(err)
    assert code == 2 and "the results were not saved in --out" in line and "No space left on device" in line
    assert "status: " in stdout                                      # the results were still reported
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the earlier run, whole; no temp file


# ------------------------------------------------------------------------------------------ stop signals
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_stop_save_and_exit_128_plus_signal(tmp_path, sig, code):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "nnplay.core", "run", "spiral", "--epochs", "100000",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while not line.startswith("epoch "):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and "stopping after this batch and saving" in stderr
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES                # complete, no lock or temp file
    assert metrics(out)["status"] == "interrupted" and load_model(out / "model.npz").count_params() == 145


def _send_after(monkeypatch, module, name, calls=1):
    """Make ``module.name`` send this process SIGTERM after its ``calls``-th call (a signal mid-save)."""
    real, count = getattr(module, name), [0]

    def wrapper(*args, **kw):
        result = real(*args, **kw)
        count[0] += 1
        if count[0] == calls:
            os.kill(os.getpid(), signal.SIGTERM)
        return result
    monkeypatch.setattr(module, name, wrapper)


def test_sigterm_while_files_are_written_leaves_the_old_run_and_no_temp_file(tmp_path, capsys, monkeypatch):
    out = tmp_path / "o"
    assert run(capsys, "xor", "--epochs", "2", "--out", out)[0] in (0, 1)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _send_after(monkeypatch, outdir_mod, "write_temp", calls=2)
    code, _, err = run(capsys, "xor", "--epochs", "3", "--out", out)
    assert code == 143 and err.splitlines()[-1] == "terminated (SIGTERM)" and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_sigterm_while_files_are_renamed_waits_until_all_are_in_place(tmp_path, capsys, monkeypatch):
    out = tmp_path / "o"
    _send_after(monkeypatch, outdir_mod.os, "replace", calls=1)
    code, _, err = run(capsys, "xor", "--epochs", "3", "--out", out)
    monkeypatch.undo()
    assert code == 143 and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES and metrics(out)["epochs_run"] == 3


def test_a_stop_while_the_command_sets_up_is_one_line(tmp_path, capsys, monkeypatch, no_signal_escapes):
    import nnplay.core.system as system

    def interrupted(n):
        raise KeyboardInterrupt              # Ctrl-C while the thread pools are set up
    monkeypatch.setattr(system, "set_threads", interrupted)
    assert call_main(["run", "xor"]) == 130 and capsys.readouterr().err == "interrupted\n"
    monkeypatch.undo()
    import nnplay.core.cli.run as run_mod
    real = run_mod.build_experiment

    def terminated(*a, **kw):
        os.kill(os.getpid(), signal.SIGTERM)   # SIGTERM while the data loads
        return real(*a, **kw)
    monkeypatch.setattr(run_mod, "build_experiment", terminated)
    assert call_main(["run", "xor", "--out", str(tmp_path / "o")]) == 143
    assert capsys.readouterr().err == "terminated (SIGTERM)\n" and not (tmp_path / "o").exists()
    assert signal.getsignal(signal.SIGTERM) is no_signal_escapes        # the handlers are gone again


# ------------------------------------------------------------------------------------------ one run per folder
def test_a_folder_another_run_is_writing_is_refused(tmp_path, capsys):
    out = tmp_path / "o"
    first = subprocess.Popen([sys.executable, "-m", "nnplay.core", "run", "spiral", "--epochs", "100000",
                              "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while not first.stdout.readline().startswith("epoch "):
            assert first.poll() is None, first.stderr.read()
        code, stdout, err = run(capsys, "xor", "--epochs", "1", "--out", out)
        assert code == 2 and stdout == ""
        assert f"is being written by another nnplay run (process {first.pid})" in one_error_line(err)
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    finally:
        first.kill()
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES and metrics(out)["preset"] == "spiral"


def test_a_new_run_replaces_every_file_of_the_last_one(tmp_path, capsys):
    out = tmp_path / "o"
    assert run(capsys, "optimizers", "--epochs", "1", "--out", out)[0] in (0, 1)
    assert {"sgd", "momentum", "adam"} <= {p.name for p in out.iterdir()}
    (out / "notes.txt").write_text("mine")                  # the user's own files stay
    assert run(capsys, "xor", "--epochs", "1", "--out", out)[0] in (0, 1)
    assert sorted(p.name for p in out.iterdir()) == sorted([*RUN_FILES, "notes.txt"])
    assert metrics(out)["preset"] == "xor"


# ------------------------------------------------------------------------------------------ output streams
def test_output_that_cannot_be_written_is_one_line_and_no_traceback(tmp_path):
    with open("/dev/full", "w") as full:          # every write fails: No space left on device
        proc = subprocess.run([sys.executable, "-m", "nnplay.core", "run", "xor", "--epochs", "1", "--json",
                               "--out", str(tmp_path / "o")], stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=180)
    assert proc.returncode == 2 and "the output could not be written (No space left on device)" in \
        one_error_line(proc.stderr)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == RUN_FILES     # the run itself was saved
    closed = subprocess.run([sys.executable, "-m", "nnplay.core", "run", "xor", "--epochs", "1", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=180,
                            preexec_fn=lambda: os.close(1))
    assert closed.returncode == 1 and closed.stderr == ""            # xor in 1 epoch misses its target


# ------------------------------------------------------------------------------------------ hostile text
def test_text_from_a_preset_reaches_no_terminal_raw(tmp_path, capsys):
    text = (Path(__file__).parents[2] / "presets" / "xor.toml").read_text()
    text = text.replace('name = "xor"', 'name = "x\\u001b]0;pwned\\u0007y"', 1).replace(
        'description = """\n', 'description = """\n\\u001b[2J\\u001b]0;title\\u0007', 1)
    (tmp_path / "p.toml").write_text(text)
    code, out, err = run(capsys, tmp_path / "p.toml", "--epochs", "1")
    assert out.startswith("preset x]0;pwnedy: [2J]0;titleXOR needs") and "\x1b" not in out + err
    assert call_main(["show", str(tmp_path / "p.toml")]) == 0
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "\x07" not in shown and shown.startswith("x]0;pwnedy\n")
    (tmp_path / "q.toml").write_text(text.replace('type = "dense"', 'type = "dense\\u001b[2J"', 1))
    code, _, err = run(capsys, tmp_path / "q.toml")
    assert code == 2 and "\x1b" not in one_error_line(err)
