#!/usr/bin/env python3
"""Offline validation of Marquee's deploy artifacts (`make deploy-check`).

Run through deploy/check/run.sh, which provides the virtualenv. Every section records
its findings; the run fails when any section has an error. Nothing here needs a network
or a cluster.

Sections:
  helm        lint (strict, Helm's engine) and render every value set in values/;
              every file in values/bad/ must be rejected
  kubernetes  every rendered object against the Kubernetes 1.32 schemas (strict); kinds
              without a schema are errors, except Argo Rollouts and ServiceMonitor
  crds        Rollout / AnalysisTemplate against the vendored Argo CRD schemas with
              unknown fields rejected; ServiceMonitor against schemas/
  chartcrds   the chart's own CRDs (helm/marquee/crds/, which Helm installs and does not
              render): packaged by Helm, valid apiextensions.k8s.io/v1 (1.32 schemas),
              structural; fixtures/tenant-example.yaml validates against them and every
              tenant in fixtures/tenant-bad.yaml is refused
  references  rendered objects point at each other correctly (services, templates,
              selectors, service accounts, config maps, HPA targets, ingress backends)
  contracts   the chart agrees with the code and the workflows: every edge of CALLERS
              (services/marquee) is a `calls` entry, a headless-Service URL and an open
              NetworkPolicy path; all services on by default, MARQUEE_PROFILE=cluster,
              preStop drains; the edge routes only public paths; HTTP canaries use the
              Gateway API plugin; analyses fail on no data; env vars against
              settings-manifest.json; release.yml's image matrix generated from the chart,
              signed, scanned, SBOM/provenance, digests in the chart, base images
              resolved to digests and passed as build-args; deploy.yml and
              terraform.yml; the tenant operator (where a value set enables it):
              ClusterRole verbs exactly what its code uses (no *, no leases), the Lease
              Role, a plain Deployment with 2+ replicas, its env, token and egress
  selftest    the validators reject the known-bad manifests in fixtures/
  checkov     rendered manifests (Deployments too: checkov skips Rollout), terraform/
              and deploy/Dockerfile
  terraform   every .tf parses with python-hcl2; backends, pinned providers, variables;
              terraform_contract.py: validations, what each environment creates, outputs
              the docs name, chart_values against the chart, no CIDR in production values
  workflows   actionlint on .github/workflows; .github/dependabot.yml covers docker and actions
  observability  Grafana dashboards and Prometheus rule files
  docker      Dockerfile and .dockerignore essentials; every FROM a *_IMAGE build arg
              (base_images.py) or an earlier stage
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = Path(os.environ.get("MARQUEE_VENV", sys.prefix))
KUBE_VERSION = "1.32.0"
CHART = ROOT / "helm" / "marquee"
RELEASE = "marquee"
NAMESPACE = "marquee"

# python-hcl2 lives in its own directory (see requirements-hcl2.txt).
sys.path.insert(0, str(VENV / "opt" / "python-hcl2"))

import yaml  # noqa: E402
import jsonschema  # noqa: E402

# ---------------------------------------------------------------------------------------
# Findings


class Section:
    def __init__(self, name: str):
        self.name = name
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.checked = 0
        self.seconds = 0.0

    def error(self, message: str) -> None:
        self.errors.append(message)

    def error_once(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def note(self, message: str) -> None:
        self.notes.append(message)


SECTIONS: list[Section] = []


def section(name: str) -> Callable[[Callable[..., None]], Callable[..., Section]]:
    def wrap(fn: Callable[..., None]) -> Callable[..., Section]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Section:
            s = Section(name)
            SECTIONS.append(s)
            started = time.monotonic()
            try:
                fn(s, *args, **kwargs)
            except Exception as exc:  # a crash in a check is a failure, never a pass
                s.error(f"check crashed: {type(exc).__name__}: {exc}")
            s.seconds = time.monotonic() - started
            status = "ok" if not s.errors else f"{len(s.errors)} error(s)"
            print(f"[{name}] {s.checked} checked, {status} ({s.seconds:.1f}s)", flush=True)
            return s

        return run

    return wrap


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def load_yaml(path: Path) -> Any:
    with path.open() as f:
        return yaml.safe_load(f)


# ---------------------------------------------------------------------------------------
# Helm: lint and render


class Render:
    """One value set rendered: its objects (hooks included), by source template."""

    def __init__(self, name: str, values: dict[str, Any]):
        self.name = name
        self.values = values
        self.objects: list[tuple[str, dict[str, Any]]] = []

    def kinds(self, *kinds: str) -> list[dict[str, Any]]:
        return [o for _, o in self.objects if o.get("kind") in kinds]


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def value_sets() -> list[tuple[str, dict[str, Any]]]:
    """defaults, then every values/*.yaml; a file may `# extends: <file>` others."""
    sets: list[tuple[str, dict[str, Any]]] = [("defaults", {})]
    for path in sorted((HERE / "values").glob("*.yaml")):
        text = path.read_text()
        values: dict[str, Any] = {}
        for m in re.finditer(r"^# extends: (\S+)$", text, re.M):
            values = deep_merge(values, load_yaml((path.parent / m.group(1)).resolve()) or {})
        values = deep_merge(values, yaml.safe_load(text) or {})
        sets.append((path.stem, values))
    return sets


@section("helm")
def check_helm(s: Section, renders: list[Render]) -> None:
    import helm_python as helm

    with helm.Chart.load(str(CHART)) as chart:
        if chart.schema is None:
            s.error("helm/marquee has no values.schema.json")
        for name, values in value_sets():
            s.checked += 1
            report = helm.lint(str(CHART), values, strict=True, kube_version=f"v{KUBE_VERSION}",
                               namespace=NAMESPACE)
            for msg in report.get("messages", []):
                text = f"lint [{name}] {msg.get('path')}: {msg.get('error')}"
                # 1 = info (e.g. "icon is recommended"); warnings and errors fail (strict).
                (s.error if msg.get("severity", 0) >= 2 or msg.get("severity") == 0 else s.note)(text)
            for err in report.get("errors", []):
                s.error(f"lint [{name}]: {err}")
            try:
                chart.validate_schema(values)
                manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
            except helm.HelmError as exc:
                s.error(f"render [{name}]: {exc}")
                continue
            r = Render(name, values)
            for template, text in sorted(manifests.items()):
                if template.endswith("NOTES.txt") or not text.strip():
                    continue
                try:
                    docs = list(yaml.safe_load_all(text))
                except yaml.YAMLError as exc:
                    s.error(f"render [{name}] {template}: not YAML: {exc}")
                    continue
                for doc in docs:
                    if doc is None:
                        continue
                    if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
                        s.error(f"render [{name}] {template}: a document without kind/apiVersion")
                        continue
                    r.objects.append((template, doc))
            if not r.objects:
                s.error(f"render [{name}]: no objects")
            renders.append(r)
            s.note(f"{name}: {len(r.objects)} objects")

        # Values that must be refused (by values.schema.json, or by a template's fail).
        bad_files = sorted((HERE / "values" / "bad").glob("*.yaml"))
        if not bad_files:
            s.error("deploy/check/values/bad/ has no bad-value cases")
        for path in bad_files:
            s.checked += 1
            values = load_yaml(path) or {}
            expect_schema = "# rejected-by: template" not in path.read_text()
            try:
                chart.validate_schema(values)
                if expect_schema:
                    s.error(f"{rel(path)}: values.schema.json accepted these bad values")
                    continue
            except helm.HelmError:
                if not expect_schema:
                    s.error(f"{rel(path)}: expected the template to refuse it, but the schema did")
            try:
                chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
                s.error(f"{rel(path)}: the chart rendered these bad values")
            except helm.HelmError as exc:
                s.note(f"rejected as expected: {path.name}: {str(exc).strip().splitlines()[-1][:160]}")


# ---------------------------------------------------------------------------------------
# Kubernetes schemas


@functools.lru_cache(maxsize=None)
def kube_validator() -> Callable[[dict[str, Any]], None]:
    """kubernetes_validate.validate with its schema files cached (it re-reads them per call)."""
    import kubernetes_validate.utils as kv

    kv.schema_contents = functools.lru_cache(maxsize=None)(kv.schema_contents)

    def validate(obj: dict[str, Any]) -> None:
        kv.validate(obj, KUBE_VERSION, strict=True)

    return validate


CUSTOM_KINDS = {
    ("argoproj.io/v1alpha1", "Rollout"),
    ("argoproj.io/v1alpha1", "AnalysisTemplate"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("cert-manager.io/v1", "Certificate"),
    ("cert-manager.io/v1", "Issuer"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
}
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def describe(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def kube_errors(validate: Callable[[dict[str, Any]], None], obj: dict[str, Any]) -> list[str]:
    import kubernetes_validate.utils as kv

    try:
        validate(obj)
    except kv.SchemaNotFoundError as exc:
        return [f"unknown kind: {exc.message}"]
    except kv.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path) or "(root)"
        return [f"{where}: {exc.message}"]
    return []


def metadata_errors(obj: dict[str, Any], namespaced: bool = True) -> list[str]:
    meta = obj.get("metadata") or {}
    errors = []
    name = meta.get("name", "")
    if not isinstance(name, str) or not DNS_SUBDOMAIN.match(name) or len(name) > 253:
        errors.append(f"metadata.name {name!r} is not a DNS subdomain")
    if namespaced and obj.get("kind") not in ("ClusterRole", "ClusterRoleBinding") and not meta.get("namespace"):
        errors.append("metadata.namespace is not set")
    for field in ("labels", "annotations"):
        for k, v in (meta.get(field) or {}).items():
            if not isinstance(v, str):
                errors.append(f"metadata.{field}.{k} is not a string")
    for k, v in (meta.get("labels") or {}).items():
        if len(v) > 63 or not re.match(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$", v):
            errors.append(f"label {k}={v!r} is not a valid label value")
    return errors


@section("kubernetes")
def check_kubernetes(s: Section, renders: list[Render]) -> None:
    validate = kube_validator()
    for r in renders:
        seen: set[tuple[str, str, str]] = set()
        for template, obj in r.objects:
            s.checked += 1
            key = (obj["apiVersion"], obj["kind"], (obj.get("metadata") or {}).get("name", ""))
            if key in seen:
                s.error(f"[{r.name}] {template}: duplicate {describe(obj)}")
            seen.add(key)
            for e in metadata_errors(obj):
                s.error(f"[{r.name}] {template}: {describe(obj)}: {e}")
            if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
                if obj["kind"] == "Rollout":
                    # The Rollout's pod template must also be a valid Kubernetes pod template.
                    as_deployment = {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "metadata": obj["metadata"],
                        "spec": {"selector": obj["spec"].get("selector"), "template": obj["spec"].get("template")},
                    }
                    for e in kube_errors(validate, as_deployment):
                        s.error(f"[{r.name}] {template}: {describe(obj)} pod template: {e}")
                continue
            for e in kube_errors(validate, obj):
                s.error(f"[{r.name}] {template}: {describe(obj)}: {e}")


# ---------------------------------------------------------------------------------------
# CRD schemas (Argo Rollouts, ServiceMonitor)


def strict_crd_schema(node: Any) -> Any:
    """An apiextensions openAPIV3Schema as JSON Schema, with unknown fields rejected
    (what the API server does with a structural schema, minus pruning)."""
    if isinstance(node, list):
        return [strict_crd_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict_crd_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    out.pop("nullable", None)
    if (
        out.get("type") == "object"
        and "properties" in out
        and "additionalProperties" not in out
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@functools.lru_cache(maxsize=None)
def crd_validators() -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    validators = {}
    for path in sorted((ROOT / "deploy" / "crds").glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schema = strict_crd_schema(version["schema"]["openAPIV3Schema"])
                schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata", "spec"})
                validators[(f"{group}/{version['name']}", kind)] = jsonschema.Draft7Validator(schema)
    for path in sorted((HERE / "schemas").glob("*.schema.json")):
        schema = json.loads(path.read_text())
        jsonschema.Draft7Validator.check_schema(schema)
        validators[(schema["x-api-version"], schema["x-kind"])] = jsonschema.Draft7Validator(schema)
    return validators


def crd_errors(obj: dict[str, Any]) -> list[str]:
    validator = crd_validators().get((obj["apiVersion"], obj["kind"]))
    if validator is None:
        return [f"no vendored schema for {obj['apiVersion']} {obj['kind']}"]
    errors = []
    for e in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path))):
        where = ".".join(str(p) for p in e.path) or "(root)"
        errors.append(f"{where}: {e.message[:300]}")
    return errors


@section("crds")
def check_crds(s: Section, renders: list[Render]) -> None:
    expected = {("argoproj.io/v1alpha1", "Rollout"), ("argoproj.io/v1alpha1", "AnalysisTemplate"),
                ("monitoring.coreos.com/v1", "ServiceMonitor"), ("cert-manager.io/v1", "Certificate"),
                ("cert-manager.io/v1", "Issuer"), ("gateway.networking.k8s.io/v1", "HTTPRoute")}
    missing = expected - set(crd_validators())
    for api_version, kind in sorted(missing):
        s.error(f"no schema for {api_version} {kind} in deploy/crds/ or deploy/check/schemas/")
    shared = ROOT.parent / "shared" / "k8s" / "crds"
    for path in sorted(shared.glob("*.yaml")) if shared.is_dir() else []:
        vendored = ROOT / "deploy" / "crds" / path.name
        if not vendored.exists() or vendored.read_bytes() != path.read_bytes():
            s.note(f"deploy/crds/{path.name} differs from ../shared/k8s/crds (re-vendor?)")
    kinds_seen: set[str] = set()
    for r in renders:
        for template, obj in r.objects:
            if (obj["apiVersion"], obj["kind"]) not in CUSTOM_KINDS:
                continue
            s.checked += 1
            kinds_seen.add(obj["kind"])
            for e in crd_errors(obj):
                s.error(f"[{r.name}] {template}: {describe(obj)}: {e}")
            if obj["kind"] == "Rollout":
                canary = obj["spec"].get("strategy", {}).get("canary") or {}
                weights = [st["setWeight"] for st in canary.get("steps", []) if "setWeight" in st]
                if weights != sorted(weights) or any(not 0 <= w <= 100 for w in weights):
                    s.error(f"[{r.name}] {describe(obj)}: canary weights {weights} must rise within 0..100")
    for kind in ("Rollout", "AnalysisTemplate", "ServiceMonitor", "Certificate", "Issuer", "HTTPRoute"):
        if kind not in kinds_seen:
            s.error(f"no value set renders a {kind}: its templates go unchecked")


# ---------------------------------------------------------------------------------------
# The chart's own CRDs (helm/marquee/crds/: `helm install` applies them before the
# templates; `helm template` does not render them, so the sections above never see them)

CHART_CRD_EXAMPLES = HERE / "fixtures" / "tenant-example.yaml"
CHART_CRD_BAD = HERE / "fixtures" / "tenant-bad.yaml"


def chart_crd_files() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, crd) for path in sorted((CHART / "crds").glob("*.yaml"))
            for crd in yaml.safe_load_all(path.read_text()) if crd]


@functools.lru_cache(maxsize=None)
def chart_crd_validators() -> dict[tuple[str, str], tuple[jsonschema.protocols.Validator, str]]:
    """(apiVersion, kind) → (validator, scope) for every served version of the chart's CRDs.
    The API server adds apiVersion, kind and metadata to every root schema."""
    validators = {}
    for _, crd in chart_crd_files():
        if crd.get("kind") != "CustomResourceDefinition":
            continue
        spec = crd["spec"]
        for version in spec.get("versions", []):
            root = copy.deepcopy((version.get("schema") or {}).get("openAPIV3Schema") or {})
            root.setdefault("properties", {}).update(
                {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}})
            schema = strict_crd_schema(root)
            schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata"})
            validators[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = (
                jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER),
                spec.get("scope", ""))
    return validators


def chart_crd_errors(obj: dict[str, Any]) -> list[str]:
    found = chart_crd_validators().get((obj.get("apiVersion"), obj.get("kind")))
    if found is None:
        return [f"no CRD in helm/marquee/crds/ for {obj.get('apiVersion')} {obj.get('kind')}"]
    validator, scope = found
    errors = [f"{'.'.join(map(str, e.path)) or '(root)'}: {e.message[:300]}"
              for e in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path)))]
    errors += metadata_errors(obj, namespaced=scope == "Namespaced")
    if scope == "Cluster" and (obj.get("metadata") or {}).get("namespace"):
        errors.append("metadata.namespace is set on a cluster-scoped resource")
    return errors


def structural_errors(node: Any, where: str = "") -> list[str]:
    """What makes a schema non-structural: a node without a type (unless int-or-string or
    preserve-unknown-fields), or an object with both properties and additionalProperties."""
    if not isinstance(node, dict):
        return []
    errors = []
    if "type" not in node and not (node.get("x-kubernetes-int-or-string")
                                   or node.get("x-kubernetes-preserve-unknown-fields")):
        errors.append(f"{where or '(root)'}: no type")
    if "properties" in node and isinstance(node.get("additionalProperties"), dict):
        errors.append(f"{where or '(root)'}: both properties and additionalProperties")
    for key, child in (node.get("properties") or {}).items():
        errors += structural_errors(child, f"{where}.{key}")
    if isinstance(node.get("items"), dict):
        errors += structural_errors(node["items"], f"{where}[]")
    if isinstance(node.get("additionalProperties"), dict):
        errors += structural_errors(node["additionalProperties"], f"{where}.*")
    return errors


@section("chartcrds")
def check_chart_crds(s: Section) -> None:
    import helm_python as helm

    validate = kube_validator()
    with helm.Chart.load(str(CHART)) as chart:
        packaged = {c["name"] for c in chart.crds}
    files = chart_crd_files()
    if not files:
        s.error("helm/marquee/crds/ has no CRDs")
    for path, crd in files:
        s.checked += 1
        where = f"{rel(path)}: {describe(crd)}"
        if f"crds/{path.name}" not in packaged:
            s.error(f"{rel(path)}: not in the chart Helm loads (.helmignore?)")
        if (crd.get("apiVersion"), crd.get("kind")) != ("apiextensions.k8s.io/v1", "CustomResourceDefinition"):
            s.error(f"{where}: not an apiextensions.k8s.io/v1 CustomResourceDefinition")
            continue
        for e in kube_errors(validate, crd) + metadata_errors(crd, namespaced=False):
            s.error(f"{where}: {e}")
        spec = crd.get("spec") or {}
        expected = f"{(spec.get('names') or {}).get('plural')}.{spec.get('group')}"
        if (crd.get("metadata") or {}).get("name") != expected or path.stem != expected:
            s.error(f"{where}: the CRD and its file must be named {expected}")
        versions = spec.get("versions") or []
        if sum(bool(v.get("storage")) for v in versions) != 1:
            s.error(f"{where}: exactly one version must be the storage version")
        for version in versions:
            root = (version.get("schema") or {}).get("openAPIV3Schema")
            if not root:
                s.error(f"{where} {version.get('name')}: no openAPIV3Schema")
                continue
            for e in structural_errors(root):
                s.error(f"{where} {version.get('name')}: not structural: {e}")
            try:
                jsonschema.Draft7Validator.check_schema(strict_crd_schema(root))
            except jsonschema.SchemaError as exc:
                s.error(f"{where} {version.get('name')}: not a valid schema: {exc.message[:200]}")
            if "status" in (root.get("properties") or {}) and "status" not in (version.get("subresources") or {}):
                s.error(f"{where} {version.get('name')}: has a status but no status subresource")

    for path, must_pass in ((CHART_CRD_EXAMPLES, True), (CHART_CRD_BAD, False)):
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d] if path.exists() else []
        if not docs:
            s.error(f"{rel(path)}: missing or empty")
        for obj in docs:
            s.checked += 1
            errors = chart_crd_errors(obj)
            if must_pass:
                for e in errors:
                    s.error(f"{rel(path)}: {describe(obj)}: {e}")
            elif not errors:
                s.error(f"{rel(path)}: {describe(obj)} was accepted, but it is invalid on purpose")
            else:
                s.note(f"refused as expected: {describe(obj)}: {errors[0]}")


# ---------------------------------------------------------------------------------------
# Cross-references between rendered objects


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@section("references")
def check_references(s: Section, renders: list[Render]) -> None:
    for r in renders:
        def named(*kinds: str) -> dict[str, dict[str, Any]]:
            return {o["metadata"]["name"]: o for o in r.kinds(*kinds)}

        workloads = r.kinds("Deployment", "Rollout")
        services, templates = named("Service"), named("AnalysisTemplate")
        accounts, configmaps = named("ServiceAccount"), named("ConfigMap")
        pods = [(w, w["spec"]["template"]) for w in r.kinds("Deployment", "Rollout", "Job")]

        def err(obj: dict[str, Any], msg: str) -> None:
            s.error(f"[{r.name}] {describe(obj)}: {msg}")

        for w, tpl in pods:
            s.checked += 1
            spec = tpl["spec"]
            labels = tpl["metadata"].get("labels", {})
            if w["kind"] != "Job" and not selects(w["spec"]["selector"]["matchLabels"], labels):
                err(w, "selector does not match its own pod template")
            sa = spec.get("serviceAccountName")
            if sa and sa not in accounts:
                err(w, f"serviceAccountName {sa} is not rendered")
            for c in spec["containers"]:
                for src in c.get("envFrom", []):
                    cm = (src.get("configMapRef") or {}).get("name")
                    if cm and cm not in configmaps:
                        err(w, f"envFrom ConfigMap {cm} is not rendered")
                ports = {p["name"] for p in c.get("ports", [])}
                for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                    port = ((c.get(probe) or {}).get("httpGet") or {}).get("port")
                    if isinstance(port, str) and port not in ports:
                        err(w, f"{probe} uses port {port}, which the container does not declare")
                if w["kind"] != "Job":
                    for probe in ("livenessProbe", "readinessProbe"):
                        if probe not in c:
                            err(w, f"container {c['name']} has no {probe}")
        for svc in services.values():
            s.checked += 1
            selector = svc["spec"].get("selector") or {}
            backing = [tpl for _, tpl in pods if selects(selector, tpl["metadata"].get("labels", {}))]
            if not backing:
                err(svc, "selects no pods")
            for port in svc["spec"]["ports"]:
                target = port.get("targetPort")
                if isinstance(target, str) and not any(
                    target in {p["name"] for c in tpl["spec"]["containers"] for p in c.get("ports", [])}
                    for tpl in backing
                ):
                    err(svc, f"targetPort {target} is not a container port of the selected pods")
        for ro in r.kinds("Rollout"):
            s.checked += 1
            strategy = ro["spec"]["strategy"]
            analyses = []
            if "canary" in strategy:
                analyses.append(strategy["canary"].get("analysis"))
            if "blueGreen" in strategy:
                bg = strategy["blueGreen"]
                for key in ("activeService", "previewService"):
                    if bg.get(key) not in services:
                        err(ro, f"{key} {bg.get(key)} is not rendered")
                analyses += [bg.get("prePromotionAnalysis"), bg.get("postPromotionAnalysis")]
            for analysis in filter(None, analyses):
                given = {a["name"] for a in analysis.get("args", [])}
                for ref in analysis["templates"]:
                    t = templates.get(ref["templateName"])
                    if t is None:
                        err(ro, f"AnalysisTemplate {ref['templateName']} is not rendered")
                        continue
                    declared = {a["name"] for a in t["spec"].get("args", [])}
                    needed = {a["name"] for a in t["spec"].get("args", []) if "value" not in a and "valueFrom" not in a}
                    if needed - given:
                        err(ro, f"{t['metadata']['name']} needs args {sorted(needed - given)}")
                    if given - declared:
                        err(ro, f"passes args {sorted(given - declared)} that {t['metadata']['name']} does not declare")
        for t in templates.values():
            s.checked += 1
            declared = {a["name"] for a in t["spec"].get("args", [])}
            used = set(re.findall(r"\{\{\s*args\.([A-Za-z0-9_-]+)\s*\}\}", json.dumps(t["spec"])))
            if used - declared:
                err(t, f"uses undeclared args {sorted(used - declared)}")
        for hpa in r.kinds("HorizontalPodAutoscaler"):
            s.checked += 1
            ref = hpa["spec"]["scaleTargetRef"]
            if not any(w["kind"] == ref["kind"] and w["metadata"]["name"] == ref["name"] for w in workloads):
                err(hpa, f"scaleTargetRef {ref['kind']}/{ref['name']} is not rendered")
            if any(w["metadata"]["name"] == ref["name"] and "replicas" in w["spec"] for w in workloads):
                err(hpa, "its target also sets spec.replicas (the two would fight)")
        for pdb in r.kinds("PodDisruptionBudget"):
            s.checked += 1
            if not any(selects(pdb["spec"]["selector"]["matchLabels"], tpl["metadata"].get("labels", {})) for _, tpl in pods):
                err(pdb, "selects no pods")
        for ing in r.kinds("Ingress"):
            s.checked += 1
            for rule in ing["spec"].get("rules", []):
                for p in rule["http"]["paths"]:
                    backend = p["backend"]["service"]
                    svc = services.get(backend["name"])
                    if svc is None:
                        err(ing, f"backend service {backend['name']} is not rendered")
                    elif backend["port"].get("name") not in {pt.get("name") for pt in svc["spec"]["ports"]} and \
                            backend["port"].get("number") not in {pt["port"] for pt in svc["spec"]["ports"]}:
                        err(ing, f"backend port {backend['port']} is not a port of {backend['name']}")
        for sm in r.kinds("ServiceMonitor"):
            s.checked += 1
            matched = [svc for svc in services.values()
                       if selects(sm["spec"]["selector"].get("matchLabels", {}), svc["metadata"].get("labels", {}))]
            if len(matched) != 1:
                err(sm, f"selects {len(matched)} services (want exactly 1)")
            for ep in sm["spec"]["endpoints"]:
                if matched and ep.get("port") not in {p["name"] for p in matched[0]["spec"]["ports"]}:
                    err(sm, f"endpoint port {ep.get('port')} is not a port of {matched[0]['metadata']['name']}")
        for np in r.kinds("NetworkPolicy"):
            s.checked += 1
            sel = np["spec"]["podSelector"].get("matchLabels", {})
            if not any(selects(sel, tpl["metadata"].get("labels", {})) for _, tpl in pods):
                err(np, "selects no pods")
        # Every pod of the release is covered by the default-deny policy when policies are on.
        if r.kinds("NetworkPolicy"):
            deny = [np for np in r.kinds("NetworkPolicy") if not np["spec"].get("ingress") and not np["spec"].get("egress")
                    and set(np["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}]
            for w, tpl in pods:
                if not any(selects(np["spec"]["podSelector"].get("matchLabels", {}), tpl["metadata"].get("labels", {}))
                           for np in deny):
                    err(w, "pods are not covered by a default-deny NetworkPolicy")
        # Services that call each other over gRPC must be able to reach each other.
        for w, tpl in pods:
            if w["kind"] == "Job":
                continue
            cm = configmaps.get(w["metadata"]["name"], {}).get("data", {})
            for key, url in cm.items():
                m = re.match(r"^MARQUEE_[A-Z_]+_URL$", key) and re.match(r"^https?://([a-z0-9-]+):(\d+)$", url)
                if not m:
                    continue
                target = services.get(m.group(1))
                if target is None:
                    err(w, f"{key} points at {m.group(1)}, which is not rendered")
                elif int(m.group(2)) not in {p["port"] for p in target["spec"]["ports"]}:
                    err(w, f"{key} uses port {m.group(2)}, not a port of {m.group(1)}")
        # Mutual TLS: pods mount the Secret of a rendered Certificate (a directory, never
        # subPath, so renewals reach them), the MARQUEE_TLS__*_FILE paths lie in that
        # mount, and every https URL's host is one of the callee's certificate names.
        certificates = {c["spec"]["secretName"]: c for c in r.kinds("Certificate")}
        issuers = named("Issuer")
        for c in r.kinds("Certificate"):
            s.checked += 1
            ref = c["spec"]["issuerRef"]
            if ref.get("kind", "Issuer") == "Issuer" and ref["name"] not in issuers and \
                    not (r.values.get("tls") or {}).get("issuerRef", {}).get("name"):
                err(c, f"issuerRef {ref['name']} is not a rendered Issuer")
        for iss in issuers.values():
            secret = (iss["spec"].get("ca") or {}).get("secretName")
            if secret and secret not in certificates:
                err(iss, f"CA secret {secret} is made by no rendered Certificate")
        for w, tpl in pods:
            if w["kind"] == "Job":
                continue
            spec = tpl["spec"]
            cm = configmaps.get(w["metadata"]["name"], {}).get("data", {})
            tls_volumes = {v["name"]: v["secret"]["secretName"] for v in spec.get("volumes", [])
                           if "secret" in v and v["secret"]["secretName"] in certificates}
            mounts = {m["mountPath"]: m for c in spec["containers"] for m in c.get("volumeMounts", [])
                      if m["name"] in tls_volumes}
            for m in mounts.values():
                if m.get("subPath") or m.get("subPathExpr"):
                    err(w, f"TLS volume {m['name']} is mounted with subPath: renewals would never reach the pod")
                if not m.get("readOnly"):
                    err(w, f"TLS volume {m['name']} is not mounted read-only")
            if cm.get("MARQUEE_TLS__ENABLED") == "true":
                for key in ("MARQUEE_TLS__CERT_FILE", "MARQUEE_TLS__KEY_FILE", "MARQUEE_TLS__CA_FILE"):
                    path = cm.get(key, "")
                    if not any(path.startswith(mount.rstrip("/") + "/") for mount in mounts):
                        err(w, f"{key}={path!r} is not in a mounted Certificate Secret")
            for key, url in cm.items():
                m = re.match(r"^MARQUEE_[A-Z_]+_URL$", key) and re.match(r"^https://([a-z0-9-]+):(\d+)$", url)
                if not m:
                    continue
                if cm.get("MARQUEE_TLS__ENABLED") != "true":
                    err(w, f"{key} is https but the service has no TLS settings")
                if m.group(1) not in {n for c in r.kinds("Certificate") for n in c["spec"].get("dnsNames", [])}:
                    err(w, f"{key}: no Certificate names {m.group(1)} (the caller checks the name)")


# ---------------------------------------------------------------------------------------
# Contracts: the chart, the release workflows and the code agree (docs/deploy.md,
# "Contract checks")

CALLERS_RS = ROOT / "services" / "marquee" / "src" / "lib.rs"
SETTINGS_MANIFEST = HERE / "settings-manifest.json"
WORKFLOWS = ROOT / ".github" / "workflows"
# Never on the public edge: the admin endpoints (the gateway's HTTP port does not serve
# them, but a route must not even try).
PRIVATE_PATHS = ("/metrics", "/healthz", "/readyz", "/livez")
# Read by the tracing / OpenTelemetry SDK, not by a service's settings.
SDK_ENV = {"RUST_LOG", "OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT"}
# Services the chart has off by default on purpose (each needs cluster-wide set-up
# first), though services/marquee SERVICES lists them (they sign their calls).
OFF_BY_DEFAULT = {"tenant-operator": "needs its CRD and cluster-wide RBAC: opt-in (docs/ops/tenants.md)"}
# Edges of services that run only in a cluster, never in services/marquee's in-process
# fleet, so CALLERS need not list them: the tenant operator syncs tenants to auth.
CLUSTER_ONLY_EDGES = {("tenant-operator", "auth")}


def code_edges() -> tuple[set[tuple[str, str]], list[str]]:
    """(caller, callee) pairs of services/marquee/src/lib.rs `CALLERS`, and `SERVICES`."""
    text = CALLERS_RS.read_text()
    m = re.search(r"pub const CALLERS\s*:[^=]*=\s*\[(.*?)\];", text, re.S)
    if not m:
        raise ValueError(f"{rel(CALLERS_RS)}: no `pub const CALLERS` found")
    edges = set()
    for callee, callers in re.findall(r'\(\s*"([a-z-]+)"\s*,\s*&\[([^\]]*)\]\s*,?\s*\)', m.group(1)):
        for caller in re.findall(r'"([a-z-]+)"', callers):
            edges.add((caller, callee))
    if not edges:
        raise ValueError(f"{rel(CALLERS_RS)}: CALLERS parsed to no edges")
    m = re.search(r"pub const SERVICES\s*:[^=]*=\s*\[(.*?)\];", text, re.S)
    services = re.findall(r'"([a-z-]+)"', m.group(1)) if m else []
    return edges, services


@functools.lru_cache(maxsize=None)
def chart_defaults() -> dict[str, Any]:
    return load_yaml(CHART / "values.yaml")


def resolved_services(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """services.* merged over serviceDefaults, as marquee.resolveServices does."""
    merged = deep_merge(chart_defaults(), values)
    out = {}
    for name, entry in (merged.get("services") or {}).items():
        svc = deep_merge(merged.get("serviceDefaults") or {}, entry or {})
        svc.setdefault("binary", f"marquee-{name}")
        svc["binary"] = svc["binary"] or f"marquee-{name}"
        out[name] = svc
    return out


def env_name(service: str) -> str:
    return service.upper().replace("-", "_")


def policy_allows(np: dict[str, Any], direction: str, component: str, port: int) -> bool:
    """Does NetworkPolicy `np` allow `direction` (ingress/egress) to/from the pods of
    `component` (a podSelector peer in the namespace) on TCP `port`?"""
    peer_key = "from" if direction == "ingress" else "to"
    for rule in np["spec"].get(direction) or []:
        peers = rule.get(peer_key) or []
        if not any((p.get("podSelector") or {}).get("matchLabels", {}).get("app.kubernetes.io/component") == component
                   and "namespaceSelector" not in p and "ipBlock" not in p for p in peers):
            continue
        if any(pt.get("port") == port for pt in rule.get("ports") or []):
            return True
    return False


@section("contracts")
def check_contracts(s: Section, renders: list[Render]) -> None:
    edges, code_services = code_edges()
    s.note(f"CALLERS: {sorted(edges)}")
    edges = edges | CLUSTER_ONLY_EDGES
    by_name = {r.name: r for r in renders}
    defaults = by_name.get("defaults")
    if defaults is None:
        s.error("the default values did not render: the contracts cannot be checked")
        return
    # All services on by default, and the default edge is an HTTPRoute.
    default_services = resolved_services(defaults.values)
    for name in code_services:
        s.checked += 1
        if name in OFF_BY_DEFAULT:
            if (default_services.get(name) or {}).get("enabled"):
                s.error(f"services.{name} is enabled by default, but it must stay opt-in: {OFF_BY_DEFAULT[name]}")
            continue
        if not (default_services.get(name) or {}).get("enabled"):
            s.error(f"services.{name} is not enabled by default (the fleet has it: services/marquee SERVICES)")
    if not defaults.kinds("HTTPRoute"):
        s.error("the default values render no HTTPRoute: Gateway API is the default edge")
    if defaults.kinds("Ingress"):
        s.error("the default values render an Ingress: ingress-nginx is opt-in only")

    for r in renders:
        svcs = resolved_services(r.values)
        enabled = {n: v for n, v in svcs.items() if v.get("enabled")}
        prefix = (r.values.get("fullnameOverride") or RELEASE)[:40].rstrip("-")
        configmaps = {o["metadata"]["name"]: o.get("data") or {} for o in r.kinds("ConfigMap")}
        services = {o["metadata"]["name"]: o for o in r.kinds("Service")}
        policies = {o["metadata"]["name"]: o for o in r.kinds("NetworkPolicy")}
        policies_on = bool(policies)

        def err(msg: str) -> None:
            s.error(f"[{r.name}] {msg}")

        # (a) Every edge the code has is a `calls` entry, a URL at the headless Service and
        # an open NetworkPolicy path; every `calls` entry is an edge the code has.
        for caller, callee in sorted(edges):
            if caller not in enabled or callee not in enabled:
                continue
            s.checked += 1
            if callee not in (enabled[caller].get("calls") or []):
                err(f"{caller} calls {callee} (CALLERS in {rel(CALLERS_RS)}) but services.{caller}.calls lacks it")
                continue
            key = f"MARQUEE_{env_name(caller)}_{env_name(callee)}_URL"
            url = configmaps.get(f"{prefix}-{caller}", {}).get(key)
            headless = f"{prefix}-{callee}-headless"
            m = re.match(r"^https?://([a-z0-9-]+):(\d+)$", url or "")
            if not m:
                err(f"{caller}: {key} is not set to a service URL (got {url!r})")
            elif enabled[callee].get("protocol") == "grpc":
                if m.group(1) != headless:
                    err(f"{caller}: {key} points at {m.group(1)}, not the headless Service {headless}")
                h = services.get(headless)
                if h is None:
                    err(f"{headless} (headless Service of {callee}) is not rendered")
                elif h["spec"].get("clusterIP") != "None" or h["spec"].get("publishNotReadyAddresses", False):
                    err(f"{headless}: want clusterIP: None and publishNotReadyAddresses: false")
            if policies_on:
                port = enabled[callee].get("port")
                if not policy_allows(policies.get(f"{prefix}-{callee}", {"spec": {}}), "ingress", caller, port):
                    err(f"NetworkPolicy {prefix}-{callee} does not admit {caller} on port {port}")
                if not policy_allows(policies.get(f"{prefix}-{caller}", {"spec": {}}), "egress", callee, port):
                    err(f"NetworkPolicy {prefix}-{caller} does not let {caller} reach {callee}:{port}")
        for caller, svc in enabled.items():
            for callee in svc.get("calls") or []:
                s.checked += 1
                if (caller, callee) not in edges:
                    err(f"services.{caller}.calls names {callee}, an edge the code does not have (CALLERS): it opens a path nobody uses")

        # Cluster profile and drain on every long-running pod.
        for w in r.kinds("Deployment", "Rollout"):
            s.checked += 1
            name = w["metadata"]["name"]
            service = name[len(prefix) + 1:]
            if configmaps.get(name, {}).get("MARQUEE_PROFILE") != "cluster":
                err(f"{describe(w)}: MARQUEE_PROFILE is not cluster in its ConfigMap")
            spec = w["spec"]["template"]["spec"]
            drain = (svcs.get(service) or {}).get("drain") or {}
            for c in spec["containers"]:
                sleep = (((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds")
                if not isinstance(sleep, int) or sleep <= 0:
                    err(f"{describe(w)}: container {c['name']} has no lifecycle.preStop.sleep drain")
                    continue
                grace = spec.get("terminationGracePeriodSeconds", 30)
                if grace <= sleep + int(drain.get("shutdownSeconds", 0)):
                    err(f"{describe(w)}: terminationGracePeriodSeconds {grace} does not cover the drain "
                        f"({sleep}s) plus shutdown ({drain.get('shutdownSeconds')}s)")

        # The public edge: only public paths, only the gateway's HTTP port.
        for route in r.kinds("HTTPRoute"):
            s.checked += 1
            for rule in route["spec"].get("rules") or []:
                for match in rule.get("matches") or [{}]:
                    path = match.get("path") or {"type": "PathPrefix", "value": "/"}
                    value = path.get("value", "/")
                    if path.get("type") == "RegularExpression":
                        err(f"{describe(route)}: regular-expression paths are not allowed on the edge")
                    if path.get("type") == "PathPrefix" and value.rstrip("/") == "":
                        err(f"{describe(route)}: PathPrefix / routes everything, /metrics included")
                    if any(value == p or value.startswith(p + "/") for p in PRIVATE_PATHS):
                        err(f"{describe(route)}: routes {value}, an admin path")
                for ref in rule.get("backendRefs") or []:
                    svc = services.get(ref["name"])
                    if svc is None:
                        err(f"{describe(route)}: backend {ref['name']} is not rendered")
                        continue
                    port = next((p for p in svc["spec"]["ports"] if p["port"] == ref.get("port")), None)
                    if port is None or port.get("name") != "http":
                        err(f"{describe(route)}: backend {ref['name']}:{ref.get('port')} is not the gateway's http port")
        for ing in r.kinds("Ingress"):
            s.checked += 1
            for rule in ing["spec"].get("rules", []):
                for p in rule["http"]["paths"]:
                    if p.get("pathType") in ("Prefix", "ImplementationSpecific") and p["path"].rstrip("/") == "":
                        err(f"{describe(ing)}: Prefix / routes everything, /metrics included")
                    if any(p["path"] == q or p["path"].startswith(q + "/") for q in PRIVATE_PATHS):
                        err(f"{describe(ing)}: routes {p['path']}, an admin path")
                    if p["backend"]["service"]["port"].get("name") != "http":
                        err(f"{describe(ing)}: backend port {p['backend']['service']['port']} is not http")

        # HTTP canaries get their traffic share from the Gateway API plugin.
        routes = {o["metadata"]["name"]: o for o in r.kinds("HTTPRoute")}
        for ro in r.kinds("Rollout"):
            canary = ro["spec"]["strategy"].get("canary")
            port_names = {p["name"] for c in ro["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
            if canary is None or "http" not in port_names or not routes:
                continue
            s.checked += 1
            plugin = ((canary.get("trafficRouting") or {}).get("plugins") or {}).get("argoproj-labs/gatewayAPI")
            if not plugin:
                err(f"{describe(ro)}: an HTTP canary without Gateway API traffic routing gets traffic by pod count only")
                continue
            route = routes.get(plugin.get("httpRoute"))
            if route is None:
                err(f"{describe(ro)}: trafficRouting names HTTPRoute {plugin.get('httpRoute')}, which is not rendered")
                continue
            for rule in route["spec"]["rules"]:
                names = {b["name"] for b in rule.get("backendRefs") or []}
                for key in ("stableService", "canaryService"):
                    if canary.get(key) not in names:
                        err(f"{describe(route)}: a rule lacks the Rollout's {key} {canary.get(key)}")
                    if canary.get(key) not in services:
                        err(f"{describe(ro)}: {key} {canary.get(key)} is not rendered")

        # Analyses fail on no data.
        for t in r.kinds("AnalysisTemplate"):
            for metric in t["spec"]["metrics"]:
                query = ((metric.get("provider") or {}).get("prometheus") or {}).get("query", "")
                if not query:
                    continue
                s.checked += 1
                if re.search(r"or\s+on\s*\(\s*\)\s+vector\(\s*1\s*\)", query):
                    err(f"{describe(t)} {metric['name']}: `or on() vector(1)` makes no data a pass")
                if metric["name"] in ("success-rate", "latency-p99"):
                    if not re.search(r"and on\(\) sum\(increase\([a-z_]+_total\{.*?\}\[[^\]]+\]\)\) >= \d+ or on\(\) vector\(-1\)$", query):
                        err(f"{describe(t)} {metric['name']}: no minimum-request guard answering -1 on no data")
                    if "isNaN" in metric.get("successCondition", ""):
                        err(f"{describe(t)} {metric['name']}: isNaN in the success condition makes no data a pass")

    check_settings_manifest(s, renders)
    check_release_contract(s, renders)
    check_tenant_operator(s, renders)


def check_settings_manifest(s: Section, renders: list[Render]) -> None:
    """(c) every variable the chart sets is read by the service, and every variable the
    cluster profile requires is set (deploy/check/settings-manifest.json, generated from
    the services' settings)."""
    if not SETTINGS_MANIFEST.exists():
        s.note(f"{rel(SETTINGS_MANIFEST)} is absent: the env-var contract is not checked")
        return
    manifest = json.loads(SETTINGS_MANIFEST.read_text()).get("services") or {}
    if not manifest:
        s.error(f"{rel(SETTINGS_MANIFEST)}: no services")
        return

    def aliases(service: str, var: str) -> set[str]:
        """MARQUEE_X and MARQUEE_<SERVICE>_X are the same setting for that service."""
        own = f"MARQUEE_{env_name(service)}_"
        if var.startswith(own):
            return {var, "MARQUEE_" + var[len(own):]}
        if var.startswith("MARQUEE_"):
            return {var, own + var[len("MARQUEE_"):]}
        return {var}

    for r in renders:
        prefix = (r.values.get("fullnameOverride") or RELEASE)[:40].rstrip("-")
        configmaps = {o["metadata"]["name"]: o.get("data") or {} for o in r.kinds("ConfigMap")}
        for w in r.kinds("Deployment", "Rollout"):
            service = w["metadata"]["name"][len(prefix) + 1:]
            spec = manifest.get(service)
            if spec is None:
                continue
            s.checked += 1
            read = set(spec.get("env") or [])
            prefixes = tuple(spec.get("env_prefixes") or [])
            c = w["spec"]["template"]["spec"]["containers"][0]
            image = c["image"].split("@")[0].rsplit(":", 1)[0].rsplit("/", 1)[-1]
            if spec.get("binary") and image != spec["binary"]:
                s.error(f"[{r.name}] {describe(w)}: runs {image}, the manifest says {spec['binary']}")
            set_vars = set(configmaps.get(w["metadata"]["name"], {}))
            set_vars |= {e["name"] for e in c.get("env") or [] if "value" in e or "secretKeyRef" in (e.get("valueFrom") or {})}
            for var in sorted(set_vars - SDK_ENV):
                names = aliases(service, var)
                if not (names & read) and not any(n.startswith(prefixes) for n in names if prefixes):
                    s.error(f"[{r.name}] {service}: the chart sets {var}, which {service}'s settings never read")
            for req in spec.get("required_in_cluster") or []:
                # A list is alternatives: any one of them will do.
                options = req if isinstance(req, list) else [req]
                var = options[0]
                if not any(aliases(service, v) & set_vars for v in options):
                    s.error(f"[{r.name}] {service}: the cluster profile requires {var}, which the chart does not set "
                            f"(a ConfigMap key or a secretKeyRef; envFrom Secrets are not counted)")


def job_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [st for st in job.get("steps") or [] if isinstance(st, dict)]


def check_release_contract(s: Section, renders: list[Render]) -> None:
    """(b) release.yml builds, scans, signs and pushes every image the chart runs, from a
    matrix generated from the chart; deploy.yml and terraform.yml deploy safely."""
    sys.path.insert(0, str(HERE))
    import release_matrix

    release_path = WORKFLOWS / "release.yml"
    release = load_yaml(release_path)
    jobs = release.get("jobs") or {}
    generated = release_matrix.matrix([CHART / "values.yaml", CHART / "values-production.yaml"])["include"]
    built = {e["binary"] for e in generated}
    s.checked += 1
    # The workflow names today's images in a comment (readers and greps find them); it
    # must say what the generator builds.
    listed = re.search(r"^\s*# images: (.*)$", release_path.read_text(), re.M)
    if not listed or set(listed.group(1).split()) != built:
        s.error(f"{rel(release_path)}: the '# images:' comment must list exactly {' '.join(sorted(built))}")
    # The generator agrees with the rendered chart: every image a workload or a
    # migration hook of any value set runs is built (a service off by default, such as
    # the tenant operator, through build.always), and nothing is built that the chart
    # neither enables nor marks build.always.
    shipped = resolved_services(load_yaml(CHART / "values-production.yaml") or {})
    for e in generated:
        svc = shipped.get(e["service"]) or {}
        if not svc.get("enabled") and not (svc.get("build") or {}).get("always"):
            s.error(f"release matrix: {e['binary']} is built, but services.{e['service']} is neither enabled nor build.always")
    for name, svc in sorted(shipped.items()):
        if (svc.get("build") or {}).get("always") and svc["binary"] not in built:
            s.error(f"release matrix: services.{name} has build.always but {svc['binary']} is not in the matrix")
    for r in renders:
        name = r.name
        for w in r.kinds("Deployment", "Rollout", "Job"):
            for c in w["spec"]["template"]["spec"]["containers"]:
                binary = c["image"].split("@")[0].rsplit(":", 1)[0].rsplit("/", 1)[-1]
                if binary not in built:
                    s.error(f"[{name}] {describe(w)} runs {binary}, which release.yml's generated matrix does not build")
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", (ROOT / "deploy" / "Dockerfile").read_text(), re.M | re.I))
    for e in generated:
        if e["target"] not in stages:
            s.error(f"release matrix: {e['binary']} target {e['target']} is not a deploy/Dockerfile stage")
    generator = [n for n, j in jobs.items()
                 if any("release_matrix.py" in str(st.get("run", "")) for st in job_steps(j))]
    if not generator:
        s.error(f"{rel(release_path)}: no job runs deploy/check/release_matrix.py (the matrix must come from the chart)")
    for n, j in jobs.items():
        m = (j.get("strategy") or {}).get("matrix")
        uses_matrix = re.search(r"\$\{\{\s*matrix\.", json.dumps(j)) is not None
        if uses_matrix and not (isinstance(m, str) and re.search(r"fromJSON\(needs\.[a-z_-]+\.outputs\.matrix\)", m)):
            s.error(f"{rel(release_path)}: job {n} has a hand-written matrix; use ${{{{ fromJSON(needs.<generator>.outputs.matrix) }}}}")
    images = next((j for j in jobs.values() if any("docker/build-push-action" in str(st.get("uses", "")) for st in job_steps(j))), None)
    if images is None:
        s.error(f"{rel(release_path)}: no job builds images (docker/build-push-action)")
        return
    steps = job_steps(images)
    build = next(st for st in steps if "docker/build-push-action" in str(st.get("uses", "")))
    w = build.get("with") or {}
    if str(w.get("sbom")).lower() != "true":
        s.error(f"{rel(release_path)}: the image build must attach an SBOM (sbom: true)")
    if "mode=max" not in str(w.get("provenance")):
        s.error(f"{rel(release_path)}: the image build must attach provenance (provenance: mode=max)")
    if (images.get("permissions") or {}).get("id-token") != "write":
        s.error(f"{rel(release_path)}: the image job needs id-token: write (cosign keyless signing)")
    if not any("sigstore/cosign-installer" in str(st.get("uses", "")) for st in steps) or \
            not any(re.search(r"\bcosign sign\b", str(st.get("run", ""))) for st in steps):
        s.error(f"{rel(release_path)}: images must be signed (sigstore/cosign-installer and cosign sign)")
    trivy = [st for st in steps if "aquasecurity/trivy-action" in str(st.get("uses", ""))]
    if not trivy or "CRITICAL" not in str((trivy[0].get("with") or {}).get("severity")) or \
            str((trivy[0].get("with") or {}).get("exit-code")) != "1":
        s.error(f"{rel(release_path)}: a Trivy scan must fail the release on CRITICAL findings (severity CRITICAL, exit-code 1)")
    packaging = [(n, j) for n, j in jobs.items() if any("helm package" in str(st.get("run", "")) for st in job_steps(j))]
    if not packaging:
        s.error(f"{rel(release_path)}: no job packages the chart")
    for n, j in packaging:
        runs = [str(st.get("run", "")) for st in job_steps(j)]
        pkg = next(i for i, run in enumerate(runs) if "helm package" in run)
        if not any(".image.digest" in run for run in runs[:pkg]):
            s.error(f"{rel(release_path)}: job {n} packages the chart without writing services.<name>.image.digest first")
    for n, j in jobs.items():
        for st in job_steps(j):
            run = str(st.get("run", ""))
            if "gh api --method DELETE" in run and "manifests[]" not in run:
                s.error(f"{rel(release_path)}: job {n} deletes untagged versions without sparing the attestation "
                        "manifests kept indexes reference")

    # deploy.yml: staging on every release, production behind its environment; Helm atomic.
    deploy_path = WORKFLOWS / "deploy.yml"
    s.checked += 1
    if not deploy_path.exists():
        s.error(".github/workflows/deploy.yml is missing")
    else:
        deploy = load_yaml(deploy_path)
        on = deploy.get(True, deploy.get("on")) or {}
        if "release" not in json.dumps(on.get("workflow_run") or on.get("release") or {}):
            s.error(f"{rel(deploy_path)}: must run on every release (workflow_run of release, or release)")
        djobs = deploy.get("jobs") or {}
        for env in ("staging", "production"):
            job = next((j for j in djobs.values() if (j.get("environment") if isinstance(j.get("environment"), str)
                        else (j.get("environment") or {}).get("name")) == env), None)
            if job is None:
                s.error(f"{rel(deploy_path)}: no job deploys to the {env} environment")
                continue
            runs = " ".join(str(st.get("run", "")) for st in job_steps(job))
            for flag in ("helm upgrade --install", "--atomic", "--wait"):
                if flag not in runs:
                    s.error(f"{rel(deploy_path)}: the {env} deploy lacks `{flag}`")
        prod = next((n for n, j in djobs.items() if j.get("environment") == "production"), None)
        stag = next((n for n, j in djobs.items() if j.get("environment") == "staging"), None)
        if prod and stag and stag not in (djobs[prod].get("needs") or []):
            s.error(f"{rel(deploy_path)}: production must need the staging deploy")

    # terraform.yml: plan on PRs, apply on main behind the environment, one concurrency
    # group per environment.
    tf_path = WORKFLOWS / "terraform.yml"
    s.checked += 1
    if not tf_path.exists():
        s.error(".github/workflows/terraform.yml is missing")
    else:
        tf = load_yaml(tf_path)
        on = tf.get(True, tf.get("on")) or {}
        if "pull_request" not in on:
            s.error(f"{rel(tf_path)}: must plan on pull requests")
        tjobs = tf.get("jobs") or {}
        for n, j in tjobs.items():
            group = str((j.get("concurrency") or {}).get("group", "") if isinstance(j.get("concurrency"), dict) else j.get("concurrency", ""))
            if "environment" not in group:
                s.error(f"{rel(tf_path)}: job {n} needs a per-environment concurrency group")
            if isinstance(j.get("concurrency"), dict) and j["concurrency"].get("cancel-in-progress"):
                s.error(f"{rel(tf_path)}: job {n} must not cancel a running plan/apply")
        applies = [j for j in tjobs.values() if any("terraform apply" in str(st.get("run", "")) for st in job_steps(j))]
        if not applies:
            s.error(f"{rel(tf_path)}: no job applies")
        for j in applies:
            if not j.get("environment") or "main" not in str(j.get("if", "")):
                s.error(f"{rel(tf_path)}: apply must run on main only and behind an environment")

    # Base images pinned by digest: a job lists deploy/Dockerfile's bases with
    # base_images.py (every *_IMAGE build arg; the docker section checks that every FROM
    # is one of them or an earlier stage), resolves each tag to its digest with
    # `docker buildx imagetools inspect` or `crane digest`, and the image job passes its
    # output as build-args — so every ARG is passed, by construction, and none by hand.
    import base_images

    bases = base_images.parse((ROOT / "deploy" / "Dockerfile").read_text())
    s.checked += 1
    resolvers = [n for n, j in jobs.items()
                 if any("base_images.py" in str(st.get("run", ""))
                        and re.search(r"imagetools inspect|crane digest", str(st.get("run", "")))
                        and "pipefail" in str(st.get("run", "")) for st in job_steps(j))]
    images_job = next(n for n, j in jobs.items() if j is images)
    build_args = str(w.get("build-args", ""))
    needs = images.get("needs") or []
    needs = [needs] if isinstance(needs, str) else list(needs)
    if not resolvers:
        s.error(f"{rel(release_path)}: no job resolves deploy/Dockerfile's base images to digests (a `set -o pipefail` "
                "step running deploy/check/base_images.py and `docker buildx imagetools inspect` or `crane digest`)")
    elif not any(n in needs and any(re.search(rf"needs\.{re.escape(n)}\.outputs\.{re.escape(str(o))}\b", build_args)
                                    for o in (jobs[n].get("outputs") or {}))
                 for n in resolvers):
        s.error(f"{rel(release_path)}: job {images_job} must need {resolvers[0]} and pass its resolved base digests "
                f"as build-args (${{{{ needs.{resolvers[0]}.outputs.<output> }}}})")
    for arg in bases.images:
        if re.search(rf"^\s*{re.escape(arg)}=", build_args, re.M):
            s.error(f"{rel(release_path)}: job {images_job} sets build-arg {arg} by hand; it must be the resolved digest")


# The tenant operator (services/tenant-operator): least-privilege RBAC derived from the
# code, its leader-election Lease Role, its env, a plain Deployment with 2+ replicas.

OPERATOR = "tenant-operator"
OPERATOR_RESOURCES_RS = ROOT / "services" / "tenant-operator" / "src" / "domain" / "resources.rs"
# (apiGroup, resource) → the verbs the operator's code uses (values.yaml names where).
OPERATOR_VERBS: dict[tuple[str, str], set[str]] = {
    ("marquee.dev", "tenants"): {"list", "watch", "patch"},
    ("marquee.dev", "tenants/status"): {"patch"},
    ("", "namespaces"): {"list", "watch", "create", "patch", "delete"},
    ("", "resourcequotas"): {"list", "watch", "create", "patch"},
    ("networking.k8s.io", "networkpolicies"): {"list", "watch", "create", "patch"},
    ("", "limitranges"): {"create", "patch"},
    ("rbac.authorization.k8s.io", "roles"): {"create", "patch"},
    ("rbac.authorization.k8s.io", "rolebindings"): {"create", "patch"},
    ("events.k8s.io", "events"): {"create", "patch"},
}
# kube-lease-manager in the release namespace.
LEASE_VERBS = {"get", "create", "patch"}
OPERATOR_ENV = ("MARQUEE_TENANT_OPERATOR_RELEASE_NAMESPACE", "MARQUEE_TENANT_OPERATOR_FLEET_PORTS",
                "MARQUEE_TENANT_OPERATOR_AUTH_URL", "MARQUEE_TENANT_OPERATOR_LEASE__NAMESPACE",
                "MARQUEE_ADMIN_ADDR", "MARQUEE_PROFILE")


def tenant_admin_grants() -> dict[tuple[str, str], set[str]]:
    """What the tenant-admin Role the operator applies grants (`read_only(group, &[…])` in
    resources.rs): RBAC escalation prevention requires the operator to hold it too."""
    text = OPERATOR_RESOURCES_RS.read_text()
    fn = re.search(r"fn read_only\(.*?\n\}", text, re.S)
    verbs = set(re.findall(r'"([a-z]+)"', re.search(r"verbs:\s*\[([^\]]*)\]", fn.group(0)).group(1))) if fn else set()
    grants: dict[tuple[str, str], set[str]] = {}
    for group, resources in re.findall(r'read_only\(\s*"([^"]*)"\s*,\s*&\[([^\]]*)\]\s*\)', text):
        for resource in re.findall(r'"([a-z/]+)"', resources):
            grants.setdefault((group, resource), set()).update(verbs)
    if not grants or not verbs:
        raise ValueError(f"{rel(OPERATOR_RESOURCES_RS)}: no read_only(group, &[resources]) rules with verbs found")
    return grants


def rule_verbs(rules: list[dict[str, Any]]) -> tuple[dict[tuple[str, str], set[str]], list[str]]:
    """(apiGroup, resource) → verbs over `rules`, and the problems no map can hold."""
    out: dict[tuple[str, str], set[str]] = {}
    problems = []
    for rule in rules:
        for key in ("apiGroups", "resources", "verbs", "resourceNames"):
            if "*" in (rule.get(key) or []):
                problems.append(f"a rule has {key}: ['*']: {rule}")
        if rule.get("nonResourceURLs"):
            problems.append(f"a rule grants nonResourceURLs: {rule}")
        for group in rule.get("apiGroups") or []:
            for resource in rule.get("resources") or []:
                out.setdefault((group, resource), set()).update(rule.get("verbs") or [])
    return out, problems


def check_tenant_operator(s: Section, renders: list[Render]) -> None:
    allowed = dict(OPERATOR_VERBS)
    for key, verbs in tenant_admin_grants().items():
        allowed[key] = allowed.get(key, set()) | verbs
    rendered_somewhere = False
    for r in renders:
        svc = resolved_services(r.values).get(OPERATOR) or {}
        if not svc.get("enabled"):
            continue
        rendered_somewhere = True
        s.checked += 1
        prefix = (r.values.get("fullnameOverride") or RELEASE)[:40].rstrip("-")
        full = f"{prefix}-{OPERATOR}"

        def err(msg: str) -> None:
            s.error(f"[{r.name}] {OPERATOR}: {msg}")

        def one(kind: str, name: str) -> dict[str, Any] | None:
            found = [o for o in r.kinds(kind) if o["metadata"]["name"] == name]
            if not found:
                err(f"no {kind} {name}")
                return None
            return found[0]

        # Cluster-wide: exactly the verbs the code uses, plus what its tenant-admin Role
        # grants; never *, never leases (those live in the release namespace only).
        cluster_name = f"{NAMESPACE}-{full}"[:63].rstrip("-")
        role = one("ClusterRole", cluster_name)
        if role is not None:
            got, problems = rule_verbs(role.get("rules") or [])
            for p in problems:
                err(f"ClusterRole {cluster_name}: {p}")
            for (group, resource), verbs in sorted(got.items()):
                if resource.split("/")[0] == "leases" or group == "coordination.k8s.io":
                    err(f"ClusterRole {cluster_name} grants {group or 'core'}/{resource}: the Lease belongs in the "
                        "release namespace's Role")
                    continue
                extra = verbs - allowed.get((group, resource), set())
                if extra:
                    err(f"ClusterRole {cluster_name}: {group or 'core'}/{resource} verbs {sorted(extra)} are not used "
                        f"by the code (allowed: {sorted(allowed.get((group, resource), set()))})")
            for (group, resource), verbs in sorted(allowed.items()):
                missing = verbs - got.get((group, resource), set())
                if missing:
                    err(f"ClusterRole {cluster_name}: {group or 'core'}/{resource} lacks {sorted(missing)}, which the "
                        "code needs (or its tenant-admin Role grants: RBAC escalation prevention)")
        binding = one("ClusterRoleBinding", cluster_name)
        if binding is not None:
            if binding["roleRef"].get("kind") != "ClusterRole" or binding["roleRef"].get("name") != cluster_name:
                err(f"ClusterRoleBinding {cluster_name} does not bind ClusterRole {cluster_name}")
            if {"kind": "ServiceAccount", "name": full, "namespace": NAMESPACE} not in binding.get("subjects") or []:
                err(f"ClusterRoleBinding {cluster_name} does not name ServiceAccount {NAMESPACE}/{full}")

        # Leader election: a Role in the release namespace with get, create, patch on leases.
        lease_role = one("Role", full)
        if lease_role is not None:
            if lease_role["metadata"].get("namespace") != NAMESPACE:
                err(f"Role {full} is not in the release namespace")
            got, problems = rule_verbs(lease_role.get("rules") or [])
            for p in problems:
                err(f"Role {full}: {p}")
            leases = got.get(("coordination.k8s.io", "leases"), set())
            if leases != LEASE_VERBS:
                err(f"Role {full}: coordination.k8s.io/leases verbs {sorted(leases)}, want {sorted(LEASE_VERBS)}")
            if set(got) - {("coordination.k8s.io", "leases")}:
                err(f"Role {full} grants more than leases: {sorted(set(got) - {('coordination.k8s.io', 'leases')})}")
        lease_binding = one("RoleBinding", full)
        if lease_binding is not None and (
                lease_binding["roleRef"].get("kind") != "Role" or lease_binding["roleRef"].get("name") != full
                or {"kind": "ServiceAccount", "name": full, "namespace": NAMESPACE} not in lease_binding.get("subjects") or []):
            err(f"RoleBinding {full} does not bind Role {full} to ServiceAccount {NAMESPACE}/{full}")

        # A plain Deployment (no traffic to shift), 2+ replicas, its env and its token.
        workloads = [w for w in r.kinds("Deployment", "Rollout") if w["metadata"]["name"] == full]
        if not workloads:
            err(f"no Deployment {full}")
            continue
        w = workloads[0]
        if w["kind"] != "Deployment":
            err(f"{describe(w)}: must be a plain Deployment (leader election, no traffic for a canary to shift)")
        if int(w["spec"].get("replicas", 1)) < 2:
            err(f"{describe(w)}: replicas {w['spec'].get('replicas', 1)} < 2 (leader election keeps a standby)")
        pod = w["spec"]["template"]["spec"]
        c = pod["containers"][0]
        if c.get("args") != ["run"]:
            err(f"{describe(w)}: args {c.get('args')}, want [run] (marquee-tenant-operator run)")
        if any(p.get("name") in ("grpc", "http") for p in c.get("ports") or []):
            err(f"{describe(w)}: declares a grpc/http port; the operator serves only the admin port")
        cm = next((o.get("data") or {} for o in r.kinds("ConfigMap") if o["metadata"]["name"] == full), {})
        env = {e["name"]: e for e in c.get("env") or []}
        for var in OPERATOR_ENV:
            if var not in cm and var not in env:
                err(f"{describe(w)}: {var} is not set")
        for var in ("MARQUEE_TENANT_OPERATOR_RELEASE_NAMESPACE", "MARQUEE_TENANT_OPERATOR_LEASE__NAMESPACE"):
            if var in cm and cm[var] != NAMESPACE:
                err(f"{describe(w)}: {var}={cm[var]!r}, not the release namespace {NAMESPACE!r}")
        svcs = resolved_services(r.values)
        want_ports = {str(v["port"]) for n, v in svcs.items() if v.get("enabled") and (n == "gateway" or v.get("protocol") == "grpc")}
        if "MARQUEE_TENANT_OPERATOR_FLEET_PORTS" in cm and set(cm["MARQUEE_TENANT_OPERATOR_FLEET_PORTS"].split(",")) != want_ports:
            err(f"{describe(w)}: MARQUEE_TENANT_OPERATOR_FLEET_PORTS={cm['MARQUEE_TENANT_OPERATOR_FLEET_PORTS']!r}, "
                f"want the gateway's and gRPC ports {sorted(want_ports)}")
        if cm.get("MARQUEE_PROFILE") != "cluster":
            err(f"{describe(w)}: MARQUEE_PROFILE is not cluster")
        if ((env.get("POD_NAME") or {}).get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath") != "metadata.name":
            err(f"{describe(w)}: POD_NAME is not the Downward API's metadata.name")
        if "secretKeyRef" not in ((env.get("MARQUEE_IDENTITY__SIGNING_KEY") or {}).get("valueFrom") or {}):
            err(f"{describe(w)}: MARQUEE_IDENTITY__SIGNING_KEY is not read from its Secret (secretKeyRef)")
        if pod.get("automountServiceAccountToken") is not True:
            err(f"{describe(w)}: automountServiceAccountToken must be true (it calls the Kubernetes API)")
        sa = one("ServiceAccount", full)
        if sa is not None and sa.get("automountServiceAccountToken") is not True:
            err(f"ServiceAccount {full}: automountServiceAccountToken must be true")
        if svc.get("podDisruptionBudget", {}).get("enabled") and not any(
                selects(p["spec"]["selector"].get("matchLabels", {}), w["spec"]["template"]["metadata"]["labels"])
                for p in r.kinds("PodDisruptionBudget")):
            err(f"{describe(w)}: no PodDisruptionBudget selects its pods")
        # Signed identity: auth trusts its key when one is given.
        key = (r.values.get("identity") or {}).get("publicKeys", {}).get(OPERATOR)
        auth_cm = next((o.get("data") or {} for o in r.kinds("ConfigMap") if o["metadata"]["name"] == f"{prefix}-auth"), {})
        if key and auth_cm.get("MARQUEE_IDENTITY__TRUSTED__TENANT_OPERATOR") != key:
            err(f"ConfigMap {prefix}-auth does not trust the operator's key (MARQUEE_IDENTITY__TRUSTED__TENANT_OPERATOR)")
        # NetworkPolicy: egress to the Kubernetes API and to auth's gRPC port.
        policies = {o["metadata"]["name"]: o for o in r.kinds("NetworkPolicy")}
        if policies:
            np = policies.get(full)
            if np is None:
                err(f"no NetworkPolicy {full}")
            else:
                api_ports = set((deep_merge(chart_defaults(), r.values).get("networkPolicy") or {})
                                .get("destinations", {}).get("kubeApi", {}).get("ports") or [])
                egress_ports = {p.get("port") for rule in np["spec"].get("egress") or [] for p in rule.get("ports") or []}
                if not api_ports or not api_ports <= egress_ports:
                    err(f"NetworkPolicy {full}: no egress to the Kubernetes API (kubeApi ports {sorted(api_ports)})")
                auth = svcs.get("auth") or {}
                if auth.get("enabled") and not policy_allows(np, "egress", "auth", auth.get("port")):
                    err(f"NetworkPolicy {full}: no egress to auth:{auth.get('port')}")
    if not rendered_somewhere:
        s.error(f"no value set in deploy/check/values/ enables services.{OPERATOR}: its objects go unchecked")


# ---------------------------------------------------------------------------------------
# Self-test: the validators must reject known-bad manifests


@section("selftest")
def check_selftest(s: Section) -> None:
    validate = kube_validator()
    fixtures = sorted((HERE / "fixtures").glob("*.yaml"))
    if not fixtures:
        s.error("deploy/check/fixtures/ has no known-bad manifests")
    for path in fixtures:
        if path == CHART_CRD_EXAMPLES:
            continue  # valid on purpose (the chartcrds section)
        for obj in yaml.safe_load_all(path.read_text()):
            if not obj:
                continue
            s.checked += 1
            if (obj.get("apiVersion"), obj.get("kind")) in CUSTOM_KINDS:
                errors = crd_errors(obj)
            elif (obj.get("apiVersion"), obj.get("kind")) in chart_crd_validators():
                errors = chart_crd_errors(obj)
            else:
                errors = kube_errors(validate, obj)
            if not errors:
                s.error(f"{rel(path)}: {describe(obj)} was accepted, but it is invalid on purpose")


# ---------------------------------------------------------------------------------------
# checkov (runs in the background while the other sections work)


def start_checkov(renders: list[Render], workdir: Path) -> tuple[subprocess.Popen[bytes], Path] | None:
    exe = VENV / "bin" / "checkov"
    if not exe.exists():
        return None
    k8s = workdir / "checkov-manifests"
    k8s.mkdir(parents=True, exist_ok=True)
    for r in renders:
        # checkov ignores Rollout, so value sets with rollouts on are scanned via the
        # same set rendered with Deployments (the "-deployments" twins in values/).
        docs = [o for _, o in r.objects if o["kind"] not in ("Rollout", "AnalysisTemplate", "ServiceMonitor")]
        (k8s / f"{r.name}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    # checkov ignores --file when --directory is given too: scan a copy in a directory.
    docker = workdir / "checkov-docker"
    docker.mkdir(exist_ok=True)
    shutil.copy(ROOT / "deploy" / "Dockerfile", docker / "Dockerfile")
    out = workdir / "checkov.json"
    cmd = [str(exe), "--skip-download", "--compact", "--output", "json",
           "--config-file", str(HERE / "checkov.yaml"),
           "--framework", "kubernetes", "terraform", "dockerfile",
           "--directory", str(k8s), "--directory", str(ROOT / "terraform"),
           "--directory", str(docker)]
    log = (workdir / "checkov.stderr").open("wb")
    # Offline: no update check against PyPI, no policy download, no colours in the report.
    env = dict(os.environ, CKV_SKIP_PACKAGE_UPDATE_CHECK="true", BC_SKIP_MAPPING="TRUE",
               ANSI_COLORS_DISABLED="1", LOG_LEVEL="ERROR")
    proc = subprocess.Popen(cmd, stdout=out.open("wb"), stderr=log, cwd=ROOT, env=env)
    return proc, out


@section("checkov")
def check_checkov(s: Section, started: tuple[subprocess.Popen[bytes], Path] | None, workdir: Path) -> None:
    if started is None:
        s.error(f"checkov is not installed in {VENV}")
        return
    proc, out = started
    try:
        proc.wait(timeout=900)
    except subprocess.TimeoutExpired:
        proc.kill()
        s.error("checkov did not finish in 15 minutes")
        return
    # checkov may print several JSON documents one after the other (a report object for
    # one framework, then a list for the others): read them all.
    text = out.read_text()
    decoder, pos, reports = json.JSONDecoder(), 0, []
    try:
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            value, pos = decoder.raw_decode(text, pos)
            reports.extend(value if isinstance(value, list) else [value])
    except json.JSONDecodeError as exc:
        s.error(f"checkov's report is not JSON ({exc}): {text[max(0, exc.pos - 200):exc.pos + 200]!r}")
        return
    if not reports:
        stderr = (workdir / "checkov.stderr").read_text()[-2000:]
        s.error(f"checkov gave no report (exit {proc.returncode}): {stderr}")
        return
    # The same framework's report can come twice; a bare summary has no framework.
    by_framework = {r["check_type"]: r for r in reversed(reports) if isinstance(r, dict) and "check_type" in r}
    frameworks = set(by_framework)
    for report in by_framework.values():
        summary = report["summary"]
        s.checked += summary["passed"] + summary["failed"]
        s.note(f"{report['check_type']}: {summary['passed']} passed, {summary['failed']} failed, "
               f"{summary['skipped']} skipped, {summary['resource_count']} resources")
        if summary.get("parsing_errors"):
            s.error(f"{report['check_type']}: {summary['parsing_errors']} file(s) could not be parsed: "
                    f"{report['results'].get('parsing_errors')}")
        for f in report["results"]["failed_checks"]:
            s.error_once(f"{report['check_type']} {f['check_id']} {f['check_name']}: {f['resource']} "
                    f"({f['file_path']}:{(f.get('file_line_range') or ['?'])[0]})")
    for fw in ("kubernetes", "terraform", "dockerfile"):
        if fw not in frameworks:
            s.error(f"checkov scanned nothing for {fw}")


# ---------------------------------------------------------------------------------------
# Terraform


@section("terraform")
def check_terraform(s: Section) -> None:
    import hcl2

    if not getattr(hcl2, "__file__", "").startswith(str(VENV / "opt" / "python-hcl2")):
        s.note(f"hcl2 imported from {getattr(hcl2, '__file__', '?')} (not the isolated python-hcl2)")
    tf_root = ROOT / "terraform"
    files = sorted(tf_root.rglob("*.tf"))
    if not files:
        s.error("terraform/ has no .tf files")
    def clean(node: Any) -> Any:
        """python-hcl2 8 marks blocks and keeps comments under __dunder__ keys."""
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items() if not (k.startswith("__") and k.endswith("__"))}
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    parsed: dict[Path, dict[str, Any]] = {}
    for path in files:
        s.checked += 1
        try:
            with path.open() as f:
                parsed[path] = clean(hcl2.load(f))
        except Exception as exc:
            s.error(f"{rel(path)}: does not parse: {type(exc).__name__}: {str(exc)[:300]}")

    def by_dir() -> dict[Path, list[dict[str, Any]]]:
        out: dict[Path, list[dict[str, Any]]] = {}
        for p, d in parsed.items():
            out.setdefault(p.parent, []).append(d)
        return out

    def unquote(v: Any) -> Any:
        return v[1:-1] if isinstance(v, str) and len(v) >= 2 and v[0] == v[-1] == '"' else v

    for directory, docs in sorted(by_dir().items()):
        kind = directory.relative_to(tf_root).parts[0] if directory != tf_root else ""
        blocks: dict[str, list[Any]] = {}
        for d in docs:
            for k, v in d.items():
                blocks.setdefault(k, []).extend(v if isinstance(v, list) else [v])
        terraform_blocks = blocks.get("terraform", [])
        where = rel(directory)
        if not terraform_blocks:
            s.error(f"{where}: no terraform {{}} block (required_version, required_providers)")
            continue
        tf = {}
        for b in terraform_blocks:
            tf.update(b)
        if "required_version" not in tf:
            s.error(f"{where}: terraform.required_version is not set")
        providers = {}
        for rp in tf.get("required_providers", []):
            providers.update(rp)
        for name, spec in providers.items():
            if not isinstance(spec, dict) or "version" not in spec or "source" not in spec:
                s.error(f"{where}: provider {name} needs source and a version constraint")
        if kind == "environments":
            if not tf.get("backend"):
                s.error(f"{where}: an environment must configure a remote state backend")
            for module in blocks.get("module", []):
                for name, body in module.items():
                    source = unquote(body.get("source", ""))
                    if source.startswith("."):
                        if not (directory / source).resolve().is_dir():
                            s.error(f"{where}: module {name} source {source} does not exist")
                    elif "?ref=" not in source and "version" not in body:
                        s.error(f"{where}: module {name} from {source} is not pinned")
        for variable in blocks.get("variable", []):
            for name, body in variable.items():
                if "description" not in body or "type" not in body:
                    s.error(f"{where}: variable {name} needs a description and a type")
        for output in blocks.get("output", []):
            for name, body in output.items():
                if "description" not in body:
                    s.error(f"{where}: output {name} needs a description")
    envs = sorted(p.name for p in (tf_root / "environments").iterdir() if p.is_dir()) if (tf_root / "environments").is_dir() else []
    for env in ("staging", "production"):
        if env not in envs:
            s.error(f"terraform/environments/{env} is missing")
    check_terraform_contract(s, tf_root, parsed, [tf_root / "environments" / e for e in envs])


def check_terraform_contract(s: Section, tf_root: Path, parsed: dict[Path, dict[str, Any]], envs: list[Path]) -> None:
    """What the fleet needs from Terraform (deploy/check/terraform_contract.py)."""
    import terraform_contract as tc

    tree = tc.Tree(tf_root, parsed)
    s.checked += tc.check_inputs(tree, rel, s.error)
    s.checked += tc.check_providers(tree, rel, s.error)
    for env in envs:
        s.checked += tc.check_environment(tree, env, rel, s.error)
    docs = [ROOT / "docs" / "deploy.md", *sorted((ROOT / "docs" / "ops").glob("*.md"))]
    s.checked += tc.check_doc_outputs(tree, envs, docs, rel, s.error)
    values = load_yaml(CHART / "values.yaml") or {}
    s.checked += tc.check_chart_values(tree, envs, values, rel, s.error)
    s.checked += tc.check_secret_keys(tf_root, values, s.error)
    s.checked += tc.check_production_values(CHART / "values-production.yaml", envs, tree, load_yaml, rel, s.error)


# ---------------------------------------------------------------------------------------
# GitHub Actions


@section("workflows")
def check_workflows(s: Section) -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    if not workflows:
        s.error(".github/workflows has no workflows")
        return
    for name in ("ci.yml", "release.yml", "nightly.yml"):
        if not (ROOT / ".github" / "workflows" / name).exists():
            s.error(f".github/workflows/{name} is missing")
    exe = VENV / "bin" / "actionlint"
    if not exe.exists():
        s.error(f"actionlint is not installed in {VENV}")
        return
    s.checked += len(workflows)
    proc = subprocess.run([str(exe), "-no-color", "-oneline", *map(str, workflows)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        for line in (proc.stdout + proc.stderr).strip().splitlines() or [f"actionlint exit {proc.returncode}"]:
            s.error(line)
    for path in workflows:
        wf = load_yaml(path)
        if "permissions" not in wf:
            s.error(f"{rel(path)}: set top-level permissions (least privilege for GITHUB_TOKEN)")
    # Dependabot bumps the base image tags release.yml resolves, and the actions.
    dependabot = ROOT / ".github" / "dependabot.yml"
    s.checked += 1
    if not dependabot.exists():
        s.error(".github/dependabot.yml is missing (docker on /deploy, github-actions on /)")
    else:
        updates = (load_yaml(dependabot) or {}).get("updates") or []
        for ecosystem, directory in (("docker", "/deploy"), ("github-actions", "/")):
            if not any(u.get("package-ecosystem") == ecosystem
                       and (str(u.get("directory", "")).rstrip("/") or "/") == directory
                       and (u.get("schedule") or {}).get("interval") for u in updates if isinstance(u, dict)):
                s.error(f"{rel(dependabot)}: no scheduled {ecosystem} update for {directory}")


# ---------------------------------------------------------------------------------------
# Grafana dashboards and Prometheus rules

DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def promql_errors(expr: str) -> list[str]:
    """What can be checked without promtool: balanced brackets and quotes, no template
    leftovers, no empty selectors."""
    errors, stack, quote = [], [], None
    pairs = {")": "(", "]": "[", "}": "{"}
    for ch in expr:
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "\"'`":
            quote = ch
        elif ch in "([{":
            stack.append(ch)
        elif ch in ")]}":
            if not stack or stack.pop() != pairs[ch]:
                return [f"unbalanced {ch!r} in {expr!r}"]
    if quote or stack:
        errors.append(f"unclosed {(quote or stack[-1])!r} in {expr!r}")
    if "{{" in expr.replace("{{ $labels", "").replace("{{$labels", ""):
        errors.append(f"template braces in expression {expr!r}")
    if not expr.strip():
        errors.append("empty expression")
    return errors


@section("observability")
def check_observability(s: Section) -> None:
    uids: dict[str, Path] = {}
    dashboards = sorted((ROOT / "deploy" / "grafana").glob("*.json"))
    if not dashboards:
        s.error("deploy/grafana has no dashboards")
    for path in dashboards:
        s.checked += 1
        try:
            d = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            s.error(f"{rel(path)}: not JSON: {exc}")
            continue
        for key in ("uid", "title", "panels", "schemaVersion"):
            if key not in d:
                s.error(f"{rel(path)}: no {key}")
        if d.get("uid") in uids:
            s.error(f"{rel(path)}: uid {d.get('uid')} also used by {rel(uids[d['uid']])}")
        uids[d.get("uid", "")] = path
        variables = {v.get("name") for v in d.get("templating", {}).get("list", [])}
        if "datasource" not in variables:
            s.error(f"{rel(path)}: no datasource template variable (dashboards must not pin a datasource)")
        ids: set[int] = set()
        panels = list(d.get("panels", []))
        for p in list(panels):
            panels.extend(p.get("panels", []))  # rows may nest panels
        for p in panels:
            s.checked += 1
            title = p.get("title", "?")
            for key in ("id", "type", "title", "gridPos"):
                if key not in p:
                    s.error(f"{rel(path)}: panel {title}: no {key}")
            if p.get("id") in ids:
                s.error(f"{rel(path)}: panel id {p.get('id')} is used twice")
            ids.add(p.get("id"))
            if p.get("type") == "row":
                continue
            targets = p.get("targets", [])
            if not targets:
                s.error(f"{rel(path)}: panel {title}: no queries")
            ds = json.dumps(p.get("datasource", {}))
            if "${datasource}" not in ds and "$datasource" not in ds:
                s.error(f"{rel(path)}: panel {title}: datasource must be ${{datasource}}")
            for t in targets:
                for e in promql_errors(re.sub(r"\$\{?[a-z_]+\}?|\$__[a-z_]+", "x", t.get("expr", ""))):
                    s.error(f"{rel(path)}: panel {title}: {e}")
                for var in re.findall(r"\$\{?([a-z_]+)\}?", t.get("expr", "")):
                    if var not in variables and not var.startswith("__"):
                        s.error(f"{rel(path)}: panel {title}: uses ${var}, which is not a dashboard variable")

    rule_files = sorted((ROOT / "deploy" / "prometheus").glob("*.y*ml"))
    if not rule_files:
        s.error("deploy/prometheus has no rule files")
    recorded: set[str] = set()
    alerts: list[tuple[Path, dict[str, Any]]] = []
    exprs: list[tuple[Path, str, str]] = []
    alert_names: set[str] = set()
    for path in rule_files:
        doc = load_yaml(path)
        if not isinstance(doc, dict) or set(doc) != {"groups"} or not isinstance(doc["groups"], list):
            s.error(f"{rel(path)}: a rule file is a mapping with exactly one key, groups (a list)")
            continue
        group_names: set[str] = set()
        for g in doc["groups"]:
            if set(g) - {"name", "interval", "rules", "limit", "labels", "query_offset"}:
                s.error(f"{rel(path)}: group {g.get('name')}: unknown keys {sorted(set(g) - {'name', 'interval', 'rules'})}")
            if not g.get("name") or g["name"] in group_names:
                s.error(f"{rel(path)}: group name {g.get('name')!r} is missing or repeated")
            group_names.add(g.get("name"))
            if "interval" in g and not DURATION.match(str(g["interval"])):
                s.error(f"{rel(path)}: group {g['name']}: bad interval {g['interval']!r}")
            if not g.get("rules"):
                s.error(f"{rel(path)}: group {g.get('name')}: no rules")
            for rule in g.get("rules") or []:
                s.checked += 1
                name = rule.get("alert") or rule.get("record")
                if ("alert" in rule) == ("record" in rule):
                    s.error(f"{rel(path)}: a rule needs exactly one of alert/record: {rule}")
                    continue
                allowed = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"} if "alert" in rule \
                    else {"record", "expr", "labels"}
                if set(rule) - allowed:
                    s.error(f"{rel(path)}: {name}: unknown keys {sorted(set(rule) - allowed)}")
                expr = str(rule.get("expr", ""))
                for e in promql_errors(expr):
                    s.error(f"{rel(path)}: {name}: {e}")
                exprs.append((path, name, expr))
                if "record" in rule:
                    if not re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", name) or ":" not in name:
                        s.error(f"{rel(path)}: recording rule {name!r} should be level:metric:operations")
                    recorded.add(name)
                else:
                    alerts.append((path, rule))
                    if not re.match(r"^[A-Z][A-Za-z0-9]*$", name):
                        s.error(f"{rel(path)}: alert name {name!r} should be CamelCase")
                    if name in alert_names and not (rule.get("labels") or {}).get("severity"):
                        s.error(f"{rel(path)}: alert {name} repeated without a distinguishing severity")
                    alert_names.add(name)
    for path, rule in alerts:
        name = rule["alert"]
        if not DURATION.match(str(rule.get("for", ""))):
            s.error(f"{rel(path)}: alert {name}: `for` missing or not a duration")
        severity = (rule.get("labels") or {}).get("severity")
        if severity not in ("critical", "warning", "info"):
            s.error(f"{rel(path)}: alert {name}: labels.severity must be critical, warning or info (got {severity!r})")
        ann = rule.get("annotations") or {}
        for key in ("summary", "description", "runbook_url"):
            if not ann.get(key):
                s.error(f"{rel(path)}: alert {name}: annotations.{key} is missing")
        runbook = str(ann.get("runbook_url", ""))
        m = re.search(r"(docs/ops/[A-Za-z0-9_.-]+\.md)", runbook)
        if runbook and (not m or not (ROOT / m.group(1)).exists()):
            s.error(f"{rel(path)}: alert {name}: runbook_url {runbook!r} does not name an existing docs/ops/*.md")
    for path, name, expr in exprs:
        for used in set(re.findall(r"\b([a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]+)\b", expr)):
            if used not in recorded:
                s.error(f"{rel(path)}: {name}: uses {used}, which no recording rule defines")


# ---------------------------------------------------------------------------------------
# Dockerfile


@section("docker")
def check_docker(s: Section) -> None:
    dockerfile = ROOT / "deploy" / "Dockerfile"
    ignore = ROOT / ".dockerignore"
    s.checked += 2
    if not dockerfile.exists():
        s.error("deploy/Dockerfile is missing")
        return
    text = dockerfile.read_text()
    lines = [ln.strip() for ln in re.sub(r"\\\n", " ", text).splitlines() if ln.strip() and not ln.strip().startswith("#")]
    froms = [ln for ln in lines if ln.upper().startswith("FROM ")]
    if len(froms) < 2:
        s.error("Dockerfile: expected a multi-stage build (build and runtime stages)")
    final = lines[lines.index(froms[-1]):] if froms else lines
    if not any(re.match(r"^ARG\s+SERVICE\b", ln) for ln in lines):
        s.error("Dockerfile: no `ARG SERVICE`")
    if "protobuf-compiler" not in text:
        s.error("Dockerfile: the build stage must install protobuf-compiler (tonic codegen)")
    users = [ln for ln in final if ln.upper().startswith("USER ")]
    if not users or re.match(r"^USER\s+(root|0)(:|$)", users[-1], re.I):
        s.error("Dockerfile: the runtime stage must end as a non-root USER")
    if not any(ln.upper().startswith("ENTRYPOINT") for ln in final):
        s.error("Dockerfile: the runtime stage has no ENTRYPOINT")
    if any(re.search(r"\b(apt-get|apk)\b", ln) for ln in final if ln.upper().startswith("RUN")):
        s.note("Dockerfile: the runtime stage runs a package manager")
    # Base images: every FROM is a global *_IMAGE ARG whose default is a bare, tagged
    # `FROM image:tag AS base-x` stage, or an earlier stage — so release.yml can pin each
    # base by digest (the contracts section checks it does). A literal `FROM debian:12`
    # fails here.
    sys.path.insert(0, str(HERE))
    import base_images

    bases = base_images.parse(text)
    s.checked += 1
    for problem in bases.problems:
        s.error(f"Dockerfile: {problem}")
    if not bases.problems and not bases.images:
        s.error("Dockerfile: no base images (`ARG X_IMAGE=base-x` before the first FROM, `FROM image:tag AS base-x`)")
    if not ignore.exists():
        s.error(".dockerignore is missing")
    else:
        patterns = {ln.strip().rstrip("/") for ln in ignore.read_text().splitlines()}
        for needed in ("target", ".git"):
            if not ({needed, f"/{needed}", f"**/{needed}"} & patterns):
                s.error(f".dockerignore should exclude {needed}/")


# ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", metavar="DIR", help="write rendered manifests and reports to DIR")
    parser.add_argument("--no-checkov", action="store_true", help="skip checkov (faster local iteration)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print notes as well as errors")
    args = parser.parse_args()

    started = time.monotonic()
    workdir = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="marquee-deploy-check-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        renders: list[Render] = []
        check_helm(renders)
        checkov = None if args.no_checkov else start_checkov(renders, workdir)
        if args.keep:
            for r in renders:
                (workdir / f"{r.name}.yaml").write_text(yaml.safe_dump_all([o for _, o in r.objects], sort_keys=False))
        check_kubernetes(renders)
        check_crds(renders)
        check_chart_crds()
        check_references(renders)
        check_contracts(renders)
        check_selftest()
        check_terraform()
        check_workflows()
        check_observability()
        check_docker()
        if not args.no_checkov:
            check_checkov(checkov, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print("\n== deploy-check summary ==")
    failed = 0
    for s in SECTIONS:
        status = "PASS" if not s.errors else "FAIL"
        failed += bool(s.errors)
        print(f"{status}  {s.name:<14} {s.checked:>5} checked  {len(s.errors):>3} error(s)  {s.seconds:6.1f}s")
    for s in SECTIONS:
        if args.verbose and s.notes:
            print(f"\n-- {s.name} notes --")
            for n in s.notes:
                print(f"  {n}")
        if s.errors:
            print(f"\n-- {s.name} errors --")
            for e in s.errors[:200]:
                print(f"  {e}")
            if len(s.errors) > 200:
                print(f"  … and {len(s.errors) - 200} more")
    passed = len(SECTIONS) - failed
    print(f"\ndeploy-check took {time.monotonic() - started:.0f}s")
    print(f"deploy-check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
