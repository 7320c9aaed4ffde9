"""The Blueprint every REST resource is built on: its arguments are read by the strict parser.

It lives apart from `avycenna.api` (which lists and registers every blueprint), so a
resource's views import it without importing the registry that imports them.
"""
import flask_smorest

from avycenna.jsonbody import Parser


class Blueprint(flask_smorest.Blueprint):
    """Every resource's blueprint: arguments are read by the strict parser (`avycenna.jsonbody`)."""

    ARGUMENTS_PARSER = Parser()
