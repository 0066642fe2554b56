"""nnplay serve for real: a server process, a client over its websocket as the browser page would be (and,
where Chromium and Playwright are installed, a real headless browser), one app process per connection."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("textual_serve")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    work = tmp_path / "sessions"
    proc = subprocess.Popen([sys.executable, "-m", "nnplay.core", "serve", "--port", str(port), "--work-dir",
                             str(work), "--max-sessions", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    end = time.time() + 30
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port, work
    proc.terminate()
    proc.wait(timeout=10)


async def _until(ws, needle: bytes, seconds: float) -> bytes:
    seen, end = b"", time.monotonic() + seconds
    while time.monotonic() < end and needle not in seen:
        try:
            msg = await ws.receive(timeout=1)
        except asyncio.TimeoutError:
            continue
        if msg.type == aiohttp.WSMsgType.BINARY:
            seen += msg.data
        elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            break
    return seen


async def test_each_connection_gets_a_playground_that_trains_in_its_own_folder(server):
    port, work = server
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/") as page:
            assert page.status == 200 and "/ws" in await page.text()
        async with http.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as ws:
            assert b"spiral" in await _until(ws, b"spiral", 60)          # the playground drew itself
            assert len(os.listdir(work)) == 1                              # in a session folder of its own
            await ws.send_str(json.dumps(["stdin", " "]))                  # space: train
            assert b"running" in await _until(ws, b"running", 30)
            async with http.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as second:
                msg = await second.receive(timeout=10)                     # --max-sessions 1: the room is full
                assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                assert "sessions are in use" in str(msg.extra)
    end = time.time() + 15
    while time.time() < end and os.listdir(work):                           # gone with its session
        time.sleep(0.2)
    assert os.listdir(work) == []


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (Debian: apt-get install chromium)")
def test_a_real_browser_shows_the_playground_and_it_trains(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test drives Chromium with Playwright")
    port, _ = server
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector(".xterm-helper-textarea", state="attached", timeout=30_000)
            time.sleep(3)                                           # the app process starts and draws
            page.focus(".xterm-helper-textarea")
            page.keyboard.press("Space")                            # train the spiral
            time.sleep(8)
            page.screenshot(path=str(tmp_path / "browser.png"))
            page.keyboard.press("Control+p")                        # the app's own screenshot, from the palette
            time.sleep(0.5)
            page.keyboard.type("screenshot")
            time.sleep(0.5)
            with page.context.expect_page(timeout=15_000) as popup:
                page.keyboard.press("Enter")
            svg = popup.value
            svg.wait_for_load_state()
            text = svg.content()
        finally:
            browser.close()
    assert "spiral" in text and ("running" in text or "finished" in text)
    assert "epoch\u00a00/" not in text and "epoch 0/" not in text           # it trained
