"""Domain-free plumbing: database, object storage, jobs, crypto, errors, logging."""
