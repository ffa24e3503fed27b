"""The operator commands are tried against a served app: the web tests' fixtures."""

from tests.web.conftest import app, emulator, live_clock, settings

__all__ = ["app", "emulator", "live_clock", "settings"]
