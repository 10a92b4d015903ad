"""Tests that loading a playbook reports every problem with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfsync.errors import ConfigError
from sfsync.playbooks import PlaybookError, load_playbook, load_playbooks

from .samples import MINIMAL_PLAYBOOK, WriteFile

MARK = "# <- problem"


def broken(*replacements: tuple[str, str]) -> str:
    """The minimal playbook with each (old, new) replacement applied once."""
    text = MINIMAL_PLAYBOOK
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def marked_lines(text: str) -> list[int]:
    """The 1-based lines carrying the problem marker."""
    return [n for n, line in enumerate(text.splitlines(), 1) if MARK in line]


CASES = [
    pytest.param(
        broken(("name: Tiny", f"name: Tiny: again  {MARK}")),
        "YAML syntax",
        id="yaml-syntax",
    ),
    pytest.param(
        broken(("duration: 2\n", f"duration: 2\n        owner: bob  {MARK}\n")),
        "task 'setup': unknown key 'owner'",
        id="unknown-key",
    ),
    pytest.param(
        broken(("depends_on: [kickoff_call]", f"depends_on: [kikoff]  {MARK}")),
        "task 'setup' depends on unknown task 'kikoff'; did you mean 'kickoff_call'?",
        id="unknown-dependency",
    ),
    pytest.param(
        broken(
            (
                "duration: 1\n      - id: setup",
                f"duration: 1\n        depends_on: [review]  {MARK}\n      - id: setup",
            )
        ),
        "dependency cycle: kickoff_call -> setup -> review -> kickoff_call",
        id="cycle",
    ),
    pytest.param(
        broken(("  - id: after", f"  - id: start  {MARK}")),
        "duplicate id 'start': phase on line 8 already uses it",
        id="duplicate-id",
    ),
    pytest.param(
        broken(("duration: 2", f"duration: 0  {MARK}")),
        "task 'setup' has duration 0; a duration is a whole number of business days",
        id="non-positive-duration",
    ),
    pytest.param(
        broken(("after: [review]}", f"after: []}}  {MARK}")),
        "milestone 'first_value' has nothing leading to it",
        id="milestone-nothing-leads-to",
    ),
    pytest.param(
        broken(
            (
                "      - id: review\n        title: Review\n"
                "        owner_role: onboarding_manager\n",
                f"      - id: review  {MARK}\n        title: Review\n",
            )
        ),
        "task 'review' has no owner_role",
        id="task-without-owner-role",
    ),
    pytest.param(
        broken(
            (
                "owner_role: customer_admin",
                f"owner_role: customer_champion  {MARK}",
            )
        ),
        "task 'setup' has owner_role 'customer_champion', which is not declared",
        id="owner-role-not-declared",
    ),
    pytest.param(
        broken(
            ("before_milestone: go_live", f"before_milestone: kickoff  {MARK}"),
        ),
        "phase 'start' ends after milestone 'kickoff' it must come before: "
        "task 'setup' ends 2 business day(s) later",
        id="phase-ends-after-its-milestone",
    ),
    pytest.param(
        broken(
            ("milestones:\n", f"milestones:  {MARK}\n"),
            (
                "  - {id: first_value, name: Value, kind: first_value, "
                "after: [review]}\n",
                "",
            ),
        ),
        "no first_value milestone",
        id="missing-first-value-milestone",
    ),
    pytest.param(
        broken(
            (
                "after: [review]}\n",
                "after: [review]}\n"
                "  - {id: again, name: Again, kind: kickoff, "
                f"after: [setup]}}  {MARK}\n",
            )
        ),
        "milestone 'again' is a second kickoff milestone after 'kickoff'; keep one",
        id="two-kickoff-milestones",
    ),
    pytest.param(
        broken(("after: [setup]}", f"after: [setpu]}}  {MARK}")),
        "milestone 'go_live' is after unknown task 'setpu'",
        id="milestone-after-unknown-task",
    ),
    pytest.param(
        broken(('version: "1"', f"version: 2026.10  {MARK}")),
        "playbook: 'version': write the version in quotes",
        id="unquoted-version",
    ),
    pytest.param(
        broken(("name: Tiny\n", f"name: Tiny\nname: Tinier  {MARK}\n")),
        "key 'name' appears twice",
        id="duplicate-yaml-key",
    ),
    pytest.param(
        broken(
            (
                "depends_on: [kickoff_call]",
                f"depends_on: [{{task: kickoff_call, type: XS}}]  {MARK}",
            )
        ),
        "dependency 1 of task 'setup': 'type': input should be 'FS', 'SS' or 'FF'",
        id="bad-dependency-type",
    ),
]


@pytest.mark.parametrize(("text", "message"), CASES)
def test_each_problem_is_reported_with_file_and_line(
    write_file: WriteFile, text: str, message: str
) -> None:
    path = write_file("broken.yaml", text)

    with pytest.raises(PlaybookError) as caught:
        load_playbook(path)

    problems = caught.value.problems
    assert [(p.file, p.line) for p in problems] == [
        (str(path), line) for line in marked_lines(text)
    ]
    assert message in problems[0].message


def test_every_problem_in_a_file_is_reported_at_once(write_file: WriteFile) -> None:
    text = broken(
        ("duration: 2", f"duration: -1  {MARK}"),
        ("depends_on: [setup]", f"depends_on: [stup]  {MARK}"),
        ("owner_role: customer_admin", f"owner_role: nobody  {MARK}"),
    )
    path = write_file("many.yaml", text)

    with pytest.raises(PlaybookError) as caught:
        load_playbook(path)

    assert [p.line for p in caught.value.problems] == marked_lines(text)
    assert len(marked_lines(text)) == 3


def test_error_text_lists_problems_as_file_line_message(write_file: WriteFile) -> None:
    text = broken(("depends_on: [kickoff_call]", f"depends_on: [kikoff]  {MARK}"))
    path = write_file("x.yaml", text)

    with pytest.raises(PlaybookError) as caught:
        load_playbook(path)

    (line,) = marked_lines(text)
    assert caught.value.message == (
        f"{path}:{line}: task 'setup' depends on unknown task 'kikoff'; "
        f"did you mean 'kickoff_call'?"
    )
    assert caught.value.hint is not None


def test_a_playbook_error_is_a_config_error(write_file: WriteFile) -> None:
    path = write_file("x.yaml", "key: [")

    with pytest.raises(ConfigError):
        load_playbook(path)


def test_minimal_playbook_loads_with_its_defaults(write_file: WriteFile) -> None:
    path = write_file("tiny.yaml", MINIMAL_PLAYBOOK)

    playbook = load_playbook(path)

    setup = playbook.task("setup")
    assert (setup.audience, setup.weight, setup.customer_plan) == (
        "customer",
        2.0,
        False,
    )
    assert setup.depends_on[0].model_dump() == {
        "task": "kickoff_call",
        "type": "FS",
        "lag": 0,
    }
    assert playbook.roles["customer_admin"].customer


def test_load_playbooks_keys_by_playbook_key(write_file: WriteFile) -> None:
    first = write_file("a.yaml", MINIMAL_PLAYBOOK)
    write_file("b.yaml", MINIMAL_PLAYBOOK.replace("key: tiny", "key: other"))

    playbooks = load_playbooks(first.parent)

    assert sorted(playbooks) == ["other", "tiny"]


def test_load_playbooks_rejects_a_key_used_by_two_files(write_file: WriteFile) -> None:
    first = write_file("a.yaml", MINIMAL_PLAYBOOK)
    second = write_file("b.yaml", MINIMAL_PLAYBOOK)

    with pytest.raises(PlaybookError) as caught:
        load_playbooks(first.parent)

    assert caught.value.problems[0][:2] == (str(second), 1)
    assert f"already used by {first}" in caught.value.problems[0].message


def test_load_playbooks_gathers_problems_from_every_file(write_file: WriteFile) -> None:
    first = write_file("a.yaml", "key: [")
    write_file("b.yaml", broken(("duration: 2", "duration: 0")))

    with pytest.raises(PlaybookError) as caught:
        load_playbooks(first.parent)

    assert [Path(p.file).name for p in caught.value.problems] == ["a.yaml", "b.yaml"]


def test_load_playbooks_refuses_an_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no playbook files"):
        load_playbooks(tmp_path)
