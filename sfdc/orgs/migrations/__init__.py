"""Alembic migrations for ``sfdc.orgs.schema``; run at start-up by ``sfdc.orgs.store.migrate``."""
