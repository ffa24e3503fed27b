"""The emulated org's object model: which sObjects exist and which fields they have.

Field names, types and properties follow Salesforce's "Object Reference for the Salesforce
Platform" (Account, Contact, User, Organization) and the property names of the REST API
Developer Guide's "sObject Describe" (`createable`, `nillable`, `externalId`, ...).
Account carries one custom field, `External_Id__c`, marked as an external ID so that
upsert by external ID (sObject Rows by External ID) can be exercised. Field names are
case-insensitive in every API, as in Salesforce.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .ids import ACCOUNT_PREFIX, CONTACT_PREFIX, ORGANIZATION_PREFIX, USER_PREFIX

# Describe's `soapType` for each field `type`.
SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "double": "xsd:double",
    "currency": "xsd:double",
    "int": "xsd:int",
    "datetime": "xsd:dateTime",
    "date": "xsd:date",
}
TEXT_TYPES = frozenset({"string", "picklist", "email", "phone", "url", "textarea", "id"})


@dataclass(frozen=True)
class Field:
    """One field, with the describe properties a client looks at."""

    name: str
    type: str
    label: str
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    external_id: bool = False
    unique: bool = False
    custom: bool = False
    reference_to: tuple[str, ...] = ()
    picklist: tuple[str, ...] = ()

    @property
    def required_on_create(self) -> bool:
        """Must be given on insert: not nillable, createable, no default."""
        return not self.nillable and self.createable and not self.defaulted_on_create


@dataclass(frozen=True)
class SObjectType:
    """One object type and the operations the API allows on it."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[Field, ...]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    _by_lower: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_lower", {f.name.lower(): f for f in self.fields})

    def field(self, name: str) -> Field | None:
        """The field called `name`, in any letter case."""
        return self._by_lower.get(name.lower())

    @property
    def external_ids(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.external_id)


def _stamp(name: str, kind: str, label: str, length: int = 0, *refs: str) -> Field:
    """A system field: always set by Salesforce, never writable."""
    return Field(
        name, kind, label, length, nillable=False, createable=False, updateable=False,
        defaulted_on_create=True, reference_to=refs,
    )  # fmt: skip


def _system_fields(owner: bool = True) -> tuple[Field, ...]:
    fields = [
        _stamp("Id", "id", "Record ID", 18),
        _stamp("IsDeleted", "boolean", "Deleted"),
        _stamp("CreatedDate", "datetime", "Created Date"),
        _stamp("CreatedById", "reference", "Created By ID", 18, "User"),
        _stamp("LastModifiedDate", "datetime", "Last Modified Date"),
        _stamp("LastModifiedById", "reference", "Last Modified By ID", 18, "User"),
        _stamp("SystemModstamp", "datetime", "System Modstamp"),
    ]
    if owner:
        fields.append(
            Field("OwnerId", "reference", "Owner ID", 18, nillable=False, defaulted_on_create=True,
                  reference_to=("User",))
        )  # fmt: skip
    return tuple(fields)


_INDUSTRIES = ("Agriculture", "Banking", "Energy", "Retail", "Technology")

ACCOUNT = SObjectType(
    "Account",
    "Account",
    "Accounts",
    ACCOUNT_PREFIX,
    (
        *_system_fields(),
        Field("Name", "string", "Account Name", 255, nillable=False),
        Field(
            "Type",
            "picklist",
            "Account Type",
            255,
            picklist=("Prospect", "Customer - Direct", "Partner", "Other"),
        ),
        Field("Industry", "picklist", "Industry", 255, picklist=_INDUSTRIES),
        Field("Phone", "phone", "Account Phone", 40),
        Field("Website", "url", "Website", 255),
        Field("AnnualRevenue", "currency", "Annual Revenue"),
        Field("NumberOfEmployees", "int", "Employees"),
        Field("BillingCity", "string", "Billing City", 40),
        Field("Description", "textarea", "Account Description", 32000),
        Field(
            "External_Id__c",
            "string",
            "External Id",
            255,
            external_id=True,
            unique=True,
            custom=True,
        ),
    ),
)

CONTACT = SObjectType(
    "Contact",
    "Contact",
    "Contacts",
    CONTACT_PREFIX,
    (
        *_system_fields(),
        Field("AccountId", "reference", "Account ID", 18, reference_to=("Account",)),
        Field("FirstName", "string", "First Name", 40),
        Field("LastName", "string", "Last Name", 80, nillable=False),
        Field(
            "Name",
            "string",
            "Full Name",
            121,
            nillable=False,
            createable=False,
            updateable=False,
            defaulted_on_create=True,
        ),
        Field("Email", "email", "Email", 80),
        Field("Phone", "phone", "Business Phone", 40),
        Field("Title", "string", "Title", 128),
    ),
)

USER = SObjectType(
    "User",
    "User",
    "Users",
    USER_PREFIX,
    (
        *_system_fields(owner=False),
        Field("Username", "string", "Username", 80, nillable=False, unique=True),
        Field("LastName", "string", "Last Name", 80, nillable=False),
        Field("FirstName", "string", "First Name", 40),
        Field(
            "Name",
            "string",
            "Full Name",
            121,
            nillable=False,
            createable=False,
            updateable=False,
            defaulted_on_create=True,
        ),
        Field("Email", "email", "Email", 128, nillable=False),
        Field("Alias", "string", "Alias", 8, nillable=False),
        Field("IsActive", "boolean", "Active", nillable=False, defaulted_on_create=True),
        Field("TimeZoneSidKey", "picklist", "Time Zone", 40, nillable=False),
        Field("LocaleSidKey", "picklist", "Locale", 40, nillable=False),
        Field("LanguageLocaleKey", "picklist", "Language", 40, nillable=False),
        Field("EmailEncodingKey", "picklist", "Email Encoding", 40, nillable=False),
        Field(
            "ProfileId", "reference", "Profile ID", 18, nillable=False, reference_to=("Profile",)
        ),
        Field("UserType", "picklist", "User Type", 40, createable=False, updateable=False),
    ),
    deletable=False,
)

ORGANIZATION = SObjectType(
    "Organization",
    "Organization",
    "Organizations",
    ORGANIZATION_PREFIX,
    (
        *_system_fields(owner=False),
        Field("Name", "string", "Name", 80, nillable=False, createable=False),
        Field("OrganizationType", "picklist", "Edition", 40, createable=False, updateable=False),
        Field("InstanceName", "string", "Instance Name", 5, createable=False, updateable=False),
        Field(
            "IsSandbox",
            "boolean",
            "Is Sandbox",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted_on_create=True,
        ),
        Field("LanguageLocaleKey", "picklist", "Language", 40, createable=False),
        Field("TimeZoneSidKey", "picklist", "Default Time Zone", 40, createable=False),
    ),
    createable=False,
    deletable=False,
)

SOBJECTS: dict[str, SObjectType] = {t.name: t for t in (ACCOUNT, CONTACT, USER, ORGANIZATION)}
_BY_LOWER = {name.lower(): t for name, t in SOBJECTS.items()}


def sobject_type(name: str) -> SObjectType | None:
    """The object type called `name`, in any letter case."""
    return _BY_LOWER.get(name.lower())


def type_of_id(record_id: str) -> SObjectType | None:
    """The object type an ID's key prefix names, if it is one of ours."""
    return next((t for t in SOBJECTS.values() if record_id.startswith(t.key_prefix)), None)
