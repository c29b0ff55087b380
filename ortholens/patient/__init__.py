"""Patients of a clinic (seed 004 section 1): the record, its list and search, archiving, and the
one-time portal invitations staff hand to a patient."""
