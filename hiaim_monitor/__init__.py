"""hiaim_monitor."""
