"""The shared YAML loader and the files read through it point at the line at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfsync.errors import ConfigError
from sfsync.kpi.health import load_health_rules
from sfsync.mapping import load_mapping
from sfsync.push.mapping import load_push_mapping
from sfsync.yamlfile import load_located_yaml

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_key_given_twice_is_an_error_at_the_second_one(tmp_path: Path) -> None:
    path = write(tmp_path, "any.yaml", "a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\n")

    with pytest.raises(ConfigError) as caught:
        load_located_yaml(path)

    assert f"{path}:5: key 'c' appears twice (first at line 3)" in str(caught.value)


def test_the_same_key_in_two_list_items_is_not_a_duplicate(tmp_path: Path) -> None:
    path = write(tmp_path, "any.yaml", "items:\n  - id: 1\n  - id: 2\n")

    doc = load_located_yaml(path)

    assert doc.data == {"items": [{"id": 1}, {"id": 2}]}
    assert doc.line("items", 1, "id") == 3


def test_a_column_mapped_twice_in_a_mapping_file_is_an_error(tmp_path: Path) -> None:
    shipped = (ROOT / "mappings" / "opportunity.yaml").read_text(encoding="utf-8")
    lines = shipped.splitlines()
    first = next(i for i, line in enumerate(lines, 1) if line.startswith("  amount:"))
    text = (
        shipped.rstrip("\n") + "\n  amount: {field: ExpectedRevenue, kind: currency}\n"
    )
    path = write(tmp_path, "opportunity.yaml", text)

    with pytest.raises(ConfigError) as caught:
        load_mapping(path)

    second = len(lines) + 1
    assert f"{path}:{second}: key 'amount' appears twice (first at line {first})" in (
        str(caught.value)
    )


def test_a_key_given_twice_in_the_push_mapping_is_an_error(tmp_path: Path) -> None:
    shipped = (ROOT / "mappings" / "push.yaml").read_text(encoding="utf-8")
    lines = shipped.splitlines()
    first = next(i for i, line in enumerate(lines, 1) if line.startswith("objects:"))
    path = write(tmp_path, "push.yaml", shipped.rstrip("\n") + "\nobjects: {}\n")

    with pytest.raises(ConfigError) as caught:
        load_push_mapping(path)

    second = len(lines) + 1
    assert f"{path}:{second}: key 'objects' appears twice (first at line {first})" in (
        str(caught.value)
    )


def test_an_unknown_health_key_names_the_line_and_the_near_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "health.yaml",
        "factors:\n  overdue_share:\n    amber_from: 0.2\n    amber_form: 0.3\n",
    )

    with pytest.raises(ConfigError) as caught:
        load_health_rules(path)

    assert (
        f"{path}:4: factors.overdue_share.amber_form: unknown key 'amber_form' "
        "(did you mean 'amber_from'?)"
    ) in str(caught.value)
    assert "Extra inputs" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "factors:\n  stale_progress:\n    enabled: true\n    amber_after: -1\n",
            ":4: factors.stale_progress.amber_after: Input should be greater",
            id="value-out-of-range",
        ),
        pytest.param(
            "factors:\n  overdue_share:\n    amber_from: 0.7\n    red_from: 0.6\n",
            ":2: factors.overdue_share: red_from must not be below amber_from",
            id="rule-across-keys",
        ),
        pytest.param(
            "# rules\nfactor:\n  overdue_share: {}\n",
            ":2: factor: unknown key 'factor' (did you mean 'factors'?)",
            id="unknown-top-level-key",
        ),
        pytest.param(
            "factors:\n  overdue_share:\n    red_from: 0.9\n    red_from: 0.8\n",
            ":4: key 'red_from' appears twice (first at line 3)",
            id="duplicate-key",
        ),
    ],
)
def test_health_rule_errors_carry_file_and_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "health.yaml", text)

    with pytest.raises(ConfigError) as caught:
        load_health_rules(path)

    assert f"{path}{expected}" in str(caught.value)
