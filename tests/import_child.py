"""`python -m tests.import_child INSTANCE DATABASE_URL KIND SIZE`: in a process of its own, set
up an account and a patient, write an export (`sample`, or a hostile kind from
tests/hostile_exports.py) as an upload, run the import job, and print the import's public
status and this process's peak memory (ru_maxrss) as JSON, so a test measures the import alone.

An empty DATABASE_URL means a SQLite file of its own in INSTANCE (two processes opening one
SQLite file the suite's apps keep re-opening would race SQLite's POSIX locks)."""
import json
import logging
import os
import resource
import shutil
import sys
import time
import uuid
from datetime import date


def main(instance, database_url, kind, size):
    from avycenna import create_app
    from avycenna.auth.users import create_user
    from avycenna.db import database
    from avycenna.imports import service
    from avycenna.migrate import upgrade
    from avycenna.patients.models import Patient
    from tests import hostile_exports
    from tests.test_apple_health import SAMPLE

    logging.disable(logging.WARNING)
    app = create_app({"SECRET_KEY": "x" * 32, "INSTANCE_PATH": instance, "QUEUE_NAME": "child-" + uuid.uuid4().hex,
                      "DATABASE_URL": database_url or "sqlite:///" + os.path.join(instance, "child.sqlite3")})
    with app.app_context():
        upgrade()
        with database.obj.connection_context():
            user = create_user(f"child-{uuid.uuid4().hex[:8]}@example.test")
            patient = Patient.create(account=user, name="Child", date_of_birth=date(1980, 1, 1), relationship="self")
            handle = service.upload_file()
            handle.close()
            if kind == "sample":
                shutil.copyfile(SAMPLE, handle.name)
            else:
                hostile_exports.HOSTILE[kind](handle.name, size)
            import_id = service.create(patient, user, handle.name, "export.zip").id
    started = time.perf_counter()
    service.run_import.call_local(import_id)
    seconds = time.perf_counter() - started
    with app.app_context(), database.obj.connection_context():
        body = service.present(service.WearableImport.get_by_id(import_id))
        left = os.listdir(service.upload_dir())
    print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "status": body, "uploads_left": left}, default=str))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
