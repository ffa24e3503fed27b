"""A local stand-in for Salesforce's OAuth 2.0 flows (JWT bearer, web server with PKCE,
refresh token, revoke), identity URLs, the REST API (versions, describes, sObject rows,
upsert, SOQL queries with paging, limits), Bulk API 2.0, Bulk API 1.0 and a canned Apex
REST service.

Salesforce cannot be reached from development and CI machines, so integration tests and
`make run` talk to this emulator over real HTTP instead. It follows Salesforce's documented
behaviour (sources: the team's research notes, `salesforce-oauth.md`) strictly enough to
catch client mistakes, and shares no code with the client in `sfdc`.
"""

from .app import create_emulator_app
from .config import EmulatorConfig
from .server import RunningEmulator, running_emulator, serve
from .state import EmulatorState

__all__ = [
    "EmulatorConfig",
    "EmulatorState",
    "RunningEmulator",
    "create_emulator_app",
    "running_emulator",
    "serve",
]
