"""The audit log: every PHI touch, sign-in and denied attempt, hash-chained per clinic."""
