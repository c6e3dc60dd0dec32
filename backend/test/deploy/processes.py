"""Start, watch and stop the real processes the deploy tests need: app servers through
backend/scripts/serve.sh, nginx from deploy/nginx/nginx.conf, a private redis-server.

The process work itself (free port, start, poll /health, log, stop) is backend.test.live's."""

import json
import os
import re
import ssl
import subprocess
import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend.core.config import Settings
from backend.test.live import HOST, PORT, LiveProcess, LiveServer

REPO_ROOT = Path(__file__).resolve().parents[3]
SERVE_SCRIPT = REPO_ROOT / "backend" / "scripts" / "serve.sh"
NGINX_CONF = REPO_ROOT / "deploy" / "nginx" / "nginx.conf"
VENV_BIN = Path(sys.executable).parent
SECRET_KEY = "deploy-tests-secret-" + "k" * 40
METRICS_TOKEN = "deploy-metrics-token-" + "m" * 24
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}
PASSWORD = "Tr0ub4dor&3-horse"
STARTUP_TIMEOUT = 30.0
# Settings and server knobs a developer's shell might carry into the processes we start.
_SCRUBBED = {
    *Settings.model_fields,
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
    "PROMETHEUS_MULTIPROC_DIR",
    "GRACEFUL_TIMEOUT",
    "KEEP_ALIVE_TIMEOUT",
    "OMP_NUM_THREADS",
    "OMP_THREAD_LIMIT",
}


def request_id() -> str:
    return f"deploy-{uuid.uuid4().hex[:16]}"


def clean_env(**overrides: str) -> dict[str, str]:
    """The test's environment without app settings, plus `overrides` and the venv on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


class AppProcess(LiveServer):
    """backend/scripts/serve.sh on a free loopback port (backend.test.live does the process work)."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path) -> None:
        super().__init__(
            name,
            ["bash", str(SERVE_SCRIPT)],
            env={**env, "HOST": HOST, "PORT": PORT},
            log_path=log_path,
            startup_timeout=STARTUP_TIMEOUT,
        )

    def log_entries(self) -> list[dict[str, Any]]:
        """The app's JSON log lines so far."""
        entries = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line still being written
        return entries

    def access_entry(self, rid: str) -> dict[str, Any] | None:
        """The access-log line of the request with X-Request-ID `rid`, if this process served it."""
        for entry in self.log_entries():
            if entry.get("logger") == "backend.access" and entry.get("request_id") == rid:
                return entry
        return None


class Launcher:
    """Starts processes for one test (or module) and stops every one of them afterwards."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[LiveProcess] = []

    def app(
        self,
        name: str,
        *,
        database_url: str,
        settings: Mapping[str, str] | None = None,
        workers: int | None = 1,
        wait: bool = True,
    ) -> AppProcess:
        """Start serve.sh (production `settings`) and wait for /health, unless `wait` is off."""
        defaults = {
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / f"{name}-metrics"),
            "ENVIRONMENT": "production",
            "SECRET_KEY": SECRET_KEY,
            "METRICS_TOKEN": METRICS_TOKEN,
            "RATE_LIMIT_REGISTER": "1000/minute",
            "GRACEFUL_TIMEOUT": "10",
        }
        env = clean_env(**{**defaults, **(settings or {}), "DATABASE_URL": database_url})
        if workers is not None:
            env["WEB_CONCURRENCY"] = str(workers)
        process = AppProcess(name, env, self.workdir / f"{name}.log")
        self.processes.append(process)
        return process.start(wait=wait)

    def process(self, name: str, args: list[str], env: dict[str, str] | None = None) -> LiveProcess:
        process = LiveProcess(name, args, env=env or clean_env(), log_path=self.workdir / f"{name}.log")
        self.processes.append(process)
        return process.start()

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()


# --- nginx ---------------------------------------------------------------------------------


class Tls:
    """A throwaway CA and a server certificate for 127.0.0.1, as PEM files."""

    def __init__(self, directory: Path) -> None:
        now = datetime.now(UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "deploy tests CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_path = directory / "ca.pem"
        self.cert_path = directory / "fullchain.pem"
        self.key_path = directory / "privkey.pem"
        self.ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.context = ssl.create_default_context(cafile=str(self.ca_path))


def render_nginx_conf(
    text: str,
    *,
    workdir: Path,
    upstream_ports: tuple[int, int],
    http_port: int,
    https_port: int,
    static_root: Path,
    tls: Tls,
) -> str:
    """deploy/nginx/nginx.conf with this machine's ports and paths (and nothing else) changed.

    Every line rewritten must be found exactly as often as expected, so a drifted
    production config fails here instead of being tested in some other shape.
    """
    is_root = os.geteuid() == 0
    temp_dirs = "".join(
        f"    {kind}_temp_path {workdir / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    rewrites: list[tuple[str, str, int]] = [
        # A root master must name a user that can read the test's files; else none is needed.
        ("user nginx;\n", "user root;\n" if is_root else "", 1),
        ("pid /var/run/nginx.pid;", f"pid {workdir / 'nginx.pid'};", 1),
        ("error_log /var/log/nginx/error.log warn;", f"error_log {workdir / 'error.log'} warn;", 1),
        ("access_log /var/log/nginx/access.log json;", f"access_log {workdir / 'access.log'} json;", 1),
        ("server todo-app-1:8000 ", f"server 127.0.0.1:{upstream_ports[0]} ", 1),
        ("server todo-app-2:8000 ", f"server 127.0.0.1:{upstream_ports[1]} ", 1),
        ("listen 80 default_server;", f"listen 127.0.0.1:{http_port} default_server;", 1),
        ("listen 443 ssl default_server;", f"listen 127.0.0.1:{https_port} ssl default_server;", 1),
        ("/etc/nginx/tls/fullchain.pem", str(tls.cert_path), 1),
        ("/etc/nginx/tls/privkey.pem", str(tls.key_path), 1),
        ("/srv/static/", f"{static_root}/", 2),
        ("\nhttp {\n", "\nhttp {\n" + temp_dirs, 1),
    ]
    for old, new, expected in rewrites:
        found = text.count(old)
        if found != expected:
            raise AssertionError(f"nginx.conf: expected {expected} x {old!r}, found {found}")
        text = text.replace(old, new)
    return text


class Nginx(LiveProcess):
    """nginx running a rendered copy of deploy/nginx/nginx.conf, prefix in a temp dir."""

    def __init__(self, binary: str, conf: Path, workdir: Path, http_port: int, https_port: int) -> None:
        self.args = [binary, "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(conf)]
        check = subprocess.run([*self.args, "-t"], capture_output=True, text=True, check=False)
        self.config_test = check.stderr
        if check.returncode != 0:
            raise AssertionError(f"nginx -t refused the rendered config:\n{check.stderr}")
        super().__init__("nginx", [*self.args, "-g", "daemon off;"], env=clean_env(), log_path=workdir / "nginx.out")
        self.start()
        self.workdir = workdir
        self.http_url = f"http://127.0.0.1:{http_port}"
        self.url = f"https://127.0.0.1:{https_port}"

    def error_log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def access_entries(self) -> list[dict[str, Any]]:
        path = self.workdir / "access.log"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines if line.endswith("}")]


def client(tls: Tls | None = None, *, source: str = "127.0.0.1", timeout: float = 10.0) -> httpx.Client:
    """An HTTP client whose connections come from the loopback address `source`."""
    transport = httpx.HTTPTransport(local_address=source, verify=tls.context if tls else True)
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=False)


def register_user(base_url: str, username: str) -> None:
    """Sign up `username` with PASSWORD through `base_url` (an app instance)."""
    body = {
        "username": username,
        "email": f"{username}@example.com",
        "first_name": "Deploy",
        "last_name": "Test",
        "password": PASSWORD,
    }
    response = httpx.post(f"{base_url}/user/register", json=body, timeout=10)
    assert response.status_code == 201, response.text


def login(http: httpx.Client, base_url: str, username: str, password: str = PASSWORD) -> httpx.Response:
    return http.get(f"{base_url}/login", auth=(username, password))


def unique_name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def pids_started(output: str) -> list[int]:
    """The pids uvicorn reported as 'Started server process [pid]'."""
    return [int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", output)]
