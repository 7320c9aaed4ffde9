"""Template filters shared by the pages."""
from avycenna.web import bp


@bp.app_template_filter("when")
def when(value):
    """A stored (naive UTC) datetime as `2026-11-22 10:05 UTC`."""
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M UTC")
