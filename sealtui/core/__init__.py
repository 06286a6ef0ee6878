"""The format and the crypto of sealed secrets. Imports no Textual, no SDK and no network code."""
