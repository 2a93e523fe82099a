"""`gongkai serve` becomes the Streamlit server: SIGTERM or SIGINT to it stops the server, and the port
is free again at once (no orphan keeps serving)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serving(port: int) -> bool:
    try:
        return urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2).status == 200
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_serve_stops_streamlit(tmp_path, sig):
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    proc = subprocess.Popen([sys.executable, "-m", "scoring.cli", "serve", "--db", db, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 90
        while not _serving(port):
            assert proc.poll() is None and time.time() < deadline, "the dashboard did not start"
            time.sleep(0.5)
        proc.send_signal(sig)
        proc.wait(timeout=30)
        time.sleep(0.5)
        assert not _serving(port)
        with pytest.raises(ProcessLookupError):  # nothing of it is left in its process group
            os.killpg(proc.pid, 0)
        with socket.socket() as s:  # and a restart could take the port (as a server binds it)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
