"""The Flask application: ``create_app(settings)``, blueprints, one JSON error handler.

Configuration is parsed once, by ``sfdc.settings.settings``; the shared ``TokenService``
lives in ``app.extensions``. This package depends on the core; the core never
imports Flask.

May import: every core part (``sfdc.access``, ``sfdc.orgs`` and below, ``sfdc.client``); never
``sfdc.ops`` or ``sfdc.emulator``.
"""

from __future__ import annotations

import logging
import re
import uuid

import requests
from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from sfdc.access.keyring import Keyring
from sfdc.access.store import KeyStore
from sfdc.clock import Clock, utc_now
from sfdc.errors import ConsentRequired, InvalidRequest
from sfdc.orgs.connections import Connections
from sfdc.orgs.store import ConnectionStore
from sfdc.settings.durations import human
from sfdc.settings.settings import Settings, load_settings
from sfdc.telemetry import logs
from sfdc.tokens.service import TokenService
from sfdc.web import (
    approve,
    connection_test,
    connections,
    demo,
    errors,
    health,
    keys,
    metrics,
    openapi,
    proxy,
    tokens,
)
from sfdc.web.auth import KEYRING_KEY
from sfdc.web.extension import CONNECTIONS_KEY, KEY
from sfdc.web.request_body import BodyDeadline
from sfdc.web.spool import SPOOL_DIR

log = logging.getLogger(__name__)

__all__ = ["create_app", "routes", "start_background", "stop_background"]

# Salesforce's REST API takes request bodies up to about 50 MB (composite and
# blob inserts); larger ones are refused with 413 before they are sent on.
MAX_PROXIED_BODY = 64 * 1024 * 1024


# A host name or address, with an optional port: what a router may report as the host
# callers used (``Host``, or ``X-Forwarded-Host`` through ProxyFix).
_HOST = re.compile(
    r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?"
)


def _start_request() -> None:
    """Tag this request's log lines: CF's router id when present, else a fresh one; and
    refuse an address that is not one, before any work."""
    # From the environ: request.headers.get builds and discards a KeyError per absent header.
    given = logs.clean_request_id(request.environ.get("HTTP_X_VCAP_REQUEST_ID"))
    logs.REQUEST_ID.set(given or uuid.uuid4().hex)
    # The scheme and host callers used become this service's address in the links it
    # answers with (connect URLs, rewritten Salesforce links): only http(s) and a host.
    if request.scheme not in ("http", "https") or not _HOST.fullmatch(request.host):
        raise InvalidRequest(
            "The request's scheme or host is not http(s) and a host name with an optional "
            "port (as sent in Host, or by a router in X-Forwarded-Proto / X-Forwarded-Host).",
            hint="Send a plain Host header; behind a router, let it set X-Forwarded-Proto and "
            "X-Forwarded-Host (or set SFDC_PUBLIC_URL).",
        )


def _finish_response(response: Response) -> Response:
    """Every answer: not to be stored, and tagged with the request's id (one hook, not two:
    Flask's per-hook cost is paid on every call, proxied ones included)."""
    # Answers may hold live credentials; no proxy or browser should keep them.
    response.headers.setdefault("Cache-Control", "no-store")
    request_id = logs.REQUEST_ID.get()
    if request_id:
        response.headers["X-Request-Id"] = request_id
    return response


def routes(app: Flask) -> None:
    """Every endpoint, on ``app``'s URL map: what ``/openapi.json`` describes."""
    # The proxy must see '//host' paths to refuse them, not have them merged away.
    app.url_map.merge_slashes = False
    app.url_map.converters["anypath"] = proxy.AnyPath
    app.url_map.converters["somepath"] = proxy.SomePath
    for blueprint in (
        approve.bp,
        connection_test.bp,
        connections.bp,
        demo.bp,
        health.bp,
        keys.bp,
        metrics.bp,
        openapi.bp,
        proxy.bp,
        tokens.bp,
    ):
        app.register_blueprint(blueprint)


def create_app(
    settings: Settings | None = None,
    *,
    session: requests.Session | None = None,
    clock: Clock = utc_now,
    spool_dir: str | None = None,
) -> Flask:
    """The app for ``settings`` (default: loaded from the environment; may raise ConfigError).

    ``spool_dir`` holds the temporary files of large proxied bodies (default: the
    system's temporary directory, ``TMPDIR``)."""
    settings = settings or load_settings()
    for warning in settings.warnings:
        log.warning("%s", warning)
    log.info(
        "signing as %s for %s with certificate %s from %s; audience %s; %d API key(s); "
        "token cache: %s; expiry from %s",
        settings.consumer_key,
        settings.username,
        settings.certificate_fingerprint,
        settings.key_source,
        settings.audience,
        len(settings.api_keys),
        f"Redis ({settings.redis.source})" if settings.redis else "this process only",
        "introspection" if settings.consumer_secret else f"max age {settings.token_max_age}",
    )
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    service = TokenService(settings, session=session, clock=clock)
    app.extensions[KEY] = service
    key_store: KeyStore | None = None
    if settings.connections_enabled and settings.database is not None:
        store = ConnectionStore(settings.database)
        store.migrate()  # before serving: a schema change never meets old code's rows
        app.extensions[CONNECTIONS_KEY] = Connections(settings, store, service.transport, clock)
        key_store = KeyStore(store, clock)  # named API keys live beside the connections
        after = settings.keepalive.after
        log.info(
            "connected orgs: on; stored in %s; callback %s; keep-alive %s; alerts webhook %s",
            settings.database.description,
            settings.callback_url or "<this service's URL>/oauth/callback",
            f"after {human(after)} idle, every {human(settings.keepalive.interval)}"
            if after is not None
            else "off",
            settings.webhook.description if settings.webhook is not None else "off",
        )
    else:
        log.info("connected orgs: off (set SFDC_ENCRYPTION_KEY to turn them on)")
    app.extensions[KEYRING_KEY] = Keyring(settings.api_keys, key_store, clock)
    errors.init_app(app)
    app.register_error_handler(ConsentRequired, connections.consent_required)
    # Proxied bodies are spooled once so a re-authenticated request can be replayed.
    app.config["MAX_CONTENT_LENGTH"] = MAX_PROXIED_BODY
    app.config[SPOOL_DIR] = spool_dir
    routes(app)
    hops = settings.public.forwarded_hops
    if hops:  # the scheme and host callers used, as the trusted router(s) report them
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    # A body that trickles or stops short ends in 408/400 instead of holding a worker.
    app.wsgi_app = BodyDeadline(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(_start_request)
    app.after_request(_finish_response)
    return app


def start_background(app: Flask) -> None:
    """Start ``app``'s background work (the keep-alive job) in this process.

    gunicorn calls it in each worker after the fork (``post_worker_init`` in
    ``gunicorn.conf.py``): a thread started in the master, where ``--preload``
    runs ``create_app``, would not exist in the workers. ``create_app`` itself
    starts nothing, so an app made by a test or a script leaves no thread behind.
    """
    found = app.extensions.get(CONNECTIONS_KEY)
    if isinstance(found, Connections):
        found.start()


def stop_background(app: Flask, timeout: float = 5.0) -> None:
    """Stop what ``start_background`` started, and let waiting alerts go out, within
    ``timeout`` seconds (gunicorn's ``worker_exit``)."""
    found = app.extensions.get(CONNECTIONS_KEY)
    if isinstance(found, Connections):
        found.stop(timeout)
