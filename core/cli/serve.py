"""``nnplay serve``: the playground in a browser, for a classroom. Each browser connection gets its own app
process (textual-serve starts ``nnplay tui --served ...``), in its own work folder, with bounded memory and
time; the number of sessions at once is bounded too. Binds to 127.0.0.1 unless told otherwise."""
from __future__ import annotations

import os
import shlex
import sys
import tempfile

from ..errors import NnplayError
from .exits import EXIT_OK

NEEDS = 'nnplay serve needs textual-serve: pip install "nnplay[serve]"'


def session_command(root: str, minutes: float, memory_mb: int) -> str:
    """The shell command textual-serve runs for each browser connection."""
    return shlex.join([sys.executable, "-m", "nnplay.core", "tui", "--served", root, "--session-minutes",
                       f"{minutes:g}", "--memory-mb", str(int(memory_mb))])


def make_server(args):
    """The textual-serve server for ``args`` (host, port, limits), not yet serving."""
    try:
        from aiohttp import web
        from textual_serve.server import Server
    except ImportError:
        raise NnplayError(NEEDS) from None
    if not 1 <= args.port <= 65535:
        raise NnplayError(f"--port {args.port} is not a port; give 1..65535, e.g. --port 8000")
    for name in ("max_sessions", "session_minutes", "memory_mb"):
        if getattr(args, name) <= 0:
            raise NnplayError(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    root = args.work_dir or tempfile.mkdtemp(prefix="nnplay-serve-")
    os.makedirs(root, exist_ok=True)

    class SessionServer(Server):
        """At most ``max_sessions`` app processes at once; one more connection is told the room is full."""

        active = 0

        async def handle_websocket(self, request):
            if SessionServer.active >= args.max_sessions:
                ws = web.WebSocketResponse()
                await ws.prepare(request)
                await ws.close(message=f"all {args.max_sessions} sessions are in use; try again later".encode())
                return ws
            SessionServer.active += 1
            try:
                return await super().handle_websocket(request)
            finally:
                SessionServer.active -= 1

    server = SessionServer(session_command(root, args.session_minutes, args.memory_mb), host=args.host,
                           port=args.port, title="nnplay")
    server.root = root
    return server


def cmd_serve(args) -> int:
    server = make_server(args)
    print(f"nnplay: serving the playground on http://{args.host}:{args.port} (sessions in {server.root}; at most "
          f"{args.max_sessions} at once, {args.memory_mb} MB and {args.session_minutes:g} minutes each); "
          f"Ctrl-C stops", file=sys.stderr)
    server.serve()
    return EXIT_OK
