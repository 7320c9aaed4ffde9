"""Reading an uploaded file straight to disk: never the whole body in memory, never /tmp."""
from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import parse_form_data

from avycenna.errors import fail, validation_error
from avycenna.imports.service import remove_file, upload_file


def multipart_limit():
    """The largest multipart upload: the export limit, within the server's own body limit (a
    larger file comes as a resumable upload, in pieces)."""
    return min(current_app.config["IMPORTS_MAX_CONTENT_LENGTH"], current_app.config["MAX_REQUEST_BODY_SIZE"])


def receive_upload(limit):
    """(path, filename, other form fields) of the multipart `file` field of this request.

    The file is written to instance/imports/ as it arrives; a body over `limit` bytes is
    a 413, a body without `file` a 422, and either way nothing is left on disk.
    """
    written, upload = [], None

    def to_disk(total_content_length, content_type, filename, content_length=None):
        written.append(upload_file())
        return written[-1]
    try:
        _, form, files = parse_form_data(request.environ, stream_factory=to_disk, max_content_length=limit,
                                         silent=False)
        upload = files.get("file")
        if upload is not None and not upload.filename:  # a browser's form sent with no file chosen
            upload = None
    except RequestEntityTooLarge:
        fail(413, f"The file is too large: at most {limit} bytes.")
    except ValueError:
        fail(400, "Malformed multipart body.")
    finally:
        for fh in written:
            fh.close()
            if upload is None or fh is not upload.stream:
                remove_file(fh.name)
    if upload is None:
        validation_error(["files", "file"], "Missing data for required field.", "missing")
    return upload.stream.name, upload.filename, form
