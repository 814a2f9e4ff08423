"""A minimal kubelet and Job controller for the Kubernetes API emulator (tests only).

A Job whose containers all use images named with --image=NAME=DIR runs for real: the Job
controller creates one Pod (backoffLimit 0), the "kubelet" runs its init containers in order
and then its containers side by side, each as a local process group (the image is recorded and
mapped to a local command environment: DIR is put first on PATH; an empty DIR adds nothing).
`command` and `args` run as written. emptyDir volumes are temporary folders shared by the
pod's containers; a container's workingDir under a volume's mountPath is that folder. Output
goes to a per-container log served by the pod log endpoint (follow, timestamps, sinceTime).
Exit codes become container statuses, the pod's phase and the Job's conditions (as Kubernetes
1.33 writes them). A memory limit is enforced (the group's resident memory is watched and the
group is killed: OOMKilled, exit code 137); activeDeadlineSeconds fails the Job with
DeadlineExceeded; deleting a Job or Pod kills its processes (grace period, then SIGKILL).

Scheduling: a pod whose requests exceed the emulated node (--node-capacity, default
cpu=8,memory=32Gi,nvidia.com/gpu=0) or whose nodeSelector the node's labels do not match stays
Pending with PodScheduled False, reason Unschedulable and the scheduler's message. An image
whose name contains "no-such-image" is never pulled (ErrImagePull, then ImagePullBackOff).
Jobs with any other image keep the emulator's plain simulation (they complete at once).

Test hooks (POST, not Kubernetes API):
  /_emulator/cut-logs               every log stream being followed ends now, as when the API
                                    server restarts (clients reconnect with sinceTime)
  /_emulator/evict/<ns>/<pod>       the kubelet evicts the pod: its processes are killed, the pod
                                    is Failed with reason Evicted, as under node memory pressure
"""
import base64
import hashlib
import copy
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid

em = None          # the emulator module (set by kube_emulator.py)
IMAGES = {}        # image -> PATH folder ("" for the host's PATH only)
CAPACITY = {"cpu": 8.0, "memory": 32 * 2**30, "nvidia.com/gpu": 0.0}
NODE_LABELS = {"kubernetes.io/hostname": "emulator", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
pods = {}          # (namespace, name) -> PodRun
cuts = [0]         # bumped by /_emulator/cut-logs: followers started before it end
counts = {"pods_created": 0, "jobs_finished": 0, "job_seconds": 0.0}
job_started = {}   # Job key -> time.monotonic() when it was created (what a benchmark subtracts as the cluster's share)

SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
PR_SET_PDEATHSIG = 1


def die_with_the_emulator():
    """A container's process is killed when the emulator is (even by SIGKILL, as tests stop it)."""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def configure(flags):
    for item in flags.get("images", []):
        name, _, folder = item.partition("=")
        IMAGES[name] = folder
    for item in (flags.get("capacity") or "").split(","):
        if "=" in item:
            k, v = item.split("=", 1)
            CAPACITY[k] = quantity(v)


def quantity(text):
    m = re.match(r"^([0-9.]+)([A-Za-z]*)$", str(text))
    if not m:
        return 0.0
    return float(m.group(1)) * SUFFIXES.get(m.group(2), 1)


def stamp(t=None):
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % int((t % 1) * 1e9)


def seconds(text):
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", text or "")
    if not m:
        return None
    import calendar
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + float(m.group(2) or 0)


def runs_for_real(job):
    spec = (job.get("spec") or {}).get("template", {}).get("spec", {})
    images = [c.get("image", "") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]
    return bool(images) and all(i in IMAGES or "no-such-image" in i for i in images)


# --- the Job controller --------------------------------------------------------------------

def job_created(key):
    """Called (holding em.lock) after a new Job is stored."""
    job = em.store[key]
    if not runs_for_real(job):
        return False
    job["status"] = {"startTime": em.now(), "active": 1, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}}
    job_started[key] = time.monotonic()
    template = copy.deepcopy(job["spec"]["template"])
    name = f"{key[3]}-{uuid.uuid4().hex[:5]}"
    uid = job["metadata"]["uid"]
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels.update({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": key[3],
                   "controller-uid": uid, "job-name": key[3]})
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": key[2], "uid": str(uuid.uuid4()), "creationTimestamp": em.now(),
                        "generateName": key[3] + "-", "labels": labels,
                        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": key[3], "uid": uid,
                                             "controller": True, "blockOwnerDeletion": True}]},
           "spec": template["spec"], "status": {"phase": "Pending", "qosClass": qos(template["spec"])}}
    pod["spec"].setdefault("nodeName", None)
    pod["spec"].pop("nodeName")
    pod_key = ("", "pods", key[2], name)
    pod["metadata"]["resourceVersion"] = em.next_rv()
    em.store[pod_key] = pod
    em.record("ADDED", "", "pods", pod)
    counts["pods_created"] += 1
    run = PodRun(pod_key, key)
    pods[(key[2], name)] = run
    deadline = job["spec"].get("activeDeadlineSeconds")
    if isinstance(deadline, int):
        timer = threading.Timer(deadline, run.deadline_exceeded)
        timer.daemon = True
        timer.start()
    threading.Thread(target=run.start, daemon=True).start()
    return True


def qos(spec):
    containers = spec.get("containers") or []
    res = [c.get("resources") or {} for c in containers]
    if all(r.get("limits", {}).get("cpu") and r.get("limits", {}).get("memory") and
           all(r.get("requests", {}).get(k, r["limits"][k]) == r["limits"][k] for k in ("cpu", "memory")) for r in res):
        return "Guaranteed"
    return "Burstable" if any(r.get("requests") or r.get("limits") for r in res) else "BestEffort"


def update(key, mutate):
    """Changes a stored object's status as its controller would (holding the lock)."""
    with em.lock:
        obj = em.store.get(key)
        if obj is None:
            return None
        mutate(obj)
        obj["metadata"]["resourceVersion"] = em.next_rv()
        em.record("MODIFIED", key[0], key[1], obj)
        return obj


def condition(kind, status, reason=None, message=None):
    c = {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": em.now()}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


class PodRun:
    def __init__(self, pod_key, job_key):
        self.pod_key, self.job_key = pod_key, job_key
        self.dir = tempfile.mkdtemp(prefix="emulated-pod-")
        self.processes = {}       # container -> Popen
        self.oom = set()
        self.lock = threading.Lock()
        self.stopped = False      # deleted, or past the deadline
        self.finished = threading.Event()
        self.ended = {}           # container -> finishedAt

    def spec(self):
        with em.lock:
            pod = em.store.get(self.pod_key)
            return copy.deepcopy(pod["spec"]) if pod else None

    def log_path(self, container):
        return os.path.join(self.dir, "logs", container + ".log")

    # scheduling, pulling, running

    def start(self):
        spec = self.spec()
        if spec is None:
            return
        problem = self.unschedulable(spec)
        if problem:
            update(self.pod_key, lambda p: p["status"].update({"conditions": [condition("PodScheduled", "False", "Unschedulable", problem)]}))
            return
        os.makedirs(os.path.join(self.dir, "logs"))
        self.volumes = {}
        for v in spec.get("volumes") or []:
            if "emptyDir" in v:
                self.volumes[v["name"]] = tempfile.mkdtemp(prefix=f"{v['name']}-", dir=self.dir)
        init, main = spec.get("initContainers") or [], spec.get("containers") or []

        def scheduled(p):
            p["spec"]["nodeName"] = "emulator"
            p["status"].update({"conditions": [condition("PodScheduled", "True")], "hostIP": "127.0.0.1", "podIP": "127.0.0.1",
                                "startTime": em.now(),
                                "initContainerStatuses": [waiting(c, "PodInitializing") for c in init],
                                "containerStatuses": [waiting(c, "PodInitializing") for c in main]})
        update(self.pod_key, scheduled)
        for c in init + main:
            if "no-such-image" in c.get("image", ""):
                return self.pull_fails(c, init)
        for c in init:
            code = self.run(c, init=True)
            if code != 0 or self.stopped:
                return self.complete(init_failed=c["name"])
        update(self.pod_key, lambda p: set_condition(p, "Initialized", "True"))
        threads = [threading.Thread(target=self.run, args=(c,), daemon=True) for c in main]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.complete()

    def unschedulable(self, spec):
        wanted = {}
        for c in spec.get("containers") or []:
            r = c.get("resources") or {}
            for k in set(r.get("requests", {})) | set(r.get("limits", {})):
                v = r.get("requests", {}).get(k, r.get("limits", {}).get(k))
                wanted[k] = wanted.get(k, 0.0) + quantity(v)
        short = sorted(k for k, v in wanted.items() if v > CAPACITY.get(k, 0.0))
        if short:
            reasons = ", ".join(f"1 Insufficient {k}" for k in short)
            return f"0/1 nodes are available: {reasons}. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
        selector = spec.get("nodeSelector") or {}
        if any(NODE_LABELS.get(k) != v for k, v in selector.items()):
            return ("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
                    "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
        return None

    def pull_fails(self, container, init):
        image = container["image"]
        field = "initContainerStatuses" if container in init else "containerStatuses"
        for reason, message in (("ErrImagePull", f'failed to pull and unpack image "{image}": not found'),
                                ("ImagePullBackOff", f'Back-off pulling image "{image}"')):
            def pulling(p, reason=reason, message=message):
                for s in p["status"].get(field, []):
                    if s["name"] == container["name"]:
                        s["state"] = {"waiting": {"reason": reason, "message": message}}
            update(self.pod_key, pulling)
            if self.finished.wait(0.2):
                return

    def environment(self, c):
        env = {"PATH": ((IMAGES.get(c.get("image"), "") + ":") if IMAGES.get(c.get("image")) else "") + os.environ.get("PATH", "/usr/bin:/bin"),
               "HOME": self.dir, "HOSTNAME": self.pod_key[3]}
        for e in c.get("env") or []:
            if "value" in e:
                env[e["name"]] = str(e["value"])
            elif "secretKeyRef" in (e.get("valueFrom") or {}):
                ref = e["valueFrom"]["secretKeyRef"]
                with em.lock:
                    secret = em.store.get(("", "secrets", self.pod_key[2], ref["name"]))
                if secret is None:
                    return None, f'secret "{ref["name"]}" not found'
                data = secret.get("data") or {}
                if ref["key"] in data:
                    env[e["name"]] = base64.b64decode(data[ref["key"]]).decode()
                elif ref["key"] in (secret.get("stringData") or {}):
                    env[e["name"]] = secret["stringData"][ref["key"]]
                else:
                    return None, f"couldn't find key {ref['key']} in Secret {self.pod_key[2]}/{ref['name']}"
        return env, None

    def mapped(self, path, mounts):
        for m in mounts:
            if path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/"):
                return self.volumes.get(m["name"], self.dir) + path[len(m["mountPath"].rstrip("/")):]
        return path

    def run(self, c, init=False):
        field = "initContainerStatuses" if init else "containerStatuses"
        name = c["name"]
        env, problem = self.environment(c)
        if problem:
            def config_error(p):
                for s in p["status"].get(field, []):
                    if s["name"] == name:
                        s["state"] = {"waiting": {"reason": "CreateContainerConfigError", "message": problem}}
            update(self.pod_key, config_error)
            return 1
        argv = (c.get("command") or []) + (c.get("args") or [])
        cwd = self.mapped(c.get("workingDir") or "/", c.get("volumeMounts") or [])
        log = open(self.log_path(name), "ab")
        started = time.time()
        with self.lock:
            if self.stopped:
                return 1
            try:
                proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=die_with_the_emulator)
            except OSError as e:
                proc = None
                error = str(e)
            if proc:
                self.processes[name] = proc
        if proc is None:
            self.terminated(field, name, 128, "StartError", started, message=error)
            return 128

        def running(p):
            for s in p["status"].get(field, []):
                if s["name"] == name:
                    s.update({"state": {"running": {"startedAt": em.now()}}, "started": True, "ready": not init,
                              "imageID": image_id(c.get("image", ""))})
            if not init:
                p["status"]["phase"] = "Running"
                if all("running" in (s.get("state") or {}) for s in p["status"].get("containerStatuses", [])):
                    set_condition(p, "ContainersReady", "True")
                    set_condition(p, "Ready", "True")
        update(self.pod_key, running)
        limit = ((c.get("resources") or {}).get("limits") or {}).get("memory")
        if limit:
            threading.Thread(target=self.watch_memory, args=(name, proc, quantity(limit)), daemon=True).start()
        for line in iter(proc.stdout.readline, b""):
            log.write(stamp().encode() + b" " + line if line.endswith(b"\n") else stamp().encode() + b" " + line + b"\n")
            log.flush()
        code = proc.wait()
        log.close()
        if code < 0:
            code = 128 - code
        reason = "OOMKilled" if name in self.oom else ("Completed" if code == 0 else "Error")
        self.terminated(field, name, code, reason, started)
        return code

    def terminated(self, field, name, code, reason, started, message=None):
        self.ended[name] = time.time()

        def done(p):
            for s in p["status"].get(field, []):
                if s["name"] == name:
                    t = {"exitCode": code, "reason": reason, "startedAt": em.now(), "finishedAt": em.now(),
                         "containerID": "emulated://" + uuid.uuid4().hex}
                    if message:
                        t["message"] = message
                    s.update({"state": {"terminated": t}, "ready": False, "started": False})
        update(self.pod_key, done)

    def watch_memory(self, name, proc, limit):
        while proc.poll() is None:
            if resident(proc.pid) > limit:
                self.oom.add(name)
                kill_group(proc.pid, signal.SIGKILL)
                return
            time.sleep(0.05)

    def complete(self, init_failed=None):
        with em.lock:
            pod = em.store.get(self.pod_key)
            if pod is None:
                return
            statuses = pod["status"].get("containerStatuses", [])
        codes = [s.get("state", {}).get("terminated", {}).get("exitCode") for s in statuses]
        succeeded = init_failed is None and not self.stopped and codes and all(c == 0 for c in codes)

        def ended(p):
            p["status"]["phase"] = "Succeeded" if succeeded else "Failed"
            set_condition(p, "ContainersReady", "False", "PodCompleted")
            set_condition(p, "Ready", "False", "PodCompleted")
        update(self.pod_key, ended)
        self.finished.set()
        if self.stopped:
            return   # the deadline (or a deletion) already settled the Job
        finish_job(self.job_key, succeeded, "BackoffLimitExceeded", "Job has reached the specified backoff limit")

    def evict(self):
        self.stop(grace=0)

        def evicted(p):
            p["status"].update({"phase": "Failed", "reason": "Evicted",
                                "message": "The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki."})
        update(self.pod_key, evicted)
        finish_job(self.job_key, False, "BackoffLimitExceeded", "Job has reached the specified backoff limit")

    def deadline_exceeded(self):
        if self.finished.is_set():
            return
        self.stop(grace=0)

        def failed(p):
            p["status"].update({"phase": "Failed", "reason": "DeadlineExceeded", "message": "Pod was active on the node longer than the specified deadline"})
        update(self.pod_key, failed)
        finish_job(self.job_key, False, "DeadlineExceeded", "Job was active longer than specified deadline")

    def stop(self, grace=2):
        with self.lock:
            self.stopped = True
            procs = list(self.processes.values())
        for p in procs:
            kill_group(p.pid, signal.SIGTERM)
        deadline = time.time() + grace
        for p in procs:
            while p.poll() is None and time.time() < deadline:
                time.sleep(0.02)
            kill_group(p.pid, signal.SIGKILL)
        self.finished.set()

    def remove(self, grace):
        self.stop(grace)
        shutil.rmtree(self.dir, ignore_errors=True)


def finish_job(job_key, succeeded, reason, message):
    def settle(job):
        st = job.setdefault("status", {})
        if any(c["type"] in ("Complete", "Failed") for c in st.get("conditions", [])):
            return
        st.pop("active", None)
        st["ready"] = 0
        if succeeded:
            st["succeeded"] = 1
            st["completionTime"] = em.now()
            st["conditions"] = [condition("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
                                condition("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods")]
        else:
            st["failed"] = 1
            st["conditions"] = [condition("FailureTarget", "True", reason, message), condition("Failed", "True", reason, message)]
    job = update(job_key, settle)
    started = job_started.pop(job_key, None)
    if started is not None:
        counts["jobs_finished"] += 1
        counts["job_seconds"] += time.monotonic() - started
    ttl = (job or {}).get("spec", {}).get("ttlSecondsAfterFinished")
    if isinstance(ttl, int):
        timer = threading.Timer(ttl, lambda: em.delete_object(job_key, "Background"))
        timer.daemon = True
        timer.start()


def set_condition(pod, kind, status, reason=None):
    """Sets one of the pod's conditions (PodScheduled, Initialized, ContainersReady, Ready)."""
    conditions = [c for c in pod["status"].setdefault("conditions", []) if c["type"] != kind]
    conditions.append(condition(kind, status, reason))
    pod["status"]["conditions"] = conditions


def image_id(image):
    """What a kubelet reports once the image is pulled: the repository and the manifest's digest
    (containerd's form). Emulated images have no manifest: the digest is the name's SHA-256."""
    name = image.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    if "/" not in name:
        name = "docker.io/library/" + name
    return name + "@sha256:" + hashlib.sha256(image.encode()).hexdigest()


def waiting(c, reason):
    return {"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False, "restartCount": 0, "started": False,
            "state": {"waiting": {"reason": reason}}}


def resident(pgid):
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def kill_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def pod_deleted(key, grace):
    """Called (without the lock) after a Pod left the store: its processes end."""
    run = pods.pop((key[2], key[3]), None)
    if run:
        run.remove(grace)


def shutdown(*_):
    for run in list(pods.values()):
        run.stop(grace=0)
    os._exit(0)


def hook(parts):
    """The kubelet's test hooks; True when `parts` named one."""
    if parts[1] == "cut-logs":
        cuts[0] += 1
        return True
    if parts[1] == "evict" and (parts[2], parts[3]) in pods:
        threading.Thread(target=pods[(parts[2], parts[3])].evict, daemon=True).start()
        return True
    return False


# --- the pod log endpoint ------------------------------------------------------------------

def logs(handler, namespace, name, q):
    """GET /api/v1/namespaces/<ns>/pods/<name>/log"""
    with em.lock:
        pod = em.store.get(("", "pods", namespace, name))
        pod = copy.deepcopy(pod) if pod else None
    if pod is None:
        return handler.send_json(*em.status(404, "NotFound", f'pods "{name}" not found', {"name": name, "kind": "pods"}))
    spec = pod["spec"]
    init = [c["name"] for c in spec.get("initContainers") or []]
    main = [c["name"] for c in spec.get("containers") or []]
    container = q.get("container")
    if not container:
        if len(main) != 1:
            return handler.send_json(*em.status(400, "BadRequest",
                f"a container name must be specified for pod {name}, choose one of: [{' '.join(main)}]"
                + (f" or one of the init containers: [{' '.join(init)}]" if init else "")))
        container = main[0]
    if container not in init + main:
        return handler.send_json(*em.status(400, "BadRequest", f"container {container} is not valid for pod {name}"))
    statuses = pod["status"].get("initContainerStatuses", []) + pod["status"].get("containerStatuses", [])
    state = next((s["state"] for s in statuses if s["name"] == container), {"waiting": {"reason": "ContainerCreating"}})
    run = pods.get((namespace, name))
    path = run.log_path(container) if run else None
    if "waiting" in state or not path or not os.path.exists(path):
        reason = state.get("waiting", {}).get("reason", "ContainerCreating")
        return handler.send_json(*em.status(400, "BadRequest", f'container "{container}" in pod "{name}" is waiting to start: {reason}'))
    follow = q.get("follow") in ("true", "1")
    timestamps = q.get("timestamps") in ("true", "1")
    since = seconds(q.get("sinceTime"))
    cut_at_start = cuts[0]
    handler.send_response(200)
    handler.send_header("Content-Type", "text/plain")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    try:
        with open(path, "rb") as f:
            partial = b""
            while True:
                chunk = f.read(65536)
                if chunk:
                    lines = (partial + chunk).split(b"\n")
                    partial = lines.pop()
                    out = []
                    for line in lines:
                        when, _, text = line.partition(b" ")
                        if since is not None and (seconds(when.decode()) or 0) < since:
                            continue
                        out.append((line if timestamps else text) + b"\n")
                    if out:
                        data = b"".join(out)
                        handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        handler.wfile.flush()
                    continue
                if cuts[0] != cut_at_start:
                    break   # cut by the test hook: the stream ends with the container still running
                if not follow or container in run.ended or run.finished.is_set() or (namespace, name) not in pods:
                    # One more read: the last lines may have landed after the end was seen.
                    if f.read(1):
                        f.seek(-1, 1)
                        continue
                    break
                time.sleep(0.05)
        handler.wfile.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
