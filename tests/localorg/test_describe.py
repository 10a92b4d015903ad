"""Describe bodies and custom fields from SFDX metadata."""

from __future__ import annotations

from pathlib import Path

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfsync.localorg import LocalOrg
from tests.localorg.conftest import Raw, wire_fixture

_MD = 'xmlns="http://soap.sforce.com/2006/04/metadata"'


def test_field_describe_has_the_v59_key_set(raw: Raw) -> None:
    keys = wire_fixture("09-describe/field-entry-examples.json")["field_entry_keys_v59"]

    body = raw("GET", "sobjects/Opportunity/describe").json()

    assert all(list(f) == keys for f in body["fields"])


def test_standard_opportunity_fields_match_the_reference_table(raw: Raw) -> None:
    table = wire_fixture("09-describe/opportunity-fields.json")["standard_fields"]

    body = raw("GET", "sobjects/Opportunity/describe").json()

    assert [(f["name"], f["type"], f["length"]) for f in body["fields"]] == [
        (f["name"], f["type"], f["length"]) for f in table
    ]


def test_object_describe_has_the_reference_top_level_keys(raw: Raw) -> None:
    expected = wire_fixture("09-describe/opportunity-describe.json")["response"]["body"]

    body = raw("GET", "sobjects/Opportunity/describe").json()

    assert list(body) == list(expected)
    assert body["keyPrefix"] == "006"


def test_describe_global_lists_the_objects(localorg: LocalOrg) -> None:
    names = {o["name"] for o in localorg.salesforce().describe()["sobjects"]}

    assert names == {"Account", "Contact", "Opportunity", "User", "Task"}


def _field(directory: Path, sobject: str, name: str, body: str) -> None:
    folder = (
        directory / "force-app" / "main" / "default" / "objects" / sobject / "fields"
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.field-meta.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<CustomField {_MD}>'
        f"<fullName>{name}</fullName><label>{name}</label>{body}</CustomField>"
    )


@pytest.fixture(scope="module")
def metadata_org(tmp_path_factory: pytest.TempPathFactory) -> LocalOrg:
    root = tmp_path_factory.mktemp("sfdx")
    _field(
        root,
        "Account",
        "External_Id__c",
        "<type>Text</type><length>20</length>"
        "<externalId>true</externalId><unique>true</unique>",
    )
    _field(
        root,
        "Opportunity",
        "Onboarding_Health__c",
        "<type>Picklist</type><valueSet><restricted>true</restricted>"
        "<valueSetDefinition><value><fullName>Green</fullName><default>false"
        "</default><label>Green</label></value><value><fullName>Red</fullName>"
        "<default>false</default><label>Red</label></value>"
        "</valueSetDefinition></valueSet>",
    )
    _field(
        root,
        "Opportunity",
        "Percent_Complete__c",
        "<type>Percent</type><precision>5</precision><scale>2</scale>",
    )
    _field(root, "Opportunity", "Go_Live__c", "<type>Date</type>")
    _field(
        root,
        "Opportunity",
        "Sponsor__c",
        "<type>Lookup</type><referenceTo>Contact</referenceTo>"
        "<relationshipName>Sponsored</relationshipName>",
    )
    perms = root / "force-app" / "main" / "default" / "permissionsets"
    perms.mkdir(parents=True)
    (perms / "Integration.permissionset-meta.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<PermissionSet {_MD}>'
        "<fieldPermissions><editable>false</editable><field>Opportunity.Go_Live__c"
        "</field><readable>true</readable></fieldPermissions></PermissionSet>"
    )
    with LocalOrg.start(metadata_dirs=[root]) as org:
        yield org  # type: ignore[misc]


def test_custom_fields_come_from_sfdx_metadata(metadata_org: LocalOrg) -> None:
    fields = {
        f["name"]: f for f in metadata_org.salesforce().Opportunity.describe()["fields"]
    }

    health = fields["Onboarding_Health__c"]
    assert (health["type"], health["restrictedPicklist"], health["custom"]) == (
        "picklist",
        True,
        True,
    )
    assert [v["value"] for v in health["picklistValues"]] == ["Green", "Red"]
    assert (
        fields["Percent_Complete__c"]["precision"],
        fields["Percent_Complete__c"]["scale"],
    ) == (5, 2)
    assert fields["Sponsor__c"]["relationshipName"] == "Sponsor__r"
    assert fields["Go_Live__c"]["updateable"] is False


def test_external_id_fields_are_id_lookups_for_upsert(metadata_org: LocalOrg) -> None:
    sf = metadata_org.salesforce()

    first = sf.Account.upsert("External_Id__c/ACME-001", {"Name": "Acme"})
    second = sf.Account.upsert("External_Id__c/ACME-001", {"Industry": "Retail"})

    assert (first, second) == (201, 200)


def test_restricted_custom_picklist_refuses_other_values(
    metadata_org: LocalOrg,
) -> None:
    sf = metadata_org.salesforce()

    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Opportunity.create(
            {
                "Name": "D",
                "StageName": "Prospecting",
                "CloseDate": "2024-01-01",
                "Onboarding_Health__c": "Purple",
            }
        )

    assert caught.value.content[0]["errorCode"] == (
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    )


def test_hidden_field_is_absent_from_describe_and_invalid_in_queries(
    localorg: LocalOrg,
) -> None:
    sf = localorg.salesforce()
    localorg.hide_field("Account", "Industry")

    names = {f["name"] for f in sf.Account.describe()["fields"]}
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Industry FROM Account")

    assert "Industry" not in names
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"
