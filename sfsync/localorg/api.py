"""The REST resources under /services/data/vXX.X/, as plain request -> reply."""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sfsync.localorg import describe, ids, soql
from sfsync.localorg.control import Stats
from sfsync.localorg.errors import ApiError, RecordError, not_found
from sfsync.localorg.schema import ObjectDef
from sfsync.localorg.store import Row, Store, StoreCatalog
from sfsync.localorg.values import format_datetime, parse_datetime

__all__ = ["ApiRequest", "Reply", "RestApi", "category_of", "versions"]

MAX_COLLECTION = 200
MAX_QUERY_LENGTH = 100_000
_OPEN_CURSORS = 200


@dataclass
class ApiRequest:
    """One REST call, already split from the HTTP layer."""

    method: str
    version: str
    path: str  # after /services/data/vXX.X/, no leading slash
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def json(self) -> Any:
        if not self.body.strip():
            raise ApiError(400, "JSON_PARSER_ERROR", "The request body is empty.")
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", 1)
            column = getattr(exc, "colno", 1)
            raise ApiError(
                400,
                "JSON_PARSER_ERROR",
                f"Unexpected character in the JSON body at [line:{line}, "
                f"column:{column}]",
            ) from exc


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON value, or str/bytes with content_type set
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"


def versions() -> list[dict[str, str]]:
    """The versions list (31.0 .. 66.0) with the release-label rule."""
    seasons = ("Winter", "Spring", "Summer")
    result = []
    for number in range(31, 67):
        offset = number - 20
        label = f"{seasons[offset % 3]} '{11 + offset // 3:02d}"
        result.append(
            {
                "label": label,
                "url": f"/services/data/v{number}.0",
                "version": f"{number}.0",
            }
        )
    return result


def category_of(path: str) -> str:
    """The counter bucket of a REST path (after the version)."""
    head = path.split("/", 1)[0]
    if head in ("query", "queryAll"):
        return "query"
    if head == "sobjects":
        parts = [p for p in path.split("/") if p]
        if len(parts) <= 1 or (len(parts) == 3 and parts[2] == "describe"):
            return "describe"
        if len(parts) >= 3 and parts[2] in ("updated", "deleted"):
            return "replication"
        if len(parts) == 2:
            return "sobject"
        return "sobject"
    if path.startswith("composite/sobjects"):
        return "collections"
    if head == "composite":
        return "composite"
    if head == "jobs":
        return "bulk2"
    if head == "limits":
        return "limits"
    return "other"


@dataclass
class _Cursor:
    records: list[dict[str, Any]]
    total_size: int
    batch: int


class RestApi:
    """Serves REST calls against one store; thread-safe through the store lock."""

    def __init__(self, store: Store, stats: Stats, base_url: Callable[[], str]) -> None:
        self.store = store
        self.stats = stats
        self.catalog = StoreCatalog(store)
        self._base_url = base_url
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._cursor_lock = threading.Lock()
        self.bulk: Any = None  # set by the server: the Bulk API 2.0 handler

    # -- routing -------------------------------------------------------------

    def handle(self, request: ApiRequest) -> Reply:
        parts = [unquote(p) for p in request.path.split("/") if p]
        head = parts[0] if parts else ""
        method = request.method
        if not parts:
            return Reply(200, self._resources(request.version))
        if head in ("query", "queryAll"):
            if method != "GET":
                raise _method_not_allowed(method)
            if len(parts) == 2:
                return self._query_more(request, parts[1])
            return self._query(request, include_deleted=head == "queryAll")
        if head == "sobjects":
            return self._sobjects(request, parts[1:])
        if head == "composite" and len(parts) >= 2 and parts[1] == "sobjects":
            return self._collections(request, parts[2:])
        if head == "composite" and len(parts) == 1:
            return self._composite(request)
        if head == "limits" and len(parts) == 1:
            return Reply(200, self._limits())
        if head == "jobs" and self.bulk is not None:
            reply: Reply = self.bulk.handle(request, parts[1:])
            return reply
        raise not_found()

    def _resources(self, version: str) -> dict[str, str]:
        base = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "composite", "limits", "jobs")
        return {name: f"{base}/{name}" for name in names}

    # -- query ---------------------------------------------------------------

    def _query(self, request: ApiRequest, *, include_deleted: bool) -> Reply:
        text = request.query.get("q")
        if text is None or not text.strip():
            raise ApiError(400, "MALFORMED_QUERY", "A query string must be provided.")
        result = self.run_query(text, request.version, include_deleted=include_deleted)
        batch = _batch_size(request.headers.get("sforce-query-options", ""))
        cursor = _Cursor(result.records, result.total_size, batch)
        if len(result.records) <= batch:
            return Reply(200, _page(cursor, 0, None, request.version))
        locator = self._open_cursor(cursor)
        return Reply(200, _page(cursor, 0, locator, request.version))

    def run_query(
        self, text: str, version: str, *, include_deleted: bool
    ) -> soql.Result:
        if len(text) > MAX_QUERY_LENGTH:
            raise ApiError(
                400,
                "MALFORMED_QUERY",
                f"Query is too long: {len(text)} characters, the limit is "
                f"{MAX_QUERY_LENGTH}",
            )
        try:
            parsed = soql.parse(text)
            with self.store.lock:
                return soql.execute(
                    parsed,
                    self.catalog,
                    now=self.store.now(),
                    api_version=version,
                    include_deleted=include_deleted,
                )
        except soql.SoqlError as exc:
            raise ApiError(400, exc.error_code, exc.message) from exc
        except RecursionError as exc:
            raise ApiError(400, "MALFORMED_QUERY", "Query is too complex") from exc

    def _open_cursor(self, cursor: _Cursor) -> str:
        with self._cursor_lock:
            locator = self.store.ids.new(ids.KEY_PREFIXES["QueryLocator"])
            self._cursors[locator] = cursor
            # Salesforce keeps a bounded number of open cursors per user and
            # drops the oldest; so does this org.
            while len(self._cursors) > _OPEN_CURSORS:
                self._cursors.popitem(last=False)
            return locator

    def _query_more(self, request: ApiRequest, token: str) -> Reply:
        locator, _, offset_text = token.partition("-")
        with self._cursor_lock:
            cursor = self._cursors.get(locator)
        if cursor is None or not offset_text.isdigit():
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        offset = int(offset_text)
        body = _page(cursor, offset, locator, request.version)
        if body["done"]:
            with self._cursor_lock:
                self._cursors.pop(locator, None)
        return Reply(200, body)

    # -- sobjects ------------------------------------------------------------

    def _sobjects(self, request: ApiRequest, parts: list[str]) -> Reply:
        version, method = request.version, request.method
        if not parts:
            if method != "GET":
                raise _method_not_allowed(method)
            return Reply(200, describe.describe_global(self.store.schema, version))
        obj = self.store.object(parts[0])
        if len(parts) == 1:
            if method == "GET":
                return Reply(200, describe.basic_info(obj, version))
            if method == "POST":
                return self._create(request, obj)
            raise _method_not_allowed(method)
        if len(parts) == 2 and parts[1] == "describe" and method == "GET":
            body = describe.describe_object(self.store.schema, obj, version)
            return Reply(200, body)
        if len(parts) == 2 and parts[1] in ("updated", "deleted") and method == "GET":
            return self._replication(request, obj, parts[1])
        if len(parts) == 2:
            return self._by_id(request, obj, parts[1])
        if len(parts) == 3:
            return self._by_external_id(request, obj, parts[1], parts[2])
        raise not_found()

    def _create(self, request: ApiRequest, obj: ObjectDef) -> Reply:
        values = request.json()
        if not isinstance(values, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Expected a JSON object")
        self.stats.count_writes(1)
        record_id = _single(lambda: self.store.create(obj.name, values))
        location = f"/services/data/v{request.version}/sobjects/{obj.name}/{record_id}"
        return Reply(
            201,
            {"id": record_id, "success": True, "errors": []},
            headers={"Location": location},
        )

    def _by_id(self, request: ApiRequest, obj: ObjectDef, record_id: str) -> Reply:
        method = request.method
        if method == "GET":
            row = _single(lambda: self.store.live_row(obj, record_id))
            wanted = request.query.get("fields")
            body = self.render(obj, row, request.version, _field_list(obj, wanted))
            return Reply(200, body, headers={"Last-Modified": _http_date(row)})
        if method == "PATCH":
            values = request.json()
            if not isinstance(values, dict):
                raise ApiError(400, "JSON_PARSER_ERROR", "Expected a JSON object")
            self.stats.count_writes(1)
            _single(lambda: self.store.update(obj.name, record_id, values))
            return Reply(204)
        if method == "DELETE":
            self.stats.count_writes(1)
            _single(lambda: self.store.delete(obj.name, record_id))
            return Reply(204)
        raise _method_not_allowed(method)

    def _by_external_id(
        self, request: ApiRequest, obj: ObjectDef, field_name: str, value: str
    ) -> Reply:
        definition = obj.field(field_name)
        if definition is None or not definition.id_lookup:
            raise ApiError(
                404,
                "NOT_FOUND",
                "Provided external ID field does not exist or is not accessible: "
                f"{field_name}",
            )
        if request.method == "PATCH":
            values = request.json()
            if not isinstance(values, dict):
                raise ApiError(400, "JSON_PARSER_ERROR", "Expected a JSON object")
            self.stats.count_writes(1)
            try:
                outcome = _single(
                    lambda: self.store.upsert(obj.name, field_name, value, values)
                )
            except ApiError as exc:
                if exc.status != 300:
                    raise
                return self._multiple_choices(request, obj, field_name, value)
            body = {
                "id": outcome.record_id,
                "success": True,
                "errors": [],
                "created": outcome.created,
            }
            location = f"/services/data/v{request.version}/sobjects/{obj.name}/"
            headers = (
                {"Location": location + outcome.record_id} if outcome.created else {}
            )
            return Reply(201 if outcome.created else 200, body, headers=headers)
        with self.store.lock:
            matches = _single(lambda: self.store.match(obj, definition, value))
        if not matches:
            raise not_found()
        if len(matches) > 1:
            return self._multiple_choices(request, obj, field_name, value)
        if request.method == "GET":
            row = self.store.rows[obj.name][matches[0]]
            fields = _field_list(obj, request.query.get("fields"))
            return Reply(200, self.render(obj, row, request.version, fields))
        if request.method == "DELETE":
            self.stats.count_writes(1)
            _single(lambda: self.store.delete(obj.name, matches[0]))
            return Reply(204)
        raise _method_not_allowed(request.method)

    def _multiple_choices(
        self, request: ApiRequest, obj: ObjectDef, field_name: str, value: str
    ) -> Reply:
        definition = obj.field(field_name)
        assert definition is not None
        with self.store.lock:
            matches = self.store.match(obj, definition, value)
        base = f"/services/data/v{request.version}/sobjects/{obj.name}/"
        return Reply(300, [base + m for m in matches])

    def render(
        self,
        obj: ObjectDef,
        row: Row,
        version: str,
        fields: list[str] | None = None,
    ) -> dict[str, Any]:
        """A record in REST shape: attributes first, then fields in order."""
        names = fields or [f.name for f in obj.visible_fields()]
        body: dict[str, Any] = {
            "attributes": {
                "type": obj.name,
                "url": f"/services/data/v{version}/sobjects/{obj.name}/{row['Id']}",
            }
        }
        for name in names:
            body[name] = row.get(name)
        return body

    # -- replication ---------------------------------------------------------

    def _replication(self, request: ApiRequest, obj: ObjectDef, kind: str) -> Reply:
        start = _replication_date(request.query.get("start"), "start")
        end = _replication_date(request.query.get("end"), "end")
        if start > end:
            raise ApiError(
                400, "INVALID_REPLICATION_DATE", "start date must be before end date"
            )
        now = self.store.now()
        # Minute granularity, never past "now", as the real endpoint answers.
        latest = min(end, now).replace(second=0, microsecond=0)
        low, high = format_datetime(start), format_datetime(end)
        covered = format_datetime(latest)
        with self.store.lock:
            if kind == "updated":
                found = [
                    row["Id"]
                    for row in self.store.iter_rows(obj.name, include_deleted=False)
                    if low <= (row.get("SystemModstamp") or "") <= high
                ]
                return Reply(200, {"ids": found, "latestDateCovered": covered})
            log = self.store.deleted_log[obj.name]
            deleted = [
                {"id": record_id, "deletedDate": stamp}
                for record_id, stamp in log
                if low <= stamp <= high
            ]
            earliest = log[0][1] if log else format_datetime(now - timedelta(days=15))
        return Reply(
            200,
            {
                "deletedRecords": deleted,
                "earliestDateAvailable": earliest,
                "latestDateCovered": covered,
            },
        )

    # -- collections ---------------------------------------------------------

    def _collections(self, request: ApiRequest, parts: list[str]) -> Reply:
        method = request.method
        if method == "DELETE" and not parts:
            return self._collection_delete(request)
        if method not in ("POST", "PATCH"):
            raise _method_not_allowed(method)
        payload = request.json()
        if not isinstance(payload, dict) or not isinstance(
            payload.get("records"), list
        ):
            raise ApiError(
                400, "JSON_PARSER_ERROR", "The request body must have a records array"
            )
        records = payload["records"]
        all_or_none = bool(payload.get("allOrNone", False))
        _check_collection_size(len(records))
        self.stats.count_writes(len(records))
        objects = [self._record_type(r) for r in records]
        if method == "POST" and not parts:
            op = "create"
        elif method == "PATCH" and not parts:
            op = "update"
        elif method == "PATCH" and len(parts) == 2:
            op = "upsert"
            target = self.store.object(parts[0])
            definition = target.field(parts[1])
            if definition is None or not definition.id_lookup:
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"Field name provided, {parts[1]} is not an External ID or "
                    f"indexed field for {target.name}",
                )
        else:
            raise not_found()
        with self.store.lock:
            results = self._apply_collection(
                op, records, objects, all_or_none, parts[1] if parts else None
            )
        return Reply(200, results)

    def _record_type(self, record: Any) -> ObjectDef:
        if not isinstance(record, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Each record must be an object")
        attributes = record.get("attributes")
        name = attributes.get("type") if isinstance(attributes, dict) else None
        if not name:
            raise ApiError(
                400,
                "INVALID_TYPE",
                "Must send a concrete entity type.",
            )
        obj = self.store.schema.object(str(name))
        if obj is None:
            raise ApiError(
                400, "INVALID_TYPE", f"sObject type '{name}' is not supported."
            )
        return obj

    def _apply_collection(
        self,
        op: str,
        records: list[dict[str, Any]],
        objects: list[ObjectDef],
        all_or_none: bool,
        external_field: str | None,
    ) -> list[dict[str, Any]]:
        undo: list[tuple[str, str, Row | None]] = []
        results: list[dict[str, Any]] = []
        failed = False
        for record, obj in zip(records, objects, strict=True):
            values = {k: v for k, v in record.items() if k != "attributes"}
            try:
                result = self._collection_item(op, obj, values, external_field, undo)
            except ApiError:
                # A body Salesforce cannot read fails the whole call, and
                # nothing of it is saved.
                self._roll_back(undo)
                raise
            except RecordError as exc:
                failed = True
                results.append({"success": False, "errors": [exc.collection_item()]})
                continue
            results.append(result)
        if failed and all_or_none:
            self._roll_back(undo)
            rolled = {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid "
                "and the request was using AllOrNone header",
                "fields": [],
            }
            results = [
                r if not r["success"] else {"success": False, "errors": [rolled]}
                for r in results
            ]
        return results

    def _collection_item(
        self,
        op: str,
        obj: ObjectDef,
        values: dict[str, Any],
        external_field: str | None,
        undo: list[tuple[str, str, Row | None]],
    ) -> dict[str, Any]:
        if op == "create":
            if any(k.lower() == "id" for k in values):
                raise RecordError(
                    "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]
                )
            record_id = self.store.create(obj.name, values)
            undo.append((obj.name, record_id, None))
            return {"id": record_id, "success": True, "errors": []}
        if op == "update":
            id_key = next((k for k in values if k.lower() == "id"), None)
            raw = values.pop(id_key) if id_key else None
            if not raw:
                raise RecordError(
                    "MISSING_ARGUMENT", "Id not specified in an update call"
                )
            record_id = self._existing_id(obj, raw)
            undo.append(
                (obj.name, record_id, Row(self.store.rows[obj.name][record_id]))
            )
            self.store.update(obj.name, record_id, values)
            return {"id": record_id, "success": True, "errors": []}
        assert external_field is not None
        key = next((k for k in values if k.lower() == external_field.lower()), None)
        value = values.get(key) if key else None
        definition = obj.field(external_field)
        existing = self.store.match(obj, definition, value) if definition else []
        prior = (
            Row(self.store.rows[obj.name][existing[0]]) if len(existing) == 1 else None
        )
        try:
            outcome = self.store.upsert(obj.name, external_field, value, values)
        except ApiError as exc:
            if exc.status != 300:
                raise
            raise RecordError(
                "DUPLICATE_EXTERNAL_ID",
                f"{external_field}: more than one record found for external id "
                f"field: {existing}",
                [external_field],
            ) from exc
        undo.append((obj.name, outcome.record_id, prior))
        return {
            "id": outcome.record_id,
            "success": True,
            "errors": [],
            "created": outcome.created,
        }

    def _existing_id(self, obj: ObjectDef, raw: Any) -> str:
        normalized = ids.normalize(raw)
        if normalized is None:
            raise RecordError(
                "MALFORMED_ID",
                f"{obj.label} ID: id value of incorrect type: {raw}",
                ["Id"],
            )
        row = self.store.rows[obj.name].get(normalized)
        if row is None:
            raise RecordError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"
            )
        if row.get("IsDeleted"):
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
        return normalized

    def _roll_back(self, undo: list[tuple[str, str, Row | None]]) -> None:
        for obj_name, record_id, prior in reversed(undo):
            if prior is None:
                self.store.rows[obj_name].pop(record_id, None)
            else:
                self.store.rows[obj_name][record_id] = prior

    def _collection_delete(self, request: ApiRequest) -> Reply:
        raw = request.query.get("ids", "")
        wanted = [part for part in raw.split(",") if part.strip()]
        if not wanted:
            raise ApiError(400, "REQUIRED_FIELD_MISSING", "At least 1 Id is required.")
        _check_collection_size(len(wanted))
        all_or_none = request.query.get("allOrNone", "false").lower() == "true"
        self.stats.count_writes(len(wanted))
        results: list[dict[str, Any]] = []
        with self.store.lock:
            checks = [self._delete_check(record_id.strip()) for record_id in wanted]
            failed = any(error is not None for _, error in checks)
            for record_id, error in checks:
                if error is not None:
                    results.append(
                        {"success": False, "errors": [error.collection_item()]}
                    )
                elif all_or_none and failed:
                    results.append(_rolled_back())
                else:
                    try:
                        self.store.delete(None, record_id)
                    except RecordError as exc:
                        results.append(
                            {"success": False, "errors": [exc.collection_item()]}
                        )
                        continue
                    results.append({"id": record_id, "success": True, "errors": []})
        return Reply(200, results)

    def _delete_check(self, raw: str) -> tuple[str, RecordError | None]:
        normalized = ids.normalize(raw)
        if normalized is None:
            return raw, RecordError("MALFORMED_ID", f"malformed id {raw}")
        found = self.store.find(normalized)
        if found is None:
            return normalized, RecordError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"
            )
        if found[1].get("IsDeleted"):
            return normalized, RecordError("ENTITY_IS_DELETED", "entity is deleted")
        return normalized, None

    # -- composite -----------------------------------------------------------

    def _composite(self, request: ApiRequest) -> Reply:
        if request.method != "POST":
            raise _method_not_allowed(request.method)
        payload = request.json()
        subrequests = (
            payload.get("compositeRequest") if isinstance(payload, dict) else None
        )
        if not isinstance(subrequests, list) or not subrequests:
            raise ApiError(
                400, "JSON_PARSER_ERROR", "compositeRequest must be a non-empty array"
            )
        if len(subrequests) > 25:
            raise ApiError(
                400,
                "LIMIT_EXCEEDED",
                "Limit Exceeded: a composite request holds at most 25 subrequests",
            )
        all_or_none = bool(payload.get("allOrNone", False))
        outputs: dict[str, Any] = {}
        responses: list[dict[str, Any]] = []
        halted = False
        for sub in subrequests:
            reference = str(sub.get("referenceId", ""))
            if halted:
                responses.append(_halted(reference))
                continue
            reply = self._subrequest(request, sub, outputs)
            body = reply.body
            responses.append(
                {
                    "body": body,
                    "httpHeaders": reply.headers,
                    "httpStatusCode": reply.status,
                    "referenceId": reference,
                }
            )
            outputs[reference] = body
            if reply.status >= 400 and all_or_none:
                halted = True
        if halted:
            # Earlier subrequests report the halt too, as their work is undone
            # in Salesforce; this org does not undo their writes.
            responses = [
                r if r["httpStatusCode"] >= 400 else _halted(r["referenceId"])
                for r in responses
            ]
        return Reply(200, {"compositeResponse": responses})

    def _subrequest(
        self, request: ApiRequest, sub: dict[str, Any], outputs: dict[str, Any]
    ) -> Reply:
        url = _resolve(str(sub.get("url", "")), outputs)
        split = urlsplit(url.replace(" ", "%20"))
        match = re.match(r"^/services/data/v(\d+\.\d)/?(.*)$", split.path)
        if match is None:
            return Reply(404, not_found().rest_body())
        body = sub.get("body")
        if body is not None:
            body = json.loads(_resolve(json.dumps(body), outputs))
        inner = ApiRequest(
            method=str(sub.get("method", "GET")).upper(),
            version=match.group(1),
            path=match.group(2),
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={
                k.lower(): str(v) for k, v in (sub.get("httpHeaders") or {}).items()
            },
            body=json.dumps(body).encode() if body is not None else b"",
        )
        try:
            return self.handle(inner)
        except ApiError as exc:
            return Reply(exc.status, exc.rest_body())

    # -- limits --------------------------------------------------------------

    def _limits(self) -> dict[str, dict[str, int]]:
        used = self.stats.total
        daily = self.stats.daily_max
        bulk_jobs = self.bulk.jobs_created if self.bulk is not None else 0
        limits = {
            "ConcurrentAsyncGetReportInstances": (200, 200),
            "ConcurrentSyncReportRuns": (20, 20),
            "DailyApiRequests": (daily, max(daily - used, 0)),
            "DailyAsyncApexExecutions": (250000, 250000),
            "DailyBulkApiBatches": (15000, 15000),
            "DailyBulkV2QueryFileStorageMB": (976562, 976562),
            "DailyBulkV2QueryJobs": (10000, 10000 - bulk_jobs),
            "DailyStreamingApiEvents": (10000, 10000),
            "DataStorageMB": (5, 5),
            "FileStorageMB": (20, 20),
            "HourlyODataCallout": (20000, 20000),
            "SingleEmail": (15, 15),
        }
        return {k: {"Max": m, "Remaining": r} for k, (m, r) in limits.items()}


def _page(
    cursor: _Cursor, offset: int, locator: str | None, version: str
) -> dict[str, Any]:
    end = offset + cursor.batch
    done = end >= len(cursor.records)
    body: dict[str, Any] = {"totalSize": cursor.total_size, "done": done}
    if not done and locator is not None:
        body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
    body["records"] = cursor.records[offset:end]
    return body


def _batch_size(header: str) -> int:
    match = re.search(r"batchSize\s*=\s*(\d+)", header)
    if match is None:
        return 2000
    # Salesforce treats the size as a hint inside 200..2000.
    return max(200, min(2000, int(match.group(1))))


def _single(action: Callable[[], Any]) -> Any:
    """Run a one-record action, turning a record error into a request error."""
    try:
        return action()
    except RecordError as exc:
        if exc.code == "NOT_FOUND":
            raise not_found() from exc
        raise _RecordFailureError(exc) from exc


class _RecordFailureError(ApiError):
    """A record error answered as the whole reply, fields included."""

    def __init__(self, error: RecordError) -> None:
        super().__init__(error.status, error.code, error.message)
        self.error = error

    def rest_body(self) -> list[dict[str, Any]]:
        return self.error.rest_body()


def _field_list(obj: ObjectDef, wanted: str | None) -> list[str] | None:
    if not wanted:
        return None
    names = []
    for name in (part.strip() for part in wanted.split(",")):
        definition = obj.field(name)
        if definition is None:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{obj.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' "
                "after the custom field name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
            )
        names.append(definition.name)
    return names


def _http_date(row: Row) -> str:
    stamp = row.get("SystemModstamp") or "1970-01-01T00:00:00.000+0000"
    moment = parse_datetime(stamp)
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT") if moment else ""


def _replication_date(text: str | None, name: str) -> Any:
    if not text:
        raise ApiError(400, "MISSING_ARGUMENT", f"{name} parameter is required")
    parsed = parse_datetime(text.replace(" ", "+"))
    if parsed is None:
        raise ApiError(
            400,
            "INVALID_REPLICATION_DATE",
            f"{name} date is not a valid datetime: {text}",
        )
    return parsed


def _check_collection_size(count: int) -> None:
    if count > MAX_COLLECTION:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        )


def _rolled_back() -> dict[str, Any]:
    return {
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid "
                "and the request was using AllOrNone header",
                "fields": [],
            }
        ],
    }


def _halted(reference: str) -> dict[str, Any]:
    return {
        "body": [
            {
                "errorCode": "PROCESSING_HALTED",
                "message": "The transaction was rolled back since another "
                "operation in the same transaction failed.",
            }
        ],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference,
    }


_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([A-Za-z0-9_.\[\]]+)\}")


def _resolve(text: str, outputs: dict[str, Any]) -> str:
    """Replace ``@{ref.path}`` with values from earlier subrequest bodies."""

    def lookup(match: re.Match[str]) -> str:
        value: Any = outputs.get(match.group(1))
        for step in re.findall(r"[^.\[\]]+", match.group(2)):
            if isinstance(value, list) and step.isdigit():
                value = value[int(step)] if int(step) < len(value) else None
            elif isinstance(value, dict):
                value = value.get(step)
            else:
                value = None
        return "" if value is None else str(value)

    return _REFERENCE.sub(lookup, text)


def _method_not_allowed(method: str) -> ApiError:
    return ApiError(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE,HEAD",
    )
