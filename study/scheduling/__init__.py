"""Scheduling of waves: due dates (plan), the set-based tick, the one-scheduler lease, the runner."""
