"""Progress CSV imports: UTF-8 with or without BOM, quoted values, bad rows by line."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sfsync.errors import InputError
from sfsync.progress_import import import_progress_csv
from sfsync.store.db import Store

from .seeding import events, make_project, opportunity_id, task

AT = datetime(2026, 11, 13, 17, 0, tzinfo=UTC)


def _write(tmp_path: Path, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / "progress.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("bom", "sep"),
    [(True, ","), (False, ";")],
    ids=["with-bom-commas", "without-bom-semicolons"],
)
def test_utf8_file_keeps_non_latin_notes_with_or_without_a_bom(
    store: Store, project_id: int, tmp_path: Path, bom: bool, sep: str
) -> None:
    """Case SC-16; spreadsheets in Poland or Czechia save with semicolons."""
    lines = [
        ["opportunity_id", "task_key", "status", "date", "note"],
        [opportunity_id(1), "review_handoff", "done", "2026-11-10", "Łódź Sp. z o.o."],
        [opportunity_id(1), "send_welcome_pack", "in_progress", "", "Škoda Auto a.s."],
    ]
    path = _write(tmp_path, "".join(sep.join(v) + "\r\n" for v in lines), bom=bom)

    report = import_progress_csv(store, path, actor="ops", at=AT)

    assert (report.applied, report.unchanged, report.rejected) == (2, 0, [])
    notes = [e.note for e in events(store, project_id, "task_status")]
    assert notes == ["Łódź Sp. z o.o.", "Škoda Auto a.s."]
    assert task(store, project_id, "review_handoff").actual_end == date(2026, 11, 10)
    assert task(store, project_id, "send_welcome_pack").actual_start == AT.date()


def test_quoted_note_with_comma_and_line_break_arrives_intact_and_lines_stay_true(
    store: Store, project_id: int, tmp_path: Path
) -> None:
    """Case SC-17."""
    path = _write(
        tmp_path,
        "project_id,task_key,status,note\n"
        f'{project_id},review_handoff,blocked,"Kickoff done, waiting on IT\n'
        'second line"\n'
        f"{project_id},no_such_task,done,\n",
    )

    report = import_progress_csv(store, path, actor="ops", at=AT)

    (event,) = events(store, project_id, "task_status")
    assert event.note == "Kickoff done, waiting on IT\nsecond line"
    assert [line for line, _ in report.rejected] == [4]


def test_bad_rows_are_reported_by_line_and_every_good_row_is_applied(
    store: Store, tmp_path: Path
) -> None:
    first, second = make_project(store, 1), make_project(store, 2)
    path = _write(
        tmp_path,
        "opportunity_id,task_key,status,date,note,owner name\n"
        f"{opportunity_id(1)},review_handoff,done,2026-11-10,,Ana\n"
        f"{opportunity_id(7)},review_handoff,done,,,\n"
        f"{opportunity_id(1)},kickof_call,done,,,\n"
        f"{opportunity_id(2)},review_handoff,finished,,,\n"
        f"{opportunity_id(2)},review_handoff,done,10/11/2026,,\n"
        "\n"
        f"{opportunity_id(2)[:15]},review_handoff,In Progress,,,\n"
        f"{opportunity_id(2)},send_welcome_pack,done,2026-11-12,,\n",
    )

    report = import_progress_csv(store, path, actor="ops", at=AT)

    assert (report.applied, report.unchanged) == (3, 0)
    reasons = dict(report.rejected)
    assert sorted(reasons) == [3, 4, 5, 6]
    assert f"opportunity {opportunity_id(7)} does not exist" in reasons[3]
    assert "no task 'kickof_call'" in reasons[4]
    assert "unknown task status 'finished'" in reasons[5]
    assert "date '10/11/2026' is not YYYY-MM-DD" in reasons[6]
    assert report.ignored_columns == ["owner name"]
    assert len(events(store, first, "task_status")) == 1
    assert len(events(store, second, "task_status")) == 2
    assert task(store, second, "review_handoff").status == "in_progress"


def test_importing_the_same_file_twice_changes_nothing_the_second_time(
    store: Store, project_id: int, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        f"project_id,task_key,status\n{project_id},review_handoff,done\n",
    )
    import_progress_csv(store, path, actor="ops", at=AT)

    again = import_progress_csv(store, path, actor="ops", at=AT)

    assert (again.applied, again.unchanged, again.rejected) == (0, 1, [])
    assert len(events(store, project_id, "task_status")) == 1


def test_undecodable_bytes_reject_the_file_with_their_line_and_apply_nothing(
    store: Store, project_id: int, tmp_path: Path
) -> None:
    """Case SC-16: a file saved as Windows-1250 instead of UTF-8."""
    path = tmp_path / "progress.csv"
    path.write_bytes(
        b"project_id,task_key,status,note\n"
        + f"{project_id},review_handoff,done,ok\n".encode()
        + f"{project_id},send_welcome_pack,done,".encode()
        + "Łódź\n".encode("cp1250")
    )

    with pytest.raises(InputError) as caught:
        import_progress_csv(store, path, actor="ops", at=AT)

    assert "line 3 is not UTF-8" in str(caught.value)
    assert "nothing was imported" in str(caught.value)
    assert events(store, project_id, "task_status") == []


def test_a_header_without_the_task_column_is_refused_naming_it(
    store: Store, tmp_path: Path
) -> None:
    path = _write(tmp_path, "opportunity_id,step,status\nx,y,done\n")

    with pytest.raises(InputError, match="line 1: missing column\\(s\\) task_key"):
        import_progress_csv(store, path, actor="ops", at=AT)


def test_a_header_naming_a_column_twice_is_refused_and_imports_nothing(
    store: Store, project_id: int, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        f"project_id,task_key,status,Project_ID\n{project_id},review_handoff,done,9\n",
    )

    with pytest.raises(InputError, match="line 1: column\\(s\\) project_id named"):
        import_progress_csv(store, path, actor="ops", at=AT)

    assert events(store, project_id, "task_status") == []
