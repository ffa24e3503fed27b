"""Connected orgs: onboarding through the web-server flow, stored refresh tokens.

``service.Connections`` is the entry point; ``store`` holds the database,
``vault`` seals secrets for it, ``consent`` signs the connect link's state.
"""
