"""Streaming XML with bounds, not hope: expat fed a chunk at a time, refusing a file as soon
as it crosses a limit no real export comes near.

Only the elements one level below the root are built (with the few children a caller
asks to keep), handed over as they end and dropped; text between and inside elements is
never kept (an Apple Health export holds everything in attributes), so memory does not
grow with the file, whatever its shape. The bounds:

- depth: elements nested more than `MAX_DEPTH` deep;
- one token: a tag with its attributes, a comment or a declaration longer than `MAX_TOKEN`
  bytes. This is checked after every chunk fed, from how far expat got, so a 256 MiB
  attribute is refused after its first MiB instead of being rescanned by expat for minutes;
- names: more than `MAX_NAMES` distinct element and attribute names;
- entities: only short internal entities (`<!ENTITY watch "Apple Watch">`); an external or
  parameter entity, or one that refers to another, is refused.

Crossing one raises `Refused`, whose message is written for the person who uploaded the file.
"""
import pyexpat
from xml.etree.ElementTree import Element

CHUNK = 64 * 1024  # bytes fed to expat at a time
MAX_DEPTH = 32  # an Apple Health export nests 4 deep at most
MAX_TOKEN = 1 << 20  # bytes of one tag with its attributes, comment or declaration
MAX_NAMES = 1000  # distinct element and attribute names (an export uses a few dozen)
MAX_ENTITIES = 64  # entities declared in the DOCTYPE
MAX_ENTITY_VALUE = 64  # characters of one entity's value: expansion stays small
MAX_KEPT = 64  # children kept under one element (the rest are read and dropped)

ExpatError = pyexpat.ExpatError


class Refused(Exception):
    """The file crossed a bound; the message says which, in words for the person."""


def error_text(error):
    """`no element found` for an ExpatError (its message without the position)."""
    return pyexpat.ErrorString(error.code)


class BoundedParser:
    """Feed bytes with `feed()`, then `close()`; `on_element(elem)` gets each finished element
    one level below the root (an ElementTree `Element` holding its attributes, and of its
    children only those whose tag `keep[elem.tag]` names)."""

    def __init__(self, on_element, keep=None, max_depth=MAX_DEPTH, max_token=MAX_TOKEN, max_names=MAX_NAMES):
        self.on_element, self.keep = on_element, keep or {}
        self.max_depth, self.max_token, self.max_names = max_depth, max_token, max_names
        self.depth, self.current, self.kept, self.fed, self.entities = 0, None, None, 0, 0
        parser = self.parser = pyexpat.ParserCreate()
        parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.EntityDeclHandler = self._entity
        # No character-data handler: expat skips text (whitespace included) without keeping it.

    def _start(self, name, attrs):
        depth = self.depth = self.depth + 1
        if depth == 2:
            self.current, self.kept = Element(name, attrs), self.keep.get(name)
        elif depth == 3:
            if name == self.kept and len(self.current) < MAX_KEPT:
                self.current.append(Element(name, attrs))
        elif depth > self.max_depth:
            raise Refused(f"The file nests elements more than {self.max_depth} deep (line "
                          f"{self.parser.CurrentLineNumber}); an Apple Health export nests 4 deep at most.")

    def _end(self, name):
        if self.depth == 2:
            element, self.current = self.current, None
            self.on_element(element)
        self.depth -= 1

    def _entity(self, name, is_parameter, value, base, system_id, public_id, notation):
        self.entities += 1
        if is_parameter or value is None:
            raise Refused("The file declares an external or parameter entity, which an Apple Health export never does.")
        if self.entities > MAX_ENTITIES or len(value) > MAX_ENTITY_VALUE or "&" in value or "<" in value:
            raise Refused(f"The file declares more, longer or nested entities than an export does (at most "
                          f"{MAX_ENTITIES}, each at most {MAX_ENTITY_VALUE} characters of plain text).")

    def feed(self, data):
        """Parse `data` (bytes); raises `Refused`, or ExpatError for XML that is not well formed."""
        self.fed += len(data)
        parser = self.parser
        parser.Parse(data, False)
        if self.fed - parser.CurrentByteIndex > self.max_token:  # expat is stuck inside one token
            raise Refused(f"The file holds a single tag, attribute or comment longer than "
                          f"{_size(self.max_token)} (from line {parser.CurrentLineNumber}); an Apple Health "
                          f"export never does.")
        if len(parser.intern) > self.max_names:
            raise Refused(f"The file uses more than {self.max_names:,} different element and attribute names; "
                          f"an Apple Health export uses a few dozen.")

    def close(self):
        """The end of the file: ExpatError when it breaks off."""
        self.parser.Parse(b"", True)


def _size(n):
    return f"{n // (1 << 20)} MiB" if n >= 1 << 20 else f"{n:,} bytes"
