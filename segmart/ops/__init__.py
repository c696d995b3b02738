"""Running segmart unattended: one run at a time, the inbox lifecycle, the run log, alerts,
freshness, lock handling against BI sessions, and scheduler entries."""
