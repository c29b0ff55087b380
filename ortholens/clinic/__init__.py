"""Clinics (the tenants) and their staff, managed by clinic administrators."""
