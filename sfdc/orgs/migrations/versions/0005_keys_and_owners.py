"""Named API keys (hashes only); connections and connect links name the client behind them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("default_connection", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("created_by", sa.String(64), nullable=True))
    with op.batch_alter_table("consent_requests") as batch:
        batch.add_column(sa.Column("requested_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_requests") as batch:
        batch.drop_column("requested_by")
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("created_by")
    op.drop_table("api_keys")
