"""Reusable widgets of the sealtui UI: the frame every screen shares, a lazy JSON tree, a masked secret."""
