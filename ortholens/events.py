"""The names of the domain events, in one place: the domain that emits an event and the domains that
listen to it both import its name from here, so neither imports the other (`ortholens.kit.events`
is the mechanism). Each name's comment lists the payload every emitter sends.
"""

from __future__ import annotations

SCAN_REVIEWED = "scan.reviewed"
"""A check-in was reviewed or its status changed: scan_session_id, patient_id, clinic_id, status."""

MESSAGE_SENT = "message.sent"
"""A message was added to a thread: message_id, thread_id, patient_id, clinic_id, sender_type."""
