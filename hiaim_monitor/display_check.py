"""Can Qt open a window on this X display? PySide6's xcb platform plugin needs X libraries
that a stock Debian desktop may lack (libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, ...),
and Qt names only the first missing one before it aborts the program. This module asks the
dynamic linker (``ldd``) which of the plugin's libraries are missing, names the Debian
packages that hold them, and installs them when it can do so without asking.

No Qt import here: the check runs before Qt is loaded, so a missing library costs one line,
not an abort.

    python -m hiaim_monitor.display_check            # one line when libraries are missing
    python -m hiaim_monitor.display_check --install  # install them (root or sudo -n)
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

# The Debian (12 and later) package of each library that Qt's xcb plugin loads.
DEBIAN_PACKAGES: Final = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}
LDD_TIMEOUT_S: Final = 20.0
_NOT_FOUND: Final = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class XcbCheck:
    missing_libraries: tuple[str, ...]  # sonames the linker cannot find
    packages: tuple[str, ...]  # Debian packages holding them (a soname when unknown)

    @property
    def ok(self) -> bool:
        return not self.missing_libraries


def missing_libraries(ldd_output: str) -> list[str]:
    """The libraries ``ldd`` reports as "not found", in its order, each once."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def packages_for(libraries: list[str] | tuple[str, ...]) -> list[str]:
    """The Debian packages that hold ``libraries``, each once; a library this module does
    not know is named as it is."""
    return list(dict.fromkeys(DEBIAN_PACKAGES.get(lib, lib) for lib in libraries))


def install_command(packages: list[str] | tuple[str, ...]) -> str:
    return "sudo apt-get install " + " ".join(packages)


def missing_line(check: XcbCheck) -> str:
    """The one line for a user whose machine lacks what Qt's xcb platform needs."""
    return (f"Qt cannot open a window here: the X libraries {', '.join(check.missing_libraries)} "
            f"are missing; install them with '{install_command(check.packages)}'.")


def xcb_plugin() -> Path | None:
    """PySide6's xcb platform plugin, found without importing Qt; None when not there."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.exists():
            return plugin
    return None


def check_xcb(plugin: Path | None = None) -> XcbCheck:
    """What Qt's xcb plugin would miss on this machine. Nothing is reported where it cannot
    be told (not Linux, no ldd, no plugin): Qt's own message then stands."""
    plugin = plugin or xcb_plugin()
    ldd = shutil.which("ldd")
    if not sys.platform.startswith("linux") or plugin is None or ldd is None:
        return XcbCheck((), ())
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True,
                             timeout=LDD_TIMEOUT_S, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return XcbCheck((), ())
    missing = missing_libraries(out)
    return XcbCheck(tuple(missing), tuple(packages_for(missing)))


def wants_xcb(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """True when Qt would use its xcb platform: Linux with an X display, and no other
    platform asked for (offscreen, wayland)."""
    if not sys.platform.startswith("linux") or not environ.get("DISPLAY"):
        return False
    platform = environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0].split(";")[0] == "xcb"
    # Qt prefers Wayland in a Wayland session, and falls back to xcb (XWayland).
    return not environ.get("WAYLAND_DISPLAY")


def _can_install() -> list[str] | None:
    """The command prefix that installs packages without asking, or None."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True,
                               check=False).returncode == 0:
        return [sudo, "-n"]
    return None


def install(check: XcbCheck) -> bool:
    """Install the missing packages with apt-get when that needs no password; True when
    the libraries are all there afterwards."""
    prefix = _can_install()
    if prefix is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"Installing what Qt needs to open a window: {' '.join(check.packages)}",
          flush=True)
    for args in (["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                  *check.packages]):
        if subprocess.run([*prefix, *args], env=env, check=False,
                          stdout=subprocess.DEVNULL).returncode != 0:
            return False
    return check_xcb().ok


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when a window can open (or no X display is in use), else 1 after one line
    on stderr; ``--install`` first installs what is missing when it can."""
    args = sys.argv[1:] if argv is None else argv
    if not wants_xcb():
        return 0
    check = check_xcb()
    if check.ok:
        return 0
    if "--install" in args and install(check):
        return 0
    print(f"hiaim-monitor: {missing_line(check)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
