"""The audit trail API: clinic admins read and verify their clinic's audit log.

Apart from `ortholens.audit` (the recorder every domain writes to, below `auth`) because reading the
trail is itself a route that `auth` guards: the recorder must not depend on the guard.
"""
