"""Sealing every stored secret again under the first ``SFDC_ENCRYPTION_KEY`` entry.

The middle step of a key rotation (README, "Rotating the encryption key"):
with the new key first and the old one still listed, ``python -m sfdc reseal``
makes the old key unnecessary, so it can be removed without a connection
turning ``needs_consent``. Each connection is re-sealed under its row lock, so
a refresh that rotates the refresh token meanwhile is never undone; pending
connect links are re-sealed in one transaction.

A value no configured key opens is reported by connection and column, never
by value. An access token like that is dropped (it is only a shared copy; the
next use refreshes it); a refresh token or PKCE verifier is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from sfdc.orgs.schema import ConnectionRow, ConsentRequestRow
from sfdc.orgs.store import ConnectionStore
from sfdc.tokens.sealing import ColumnSealer


@dataclass
class ResealReport:
    """Counts and names only: what a terminal or CI log may show."""

    key_id: str
    resealed: int = 0
    current: int = 0
    dropped: int = 0
    unreadable: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        found = [
            f"sealing key {self.key_id} (the first SFDC_ENCRYPTION_KEY entry)",
            f"resealed {self.resealed} value(s); {self.current} already sealed with it",
        ]
        if self.dropped:
            found.append(
                f"dropped {self.dropped} shared access token(s) no configured key opens; "
                "they are fetched again on next use"
            )
        if self.unreadable:
            found.append(
                f"{len(self.unreadable)} value(s) no configured key opens: "
                + ", ".join(self.unreadable)
            )
        return found


def _resealed(
    report: ResealReport, sealer: ColumnSealer, sealed: str, *, name: str, purpose: str
) -> str | None:
    """``sealed`` under the first key (itself if it already is), counted; None if unreadable."""
    secret = sealer.open(sealed, name=name, purpose=purpose)
    if secret is None:
        return None
    if sealer.is_current(sealed):
        report.current += 1
        return sealed
    report.resealed += 1
    return sealer.seal(secret, name=name, purpose=purpose)


def _reseal_connection(row: ConnectionRow, sealer: ColumnSealer, report: ResealReport) -> None:
    refresh = _resealed(report, sealer, row.refresh_token, name=row.name, purpose="refresh_token")
    if refresh is None:
        report.unreadable.append(f"{row.name} refresh_token")
    else:
        row.refresh_token = refresh
    if row.access_token is None:
        return
    access = _resealed(report, sealer, row.access_token, name=row.name, purpose="access_token")
    if access is None:  # only a shared copy: the next use refreshes it
        row.access_token = row.access_issued_at = row.access_expires_at = None
        report.dropped += 1
    else:
        row.access_token = access


def reseal(store: ConnectionStore, sealer: ColumnSealer) -> ResealReport:
    """Seal every connection's tokens and every pending link's verifier under the first key."""
    report = ResealReport(sealer.keyring.sealing_id)
    for name in [row.name for row in store.all()]:
        with store.locked(name) as (_session, row):
            if row is not None:  # else deleted meanwhile
                _reseal_connection(row, sealer, report)
    with store.session(write=True) as session:
        for pending in session.scalars(select(ConsentRequestRow).with_for_update()):
            verifier = _resealed(
                report, sealer, pending.code_verifier, name=pending.nonce, purpose="code_verifier"
            )
            if verifier is None:
                report.unreadable.append(f"{pending.name} (pending connect link)")
            else:
                pending.code_verifier = verifier
    return report
