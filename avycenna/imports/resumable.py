"""Resumable uploads of an export, the rules (callable without HTTP; the tus protocol's headers
are `avycenna.imports.tus`).

An upload is created with its length (at most IMPORTS_MAX_CONTENT_LENGTH) and an empty private
file under `instance/imports/`; pieces of at most IMPORTS_UPLOAD_CHUNK_SIZE bytes are then
appended, each at the offset the server holds. A piece is written by one request at a time:

1. a conditional UPDATE makes the request the upload's writer, only `WHERE id = ? AND offset = ?`
   and no other writer holds it (rowcount checked: of two requests racing with one offset,
   one wins, the other is a 409);
2. the file is cut back to the offset (whatever a request cut off before left past it goes),
   the piece written and synced to disk;
3. a second conditional UPDATE moves the offset, only from the same offset and while this
   request is still the writer. The last piece, in the same transaction, makes the file a
   queued import exactly as a multipart upload does (`service.add`).

An unfinished upload expires IMPORTS_UPLOAD_EXPIRES seconds after its last change:
housekeeping deletes it and its bytes (`expire`). The owner may delete it before (`terminate`).
"""
import logging
import os
import secrets
from datetime import timedelta

from flask import current_app

from avycenna.audit.service import record
from avycenna.clock import utcnow
from avycenna.auth.models import User
from avycenna.db import locked, write_transaction
from avycenna.errors import fail
from avycenna.imports import service
from avycenna.imports.models import ImportUpload
from avycenna.private import open_private

log = logging.getLogger("avycenna")
WRITER_SECONDS = 60  # how long a piece's writer holds the upload if its request dies mid-write
BLOCK = 64 * 1024  # bytes copied at a time from the request to the file
AUDIT_TARGET = "import_upload"


def _config(name):
    return int(current_app.config[name])


def max_length():
    return _config("IMPORTS_MAX_CONTENT_LENGTH")


def max_piece():
    return min(_config("IMPORTS_UPLOAD_CHUNK_SIZE"), _config("MAX_REQUEST_BODY_SIZE"))


def _expires(now):
    return now + timedelta(seconds=_config("IMPORTS_UPLOAD_EXPIRES"))


def _live(now):
    return ImportUpload.expires_at > now


def start(patient, user, length, filename):
    """A new upload of `length` bytes for `patient`, by `user`; returns it."""
    if length > max_length():
        fail(413, f"The file is too large: at most {max_length()} bytes.")
    now = utcnow()
    upload = ImportUpload(patient=patient, account=user, filename=(filename or "export")[:255], length=length,
                          created_at=now, expires_at=_expires(now))
    upload.path = os.path.join(service.upload_dir(), f"resumable-{upload.id}.part")
    open_private(upload.path, "wb").close()
    try:
        with write_transaction():
            _within_the_account_limit(user, now)
            upload.save(force_insert=True)
            record("wearables.import.upload.create", patient_id=patient.id, target_type=AUDIT_TARGET,
                   target_id=upload.id, bytes=length)
    except Exception:
        service.remove_file(upload.path)
        raise
    if length == 0:  # nothing to wait for: complete at once
        return _complete(upload, 0, None)[0]
    return upload


def _within_the_account_limit(user, now):
    """Refuse a new upload while the account has IMPORTS_UPLOADS_PER_ACCOUNT unfinished ones. Run
    in the transaction that inserts it: the account's row is held (on PostgreSQL; SQLite's one
    writer already serializes), so two uploads started at once are counted one after the other."""
    locked(User.select(User.id).where(User.id == user.id)).first()
    unfinished = ImportUpload.select().where((ImportUpload.account == user) & _live(now)
                                             & ImportUpload.wearable_import.is_null()).count()
    if unfinished >= _config("IMPORTS_UPLOADS_PER_ACCOUNT"):
        fail(409, f"Too many unfinished uploads ({unfinished}): finish or delete one first.")


def get(patient, upload_id):
    """The patient's upload `upload_id`, unless it expired; a 404 otherwise."""
    upload = ImportUpload.get_or_none((ImportUpload.id == upload_id) & (ImportUpload.patient == patient)
                                      & _live(utcnow()))
    if upload is None:
        fail(404, "Not found.")
    return upload


def append(upload, offset, stream, size):
    """Write the `size` bytes of `stream` at `offset`; returns (the upload, its import if this
    piece completed it, else None). 409 if `offset` is not the upload's offset or another request
    is writing it; 413 if the piece is over IMPORTS_UPLOAD_CHUNK_SIZE or past the upload's length."""
    if offset != upload.offset:
        fail(409, f"Upload-Offset {offset} does not match the upload's offset {upload.offset}.")
    if upload.wearable_import_id is not None:
        fail(409, "The upload is already complete.")
    if size > max_piece():
        fail(413, f"A piece may be at most {max_piece()} bytes.")
    if offset + size > upload.length:
        fail(413, f"The piece would end past the upload's length ({upload.length} bytes).")
    writer = secrets.token_hex(16)
    now = utcnow()
    claimed = ImportUpload.update(writer=writer, writer_until=now + timedelta(seconds=WRITER_SECONDS)).where(
        (ImportUpload.id == upload.id) & (ImportUpload.offset == offset) & _live(now)
        & ImportUpload.wearable_import.is_null()
        & (ImportUpload.writer.is_null() | (ImportUpload.writer_until < now))).execute()
    if claimed != 1:
        fail(409, "Another request changed this upload: ask for its offset (HEAD) and go on from there.")
    try:
        written = _write(upload.path, offset, stream, size)
    except BaseException:
        _release(upload, writer)
        raise
    if offset + written == upload.length:
        return _complete(upload, offset + written, writer)
    return _advance(upload, offset, written, writer), None


def _write(path, offset, stream, size):
    """Bytes of `stream` (up to `size`) written to `path` at `offset` and synced; how many."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, offset)
        os.lseek(fd, offset, os.SEEK_SET)
        written = 0
        while written < size:
            block = stream.read(min(BLOCK, size - written))
            if not block:
                break  # the client sent less than it said: what came is kept
            view = memoryview(block)
            while view:
                view = view[os.write(fd, view):]
            written += len(block)
        os.fsync(fd)
        return written
    finally:
        os.close(fd)


def _moved(upload, start, writer, **fields):
    """The conditional update that moves an upload on from offset `start`, only while `writer` holds it."""
    now = utcnow()
    changed = ImportUpload.update(writer=None, writer_until=None, expires_at=_expires(now), **fields).where(
        (ImportUpload.id == upload.id) & (ImportUpload.offset == start) & (ImportUpload.writer == writer)
    ).execute()
    if changed != 1:
        fail(409, "Another request changed this upload: ask for its offset (HEAD) and go on from there.")
    for name, value in dict(fields, expires_at=_expires(now), writer=None).items():
        setattr(upload, name, value)
    return upload


def _advance(upload, offset, written, writer):
    with write_transaction():
        _moved(upload, offset, writer, offset=offset + written)
        record("wearables.import.upload.append", patient_id=upload.patient_id, target_type=AUDIT_TARGET,
               target_id=upload.id, offset=offset, bytes=written)
    return upload


def _complete(upload, end, writer):
    """The last piece is in: the file becomes a queued import, in the offset's own transaction."""
    start = upload.offset
    with write_transaction():
        item = service.add(upload.patient, upload.account, upload.path, upload.filename)
        if writer is None:  # an empty upload: nothing was written
            ImportUpload.update(wearable_import=item, path=None).where(ImportUpload.id == upload.id).execute()
            upload.wearable_import, upload.path = item, None
        else:
            _moved(upload, start, writer, offset=end, wearable_import=item, path=None)
        record("wearables.import.upload.complete", patient_id=upload.patient_id, target_type=AUDIT_TARGET,
               target_id=upload.id, offset=start, bytes=end - start, import_id=item.id)
    service.queue(item)
    return upload, item


def _release(upload, writer):
    ImportUpload.update(writer=None, writer_until=None).where(
        (ImportUpload.id == upload.id) & (ImportUpload.writer == writer)).execute()


def terminate(upload):
    """Delete an upload and its bytes (tus termination); 409 while a piece is being written."""
    now = utcnow()
    with write_transaction():
        deleted = ImportUpload.delete().where(
            (ImportUpload.id == upload.id)
            & (ImportUpload.writer.is_null() | (ImportUpload.writer_until < now))).execute()
        if deleted != 1:
            fail(409, "A piece of this upload is being written; try again.")
        record("wearables.import.upload.delete", patient_id=upload.patient_id, target_type=AUDIT_TARGET,
               target_id=upload.id, offset=upload.offset)
    service.remove_file(upload.path)  # None once an import has the file: the import keeps it


def expire():
    """Delete every upload past its Upload-Expires, with its bytes; returns how many."""
    now = utcnow()
    due = (ImportUpload.expires_at < now) & (ImportUpload.writer.is_null() | (ImportUpload.writer_until < now))
    expired = 0
    for upload in ImportUpload.select().where(due).limit(1000):
        with write_transaction():
            if ImportUpload.delete().where((ImportUpload.id == upload.id) & due).execute() != 1:
                continue  # renewed since the select
            record("wearables.import.upload.expire", patient_id=upload.patient_id, target_type=AUDIT_TARGET,
                   target_id=upload.id, user_id=upload.account_id, offset=upload.offset,
                   complete=upload.wearable_import_id is not None)
        service.remove_file(upload.path)
        expired += 1
    return expired
