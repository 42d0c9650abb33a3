"""Reports built from the store (never from a live session): the session PDF and the
programme PDF, and the same figures as CSV (issue 13)."""
