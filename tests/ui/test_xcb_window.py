"""The README's first command on a real X server: the control window opens on Qt's xcb
platform (what a desktop uses, not the offscreen one the other tests draw on), a key typed
on the X keyboard reaches it, and Ctrl+C closes it cleanly. Needs Xvfb and xdotool
(.ci/run installs them); in CI a missing X server fails the test."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.conftest import cannot_run, poll_until

START_TIMEOUT_S = 90.0  # a loaded 2-core machine takes a while to start Python and Qt
CONTROL_TITLE = "^HI AIM Monitor$"
WALL_TITLE = "HI AIM Monitor — wall"


def _no_x_server(reason: str) -> None:
    cannot_run(reason, install="apt-get install xvfb xdotool")


@pytest.fixture
def x_display() -> Iterator[str]:
    """A fresh Xvfb server on a display number it picks itself, so runs never clash."""
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        _no_x_server("Xvfb or xdotool is not installed")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten",
         "tcp"], pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()  # written once the server accepts clients
    if not number:
        server.kill()
        _no_x_server(f"Xvfb did not start: {server.communicate()[1].decode()[-300:]}")
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


def _xdotool(display: str, *args: str) -> list[str]:
    result = subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "DISPLAY": display})
    return result.stdout.split()


def _wait_for_window(display: str, title: str, app: subprocess.Popen[str]) -> str:
    def shown() -> str | None:
        found = _xdotool(display, "search", "--onlyvisible", "--name", title)
        if not found and app.poll() is not None:
            pytest.fail(f"the app ended (exit {app.returncode}) before its window showed: "
                        f"{app.communicate()[1][-2000:]}")
        return found[0] if found else None

    return poll_until(shown, f"a window named {title!r} shows", timeout_s=START_TIMEOUT_S,
                      interval_s=0.3)


def test_the_demo_window_opens_on_x_takes_a_key_and_closes_on_ctrl_c(x_display, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
    env.update(DISPLAY=x_display, QT_QPA_PLATFORM="xcb")
    app = subprocess.Popen([sys.executable, "-m", "hiaim_monitor", "--simulate", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        control = _wait_for_window(x_display, CONTROL_TITLE, app)
        assert not _xdotool(x_display, "search", "--onlyvisible", "--name", "wall")
        # Typed on the X keyboard (XTEST), as a person would: W shows the wall screen.
        _xdotool(x_display, "windowfocus", "--sync", control)
        _xdotool(x_display, "key", "w")
        _wait_for_window(x_display, WALL_TITLE, app)
        app.send_signal(signal.SIGINT)
        _, err = app.communicate(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0, err
    assert "Traceback" not in err and "could not load the Qt platform plugin" not in err
    assert not _xdotool(x_display, "search", "--name", "HI AIM")  # every window closed
