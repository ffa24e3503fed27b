"""Connected orgs and pending consent requests.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("login_url", sa.String(255), nullable=False),
        sa.Column("instance_url", sa.String(255), nullable=False),
        sa.Column("identity_url", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(18), nullable=False),
        sa.Column("org_id", sa.String(18), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("access_issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "consent_requests",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("login_url", sa.String(255), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("code_verifier", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_consent_requests_expires_at", "consent_requests", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_consent_requests_expires_at", table_name="consent_requests")
    op.drop_table("consent_requests")
    op.drop_table("connections")
