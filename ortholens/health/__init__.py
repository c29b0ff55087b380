"""Liveness, readiness and metrics for orchestrators and monitoring."""
