"""Telemetry: JSON log lines, Prometheus metrics, and fingerprints naming secrets in them.

Used by every other part; imports none of them.
"""
