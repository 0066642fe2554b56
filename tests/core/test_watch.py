"""``nnplay watch --json``: a learner's own script runs under nnplay and every fit() streams as JSON lines."""
import json
import textwrap

import pytest

from nnplay.core.cli import main
from nnplay.core.training.watch import current_watcher, watching

SCRIPT = """
import sys
import numpy as np
from nnplay import keras
print("args", sys.argv[1:])
rng = np.random.default_rng(0)
x = rng.standard_normal((64, 2)).astype("float32")
y = (x[:, 0] > 0).astype("int64")
inputs = keras.Input(shape=(2,))
model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dense(4)(inputs)))
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
print("epochs seen by the script", len(history.history["loss"]))
model.fit(x, y, epochs=2, batch_size=16, verbose=0)
"""


def write(tmp_path, text, name="train.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_every_fit_streams_json_and_the_script_keeps_its_history(tmp_path, capsys):
    path = write(tmp_path, SCRIPT)
    code = main(["watch", "--json", str(path), "--flag", "7"])
    out, err = capsys.readouterr()
    assert code == 0
    events = lines(out)                                   # stdout is JSON only
    assert [e["event"] for e in events] == ["fit", "epoch", "epoch", "epoch", "fit_end",
                                            "fit", "epoch", "epoch", "fit_end", "summary"]
    first = events[1]
    assert first["fit"] == 0 and first["epoch"] == 1 and {"loss", "accuracy", "val_loss"} <= set(first)
    assert events[-1] == {"event": "summary", "script": str(path), "fits": 2, "status": "success", "exit_code": 0}
    assert "args ['--flag', '7']" in err and "epochs seen by the script 3" in err   # the script's prints
    assert current_watcher() is None


def test_a_failing_script_reports_its_own_error(tmp_path, capsys):
    path = write(tmp_path, """
    from nnplay import keras
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="adam", loss="mse")
    model.fit([[1.0, 2.0, 3.0]], [[1.0]], verbose=0)
    """)
    code = main(["watch", "--json", str(path)])
    out, err = capsys.readouterr()
    assert code == 1 and lines(out)[-1]["status"] == "failed"
    assert "nnplay: error: train.py:5:" in err and "input" in err and "Traceback" not in err
    path = write(tmp_path, "raise RuntimeError('my own bug')\n", "bug.py")
    assert main(["watch", "--json", str(path)]) == 1
    assert "RuntimeError: my own bug" in capsys.readouterr().err      # the learner's traceback, as Python shows it
    path = write(tmp_path, "import sys\nsys.exit(3)\n", "exit.py")
    assert main(["watch", "--json", str(path)]) == 3


def test_a_missing_script_is_one_line(tmp_path, capsys):
    assert main(["watch", "--json", str(tmp_path / "nope.py")]) == 2
    assert "no such script" in capsys.readouterr().err
    assert main(["watch", "--json", str(tmp_path)]) == 2


def test_watching_hands_fit_its_trainer():
    import numpy as np

    from nnplay.core.layers import Dense
    from nnplay.core.models import Sequential
    seen = []
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    with watching(lambda m, trainer, verbose: seen.append((m, trainer)) or "history"):
        assert model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=5, verbose=0) == "history"
    assert seen[0][0] is model and seen[0][1].epochs == 5
    assert model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0).history["loss"]
    with pytest.raises(SystemExit):
        main(["watch"])
