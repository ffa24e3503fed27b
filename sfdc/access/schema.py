"""The ``api_keys`` table, in the connections database (migration ``0005``).

One row per named key: its id, the client it belongs to, the SHA-256 of the
key (never the key), its scopes (space-separated), an optional default
connection, and when it was created, last rotated, and revoked. A revoked key
keeps its row, so ``keys list`` still says who held it and when it ended.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sfdc.orgs.schema import NAME_LENGTH, Base, UtcDateTime


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    client: Mapped[str] = mapped_column(String(NAME_LENGTH))
    digest: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(Text)
    default_connection: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
