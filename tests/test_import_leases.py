"""A running import is held by a lease only its run renews: the sweep re-queues an import only
when its lease has expired, never one whose worker is alive; a run whose lease was taken stops;
two workers racing for one import never both run it; attempts are capped, across restarts."""
import shutil
import threading
from datetime import timedelta

import pytest

from tests.factories import audit_events
from tests.test_apple_health import SAMPLE


@pytest.fixture
def queued(app, patient, owner):
    """A queued import of the sample export (no worker running: it waits)."""
    from avycenna.db import database
    from avycenna.imports import service

    with app.app_context(), database.obj.connection_context():
        handle = service.upload_file()
        handle.close()
        shutil.copyfile(SAMPLE, handle.name)
        return service.create(patient, owner, handle.name, "export.xml").id


def row(app, import_id):
    from avycenna.db import database
    from avycenna.imports.models import WearableImport

    with app.app_context(), database.obj.connection_context():
        return WearableImport.get_by_id(import_id)


def test_two_workers_racing_run_an_import_once(app, queued):
    from avycenna.imports.service import run_import

    start = threading.Barrier(2)

    def worker():
        start.wait()
        run_import.call_local(queued)
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    item = row(app, queued)
    assert item.status == "done" and item.attempts == 1 and item.lease_owner is None
    assert [e.action for e in audit_events(app, action="wearables.import.done")] == ["wearables.import.done"]


def test_the_sweep_leaves_a_leased_import_alone_and_takes_back_an_expired_one(app, queued):
    """A slow worker's progress may be old, but while its lease runs nobody else gets the
    import; once it has expired the sweep queues it again and the old run, back, is refused."""
    from avycenna import jobs
    from avycenna.clock import utcnow
    from avycenna.db import database
    from avycenna.imports import service
    from avycenna.imports.models import WearableImport

    with app.app_context(), database.obj.connection_context():
        jobs.bulk.flush()
        assert service.claim(queued, "run-a") and not service.claim(queued, "run-b")
        WearableImport.update(heartbeat_at=utcnow() - timedelta(hours=1)).where(WearableImport.id == queued).execute()
        assert service.resume_stale() == [] and row(app, queued).status == "running"
        service.renew(queued, "run-a", bytes_read=10)
        with pytest.raises(service.LeaseLost):
            service.renew(queued, "run-b", bytes_read=20)

        WearableImport.update(lease_expires_at=utcnow() - timedelta(seconds=1)).where(
            WearableImport.id == queued).execute()
        assert service.resume_stale() == [queued]
        assert row(app, queued).status == "queued" and row(app, queued).lease_owner is None
        assert service.claim(queued, "run-b")
        with pytest.raises(service.LeaseLost):  # the first run comes back: it must stop
            service.renew(queued, "run-a", bytes_read=30)
        assert row(app, queued).lease_owner == "run-b" and row(app, queued).attempts == 2


def test_a_run_that_lost_its_lease_stops_and_leaves_the_import_to_its_owner(app, queued, monkeypatch):
    from avycenna.db import database
    from avycenna.imports import service
    from avycenna.imports.models import WearableImport
    from avycenna.wearables import apple_health

    real = apple_health.import_export

    def taken_mid_import(patient, path, progress=None, **kwargs):
        WearableImport.update(lease_owner="another-run").where(WearableImport.id == queued).execute()
        progress(100, None)  # the next renewal finds the lease taken
        return real(patient, path, progress, **kwargs)
    monkeypatch.setattr(apple_health, "import_export", taken_mid_import)
    service.run_import.call_local(queued)
    item = row(app, queued)
    assert item.status == "running" and item.lease_owner == "another-run" and item.path is not None
    with app.app_context(), database.obj.connection_context():
        assert service.os.path.exists(item.path)  # the owner still needs the file
    assert audit_events(app, action="wearables.import.done") == []


def test_attempts_are_capped_then_the_import_fails_with_the_reason(app, app_config, queued):
    from avycenna import jobs
    from avycenna.clock import utcnow
    from avycenna.db import database
    from avycenna.imports import service
    from avycenna.imports.models import WearableImport

    path = row(app, queued).path
    with app.app_context(), database.obj.connection_context():
        jobs.bulk.flush()
        assert app.config["IMPORTS_MAX_ATTEMPTS"] == 3
        WearableImport.update(status="running", attempts=3, lease_owner="gone",
                              lease_expires_at=utcnow() - timedelta(seconds=1)).where(
            WearableImport.id == queued).execute()
        assert service.resume_stale() == []
        assert not service.claim(queued, "late")
    item = row(app, queued)
    assert item.status == "failed" and "stopped after 3 attempts" in item.error and item.path is None
    assert not service.os.path.exists(path)
    assert [e.action for e in audit_events(app, action="wearables.import.failed")] == ["wearables.import.failed"]


def test_a_claim_is_refused_once_the_attempts_are_spent(app, queued):
    from avycenna.db import database
    from avycenna.imports import service
    from avycenna.imports.models import WearableImport

    with app.app_context(), database.obj.connection_context():
        WearableImport.update(attempts=3).where(WearableImport.id == queued).execute()
        assert not service.claim(queued, "run")
        WearableImport.update(attempts=2).where(WearableImport.id == queued).execute()
        assert service.claim(queued, "run")
