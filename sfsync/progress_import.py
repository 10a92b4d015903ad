"""Importing task progress from an ops CSV file, row by row, keeping every good row.

Columns: ``opportunity_id`` or ``project_id``, ``task_key``, ``status``, and
optionally ``date`` (YYYY-MM-DD, the day the change happened) and ``note``,
separated by commas, semicolons or tabs (whichever the header line uses).
The file must be UTF-8, with or without a byte-order mark. It is checked for
encoding as a whole before any row is applied: a file saved in another
encoding is wrong from top to bottom, so applying its ASCII rows and refusing
the rest would only hide that. Rows are then read with the csv module (quoted
values may hold commas and line breaks) and each good row is committed on its
own; a bad row is reported with its line and reason and the import goes on.
Importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

from sqlalchemy.exc import SQLAlchemyError

from sfsync.errors import InputError, StoreError
from sfsync.logs import get_logger
from sfsync.progress import apply_task_status, find_project
from sfsync.store.db import Store

__all__ = ["ImportReport", "import_progress_csv"]

log = get_logger(__name__)

BOM: Final = b"\xef\xbb\xbf"
REQUIRED: Final = ("task_key", "status")
PROJECT_KEYS: Final = ("project_id", "opportunity_id")
OPTIONAL: Final = ("date", "note")
DELIMITERS: Final = (",", ";", "\t")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class ImportReport:
    """What an import did: rows applied, rows already so, rows refused and why."""

    path: str
    applied: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.applied + self.unchanged + len(self.rejected)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "rows": self.rows,
            "applied": self.applied,
            "unchanged": self.unchanged,
            "rejected": [{"line": line, "reason": r} for line, r in self.rejected],
            "ignored_columns": self.ignored_columns,
        }


def _check_encoding(path: Path, raw: BinaryIO) -> None:
    for number, line in enumerate(raw, start=1):
        if number == 1:
            line = line.removeprefix(BOM)
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: line {number} is not UTF-8 (byte 0x{line[exc.start]:02x} "
                f"at column {exc.start + 1}); nothing was imported",
                hint="save the file as UTF-8 (in Excel: 'CSV UTF-8') and import again",
            ) from exc


def _lines(raw: BinaryIO) -> Iterator[str]:
    # UTF-8 never uses the newline byte inside a character, so splitting the
    # bytes on newlines first and decoding each piece is exact.
    for number, line in enumerate(raw, start=1):
        if number == 1:
            line = line.removeprefix(BOM)
        yield line.decode("utf-8")


def _delimiter(header: bytes) -> str:
    # Spreadsheets in locales with a decimal comma save "CSV" with semicolons;
    # the header, which holds no quoted values, tells which one was used.
    counts = {d: header.count(d.encode()) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: counts[d])


def _header(path: Path, names: list[str]) -> tuple[list[str], list[str]]:
    columns = [n.strip().lower() for n in names]
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        raise InputError(
            f"{path}: line 1: column(s) {', '.join(repeated)} named more than once",
            hint="keep one column of each name; which one holds the values is "
            "not guessed",
        )
    missing = [c for c in REQUIRED if c not in columns]
    if not any(k in columns for k in PROJECT_KEYS):
        missing.insert(0, " or ".join(PROJECT_KEYS))
    if missing:
        raise InputError(
            f"{path}: line 1: missing column(s) {', '.join(missing)}; the header "
            f"has {', '.join(repr(n) for n in names) or 'nothing'}",
            hint="the first line must name the columns: project_id or "
            "opportunity_id, task_key, status, and optionally date and note",
        )
    known = {*REQUIRED, *PROJECT_KEYS, *OPTIONAL}
    return columns, [n for n, c in zip(names, columns, strict=True) if c not in known]


def _day(value: str) -> date | None:
    if not value:
        return None
    if not _DAY.fullmatch(value):
        raise InputError(f"date {value!r} is not YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"date {value!r} is not a real day ({exc})") from exc


def _project_id(value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise InputError(f"project_id {value!r} is not a number") from exc


def _apply_row(store: Store, row: dict[str, str], *, actor: str, at: datetime) -> bool:
    project_ref, opportunity_ref = (
        row.get("project_id", ""),
        row.get("opportunity_id", ""),
    )
    if not project_ref and not opportunity_ref:
        raise InputError("neither project_id nor opportunity_id is given")
    task_key, status = row.get("task_key", ""), row.get("status", "")
    if not task_key:
        raise InputError("task_key is empty")
    if not status:
        raise InputError("status is empty")
    on = _day(row.get("date", ""))
    with store.transaction() as session:
        if project_ref:
            project = find_project(
                session, project_id=_project_id(project_ref), lock=True
            )
            if opportunity_ref and not project.opportunity_id.startswith(
                opportunity_ref
            ):
                raise InputError(
                    f"project {project.id} belongs to opportunity "
                    f"{project.opportunity_id}, not {opportunity_ref}"
                )
        else:
            project = find_project(session, opportunity_id=opportunity_ref, lock=True)
        result = apply_task_status(
            session,
            project,
            task_key,
            status,
            actor=actor,
            at=at,
            on=on,
            note=row.get("note") or None,
        )
    return result.changed


def _apply_rows(
    store: Store,
    path: Path,
    reader: Any,
    report: ImportReport,
    actor: str,
    at: datetime,
) -> None:
    try:
        header = next(reader, None)
        if header is None:
            raise InputError(f"{path} is empty", hint="add a header line and rows")
        columns, report.ignored_columns = _header(path, header)
        start = reader.line_num + 1
        for values in reader:
            line, start = start, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(columns):
                report.rejected.append(
                    (line, f"{len(values)} values for {len(columns)} columns")
                )
                continue
            row = {c: v.strip() for c, v in zip(columns, values, strict=False)}
            try:
                changed = _apply_row(store, row, actor=actor, at=at)
            except InputError as exc:
                report.rejected.append((line, str(exc)))
            except SQLAlchemyError as exc:
                raise StoreError(
                    f"{path}: line {line}: the database failed ({exc}); "
                    f"{report.applied} row(s) before it were applied",
                    hint="fix the database problem and import the file again; "
                    "rows already applied are skipped as unchanged",
                ) from exc
            else:
                if changed:
                    report.applied += 1
                else:
                    report.unchanged += 1
    except csv.Error as exc:
        raise InputError(
            f"{path}: line {reader.line_num}: not valid CSV ({exc}); "
            f"{report.applied} row(s) before it were applied",
            hint="check the quoting on that line and import the file again",
        ) from exc


def import_progress_csv(
    store: Store, path: Path | str, *, actor: str, at: datetime
) -> ImportReport:
    """Apply a progress CSV row by row; bad rows are reported, good ones kept.

    Raises ``InputError`` before changing anything when the file is not UTF-8
    or its header lacks a required column, and ``StoreError`` when the
    database fails mid-way (the rows before the failing line stay applied, and
    a re-run of the file skips them as unchanged).
    """
    path = Path(path)
    report = ImportReport(path=str(path))
    try:
        with path.open("rb") as raw:
            _check_encoding(path, raw)
            raw.seek(0)
            delimiter = _delimiter(raw.readline())
            raw.seek(0)
            reader = csv.reader(_lines(raw), delimiter=delimiter)
            _apply_rows(store, path, reader, report, actor, at)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    log.info(
        "progress_imported",
        path=str(path),
        applied=report.applied,
        unchanged=report.unchanged,
        rejected=len(report.rejected),
    )
    return report
