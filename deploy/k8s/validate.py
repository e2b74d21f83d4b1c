"""Checks the rendered Kubernetes manifests of deploy/k8s; run by deploy/k8s/validate.

    validate.py KUBE_VERSIONS NAME=RENDERED.yaml [NAME=RENDERED.yaml ...]

KUBE_VERSIONS is a comma-separated list of Kubernetes versions to validate against. For
each overlay (NAME, with its output of `kubectl kustomize`) it:

- validates every resource of a Kubernetes API group against that version's JSON schema
  with kubernetes-validate, strictly (an unknown field is an error); resources of the
  custom resource groups below (CloudNativePG, Prometheus Operator) are skipped, said
  once per kind; any other resource without a schema is an error (a misspelt apiVersion
  or kind);
- checks what the Deployments promise: gRPC startup, readiness and liveness probes for
  the service the process runs, requests and limits, the security context, a grace period
  longer than the drain, and a matching Service, PodDisruptionBudget and (without
  replicas) HorizontalPodAutoscaler; that referenced ConfigMaps and claims exist;
- checks the monitoring: dashboards parse as JSON and every sds_* metric that alerts and
  dashboards use is in the contract listed in deploy/k8s/README.md;
- checks that the NATS values (deploy/k8s/nats/values.yaml) give JetStream file storage
  on at least as many clustered servers as SDS_EVENTS_REPLICAS asks for.

Prints one line per overlay and exits 1 on any failure.
"""

import functools
import json
import re
import sys
from pathlib import Path

import kubernetes_validate.utils as kv
import yaml

# API groups whose kinds are custom resources: kubernetes-validate has no schema for them.
CUSTOM_GROUPS = {"postgresql.cnpg.io", "monitoring.coreos.com"}

# Secrets the manifests read but do not create: CloudNativePG creates the database one,
# the operator the two key Secrets (deploy/k8s/README.md, "Secrets").
EXTERNAL_SECRETS = {"sds-db-app", "sds-jwt-public-keys", "sds-service-key"}

README = Path(__file__).with_name("README.md")
NATS_VALUES = Path(__file__).with_name("nats") / "values.yaml"

# The JSON schemas are large; kubernetes-validate reads them again for every resource.
kv.schema_contents = functools.lru_cache(maxsize=None)(kv.schema_contents)


def group_of(api_version):
    return api_version.split("/")[0] if "/" in api_version else ""


def name_of(resource):
    return f"{resource['kind']}/{resource['metadata']['name']}"


def selects(selector, labels):
    """Whether a matchLabels-style selector (a dict) selects pods with these labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def contract_metrics():
    """The sds_* metric names listed in the README's Metrics table."""
    text = README.read_text()
    if "\n## Metrics\n" not in text:
        return set()
    section = text.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(sds_[a-z0-9_]+)`", section, re.M))


def used_metrics(expr):
    names = set(re.findall(r"\b(sds_[a-z0-9_]+)", expr))
    # A histogram is listed by its name; its series add _bucket, _sum and _count.
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def check_schemas(overlay, resources, versions, errors):
    """Validates resources against the schemas; returns those that passed."""
    passed = []
    skipped = set()
    for resource in resources:
        group = group_of(resource["apiVersion"])
        if group in CUSTOM_GROUPS:
            key = (resource["apiVersion"], resource["kind"])
            if key not in skipped:
                skipped.add(key)
                print(
                    f"k8s: overlay {overlay}: skipping {resource['kind']} "
                    f"({resource['apiVersion']}): a custom resource, no schema to validate against",
                    flush=True,
                )
            continue
        valid = True
        for version in versions:
            try:
                kv.validate(resource, version, strict=True)
            except kv.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                errors.append(f"{name_of(resource)}: Kubernetes {version}: {path}: {e.message}")
                valid = False
            except kv.SchemaNotFoundError as e:
                errors.append(f"{name_of(resource)}: {e.message}")
                valid = False
        if valid:
            passed.append(resource)
    return passed


class Rendering:
    """One overlay's resources, indexed for the checks of workloads."""

    def __init__(self, resources):
        self.by_kind = {}
        for r in resources:
            self.by_kind.setdefault(r["kind"], []).append(r)
        self.config_maps = {r["metadata"]["name"]: r for r in self.of("ConfigMap")}
        self.claims = {r["metadata"]["name"] for r in self.of("PersistentVolumeClaim")}
        self.autoscaled = {
            r["spec"]["scaleTargetRef"]["name"]
            for r in self.of("HorizontalPodAutoscaler")
            if r["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        }

    def of(self, kind):
        return self.by_kind.get(kind, [])


def check_workloads(resources, valid, errors):
    """Checks the Deployments and the Job that passed the schemas (`valid`)."""
    rendering = Rendering(resources)
    valid = {id(r) for r in valid}
    for job in rendering.of("Job"):
        if id(job) in valid:
            check_references(job["spec"]["template"]["spec"], name_of(job), rendering, errors)
    for deployment in rendering.of("Deployment"):
        if id(deployment) in valid:
            check_references(deployment["spec"]["template"]["spec"], name_of(deployment), rendering, errors)
            check_deployment(deployment, rendering, errors)


def check_references(pod, name, rendering, errors):
    """ConfigMaps and claims a pod reads must be rendered (a name that kustomize failed to
    give its hash suffix would not be); Secrets must be the known external ones."""
    for c in pod.get("containers", []) + pod.get("initContainers", []):
        for source in c.get("envFrom", []):
            ref = source.get("configMapRef")
            if ref and ref["name"] not in rendering.config_maps:
                errors.append(f"{name}: envFrom names ConfigMap {ref['name']}, which is not rendered")
        for env in c.get("env", []):
            value_from = env.get("valueFrom", {})
            config_map = value_from.get("configMapKeyRef")
            if config_map and config_map["name"] not in rendering.config_maps:
                errors.append(f"{name}: env {env['name']} names ConfigMap {config_map['name']}, which is not rendered")
            secret = value_from.get("secretKeyRef")
            if secret and secret["name"] not in EXTERNAL_SECRETS:
                errors.append(f"{name}: env {env['name']} names Secret {secret['name']}, not one of {sorted(EXTERNAL_SECRETS)}")
    for volume in pod.get("volumes", []):
        claim = volume.get("persistentVolumeClaim")
        if claim and claim["claimName"] not in rendering.claims:
            errors.append(f"{name}: volume {volume['name']} names claim {claim['claimName']}, which is not rendered")
        config_map = volume.get("configMap")
        if config_map and config_map["name"] not in rendering.config_maps:
            errors.append(f"{name}: volume {volume['name']} names ConfigMap {config_map['name']}, which is not rendered")
        secret = volume.get("secret")
        if secret and secret["secretName"] not in EXTERNAL_SECRETS:
            errors.append(f"{name}: volume {volume['name']} names Secret {secret['secretName']}, not one of {sorted(EXTERNAL_SECRETS)}")


def check_deployment(deployment, rendering, errors):
    name = name_of(deployment)
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})

    # Which service this process runs, from `serve --only NAME`.
    containers = pod["containers"]
    sds = next((c for c in containers if c["name"] == "sds"), None)
    if sds is None:
        errors.append(f"{name}: no container named sds")
        return
    args = sds.get("args", [])
    if len(args) != 3 or args[:2] != ["serve", "--only"]:
        errors.append(f"{name}: args are {args}, not [serve, --only, SERVICE]")
        return
    health_name = f"sds.v1.{args[2].capitalize()}Service"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        grpc = sds.get(probe, {}).get("grpc")
        if not grpc:
            errors.append(f"{name}: no gRPC {probe}")
        elif grpc.get("port") != 50051 or grpc.get("service") != health_name:
            errors.append(f"{name}: {probe} asks port {grpc.get('port')} for {grpc.get('service')!r}, not 50051 for {health_name!r}")

    for c in containers:
        resources = c.get("resources", {})
        for kind in ("requests", "limits"):
            missing = {"cpu", "memory"} - set(resources.get(kind, {}))
            if missing:
                errors.append(f"{name}: container {c['name']} has no {kind} for {', '.join(sorted(missing))}")
        security = c.get("securityContext", {})
        if not security.get("readOnlyRootFilesystem"):
            errors.append(f"{name}: container {c['name']} has a writable root filesystem")
        if security.get("allowPrivilegeEscalation") is not False:
            errors.append(f"{name}: container {c['name']} allows privilege escalation")
        if "ALL" not in security.get("capabilities", {}).get("drop", []):
            errors.append(f"{name}: container {c['name']} does not drop all capabilities")
        if not (security.get("runAsNonRoot") or pod.get("securityContext", {}).get("runAsNonRoot")):
            errors.append(f"{name}: container {c['name']} may run as root")

    # The grace period must outlast draining requests and stopping the relays.
    env = {}
    for source in sds.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref and ref["name"] in rendering.config_maps:
            env.update(rendering.config_maps[ref["name"]].get("data", {}))
    env.update({e["name"]: e["value"] for e in sds.get("env", []) if "value" in e})
    shutdown = int(env.get("SDS_DRAIN_SECONDS", 10)) + int(env.get("SDS_RELAY_STOP_SECONDS", 10))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace <= shutdown:
        errors.append(f"{name}: terminationGracePeriodSeconds {grace} is not more than drain + relay stop ({shutdown} s)")

    spread = pod.get("topologySpreadConstraints", [])
    if not pod.get("affinity", {}).get("podAntiAffinity") and not any(
        t["topologyKey"] == "kubernetes.io/hostname" for t in spread
    ):
        errors.append(f"{name}: replicas are not spread across nodes")

    if not any(
        selects(s["spec"].get("selector"), labels)
        and any(p.get("name") == "grpc" and p.get("targetPort") in (50051, "grpc") for p in s["spec"]["ports"])
        for s in rendering.of("Service")
    ):
        errors.append(f"{name}: no Service selects its pods with a grpc port")
    if not any(
        selects(p["spec"]["selector"].get("matchLabels"), labels)
        for p in rendering.of("PodDisruptionBudget")
    ):
        errors.append(f"{name}: no PodDisruptionBudget selects its pods")
    if "replicas" not in spec:
        if deployment["metadata"]["name"] not in rendering.autoscaled:
            errors.append(f"{name}: no replicas and no HorizontalPodAutoscaler")
    elif spec["replicas"] < 2:
        errors.append(f"{name}: {spec['replicas']} replica(s); at least 2 keep it up through a drain")


def check_monitoring(resources, contract, errors):
    for r in resources:
        if r["kind"] == "ConfigMap" and r["metadata"].get("labels", {}).get("grafana_dashboard") == "1":
            for key, text in r.get("data", {}).items():
                try:
                    dashboard = json.loads(text)
                except json.JSONDecodeError as e:
                    errors.append(f"{name_of(r)}: {key} is not JSON: {e}")
                    continue
                exprs = [t["expr"] for p in dashboard.get("panels", []) for t in p.get("targets", [])]
                for metric in sorted(set().union(*map(used_metrics, exprs)) - contract):
                    errors.append(f"{name_of(r)}: {key} uses {metric}, which deploy/k8s/README.md does not list")
        if r["kind"] == "PrometheusRule":
            exprs = [rule["expr"] for g in r["spec"]["groups"] for rule in g["rules"]]
            for metric in sorted(set().union(*map(used_metrics, exprs)) - contract):
                errors.append(f"{name_of(r)}: uses {metric}, which deploy/k8s/README.md does not list")


def check_nats(resources, errors):
    values = yaml.safe_load(NATS_VALUES.read_text())
    config = values.get("config", {})
    cluster, jetstream = config.get("cluster", {}), config.get("jetstream", {})
    servers = cluster.get("replicas", 1) if cluster.get("enabled") else 1
    if not (jetstream.get("enabled") and jetstream.get("fileStore", {}).get("enabled", True)):
        errors.append(f"{NATS_VALUES.name}: JetStream with file storage is not enabled")
    for r in resources:
        if r["kind"] == "ConfigMap" and r["metadata"]["name"].startswith("sds-config"):
            wanted = int(r.get("data", {}).get("SDS_EVENTS_REPLICAS", 1))
            if wanted > servers:
                errors.append(f"{name_of(r)}: SDS_EVENTS_REPLICAS={wanted}, but nats/values.yaml runs {servers} server(s)")


def main():
    versions = sys.argv[1].split(",")
    contract = contract_metrics()
    failed = False
    for argument in sys.argv[2:]:
        overlay, path = argument.split("=", 1)
        resources = [r for r in yaml.safe_load_all(Path(path).read_text()) if r]
        errors = []
        valid = check_schemas(overlay, resources, versions, errors)
        check_workloads(resources, valid, errors)
        check_monitoring(resources, contract, errors)
        check_nats(resources, errors)
        for error in errors:
            print(f"k8s: overlay {overlay}: {error}", file=sys.stderr, flush=True)
        print(f"k8s: overlay {overlay}: {len(resources)} resources rendered, {len(valid)} validated", flush=True)
        failed = failed or bool(errors)
    if not contract:
        print("k8s: no metric names found in deploy/k8s/README.md, section Metrics", file=sys.stderr, flush=True)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
