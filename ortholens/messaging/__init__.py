"""Patient-clinic messaging (seed 004 section 4): threads per patient, messages, unread counts."""
