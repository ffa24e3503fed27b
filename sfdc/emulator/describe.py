"""Describe Global, sObject Basic Information and sObject Describe.

Emulates the REST API Developer Guide resources `/services/data/vXX.X/sobjects`
(`{"encoding", "maxBatchSize", "sobjects": [...]}`), `/sobjects/{type}`
(`{"objectDescribe", "recentItems"}`) and `/sobjects/{type}/describe` (the object's
properties plus `fields`, `childRelationships`, `recordTypeInfos`, `urls`), all built from
`schema`. Property names and URL shapes follow the guide's examples; URLs are relative.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from .context import current
from .records import SObjectRecord
from .responses import json_response, not_found
from .rest_session import api_version, authenticate, report_usage, version_root
from .schema import SOAP_TYPES, SOBJECTS, TEXT_TYPES, Field, SObjectType, sobject_type

blueprint = Blueprint("describe", __name__, url_prefix="/services/data")
blueprint.before_request(authenticate)
blueprint.after_request(report_usage)


def _urls(sobject: SObjectType) -> dict[str, str]:
    root = f"{version_root()}/sobjects/{sobject.name}"
    return {"sobject": root, "describe": f"{root}/describe", "rowTemplate": f"{root}/{{ID}}"}


def object_summary(sobject: SObjectType) -> dict[str, Any]:
    """The properties Describe Global lists for each object."""
    return {
        "activateable": False,
        "createable": sobject.createable,
        "custom": False,
        "customSetting": False,
        "deletable": sobject.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "hasSubtypes": False,
        "isSubtype": False,
        "keyPrefix": sobject.key_prefix,
        "label": sobject.label,
        "labelPlural": sobject.label_plural,
        "layoutable": True,
        "mergeable": sobject.name in {"Account", "Contact"},
        "mruEnabled": True,
        "name": sobject.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": sobject.deletable,
        "updateable": sobject.updateable,
        "urls": _urls(sobject),
    }


def describe_field(field: Field) -> dict[str, Any]:
    """One entry of a describe's `fields`."""
    text = field.type in TEXT_TYPES
    return {
        "aggregatable": field.type != "textarea",
        "autoNumber": False,
        "byteLength": field.length * 3 if text else 0,
        "calculated": False,
        "caseSensitive": False,
        "createable": field.createable,
        "custom": field.custom,
        "defaultValue": None,
        "defaultedOnCreate": field.defaulted_on_create,
        "digits": 9 if field.type == "int" else 0,
        "externalId": field.external_id,
        "filterable": field.type != "textarea",
        "groupable": field.type not in {"textarea", "double", "currency", "datetime"},
        "idLookup": field.type == "id" or field.external_id or field.name == "Username",
        "label": field.label,
        "length": field.length if text else 0,
        "name": field.name,
        "nameField": field.name == "Name",
        "nillable": field.nillable,
        "picklistValues": [
            {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
            for v in field.picklist
        ],
        "precision": 18 if field.type == "currency" else 0,
        "referenceTo": list(field.reference_to),
        "relationshipName": field.name[:-2] if field.type == "reference" else None,
        "scale": 2 if field.type == "currency" else 0,
        "soapType": SOAP_TYPES.get(field.type, "xsd:string"),
        "sortable": field.type != "textarea",
        "type": field.type,
        "unique": field.unique,
        "updateable": field.updateable,
    }


@blueprint.get("/<segment>/sobjects")
@blueprint.get("/<segment>/sobjects/")
def describe_global(segment: str) -> Response:
    described = [object_summary(sobject) for sobject in SOBJECTS.values()]
    return json_response({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": described})


@blueprint.get("/<segment>/sobjects/<name>")
@blueprint.get("/<segment>/sobjects/<name>/")
def basic_information(segment: str, name: str) -> Response:
    sobject = sobject_type(name)
    if sobject is None:
        return not_found()
    rows: list[SObjectRecord] = current().state.records.all_of(sobject.name)[-5:]
    recent = [
        {
            "attributes": row.attributes(api_version()),
            "Id": row.id,
            "Name": row.values().get("Name"),
        }
        for row in reversed(rows)
    ]
    return json_response({"objectDescribe": object_summary(sobject), "recentItems": recent})


@blueprint.get("/<segment>/sobjects/<name>/describe")
@blueprint.get("/<segment>/sobjects/<name>/describe/")
def describe(segment: str, name: str) -> Response:
    sobject = sobject_type(name)
    if sobject is None:
        return not_found()
    body = object_summary(sobject)
    body.update(
        {
            "childRelationships": [],
            "fields": [describe_field(field) for field in sobject.fields],
            "recordTypeInfos": [],
            "supportedScopes": [{"label": "All " + sobject.label_plural, "name": "everything"}],
        }
    )
    return json_response(body)
