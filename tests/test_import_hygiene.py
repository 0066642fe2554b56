"""The engine never imports the UI, and ``nnplay --help`` imports nothing heavy."""
import subprocess
import sys


def _imported(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
    return {line.split("|")[-1].strip().split(".")[0] for line in out.stderr.splitlines() if "|" in line}


def test_core_engine_does_not_import_textual():
    mods = _imported("import nnplay.core.models, nnplay.core.training, nnplay.core.datasets")
    assert "textual" not in mods and "rich" not in mods and "plotext" not in mods


def test_help_and_version_import_no_heavy_modules():
    for args in ("['--help']", "['--version']"):
        mods = _imported(f"import sys; from nnplay.core.cli import main\ntry:\n    main({args})\nexcept SystemExit:\n    pass")
        assert not mods & {"numpy", "numba", "textual", "rich", "scipy", "plotext"}, mods


def test_version_via_module():
    out = subprocess.run([sys.executable, "-m", "nnplay.core", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("nnplay ")
