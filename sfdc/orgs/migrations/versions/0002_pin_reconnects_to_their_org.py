"""Consent requests remember the org a reconnect must stay in.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent_requests") as batch:
        batch.add_column(sa.Column("org_id", sa.String(18), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_requests") as batch:
        batch.drop_column("org_id")
