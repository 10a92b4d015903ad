"""Bulk API 2.0 over the one request path: streamed queries and ingest jobs."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sfsync.errors import NonAdvancingCursorError, SalesforceError
from sfsync.logs import get_logger
from sfsync.salesforce.client import SalesforceClient

__all__ = [
    "BulkQueryStats",
    "IngestResult",
    "bulk_ingest",
    "bulk_query",
    "csv_uploads",
]

log = get_logger(__name__)

FINAL_STATES = {"JobComplete", "Failed", "Aborted"}
# Polls start fast (a small job is usually done within a second) and back off
# to this ceiling so that a long job costs few calls.
MAX_POLL_INTERVAL_S = 10.0


@dataclass
class BulkQueryStats:
    job_id: str | None = None
    pages: int = 0
    polls: int = 0
    records: int = 0
    nul_bytes_removed: int = 0


def _wait(
    client: SalesforceClient,
    kind: str,
    job_id: str,
    *,
    poll_s: float,
    max_wait_s: float,
    sleep: Callable[[float], None],
    on_poll: Callable[[], None],
) -> dict[str, Any]:
    interval = poll_s
    waited = 0.0
    while True:
        info: dict[str, Any] = client.request_json(
            "GET", f"jobs/{kind}/{job_id}", operation=f"bulk {kind} status"
        )
        on_poll()
        state = info.get("state")
        if state in FINAL_STATES:
            if state != "JobComplete":
                raise SalesforceError(
                    f"Bulk API 2.0 {kind} job {job_id} ended {state}: "
                    f"{info.get('errorMessage') or 'no message'}",
                    error_code=f"BULK_{str(state).upper()}",
                )
            return info
        if waited >= max_wait_s:
            raise SalesforceError(
                f"Bulk API 2.0 {kind} job {job_id} is still {state} after "
                f"{waited:.0f} s of polling; giving up on it",
                error_code="BULK_JOB_TIMEOUT",
                hint="look the job up under Setup > Bulk Data Load Jobs; raise "
                "bulk_job_timeout_s if the org is this slow; the next run starts "
                "a new job",
            )
        sleep(interval)
        waited += interval
        interval = min(interval * 2, MAX_POLL_INTERVAL_S)


def _lines_without_nul(stream: io.TextIOBase, stats: BulkQueryStats) -> Iterator[str]:
    for line in stream:
        if "\x00" in line:
            stats.nul_bytes_removed += line.count("\x00")
            line = line.replace("\x00", "")
        yield line


def bulk_query(
    client: SalesforceClient,
    soql: str,
    *,
    include_deleted: bool = False,
    page_size: int = 50000,
    stats: BulkQueryStats | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dict[str, str]]:
    """Yield the rows of a Bulk API 2.0 query one by one, streaming each page.

    Values are CSV strings ("" for null). Memory holds one row at a time, not
    a page, so a pull of any size runs in constant memory.
    """
    stats = stats if stats is not None else BulkQueryStats()
    created = client.request_json(
        "POST",
        "jobs/query",
        operation="bulk query create",
        json={
            "operation": "queryAll" if include_deleted else "query",
            "query": soql,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        },
    )
    job_id = str(created["id"])
    stats.job_id = job_id
    log.info("bulk_query_started", job_id=job_id)

    def count_poll() -> None:
        stats.polls += 1

    _wait(
        client,
        "query",
        job_id,
        poll_s=client.settings.bulk_poll_interval_s,
        max_wait_s=client.settings.bulk_job_timeout_s,
        sleep=sleep,
        on_poll=count_poll,
    )
    locator: str | None = None
    seen_locators: set[str] = set()
    while True:
        params: dict[str, Any] = {"maxRecords": page_size}
        if locator:
            params["locator"] = locator
        reply = client.request(
            "GET",
            f"jobs/query/{job_id}/results",
            operation="bulk query results",
            params=params,
            headers={"Accept": "text/csv"},
            stream=True,
        )
        stats.pages += 1
        reply.raw.decode_content = True
        # urllib3 closes its stream at the end of the body, which the text
        # wrapper would then try to read again; the reply is closed below.
        reply.raw.auto_close = False
        raw: Any = reply.raw
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        try:
            reader = csv.DictReader(_lines_without_nul(text, stats))
            for row in reader:
                stats.records += 1
                yield row
        finally:
            reply.close()
        locator = reply.headers.get("Sforce-Locator")
        if not locator or locator == "null":
            return
        if locator in seen_locators:
            raise NonAdvancingCursorError(
                f"bulk query results of job {job_id}: Salesforce gave locator "
                f"{locator!r} a second time; stopping instead of reading the same "
                "page again",
                hint="run again; if it repeats, reconcile with `sfsync reconcile`",
            )
        seen_locators.add(locator)


# Salesforce takes at most 150 MB per upload after its base64 encoding, which
# adds about half: raw CSV is kept under 100 MB, one upload per job.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


@dataclass
class IngestResult:
    """Per-record outcome of the ingest jobs, keyed by the key column's value."""

    job_ids: list[str] = field(default_factory=list)
    succeeded: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    unprocessed: list[str] = field(default_factory=list)
    polls: int = 0

    @property
    def job_id(self) -> str:
        return ", ".join(self.job_ids)


def csv_uploads(
    rows: list[dict[str, Any]], columns: list[str], *, max_bytes: int
) -> Iterator[bytes]:
    """The rows as CSV uploads of at most ``max_bytes``, each with the header.

    Every record is written by the csv module on its own and an upload is cut
    only between records, so a value holding commas, quotes or line breaks
    is never split (case SC-17).
    """
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    header = buffer.getvalue().encode("utf-8")
    upload = [header]
    size = len(header)
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow({c: "" if row.get(c) is None else row[c] for c in columns})
        line = buffer.getvalue().encode("utf-8")
        if len(header) + len(line) > max_bytes:
            raise SalesforceError(
                f"one record ({len(line)} bytes as CSV) is larger than a Bulk API "
                f"2.0 upload may be ({max_bytes} bytes)",
                error_code="BULK_RECORD_TOO_LARGE",
                hint="shorten the pushed text fields in mappings/push.yaml",
            )
        if size + len(line) > max_bytes:
            yield b"".join(upload)
            upload, size = [header], len(header)
        upload.append(line)
        size += len(line)
    if len(upload) > 1:
        yield b"".join(upload)


def bulk_ingest(
    client: SalesforceClient,
    sobject: str,
    rows: list[dict[str, Any]],
    *,
    operation: str = "update",
    key: str = "Id",
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    sleep: Callable[[float], None] = time.sleep,
) -> IngestResult:
    """Write ``rows`` through ingest jobs, one per upload of ``max_upload_bytes``.

    Results are matched by ``key``, never by position: Bulk API 2.0 does not
    keep the upload's order in its result files (case SC-19).
    """
    columns = [key, *sorted({c for r in rows for c in r if c != key})]
    result = IngestResult()
    for upload in csv_uploads(rows, columns, max_bytes=max_upload_bytes):
        _ingest_job(client, sobject, upload, operation, key, result, sleep)
    processed = set(result.succeeded) | set(result.failed)
    result.unprocessed = [
        str(r.get(key)) for r in rows if str(r.get(key)) not in processed
    ]
    return result


def _ingest_job(
    client: SalesforceClient,
    sobject: str,
    upload: bytes,
    operation: str,
    key: str,
    result: IngestResult,
    sleep: Callable[[float], None],
) -> None:
    """One job: create, upload, close, wait, then collect its results."""
    created = client.request_json(
        "POST",
        "jobs/ingest",
        operation="bulk ingest create",
        json={
            "object": sobject,
            "operation": operation,
            "contentType": "CSV",
            "lineEnding": "LF",
            **({"externalIdFieldName": key} if operation == "upsert" else {}),
        },
    )
    job_id = str(created["id"])
    result.job_ids.append(job_id)
    client.request(
        "PUT",
        f"jobs/ingest/{job_id}/batches",
        operation="bulk ingest upload",
        expected=(201,),
        data=upload,
        headers={"Content-Type": "text/csv"},
    )
    client.request(
        "PATCH",
        f"jobs/ingest/{job_id}",
        operation="bulk ingest close",
        json={"state": "UploadComplete"},
    )

    def count_poll() -> None:
        result.polls += 1

    info = _wait(
        client,
        "ingest",
        job_id,
        poll_s=client.settings.bulk_poll_interval_s,
        max_wait_s=client.settings.bulk_job_timeout_s,
        sleep=sleep,
        on_poll=count_poll,
    )
    if info.get("numberRecordsProcessed", 0) - info.get("numberRecordsFailed", 0):
        for row in _result_rows(client, job_id, "successfulResults"):
            result.succeeded[row.get(key, "")] = row.get("sf__Id", "")
    if info.get("numberRecordsFailed", 0):
        for row in _result_rows(client, job_id, "failedResults"):
            result.failed[row.get(key, "")] = row.get("sf__Error", "")


def _result_rows(
    client: SalesforceClient, job_id: str, which: str
) -> Iterator[dict[str, str]]:
    reply = client.request(
        "GET",
        f"jobs/ingest/{job_id}/{which}",
        operation=f"bulk ingest {which}",
        headers={"Accept": "text/csv"},
    )
    yield from csv.DictReader(io.StringIO(reply.content.decode("utf-8"), newline=""))
