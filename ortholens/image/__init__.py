"""The imaging record: processing of originals, the gallery, soft delete and integrity."""
