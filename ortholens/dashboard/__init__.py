"""The doctor's dashboard (seed 004 section 5): summary, feed, compliance and tagging analytics."""
