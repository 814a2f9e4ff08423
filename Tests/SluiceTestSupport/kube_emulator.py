"""A Kubernetes API server emulator for Sluice's tests (never shipped).

Enough of the API for Sluice's client and for the real kubectl: version, aggregated (v2,
v2beta1) and legacy discovery, a minimal OpenAPI v3 (and v2 as protobuf), get/list (label
selectors, set-based too, and field selectors)/delete, server-side apply with per-manager field
ownership (keyed lists per item) and 409 conflicts, merge patches and the scale subresource as
Update operations, API defaults and validation (names, a Deployment's selector, immutable
fields) of the common kinds, dryRun=All,
metadata.generation bumped on spec (and Deployment annotation) changes only,
resourceVersion on every write (not on a no-op apply), watch, and rollout simulators.

Test hooks (not Kubernetes API):
  GET  /_emulator/stats            request counts (`writes`: PATCH, DELETE, POST, PUT other than dry runs;
                                   `access`: "verb resource group namespace" as RBAC names them)
  POST /_emulator/fail/<ns>/<name> the next rollouts of that workload never become healthy
  POST /_emulator/deny/<verb>/<resource>   answer 403 for that verb
  POST /_emulator/compact          forget every event so far (a watch from an older resourceVersion gets
                                   410 Expired) and end the open watches
  POST /_emulator/flaky/<n>        answer the next n API requests 429 (Retry-After: 1) then 503, alternately
  POST /_emulator/stall            hold every non-dry-run PATCH (apply) until /_emulator/release: a deploy
                                   caught mid-way, for kill -9 tests
  POST /_emulator/release          let held and later applies through
A container image containing "fail-rollout" also fails its rollout.

The bearer token `expired` is answered 401, as an API server answers an expired token.

Namespaces behave as on a real server: an object in a namespace that does not exist is
answered 404 `namespaces "x" not found` (also for dryRun=All), and deleting a namespace
deletes everything in it. `default`, `kube-system`, `kube-public`, `kube-node-lease` and
the ones named with --namespaces exist from the start.

Jobs run for real when their images are mapped to local command environments (--image=NAME=DIR,
repeatable): see kube_kubelet.py for the minimal kubelet, the pod log endpoint and its test
hooks (--node-capacity=cpu=8,memory=32Gi,nvidia.com/gpu=0). Deletion follows
propagationPolicy (query or DeleteOptions body): Foreground and Background delete the
dependents named by ownerReferences, Orphan clears their references; a Job's default is
Orphan, as for batch/v1 on a real server.

--latency=MS answers every API request MS milliseconds late, as a remote API server would
(network round trip and admission), for benchmarks of clients that send requests in parallel.

usage: kube_emulator.py MINOR [CERT KEY] [--namespaces=a,b] [--latency=MS] [--image=NAME=DIR ...] [--node-capacity=...]
       (prints "PORT <n>"; with CERT and KEY it serves HTTPS)
"""
import copy
import base64
import json
import os
import re
import signal
import select
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kube_kubelet  # noqa: E402

FLAGS = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--") and "=" in a}
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
kube_kubelet.configure({"images": [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--image=")],
                        "capacity": FLAGS.get("--node-capacity")})
LATENCY = float(FLAGS.get("--latency", "0")) / 1000
MINOR = ARGS[0] if ARGS else "32"
NAMESPACED_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

# group, version, resource, kind, namespaced, short names
RESOURCES = [
    ("", "v1", "namespaces", "Namespace", False, ["ns"]),
    ("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
    ("", "v1", "pods", "Pod", True, ["po"]),
    ("", "v1", "secrets", "Secret", True, []),
    ("", "v1", "services", "Service", True, ["svc"]),
    ("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"]),
    ("", "v1", "resourcequotas", "ResourceQuota", True, ["quota"]),
    ("", "v1", "limitranges", "LimitRange", True, ["limits"]),
    ("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ["netpol"]),
    ("apps", "v1", "deployments", "Deployment", True, ["deploy"]),
    ("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"]),
    ("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"]),
    ("batch", "v1", "jobs", "Job", True, []),
    ("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ["hpa"]),
    ("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"]),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", True, []),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, []),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, []),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False, []),
    ("coordination.k8s.io", "v1", "leases", "Lease", True, []),
]
BY_PATH = {(g, v, r): (k, ns, sn) for g, v, r, k, ns, sn in RESOURCES}

lock = threading.Condition()
store = {}          # (group, resource, namespace, name) -> object
owners = {}         # same key -> {manager: set(paths)}
events = []         # (rv, type, group, resource, object)
revision = [100]
compacted = [0]     # events at or below this resourceVersion are gone (as etcd compacts them)
watch_epoch = [0]   # bumped to end every open watch (the server restarting, as far as clients can tell)
stats = {"requests": 0, "by_verb": {}, "access": {}}
failing = set()     # (namespace, name)
flaky = [0]         # API requests still to answer with 429/503
applies_open = threading.Event()   # cleared by /_emulator/stall: applies wait for /_emulator/release
applies_open.set()
stalled = [0]       # applies waiting now
denied = set()      # (verb, resource)
ROLLOUT_DELAY = 0.3


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return code, body


# Lists the API merges by key (x-kubernetes-list-type: map with these
# x-kubernetes-list-map-keys in the published OpenAPI schemas); other lists are atomic.
LIST_MAP_KEYS = {
    "containers": ("name",), "initContainers": ("name",), "ephemeralContainers": ("name",), "env": ("name",),
    "volumes": ("name",), "volumeMounts": ("mountPath",), "imagePullSecrets": ("name",),
}
PORT_KEYS = {"containerPort": ("containerPort", "protocol"), "port": ("port", "protocol")}


class ListMap(dict):
    """A list merged by key, held as {'k:{"name":"app"}': item} while an apply is computed."""


def list_map_fields(name, items):
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return None
    if name == "ports":
        for marker, fields in PORT_KEYS.items():
            if all(marker in i for i in items):
                return fields
        return None
    fields = LIST_MAP_KEYS.get(name)
    return fields if fields and all(all(f in i for f in fields) for i in items) else None


def item_key(item, fields):
    return "k:" + json.dumps({f: item.get(f, "TCP" if f == "protocol" else None) for f in fields}, separators=(",", ":"), sort_keys=True)


def normalize(obj):
    """Keyed lists become ListMaps (so ownership and merges go per item), recursively."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            fields = list_map_fields(k, v)
            out[k] = ListMap((item_key(i, fields), normalize(i)) for i in v) if fields else normalize(v)
        return out
    if isinstance(obj, list):
        return [normalize(i) for i in obj]
    return obj


def denormalize(obj):
    if isinstance(obj, ListMap):
        return [denormalize(v) for v in obj.values()]
    if isinstance(obj, dict):
        return {k: denormalize(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [denormalize(i) for i in obj]
    return obj


def leaf_paths(obj, prefix=()):
    """Paths of the leaves of an applied (normalized) object: keyed lists are walked per item,
    other lists are atomic leaves."""
    out = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict) and v:
                out |= leaf_paths(v, prefix + (k,))
            else:
                out.add(prefix + (k,))
    return out


def get_path(obj, path):
    for p in path:
        if not isinstance(obj, dict) or p not in obj:
            return None
        obj = obj[p]
    return obj


def set_path(obj, path, value):
    for i, p in enumerate(path[:-1]):
        obj = obj.setdefault(p, ListMap() if path[i + 1].startswith("k:") else {})
    obj[path[-1]] = copy.deepcopy(value)


def del_path(obj, path):
    parents = []
    for p in path[:-1]:
        if not isinstance(obj, dict) or p not in obj:
            return
        parents.append((obj, p))
        obj = obj[p]
    if isinstance(obj, dict):
        obj.pop(path[-1], None)
    for parent, key in reversed(parents):   # drop emptied maps
        if parent[key] == {}:
            del parent[key]


IDENTITY = {("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace")}


def fields_v1(paths):
    root = {}
    for path in sorted(paths):
        node = root
        for p in path:
            node = node.setdefault(p if p.startswith("k:") else "f:" + p, {})
    return root


def with_managed_fields(obj, key):
    out = copy.deepcopy(obj)
    entries = []
    for manager, paths in sorted(owners.get(key, {}).items()):
        update = manager.endswith(UPDATE)
        entries.append({"manager": manager[:-len(UPDATE)] if update else manager, "operation": "Update" if update else "Apply", "apiVersion": obj["apiVersion"],
                        "time": obj["metadata"].get("creationTimestamp"), "fieldsType": "FieldsV1",
                        "fieldsV1": fields_v1(paths)})
    out["metadata"]["managedFields"] = entries
    return out


def next_rv():
    revision[0] += 1
    return str(revision[0])


def record(kind_of_event, group, resource, obj):
    events.append((int(obj["metadata"]["resourceVersion"]), kind_of_event, group, resource, copy.deepcopy(obj)))
    lock.notify_all()


def apply(group, version, resource, namespace, name, body, manager, force, dry_run):
    kind, namespaced, _ = BY_PATH[(group, version, resource)]
    if not isinstance(body, dict):
        return status(400, "BadRequest", "the apply patch must be an object")
    if body.get("kind") != kind or body.get("apiVersion") != (f"{group}/{version}" if group else version):
        return status(400, "BadRequest", f"apply patch kind/apiVersion must be {kind}, {(group + '/' if group else '') + version}")
    meta = body.get("metadata") or {}
    if meta.get("name") != name:
        return status(400, "BadRequest", "the name in the body must match the name in the URL")
    if namespaced and meta.get("namespace", namespace) != namespace:
        return status(400, "BadRequest", "the namespace of the object does not match the namespace on the request")
    spec = body.get("spec")
    if kind == "Deployment" and isinstance(spec, dict):
        replicas = spec.get("replicas", 1)
        if not isinstance(replicas, int) or replicas < 0:
            return status(422, "Invalid", f'Deployment.apps "{name}" is invalid: spec.replicas: Invalid value: {json.dumps(replicas)}: must be greater than or equal to 0',
                          {"name": name, "group": group, "kind": kind,
                           "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: must be greater than or equal to 0", "field": "spec.replicas"}]})
    if namespaced and ("", "namespaces", "", namespace) not in store:
        return status(404, "NotFound", f'namespaces "{namespace}" not found', {"name": namespace, "kind": "namespaces"})
    definition = GVK_DEF.get((group, version, kind))
    if definition:
        problems = []
        undeclared({k: v for k, v in body.items() if k != "status"}, DEFS[definition], "", problems)
        if problems:
            # Server-side apply builds a typed object from the patch; the API server answers a
            # plain 500 with structured-merge-diff's words (its Status has no reason).
            where = f"{namespace}/{name}" if namespaced else f"/{name}"
            text = problems[0] if len(problems) == 1 else "errors:\n" + "\n".join("  " + p for p in problems)
            return 500, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "code": 500,
                         "message": f"failed to create typed patch object ({where}; {body['apiVersion']}, Kind={kind}): {text}"}
    key = (group, resource, namespace if namespaced else "", name)
    stored = store.get(key)
    existing = normalize(stored) if stored is not None else None
    body = normalize(body)
    expected_rv = meta.get("resourceVersion")
    if expected_rv and (existing is None or existing["metadata"]["resourceVersion"] != expected_rv):
        return status(409, "Conflict", f'Operation cannot be fulfilled on {resource}{"." + group if group else ""} "{name}": '
                      "the object has been modified; please apply your changes to the latest version and try again",
                      {"name": name, "group": group, "kind": resource})
    applied = leaf_paths(body) - IDENTITY - {("metadata", "resourceVersion")}
    managers = copy.deepcopy(owners.get(key, {}))
    conflicts = []
    if existing is not None and not force:
        for other, paths in managers.items():
            if other == manager:
                continue
            for path in applied & paths:
                if get_path(existing, path) != get_path(body, path):
                    conflicts.append((other, path))
    if conflicts:
        causes = [{"type": "FieldManagerConflict", "message": f'conflict with "{m.removesuffix(UPDATE)}"{" using " + body["apiVersion"] if m.endswith(UPDATE) else ""}: .{".".join(p)}',
                   "field": "." + ".".join(p)} for m, p in conflicts]
        return status(409, "Conflict", f'Apply failed with {len(conflicts)} conflict{"s" if len(conflicts) > 1 else ""}: '
                      + "; ".join(c["message"] for c in causes), {"name": name, "group": group, "kind": resource, "causes": causes})
    obj = copy.deepcopy(existing) if existing else {"apiVersion": body["apiVersion"], "kind": kind,
                                                     "metadata": {"name": name, "uid": str(uuid.uuid4()), "creationTimestamp": now()}}
    if namespaced:
        obj["metadata"]["namespace"] = namespace
    # Fields this manager owned and no longer applies are removed (unless someone else owns them).
    for path in managers.get(manager, set()) - applied:
        if not any(path in paths for m, paths in managers.items() if m != manager):
            del_path(obj, path)
    for path in applied:
        set_path(obj, path, get_path(body, path))
    for other in list(managers):
        if other != manager:
            managers[other] -= applied   # forced or equal values: ownership moves or is shared
            if not managers[other]:
                del managers[other]
    managers[manager] = applied
    obj = apply_defaults(kind, denormalize(obj))
    existing = stored
    rejected = validate(kind, group, name, obj, existing)
    if rejected:
        return rejected
    before = copy.deepcopy(existing) if existing else None
    if before is not None:
        comparable = lambda o: {k: v for k, v in o.items() if k != "status"}
        strip = lambda o: {**comparable(o), "metadata": {k: v for k, v in o["metadata"].items() if k not in ("resourceVersion", "generation")}}
        if strip(before) == strip(obj) and managers == owners.get(key, {}):
            return 200, with_managed_fields(existing, key)   # a no-op apply changes nothing, not even resourceVersion
    spec_changed = before is None or before.get("spec") != obj.get("spec") or (
        kind == "Deployment" and before["metadata"].get("annotations") != obj["metadata"].get("annotations"))
    if "spec" in obj or before is None:
        obj["metadata"]["generation"] = (before or {}).get("metadata", {}).get("generation", 0) + (1 if spec_changed else 0)
        if obj["metadata"]["generation"] == 0:
            obj["metadata"]["generation"] = 1
    if dry_run:
        preview = copy.deepcopy(obj)
        preview["metadata"]["resourceVersion"] = (existing or {}).get("metadata", {}).get("resourceVersion", "")
        saved, owners[key] = owners.get(key), managers
        result = with_managed_fields(preview, key)
        if saved is None:
            del owners[key]
        else:
            owners[key] = saved
        return (200 if existing else 201), result
    obj["metadata"]["resourceVersion"] = next_rv()
    store[key] = obj
    owners[key] = managers
    record("MODIFIED" if existing else "ADDED", group, resource, obj)
    if kind == "Job" and existing is None and kube_kubelet.job_created(key):
        pass   # the emulated kubelet runs it
    elif spec_changed and kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        threading.Timer(ROLLOUT_DELAY, rollout, args=(key,)).start()
    return (200 if existing else 201), with_managed_fields(obj, key)


RFC1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
RFC1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAMED = {"Namespace", "Service"}   # kinds whose names are DNS labels, not subdomains
GROUP_SUFFIX = {"apps": ".apps", "batch": ".batch", "autoscaling": ".autoscaling", "rbac.authorization.k8s.io": ".rbac.authorization.k8s.io",
                "coordination.k8s.io": ".coordination.k8s.io"}


def go_labels(labels):
    return "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted((labels or {}).items())) + "}"


def invalid(kind, group, name, problems):
    """422 Invalid as the API server words it: `Kind.group "name" is invalid: field: detail`."""
    causes = [{"reason": reason, "message": message, "field": field} for field, reason, message in problems]
    text = "; ".join(f"{field}: {message}" for field, _, message in problems)
    return status(422, "Invalid", f'{kind}{GROUP_SUFFIX.get(group, "")} "{name}" is invalid: ' + (f"[{text}]" if len(problems) > 1 else text),
                  {"name": name, "group": group, "kind": kind, "causes": causes})


def validate(kind, group, name, obj, existing):
    """The API server's validation of the common kinds: names, a Deployment's selector (required,
    matching its template, immutable), a Job's template (immutable)."""
    problems = []
    pattern = RFC1123_LABEL if kind in LABEL_NAMED else RFC1123_SUBDOMAIN
    if not pattern.match(name) or len(name) > (63 if kind in LABEL_NAMED else 253):
        what = "RFC 1123 label" if kind in LABEL_NAMED else "RFC 1123 subdomain"
        regex = pattern.pattern.strip("^$")
        example = "my-name', or '123-abc" if kind in LABEL_NAMED else "example.com"
        allowed = "'-'" if kind in LABEL_NAMED else "'-' or '.'"
        problems.append(("metadata.name", "FieldValueInvalid",
                         f'Invalid value: "{name}": a lowercase {what} must consist of lower case alphanumeric characters, {allowed}, '
                         f"and must start and end with an alphanumeric character (e.g. '{example}', regex used for validation is '{regex}')"))
    spec = obj.get("spec") or {}
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        selector = spec.get("selector")
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not selector:
            problems.append(("spec.selector", "FieldValueRequired", "Required value"))
        else:
            wanted = selector.get("matchLabels") or {}
            if any(template_labels.get(k) != v for k, v in wanted.items()):
                problems.append(("spec.template.metadata.labels", "FieldValueInvalid",
                                 f"Invalid value: {go_labels(template_labels)}: `selector` does not match template `labels`"))
            old = ((existing or {}).get("spec") or {}).get("selector")
            if existing is not None and old is not None and old != selector:
                problems.append(("spec.selector", "FieldValueInvalid",
                                 f"Invalid value: v1.LabelSelector{{MatchLabels:{go_labels(selector.get('matchLabels'))}, "
                                 f"MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}: field is immutable"))
    if kind == "Job" and existing is not None and (existing.get("spec") or {}).get("template") != spec.get("template"):
        problems.append(("spec.template", "FieldValueInvalid", "Invalid value: core.PodTemplateSpec{...}: field is immutable"))
    return invalid(kind, group, name, problems) if problems else None


def pod_defaults(template):
    """The defaults the API server fills into a pod template (v1 PodSpec, Container)."""
    spec = template.setdefault("spec", {})
    for k, v in (("restartPolicy", "Always"), ("terminationGracePeriodSeconds", 30), ("dnsPolicy", "ClusterFirst"),
                 ("schedulerName", "default-scheduler"), ("securityContext", {})):
        spec.setdefault(k, v)
    for c in spec.get("containers") or []:
        if isinstance(c, dict):
            image = str(c.get("image", ""))
            tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
            c.setdefault("imagePullPolicy", "Always" if tag == "latest" else "IfNotPresent")
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("resources", {})
            for port in c.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")


def apply_defaults(kind, obj):
    """API defaults of the common kinds, so a "no changes" comparison meets what a real server
    returns (they are owned by no manager, as on a real server)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    if kind == "Deployment":
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy.setdefault("type", "RollingUpdate")
            strategy.setdefault("rollingUpdate", {"maxUnavailable": "25%", "maxSurge": "25%"})
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job") and isinstance(spec.get("template"), dict):
        pod_defaults(spec["template"])
    if kind == "Service":
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
    return obj


SCALABLE = {"Deployment", "StatefulSet"}
UPDATE = "|Update"   # owners' key suffix of a manager's Update entry (merge patches, scale)


def json_merge(target, patch):
    """RFC 7386 JSON merge patch: objects merge, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = json_merge(out.get(k), v)
    return out


def scale_of(obj):
    labels = obj.get("spec", {}).get("selector", {}).get("matchLabels", {})
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: obj["metadata"][k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in obj["metadata"]},
            "spec": {"replicas": obj.get("spec", {}).get("replicas", 1)},
            "status": {"replicas": obj.get("status", {}).get("replicas", 0), "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items()))}}


def merge_patch(group, resource, namespace, name, patch, manager, subresource):
    """A merge patch (kubectl patch --type=merge, kubectl scale): an Update operation that takes
    the fields it changes from whoever owned them, without conflicts."""
    kind, namespaced, _ = [(k, ns, sn) for (g, v, r), (k, ns, sn) in BY_PATH.items() if g == group and r == resource][0]
    key = (group, resource, namespace if namespaced else "", name)
    existing = store.get(key)
    if existing is None:
        return status(404, "NotFound", f'{resource}{"." + group if group else ""} "{name}" not found', {"name": name, "group": group, "kind": resource})
    if not isinstance(patch, dict):
        return status(400, "BadRequest", "the merge patch must be a JSON object")
    if subresource == "scale":
        replicas = (patch.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            return status(422, "Invalid", f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: {json.dumps(replicas)}: must be greater than or equal to 0')
        patch = {"spec": {"replicas": replicas}}
    patch = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind", "status")}
    obj = json_merge(existing, patch)
    obj["metadata"] = {**existing["metadata"], **{k: v for k, v in obj["metadata"].items() if k in ("labels", "annotations")}}
    old_n, new_n = normalize(existing), normalize(obj)
    changed = {p for p in leaf_paths(new_n) if get_path(old_n, p) != get_path(new_n, p)} - IDENTITY
    changed |= {p for p in leaf_paths(old_n) if get_path(new_n, p) is None} - IDENTITY
    managers = owners.setdefault(key, {})
    for other in list(managers):
        managers[other] -= changed
        if not managers[other]:
            del managers[other]
    if changed:
        managers[manager + UPDATE] = managers.get(manager + UPDATE, set()) | {p for p in changed if get_path(new_n, p) is not None}
    if existing == obj:
        return 200, (scale_of(existing) if subresource == "scale" else with_managed_fields(existing, key))
    spec_changed = existing.get("spec") != obj.get("spec")
    if spec_changed:
        obj["metadata"]["generation"] = existing["metadata"].get("generation", 1) + 1
    obj["metadata"]["resourceVersion"] = next_rv()
    store[key] = obj
    record("MODIFIED", group, resource, obj)
    if spec_changed and kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        threading.Timer(ROLLOUT_DELAY, rollout, args=(key,)).start()
    return 200, (scale_of(obj) if subresource == "scale" else with_managed_fields(obj, key))


def rollout(key):
    """Moves a workload's status forward, as its controller would (or fails it)."""
    with lock:
        obj = store.get(key)
        if obj is None:
            return
        kind = obj["kind"]
        gen = obj["metadata"].get("generation", 1)
        spec = obj.get("spec", {})
        images = json.dumps(spec.get("template", {}).get("spec", {}).get("containers", []))
        fail = (key[2], key[3]) in failing or "fail-rollout" in images
        replicas = spec.get("replicas", 1)
        if kind == "Deployment":
            st = {"observedGeneration": gen, "replicas": replicas, "updatedReplicas": replicas}
            if fail:
                st["unavailableReplicas"] = replicas
                st["conditions"] = [
                    {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."},
                    {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                     "message": f'ReplicaSet "{key[3]}-{gen}" has timed out progressing.'}]
            else:
                st.update({"readyReplicas": replicas, "availableReplicas": replicas})
                st["conditions"] = [
                    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": f'ReplicaSet "{key[3]}-{gen}" has successfully progressed.'}]
            st = {k: v for k, v in st.items() if v != 0}   # zero counts are omitted, as the API server does
        elif kind == "StatefulSet":
            st = {"observedGeneration": gen, "replicas": replicas, "currentReplicas": 0 if fail else replicas,
                  "updatedReplicas": 0 if fail else replicas, "readyReplicas": 0 if fail else replicas,
                  "currentRevision": f"{key[3]}-{gen}", "updateRevision": f"{key[3]}-{gen}"}
            st = {k: v for k, v in st.items() if v != 0}
        elif kind == "DaemonSet":
            st = {"observedGeneration": gen, "desiredNumberScheduled": 1, "currentNumberScheduled": 1,
                  "updatedNumberScheduled": 0 if fail else 1, "numberAvailable": 0 if fail else 1, "numberReady": 0 if fail else 1}
            st = {k: v for k, v in st.items() if v != 0}
        else:  # Job
            st = {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]} if fail else \
                 {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
        obj["status"] = st
        obj["metadata"]["resourceVersion"] = next_rv()
        record("MODIFIED", key[0], key[1], obj)


def delete_object(key, policy, grace=None):
    """Deletes an object and, unless orphaned, its dependents (ownerReferences), as the garbage
    collector does; a deleted Pod's processes end. Returns the deleted object, or None."""
    gone = []
    with lock:
        obj = store.pop(key, None)
        owners.pop(key, None)
        if obj is None:
            return None
        obj["metadata"]["resourceVersion"] = next_rv()
        record("DELETED", key[0], key[1], obj)
        gone.append(key)
        if key[1] == "namespaces" and not key[0]:
            # The namespace controller deletes everything in it (here at once).
            for k in [k for k in store if k[2] == key[3]]:
                dead = store.pop(k)
                owners.pop(k, None)
                dead["metadata"]["resourceVersion"] = next_rv()
                record("DELETED", k[0], k[1], dead)
                gone.append(k)
        uid = obj["metadata"].get("uid")
        dependents = [k for k, o in store.items() if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or [])]
        if policy == "Orphan":
            for k in dependents:
                o = store[k]
                o["metadata"]["ownerReferences"] = [r for r in o["metadata"]["ownerReferences"] if r.get("uid") != uid]
                if not o["metadata"]["ownerReferences"]:
                    del o["metadata"]["ownerReferences"]
                o["metadata"]["resourceVersion"] = next_rv()
                record("MODIFIED", k[0], k[1], o)
            dependents = []
    for k in dependents:
        delete_object(k, "Background" if policy == "Background" else "Foreground", grace)
    for k in gone:
        if k[1] == "pods" and not k[0]:
            kube_kubelet.pod_deleted(k, 2 if grace is None else min(int(grace), 2))
    return obj


def selector_terms(selector):
    """Terms of a label selector, split on commas outside parentheses (`app in (a,b),tier`)."""
    terms, depth, current = [], 0, ""
    for ch in selector or "":
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        terms.append(current.strip())
    return terms


def matches(obj, label_selector, field_selector):
    labels = obj["metadata"].get("labels", {}) or {}
    for term in selector_terms(label_selector):
        set_based = re.match(r"^([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)$", term)
        if set_based:
            key, op, values = set_based.group(1), set_based.group(2), {v.strip() for v in set_based.group(3).split(",")}
            if op == "in" and labels.get(key) not in values:
                return False
            if op == "notin" and key in labels and labels[key] in values:
                return False
            continue
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k) != v:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    for term in filter(None, (field_selector or "").split(",")):
        k, v = term.split("=", 1)
        if k == "metadata.name" and obj["metadata"]["name"] != v:
            return False
        if k == "metadata.namespace" and obj["metadata"].get("namespace") != v:
            return False
    return True


def discovery_aggregated(groups, version="v2"):
    items = []
    for group in groups:
        versions = {}
        for g, v, r, k, ns, sn in RESOURCES:
            if g == group:
                versions.setdefault(v, []).append({
                    "resource": r, "responseKind": {"group": g, "version": v, "kind": k}, "scope": "Namespaced" if ns else "Cluster",
                    "singularResource": k.lower(), "verbs": NAMESPACED_VERBS, **({"shortNames": sn} if sn else {}),
                    **({"subresources": [{"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                                          "verbs": ["get", "patch", "update"]}]} if k in SCALABLE else {})})
        items.append({"metadata": {"name": group}, "versions": [{"version": v, "resources": res, "freshness": "Current"} for v, res in versions.items()]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}", "metadata": {}, "items": items}


def resource_list(group, version):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}" if group else version,
            "resources": [{"name": r, "singularName": k.lower(), "namespaced": ns, "kind": k, "verbs": NAMESPACED_VERBS,
                           **({"shortNames": sn} if sn else {})}
                          for g, v, r, k, ns, sn in RESOURCES if g == group and v == version]
            + [{"name": f"{r}/scale", "singularName": "", "namespaced": True, "group": "autoscaling", "version": "v1", "kind": "Scale",
                "verbs": ["get", "patch", "update"]} for g, v, r, k, ns, sn in RESOURCES if g == group and v == version and k in SCALABLE]}


def refuse(reason):
    """Without the published schemas the emulator would accept what Kubernetes refuses (unknown
    fields under fieldValidation=Strict, wrong list merges): it does not start, and says why."""
    message = f"kube_emulator: cannot start: {reason}; install it with `pip install kubernetes-validate` (.ci/requirements.txt)"
    print(message, flush=True)
    print(message, file=sys.stderr, flush=True)
    sys.exit(2)


def load_published_schemas():
    """The published Kubernetes schemas of this minor version (strict JSON-schema form of the
    OpenAPI definitions, with their list markers), from the kubernetes-validate package. The
    emulator refuses to start without them."""
    try:
        import kubernetes_validate
    except ImportError as error:
        refuse(f"the published Kubernetes schemas are missing (kubernetes-validate does not import: {error})")
    root = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")
    versions = sorted((int(d.split(".")[1]), d) for d in os.listdir(root) if d.endswith("-local-strict")) if os.path.isdir(root) else []
    if not versions:
        refuse(f"kubernetes-validate at {root} ships no strict schemas")
    chosen = min(versions, key=lambda v: (abs(v[0] - int(MINOR)), -v[0]))[1]
    with open(os.path.join(root, chosen, "_definitions.json")) as f:
        return json.load(f)["$defs"]


DEFS = load_published_schemas()
GVK_DEF = {(g.get("group", ""), g["version"], g["kind"]): name for name, d in DEFS.items()
           for g in d.get("x-kubernetes-group-version-kind", [])}


def resolve_def(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = DEFS.get(schema["$ref"].split("/")[-1], {})
    return schema


def undeclared(value, schema, path, out):
    """Paths of fields the schema does not declare, in structured-merge-diff's notation
    (`.spec.template.spec.containers[name="c"].foo`)."""
    schema = resolve_def(schema)
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields") or len(out) > 20:
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for k, v in value.items():
            if properties is not None and k in properties:
                undeclared(v, properties[k], f"{path}.{k}", out)
            elif isinstance(extra, dict):
                undeclared(v, extra, f"{path}.{k}", out)
            elif properties is not None:
                out.append(f"{path}.{k}: field not declared in schema")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        keys = schema.get("x-kubernetes-list-map-keys")
        for i, item in enumerate(value):
            if keys and isinstance(item, dict) and all(k in item for k in keys):
                where = ",".join(f"{k}={json.dumps(item[k])}" for k in keys)
                undeclared(item, schema["items"], f"{path}[{where}]", out)
            else:
                undeclared(item, schema["items"], f"{path}[{i}]", out)


def openapi_component(schema):
    """A published definition as an OpenAPI v3 component: refs to components, one type."""
    if isinstance(schema, dict):
        out = {}
        for k, v in schema.items():
            if k == "$ref":
                out[k] = "#/components/schemas/" + v.split("/")[-1]
            elif k == "type" and isinstance(v, list):
                out[k] = next((t for t in v if t != "null"), "object")
            elif k == "additionalProperties" and v is False:
                continue
            else:
                out[k] = openapi_component(v)
        return out
    if isinstance(schema, list):
        return [openapi_component(v) for v in schema]
    return schema


def referenced(names):
    """The definitions `names` use, transitively."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in DEFS:
            continue
        seen.add(name)
        stack = [DEFS[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if "$ref" in node:
                    todo.append(node["$ref"].split("/")[-1])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return seen


def openapi_doc(group, version):
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    paths, schemas = {}, {}
    for g, v, r, k, ns, sn in RESOURCES:
        if g != group or v != version:
            continue
        gvk = {"group": g, "version": v, "kind": k}
        path = f"{prefix}/namespaces/{{namespace}}/{r}/{{name}}" if ns else f"{prefix}/{r}/{{name}}"
        paths[path] = {"patch": {"x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk,
                                 "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                                                {"name": "dryRun", "in": "query", "schema": {"type": "string"}}],
                                 "responses": {"200": {"description": "OK"}}}}
        if (g, v, k) not in GVK_DEF:
            schemas[f"io.k8s.api.{g or 'core'}.{v}.{k}"] = {"type": "object", "x-kubernetes-group-version-kind": [gvk],
                                                            "x-kubernetes-preserve-unknown-fields": True}
    # The published definitions of this group-version's kinds and everything they use.
    for name in referenced([GVK_DEF[(g, v, k)] for g, v, r, k, ns, sn in RESOURCES if g == group and v == version and (g, v, k) in GVK_DEF]):
        schemas[name] = openapi_component(DEFS[name])
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": f"v1.{MINOR}.0"}, "paths": paths,
            "components": {"schemas": schemas}}


def pb_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb(num, payload):
    """A length-delimited protobuf field (strings and embedded messages)."""
    if isinstance(payload, str):
        payload = payload.encode()
    return pb_varint((num << 3) | 2) + pb_varint(len(payload)) + payload


def openapi_v2_protobuf():
    """The OpenAPI v2 document as kube-apiserver serves it to kubectl 1.27-1.29 (protobuf,
    gnostic openapi_v2.Document): each resource's PATCH operation with its
    x-kubernetes-group-version-kind and the fieldValidation and dryRun query parameters (from
    which kubectl concludes the server validates fields), and one definition per kind."""
    def gvk_yaml(g, v, k):
        return f"group: {json.dumps(g)}\nkind: {k}\nversion: {v}\n"
    def query(name):  # ParametersItem{parameter: Parameter{non_body_parameter: {query_parameter_sub_schema}}}
        return pb(1, pb(2, pb(3, pb(2, "query") + pb(4, name) + pb(6, "string"))))
    paths = b""
    definitions = b""
    for g, v, r, k, ns, sn in RESOURCES:
        prefix = f"/apis/{g}/{v}" if g else f"/api/{v}"
        path = f"{prefix}/namespaces/{{namespace}}/{r}/{{name}}" if ns else f"{prefix}/{r}/{{name}}"
        gvk = pb(13, pb(1, "x-kubernetes-group-version-kind") + pb(2, pb(2, gvk_yaml(g, v, k))))
        operation = pb(5, f"patch{k}") + pb(8, query("fieldValidation")) + pb(8, query("dryRun")) + gvk
        paths += pb(2, pb(1, path) + pb(2, pb(8, operation)))
        schema = pb(22, pb(1, "object")) + pb(31, pb(1, "x-kubernetes-group-version-kind") + pb(2, pb(2, "- " + gvk_yaml(g, v, k).replace("\n", "\n  ").rstrip() + "\n")))
        definitions += pb(1, pb(1, f"io.k8s.api.{g or 'core'}.{v}.{k}") + pb(2, schema))
    return pb(1, "2.0") + pb(2, pb(1, "Kubernetes") + pb(2, f"v1.{MINOR}.0")) + pb(8, paths) + pb(9, definitions)


def client_gone(connection):
    """Whether the client closed its end (readable, and nothing to read but the end)."""
    readable, _, _ = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def record_access(verb, resource, group, namespace):
    """What a client asked, as RBAC names it ("verb resource[/sub] group namespace"): a test
    checks that a role in manifests/ allows each."""
    with lock:
        key = f"{verb} {resource} {group} {namespace or ''}"
        stats["access"][key] = stats["access"].get(key, 0) + 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def send_json(self, code, body, content_type="application/json"):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def route(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        with lock:
            stats["requests"] += 1
            stats["by_verb"][self.command] = stats["by_verb"].get(self.command, 0) + 1
            if self.command in ("PATCH", "DELETE", "POST", "PUT") and "dryRun=All" not in url.query and not url.path.startswith("/_emulator"):
                stats["writes"] = stats.get("writes", 0) + 1
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if LATENCY and parts[:1] != ["_emulator"]:
            time.sleep(LATENCY)  # the remote server's round trip; outside the lock, so requests overlap

        if parts[:1] == ["_emulator"]:
            if parts[1] == "stats":
                return self.send_json(200, {**stats, **kube_kubelet.counts})
            if parts[1] == "fail":
                failing.add((parts[2], parts[3]))
                return self.send_json(200, {})
            if parts[1] == "deny":
                denied.add((parts[2], parts[3]))
                return self.send_json(200, {})
            if parts[1] == "flaky":
                flaky[0] = int(parts[2])
                return self.send_json(200, {})
            if parts[1] == "stall":
                applies_open.clear()
                return self.send_json(200, {})
            if parts[1] == "release":
                applies_open.set()
                return self.send_json(200, {})
            if parts[1] == "compact":
                with lock:
                    compacted[0] = revision[0]
                    watch_epoch[0] += 1
                    lock.notify_all()
                return self.send_json(200, {})
            if kube_kubelet.hook(parts):
                return self.send_json(200, {})
        if self.command == "PATCH" and q.get("dryRun") != "All" and not applies_open.is_set():
            with lock:
                stalled[0] += 1
                stats["stalled"] = stalled[0]
            applies_open.wait()
        if flaky[0] > 0:
            flaky[0] -= 1
            stats["refused"] = stats.get("refused", 0) + 1
            if flaky[0] % 2 == 1:
                data = json.dumps(status(429, "TooManyRequests", "the server has received too many requests")[1]).encode()
                self.send_response(429)
                self.send_header("Retry-After", "1")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            return self.send_json(*status(503, "ServiceUnavailable", "the server is currently unable to handle the request"))
        if self.headers.get("Authorization") == "Bearer expired":
            return self.send_json(*status(401, "Unauthorized", "Unauthorized"))
        if url.path == "/version":
            return self.send_json(200, {"major": "1", "minor": MINOR, "gitVersion": f"v1.{MINOR}.0", "platform": "linux/amd64"})
        if parts[:2] == ["openapi", "v2"]:
            # kubectl 1.27-1.29 read it (protobuf) to learn whether the server validates fields.
            if "protobuf" in (self.headers.get("Accept") or ""):
                data = openapi_v2_protobuf()
                self.send_response(200)
                self.send_header("Content-Type", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            return self.send_json(*status(406, "NotAcceptable", "this emulator serves the OpenAPI v2 document as protobuf only"))
        if parts and parts[0] == "openapi":
            if len(parts) == 2:
                docs = {("api/v1" if not g else f"apis/{g}/{v}"): {"serverRelativeURL": f"/openapi/v3/{'api/v1' if not g else f'apis/{g}/{v}'}?hash=1"}
                        for g, v in sorted({(g, v) for g, v, *_ in RESOURCES})}
                return self.send_json(200, {"paths": docs})
            group, version = ("", parts[3]) if parts[2] == "api" else (parts[3], parts[4])
            return self.send_json(200, openapi_doc(group, version))
        # Aggregated discovery in the version asked for: v2 (kubectl 1.30+) or v2beta1 (1.26-1.29;
        # a 1.27-1.29 server serves both), else the legacy documents.
        accept = self.headers.get("Accept") or ""
        agg_version = "v2" if "v=v2;as=APIGroupDiscoveryList" in accept else (
            "v2beta1" if "v=v2beta1;as=APIGroupDiscoveryList" in accept and int(MINOR) < 33 else None)
        aggregated = agg_version is not None
        agg_type = f"application/json;g=apidiscovery.k8s.io;v={agg_version};as=APIGroupDiscoveryList"
        if url.path == "/api":
            if aggregated:
                return self.send_json(200, discovery_aggregated([""], agg_version), agg_type)
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
        if url.path == "/apis":
            groups = sorted({g for g, *_ in RESOURCES if g})
            if aggregated:
                return self.send_json(200, discovery_aggregated(groups, agg_version), agg_type)
            version_of = {g: v for g, v, *_ in RESOURCES if g}
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{version_of[g]}", "version": version_of[g]}],
                 "preferredVersion": {"groupVersion": f"{g}/{version_of[g]}", "version": version_of[g]}}
                for g in groups]})
        # /api/v1[/namespaces/ns]/resource[/name]  or  /apis/g/v[/namespaces/ns]/resource[/name]
        if parts[:1] == ["api"]:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return self.send_json(*status(404, "NotFound", f"the server could not find the requested resource ({url.path})"))
        if (group, version) not in {(g, v) for g, v, *_ in RESOURCES}:
            return self.send_json(*status(404, "NotFound", "the server could not find the requested resource"))
        if not rest:
            return self.send_json(200, resource_list(group, version))
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        resource, name = rest[0], (rest[1] if len(rest) > 1 else None)
        subresource = rest[2] if len(rest) > 2 else None
        if subresource == "log" and resource == "pods" and not group and self.command == "GET":
            record_access("get", "pods/log", group, namespace)
            return kube_kubelet.logs(self, namespace, name, q)
        if subresource is not None and (subresource != "scale" or BY_PATH.get((group, version, resource), ("",))[0] not in SCALABLE):
            return self.send_json(*status(404, "NotFound", "the server could not find the requested resource"))
        if (group, version, resource) not in BY_PATH:
            return self.send_json(*status(404, "NotFound", f"the server could not find the requested resource"))
        kind, namespaced, _ = BY_PATH[(group, version, resource)]
        verb = {"GET": "watch" if q.get("watch") in ("true", "1") else ("get" if name else "list"),
                "PATCH": "patch", "DELETE": "delete", "POST": "create", "PUT": "update"}[self.command]
        record_access(verb, resource + ("/" + subresource if subresource else ""), group, namespace)
        if (verb, resource) in denied:
            who = "system:serviceaccount:default:sluice"
            scope = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
            return self.send_json(*status(403, "Forbidden", f'{resource}{"." + group if group else ""} "{name or ""}" is forbidden: User "{who}" cannot {verb} resource "{resource}" in API group "{group}"{scope}',
                                          {"name": name or "", "group": group, "kind": resource}))
        key = (group, resource, namespace if namespaced else "", name)
        content_type = self.headers.get("Content-Type", "").split(";")[0]
        if self.command == "PATCH" and content_type == "application/merge-patch+json":
            try:
                patch = json.loads(raw.decode() or "{}")
            except ValueError as e:
                return self.send_json(*status(400, "BadRequest", f"error decoding JSON: {e}"))
            # The manager: fieldManager, else the client's user agent up to its first "/", as the API server does.
            manager = q.get("fieldManager") or (self.headers.get("User-Agent") or "unknown").split("/")[0]
            with lock:
                code, out = merge_patch(group, resource, namespace, name, patch, manager, subresource)
            return self.send_json(code, out)
        if subresource == "scale" and self.command == "GET":
            with lock:
                obj = store.get(key)
                if obj is None:
                    return self.send_json(*status(404, "NotFound", f'{resource}.{group} "{name}" not found', {"name": name, "group": group, "kind": resource}))
                return self.send_json(200, scale_of(obj))
        if self.command == "PATCH":
            if content_type != "application/apply-patch+yaml":
                return self.send_json(*status(415, "UnsupportedMediaType", "this emulator supports server-side apply and merge patches"))
            if not q.get("fieldManager"):
                return self.send_json(*status(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"))
            try:
                body = yaml.safe_load(raw.decode() or "{}")
            except yaml.YAMLError as e:
                return self.send_json(*status(400, "BadRequest", f"error decoding YAML: {e}"))
            with lock:
                code, out = apply(group, version, resource, namespace, name, body, q["fieldManager"], q.get("force") == "true", q.get("dryRun") == "All")
            return self.send_json(code, out)
        if self.command == "DELETE":
            policy = q.get("propagationPolicy")
            try:
                options = json.loads(raw.decode() or "{}")
            except ValueError as e:
                return self.send_json(*status(400, "BadRequest", f"error decoding DeleteOptions: {e}"))
            policy = policy or (options or {}).get("propagationPolicy") or ("Orphan" if kind == "Job" else "Background")
            if policy not in ("Foreground", "Background", "Orphan"):
                return self.send_json(*status(400, "BadRequest", f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "{policy}"'))
            obj = delete_object(key, policy, (options or {}).get("gracePeriodSeconds"))
            if obj is None:
                return self.send_json(*status(404, "NotFound", f'{resource}{"." + group if group else ""} "{name}" not found', {"name": name, "group": group, "kind": resource}))
            return self.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                        "details": {"name": name, "group": group, "kind": resource, "uid": obj["metadata"]["uid"]}})
        if self.command != "GET":
            return self.send_json(*status(405, "MethodNotAllowed", f"{self.command} is not supported by this emulator"))
        if verb == "get":
            with lock:
                obj = store.get(key)
                if obj is None:
                    return self.send_json(*status(404, "NotFound", f'{resource}{"." + group if group else ""} "{name}" not found', {"name": name, "group": group, "kind": resource}))
                return self.send_json(200, with_managed_fields(obj, key))
        selector, fields = q.get("labelSelector"), q.get("fieldSelector")
        in_scope = lambda k: k[0] == group and k[1] == resource and (not namespace or k[2] == namespace)
        if verb == "list":
            with lock:
                keys = [k for k in sorted(store) if in_scope(k) and matches(store[k], selector, fields)]
                meta = {"resourceVersion": str(revision[0])}
                # Paging as the API server does it: at most `limit` items, then an opaque
                # `continue` token that starts the next page after the last key sent.
                if q.get("continue"):
                    try:
                        after = json.loads(base64.urlsafe_b64decode(q["continue"]).decode())
                    except ValueError:
                        return self.send_json(*status(400, "BadRequest", "continue key is not valid: illegal base64 data"))
                    keys = [k for k in keys if [k[2], k[3]] > after["start"]]
                limit = int(q.get("limit") or 0)
                if 0 < limit < len(keys):
                    meta["continue"] = base64.urlsafe_b64encode(json.dumps({"v": "meta.k8s.io/v1", "start": [keys[limit - 1][2], keys[limit - 1][3]]}).encode()).decode()
                    meta["remainingItemCount"] = len(keys) - limit
                    keys = keys[:limit]
                items = [with_managed_fields(store[k], k) for k in keys]
                return self.send_json(200, {"kind": kind + "List", "apiVersion": f"{group}/{version}" if group else version,
                                            "metadata": meta, "items": items})
        # watch: stream events after resourceVersion as JSON lines until timeoutSeconds.
        since = int(q.get("resourceVersion") or 0)
        deadline = time.time() + min(float(q.get("timeoutSeconds") or 60), 120)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = since
        epoch = watch_epoch[0]
        try:
            if since and since < compacted[0]:
                # As the API server answers a watch from a compacted version: one ERROR event, 410.
                gone = status(410, "Expired", f"too old resource version: {since} ({compacted[0]})")[1]
                line = (json.dumps({"type": "ERROR", "object": gone}) + "\n").encode()
                self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(line), line))
                return
            while time.time() < deadline and watch_epoch[0] == epoch:
                with lock:
                    pending = [e for e in events if e[0] > sent and e[2] == group and e[3] == resource
                               and (not namespace or e[4]["metadata"].get("namespace") == namespace) and matches(e[4], selector, fields)]
                    if not pending:
                        lock.wait(timeout=max(0.05, min(1.0, deadline - time.time())))
                        if client_gone(self.connection):
                            break   # as the API server does: a watch ends when its client goes away
                        continue
                for rv, typ, _, _, obj in pending:
                    line = (json.dumps({"type": typ, "object": obj}) + "\n").encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    self.wfile.flush()
                    sent = rv
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_PATCH = do_DELETE = do_POST = do_PUT = route


kube_kubelet.em = sys.modules[__name__]
signal.signal(signal.SIGTERM, kube_kubelet.shutdown)
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] + [n for n in FLAGS.get("--namespaces", "").split(",") if n]:
    store[("", "namespaces", "", ns)] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": ns, "uid": str(uuid.uuid4()), "creationTimestamp": now(), "resourceVersion": next_rv(),
        "labels": {"kubernetes.io/metadata.name": ns}}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
if len(ARGS) > 2:
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ARGS[1], ARGS[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
