"""sealtui: seal and inspect Confidential Containers sealed secrets.

The Python API (everything user-caused raises a `SealtuiError` subclass)::

    >>> import sealtui
    >>> report = sealtui.inspect("sealed.fakejwsheader.e30.fakesignature")
    >>> report.form, report.verdicts["cdh"]
    ('fake-jws', 'rejected')

Names are imported on first use, so `import sealtui` stays light (no Textual, no SDK).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sealtui.core.codec import Form, SealedSecret, decode, encode_sealed
    from sealtui.core.codec import parse_sealed as parse
    from sealtui.core.diff import Comparison
    from sealtui.core.diff import compare as diff
    from sealtui.core.envelope import open_envelope, seal_envelope
    from sealtui.core.errors import (
        CredentialError,
        InvalidInputError,
        ProviderError,
        SealtuiError,
        UsageError,
        VerificationError,
    )
    from sealtui.core.jws import Jwk, JwkSigner, generate_jwk, keygen, load_jwk
    from sealtui.core.lint import inspect
    from sealtui.core.manifest import SecretManifest
    from sealtui.core.manifest import build_manifest as manifest
    from sealtui.core.models import EnvelopePayload, VaultPayload
    from sealtui.core.report import Finding, InspectionReport
    from sealtui.core.scan import ScanResult
    from sealtui.core.vault import seal_vault
    from sealtui.core.verify import verify_sealed as verify
    from sealtui.service.review import scan_manifests as scan

_EXPORTS: dict[str, tuple[str, str]] = {
    "inspect": ("sealtui.core.lint", "inspect"),
    "parse": ("sealtui.core.codec", "parse_sealed"),
    "decode": ("sealtui.core.codec", "decode"),
    "encode_sealed": ("sealtui.core.codec", "encode_sealed"),
    "Form": ("sealtui.core.codec", "Form"),
    "SealedSecret": ("sealtui.core.codec", "SealedSecret"),
    "verify": ("sealtui.core.verify", "verify_sealed"),
    "seal_vault": ("sealtui.core.vault", "seal_vault"),
    "seal_envelope": ("sealtui.core.envelope", "seal_envelope"),
    "open_envelope": ("sealtui.core.envelope", "open_envelope"),
    "keygen": ("sealtui.core.jws", "keygen"),
    "load_jwk": ("sealtui.core.jws", "load_jwk"),
    "generate_jwk": ("sealtui.core.jws", "generate_jwk"),
    "Jwk": ("sealtui.core.jws", "Jwk"),
    "JwkSigner": ("sealtui.core.jws", "JwkSigner"),
    "manifest": ("sealtui.core.manifest", "build_manifest"),
    "scan": ("sealtui.service.review", "scan_manifests"),
    "ScanResult": ("sealtui.core.scan", "ScanResult"),
    "diff": ("sealtui.core.diff", "compare"),
    "Comparison": ("sealtui.core.diff", "Comparison"),
    "SecretManifest": ("sealtui.core.manifest", "SecretManifest"),
    "EnvelopePayload": ("sealtui.core.models", "EnvelopePayload"),
    "VaultPayload": ("sealtui.core.models", "VaultPayload"),
    "InspectionReport": ("sealtui.core.report", "InspectionReport"),
    "Finding": ("sealtui.core.report", "Finding"),
    "SealtuiError": ("sealtui.core.errors", "SealtuiError"),
    "UsageError": ("sealtui.core.errors", "UsageError"),
    "InvalidInputError": ("sealtui.core.errors", "InvalidInputError"),
    "CredentialError": ("sealtui.core.errors", "CredentialError"),
    "VerificationError": ("sealtui.core.errors", "VerificationError"),
    "ProviderError": ("sealtui.core.errors", "ProviderError"),
}

__all__ = [
    "Comparison",
    "CredentialError",
    "EnvelopePayload",
    "Finding",
    "Form",
    "InspectionReport",
    "InvalidInputError",
    "Jwk",
    "JwkSigner",
    "ProviderError",
    "ScanResult",
    "SealedSecret",
    "SealtuiError",
    "SecretManifest",
    "UsageError",
    "VaultPayload",
    "VerificationError",
    "decode",
    "diff",
    "encode_sealed",
    "generate_jwk",
    "inspect",
    "keygen",
    "load_jwk",
    "manifest",
    "open_envelope",
    "parse",
    "scan",
    "seal_envelope",
    "seal_vault",
    "verify",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'sealtui' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
