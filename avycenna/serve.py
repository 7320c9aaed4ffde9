"""`python app.py`: upgrade the database, then serve with waitress."""
import argparse
import logging

from waitress import serve

from avycenna import jobs
from avycenna.migrate import upgrade


def parse_args(app, argv=None):
    parser = argparse.ArgumentParser(description="Serve the AVYCENNA API with waitress.")
    parser.add_argument("--host", default=app.config["HOST"])
    parser.add_argument("--port", type=int, default=int(app.config["PORT"]))
    parser.add_argument("--threads", type=int, default=int(app.config["THREADS"]))
    return parser.parse_args(argv)


def main(app, argv=None):
    args = parse_args(app, argv)
    with app.app_context():
        applied = upgrade()
    log = logging.getLogger("avycenna")
    if applied:
        log.info("database upgraded: %s", ", ".join(applied))
    base = f"http://{args.host}:{args.port}"
    print(f"AVYCENNA serving on {base}  (docs: {base}/docs  redoc: {base}/redoc  "
          f"health: {base}/health; data in {app.instance_path})", flush=True)
    consumer = jobs.start_embedded_consumer(app) if jobs.embedded(app) else None
    if consumer is None:
        log.info("background jobs run in separate workers: flask --app app worker")
    try:
        serve(app, host=args.host, port=args.port, threads=args.threads, ident="avycenna")
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)
