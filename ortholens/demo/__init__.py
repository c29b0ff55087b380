"""Demo data for trying OrthoLens: one clinic, a staff member of every role, a few patients."""
