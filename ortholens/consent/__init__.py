"""Consents a patient (or their guardian) gives for photography, marketing and education, with
expiry and revocation; `service.require_valid_consent` is what capture features ask before
accepting photos."""
