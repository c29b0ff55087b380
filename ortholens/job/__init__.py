"""Job status for the UI, API and CLI."""
