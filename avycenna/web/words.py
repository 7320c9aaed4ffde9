"""Codes in people's words, for the pages: relationships, sexes, document types, countries,
encounters (a title from the question, never `enc_…`) and who wrote a message.

The API keeps its codes; only what a page shows is translated here. Country names come
from `pycountry` (ISO 3166-1), so a form offers every country by name and stores its code.
"""
from functools import lru_cache

import pycountry

from avycenna.web.blueprint import bp

RELATIONSHIPS = {"self": "Myself", "spouse": "Spouse or partner", "child": "Child", "parent": "Parent",
                 "guardian": "Guardian", "dependent": "Dependent", "other": "Someone else"}
SEXES = {"female": "Female", "male": "Male", "intersex": "Intersex", "unknown": "Not known"}
DOCUMENT_TYPES = {"passport": "Passport", "drivers_license": "Driver's licence",
                  "national_id": "National ID card", "residence_permit": "Residence permit",
                  "other": "Other document"}
AUTHORS = {"clinician": "Clinician", "agent": "Your assistant", "account": "You", "member": "You",
           "system": "The clinic"}
TITLE_LENGTH = 60


def choices(labels):
    """(code, words) pairs for a form's select, in the order given."""
    return list(labels.items())


@lru_cache(maxsize=1)
def country_choices():
    """(alpha-2 code, name) for every ISO 3166-1 country, by name."""
    return sorted(((c.alpha_2, getattr(c, "common_name", c.name)) for c in pycountry.countries),
                  key=lambda pair: pair[1])


@bp.app_template_filter("country_name")
def country_name(code):
    """`DE` → "Germany"; an unknown code is shown as it is."""
    country = pycountry.countries.get(alpha_2=code) if code else None
    return getattr(country, "common_name", None) or getattr(country, "name", None) or (code or "")


@bp.app_template_filter("relationship_label")
def relationship_label(code):
    return RELATIONSHIPS.get(code, (code or "").replace("_", " "))


@bp.app_template_filter("sex_label")
def sex_label(code):
    return SEXES.get(code, "Not given") if code else "Not given"


@bp.app_template_filter("document_label")
def document_label(code):
    return DOCUMENT_TYPES.get(code, (code or "").replace("_", " ").capitalize())


def excerpt(text, length=TITLE_LENGTH):
    """The start of `text` on one line, cut at a word and marked with … when longer."""
    flat = " ".join((text or "").split())
    if len(flat) <= length:
        return flat
    return flat[:length].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


@bp.app_template_filter("encounter_title")
def encounter_title(encounter):
    """An encounter as people name it: the start of its question and the day it was asked."""
    from avycenna.encounters.service import latest_query

    return f"“{excerpt(latest_query(encounter))}” ({encounter.created_at:%d %b %Y})"


@bp.app_template_filter("query_excerpt")
def query_excerpt(encounter, length=200):
    """The start of the encounter's latest question, for the queue."""
    from avycenna.encounters.service import latest_query

    return excerpt(latest_query(encounter), length)


@bp.app_template_filter("author_label")
def author_label(message):
    """Who wrote a message: the clinician by name, else their role in words."""
    if message.author_role == "clinician" and message.author_id:
        author = message.author
        return author.name or "Your clinician"
    return AUTHORS.get(message.author_role, message.author_role.replace("_", " ").capitalize())
