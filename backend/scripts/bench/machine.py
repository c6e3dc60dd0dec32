"""What the report says about the machine and the app's log: CPU, memory, load, commit,
and the log's error and warning lines."""

from __future__ import annotations

import gzip
import json
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import TypedDict

from backend.scripts.bench.common import REPO, log


class MachineInfo(TypedDict):
    host: str
    cpu: str
    cpus: int | None
    memory_gb: float
    kernel: str
    python: str
    wrk: str
    git_commit: str
    git_dirty: bool


class LogProblems(TypedDict):
    error_lines: int
    warning_lines: int
    sample: list[str]  # the most common kinds, "N x what"


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _proc_value(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _command(*args: str) -> str:
    try:
        return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info() -> MachineInfo:
    mem_kb = _proc_value("/proc/meminfo", "MemTotal:").split(" ")[0]
    wrk_version = (_command("wrk", "-v").splitlines() or [""])[0]
    return {
        "host": platform.node(),
        "cpu": _proc_value("/proc/cpuinfo", "model name") or "?",
        "cpus": os.cpu_count(),
        "memory_gb": round(int(mem_kb or 0) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": wrk_version.split(" [")[0],
        "git_commit": _command("git", "rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_command("git", "status", "--porcelain", "--untracked-files=no")),
    }


def _log_key(line: str) -> str:
    """What a log line says, without its time and request id (JSON lines), to group repeats."""
    try:
        record = json.loads(line)
    except ValueError:
        return line.strip()[:300]
    if not isinstance(record, dict):
        return line.strip()[:300]
    return " ".join(str(record.get(k, "")) for k in ("level", "logger", "message", "exc_info", "exception"))[:300]


def log_problems(path: Path) -> LogProblems:
    """Count the app log's error and warning lines (whatever its format); the most common kinds."""
    errors = warnings = 0
    kinds: dict[str, int] = {}
    try:
        with path.open(errors="replace") as fh:
            for line in fh:
                if re.search(r"ERROR|CRITICAL|Traceback", line):
                    errors += 1
                elif "WARNING" in line:
                    warnings += 1
                else:
                    continue
                key = _log_key(line)
                kinds[key] = kinds.get(key, 0) + 1
    except OSError:
        pass
    common = sorted(kinds.items(), key=lambda item: -item[1])[:5]
    return {"error_lines": errors, "warning_lines": warnings, "sample": [f"{n} x {key}" for key, n in common]}


def save_log(source: Path, dest: Path) -> None:
    """Keep a server log (it can be tens of MB at LOG_LEVEL=INFO) gzipped in bench-results/."""
    try:
        if source.exists() and source.stat().st_size:
            with source.open("rb") as src, gzip.open(dest, "wb", compresslevel=6) as gz:
                shutil.copyfileobj(src, gz)
    except OSError as exc:
        log(f"could not save {source} to {dest}: {exc}")
