"""Remote-monitoring review: the doctor's tag vocabulary and AI tag suggestions for a scan session."""
