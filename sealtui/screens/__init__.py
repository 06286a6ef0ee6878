"""The screens of the sealtui UI (one module each, styles in the `.tcss` beside it)."""
