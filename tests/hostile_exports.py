"""Hostile Apple Health exports, written as a stream straight into an export.zip (never built in
memory): what an outside tester used to take the server's memory, a core and its status page.

Each is small as a zip and valid or nearly valid XML; the tests use scaled-down sizes where a
bound stops the parse early anyway, and `python -m bench imports` the full ones.
"""
import zipfile

MEMBER = "apple_health_export/export.xml"
HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n'
        b' <ExportDate value="2026-11-21 10:00:00 +0100"/>\n')
BLOCK = 1 << 20


def record(kind, minute=0, value="70"):
    stamp = f"2026-11-20 {minute // 60 % 24:02d}:{minute % 60:02d}:00 +0000"
    return (f' <Record type="{kind}" sourceName="W" unit="count/min" value="{value}" startDate="{stamp}" '
            f'endDate="{stamp}"/>\n').encode()


HEART_RATE = record("HKQuantityTypeIdentifierHeartRate")


def _write(path, parts):
    """Write the byte strings `parts` yields into `path` as the export.xml of an export.zip."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(MEMBER, "w", force_zip64=True) as member:
            for part in parts:
                member.write(part)
    return path


def _repeat(piece, count):
    block = piece * max(1, BLOCK // len(piece))
    per_block = len(block) // len(piece)
    while count > 0:
        n = min(count, per_block)
        yield block if n == per_block else piece * n
        count -= n


def deep_nesting(path, depth=4_000_000):
    """`<HealthData>` holding `depth` nested `<a>` (4,000,000 is a 27 KB zip)."""
    return _write(path, [HEAD, *_repeat(b"<a>", depth), *_repeat(b"</a>", depth), b"</HealthData>\n"])


def whitespace(path, size=1 << 30):
    """A valid export with `size` bytes of whitespace between two records (1 GiB is a 1 MB zip)."""
    return _write(path, [HEAD, HEART_RATE, *_repeat(b" ", size), record("HKQuantityTypeIdentifierHeartRate", 1),
                         b"</HealthData>\n"])


def long_attribute(path, size=256 << 20):
    """One `<Record value="…">` holding `size` bytes (256 MiB is a 261 KB zip)."""
    return _write(path, [HEAD, b' <Record type="HKQuantityTypeIdentifierHeartRate" value="', *_repeat(b"7", size),
                         b'"/>\n</HealthData>\n'])


def distinct_types(path, count=300_000):
    """`count` records, each of its own unknown type (300,000 is a 2.7 MB zip)."""
    def parts():
        yield HEAD
        for start in range(0, count, 10_000):
            yield b"".join(record(f"HKQuantityTypeIdentifierUnknown{i:07d}", i % 1440)
                           for i in range(start, min(count, start + 10_000)))
        yield b"</HealthData>\n"
    return _write(path, parts())


HOSTILE = {"deep nesting": deep_nesting, "whitespace": whitespace, "long attribute": long_attribute,
           "distinct types": distinct_types}
