"""Run `gongkai` as a user would, for tests: the argument list, the environment, stdin closed, and
back a `CompletedProcess` (exit code, stdout, stderr).

By default the command runs in this process — `scoring.cli.main()` with `sys.argv`, `os.environ` and
the standard streams swapped for the call — because a fresh interpreter per command (1–2 s of imports
each) made the account, cycle and CLI tables most of the suite's time. The command is the same code
the `gongkai` script runs: the same parsing, exit codes and error printing. `GONGKAI_TEST_CLI=subprocess`
runs every such call as a real `python -m scoring.cli` process instead; the tests that need a real
process (kill -9, a terminal, `serve`, a read-only file system) start one themselves.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Mapping

IN_PROCESS = os.environ.get("GONGKAI_TEST_CLI", "in-process") != "subprocess"


KEPT = {"GONGKAI_PASSWORD_HASH", "GONGKAI_TEST_POSTGRES_URL", "GONGKAI_CLOCK"}  # the suite's own settings (conftest.py)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any GONGKAI_ setting (so a developer's own cannot leak in) but the
    suite's own, plus `extra`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_") or k in KEPT} | extra


def gongkai(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    """`gongkai ARGS` with `env` as its whole environment (default: this one), stdin closed."""
    env = dict(os.environ if env is None else env)
    if not IN_PROCESS:
        return subprocess.run([sys.executable, "-m", "scoring.cli", *args], capture_output=True, text=True,
                              env=env, stdin=subprocess.DEVNULL)
    from scoring import cli

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_argv, saved_stdin = dict(os.environ), sys.argv, sys.stdin
    os.environ.clear()
    os.environ.update(env)
    sys.argv, sys.stdin = ["gongkai", *args], io.StringIO("")
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv, sys.stdin = saved_argv, saved_stdin
    return subprocess.CompletedProcess(["gongkai", *args], code, out.getvalue(), err.getvalue())
