"""What the Terraform must provide, checked on python-hcl2's parse (check.py, section
"terraform"). Nothing here can run Terraform: each check reads the configuration itself.

- every input that can be wrong (regions, CIDRs, sizes, names, versions, …) validates;
- every provider a directory uses is declared there with an upper-bounded version, and
  every helm_release pins its chart version;
- each environment (through the modules it calls) creates managed Redis with TLS and
  AUTH, RabbitMQ (operator by Helm + a RabbitmqCluster), one database and login role per
  data-owning service, object storage with a key, and delivers the services' secrets;
- every Terraform output that docs/deploy.md or docs/ops/*.md names exists;
- the environments' chart_values outputs fit the chart's values, and the production
  values carry no literal CIDR in networkPolicy (Terraform fills them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

DATA_SERVICES = ("auth", "content", "tagging", "billing", "campaign")
ALL_SERVICES = ("gateway",) + DATA_SERVICES

# Inputs whose wrong values a plan would not catch early: they must have a validation.
NEEDS_VALIDATION = re.compile(
    r"(^|_)(region|cidr|cidrs|name|size|networks|pool|pools|project_id|postgres|redis|valkey|rabbitmq|"
    r"services|email|port|tier|version|image|namespace|host|labels|tags|provider|backend|channel|"
    r"prefix_length|limit|days|ids)($|_)"
)

# Resource type prefix → provider local name.
PROVIDER_PREFIXES = ("google", "digitalocean", "helm", "kubernetes", "postgresql", "random", "tls")

CIDR = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}\b")
# `terraform output [-raw|-json] NAME`, and "output `a`" / "outputs: `a` (note), `b` and `c`".
DOC_OUTPUT_COMMAND = re.compile(r"terraform\s+output\s+(?:-(?:raw|json)\s+)*([a-z][a-z0-9_]*)")
DOC_OUTPUT_PROSE = re.compile(
    r"\boutputs?:?\s+((?:`[a-z][a-z0-9_]*`(?:\s*\([^)]*\))?(?:\s*(?:,|/|and|or)\s*)*)+)", re.I)


def unquote(v: Any) -> Any:
    return v[1:-1] if isinstance(v, str) and len(v) >= 2 and v[0] == v[-1] == '"' else v


def named(items: list[Any]) -> dict[str, Any]:
    """[{"\"name\"": body}, …] → {name: body}."""
    out: dict[str, Any] = {}
    for item in items:
        if isinstance(item, dict):
            for k, v in item.items():
                out[unquote(k)] = v
    return out


def resources(blocks: dict[str, list[Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, name, body) of every resource block."""
    out = []
    for item in blocks.get("resource", []):
        for rtype, by_name in item.items():
            for rname, body in by_name.items():
                out.append((unquote(rtype), unquote(rname), body))
    return out


def literal(v: Any) -> Any:
    """A quoted HCL string literal without quotes; anything else unchanged."""
    return unquote(v) if isinstance(v, str) else v


class Tree:
    """The parsed .tf files, block lists merged per directory."""

    def __init__(self, tf_root: Path, parsed: dict[Path, dict[str, Any]]):
        self.root = tf_root
        self.dirs: dict[Path, dict[str, list[Any]]] = {}
        for path, doc in parsed.items():
            blocks = self.dirs.setdefault(path.parent, {})
            for k, v in doc.items():
                blocks.setdefault(k, []).extend(v if isinstance(v, list) else [v])

    def modules(self, directory: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
        """Local module calls of a directory: name → (resolved directory, arguments)."""
        out = {}
        for name, body in named(self.dirs.get(directory, {}).get("module", [])).items():
            source = literal(body.get("source", ""))
            if isinstance(source, str) and source.startswith("."):
                out[name] = ((directory / source).resolve(), body)
        return out

    def closure(self, directory: Path) -> list[Path]:
        """The directory and every local module it calls, transitively."""
        seen: list[Path] = []
        todo = [directory.resolve()]
        while todo:
            d = todo.pop()
            if d in seen:
                continue
            seen.append(d)
            todo.extend(p for p, _ in self.modules(d).values())
        return seen


# ---------------------------------------------------------------------------------------


def check_inputs(tree: Tree, rel: Callable[[Path], str], error: Callable[[str], None]) -> int:
    checked = 0
    for directory, blocks in sorted(tree.dirs.items()):
        for name, body in named(blocks.get("variable", [])).items():
            if not NEEDS_VALIDATION.search(name) or literal(body.get("type")) == "bool":
                continue
            checked += 1
            if not body.get("validation"):
                error(f"{rel(directory)}: variable {name} can be wrong but has no validation block")
    return checked


def check_providers(tree: Tree, rel: Callable[[Path], str], error: Callable[[str], None]) -> int:
    checked = 0
    for directory, blocks in sorted(tree.dirs.items()):
        declared: dict[str, Any] = {}
        for tf in blocks.get("terraform", []):
            for rp in tf.get("required_providers", []):
                declared.update(rp)
        for name, spec in declared.items():
            checked += 1
            version = literal(spec.get("version", "")) if isinstance(spec, dict) else ""
            if not re.search(r"~>|<|^=?\s*\d+\.\d+\.\d+$", str(version)):
                error(f"{rel(directory)}: provider {name} version {version!r} has no upper bound (use ~> x.y)")
        used = {t.split("_", 1)[0] for t, _, _ in resources(blocks)}
        for item in blocks.get("data", []):
            used.update(unquote(t).split("_", 1)[0] for t in item)
        for provider in sorted(used & set(PROVIDER_PREFIXES)):
            checked += 1
            if provider not in declared:
                error(f"{rel(directory)}: uses {provider}_* but required_providers does not declare {provider}")
        for rtype, rname, body in resources(blocks):
            if rtype == "helm_release":
                checked += 1
                if "version" not in body:
                    error(f"{rel(directory)}: helm_release.{rname} does not pin a chart version")
    return checked


def check_environment(tree: Tree, env: Path, rel: Callable[[Path], str], error: Callable[[str], None]) -> int:
    """Redis, RabbitMQ, databases + users, object storage + keys and secrets, end to end."""
    where = rel(env)
    dirs = tree.closure(env)
    found: list[tuple[str, str, dict[str, Any], Path]] = []
    for d in dirs:
        found.extend((t, n, b, d) for t, n, b in resources(tree.dirs.get(d, {})))
    types = {t for t, _, _, _ in found}

    def has(rtype: str, pred: Callable[[dict[str, Any]], bool] = lambda b: True) -> bool:
        return any(t == rtype and pred(b) for t, _, b, _ in found)

    def text(b: dict[str, Any]) -> str:
        return repr(b)

    checks = {
        "managed Redis with TLS and AUTH (Memorystore or DigitalOcean Valkey)": has(
            "google_redis_instance",
            lambda b: literal(b.get("transit_encryption_mode")) == "SERVER_AUTHENTICATION"
            and b.get("auth_enabled") is True and literal(b.get("connect_mode")) == "PRIVATE_SERVICE_ACCESS",
        ) or (has("digitalocean_database_cluster", lambda b: literal(b.get("engine")) in ("valkey", "redis"))
              and has("digitalocean_database_firewall", lambda b: "valkey" in text(b) or "redis" in text(b))),
        "the RabbitMQ Cluster Operator installed by helm_release": has(
            "helm_release", lambda b: "rabbitmq" in str(literal(b.get("chart", "")))),
        "a RabbitmqCluster (kubernetes_manifest)": has("kubernetes_manifest", lambda b: "RabbitmqCluster" in text(b)),
        "one login role per service (postgresql_role)": has("postgresql_role", lambda b: b.get("login") is True),
        "one database per service owned by its role (postgresql_database)": has(
            "postgresql_database", lambda b: "postgresql_role.service" in str(b.get("owner", ""))),
        "CONNECT revoked from PUBLIC on the service databases (postgresql_grant)": has(
            "postgresql_grant", lambda b: literal(b.get("role")) == "public" and b.get("privileges") == []),
        "an object storage bucket": bool({"google_storage_bucket", "digitalocean_spaces_bucket"} & types),
        "an access key for the bucket (GCS HMAC key / Spaces key scoped to the bucket)": has("google_storage_hmac_key")
        or has("digitalocean_spaces_key", lambda b: "digitalocean_spaces_bucket" in text(b.get("grant", ""))),
        "secrets delivered to the cluster (Secret Manager + ExternalSecret, or kubernetes_secret_v1)": (
            has("google_secret_manager_secret_version") and has("kubernetes_manifest", lambda b: "ExternalSecret" in text(b))
        ) or has("kubernetes_secret_v1", lambda b: "service_secrets" in text(b)),
        "the services' secret values generated (tls_private_key identity keys, content signing key)": has(
            "tls_private_key") and has("random_bytes"),
    }
    checked = 0
    for what, ok in checks.items():
        checked += 1
        if not ok:
            error(f"{where}: creates no {what}")

    # The databases module gets every data-owning service (or its default does).
    for name, (path, args) in tree.modules(env).items():
        if path.name != "databases":
            continue
        checked += 1
        services = args.get("services")
        if services is None:
            default = named(tree.dirs.get(path, {}).get("variable", [])).get("services", {}).get("default", [])
            services = default
        services = [literal(s) for s in services] if isinstance(services, list) else []
        missing = [s for s in DATA_SERVICES if s not in services]
        if missing:
            error(f"{where}: module {name} makes no database or role for {', '.join(missing)}")
    if not any(p.name == "databases" for p, _ in tree.modules(env).values()):
        checked += 1
        error(f"{where}: calls no modules/databases (one database and role per service)")

    # The secret backend of modules/platform matches the module that fills it.
    calls = {p.name: args for p, args in tree.modules(env).values()}
    backend = literal(calls.get("platform", {}).get("secret_backend", ""))
    checked += 1
    if "service-secrets" not in calls:
        error(f"{where}: calls no modules/service-secrets (the services' secret values)")
    elif backend == "gcp-secret-manager" and "gcp-secrets" not in calls:
        error(f"{where}: secret_backend gcp-secret-manager but no modules/gcp-secrets fills Secret Manager")
    elif backend == "kubernetes" and "kubernetes-secrets" not in calls:
        error(f"{where}: secret_backend kubernetes but no modules/kubernetes-secrets writes the Secrets")
    elif backend not in ("gcp-secret-manager", "kubernetes"):
        error(f"{where}: modules/platform must be called with secret_backend gcp-secret-manager or kubernetes")
    return checked


def env_outputs(tree: Tree, env: Path) -> dict[str, Any]:
    return named(tree.dirs.get(env, {}).get("output", []))


def check_doc_outputs(tree: Tree, envs: list[Path], docs: list[Path], rel: Callable[[Path], str],
                      error: Callable[[str], None]) -> int:
    """Every output the docs name exists in some environment's outputs."""
    existing: set[str] = set()
    for env in envs:
        existing.update(env_outputs(tree, env))
    checked = 0
    for doc in docs:
        if not doc.exists():
            continue
        text = doc.read_text()
        names: set[str] = set(DOC_OUTPUT_COMMAND.findall(text))
        for m in DOC_OUTPUT_PROSE.finditer(text):
            names.update(re.findall(r"`([a-z][a-z0-9_]*)`", m.group(1)))
        for name in sorted(names):
            checked += 1
            if name not in existing:
                error(f"{rel(doc)} names Terraform output {name}, which no terraform/environments/*/outputs.tf defines")
    if checked == 0:
        error("docs/deploy.md names no Terraform output (`terraform output …` or output `name`): nothing was checked")
    return checked


def walk_values(shape: Any, chart: Any, path: str, free: Callable[[str], bool], error: Callable[[str], None]) -> int:
    """Every key of an output's object literal exists in the chart's values (or is free-form)."""
    if not isinstance(shape, dict) or free(path):
        return 0
    checked = 0
    for key, sub in shape.items():
        key = unquote(key)
        here = f"{path}.{key}" if path else key
        checked += 1
        if not isinstance(chart, dict) or key not in chart:
            if not free(here):
                error(f"chart_values: {here} is not a value of helm/marquee/values.yaml")
            continue
        checked += walk_values(sub, chart[key], here, free, error)
    return checked


def check_chart_values(tree: Tree, envs: list[Path], values: dict[str, Any], rel: Callable[[Path], str],
                       error: Callable[[str], None]) -> int:
    checked = 0
    defaults = values.get("serviceDefaults", {})
    chart = dict(values)
    chart["services"] = {name: {**defaults, **(svc or {})} for name, svc in (values.get("services") or {}).items()}
    destinations = set((values.get("networkPolicy") or {}).get("destinations") or {})

    def free(path: str) -> bool:
        # Maps whose keys are the user's: env variables, annotations, destination and key names.
        return bool(re.fullmatch(r"services\.[^.]+\.(env|serviceAccount\.annotations)|identity\.publicKeys|"
                                 r"networkPolicy\.destinations(\..+)?", path))

    for env in envs:
        outputs = env_outputs(tree, env)
        for required in ("chart_values", "network_policy_destinations"):
            checked += 1
            if required not in outputs:
                error(f"{rel(env)}: output {required} is missing (the chart's values from Terraform)")
        body = outputs.get("chart_values", {}).get("value")
        if isinstance(body, dict):
            checked += walk_values(body, chart, "", free, error)
    # The destinations the cloud modules and the platform produce override the chart's.
    for d, blocks in sorted(tree.dirs.items()):
        outputs = named(blocks.get("output", []))
        for oname in ("network_policy_destinations", "rabbitmq_destination"):
            value = outputs.get(oname, {}).get("value")
            if not isinstance(value, dict):
                continue
            entries = {"rabbitmq": value} if oname == "rabbitmq_destination" else value
            for dest, spec in entries.items():
                checked += 1
                dest = unquote(dest)
                if dest not in destinations:
                    error(f"{rel(d)}: output {oname} sets networkPolicy.destinations.{dest}, which the chart does not define")
                if not isinstance(spec, dict) or set(map(unquote, spec)) != {"ports", "to"}:
                    error(f"{rel(d)}: output {oname}.{dest} must have exactly ports and to")
    return checked


def check_secret_keys(tf_root: Path, values: dict[str, Any], error: Callable[[str], None]) -> int:
    """Every Secret key the chart requires (services.<svc>.secretEnv) is one Terraform makes."""
    source = tf_root / "modules" / "service-secrets" / "main.tf"
    if not source.exists():
        error("terraform/modules/service-secrets/main.tf is missing (the services' secret values)")
        return 1
    text = source.read_text()
    defaults = values.get("serviceDefaults") or {}
    checked = 0
    for name, svc in sorted((values.get("services") or {}).items()):
        env = {**(defaults.get("secretEnv") or {}), **((svc or {}).get("secretEnv") or {})}
        for key in sorted(set(env.values())):
            checked += 1
            # Made as a map key (`KEY = value`) or named as a string (the local KEKs'
            # keys come from `kek_services`).
            if not re.search(rf'\b{re.escape(str(key))}\s*=|"{re.escape(str(key))}"', text):
                error(f"services.{name}.secretEnv reads Secret key {key}, which terraform/modules/service-secrets "
                      f"does not generate")
    return checked


def check_production_values(path: Path, envs: list[Path], tree: Tree, load_yaml: Callable[[Path], Any],
                            rel: Callable[[Path], str], error: Callable[[str], None]) -> int:
    """No environment-specific CIDR is written into the production values' networkPolicy."""
    if not path.exists():
        error(f"{rel(path)} is missing")
        return 1
    values = load_yaml(path) or {}
    policy = values.get("networkPolicy") or {}
    checked = 1
    found = sorted(set(CIDR.findall(repr(policy))))
    if found:
        error(f"{rel(path)}: networkPolicy has literal CIDRs {', '.join(found)}; they come from "
              f"terraform output chart_values")
    # A placeholder must name an output that exists.
    placeholders = set(re.findall(r"terraform[-_ ]output[-_ ]([a-z][a-z0-9_]*)", path.read_text(), re.I))
    existing = set()
    for env in envs:
        existing.update(env_outputs(tree, env))
    for name in sorted(placeholders):
        checked += 1
        if name not in existing:
            error(f"{rel(path)}: placeholder names Terraform output {name}, which no environment defines")
    return checked
