"""Bulk API 2.0 over the one request path: streamed queries and ingest jobs."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sfsync.errors import SalesforceError
from sfsync.logs import get_logger
from sfsync.salesforce.client import SalesforceClient

__all__ = ["BulkQueryStats", "IngestResult", "bulk_ingest", "bulk_query"]

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
    sleep: Callable[[float], None],
    on_poll: Callable[[], None],
) -> dict[str, Any]:
    interval = poll_s
    while True:
        info: dict[str, Any] = client.request(
            "GET", f"jobs/{kind}/{job_id}", operation=f"bulk {kind} status"
        ).json()
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
        sleep(interval)
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
    created = client.request(
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
    ).json()
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
        sleep=sleep,
        on_poll=count_poll,
    )
    locator: str | None = None
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


@dataclass
class IngestResult:
    """Per-record outcome of an ingest job, keyed by the key column's value."""

    job_id: str
    succeeded: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    unprocessed: list[str] = field(default_factory=list)
    polls: int = 0


def _rows_to_csv(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row[c] for c in columns})
    return buffer.getvalue().encode("utf-8")


def bulk_ingest(
    client: SalesforceClient,
    sobject: str,
    rows: list[dict[str, Any]],
    *,
    operation: str = "update",
    key: str = "Id",
    sleep: Callable[[float], None] = time.sleep,
) -> IngestResult:
    """Run one ingest job; results are matched by ``key``, never by position.

    Bulk API 2.0 does not keep the upload's order in its result files, so a
    row's outcome is found through its key column (case SC-19).
    """
    columns = [key, *sorted({c for r in rows for c in r if c != key})]
    created = client.request(
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
    ).json()
    job_id = str(created["id"])
    result = IngestResult(job_id=job_id)
    client.request(
        "PUT",
        f"jobs/ingest/{job_id}/batches",
        operation="bulk ingest upload",
        expected=(201,),
        data=_rows_to_csv(rows, columns),
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
        sleep=sleep,
        on_poll=count_poll,
    )
    if info.get("numberRecordsProcessed", 0) - info.get("numberRecordsFailed", 0):
        for row in _result_rows(client, job_id, "successfulResults"):
            result.succeeded[row.get(key, "")] = row.get("sf__Id", "")
    if info.get("numberRecordsFailed", 0):
        for row in _result_rows(client, job_id, "failedResults"):
            result.failed[row.get(key, "")] = row.get("sf__Error", "")
    processed = set(result.succeeded) | set(result.failed)
    result.unprocessed = [
        str(r.get(key)) for r in rows if str(r.get(key)) not in processed
    ]
    return result


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
