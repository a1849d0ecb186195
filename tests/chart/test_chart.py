"""Offline checks of charts/store: helm lint, every profile's objects against the policies,
the topology, the local stack's files, the dependencies' values, and bad values."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kit.topology import TOPOLOGY

from charts import lock as chart_lock
from devstack import observability
from tests.chart.chart import (
    CHARTS,
    PROFILES,
    RELEASE,
    ROOT,
    STORE,
    Helm,
    Manifest,
    chart_metadata,
    pod_specs,
    quantity,
    remote_dependencies,
)

Rendered = dict[str, list[Manifest]]


def by_kind(objects: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def containers(spec: Manifest) -> list[Manifest]:
    return [*spec.get("initContainers", []), *spec["containers"]]


# --- helm lint ------------------------------------------------------------------------------


OTHER_CHARTS = sorted(p.parent.name for p in CHARTS.glob("*/Chart.yaml") if p.parent != STORE)


@pytest.mark.parametrize("name", OTHER_CHARTS)
def test_every_other_chart_lints_strictly(helm: Helm, name: str) -> None:
    proc = helm.run("lint", "--strict", str(CHARTS / name), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[WARNING]" not in proc.stdout, proc.stdout


@pytest.mark.parametrize("profile", PROFILES)
def test_umbrella_lints_strictly(helm: Helm, profile: str) -> None:
    proc = helm.lint(profile)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout, proc.stdout


# --- policies on every workload ---------------------------------------------------------------


# Workloads that work through the API server and so mount their ServiceAccount's token.
API_CLIENTS = {"store-operator"}


def assert_policies(objects: list[Manifest]) -> None:
    workloads = list(pod_specs(objects))
    assert workloads, "nothing runs pods"
    for obj, spec in workloads:
        where = f"{obj['kind']} {obj['metadata']['name']}"
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, where
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", where
        token = obj["metadata"]["labels"]["app.kubernetes.io/name"] in API_CLIENTS
        assert spec.get("automountServiceAccountToken") is token, f"{where}: token {token}"
        for c in containers(spec):
            at = f"{where} container {c['name']}"
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, f"{at}: writable root filesystem"
            assert sc["allowPrivilegeEscalation"] is False, f"{at}: privilege escalation"
            assert sc["capabilities"]["drop"] == ["ALL"], f"{at}: capabilities kept"
            assert sc.get("privileged") is not True, at
            image, _, tag = c["image"].rpartition(":")
            assert image and tag and tag != "latest" and "/" not in tag, f"{at}: image {c['image']}"
            assert c["imagePullPolicy"] == "IfNotPresent", at
            assert c["resources"]["requests"].keys() >= {"cpu", "memory"}, f"{at}: requests"
            assert "memory" in c["resources"]["limits"], f"{at}: no memory limit"
            if obj["kind"] != "Job":  # a Job runs to completion: nothing to probe
                assert "livenessProbe" in c, f"{at}: no liveness probe"
                if c is spec["containers"][0]:
                    assert "readinessProbe" in c, f"{at}: no readiness probe"


@pytest.mark.parametrize("profile", PROFILES)
def test_every_workload_meets_the_policies(rendered: Rendered, profile: str) -> None:
    assert_policies(rendered[profile])


@pytest.mark.parametrize("profile", PROFILES)
def test_services_probe_health_and_stop_gently(rendered: Rendered, profile: str) -> None:
    deployments = by_kind(rendered[profile], "Deployment")
    for service in TOPOLOGY:
        spec = deployments[f"{RELEASE}-{service.name}"]["spec"]["template"]["spec"]
        main = spec["containers"][0]
        assert main["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert main["startupProbe"]["httpGet"]["path"] == "/health/live"
        assert main["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert main["lifecycle"]["preStop"]["sleep"]["seconds"] > 0
        assert {"name": "tmp", "mountPath": "/tmp"} in main["volumeMounts"]
        assert spec.get("topologySpreadConstraints") or profile == "dev"


def test_dev_profile_fits_a_two_core_machine(helm: Helm) -> None:
    """Everything the dev profile runs, the in-cluster load test included."""
    cpu = memory = 0.0
    for obj, spec in pod_specs(helm.render("dev", sets=["loadtest.enabled=true"])):
        if obj["kind"] == "Job" and obj["metadata"]["name"].endswith("-migrate"):
            continue  # hooks run one at a time, before or after the rollout
        replicas = obj["spec"].get("replicas", 1)
        for c in containers(spec):
            cpu += replicas * quantity(c["resources"]["requests"]["cpu"])
            memory += replicas * quantity(c["resources"]["requests"]["memory"])
    print(f"dev profile requests: {cpu:.2f} CPU, {memory / 2**30:.2f} GiB")
    assert cpu < 1.5 and memory < 4 * 2**30


def test_production_profile_scales_and_uses_the_dependencies(rendered: Rendered) -> None:
    objects = rendered["production"]
    hpas = by_kind(objects, "HorizontalPodAutoscaler")
    assert {f"{RELEASE}-{s.name}" for s in TOPOLOGY} | {f"{RELEASE}-gateway"} <= hpas.keys()
    assert all("replicas" not in d["spec"] for d in by_kind(objects, "Deployment").values())
    (cluster,) = by_kind(objects, "K8ssandraCluster").values()
    assert cluster["spec"]["cassandra"]["datacenters"][0]["size"] == 3
    assert not by_kind(objects, "StatefulSet")
    values = yaml.safe_load((STORE / "values-production.yaml").read_text())
    assert all(values[d["name"]]["enabled"] for d in remote_dependencies())


def test_production_profile_keeps_one_trace_in_ten(rendered: Rendered) -> None:
    """Tracing every request costs more than the observability budget (performance.md)."""
    deployments = by_kind(rendered["production"], "Deployment")
    for service in TOPOLOGY:
        main = deployments[f"{RELEASE}-{service.name}"]["spec"]["template"]["spec"]
        env = {e["name"]: e.get("value") for e in main["containers"][0]["env"]}
        assert env["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
        assert env["OTEL_TRACES_SAMPLER_ARG"] == "0.1"


# --- one topology, one source of each file ------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_objects_agree_with_the_topology(rendered: Rendered, profile: str) -> None:
    objects = rendered[profile]
    services = by_kind(objects, "Service")
    deployments = by_kind(objects, "Deployment")
    for service in TOPOLOGY:
        name = f"{RELEASE}-{service.name}"
        assert services[name]["spec"]["ports"][0]["port"] == service.port
        main = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        assert main["image"].split(":")[0].endswith(service.image)
        assert main["ports"][0]["containerPort"] == service.port
        env = {e["name"]: e.get("value", e.get("valueFrom")) for e in main["env"]}
        for called in service.calls:
            port = TOPOLOGY.service(called).port
            assert env[service.url_env(called)] == f"http://{RELEASE}-{called}:{port}"
        issuer = TOPOLOGY.issuer
        jwks = f"http://{RELEASE}-{issuer.name}:{issuer.port}/.well-known/jwks.json"
        assert env[service.env("jwks_url")] == jwks
        peers = json.loads(env[service.env("health_peers")])
        assert peers.keys() == set(TOPOLOGY.names)
    gateway = by_kind(objects, "ConfigMap")[f"{RELEASE}-gateway"]["data"]["nginx.conf"]
    assert f"listen {TOPOLOGY.gateway.port};" in gateway
    for service in TOPOLOGY:
        assert f"server {RELEASE}-{service.name}:{service.port};" in gateway
        assert f"location {service.prefix}/ " in gateway
    assert not re.search(r"\$\{[A-Z][A-Z0-9_]*\}", gateway)


def test_gateway_config_is_the_local_template_filled_in(rendered: Rendered) -> None:
    """Every line of devstack/gateway/nginx.conf.template without a placeholder is kept."""
    template = (ROOT / "devstack" / "gateway" / "nginx.conf.template").read_text()
    conf = by_kind(rendered["default"], "ConfigMap")[f"{RELEASE}-gateway"]["data"]["nginx.conf"]
    fixed = [line for line in template.splitlines() if "${" not in line]
    assert [line for line in conf.splitlines() if line in fixed] == fixed


def test_real_nginx_accepts_the_gateway_config(rendered: Rendered, tmp_path: Path) -> None:
    """`nginx -t` on the ConfigMap's file, with the Service names and /tmp made local."""
    conf = by_kind(rendered["production"], "ConfigMap")[f"{RELEASE}-gateway"]["data"]["nginx.conf"]
    for service in TOPOLOGY:
        conf = conf.replace(f"server {RELEASE}-{service.name}:", "server 127.0.0.1:")
    conf = conf.replace(" /tmp/", f" {tmp_path}/")
    (tmp_path / "tmp").mkdir()
    path = tmp_path / "nginx.conf"
    path.write_text(conf)
    argv = [*observability.gateway_argv(tmp_path, path), "-t"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr


def rule_groups() -> list[Any]:
    groups: list[Any] = []
    for name in ("recording_rules.yml", "alert_rules.yml"):
        groups += yaml.safe_load((ROOT / "devstack" / "prometheus" / name).read_text())["groups"]
    return groups


def runbook_links(rule: Manifest) -> list[str]:
    return [
        r["annotations"]["runbook_url"]
        for group in rule["spec"]["groups"]
        for r in group["rules"]
        if "runbook_url" in r.get("annotations", {})
    ]


def test_prometheus_rule_is_the_local_rule_files(rendered: Rendered) -> None:
    """The same rules, with the runbook links moved from the local gateway's docs to the
    docs site of the production profile's Ingress host."""
    (rule,) = by_kind(rendered["production"], "PrometheusRule").values()
    local = "http://127.0.0.1:8080/docs/"
    served = "https://store.example.com/docs/"
    assert json.loads(json.dumps(rule["spec"]["groups"]).replace(served, local)) == rule_groups()
    links = runbook_links(rule)
    assert links and all(link.startswith(f"{served}runbooks/") for link in links), links
    assert rule["metadata"]["labels"]["release"] == RELEASE


def test_runbook_links_follow_docs_url_or_fail_without_a_host(helm: Helm) -> None:
    on = ["monitoring.prometheusRule=true"]
    given = helm.render("default", sets=[*on, "monitoring.docsUrl=http://shop.test/docs/"])
    (rule,) = by_kind(given, "PrometheusRule").values()
    assert all(link.startswith("http://shop.test/docs/runbooks/") for link in runbook_links(rule))
    proc = helm.template("default", sets=on, check=False)  # the default Ingress has no host
    assert proc.returncode != 0 and "monitoring.docsUrl is required" in proc.stderr, proc.stderr


def test_dashboards_are_the_generated_json(rendered: Rendered) -> None:
    generated = {p.name: json.loads(p.read_text()) for p in
                 (ROOT / "grafana-dashboards" / "generated").glob("*.json")}  # fmt: skip
    assert len(generated) == 7
    maps = [m for m in by_kind(rendered["production"], "ConfigMap").values()
            if m["metadata"]["labels"].get("grafana_dashboard") == "1"]  # fmt: skip
    shipped = {k: json.loads(v) for m in maps for k, v in m["data"].items()}
    assert shipped == generated
    assert {m["metadata"]["annotations"]["grafana_folder"] for m in maps} == {"Product Store"}


def test_service_monitors_name_jobs_like_the_local_prometheus(rendered: Rendered) -> None:
    monitors = by_kind(rendered["production"], "ServiceMonitor")
    services = by_kind(rendered["production"], "Service")
    expected = {f"{RELEASE}-{s.name}" for s in TOPOLOGY} | {f"{RELEASE}-gateway"}
    assert monitors.keys() == expected
    for name, monitor in monitors.items():
        assert monitor["metadata"]["labels"]["release"] == RELEASE
        service_labels = services[name]["metadata"]["labels"]
        assert service_labels[monitor["spec"]["jobLabel"]] == name.removeprefix(f"{RELEASE}-")


def test_alertmanager_config_follows_the_local_one(rendered: Rendered) -> None:
    local = yaml.safe_load((ROOT / "devstack/alertmanager/alertmanager.yml.template").read_text())
    (config,) = by_kind(rendered["production"], "AlertmanagerConfig").values()
    spec = config["spec"]
    assert spec["route"]["groupBy"] == local["route"]["group_by"]
    assert len(spec["inhibitRules"]) == len(local["inhibit_rules"])
    for ours, theirs in zip(spec["inhibitRules"], local["inhibit_rules"], strict=True):
        for side in ("source", "target"):
            rendered_matchers = [
                f"{m['name']} {m['matchType']} {m['value']}" for m in ours[f"{side}Match"]
            ]
            assert rendered_matchers == [
                re.sub(r'\s*(=~|!~|!=|=)\s*"?([^"]*)"?$', r" \1 \2", m)
                for m in theirs[f"{side}_matchers"]
            ]
        assert ours["equal"] == theirs.get("equal", [])
    (telegram,) = spec["receivers"][0]["telegramConfigs"]
    assert telegram["botToken"] == {"name": "store-telegram", "key": "token"}
    template = (ROOT / "devstack/alertmanager/telegram.tmpl").read_text()
    assert telegram["message"].startswith(template)


def test_every_value_is_commented() -> None:
    """Each key of values.yaml has a comment on its line or on the line above."""
    previous = ""
    for number, line in enumerate((STORE / "values.yaml").read_text().splitlines(), 1):
        if re.match(r"^\s*[\w-]+:", line):
            assert "#" in line or previous.lstrip().startswith("#"), f"line {number}: {line}"
        if line.strip():
            previous = line


# --- secrets ------------------------------------------------------------------------------------


def test_users_reads_its_keys_and_admin_from_secrets(rendered: Rendered) -> None:
    issuer = TOPOLOGY.issuer
    spec = by_kind(rendered["production"], "Deployment")[f"{RELEASE}-{issuer.name}"]["spec"]
    pod = spec["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["signing-keys"]["secret"]["secretName"] == "store-signing-keys"
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    keys_dir = env[issuer.env("keys_dir")]["value"]
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts[keys_dir] == "signing-keys"
    password = env[issuer.env("admin_password")]["valueFrom"]["secretKeyRef"]
    assert password == {"name": "store-admin", "key": "password"}


def test_generated_signing_keys_are_a_usable_key_ring(helm: Helm) -> None:
    from users import keys

    objects = helm.render("default", sets=["secrets.signingKeys=", "secrets.generate=true"])
    secret = by_kind(objects, "Secret")[f"{RELEASE}-signing-keys"]
    files = {name: value.encode() for name, value in secret["stringData"].items()}
    ring = keys.parse_ring(files)
    assert ring.active.kid in ring.keys and ring.jwks()["keys"]


# --- the operator's resources ---------------------------------------------------------------------


def users_pod(objects: list[Manifest]) -> Manifest:
    deployment = by_kind(objects, "Deployment")[f"{RELEASE}-{TOPOLOGY.issuer.name}"]
    pod: Manifest = deployment["spec"]["template"]["spec"]
    return pod


def test_dev_profile_runs_the_operator_and_takes_its_keys_from_the_ring(
    rendered: Rendered,
) -> None:
    objects = rendered["dev"]
    operator = by_kind(objects, "Deployment")[f"{RELEASE}-operator"]
    image = operator["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == f"{TOPOLOGY.images}/operator:{chart_metadata(STORE)['appVersion']}"
    (ring,) = by_kind(objects, "SigningKeyRing").values()
    secret = ring["spec"]["secretName"]
    assert secret == f"{RELEASE}-signing-key-ring"
    assert secret not in by_kind(objects, "Secret"), "the operator creates the ring's Secret"
    assert f"{RELEASE}-signing-keys" not in by_kind(objects, "Secret")
    pod = users_pod(objects)
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["signing-keys"]["secret"]["secretName"] == secret
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts[env[TOPOLOGY.issuer.env("keys_dir")]] == "signing-keys"
    for profile in ("default", "production"):  # off unless asked for
        kinds = {o["kind"] for o in rendered[profile]}
        assert not kinds & {"SigningKeyRing", "CatalogSeed"}, profile
        assert f"{RELEASE}-operator" not in by_kind(rendered[profile], "Deployment")


def test_dev_profile_seeds_the_catalog_with_a_client_users_accepts(rendered: Rendered) -> None:
    objects = rendered["dev"]
    (seed,) = by_kind(objects, "CatalogSeed").values()
    spec = seed["spec"]
    catalog, issuer = TOPOLOGY.service("catalog"), TOPOLOGY.issuer
    assert spec["catalog"]["service"] == {"name": f"{RELEASE}-catalog", "port": catalog.port}
    token_url = f"http://{RELEASE}-{issuer.name}:{issuer.port}/oauth/token"
    assert spec["identity"]["tokenUrl"] == token_url
    identity = by_kind(objects, "Secret")[spec["identity"]["secretName"]]["stringData"]
    assert identity["client-id"] == "catalog-seeder" and len(identity["client-secret"]) >= 16
    assert spec["generator"]["count"] > 0
    # users reads its clients from one directory: the calling services' and the seeder's.
    pod = users_pod(objects)
    sources = {v["name"]: v for v in pod["volumes"]}["service-clients"]["projected"]["sources"]
    seeder = next(s["secret"] for s in sources if s["secret"].get("items"))
    assert seeder["name"] == spec["identity"]["secretName"]
    assert seeder["items"] == [{"key": "client-secret", "path": identity["client-id"]}]
    # the operator may reach the catalog and the token issuer
    policies = by_kind(objects, "NetworkPolicy")
    for name in ("catalog", issuer.name):
        (rule, _) = policies[f"{RELEASE}-{name}"]["spec"]["ingress"]
        names = rule["from"][0]["podSelector"]["matchExpressions"][1]["values"]
        assert "store-operator" in names, name


def test_the_load_test_job_runs_the_scenarios_against_the_gateway(helm: Helm) -> None:
    objects = helm.render("dev", sets=["loadtest.enabled=true", "loadtest.userClasses={Guest}"])
    assert_policies(objects)
    job = by_kind(objects, "Job")[f"{RELEASE}-loadtest"]
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["ttlSecondsAfterFinished"] > 0
    (locust,) = job["spec"]["template"]["spec"]["containers"]
    assert locust["image"].split(":")[0] == f"{TOPOLOGY.images}/loadtest"
    assert locust["command"][:4] == ["python", "-m", "loadtest.report", "run"]
    assert "--users=10" in locust["args"] and locust["args"][-1] == "Guest"
    env = {e["name"]: e for e in locust["env"]}
    gateway = f"http://{RELEASE}-gateway:{TOPOLOGY.gateway.port}"
    assert env["STORE_GATEWAY_URL"]["value"] == gateway
    admin = env["STORE_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert admin == {"name": f"{RELEASE}-admin", "key": "password"}
    assert not any(o["metadata"]["name"] == f"{RELEASE}-loadtest" for o in helm.render("dev"))


# --- dependencies ---------------------------------------------------------------------------------

# Keys of the grafana chart, a dependency of kube-prometheus-stack whose values.yaml is not
# among the upstream data: they configure the dashboards' folder (grafana chart values).
GRAFANA_SUBCHART_KEYS = {
    "kube-prometheus-stack.grafana.sidecar.dashboards.folderAnnotation",
    "kube-prometheus-stack.grafana.sidecar.dashboards.provider.foldersFromFilesStructure",
}


def set_keys(values: Any, prefix: str) -> Iterator[str]:
    """Dotted paths of the leaves set in a values tree (an empty map sets nothing)."""
    if isinstance(values, dict):
        for key, value in values.items():
            yield from set_keys(value, f"{prefix}.{key}")
    else:
        yield prefix


def known(upstream_values: Any, path: list[str]) -> bool:
    """The key exists upstream, or sits under an upstream map that is free-form ({} or null)."""
    node = upstream_values
    for key in path:
        if node is None or node == {}:
            return True
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


@pytest.mark.parametrize(
    "values_file", ["values.yaml", "values-dev.yaml", "values-production.yaml"]
)
def test_dependency_values_exist_upstream(upstream: Path, values_file: str) -> None:
    values = yaml.safe_load((STORE / values_file).read_text())
    checked = 0
    for dep in remote_dependencies():
        theirs = yaml.safe_load((upstream / dep["name"] / "Chart.yaml").parent.joinpath(
            "values.yaml").read_text())  # fmt: skip
        for key in set_keys(values.get(dep["name"], {}), dep["name"]):
            if key == dep["condition"] or key in GRAFANA_SUBCHART_KEYS:
                continue
            assert known(theirs, key.split(".")[1:]), f"{values_file}: {key} is not upstream"
            checked += 1
    print(f"{values_file}: {checked} dependency keys found upstream")


def test_a_misspelt_dependency_key_is_caught(upstream: Path) -> None:
    theirs = yaml.safe_load((upstream / "kube-prometheus-stack" / "values.yaml").read_text())
    assert known(theirs, ["prometheus", "prometheusSpec", "retention"])
    assert not known(theirs, ["prometheus", "prometheusSpec", "retension"])


def test_dependency_versions_are_the_upstream_ones(upstream: Path) -> None:
    for dep in remote_dependencies():
        upstream_meta = yaml.safe_load((upstream / dep["name"] / "Chart.yaml").read_text())
        assert dep["version"] == upstream_meta["version"]
        assert dep["condition"] == f"{dep['name']}.enabled"


def test_chart_lock_is_in_sync_with_chart_yaml(helm: Helm) -> None:
    committed = yaml.safe_load((STORE / "Chart.lock").read_text())
    assert {k: committed[k] for k in ("dependencies", "digest")} == chart_lock.lock()
    # helm itself agrees: it gets past the digest check, then wants the repositories.
    proc = helm.run("dependency", "build", str(helm.chart), "--skip-refresh", check=False)
    assert "no repository definition for https://" in proc.stderr, proc.stderr


# --- bad values fail at template time, naming the value ----------------------------------------


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"serviceDefaults": {"replicas": "two"}}, "serviceDefaults.replicas"),
        ({"services": {"catalog": {"replica": 3}}}, "replica"),
        ({"gateway": {"ingress": {"className": 7}}}, "gateway.ingress.className"),
        ({"cassandra": {"mode": "embedded"}}, "cassandra.mode"),
        ({"image": {"tag": "latest"}}, "image.tag"),
        ({"colour": "blue"}, "colour"),
        ({"catalogSeed": {"count": 0}}, "catalogSeed.count"),
        ({"catalogSeed": {"clientId": "Seeder!"}}, "catalogSeed.clientId"),
        ({"signingKeyRing": {"gracePeriod": "half an hour"}}, "signingKeyRing.gracePeriod"),
        ({"loadtest": {"userClasses": ["Robot"]}}, "loadtest.userClasses"),
        ({"loadtest": {"runTime": "1 minute"}}, "loadtest.runTime"),
        ({"operator": {"enabled": True, "ringCheckSeconds": 0}}, "ringCheckSeconds"),
        ({"operator": {"enabled": True, "replicas": 2}}, "replicas"),
        ({"monitoring": {"docsUrl": "docs.example.com"}}, "monitoring.docsUrl"),
        ({"tracing": {"sampleRatio": 2}}, "tracing.sampleRatio"),
    ],
)
def test_bad_values_are_refused_naming_them(helm: Helm, values: Manifest, named: str) -> None:
    proc = helm.template("default", values=values, check=False)
    assert proc.returncode != 0
    message = proc.stderr.replace("/", ".")
    assert named in message or named.split(".")[-1] in message, proc.stderr


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        ("secrets.signingKeys", "secrets.signingKeys"),
        ("secrets.admin", "secrets.admin"),
        ("secrets.serviceClients", "secrets.serviceClients"),
    ],
)
def test_a_missing_secret_fails_naming_it(helm: Helm, unset: str, named: str) -> None:
    proc = helm.template("default", sets=[f"{unset}="], check=False)
    assert proc.returncode != 0 and f"{named} is required" in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("sets", "named"),
    [
        (["cassandra.authSecret="], "cassandra.authSecret"),
        (["alerting.telegram.botTokenSecret="], "alerting.telegram.botTokenSecret"),
        (["alerting.telegram.chatId=0"], "alerting.telegram.chatId"),
    ],
)
def test_production_needs_its_secrets(helm: Helm, sets: list[str], named: str) -> None:
    proc = helm.template("production", sets=sets, check=False)
    assert proc.returncode != 0 and f"{named} is required" in proc.stderr, proc.stderr


def test_the_ring_and_given_signing_keys_exclude_each_other(helm: Helm) -> None:
    proc = helm.template("default", sets=["signingKeyRing.enabled=true"], check=False)
    assert proc.returncode != 0, proc.stdout[-500:]
    assert "secrets.signingKeys and signingKeyRing.enabled exclude each other" in proc.stderr


def test_a_catalog_seed_needs_the_seeders_identity(helm: Helm) -> None:
    proc = helm.template("default", sets=["catalogSeed.enabled=true"], check=False)
    assert proc.returncode != 0 and "secrets.catalogSeeder is required" in proc.stderr
    given = helm.render("default", sets=["catalogSeed.enabled=true", "secrets.catalogSeeder=s"])
    (seed,) = by_kind(given, "CatalogSeed").values()
    assert seed["spec"]["identity"]["secretName"] == "s"
