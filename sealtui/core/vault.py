"""Vault secrets: a signed reference to a secret that the provider already holds."""

from __future__ import annotations

from typing import Any

from sealtui.core.codec import encode_sealed
from sealtui.core.errors import InvalidInputError
from sealtui.core.keywrap import Signer
from sealtui.core.models import SUPPORTED_VERSION, VaultPayload
from sealtui.core.provider_rules import RESOURCE_URI

PROVISION_NOTE = (
    "note: a vault secret holds no data; provision the secret itself to {provider} as {name!r} "
    "before a workload unseals it"
)


def vault_payload(name: str, provider: str = "kbs", provider_settings: dict[str, Any] | None = None,
                  annotations: dict[str, Any] | None = None) -> VaultPayload:
    """Build a vault payload, refusing a kbs name that is not a resource URI `kbs:///repo/type/tag`."""
    if provider == "kbs" and not RESOURCE_URI.match(name):
        fix = "use kbs:///<repository>/<type>/<tag>"
        if name.startswith("kbs://") and not name.startswith("kbs:///"):
            fix = f"a KBS resource URI has three slashes: kbs:///{name[len('kbs://'):]}"
        raise InvalidInputError(f"resource URI {name!r} is not a KBS resource URI", fix=fix)
    if not name:
        raise InvalidInputError("the vault secret name is empty")
    return VaultPayload(version=SUPPORTED_VERSION, name=name, provider=provider,
                        provider_settings=dict(provider_settings or {}), annotations=dict(annotations or {}))


def seal_vault(name: str, signer: Signer, provider: str = "kbs",
               provider_settings: dict[str, Any] | None = None, annotations: dict[str, Any] | None = None) -> str:
    """The sealed string of a vault secret. The secret itself must be provisioned to the provider separately."""
    return encode_sealed(vault_payload(name, provider, provider_settings, annotations), signer)
