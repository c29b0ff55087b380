"""Photo protocols: the standard series of views a practice takes, and whether a set is complete."""
