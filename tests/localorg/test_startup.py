"""Starting and stopping an org: bad metadata folders and the key folder's life."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from sfsync.localorg import LocalOrg
from sfsync.localorg.errors import StartupError
from tests.localorg.conftest import serve_until_it_exits

LAYOUT = "objects/<Object>/fields/*.field-meta.xml"


def test_metadata_folder_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "force-app"

    with pytest.raises(StartupError) as caught:
        LocalOrg(metadata_dirs=[missing])

    assert str(caught.value) == (
        f"metadata folder {missing} does not exist; give an SFDX source folder "
        f"holding {LAYOUT}"
    )


def test_metadata_folder_without_field_metadata_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "objects" / "Account").mkdir(parents=True)
    (tmp_path / "objects" / "Account" / "Segment__c.xml").write_text("<x/>")

    with pytest.raises(StartupError) as caught:
        LocalOrg(metadata_dirs=[tmp_path])

    message = str(caught.value)
    assert message.startswith(f"metadata folder {tmp_path} holds no custom field")
    assert f"expected {LAYOUT} somewhere under it" in message


def test_serve_with_a_missing_metadata_folder_exits_with_one_line(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no-such-dir"

    result = serve_until_it_exits("--metadata", str(missing))

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"localorg: metadata folder {missing} does not exist; give an SFDX source "
        f"folder holding {LAYOUT}"
    ]


def test_stopping_an_org_removes_its_key_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    with LocalOrg.start() as org:
        folder = Path(org.ca_file).parent
        modes = {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()}
        folder_mode = folder.stat().st_mode & 0o777

    assert folder.parent == tmp_path
    assert not folder.exists()
    assert folder_mode == 0o700
    assert modes["server-key.pem"] == 0o600
    assert modes["jwt-private-key.pem"] == 0o600


def test_an_org_that_fails_to_start_leaves_no_key_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    with pytest.raises(StartupError):
        LocalOrg(load_files=[tmp_path / "absent.json"])

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "stop_with",
    [
        pytest.param(signal.SIGTERM, id="sigterm"),
        pytest.param(signal.SIGINT, id="ctrl-c"),
    ],
)
def test_serve_removes_its_key_folder_and_saves_state_when_stopped(
    tmp_path: Path, stop_with: signal.Signals
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env_file = tmp_path / "org.env"
    state = tmp_path / "state.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sfsync.localorg",
            "serve",
            "--env-file",
            str(env_file),
            "--state",
            str(state),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    try:
        env = _wait_until_serving(env_file)
        ca_file = Path(env["SFSYNC_CA_FILE"])
        running = ca_file.exists()
        process.send_signal(stop_with)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert running
    assert ca_file.parent.parent == scratch
    assert list(scratch.iterdir()) == []
    assert state.exists()
    assert "Traceback" not in stderr


def _wait_until_serving(env_file: Path) -> dict[str, str]:
    """The env file's settings, once the org behind them accepts connections."""
    deadline = time.monotonic() + 30
    while not env_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    port = int(env["SFSYNC_LOGIN_URL"].rsplit(":", 1)[1])
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return env
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"localorg serve did not start listening on {port}")
