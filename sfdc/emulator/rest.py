"""The REST data API's entry resources under `/services/data/`.

Emulates the REST API Developer Guide's Versions (`/services/data` and `/services/data/`,
no token needed), Resources by Version (`/services/data/vXX.X` and `.../vXX.X/`: each
resource's relative URL, plus the absolute `identity` URL of the caller), Limits and the
blob download of a Document. Records, describes, queries and Bulk API 2.0 live in their
own modules; all share the session check of `rest_session`.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from .api_versions import API_VERSIONS
from .context import base_url, current
from .documents import document_body, parse_size
from .limits import org_limits
from .responses import json_response, rest_error
from .rest_session import authenticate, report_usage, session, version_root

blueprint = Blueprint("rest", __name__, url_prefix="/services/data")
blueprint.before_request(authenticate)
blueprint.after_request(report_usage)

# The resource names Resources by Version lists (the guide's example, plus `jobs`, the
# root of Bulk API 2.0), in the guide's order.
RESOURCE_NAMES = (
    "tooling", "metadata", "eclair", "folders", "prechatForms", "contact-tracing",
    "jsonxform", "chatter", "payments", "tabs", "appMenu", "quickActions", "queryAll",
    "commerce", "wave", "iot", "analytics", "search", "smartdatadiscovery", "composite",
    "parameterizedSearch", "fingerprint", "theme", "nouns", "domino", "event",
    "serviceTemplates", "recent", "connect", "licensing", "limits", "process",
    "async-queries", "query", "match", "emailConnect", "compactLayouts",
    "knowledgeManagement", "sobjects", "actions", "support", "jobs",
)  # fmt: skip


@blueprint.get("")
@blueprint.get("/")
def versions() -> Response:
    return json_response(
        [
            {"label": label, "url": f"/services/data/v{version}", "version": version}
            for version, label in API_VERSIONS
        ]
    )


@blueprint.get("/<segment>")
@blueprint.get("/<segment>/")
def resources(segment: str) -> Response:
    root = version_root()
    listed = {name: f"{root}/{name}" for name in RESOURCE_NAMES}
    caller = session()
    listed["identity"] = f"{base_url()}/id/{caller.organization_id}/{caller.user_id}"
    return json_response(listed)


@blueprint.get("/<segment>/limits")
@blueprint.get("/<segment>/limits/")
def limits(segment: str) -> Response:
    return json_response(org_limits(current().state.api_usage))


@blueprint.get("/<segment>/sobjects/Document/<document_id>/Body")
def document(segment: str, document_id: str) -> Response:
    size = parse_size(request.args.get("size"))
    if size is None:
        return rest_error("INVALID_QUERY_PARAMETER", "size must be a byte count", 400)
    return document_body(document_id, size)
