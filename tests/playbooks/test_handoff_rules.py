"""Tests for choosing whether and how a won deal is handed off to onboarding."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from sfsync.errors import ConfigError
from sfsync.handoff_rules import Choice, HandoffRulesError, load_handoff_rules

from .samples import WriteFile

KNOWN_FIELDS = {
    "opportunity": {
        "IsWon",
        "Amount",
        "Type",
        "CloseDate",
        "StageName",
        "Onboarding__c",
    },
    "account": {"NumberOfEmployees", "Segment__c", "Industry"},
}
PLAYBOOKS = {"self-serve", "mid-market", "enterprise"}
SHIPPED = load_handoff_rules(
    "mappings/handoff.yaml", known_fields=KNOWN_FIELDS, playbook_keys=PLAYBOOKS
)


@pytest.mark.parametrize(
    ("opp", "expected"),
    [
        pytest.param({"IsWon": True}, True, id="won"),
        pytest.param({"IsWon": False}, False, id="lost"),
        pytest.param({"IsWon": "true"}, True, id="text-true"),
        pytest.param({}, False, id="field-missing"),
        pytest.param({"IsWon": None}, False, id="null"),
    ],
)
def test_shipped_rules_hand_off_won_deals(opp: dict[str, Any], expected: bool) -> None:
    assert SHIPPED.is_handed_off(opp) is expected


@pytest.mark.parametrize(
    ("opp", "account", "expected"),
    [
        pytest.param(
            {"Amount": Decimal("100000.00")},
            {"NumberOfEmployees": 20},
            Choice("enterprise", "enterprise_by_size"),
            id="amount-at-enterprise-threshold",
        ),
        pytest.param(
            {"Amount": 40000.0},
            {"NumberOfEmployees": 1000},
            Choice("enterprise", "enterprise_by_size"),
            id="large-account",
        ),
        pytest.param(
            {"Amount": 14999.99},
            None,
            Choice("self-serve", "self_serve_small_deal"),
            id="small-amount-without-account",
        ),
        pytest.param(
            {"Amount": 20000, "Type": "New Customer"},
            {"NumberOfEmployees": 30},
            Choice("self-serve", "self_serve_small_deal"),
            id="small-new-customer",
        ),
        pytest.param(
            {"Amount": 20000, "Type": "Existing Business"},
            {"NumberOfEmployees": 30},
            Choice("mid-market", "default"),
            id="small-upsell-goes-standard",
        ),
        pytest.param(
            {"Amount": None},
            {"NumberOfEmployees": None},
            Choice("mid-market", "default"),
            id="nothing-known-gets-default",
        ),
    ],
)
def test_shipped_rules_choose_the_first_matching_playbook(
    opp: dict[str, Any], account: dict[str, Any] | None, expected: Choice
) -> None:
    assert SHIPPED.choose(opp, account) == expected


RULES = """\
handoff:
  when: {field: opportunity.IsWon, equals: true}
rules:
  - name: tested
    playbook: enterprise
    when: %s
default: mid-market
"""


def case(
    case_id: str,
    condition: str,
    opp: dict[str, Any],
    account: dict[str, Any] | None,
    matches: bool,
) -> Any:
    """One operator case, named for what it shows."""
    return pytest.param(condition, opp, account, matches, id=case_id)


OPERATOR_CASES = [
    case(
        "equals-text",
        "{field: opportunity.Type, equals: Renewal}",
        {"Type": "Renewal"},
        {},
        True,
    ),
    case(
        "equals-is-exact",
        "{field: opportunity.Type, equals: Renewal}",
        {"Type": "renewal"},
        {},
        False,
    ),
    case(
        "equals-float-decimal",
        "{field: opportunity.Amount, equals: 0.1}",
        {"Amount": Decimal("0.10")},
        {},
        True,
    ),
    case(
        "equals-numeric-text",
        "{field: opportunity.Amount, equals: 5}",
        {"Amount": "5.0"},
        {},
        True,
    ),
    case(
        "bool-is-not-a-number",
        "{field: opportunity.Amount, equals: 1}",
        {"Amount": True},
        {},
        False,
    ),
    case(
        "not-equals-null",
        "{field: opportunity.Type, not_equals: Renewal}",
        {"Type": None},
        {},
        False,
    ),
    case(
        "not-equals",
        "{field: opportunity.Type, not_equals: Renewal}",
        {"Type": "New"},
        {},
        True,
    ),
    case("in", "{field: opportunity.Type, in: [A, B]}", {"Type": "B"}, {}, True),
    case(
        "not-in", "{field: opportunity.Type, not_in: [A, B]}", {"Type": "C"}, {}, True
    ),
    case("not-in-missing", "{field: opportunity.Type, not_in: [A, B]}", {}, {}, False),
    case(
        "gt-boundary", "{field: opportunity.Amount, gt: 10}", {"Amount": 10}, {}, False
    ),
    case(
        "gte-boundary",
        "{field: opportunity.Amount, gte: 10}",
        {"Amount": 10.0},
        {},
        True,
    ),
    case(
        "lt-text-never-matches",
        "{field: opportunity.Amount, lt: 10}",
        {"Amount": "abc"},
        {},
        False,
    ),
    case(
        "lte", "{field: opportunity.Amount, lte: 10}", {"Amount": Decimal(9)}, {}, True
    ),
    case(
        "between-inclusive",
        "{field: opportunity.Amount, between: [10, 20]}",
        {"Amount": 20},
        {},
        True,
    ),
    case(
        "date-text-vs-date",
        "{field: opportunity.CloseDate, gte: 2026-01-01}",
        {"CloseDate": "2026-03-01"},
        {},
        True,
    ),
    case(
        "date-vs-quoted-date",
        "{field: opportunity.CloseDate, lt: '2026-01-01'}",
        {"CloseDate": date(2025, 12, 31)},
        {},
        True,
    ),
    case(
        "datetime-is-its-day",
        "{field: opportunity.CloseDate, equals: 2026-01-01}",
        {"CloseDate": datetime(2026, 1, 1, 9)},
        {},
        True,
    ),
    case(
        "between-dates",
        "{field: opportunity.CloseDate, between: [2026-01-01, 2026-12-31]}",
        {"CloseDate": "2027-01-01"},
        {},
        False,
    ),
    case(
        "is-null-empty-text",
        "{field: account.Segment__c, is_null: true}",
        {},
        {"Segment__c": ""},
        True,
    ),
    case(
        "is-not-null",
        "{field: account.Segment__c, is_null: false}",
        {},
        {"Segment__c": "SMB"},
        True,
    ),
    case(
        "is-null-without-account",
        "{field: account.Segment__c, is_null: true}",
        {},
        None,
        True,
    ),
    case(
        "contains-ignores-case",
        "{field: account.Industry, contains: tech}",
        {},
        {"Industry": "Fintech"},
        True,
    ),
    case(
        "all",
        "{all: [{field: opportunity.Amount, gt: 1},"
        " {field: opportunity.Type, equals: A}]}",
        {"Amount": 2, "Type": "B"},
        {},
        False,
    ),
    case(
        "any",
        "{any: [{field: opportunity.Amount, gt: 1},"
        " {field: opportunity.Type, equals: A}]}",
        {"Amount": 0, "Type": "A"},
        {},
        True,
    ),
    case("not", "{not: {field: opportunity.Type, equals: A}}", {"Type": "B"}, {}, True),
]


@pytest.mark.parametrize(("condition", "opp", "account", "matches"), OPERATOR_CASES)
def test_operators_compare_values_with_type_care(
    write_file: WriteFile,
    condition: str,
    opp: dict[str, Any],
    account: dict[str, Any] | None,
    matches: bool,
) -> None:
    rules = load_handoff_rules(
        write_file("handoff.yaml", RULES % condition),
        known_fields=KNOWN_FIELDS,
        playbook_keys=PLAYBOOKS,
    )

    choice = rules.choose(opp, account)

    assert (choice.rule_name == "tested") is matches


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        pytest.param(
            "{field: opportunity.Amout, gte: 1}",
            "unknown field 'opportunity.Amout': sfsync does not mirror Amout on "
            "opportunity; add it to mappings/opportunity.yaml or fix the rule "
            "(did you mean 'Amount'?)",
            id="unknown-field",
        ),
        pytest.param(
            "{field: account.Revenue, gte: 1}",
            "add it to mappings/account.yaml or fix the rule",
            id="unknown-account-field",
        ),
        pytest.param(
            "{field: opportunity.Amount, greater_than: 1}",
            "unknown operator 'greater_than'",
            id="bad-operator",
        ),
        pytest.param(
            "{field: opportunity.Amount, gte: 1, lte: 5}",
            "needs exactly one operator, found 2; use all: to combine several",
            id="two-operators",
        ),
        pytest.param(
            "{field: Amount, gte: 1}",
            "field 'Amount' must be written opportunity.<FieldName> or account",
            id="field-without-object",
        ),
        pytest.param(
            "{field: opportunity.Amount, gte: lots}",
            "gte on 'opportunity.Amount' takes a number or a date",
            id="ordered-operator-with-text",
        ),
        pytest.param(
            "{field: opportunity.Amount, between: [20, 10]}",
            "low <= high",
            id="between-reversed",
        ),
        pytest.param(
            "{field: opportunity.Type, in: []}",
            "takes a non-empty list",
            id="in-empty",
        ),
        pytest.param(
            "{any: []}",
            "any needs a non-empty list of conditions",
            id="empty-any",
        ),
    ],
)
def test_bad_conditions_are_config_errors_with_file_and_line(
    write_file: WriteFile, condition: str, message: str
) -> None:
    path = write_file("handoff.yaml", RULES % condition)

    with pytest.raises(HandoffRulesError) as caught:
        load_handoff_rules(path, known_fields=KNOWN_FIELDS, playbook_keys=PLAYBOOKS)

    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == (str(path), 6)
    assert message in problem.message


def test_unknown_playbook_key_is_reported_at_its_line(write_file: WriteFile) -> None:
    text = RULES.replace("playbook: enterprise", "playbook: enterprize") % (
        "{field: opportunity.Amount, gte: 1}"
    )
    path = write_file("handoff.yaml", text)

    with pytest.raises(ConfigError) as caught:
        load_handoff_rules(path, known_fields=KNOWN_FIELDS, playbook_keys=PLAYBOOKS)

    assert str(caught.value).startswith(f"{path}:5: unknown playbook 'enterprize'")


def test_handoff_condition_may_only_use_opportunity_fields(
    write_file: WriteFile,
) -> None:
    text = RULES.replace("opportunity.IsWon", "account.Segment__c") % (
        "{field: opportunity.Amount, gte: 1}"
    )
    path = write_file("handoff.yaml", text)

    with pytest.raises(HandoffRulesError) as caught:
        load_handoff_rules(path)

    assert caught.value.problems[0].line == 2
    assert "must be written opportunity.<FieldName>" in caught.value.problems[0].message


def test_every_problem_in_the_rules_file_is_reported_at_once(
    write_file: WriteFile,
) -> None:
    text = """\
    handoff:
      when: {field: opportunity.IsWonn, equals: true}
    rules:
      - name: a
        playbook: nowhere
        when: {field: opportunity.Amount, bigger: 1}
    default: also-nowhere
    extra: 1
    """
    path = write_file("handoff.yaml", text)

    with pytest.raises(HandoffRulesError) as caught:
        load_handoff_rules(path, known_fields=KNOWN_FIELDS, playbook_keys=PLAYBOOKS)

    assert [p.line for p in caught.value.problems] == [2, 5, 6, 7, 8]


def test_checks_are_skipped_when_fields_and_playbooks_are_not_given(
    write_file: WriteFile,
) -> None:
    path = write_file(
        "handoff.yaml", RULES % "{field: opportunity.Anything__c, equals: x}"
    )

    rules = load_handoff_rules(path)

    assert rules.choose({"Anything__c": "x"}) == Choice("enterprise", "tested")


def test_rules_file_with_bad_yaml_is_a_config_error(write_file: WriteFile) -> None:
    path = write_file("handoff.yaml", "handoff: [")

    with pytest.raises(ConfigError, match="YAML syntax"):
        load_handoff_rules(path)
