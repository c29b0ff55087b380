"""Getting originals into the store: signed direct uploads (patients and staff), confirmation, and
the clean-up of uploads that were never confirmed."""
