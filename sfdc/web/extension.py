"""Where the shared ``TokenService`` lives: ``app.extensions``, not a module global."""

from __future__ import annotations

from flask import current_app

from sfdc.flow import TokenService

KEY = "sfdc"


def token_service() -> TokenService:
    service: TokenService = current_app.extensions[KEY]
    return service
