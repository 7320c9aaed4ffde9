"""Domain events: a package tells the packages above it that something changed, without
importing them (blinker, the signal library Flask itself uses).

Each signal names what happened; its receivers live with the package that acts on it and
are connected when that package is imported (the app factory imports them all). A
receiver runs at once, in the sender's thread and transaction, and an error in it
propagates to the sender, as a direct call would.
"""
from blinker import Namespace

_signals = Namespace()

# sender: the paid Invoice. Encounters: release the one-off encounter, or settle every
# encounter of the account that waited on the subscription it pays.
invoice_paid = _signals.signal("invoice-paid")

# sender: the account id whose subscription was cancelled. Encounters: those that waited on
# it get a one-off invoice instead.
subscription_cancelled = _signals.signal("subscription-cancelled")

# sender: the Patient that gave consent or had its ID approved. Encounters: those already
# checked out for this patient may go.
patient_cleared = _signals.signal("patient-cleared")

# Access to patient data narrowed, sent by the service that narrowed it: a grant revoked
# (patient_id, user_id: the clinician), a patient archived (patient_id), an account demoted or
# disabled (user_id). sender: the service's name. FHIR: the bulk exports whose requester may no
# longer read every patient they hold are cancelled and their files deleted.
access_narrowed = _signals.signal("access-narrowed")
