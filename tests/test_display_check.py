"""The check that Qt's xcb platform can load, run before Qt is imported: from ldd's output
it names the missing libraries and the Debian packages that hold them, in one line."""

import subprocess
from pathlib import Path

from hiaim_monitor import display_check
from hiaim_monitor.cli import main
from hiaim_monitor.display_check import XcbCheck, check_xcb, missing_libraries, missing_line

# ldd on PySide6 6.11's libqxcb.so on a stock Debian 12 desktop (abridged).
STOCK_DEBIAN_LDD = """\
\tlinux-vdso.so.1 (0x00007ffd0c5f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f2a1c000000)
\tlibxkbcommon-x11.so.0 => /lib/x86_64-linux-gnu/libxkbcommon-x11.so.0 (0x00007f2a1bff0000)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f2a1bfe0000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-cursor.so.0 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f2a1bfb0000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2a1bc00000)
"""


def test_every_missing_library_is_named_with_its_debian_package():
    missing = missing_libraries(STOCK_DEBIAN_LDD)
    assert missing == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    check = XcbCheck(tuple(missing), tuple(display_check.packages_for(missing)))
    line = missing_line(check)
    assert "\n" not in line
    assert "'sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1'" in line


def test_a_library_without_a_known_package_is_named_as_it_is():
    assert display_check.packages_for(["libxcb-cursor.so.0", "libfoo.so.3"]) == [
        "libxcb-cursor0", "libfoo.so.3"]


def test_nothing_is_missing_when_ldd_finds_everything():
    assert missing_libraries(STOCK_DEBIAN_LDD.replace("not found", "/lib/x.so (0x1)")) == []


def test_the_check_runs_ldd_on_pyside6s_own_plugin():
    plugin = display_check.xcb_plugin()
    assert plugin is not None and plugin.name == "libqxcb.so"
    # This machine (and CI, which installs them) has every library Qt needs.
    assert check_xcb(plugin).ok, missing_line(check_xcb(plugin))


def _plugin_needing(folder: Path, soname: str) -> Path:
    """A real shared library linked against ``soname``, which is then deleted: to the
    dynamic linker it is a plugin whose X library is not installed."""
    (folder / "dep.c").write_text("int hiaim_dep(void) { return 1; }\n")
    (folder / "plugin.c").write_text(
        "extern int hiaim_dep(void);\nint hiaim_plugin(void) { return hiaim_dep(); }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(folder / soname),
                    f"-Wl,-soname,{soname}", str(folder / "dep.c")], check=True)
    plugin = folder / "libqxcb.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(plugin), str(folder / "plugin.c"),
                    f"-L{folder}", f"-l:{soname}"], check=True)
    (folder / soname).unlink()
    return plugin


def test_a_plugin_whose_library_is_not_installed_is_found_out(tmp_path):
    check = check_xcb(_plugin_needing(tmp_path, "libxcb-hiaim-test.so.0"))
    assert check.missing_libraries == ("libxcb-hiaim-test.so.0",)


def test_without_the_libraries_the_app_says_so_in_one_line_and_shows_the_table(
        tmp_path, monkeypatch, capsys):
    plugin = _plugin_needing(tmp_path, "libxcb-cursor-hiaim-test.so.0")
    monkeypatch.setattr(display_check, "xcb_plugin", lambda: plugin)
    monkeypatch.setenv("DISPLAY", ":199")  # nothing listens there: Qt would abort
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["--simulate", "2", "--speed", "100", "--duration", "20",
                 "--db", f"sqlite:///{tmp_path / 'sim.sqlite3'}"]) == 0
    out, err = capsys.readouterr()
    line = [ln for ln in err.splitlines() if "Qt cannot open a window" in ln]
    assert len(line) == 1
    assert "libxcb-cursor-hiaim-test.so.0" in line[0]
    assert line[0].endswith("Showing the live table in the terminal instead.")
    assert "Session finished" in out


def test_offscreen_and_wayland_need_no_x_libraries():
    assert not display_check.wants_xcb({"DISPLAY": ":1", "QT_QPA_PLATFORM": "offscreen"})
    assert not display_check.wants_xcb({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":1"})
    assert not display_check.wants_xcb({})
    assert display_check.wants_xcb({"DISPLAY": ":1"})
    assert display_check.wants_xcb({"DISPLAY": ":1", "QT_QPA_PLATFORM": "xcb"})
