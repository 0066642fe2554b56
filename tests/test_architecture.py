"""The house rules of the source tree, read from the code's own imports (every import, also those inside
functions): no import circles in ``core/`` or ``tui/``, imports in ``core/`` only run down the floors of the
data flow (the map in the README), kernels import nothing of the engine, and the engine never imports the
playground except from the one launcher."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"nnplay.core": ROOT / "core", "nnplay.tui": ROOT / "tui"}

#: The floors of ``core/``, lowest first: a room may import rooms on its own floor or below, never above.
FLOORS = [
    {"__init__", "errors", "seeding", "system"},   # __init__ only holds the version and lazy names
    {"checks", "registry", "fileio", "safety", "pacing", "kernels", "tiers"},
    {"activations", "initializers", "regularizers", "losses", "metrics", "optimizers", "datasets", "training"},
    {"layers", "saving"},
    {"models", "presets"},
    {"experiments", "keras", "export"},
    {"cli", "gradcheck"},
    {"__main__"},
]
#: The one file of the engine that may import the playground: the command that launches it.
LAUNCHER = "core/cli/main.py"


def _module_file(module: str) -> Path | None:
    for prefix, folder in PACKAGES.items():
        if module == prefix or module.startswith(prefix + "."):
            rest = module[len(prefix):].lstrip(".")
            base = folder.joinpath(*rest.split(".")) if rest else folder
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    return candidate
            return None
    return None


def _module_name(path: Path) -> str:
    for prefix, folder in PACKAGES.items():
        if folder in path.parents:
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            return ".".join([prefix, *parts])
    raise AssertionError(path)


def imports_of(path: Path, missing: list | None = None) -> set[Path]:
    """The project files ``path`` imports (a ``from pkg import sub`` counts as importing ``pkg/sub.py``);
    project modules that do not exist are appended to ``missing``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = []
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                targets.append(sub if _module_file(sub) is not None else target)
        else:
            continue
        for target in targets:
            file = _module_file(target)
            if file is not None and file != path:
                found.add(file)
            elif file is None and missing is not None and target.startswith(tuple(PACKAGES)):
                missing.append(f"{_rel(path)}:{node.lineno}: {target}")
    return found


def _graph() -> dict[Path, set[Path]]:
    files = [p for folder in PACKAGES.values() for p in folder.rglob("*.py")]
    return {p: imports_of(p) for p in files}


def _cycles(graph: dict) -> list[list]:
    """Strongly connected components with more than one member (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v, counter=[0]):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def _rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def _room(p: Path) -> str:
    return p.relative_to(ROOT / "core").parts[0].removesuffix(".py")


GRAPH = _graph()


def test_the_reader_sees_imports_of_every_kind():
    # relative, absolute, "from package import submodule" and imports inside functions all count
    model = ROOT / "core/models/model.py"
    assert ROOT / "core/training/__init__.py" in GRAPH[ROOT / "core/models/fitting.py"]
    assert ROOT / "core/models/dense_chain.py" in GRAPH[model]
    assert ROOT / "core/models/summary.py" in GRAPH[model]            # imported inside a method
    assert ROOT / "core/tui" not in GRAPH[model]
    assert any(p.is_relative_to(ROOT / "tui") for p in GRAPH[ROOT / LAUNCHER])
    assert _cycles({1: {2}, 2: {3}, 3: {1}, 4: {1}}) == [[1, 2, 3]]


def test_every_import_of_the_project_finds_its_module():
    # lazy imports inside functions only fail when they run: find them all here
    missing: list[str] = []
    for path in GRAPH:
        imports_of(path, missing)
    assert missing == []


def test_no_import_circles_between_files():
    circles = [[_rel(p) for p in c] for c in _cycles(GRAPH)]
    assert circles == [], f"import circles: {circles}"


def test_no_import_circles_between_rooms_of_the_engine():
    rooms: dict[str, set[str]] = {}
    for src, targets in GRAPH.items():
        if src.is_relative_to(ROOT / "core"):
            rooms.setdefault(_room(src), set()).update(_room(t) for t in targets
                                                         if t.is_relative_to(ROOT / "core") and _room(t) != _room(src))
    assert _cycles(rooms) == []


@pytest.mark.parametrize("src", sorted((p for p in GRAPH if p.is_relative_to(ROOT / "core")), key=str),
                         ids=lambda p: _rel(p))
def test_engine_imports_run_down_the_floors(src):
    floor = {room: i for i, rooms in enumerate(FLOORS) for room in rooms}
    here = _room(src)
    assert here in floor, f"{_rel(src)}: the room {here!r} is on no floor; add it to FLOORS and the README map"
    for target in GRAPH[src]:
        if target.is_relative_to(ROOT / "tui"):
            assert _rel(src) == LAUNCHER, f"{_rel(src)} imports the playground ({_rel(target)})"
            continue
        there = _room(target)
        assert floor[there] <= floor[here], f"{_rel(src)} ({here}) imports {_rel(target)} ({there}), a higher floor"
        if here == "kernels":
            assert there == "kernels", f"kernels are leaves: {_rel(src)} imports {_rel(target)}"
