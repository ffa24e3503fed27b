"""Finding the signing credential among Cloud Foundry service bindings.

``VCAP_SERVICES`` maps each service label to its bound instances; CredHub
service-broker bindings (label ``credhub``) and user-provided services (label
``user-provided``) carry the same ``credentials`` object, so we look bindings up
by name or by content, never by label. A credential may sit at the top level
(``private_key``/``certificate``) or under a named entry, itself holding them
directly or under ``value`` as CredHub certificate credentials do. See
``research/cloudfoundry.md`` §1-2. Messages name services and keys, never values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import cfenv

from sfdc.errors import ConfigError

_TOP_LEVEL = ""  # the entry name standing for "the credentials object itself"


@dataclass(frozen=True)
class Credential:
    """One credential inside one bound service, with a lookup for settings."""

    service: str
    entry: str
    layers: tuple[Mapping[str, Any], ...] = field(repr=False)

    @property
    def source(self) -> str:
        where = f"service '{self.service}'"
        return f"{where}, credential '{self.entry}'" if self.entry else where

    def get(self, key: str) -> str | None:
        """The innermost string value for ``key``: entry value, entry, then service."""
        for layer in self.layers:
            value = layer.get(key)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                value = ",".join(value)  # e.g. api_keys given as a JSON list
            if isinstance(value, str) and value.strip():
                return value
        return None


def services(environ: Mapping[str, str]) -> list[cfenv.Service]:
    """The bound services; none outside Cloud Foundry."""
    raw = environ.get("VCAP_SERVICES")
    if raw is None:
        return []
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"VCAP_SERVICES is not JSON ({exc.msg} at character {exc.pos}).",
            hint="On Cloud Foundry it is set by the platform: do not override it with "
            "`cf set-env`. Locally, unset it or give it the JSON of `cf env APP`.",
        ) from exc
    if not isinstance(document, dict) or not all(isinstance(v, list) for v in document.values()):
        raise ConfigError(
            "VCAP_SERVICES is JSON but not an object of service lists.",
            hint='Give it the shape Cloud Foundry uses: {"credhub": [{"name": ..., '
            '"credentials": {...}}]}.',
        )
    found = []
    for label, bindings in document.items():
        for binding in bindings:
            if not (
                isinstance(binding, dict)
                and isinstance(binding.get("name"), str)
                and isinstance(binding.get("credentials", {}), dict)
            ):
                raise ConfigError(
                    f"VCAP_SERVICES has a '{label}' binding without a name or with credentials "
                    "that are not an object.",
                    hint="Give each binding the shape Cloud Foundry uses: "
                    '{"name": ..., "label": ..., "credentials": {...}}.',
                )
            found.append(cfenv.Service(binding))
    return found


def names(service: cfenv.Service) -> set[str]:
    """What a binding answers to: its name, instance name and binding name."""
    return {
        str(service.env[key])
        for key in ("name", "instance_name", "binding_name")
        if service.env.get(key)
    }


def _holds_pem(mapping: Any) -> bool:
    return isinstance(mapping, dict) and "private_key" in mapping


def _entries(credentials: Mapping[str, Any]) -> list[str]:
    """Names of the entries holding a private key; ``_TOP_LEVEL`` for the object itself."""
    found = [
        name
        for name, entry in credentials.items()
        if isinstance(entry, dict) and (_holds_pem(entry) or _holds_pem(entry.get("value")))
    ]
    return found or ([_TOP_LEVEL] if _holds_pem(credentials) else [])


def _is_reference(service: cfenv.Service) -> bool:
    return set(service.credentials) == {"credhub-ref"}


def _reference_error(service: cfenv.Service) -> ConfigError:
    return ConfigError(
        f"The credentials of service '{service.name}' are still a credhub-ref: CredHub "
        "interpolation did not happen.",
        hint="Cloud Foundry's launcher resolves it as it starts a process: run the service "
        "through `cf push`/`cf restart`, and in a `cf ssh` shell run commands through "
        "`/tmp/lifecycle/launcher`; a copy of `cf env` holds only the reference. Locally, "
        "set SFDC_PRIVATE_KEY_FILE and SFDC_CERTIFICATE_FILE instead.",
    )


def _choose_service(bound: list[cfenv.Service], name: str | None) -> cfenv.Service | None:
    listing = ", ".join(sorted(s.name for s in bound)) or "none"
    if name:
        matches = [s for s in bound if name in names(s)]
        if not matches:
            raise ConfigError(
                f"SFDC_CREDHUB_SERVICE is '{name}', but no bound service has that name "
                f"(bound: {listing}).",
                hint=f"Bind it (`cf bind-service APP {name}` and restage) or correct "
                "SFDC_CREDHUB_SERVICE.",
            )
        return matches[0]
    holding = [s for s in bound if _entries(s.credentials)]
    if len(holding) > 1:
        raise ConfigError(
            "Several bound services hold a private key: "
            + ", ".join(sorted(s.name for s in holding))
            + ".",
            hint="Set SFDC_CREDHUB_SERVICE to the one holding the Salesforce signing key.",
        )
    if holding:
        return holding[0]
    references = [s for s in bound if _is_reference(s)]
    if references:
        raise _reference_error(references[0])
    return None


def find_credential(
    environ: Mapping[str, str], *, service_name: str | None, entry_name: str | None
) -> Credential | None:
    """The credential holding the signing key, or ``None`` when no binding holds one."""
    service = _choose_service(services(environ), service_name)
    if service is None:
        return None
    if _is_reference(service):
        raise _reference_error(service)
    credentials: dict[str, Any] = service.credentials
    if entry_name:
        entry = credentials.get(entry_name)
        if not isinstance(entry, dict):
            keys = ", ".join(sorted(credentials)) or "none"
            raise ConfigError(
                f"SFDC_CREDENTIAL is '{entry_name}', but service '{service.name}' has no "
                f"such credential (its keys: {keys}).",
                hint="Set SFDC_CREDENTIAL to the key holding private_key and certificate, "
                "or unset it to let the service find it.",
            )
    else:
        entries = _entries(credentials)
        if len(entries) > 1:
            raise ConfigError(
                f"Service '{service.name}' holds several keys: {', '.join(sorted(entries))}.",
                hint="Set SFDC_CREDENTIAL to the one to sign with.",
            )
        entry_name = entries[0] if entries else _TOP_LEVEL
        entry = credentials.get(entry_name, credentials) if entry_name else credentials
    value = entry.get("value")
    layers = (value, entry, credentials) if isinstance(value, dict) else (entry, credentials)
    return Credential(service=service.name, entry=entry_name, layers=layers)


def choose_bound(
    environ: Mapping[str, str],
    *,
    service_name: str | None,
    setting: str,
    kind: str,
    is_kind: Callable[[cfenv.Service], bool],
) -> cfenv.Service | None:
    """The service named by ``setting``, else the one bound service of ``kind``, else None."""
    bound = services(environ)
    if service_name:
        matches = [s for s in bound if service_name in names(s)]
        if not matches:
            raise ConfigError(
                f"{setting} is '{service_name}', but no bound service has that name.",
                hint=f"Bind it (`cf bind-service APP {service_name}`) or correct {setting}.",
            )
    else:
        matches = [s for s in bound if is_kind(s)]
    if len(matches) > 1:
        raise ConfigError(
            f"Several {kind} services are bound: "
            + ", ".join(sorted(s.name for s in matches))
            + ".",
            hint=f"Set {setting} to the one this service should use.",
        )
    return matches[0] if matches else None
