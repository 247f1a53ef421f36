"""Model -> Atlas JSON."""
