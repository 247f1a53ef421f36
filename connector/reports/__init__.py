"""Reports rendered from a run record."""
