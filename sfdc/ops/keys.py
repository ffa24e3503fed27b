"""``python -m sfdc keys create|list|rotate|revoke``: named API keys, without a redeploy.

Thin: each command opens the connections database from the app's settings
(as the service does, migrating it first) and calls ``sfdc.access.store``.
A key is printed once, alone on stdout, by ``create`` and ``rotate``; what it
grants goes to stderr, so ``KEY=$(python -m sfdc keys create ...)`` keeps
just the key. Changes reach every running worker and instance within
``sfdc.access.keyring.REVOCATION_DELAY``; each is an ``sfdc.audit`` line by
client ``cli``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from sfdc.access.keyring import REVOCATION_DELAY
from sfdc.access.scopes import GRAMMAR
from sfdc.access.store import KeyRecord, KeyStore
from sfdc.clock import utc_now
from sfdc.ops.one_line import one_line_errors
from sfdc.telemetry import audit, logs

CLI_CLIENT = "cli"


@contextmanager
def _key_store() -> Iterator[KeyStore]:
    from sfdc.orgs.store import ConnectionStore
    from sfdc.settings.settings import load_settings

    settings = load_settings()
    if settings.database is None:
        raise click.ClickException(
            "named keys live in the connections database, which is off (SFDC_ENCRYPTION_KEY "
            "and SFDC_CONSUMER_SECRET turn it on); only SFDC_API_KEYS work meanwhile"
        )
    store = ConnectionStore(settings.database)
    store.migrate()
    # Each change is an audit line, as the service writes them, on stderr (stdout carries
    # only the key); only while the store is open, so nothing outlives the command.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logs.JsonFormatter())
    trail = logging.getLogger(audit.log.name)
    level = trail.level
    trail.addHandler(handler)
    trail.setLevel(logging.INFO)
    try:
        yield KeyStore(store, utc_now)
    finally:
        trail.removeHandler(handler)
        trail.setLevel(level)
        store.dispose()


def _describe(record: KeyRecord) -> str:
    state = f"revoked {record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "active"
    default = f", default connection {record.default_connection}"
    return (
        f"{record.key_id}  {record.client}  {' '.join(str(s) for s in record.scopes)}"
        f"{default if record.default_connection else ''}  ({state})"
    )


def _show_key(record: KeyRecord, key: str, what: str) -> None:
    click.echo(f"{what} key {record.key_id} for {record.client}: {_describe(record)}", err=True)
    click.echo("The key is shown once, below; store it now (only its hash is kept).", err=True)
    click.echo(key)


@click.group()
def keys() -> None:
    """Named API keys: which client may do what, over which connections."""


@keys.command()
@click.argument("client")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help=f"Repeatable. {GRAMMAR}.",
)
@click.option(
    "--default-connection",
    help="The connection used when a request sends no X-Sfdc-Connection header.",
)
@one_line_errors
def create(client: str, scopes: tuple[str, ...], default_connection: str | None) -> None:
    """Create a key for CLIENT (e.g. billing-app) and print it, once."""
    with _key_store() as store:
        record, key = store.create(client, list(scopes), default_connection)
        audit.record("key_created", client=CLI_CLIENT, connection="-", key_id=record.key_id)
    _show_key(record, key, "Created")


@keys.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the keys as JSON.")
@one_line_errors
def list_keys(as_json: bool) -> None:
    """List every named key (never the keys themselves)."""
    with _key_store() as store:
        records = store.all()
    if as_json:
        click.echo(json.dumps({"keys": [record.to_dict() for record in records]}, indent=2))
        return
    for record in records:
        click.echo(_describe(record))
    if not records:
        click.echo("no named keys (python -m sfdc keys create CLIENT --scope ... makes one)")


@keys.command()
@click.argument("key_id")
@one_line_errors
def rotate(key_id: str) -> None:
    """Give KEY_ID a new secret and print the new key; the old one stops working."""
    with _key_store() as store:
        record, key = store.rotate(key_id)
        audit.record("key_rotated", client=CLI_CLIENT, connection="-", key_id=key_id)
    _show_key(record, key, "Rotated")
    seconds = int(REVOCATION_DELAY.total_seconds())
    click.echo(f"The old key stops working everywhere within {seconds} s.", err=True)


@keys.command()
@click.argument("key_id")
@one_line_errors
def revoke(key_id: str) -> None:
    """Revoke KEY_ID for good."""
    with _key_store() as store:
        record = store.revoke(key_id)
        audit.record("key_revoked", client=CLI_CLIENT, connection="-", key_id=key_id)
    seconds = int(REVOCATION_DELAY.total_seconds())
    click.echo(f"Revoked {_describe(record)}; it stops working everywhere within {seconds} s.")
