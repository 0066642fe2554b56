"""The playground served to a browser (nnplay serve): one process per connection, its own folder, bounded
memory and time, no path out of the folder; the server bounds the sessions at once."""
from __future__ import annotations

import os
import sys

import pytest
from tui_helpers import parked, small_setup, wait_for

from nnplay.core.cli.main import build_parser, main
from nnplay.core.errors import NnplayError
from nnplay.tui.app import NnplayApp
from nnplay.tui.commands import open_preset
from nnplay.tui.served import ServedSession


@pytest.fixture
def session(tmp_path, monkeypatch):
    import resource
    monkeypatch.chdir(tmp_path)                        # enter() changes the folder: come back afterwards
    before = resource.getrlimit(resource.RLIMIT_AS)    # ... and caps this process's memory: lift it after
    s = ServedSession(str(tmp_path / "root"), minutes=1, memory_mb=100_000)
    s.enter()
    yield s
    s.leave()
    resource.setrlimit(resource.RLIMIT_AS, before)


def test_paths_stay_inside_the_session_folder(session, tmp_path):
    assert session.path("spiral.toml") == os.path.join(session.folder, "spiral.toml")
    assert session.path("sub/x.toml").startswith(session.folder + os.sep)
    (tmp_path / "outside.toml").write_text("x")
    os.symlink(tmp_path / "outside.toml", os.path.join(session.folder, "link.toml"))
    for bad in ("/etc/passwd", "../outside.toml", "~/x.toml", "sub/../../x.toml", "link.toml"):
        with pytest.raises(NnplayError, match="folder"):
            session.path(bad)


def test_the_session_runs_in_its_folder_with_a_memory_cap_and_leaves_nothing(tmp_path, monkeypatch):
    import resource
    monkeypatch.chdir(tmp_path)
    before = resource.getrlimit(resource.RLIMIT_AS)
    s = ServedSession(str(tmp_path / "root"), memory_mb=64 * 1024)
    try:
        s.enter()
        assert os.getcwd() == s.folder and os.path.dirname(s.folder) == str(tmp_path / "root")
        assert resource.getrlimit(resource.RLIMIT_AS)[0] == 64 * 1024 ** 3
    finally:
        resource.setrlimit(resource.RLIMIT_AS, before)
        s.leave()
    assert not os.path.exists(s.folder)


async def test_served_open_and_save_stay_in_the_folder_and_saving_hands_the_browser_a_copy(session):
    app = NnplayApp(small_setup(), test_mode=True, served=session)
    notes, delivered = [], []
    async with app.run_test(size=(100, 30)) as pilot:
        app.notify = lambda message, **kw: notes.append((kw.get("title"), message))
        app.deliver_text = lambda path, **kw: delivered.append((path, kw.get("save_filename")))
        await wait_for(pilot, lambda: parked(app))
        open_preset(app, "/etc/passwd")
        assert notes[-1][0] == "cannot open it" and "its own folder" in notes[-1][1]
        from nnplay.tui.commands import save_preset_screen
        main = app.screen
        save_preset_screen(app)
        await wait_for(pilot, lambda: app.screen is not main)        # the save dialog is up (fixed pauses
        app.screen.dismiss("../escape.toml")                          # were too short under a loaded machine)
        await wait_for(pilot, lambda: app.screen is main and notes[-1][0] == "not saved")
        assert not os.path.exists(os.path.join(session.root, "escape.toml"))
        save_preset_screen(app)
        await wait_for(pilot, lambda: app.screen is not main)
        app.screen.dismiss("mine.toml")
        await wait_for(pilot, lambda: app.screen is main and delivered)
        assert os.path.isfile(os.path.join(session.folder, "mine.toml"))
        assert delivered == [(os.path.join(session.folder, "mine.toml"), "mine.toml")]
        open_preset(app, "xor")                          # shipped presets open as usual
        await wait_for(pilot, lambda: parked(app) and app.setup["name"] == "xor")


async def test_the_session_closes_when_its_time_is_up(session):
    app = NnplayApp(small_setup(epochs=100_000), test_mode=True, served=session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("space")
        await wait_for(pilot, lambda: app.run_state.status == "running")
        app.session_over()
        await wait_for(pilot, lambda: app.run_state.status == "stopped" and app.loop is None)


def test_serve_options_and_the_command_each_connection_runs(tmp_path):
    from nnplay.core.cli.serve import make_server, session_command
    args = build_parser().parse_args(["serve", "--port", "8123", "--work-dir", str(tmp_path / "w"),
                                      "--session-minutes", "5", "--memory-mb", "900"])
    assert args.host == "127.0.0.1"                      # this machine only, unless told otherwise
    server = make_server(args)
    assert server.port == 8123 and server.root == str(tmp_path / "w")
    assert server.command == session_command(str(tmp_path / "w"), 5, 900)
    served = build_parser().parse_args(["tui", "--served", "r", "--session-minutes", "5", "--memory-mb", "900"])
    assert (served.served, served.session_minutes, served.memory_mb) == ("r", 5, 900)
    bad = build_parser().parse_args(["serve", "--port", "0"])
    with pytest.raises(NnplayError, match="port"):
        make_server(bad)


def test_serve_without_textual_serve_says_how_to_get_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textual_serve", None)
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith('pip install "nnplay[serve]"') and len(err.splitlines()) == 1


def test_the_help_states_the_limits(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for words in ("127.0.0.1", "its own work folder", "opens no shell", "--memory-mb", "--session-minutes",
                  "--max-sessions"):
        assert words in out
