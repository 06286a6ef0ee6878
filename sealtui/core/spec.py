"""Facts of the sealed-secret format that several modules need, kept free of heavy imports."""

SUPPORTED_VERSION = "0.1.0"
"""The only payload `version` CDH accepts at unseal."""

WRAP_TYPES = ("A256GCM", "A256CTR")
"""The `wrap_type` values CDH knows; only A256GCM is authenticated."""
