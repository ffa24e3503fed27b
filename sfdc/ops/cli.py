"""``python -m sfdc``: thin commands over the core.

Each command calls core functions; a library error becomes one line on stderr
and exit status 1. Secrets are written to files (mode 0600) or printed only
when the command exists to print them (``token``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from sfdc.access.keys import new_key
from sfdc.clock import utc_now
from sfdc.ops.keys import keys
from sfdc.ops.one_line import one_line_errors


@click.group()
def main() -> None:
    """Salesforce JWT bearer tokens for Cloud Foundry."""


def _write_secret(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to a file that already exists
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="secrets",
    show_default=True,
    help="Directory for the three files (git and cf push ignore secrets/).",
)
@click.option("--common-name", default="sfdc-token-service", show_default=True)
@click.option(
    "--service",
    default="demo-credhub",
    show_default=True,
    help="CredHub service instance name to suggest.",
)
@click.option(
    "--credential",
    default="demo-certificate",
    show_default=True,
    help="Key of the certificate entry inside the service's credentials.",
)
@click.option("--consumer-key", help="Also store the connected app's consumer key.")
@click.option("--username", help="Also store the integration user's username.")
@click.option(
    "--api-key",
    "with_api_key",
    is_flag=True,
    help="Also generate an API key (stored in the JSON as api_keys).",
)
@click.option(
    "--consumer-secret-stdin",
    "secret_from_stdin",
    is_flag=True,
    help="Also store the connected app's Consumer Secret, read from stdin (asked for without "
    "echo on a terminal). With the files already there, only adds it to the JSON.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing private key.")
def keygen(
    out_dir: Path,
    common_name: str,
    service: str,
    credential: str,
    consumer_key: str | None,
    username: str | None,
    with_api_key: bool,
    secret_from_stdin: bool,
    force: bool,
) -> None:
    """Generate a private key and self-signed certificate, and the CredHub JSON to bind them."""
    from sfdc.ops.keygen import credhub_json, generate, with_consumer_secret

    key_path = out_dir / "private_key.pem"
    cert_path = out_dir / "certificate.pem"
    json_path = out_dir / "credhub-service.json"
    adding = secret_from_stdin and key_path.exists() and not force
    if key_path.exists() and not force and not adding:
        raise click.ClickException(
            f"{key_path} exists; pass --force to replace it, or --consumer-secret-stdin "
            "to add only the consumer secret."
        )
    if adding and (consumer_key or username or with_api_key):
        raise click.ClickException(
            f"{key_path} exists, so --consumer-secret-stdin only adds the consumer secret; "
            "pass --force to make a new pair with the other options."
        )
    if adding and not json_path.exists():
        raise click.ClickException(f"{json_path} is gone; pass --force to make a new pair.")
    consumer_secret = _read_consumer_secret() if secret_from_stdin else None
    if adding and consumer_secret:
        _write_secret(json_path, with_consumer_secret(json_path.read_text(), consumer_secret))
        click.echo(f"Added consumer_secret to {json_path}; the key pair is unchanged.")
        click.echo("")
        _store_and_delete(service, key_path, json_path, first_step=1, api_key=False)
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    pair = generate(common_name, utc_now())
    _write_secret(key_path, pair.private_key_pem)
    cert_path.write_text(pair.certificate_pem)
    api_key = new_key()[1] if with_api_key else None
    document = credhub_json(
        pair,
        credential=credential,
        consumer_key=consumer_key,
        username=username,
        api_key=api_key,
        consumer_secret=consumer_secret,
    )
    _write_secret(json_path, document)
    click.echo(f"Wrote {key_path} (secret, mode 0600), {cert_path}, {json_path} (secret).")
    click.echo("")
    click.echo(f"1. Upload {cert_path} to your connected app: App Manager > (app) > Edit >")
    click.echo("   Enable OAuth Settings > Use digital signatures.")
    step = 2
    if not consumer_secret:
        click.echo("2. Once the app is saved, add its Consumer Secret (for connected orgs and real")
        click.echo("   token expiry); paste it when asked, it is not shown:")
        click.echo(f"     python -m sfdc keygen --out {out_dir} --consumer-secret-stdin")
        step = 3
    _store_and_delete(service, key_path, json_path, first_step=step, api_key=bool(api_key))


def _read_consumer_secret() -> str:
    """The Consumer Secret from stdin: a prompt without echo on a terminal, else a pipe."""
    from sfdc.ops.keygen import consumer_secret_from

    stdin = click.get_text_stream("stdin")
    if stdin.isatty():
        text = click.prompt("Consumer Secret (not shown)", hide_input=True, err=True)
    else:
        text = stdin.read()
    try:
        return consumer_secret_from(text)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _store_and_delete(
    service: str, key_path: Path, json_path: Path, *, first_step: int, api_key: bool
) -> None:
    click.echo(f"{first_step}. Store key and certificate in CredHub and bind them:")
    click.echo(f"     cf create-service credhub default {service} -c {json_path}")
    click.echo(f"     cf bind-service APP {service}   # or list it under services: in manifest.yml")
    if api_key:
        click.echo(f"   Callers send the api_keys value from {json_path} as a Bearer token:")
        click.echo("   copy it into your secret store now, CredHub will not show it again.")
    click.echo(f"{first_step + 1}. Delete {key_path} and {json_path} once CredHub holds them.")


@main.command()
@click.option(
    "--certificate",
    "certificate_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The certificate 'uploaded to the connected app'.",
)
@click.option("--consumer-key", required=True, help="The emulated connected app's consumer key.")
@click.option(
    "--username",
    "usernames",
    required=True,
    multiple=True,
    help="A pre-authorized user (repeatable).",
)
@click.option("--consumer-secret", help="Enables introspection and response signatures.")
@click.option("--sandbox", is_flag=True, help="Emulate a sandbox (audience test.salesforce.com).")
@click.option(
    "--callback-url",
    "callback_urls",
    multiple=True,
    help="A registered Callback URL for the web-server flow (repeatable).",
)
@click.option(
    "--rotate-refresh-tokens", is_flag=True, help="Issue a new refresh token on every refresh."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=int)
def emulator(
    certificate_file: Path,
    consumer_key: str,
    usernames: tuple[str, ...],
    consumer_secret: str | None,
    sandbox: bool,
    callback_urls: tuple[str, ...],
    rotate_refresh_tokens: bool,
    host: str,
    port: int,
) -> None:
    """Serve the local Salesforce stand-in (token endpoint, identity URL, REST)."""
    from sfdc.emulator import EmulatorConfig, serve

    config = EmulatorConfig(
        consumer_key=consumer_key,
        certificate_pem=certificate_file.read_bytes(),
        usernames=usernames,
        audience="https://test.salesforce.com" if sandbox else "https://login.salesforce.com",
        consumer_secret=consumer_secret,
        callback_urls=callback_urls,
        rotate_refresh_tokens=rotate_refresh_tokens,
    )
    serve(config, host, port)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print Salesforce's whole token response.")
@click.option("--assertion", is_flag=True, help="Print only a signed JWT assertion; no login.")
@one_line_errors
def token(as_json: bool, assertion: bool) -> None:
    """Print an access token, using the service's configuration (environment)."""
    from sfdc.settings.settings import load_settings
    from sfdc.tokens.service import TokenService

    service = TokenService(load_settings())
    if assertion:
        click.echo(service.flow.assertion().token)
        return
    exchange = service.current()
    click.echo(
        json.dumps(exchange.response.body, indent=2) if as_json else exchange.token.access_token
    )


@main.command()
@click.option("--offline", is_flag=True, help="Only check the configuration; no login.")
@click.option("--json", "as_json", is_flag=True, help="Print the steps as JSON.")
def check(offline: bool, as_json: bool) -> None:
    """Check the configuration as the service would, then log in once and call the identity URL."""
    from sfdc.ops.check import run

    steps = run(offline=offline)
    if as_json:
        click.echo(json.dumps([step.to_dict() for step in steps], indent=2))
    else:
        for step in steps:
            click.echo(step.line())
    sys.exit(0 if all(step.ok for step in steps) else 1)


@main.command()
@one_line_errors
def reseal() -> None:
    """Seal every stored connection secret again under the first SFDC_ENCRYPTION_KEY entry.

    Run after putting a new key first (README: Rotating the encryption key);
    exit status 0 means no stored value needs the older keys any more.
    """
    from sfdc.orgs.reseal import reseal as reseal_all
    from sfdc.orgs.store import ConnectionStore
    from sfdc.settings.settings import load_settings
    from sfdc.tokens.sealing import ColumnSealer

    settings = load_settings()
    if not settings.connections_enabled or settings.database is None:
        raise click.ClickException(
            "connected orgs are off (SFDC_ENCRYPTION_KEY and SFDC_CONSUMER_SECRET turn them "
            "on): nothing is sealed in a database"
        )
    store = ConnectionStore(settings.database)
    store.migrate()  # as the service does at start-up: the columns it re-seals exist
    try:
        report = reseal_all(store, ColumnSealer(settings.encryption_keys))
    finally:
        store.dispose()
    for line in report.lines():
        click.echo(line)
    if report.unreadable:
        click.echo(
            "Put back the key that sealed them (after the first), or connect those "
            "connections again, before removing any key.",
            err=True,
        )
        sys.exit(1)


@main.command()
@click.option("--once", is_flag=True, help="Run one pass now and exit (for scheduled tasks).")
@one_line_errors
def keepalive(once: bool) -> None:
    """Refresh idle connected orgs before Salesforce expires their refresh tokens."""
    from sfdc.ops import keepalive as job
    from sfdc.telemetry import logs

    logs.configure(sys.stderr)  # stdout carries the result
    connections = job.open_connections()
    if once:
        click.echo(job.once(connections))
    else:
        job.forever(connections)


@main.command()
@click.argument("url")
@click.option("--api-key", envvar="SFDC_SMOKE_API_KEY", help="Also check /token and /connection.")
@click.option(
    "--connection",
    "connections",
    multiple=True,
    help="Also test this stored connection (connected org) through /connection (repeatable).",
)
@click.option(
    "--wait",
    default=0.0,
    show_default=True,
    type=float,
    help="Seconds to keep retrying /healthz while a fresh deploy comes up.",
)
@click.option(
    "--timeout", default=10.0, show_default=True, type=float, help="Seconds for each request."
)
@click.option(
    "--require-key",
    is_flag=True,
    help="Fail, rather than skip, the key checks when no API key is given.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.option(
    "--junit",
    "junit_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write JUnit XML for CI test reports.",
)
def smoke(
    url: str,
    api_key: str | None,
    connections: tuple[str, ...],
    wait: float,
    timeout: float,
    require_key: bool,
    as_json: bool,
    junit_file: Path | None,
) -> None:
    """Smoke-test a deployed service at URL (for CI right after cf push)."""
    from sfdc.ops.smoke import Smoke, junit

    if not url.startswith(("https://", "http://")):
        raise click.BadParameter(f"give the scheme too, e.g. https://{url}", param_hint="URL")
    results = Smoke(url, api_key=api_key or None, connections=connections, timeout=timeout).run(
        wait=wait, require_key=require_key
    )
    if as_json:
        report = {
            "url": url,
            "passed": all(r.status != "fail" for r in results),
            "checks": [r.to_dict() for r in results],
        }
        click.echo(json.dumps(report, indent=2))
    else:
        for result in results:
            click.echo(result.line())
    if junit_file is not None:
        junit_file.write_bytes(junit(results))
    sys.exit(1 if any(r.status == "fail" for r in results) else 0)


main.add_command(keys)
