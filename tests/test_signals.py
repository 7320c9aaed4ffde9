"""Domain events: every signal a lower package sends is heard once the app is built.

A package tells the ones above it that something changed through `avycenna.signals`
instead of importing them; a signal with no receiver would silently drop a rule (a paid
invoice that releases nothing). The behaviour each one carries is tested with its
package (billing, checkout, patients); this checks the wiring.
"""
from blinker import NamedSignal

from avycenna import signals


def test_every_signal_has_its_receiver(app):
    named = {name: value for name, value in vars(signals).items() if isinstance(value, NamedSignal)}
    assert named, "avycenna.signals declares no signal"
    unheard = [name for name, signal in named.items() if len(signal.receivers) != 1]
    assert unheard == []
