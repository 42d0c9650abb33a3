"""The researcher's side: the participant and strap registry, recorded sessions, crash
recovery, schema upgrades and exports, as plain functions (``registry``, ``session_info``)
and as argparse subcommands for cli.py (``add_admin_commands``, ``run_admin_command``)."""

from hiaim_monitor.admin.commands import add_admin_commands, is_admin_command, run_admin_command

__all__ = ["add_admin_commands", "is_admin_command", "run_admin_command"]
