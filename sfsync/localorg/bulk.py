"""Bulk API 2.0: query jobs with CSV result pages and CSV ingest jobs."""

from __future__ import annotations

import base64
import csv
import io
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sfsync.localorg import ids
from sfsync.localorg.errors import ApiError, RecordError, not_found

if TYPE_CHECKING:
    from sfsync.localorg.api import ApiRequest, Reply, RestApi

__all__ = ["BulkApi"]

# Salesforce cuts result sets into pages by size; a fixed record cap keeps
# the paging observable with modest data (the first locator is "MTAwMDA").
MAX_PAGE_RECORDS = 10_000
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
_DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "SEMICOLON": ";",
    "PIPE": "|",
    "CARET": "^",
    "BACKQUOTE": "`",
}
_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")


@dataclass
class _Job:
    info: dict[str, Any]
    kind: str  # "query" or "ingest"
    rows: list[list[str]] = field(default_factory=list)  # query result rows
    header: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    successes: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    upload_header: list[str] = field(default_factory=list)


class BulkApi:
    """Jobs under /jobs/query and /jobs/ingest, processed in-process."""

    def __init__(self, api: RestApi) -> None:
        self.api = api
        self.store = api.store
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self.jobs_created = 0

    def handle(self, request: ApiRequest, parts: list[str]) -> Reply:
        if not parts or parts[0] not in ("query", "ingest"):
            raise not_found()
        kind, rest = parts[0], parts[1:]
        method = request.method
        if not rest:
            if method == "POST":
                return (
                    self._create_query(request)
                    if kind == "query"
                    else (self._create_ingest(request))
                )
            if method == "GET":
                return self._list(kind)
            raise not_found()
        job = self._job(kind, rest[0])
        if len(rest) == 1:
            if method == "GET":
                return self._reply(200, self._status(job))
            if method == "PATCH":
                return self._change_state(request, job)
            if method == "DELETE":
                with self._lock:
                    self._jobs.pop(job.info["id"], None)
                return self._reply(204, None)
        elif kind == "query" and rest[1] == "results" and method == "GET":
            return self._results(request, job)
        elif kind == "ingest" and rest[1] == "batches" and method == "PUT":
            return self._upload(request, job)
        elif (
            kind == "ingest"
            and method == "GET"
            and rest[1] in ("successfulResults", "failedResults", "unprocessedrecords")
        ):
            return self._ingest_results(job, rest[1])
        raise not_found()

    def _reply(
        self,
        status: int,
        body: Any,
        *,
        csv_text: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        from sfsync.localorg.api import Reply

        if csv_text:
            return Reply(status, body, headers=headers or {}, content_type="text/csv")
        return Reply(status, body, headers=headers or {})

    def _job(self, kind: str, job_id: str) -> _Job:
        with self._lock:
            job = self._jobs.get(ids.normalize(job_id) or "")
        if job is None or job.kind != kind:
            raise ApiError(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                not_found_order=True,
            )
        return job

    def _new_info(self, request: ApiRequest, payload: dict[str, Any]) -> dict[str, Any]:
        stamp = self.store.stamp()
        return {
            "id": self.store.ids.new(ids.KEY_PREFIXES["BulkJob"]),
            "operation": payload.get("operation"),
            "object": payload.get("object"),
            "createdById": self.store.user_id,
            "createdDate": stamp,
            "systemModstamp": stamp,
            "state": "Open",
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(request.version),
        }

    def _options(self, payload: dict[str, Any]) -> tuple[str, str]:
        delimiter = str(payload.get("columnDelimiter", "COMMA"))
        ending = str(payload.get("lineEnding", "LF"))
        if delimiter not in _DELIMITERS or ending not in _ENDINGS:
            raise ApiError(
                400,
                "INVALIDJOB",
                f"Invalid columnDelimiter or lineEnding: {delimiter}, {ending}",
            )
        return delimiter, ending

    # -- query jobs ----------------------------------------------------------

    def _create_query(self, request: ApiRequest) -> Reply:
        payload = request.json()
        if not isinstance(payload, dict) or not payload.get("query"):
            raise ApiError(400, "INVALIDJOB", "A query job needs a query")
        operation = payload.get("operation", "query")
        if operation not in ("query", "queryAll"):
            raise ApiError(400, "INVALIDJOB", f"Invalid operation: {operation}")
        delimiter, ending = self._options(payload)
        text = str(payload["query"])
        result = self.api.run_query(
            text, request.version, include_deleted=operation == "queryAll"
        )
        header, rows = _flatten(result.records)
        info = self._new_info(
            request,
            {"operation": operation, "object": _object_of(result.records, text)},
        )
        info["state"] = "UploadComplete"
        info.update(lineEnding=ending, columnDelimiter=delimiter)
        job = _Job(info=info, kind="query", rows=rows, header=header)
        with self._lock:
            self._jobs[info["id"]] = job
            self.jobs_created += 1
        # The query has already run; the job is complete from its first poll.
        info["state"] = "JobComplete"
        body = dict(info, state="UploadComplete")
        return self._reply(200, body)

    def _results(self, request: ApiRequest, job: _Job) -> Reply:
        try:
            max_records = int(request.query.get("maxRecords", MAX_PAGE_RECORDS))
            offset = int(_unlocator(request.query.get("locator") or ""))
        except ValueError as exc:
            raise ApiError(
                400, "INVALIDLOCATOR", "Invalid locator or maxRecords"
            ) from exc
        if max_records <= 0:
            raise ApiError(400, "INVALIDREQUEST", "maxRecords must be positive")
        size = min(max_records, MAX_PAGE_RECORDS)
        page = job.rows[offset : offset + size]
        end = offset + len(page)
        locator = _locator(end) if end < len(job.rows) else "null"
        text = _write_csv(job.header, page, job.info)
        headers = {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(page))}
        return self._reply(200, text, csv_text=True, headers=headers)

    # -- ingest jobs ---------------------------------------------------------

    def _create_ingest(self, request: ApiRequest) -> Reply:
        payload = request.json()
        if not isinstance(payload, dict):
            raise ApiError(400, "INVALIDJOB", "Expected a JSON object")
        operation = payload.get("operation")
        if operation not in _OPERATIONS:
            raise ApiError(400, "INVALIDJOB", f"Invalid operation: {operation}")
        obj = self.store.schema.object(str(payload.get("object", "")))
        if obj is None:
            raise ApiError(
                400, "INVALIDJOB", f"Unable to find object: {payload.get('object')}"
            )
        external = payload.get("externalIdFieldName")
        if operation == "upsert":
            definition = obj.field(str(external or ""))
            if definition is None or not definition.id_lookup:
                raise ApiError(
                    400,
                    "INVALIDJOB",
                    f"Invalid external ID field: {external} for {obj.name}",
                )
        delimiter, ending = self._options(payload)
        info = self._new_info(request, {"operation": operation, "object": obj.name})
        if operation == "upsert":
            info["externalIdFieldName"] = external
        info["contentUrl"] = (
            f"services/data/v{request.version}/jobs/ingest/{info['id']}/batches"
        )
        info.update(lineEnding=ending, columnDelimiter=delimiter)
        with self._lock:
            self._jobs[info["id"]] = _Job(info=info, kind="ingest")
        return self._reply(200, dict(info))

    def _upload(self, request: ApiRequest, job: _Job) -> Reply:
        if job.info["state"] != "Open":
            raise ApiError(
                409,
                "INVALIDJOBSTATE",
                f"Job is not open for uploads; state is {job.info['state']}",
            )
        if len(request.body) > MAX_UPLOAD_BYTES:
            raise ApiError(400, "INVALIDREQUEST", "Upload is larger than 100 MB")
        try:
            job.uploads.append(request.body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ApiError(400, "INVALIDREQUEST", "CSV data must be UTF-8") from exc
        return self._reply(201, None)

    def _change_state(self, request: ApiRequest, job: _Job) -> Reply:
        payload = request.json()
        wanted = payload.get("state") if isinstance(payload, dict) else None
        state = job.info["state"]
        if wanted == "Aborted":
            if state in ("JobComplete", "Failed", "Aborted"):
                shown = "Completed" if state == "JobComplete" else state
                raise ApiError(
                    400, "INVALIDJOBSTATE", f"Aborting already {shown} Job not allowed"
                )
            job.info["state"] = "Aborted"
        elif wanted == "UploadComplete" and job.kind == "ingest":
            if state != "Open":
                raise ApiError(
                    400, "INVALIDJOBSTATE", f"Closing {state} Job not allowed"
                )
            job.info["state"] = "UploadComplete"
            self._process(job)
        else:
            raise ApiError(400, "INVALIDJOBSTATE", f"Invalid state change: {wanted}")
        job.info["systemModstamp"] = self.store.stamp()
        short = {
            k: v
            for k, v in job.info.items()
            if k not in ("contentUrl", "lineEnding", "columnDelimiter")
        }
        short["state"] = "UploadComplete" if wanted == "UploadComplete" else "Aborted"
        return self._reply(200, short)

    def _process(self, job: _Job) -> None:
        """Apply the uploaded rows synchronously, recording one result each."""
        info = job.info
        delimiter = _DELIMITERS[info["columnDelimiter"]]
        text = "".join(job.uploads)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            info.update(state="Failed", errorMessage="InvalidBatch : No data found")
            return
        except csv.Error as exc:
            info.update(state="Failed", errorMessage=f"InvalidBatch : {exc}")
            return
        job.upload_header = header
        obj = self.store.object(info["object"])
        operation = info["operation"]
        try:
            rows = list(reader)
        except csv.Error as exc:
            info.update(state="Failed", errorMessage=f"InvalidBatch : {exc}")
            return
        self.api.stats.count_writes(len(rows))
        for row in rows:
            if not any(cell for cell in row):
                continue
            values = dict(zip(header, row, strict=False))
            try:
                record_id, created = self._apply_row(obj.name, operation, values, info)
            except (RecordError, ApiError) as exc:
                fields = getattr(exc, "fields", [])
                code = exc.code
                suffix = f"{','.join(fields)} --" if fields else "--"
                error = f"{code}:{exc.message}:{suffix}"
                failed_id = values.get("Id", "") if operation != "insert" else ""
                job.failures.append([failed_id or "", error, *row])
                continue
            job.successes.append([record_id, "true" if created else "false", *row])
        info["state"] = "JobComplete"

    def _apply_row(
        self, sobject: str, operation: str, values: dict[str, str], info: dict[str, Any]
    ) -> tuple[str, bool]:
        with self.store.lock:
            if operation in ("delete", "hardDelete"):
                record_id = values.get("Id", "")
                deleted = self.store.delete(sobject, record_id)
                if operation == "hardDelete":
                    self.store.hard_delete(sobject, deleted)
                return deleted, False
            fields = {
                name: (None if value == "#N/A" else value)
                for name, value in values.items()
                if value != "" and name != "Id"
            }
            if operation == "insert":
                return self.store.create(sobject, fields), True
            if operation == "update":
                record_id = values.get("Id", "")
                row = self.store.live_row(self.store.object(sobject), record_id)
                self.store.update(sobject, row["Id"], fields)
                return row["Id"], False
            external = info["externalIdFieldName"]
            key = next((k for k in values if k.lower() == external.lower()), external)
            outcome = self.store.upsert(sobject, external, values.get(key), fields)
            return outcome.record_id, outcome.created

    def _ingest_results(self, job: _Job, which: str) -> Reply:
        out = io.StringIO()
        ending = _ENDINGS[job.info["lineEnding"]]
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator=ending)
        uploaded = ",".join(job.upload_header)
        if which == "unprocessedrecords":
            out.write(uploaded + ending)
            writer.writerows(job.unprocessed)
        else:
            pair = (
                '"sf__Id","sf__Created"'
                if which == "successfulResults"
                else ('"sf__Id","sf__Error"')
            )
            out.write(pair + ("," + uploaded if uploaded else "") + ending)
            writer.writerows(
                job.successes if which == "successfulResults" else (job.failures)
            )
        return self._reply(200, out.getvalue(), csv_text=True)

    # -- status --------------------------------------------------------------

    def _status(self, job: _Job) -> dict[str, Any]:
        info = dict(job.info)
        info["jobType"] = "V2Query" if job.kind == "query" else "V2Ingest"
        ordered: dict[str, Any] = {
            k: info[k]
            for k in (
                "id",
                "operation",
                "object",
                "createdById",
                "createdDate",
                "systemModstamp",
                "state",
                "externalIdFieldName",
                "concurrencyMode",
                "contentType",
                "apiVersion",
                "jobType",
                "contentUrl",
                "lineEnding",
                "columnDelimiter",
            )
            if k in info
        }
        if job.kind == "query":
            ordered.update(
                numberRecordsProcessed=len(job.rows), retries=0, totalProcessingTime=0
            )
        else:
            if info["state"] != "Open":
                ordered.pop("contentUrl", None)
            ordered.update(
                numberRecordsProcessed=len(job.successes) + len(job.failures),
                numberRecordsFailed=len(job.failures),
                retries=0,
                totalProcessingTime=0,
                apiActiveProcessingTime=0,
                apexProcessingTime=0,
            )
        if "errorMessage" in info:
            ordered["errorMessage"] = info["errorMessage"]
        return ordered

    def _list(self, kind: str) -> Reply:
        with self._lock:
            records = [self._status(j) for j in self._jobs.values() if j.kind == kind]
        return self._reply(
            200, {"done": True, "records": records, "nextRecordsUrl": None}
        )


def _locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _unlocator(text: str) -> str:
    if not text or text == "null":
        return "0"
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded.encode(), validate=True).decode()
    except ValueError as exc:
        raise ValueError(text) from exc


def _object_of(records: list[dict[str, Any]], text: str) -> str:
    if records:
        return str(records[0].get("attributes", {}).get("type", ""))
    words = text.split()
    lowered = [w.lower() for w in words]
    return words[lowered.index("from") + 1] if "from" in lowered[:-1] else ""


def _flatten(records: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Dotted CSV columns (Account.Name) from REST-shaped records."""
    header: list[str] = []
    flat_rows: list[dict[str, Any]] = []
    for record in records:
        flat: dict[str, Any] = {}
        _walk(record, "", flat)
        for key in flat:
            if key not in header:
                header.append(key)
        flat_rows.append(flat)
    return header, [
        [_cell(flat.get(column)) for column in header] for flat in flat_rows
    ]


def _walk(record: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "attributes" in value:
            _walk(value, f"{prefix}{key}.", out)
        elif isinstance(value, dict) and "records" in value:
            continue  # child subqueries are not available through Bulk API 2.0
        else:
            out[prefix + key] = value


def _cell(value: Any) -> str:
    """CSV text of a wire value; datetimes in the Z-suffixed ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and len(value) == 28 and value.endswith("+0000"):
        return value[:-5] + "Z"
    return str(value)


def _write_csv(header: list[str], rows: list[list[str]], info: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=_DELIMITERS[info["columnDelimiter"]],
        quoting=csv.QUOTE_ALL,
        lineterminator=_ENDINGS[info["lineEnding"]],
    )
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
