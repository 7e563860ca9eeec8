"""Prometheus metrics of devpi-server at GET /+metrics, from devpi's own process (prometheus_client).

Why in the process: the serial, the replica's view of its primary, replication errors and devpi's own plugin
metrics are read where devpi keeps them (the same code that answers /+status), request counts and latency are
measured by a tween around every request, and no second service has to be kept running, hardened and watched.

Off unless ``--metrics on``. Served only to loopback and the ``--metrics-trusted-networks`` (the client address
is worked out as hostnative-devpi-guard does: the peer, or X-Real-IP from a ``--root-trusted-proxies`` proxy);
anybody else gets 403. No metric or label carries a user name, a password hash or a token: labels are the HTTP
method (a fixed set), the status code, devpi's version and role.

``--metrics-textfile-dir``: ``*.prom`` files there (Prometheus text format, written atomically by other jobs such
as the collection's backup) are parsed and served with devpi's own metrics, like node_exporter's textfile
collector does.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

from hostnative_devpi_guard import LOOPBACK, client_address, parse_networks, within
from pluggy import HookimplMarker
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pyramid.response import Response
from pyramid.tweens import INGRESS

hookimpl = HookimplMarker("devpiserver")

PATH = "/+metrics"
# The classic text format every Prometheus 2.x reads (the names served here need none of the newer escaping).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Request latency buckets (seconds): a simple page from the database takes ~1 ms, a mirror miss up to the proxy
# timeout.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Walking +files for the bytes the server directory uses is done at most this often (seconds).
DISK_WALK_INTERVAL = 300


def method_label(method):
    """The request method as a label: one of a fixed set, so a client cannot grow the label space."""
    return method if method in METHODS else "other"


def role_of(is_replica, configured_role):
    if is_replica:
        return "replica"
    return "standalone" if configured_role == "standalone" else "primary"


def tree_bytes(path):
    """Bytes the regular files below `path` take (apparent size), without following links."""
    total = 0
    stack = [path]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total


# cgroup v1's "no limit" is the largest page-aligned value, far above any real one.
V1_UNLIMITED = 2**62


def _read_limit(path):
    try:
        value = Path(path).read_text().strip()
    except OSError:
        return None
    return int(value) if value.isdigit() and int(value) < V1_UNLIMITED else None


def cgroup_memory(proc_cgroup="/proc/self/cgroup", root="/sys/fs/cgroup"):
    """{name: bytes} of the memory limits of this process's cgroup (systemd's MemoryHigh/MemoryMax): cgroup v2's
    memory.high and memory.max, or v1's memory.limit_in_bytes as "max". Empty where there are none (macOS, no
    limit, a cgroup this process cannot see)."""
    try:
        lines = Path(proc_cgroup).read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        _number, controllers, path = line.split(":", 2)
        if controllers == "":
            for name in ("high", "max"):
                limit = _read_limit(f"{root}{path}/memory.{name}")
                if limit is not None:
                    found[name] = limit
        elif "memory" in controllers.split(","):
            limit = _read_limit(f"{root}/memory{path}/memory.limit_in_bytes")
            if limit is not None:
                found.setdefault("max", limit)
    return found


def max_rss_bytes():
    """The process's peak resident set size (getrusage: kilobytes on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def textfile_families(directory):
    """The metric families of every *.prom file in `directory` (sorted by name); an unreadable or malformed file
    is reported by devpi_metrics_textfile_error{file} and skipped."""
    families, errors = (
        [],
        GaugeMetricFamily(
            "devpi_metrics_textfile_error",
            "1 when a *.prom file of the textfile directory could not be read",
            labels=["file"],
        ),
    )
    for path in sorted(Path(directory).glob("*.prom")) if directory else ():
        try:
            parsed = list(text_string_to_metric_families(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, UnicodeDecodeError):
            errors.add_metric([path.name], 1)
            continue
        errors.add_metric([path.name], 0)
        families.extend(parsed)
    return families, errors


class DiskUsage:
    """The server directory's bytes, walked at most every DISK_WALK_INTERVAL seconds."""

    def __init__(self, serverdir, interval=DISK_WALK_INTERVAL, clock=time.monotonic):
        self.serverdir = serverdir
        self.interval = interval
        self.clock = clock
        self.lock = threading.Lock()
        self.walked_at = None
        self.used = 0

    def used_bytes(self):
        with self.lock:
            now = self.clock()
            if self.walked_at is None or now - self.walked_at >= self.interval:
                self.used = tree_bytes(self.serverdir)
                self.walked_at = now
            return self.used


def replica_lag(status, now):
    """A replica's lag from its /+status: serials behind its primary, and seconds since it was last in sync (0 while
    it is; since it started when it never was)."""
    serial = status["serial"]
    primary_serial = status.get("primary-serial")
    in_sync_at = status.get("replica-in-sync-at")
    lag = max((serial if primary_serial is None else primary_serial) - serial, 0)
    in_sync = lag == 0 and in_sync_at is not None
    behind = 0 if in_sync else now - (in_sync_at or status.get("replica-started-at") or now)
    return {"lag_serials": lag, "lag_seconds": behind}


def _count(value):
    return len(value or {})


# Gauges read from devpi's /+status: name, help, the status key, and how its value becomes a number (missing or
# null: the default after it).
STATUS_GAUGES = (
    ("devpi_serial", "The serial of the last change this server has", "serial", float, 0),
    (
        "devpi_last_commit_timestamp_seconds",
        "When the last change was committed (Unix time)",
        "last-commit-timestamp",
        float,
        0,
    ),
    (
        "devpi_event_serial",
        "The last serial devpi's event hooks (devpi-web's indexing) processed",
        "event-serial",
        float,
        0,
    ),
    ("devpi_polling_replicas", "Replicas polling this server for changes", "polling_replicas", _count, 0),
)
REPLICA_GAUGES = (
    (
        "devpi_replica_primary_serial",
        "The primary's serial as this replica last heard it (-1: not yet)",
        "primary-serial",
        float,
        -1,
    ),
    ("devpi_replica_lag_serials", "Serials this replica is behind its primary", "lag_serials", float, 0),
    (
        "devpi_replica_in_sync_timestamp_seconds",
        "When this replica was last fully in sync with its primary (Unix time; 0: not yet)",
        "replica-in-sync-at",
        float,
        0,
    ),
    (
        "devpi_replica_lag_seconds",
        "Seconds since this replica was last in sync, 0 while it is",
        "lag_seconds",
        float,
        0,
    ),
    (
        "devpi_replica_primary_contacted_timestamp_seconds",
        "When this replica last reached its primary (Unix time; 0: never)",
        "primary-contacted-at",
        float,
        0,
    ),
    ("devpi_replication_errors", "Replication errors not resolved yet", "replication-errors", _count, 0),
)


def gauges(table, status):
    for name, help_text, key, convert, default in table:
        value = status.get(key)
        yield GaugeMetricFamily(name, help_text, value=default if value is None else convert(value))


class DevpiCollector:
    """What devpi's /+status says, devpi's own plugin metrics, disk, memory and the textfile directory."""

    def __init__(self, xom, textfile_dir=""):
        self.xom = xom
        self.textfile_dir = textfile_dir
        self.serverdir = str(xom.config.server_path)
        self.disk = DiskUsage(self.serverdir)
        self.request = None

    def status(self):
        from devpi_server.views import StatusView  # noqa: PLC0415 - devpi's own view, imported once devpi runs

        return StatusView(self.request)._status()

    def collect(self):
        status = self.status()
        versions = status.get("versioninfo", {})
        role = role_of(status.get("role") == "REPLICA", getattr(self.xom.config.args, "role", ""))
        info = InfoMetricFamily("devpi_server", "devpi-server's version and role")
        info.add_metric(
            ["version", "web_version", "role"],
            {"version": versions.get("devpi-server", ""), "web_version": versions.get("devpi-web", ""), "role": role},
        )
        yield info
        yield from gauges(STATUS_GAUGES, status)
        if role == "replica":
            yield from self.replica(status)
        yield from self.plugin_metrics(status.get("metrics", []))
        yield from self.disk_metrics()
        yield from self.memory_metrics()
        families, errors = textfile_families(self.textfile_dir)
        yield from families
        if self.textfile_dir:
            yield errors

    @staticmethod
    def replica(status):
        yield from gauges(REPLICA_GAUGES, {**status, **replica_lag(status, time.time())})

    @staticmethod
    def plugin_metrics(metrics):
        """devpi's own (devpiserver_metrics hook) metrics; its counters get the conventional _total suffix."""
        for name, kind, value in metrics:
            if kind == "counter":
                yield CounterMetricFamily(name, f"devpi's {name}", value=value)
            else:
                yield GaugeMetricFamily(name, f"devpi's {name}", value=value)

    def disk_metrics(self):
        usage = shutil.disk_usage(self.serverdir)
        yield GaugeMetricFamily(
            "devpi_serverdir_filesystem_free_bytes",
            "Bytes free for devpi on the server directory's file system",
            value=usage.free,
        )
        yield GaugeMetricFamily(
            "devpi_serverdir_filesystem_size_bytes", "Size of the server directory's file system", value=usage.total
        )
        yield GaugeMetricFamily(
            "devpi_serverdir_used_bytes",
            f"Bytes the server directory's files take (walked at most every {DISK_WALK_INTERVAL} s)",
            value=self.disk.used_bytes(),
        )
        database = Path(self.serverdir, ".sqlite")
        if database.exists():
            yield GaugeMetricFamily(
                "devpi_database_size_bytes", "Size of devpi's sqlite database", value=database.stat().st_size
            )

    @staticmethod
    def memory_metrics():
        yield GaugeMetricFamily(
            "devpi_process_max_resident_memory_bytes", "Peak resident memory of devpi-server", value=max_rss_bytes()
        )
        limits = cgroup_memory()
        for name, help_text in (("high", "MemoryHigh"), ("max", "MemoryMax")):
            if name in limits:
                yield GaugeMetricFamily(
                    f"devpi_memory_{name}_bytes",
                    f"The service's {help_text} (cgroup memory.{name})",
                    value=limits[name],
                )


class Metrics:
    """The registry served at /+metrics and the request metrics the tween records into it."""

    def __init__(self, xom, textfile_dir=""):
        # No *_created series: they double what is sent and no rule here needs them.
        disable_created_metrics()
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "devpi_http_requests",
            "HTTP requests devpi-server answered, by method and status code",
            ["method", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "devpi_http_request_duration_seconds",
            "Time devpi-server took to answer, by method",
            ["method"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.devpi = DevpiCollector(xom, textfile_dir)
        self.registry.register(self.devpi)
        # process_* (resident memory, CPU, open files) where /proc has them (Linux).
        ProcessCollector(registry=self.registry)
        self.lock = threading.Lock()

    def observe(self, method, code, seconds):
        label = method_label(method)
        self.requests.labels(label, str(code)).inc()
        self.latency.labels(label).observe(seconds)

    def render(self, request):
        # One scrape at a time: the collector reads devpi's status through this request.
        with self.lock:
            self.devpi.request = request
            try:
                return generate_latest(self.registry)
            finally:
                self.devpi.request = None


def refusal():
    return Response(body=b"metrics are not served to this network\n", status=403, content_type="text/plain")


class MetricsView:
    def __init__(self, metrics, trusted, proxies):
        self.metrics = metrics
        self.trusted = trusted
        self.proxies = proxies

    def __call__(self, request):
        address = client_address(request.client_addr, request.headers.get("X-Real-IP"), self.proxies)
        if not within(address, self.trusted):
            return refusal()
        response = Response(body=self.metrics.render(request))
        response.headers["Content-Type"] = CONTENT_TYPE
        response.headers["Cache-Control"] = "no-store"
        return response


def metrics_tween_factory(handler, registry):
    metrics = registry.get("hostnative_devpi_metrics")
    if metrics is None:
        return handler

    def metrics_tween(request):
        started = time.perf_counter()
        code = 500
        try:
            response = handler(request)
            code = response.status_int
            return response
        finally:
            metrics.observe(request.method, code, time.perf_counter() - started)

    return metrics_tween


@hookimpl
def devpiserver_add_parser_options(parser):
    group = parser.addgroup("Prometheus metrics (hostnative-devpi-metrics)")
    group.addoption("--metrics", default="off", choices=["off", "on"], help="serve Prometheus metrics at " + PATH)
    group.addoption(
        "--metrics-trusted-networks",
        default="",
        help="comma-separated CIDR networks besides loopback that may read " + PATH,
    )
    group.addoption(
        "--metrics-textfile-dir",
        default="",
        help="directory whose *.prom files (Prometheus text format) are served with devpi's metrics",
    )


@hookimpl
def devpiserver_pyramid_configure(config, pyramid_config):
    args = config.args
    if getattr(args, "metrics", "off") != "on":
        return
    xom = pyramid_config.registry["xom"]
    metrics = Metrics(xom, args.metrics_textfile_dir)
    pyramid_config.registry["hostnative_devpi_metrics"] = metrics
    trusted = parse_networks(args.metrics_trusted_networks) + parse_networks(",".join(LOOPBACK))
    view = MetricsView(metrics, trusted, parse_networks(getattr(args, "root_trusted_proxies", ",".join(LOOPBACK))))
    pyramid_config.add_route(PATH, PATH)
    pyramid_config.add_view(view, route_name=PATH, request_method=("GET", "HEAD"))
    # Outermost: the time a client waits, devpi's own tweens included.
    pyramid_config.add_tween("hostnative_devpi_metrics.metrics_tween_factory", under=INGRESS)
