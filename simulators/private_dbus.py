"""A private D-Bus "system bus": Debian's ``dbus-daemon`` run with a throwaway config, so
bleak's BlueZ backend can talk to a BlueZ double (``simulators.bluez_double``) and never to
the machine's real system bus.

bleak's BlueZ backend reaches BlueZ only over the system bus, whose address dbus-fast reads
from ``DBUS_SYSTEM_BUS_ADDRESS`` each time a bus connection is made. bleak keeps one
``BlueZManager`` per event loop, connected on first use, so the variable must be set before
the first BleakScanner or BleakClient of that loop runs: ``PrivateSystemBus.start`` sets it
and ``stop`` puts back what was there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Final, Self

SYSTEM_BUS_VARIABLE: Final = "DBUS_SYSTEM_BUS_ADDRESS"
_START_TIMEOUT_S: Final = 10.0
_STOP_TIMEOUT_S: Final = 5.0

# A bus that lets every client own any name and call anything: only this process's own
# clients ever reach it (its socket lives in a private temporary directory).
_CONFIG: Final = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"""


class DbusDaemonMissing(RuntimeError):
    """``dbus-daemon`` is not installed; the message says how to get it."""


def dbus_daemon_path() -> str | None:
    """Where ``dbus-daemon`` is, or None."""
    return shutil.which("dbus-daemon") or next(
        (p for p in ("/usr/bin/dbus-daemon", "/bin/dbus-daemon") if os.access(p, os.X_OK)),
        None)


class PrivateSystemBus:
    """One ``dbus-daemon`` of our own; while started, ``DBUS_SYSTEM_BUS_ADDRESS`` points
    this process (and children started then) at it."""

    def __init__(self) -> None:
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._previous: str | None = None
        self.address: str | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> str:
        """Start the daemon, point the system bus variable at it and return its address.

        Raises ``DbusDaemonMissing`` (one sentence) when Debian's ``dbus-daemon`` package is
        not installed, RuntimeError when the daemon does not come up."""
        if self._process is not None:
            raise RuntimeError("this private D-Bus is already running")
        daemon = dbus_daemon_path()
        if daemon is None:
            raise DbusDaemonMissing(
                "dbus-daemon is not installed: install Debian's dbus-daemon package "
                "(sudo apt-get install dbus-daemon), which .ci/run installs by itself")
        self._dir = tempfile.TemporaryDirectory(prefix="hiaim-dbus-")
        socket = Path(self._dir.name) / "system_bus_socket"
        config = Path(self._dir.name) / "bus.conf"
        config.write_text(_CONFIG.format(socket=socket), encoding="utf-8")
        self._process = subprocess.Popen(
            [daemon, f"--config-file={config}", "--nofork", "--nopidfile",
             "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        assert self._process.stdout is not None
        # The daemon prints its address once it listens: reading that line is the wait.
        line = self._process.stdout.readline().decode().strip()
        if not line:
            err = b""
            with contextlib.suppress(subprocess.TimeoutExpired):
                _out, err = self._process.communicate(timeout=_START_TIMEOUT_S)
            self.stop()
            raise RuntimeError(f"dbus-daemon did not start: {err.decode().strip()}")
        self.address = line
        self._previous = os.environ.get(SYSTEM_BUS_VARIABLE)
        os.environ[SYSTEM_BUS_VARIABLE] = line
        return line

    def stop(self) -> None:
        """End the daemon and put the system bus variable back; safe to call twice."""
        process, self._process = self._process, None
        if process is not None:
            if self.address is not None:
                if self._previous is None:
                    os.environ.pop(SYSTEM_BUS_VARIABLE, None)
                else:
                    os.environ[SYSTEM_BUS_VARIABLE] = self._previous
            process.terminate()
            try:
                process.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
        self.address = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
