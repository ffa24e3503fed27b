"""Telemetry: JSON log lines and Prometheus metrics.

Used by every other part; imports none of them.
"""
