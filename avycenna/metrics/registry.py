"""What `/metrics` shows: this process's instruments (or, in multiprocess mode, every
process's, from PROMETHEUS_MULTIPROC_DIR) and the gauges read at scrape time."""
import os

from flask import current_app
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.exposition import choose_encoder

from avycenna.instruments import record_pool_use
from avycenna.metrics.collectors import StateCollector


def build_registry(app):
    """The app's registry for `/metrics`: built once, read at each scrape.

    Without PROMETHEUS_MULTIPROC_DIR: prometheus_client's default registry (this process's
    instruments, and its process and Python gauges). With it: the multiprocess collector,
    which adds up the files every process writes there (no per-process gauges then, as
    prometheus_client documents)."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(StateCollector(app))
    return registry


def exposition(accept):
    """(body, content type) of the metrics, in the format `accept` asks for."""
    app = current_app._get_current_object()
    registry = app.extensions.get("metrics_registry")
    if registry is None:
        registry = app.extensions["metrics_registry"] = build_registry(app)
    record_pool_use()
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type
