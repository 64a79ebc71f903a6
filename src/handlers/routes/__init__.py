"""Route groups: public (read-only catalog) and admin (catalog writes)."""
