"""The running org: TLS on loopback, the HTTP entry point, helpers and admin."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from email.utils import formatdate
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
import trustme
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sfsync.localorg import api as rest
from sfsync.localorg.auth import (
    Credentials,
    OAuthError,
    Sessions,
    make_credentials,
    soap_fault,
)
from sfsync.localorg.bulk import BulkApi
from sfsync.localorg.control import Faults, Stats
from sfsync.localorg.errors import ApiError, not_found
from sfsync.localorg.loading import load_file, load_records
from sfsync.localorg.schema import Schema
from sfsync.localorg.store import Store

__all__ = ["API_VERSION", "LocalOrg"]

API_VERSION = "59.0"
_LOG = logging.getLogger("sfsync.localorg")
_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]
_DATA_PATH = re.compile(r"^/services/data/v(\d+\.\d)(?:/(.*))?$")


class _Server(uvicorn.Server):
    """A uvicorn server that stops at once on a signal.

    Idle keep-alive TLS connections would hold a graceful shutdown open for
    as long as their clients keep them pooled.
    """

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.force_exit = True
        super().handle_exit(sig, frame)


class LocalOrg:
    """A Salesforce org stand-in served over HTTPS on 127.0.0.1.

    Use ``with LocalOrg.start() as org:``; the server runs in a background
    thread until the block ends. Helpers such as :meth:`insert` act on the
    data directly and are not counted as API calls.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        latency_ms: float = 0,
        metadata_dirs: Iterable[str | Path] = (),
        session_ttl_s: float = 7200,
        state_file: str | Path | None = None,
        load_files: Iterable[str | Path] = (),
        clock: Callable[[], datetime] | None = None,
        daily_limit: int = 15_000,
    ) -> None:
        # Bad metadata or data files raise StartupError here, before any
        # key is written or the port is taken.
        self._metadata_dirs = [Path(d) for d in metadata_dirs]
        self.schema = Schema()
        for directory in self._metadata_dirs:
            self.schema.apply_metadata(directory)
        self.store = Store(self.schema, clock=clock)
        self.state_file = Path(state_file) if state_file else None
        if self.state_file and self.state_file.exists():
            self.store.restore(json.loads(self.state_file.read_text("utf-8")))
        for path in load_files:
            load_file(self.store, Path(path))
        # The folder holds the TLS and JWT private keys; mkdtemp makes it
        # owner-only. It lives as long as the org: stop() removes it, and the
        # finalizer covers an org that is never stopped (at the latest when
        # the interpreter exits).
        self._workdir = Path(tempfile.mkdtemp(prefix="localorg-"))
        self._remove_workdir = weakref.finalize(
            self, shutil.rmtree, str(self._workdir), ignore_errors=True
        )
        self._daily_limit = daily_limit
        self._stats = Stats(daily_max=daily_limit)
        self.faults = Faults()
        self.faults.latency_ms = latency_ms
        self.credentials: Credentials = make_credentials()
        self.sessions = Sessions(
            self.credentials,
            org_id=self.store.org_id,
            user_id=self.store.user_id,
            ttl_s=session_ttl_s,
        )
        self.api = rest.RestApi(self.store, self._stats, lambda: self.base_url)
        self.api.bulk = BulkApi(self.api)
        self.ca_file = str(self._workdir / "localorg-ca.pem")
        self.jwt_key_file = str(self._workdir / "jwt-private-key.pem")
        self.jwt_cert_file = str(self._workdir / "jwt-certificate.pem")
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind(("127.0.0.1", port))
            self._write_tls_files()
        except BaseException:
            self._socket.close()
            self._remove_workdir()
            raise
        self.port: int = self._socket.getsockname()[1]
        self.base_url = f"https://127.0.0.1:{self.port}"
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    @classmethod
    def start(cls, **options: Any) -> LocalOrg:
        """Create an org and serve it; use as ``with LocalOrg.start() as org``."""
        org = cls(**options)
        org.serve_in_thread()
        return org

    def __enter__(self) -> LocalOrg:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _write_tls_files(self) -> None:
        authority = trustme.CA()
        server_cert = authority.issue_cert("127.0.0.1", "localhost")
        authority.cert_pem.write_to_path(self.ca_file)
        self._cert_file = str(self._workdir / "server-chain.pem")
        self._key_file = str(self._workdir / "server-key.pem")
        with open(self._cert_file, "wb") as chain:
            for blob in server_cert.cert_chain_pems:
                chain.write(blob.bytes())
        _write_private(self._key_file, server_cert.private_key_pem.bytes().decode())
        _write_private(self.jwt_key_file, self.credentials.jwt_private_key_pem)
        Path(self.jwt_cert_file).write_text(self.credentials.jwt_certificate_pem)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._dated, methods=_METHODS)])

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app(),
            ssl_certfile=self._cert_file,
            ssl_keyfile=self._key_file,
            log_level="warning",
            lifespan="off",
            access_log=False,
            # uvicorn's own Date header is refreshed by its event loop and
            # falls seconds behind while the loop is busy; clients read the
            # server's clock from it, so every reply gets an exact one.
            date_header=False,
            timeout_keep_alive=30,
        )

    def serve_in_thread(self) -> None:
        self._server = _Server(self._config())
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"localorg-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("localorg did not start within 10 seconds")
            time.sleep(0.01)

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI's ``serve``).

        Ctrl-C and SIGTERM both end it through :meth:`stop`, which saves the
        state file and removes the key folder.
        """
        self._server = _Server(self._config())
        with _sigterm_as_system_exit():
            try:
                self._server.run(sockets=[self._socket])
            finally:
                self.stop()

    def stop(self) -> None:
        """Stop serving, save the state file and remove the key folder.

        The CA file goes with the folder, so an env file naming it is only
        good while the org runs.
        """
        if self._server is not None:
            self._server.force_exit = True
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._socket.close()
        try:
            self.save_state()
        finally:
            self._remove_workdir()

    def save_state(self) -> None:
        if self.state_file is None:
            return
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.store.snapshot()), "utf-8")
        temporary.replace(self.state_file)

    # -- settings for clients ------------------------------------------------

    def env(self) -> dict[str, str]:
        """The SFSYNC_* settings a client needs to log in with the password flow."""
        return {
            "SFSYNC_LOGIN_URL": self.base_url,
            "SFSYNC_AUTH_FLOW": "password",
            "SFSYNC_USERNAME": self.credentials.username,
            "SFSYNC_PASSWORD": self.credentials.password,
            "SFSYNC_SECURITY_TOKEN": self.credentials.security_token,
            "SFSYNC_CLIENT_ID": self.credentials.client_id,
            "SFSYNC_CLIENT_SECRET": self.credentials.client_secret,
            "SFSYNC_CA_FILE": self.ca_file,
            "SFSYNC_API_VERSION": API_VERSION,
        }

    def write_env_file(self, path: str | Path) -> None:
        lines = "".join(f"{key}={value}\n" for key, value in self.env().items())
        _write_private(str(path), lines)

    def new_session(self) -> str:
        """An access token issued without a login call (not counted)."""
        return self.sessions.issue()

    def requests_session(self) -> Any:
        import requests

        session = requests.Session()
        session.verify = self.ca_file
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override
        # ``session.verify``, and proxy variables must not catch loopback.
        session.trust_env = False
        return session

    def salesforce(self, *, version: str = API_VERSION) -> Any:
        """An unmodified simple-salesforce client bound to this org."""
        from simple_salesforce.api import Salesforce

        return Salesforce(
            instance_url=self.base_url,
            session_id=self.new_session(),
            session=self.requests_session(),
            version=version,
        )

    # -- direct data helpers (not API calls) --------------------------------

    def insert(self, sobject: str, fields: dict[str, Any]) -> str:
        """Create a record with API validation; audit fields and Id may be set."""
        return self.store.create(sobject, fields, system=True)

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        self.store.update(sobject, record_id, fields, system=True)

    def delete(self, sobject: str, record_id: str) -> None:
        self.store.delete(sobject, record_id)

    def hard_delete(self, sobject: str, record_id: str) -> None:
        self.store.hard_delete(sobject, record_id)

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        with self.store.lock:
            row = self.store.get(sobject, record_id)
            return dict(row) if row is not None else None

    def load_records(
        self, sobject: str, records: Iterable[dict[str, Any]]
    ) -> list[str]:
        """Fast bulk load of wire-valued records without API validation."""
        return self.store.load_rows(sobject, records)

    def load(self, records: list[dict[str, Any]]) -> int:
        """Load REST-shaped or data-tree records (``attributes.type`` each)."""
        return load_records(self.store, records)

    def count(self, sobject: str) -> int:
        return self.store.count(self.store.object(sobject).name)

    def hide_field(self, sobject: str, field_name: str) -> None:
        """As field-level security without read access: gone from describe."""
        self.schema.hide_field(sobject, field_name)

    def set_read_only(self, sobject: str, field_name: str) -> None:
        """As field-level security with read access only: not updateable."""
        self.schema.set_read_only(sobject, field_name)

    def reset(self) -> None:
        """Back to a fresh org: data, hidden fields, counters, faults, sessions.

        The server, its certificate and the credentials stay the same, so a
        test module can share one running org and reset it between tests.
        """
        with self.store.lock:
            self.schema.reload(self._metadata_dirs)
            self.store.clear()
        self._stats.reset()
        self._stats.daily_max = self._daily_limit
        self.clear_faults()
        self.sessions.expire_all()

    # -- counters and faults -------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters of the API calls served so far (see :class:`Stats`)."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        self._stats.reset()

    def set_latency(self, ms: float) -> None:
        self.faults.latency_ms = ms

    def fail_next(
        self, n: int = 1, status: int = 503, error_code: str = "SERVER_UNAVAILABLE"
    ) -> None:
        self.faults.fail_next(n, status=status, error_code=error_code)

    def reset_connections_next(self, n: int = 1) -> None:
        self.faults.reset_connections_next(n)

    def lock_ids(self, record_ids: Iterable[str], times: int | None = None) -> None:
        self.store.lock_ids(record_ids, times)

    def set_daily_limit(self, maximum: int) -> None:
        self._stats.daily_max = maximum

    def expire_sessions(self) -> None:
        self.sessions.expire_all()

    def set_bulk_invalid_session_400(self, enabled: bool = True) -> None:
        self.sessions.bulk_invalid_session_400 = enabled

    def clear_faults(self) -> None:
        self.faults.clear()
        self.store.unlock_all()
        self.sessions.bulk_invalid_session_400 = False

    # -- HTTP ----------------------------------------------------------------

    async def _dated(self, request: Request) -> Response:
        response = await self._endpoint(request)
        response.headers["Date"] = formatdate(self.store.now().timestamp(), usegmt=True)
        return response

    async def _endpoint(self, request: Request) -> Response:
        path = request.url.path
        if path.startswith("/__admin/"):
            return await self._admin(request, path.removeprefix("/__admin/"))
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        if self.faults.take_reset() and _abort_connection(request):
            return Response(status_code=500)
        body = await request.body()
        if path.rstrip("/") == "/services/oauth2/token" and request.method == "POST":
            return await self._token(request, body)
        if path.startswith("/services/Soap/u/") and request.method == "POST":
            return self._soap_login(path, body)
        if path.rstrip("/") == "/services/data":
            return JSONResponse(rest.versions())
        match = _DATA_PATH.match(path)
        if match is None:
            return _json_reply(rest.Reply(404, not_found().rest_body()))
        api_request = rest.ApiRequest(
            method=request.method,
            version=match.group(1),
            path=match.group(2) or "",
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        reply = await anyio.to_thread.run_sync(self._serve_api, api_request)
        return _json_reply(reply)

    def _serve_api(self, request: rest.ApiRequest) -> rest.Reply:
        category = rest.category_of(request.path)
        usage = self._stats.count_request(category, request.method)
        failure = self.faults.take_failure()
        try:
            if failure is not None:
                raise ApiError(failure.status, failure.error_code, failure.message)
            self.sessions.check(
                request.headers.get("authorization"), bulk=category == "bulk2"
            )
            if usage > self._stats.daily_max:
                self._stats.count_rejected()
                raise ApiError(
                    403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
                )
            reply = self.api.handle(request)
        except ApiError as exc:
            reply = rest.Reply(exc.status, exc.rest_body(), headers=dict(exc.headers))
        except Exception:
            # A fault of the emulator itself; the server answers and keeps going.
            _LOG.exception("localorg failed on %s %s", request.method, request.path)
            reply = rest.Reply(
                500,
                [
                    {
                        "message": "An unexpected error occurred. Please include this "
                        "ErrorId if you contact support: localorg",
                        "errorCode": "UNKNOWN_EXCEPTION",
                    }
                ],
            )
        reply.headers["Sforce-Limit-Info"] = (
            f"api-usage={min(usage, self._stats.daily_max)}/{self._stats.daily_max}"
        )
        return reply

    async def _token(self, request: Request, body: bytes) -> Response:
        self._stats.count_auth()
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        basic = _basic_auth(request.headers.get("authorization"))
        try:
            answer = self.sessions.token(form, basic, self.base_url)
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=400)
        return JSONResponse(answer)

    def _soap_login(self, path: str, body: bytes) -> Response:
        self._stats.count_auth()
        version = path.removeprefix("/services/Soap/u/").split("/")[0] or API_VERSION
        try:
            text = self.sessions.soap_login(body, self.base_url, version)
        except OAuthError as exc:
            return Response(soap_fault(exc), 500, media_type="text/xml; charset=utf-8")
        return Response(text, 200, media_type="text/xml; charset=utf-8")

    async def _admin(self, request: Request, action: str) -> Response:
        body = await request.body()
        try:
            payload = json.loads(body) if body.strip() else {}
            result = await anyio.to_thread.run_sync(self._admin_action, action, payload)
        except (KeyError, ValueError, TypeError, ApiError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Exception as exc:
            return JSONResponse({"error": repr(exc)}, status_code=400)
        return JSONResponse(result)

    def _admin_action(self, action: str, payload: dict[str, Any]) -> Any:
        actions: dict[str, Callable[[], Any]] = {
            "stats": self.stats,
            "reset_stats": self.reset_stats,
            "latency": lambda: self.set_latency(float(payload["ms"])),
            "fail_next": lambda: self.fail_next(
                int(payload.get("count", 1)),
                status=int(payload.get("status", 503)),
                error_code=str(payload.get("error_code", "SERVER_UNAVAILABLE")),
            ),
            "reset_connections_next": lambda: self.reset_connections_next(
                int(payload.get("count", 1))
            ),
            "lock_ids": lambda: self.lock_ids(payload["ids"], payload.get("times")),
            "daily_limit": lambda: self.set_daily_limit(int(payload["max"])),
            "expire_sessions": self.expire_sessions,
            "bulk_invalid_session": lambda: self.set_bulk_invalid_session_400(
                bool(payload.get("enabled", True))
            ),
            "clear_faults": self.clear_faults,
            "insert": lambda: {
                "id": self.insert(payload["sobject"], payload["fields"])
            },
            "update": lambda: self.update(
                payload["sobject"], payload["id"], payload["fields"]
            ),
            "delete": lambda: self.delete(payload["sobject"], payload["id"]),
            "get": lambda: self.get(payload["sobject"], payload["id"]),
            "load": lambda: {
                "ids": self.load_records(payload["sobject"], payload["records"])
            },
            "hide_field": lambda: self.hide_field(payload["sobject"], payload["field"]),
            "health": lambda: {"ok": True, "base_url": self.base_url},
        }
        if action not in actions:
            raise KeyError(f"unknown admin action {action}")
        result = actions[action]()
        return {"ok": True} if result is None else result


def _abort_connection(request: Request) -> bool:
    """Drop the TCP connection under a request, as a network reset would.

    The ASGI server's receive callable is a bound method of its per-request
    cycle, which holds the transport; without one, the fault is skipped.
    """
    owner = getattr(request.receive, "__self__", None)
    transport = getattr(owner, "transport", None)
    if transport is None:
        return False
    transport.abort()
    return True


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    import base64

    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header.split(" ", 1)[1]).decode()
    except ValueError:
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def _json_reply(reply: rest.Reply) -> Response:
    headers = dict(reply.headers)
    if reply.status == 204 or reply.body is None:
        return Response(status_code=reply.status, headers=headers)
    if reply.content_type.startswith("application/json"):
        content = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
    elif isinstance(reply.body, bytes):
        content = reply.body
    else:
        content = str(reply.body).encode("utf-8")
    return Response(
        content, reply.status, headers=headers, media_type=reply.content_type
    )


@contextlib.contextmanager
def _sigterm_as_system_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while serving in the main thread.

    uvicorn catches SIGTERM to shut down and then raises it again once its
    loop has stopped; under the default action that kills the process before
    any ``finally`` runs, leaving the state unsaved and the keys on disk.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def leave(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _write_private(path: str, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
