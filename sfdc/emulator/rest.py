"""The REST data API under `/services/data/`.

Emulates the REST API Developer Guide resources a token service's callers touch first:
Versions, Resources by Version, Limits, Query, Describe Global, sObject Rows and blob
download. Every call but Versions needs `Authorization: Bearer <access token>`; a missing,
expired or revoked token gets HTTP 401 `INVALID_SESSION_ID`, and each authenticated call
reports usage in a `Sforce-Limit-Info: api-usage=N/15000` header.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, g, request

from .api_versions import API_VERSIONS, version_from_segment
from .context import current, presented_credential
from .documents import document_body, parse_size
from .records import KEY_PREFIXES
from .responses import invalid_session, json_response, not_found, rest_error
from .state import DAILY_API_LIMIT

blueprint = Blueprint("rest", __name__, url_prefix="/services/data")

_FROM_CLAUSE = re.compile(r"\bfrom\s+(\w+)", re.IGNORECASE)


@blueprint.before_request
def _authenticate() -> Response | None:
    if request.endpoint == "rest.versions":
        return None
    credential = presented_credential(allow_parameter=False)
    if credential.kind == "malformed":
        return rest_error("INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE", 401)
    emulator = current()
    timeout = emulator.config.session_timeout
    if credential.kind != "token" or not emulator.state.use(
        credential.token, emulator.config.clock(), timeout
    ):
        return invalid_session()
    g.api_usage = emulator.state.count_api_call()
    version = version_from_segment((request.view_args or {}).get("segment", ""))
    if version is None:
        return not_found()
    g.api_version = version
    return None


@blueprint.after_request
def _report_usage(response: Response) -> Response:
    if "api_usage" in g:
        response.headers["Sforce-Limit-Info"] = f"api-usage={g.api_usage}/{DAILY_API_LIMIT}"
    return response


@blueprint.get("/")
def versions() -> Response:
    return json_response(
        [
            {"label": label, "url": f"/services/data/v{version}", "version": version}
            for version, label in API_VERSIONS
        ]
    )


@blueprint.get("/<segment>/")
def resources(segment: str) -> Response:
    root = f"/services/data/v{g.api_version}"
    names = ("sobjects", "query", "search", "limits", "recent", "tooling", "chatter")
    return json_response({name: f"{root}/{name}" for name in names})


@blueprint.get("/<segment>/limits")
@blueprint.get("/<segment>/limits/")
def limits(segment: str) -> Response:
    used = current().state.api_usage
    return json_response(
        {
            "DailyApiRequests": {"Max": DAILY_API_LIMIT, "Remaining": DAILY_API_LIMIT - used},
            "DataStorageMB": {"Max": 5, "Remaining": 5},
            "FileStorageMB": {"Max": 20, "Remaining": 20},
        }
    )


@blueprint.get("/<segment>/query")
@blueprint.get("/<segment>/query/")
def query(segment: str) -> Response:
    soql = request.args.get("q", "")
    found = _FROM_CLAUSE.search(soql)
    if found is None:
        return rest_error("MALFORMED_QUERY", "unexpected token: <EOF>", 400)
    sobject = found.group(1)
    if sobject not in KEY_PREFIXES:
        return rest_error("INVALID_TYPE", f"sObject type '{sobject}' is not supported.", 400)
    rows = current().state.records.all_of(sobject)
    return json_response(
        {
            "totalSize": len(rows),
            "done": True,
            "records": [row.as_json(g.api_version) for row in rows],
        }
    )


@blueprint.get("/<segment>/sobjects")
@blueprint.get("/<segment>/sobjects/")
def describe_global(segment: str) -> Response:
    root = f"/services/data/v{g.api_version}/sobjects"
    described = [
        {
            "name": name,
            "label": name,
            "keyPrefix": prefix,
            "createable": True,
            "queryable": True,
            "urls": {"sobject": f"{root}/{name}", "rowTemplate": f"{root}/{name}/{{ID}}"},
        }
        for name, prefix in KEY_PREFIXES.items()
    ]
    return json_response({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": described})


def _fields() -> dict[str, Any] | Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return rest_error("JSON_PARSER_ERROR", "The request body must be a JSON object", 400)
    return body


@blueprint.post("/<segment>/sobjects/<sobject>")
@blueprint.post("/<segment>/sobjects/<sobject>/")
def create(segment: str, sobject: str) -> Response:
    if sobject not in KEY_PREFIXES:
        return not_found()
    fields = _fields()
    if isinstance(fields, Response):
        return fields
    row = current().state.records.create(sobject, fields)
    return json_response({"id": row.id, "success": True, "errors": []}, 201)


@blueprint.route("/<segment>/sobjects/<sobject>/<record_id>", methods=["GET", "PATCH", "DELETE"])
def sobject_row(segment: str, sobject: str, record_id: str) -> Response:
    store = current().state.records
    if request.method == "GET":
        found = store.get(sobject, record_id)
        return not_found() if found is None else json_response(found.as_json(g.api_version))
    if request.method == "DELETE":
        return Response(status=204) if store.delete(sobject, record_id) else not_found()
    fields = _fields()
    if isinstance(fields, Response):
        return fields
    return Response(status=204) if store.update(sobject, record_id, fields) else not_found()


@blueprint.get("/<segment>/sobjects/Document/<document_id>/Body")
def document(segment: str, document_id: str) -> Response:
    size = parse_size(request.args.get("size"))
    if size is None:
        return rest_error("INVALID_QUERY_PARAMETER", "size must be a byte count", 400)
    return document_body(document_id, size)
