"""Which source counts when two devices measure the same thing: the holder's priority.

Like the Health app, a summary of an amount (steps, distance, energy, sleep, workouts)
takes one source per hour, the first in this order that has data in that hour: the
sources the holder listed, in their order; then any source named like a watch; then the
rest by name. Raw samples are never changed by it.

Each source also has an id (`wsrc_…`, a WearableSource row made when it first sends):
events name the source by it, since the name is text a device chose.
"""
import json

from avycenna.db import write_transaction
from avycenna.wearables.models import WearableHourly, WearableSource, WearableSourceOrder


def source_id(patient, name):
    """The id of `patient`'s source called `name`, made on first use (safe under concurrent
    ingests: the insert does nothing when another made it first). Call inside a transaction.

    A source sends again and again, so the id is read first: one SELECT, and no write, on
    every ingest after its first."""
    def existing():
        return (WearableSource.select(WearableSource.id)
                .where((WearableSource.patient == patient) & (WearableSource.name == name)).scalar())

    found = existing()
    if found is None:
        WearableSource.insert(patient=patient, name=name).on_conflict_ignore().execute()
        found = existing()
    return found


def find_source(patient, source_id):
    """`patient`'s source with this id, or None."""
    return WearableSource.get_or_none((WearableSource.id == source_id) & (WearableSource.patient == patient))


def source_ids(patient):
    """{name: id} of every source `patient` has."""
    return dict(WearableSource.select(WearableSource.name, WearableSource.id)
                .where(WearableSource.patient == patient).tuples())


def chosen_order(patient):
    """The holder's list (may be empty)."""
    row = WearableSourceOrder.get_or_none(WearableSourceOrder.patient == patient)
    return json.loads(row.sources) if row is not None else []


def rank(order):
    """Sort key for a source name under `order`: listed first, then watches, then by name."""
    position = {name: i for i, name in enumerate(order)}

    def key(source):
        if source in position:
            return 0, position[source], ""
        return (1 if "watch" in source.lower() else 2), 0, source.lower()
    return key


def known_sources(patient):
    """Every source with rolled-up data for this patient, in priority order."""
    h = WearableHourly
    names = [r for (r,) in h.select(h.source).where(h.patient == patient).distinct().tuples()]
    return sorted(names, key=rank(chosen_order(patient)))


def set_order(patient, sources):
    """Replace the holder's priority list (first wins); returns the sources in effect order."""
    text = json.dumps(list(dict.fromkeys(sources)))
    with write_transaction():
        (WearableSourceOrder.insert(patient=patient, sources=text)
         .on_conflict(conflict_target=[WearableSourceOrder.patient], update={WearableSourceOrder.sources: text})
         .execute())
    return known_sources(patient)
