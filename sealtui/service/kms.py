"""Reaching a KMS: where the credentials come from, the target, and `connect`, the one place a provider client
is built (no other module constructs `AliyunKms`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sealtui.core.errors import ProviderError, UsageError

if TYPE_CHECKING:
    from sealtui.core.credentials import AliyunCredentials
    from sealtui.providers.aliyun import AliyunKms

__all__ = ["CONNECT_TIMEOUT", "READ_TIMEOUT", "CredentialSource", "KmsTarget", "connect",
           "credentials_for_payload", "endpoint_override", "load_credentials", "local_endpoint", "warm_up"]

CONNECT_TIMEOUT = 5.0
"""Seconds to establish a connection to the KMS."""
READ_TIMEOUT = 10.0
"""Seconds to wait for a KMS answer."""


@dataclass(frozen=True)
class CredentialSource:
    """Where the client-key credentials come from: a directory, or the three files."""

    directory: Path | None = None
    """A directory holding `clientKey_<id>.json`, its password and `PrivateKmsCA_<instance>.pem`."""
    client_key_id: str | None = None
    """With a directory: the client key to use when it holds several."""
    client_key_file: Path | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    kms_instance_id: str | None = None
    """With the three files: the instance, when neither the CA file's name nor the client key says it."""

    @property
    def files(self) -> tuple[Path, Path, Path] | None:
        """The three explicit files, when given."""
        if self.client_key_file and self.password_file and self.ca_file:
            return self.client_key_file, self.password_file, self.ca_file
        return None

    @property
    def shown_dir(self) -> Path | None:
        """The directory the credentials are in (the client key file's, for explicit files)."""
        return self.directory or (self.client_key_file.parent if self.client_key_file else None)


def load_credentials(source: CredentialSource) -> AliyunCredentials:
    """Load and check the credentials `source` names."""
    from sealtui.core import credentials as cr

    files = source.files
    if files is not None:
        ck, pw, ca = (Path(p).expanduser() for p in files)
        return cr.load_credentials(ck, pw, ca, source.kms_instance_id)
    if source.directory is None:
        raise UsageError("no credentials given", fix="give the credentials directory, or the three files")
    return cr.find_credentials(Path(source.directory).expanduser(), source.client_key_id)


@dataclass(frozen=True)
class KmsTarget:
    """A KMS instance to talk to: its credentials, an endpoint override and a key."""

    source: CredentialSource
    endpoint: str | None = None
    """An explicit `host:port` (a VPC endpoint, the local KMS); None: the instance's own endpoint, which the
    provider derives from the credentials (never a region's shared gateway named in a key URI)."""
    key: str | None = None
    """The default key: a key id, `alias/…` or an `alibabakms://` URI."""

    def with_key(self, key: str | None) -> KmsTarget:
        return replace(self, key=key)


def endpoint_override(text: str | None) -> str | None:
    """An endpoint the user typed, checked as `host:port` (the provider's rule); None when empty (the instance's
    own endpoint)."""
    if not text or not text.strip():
        return None
    from sealtui.providers.aliyun_endpoint import normalize_endpoint

    return normalize_endpoint(text)


def warm_up(source: CredentialSource, client_key_id: str | None = None) -> None:
    """Start parsing the client key of `source` (or its `client_key_id`) and import the provider meanwhile.

    The two slow parts of a first KMS call, overlapped: the parse runs in its child process on another CPU
    (~40 ms) while this one imports the SDK (~60 ms). The credentials load that follows waits for the parse.
    """
    from sealtui.core import credentials as cr

    files = source.files
    if files is not None:
        cr.parse_ahead(client_key_file=Path(files[0]).expanduser(), password_file=Path(files[1]).expanduser())
    elif source.directory is not None:
        cr.parse_ahead(Path(source.directory).expanduser(), client_key_id or source.client_key_id)
    import sealtui.providers.aliyun  # noqa: F401


def connect(target: KmsTarget, credentials: AliyunCredentials | None = None) -> AliyunKms:
    """The provider client for `target` (no network call yet). `credentials`: already loaded from
    `target.source`, to skip reading the files again. Without an endpoint, the credentials of a local KMS instance
    reach that instance where it serves now (`local_endpoint`); others, their instance's own endpoint."""
    if credentials is None:
        warm_up(target.source)
    from sealtui.providers.aliyun import AliyunKms

    creds = credentials if credentials is not None else load_credentials(target.source)
    endpoint = target.endpoint or local_endpoint(target.source)
    return AliyunKms(creds, target.key, endpoint=endpoint, connect_timeout=CONNECT_TIMEOUT,
                     read_timeout=READ_TIMEOUT)


def local_endpoint(source: CredentialSource) -> str | None:
    """Where the local KMS instance serves now, when `source` is its credentials directory (`<root>/credentials`);
    None for any other credentials. A local instance that is not serving is an error: its instance's own endpoint
    names no real host."""
    if source.directory is None:
        return None
    from sealtui.sandbox.layout import Layout
    from sealtui.service.local_kms import instance_exists, serving_endpoint

    directory = Path(source.directory).expanduser().resolve()
    if Layout(directory.parent).credentials_dir != directory or not instance_exists(directory.parent):
        return None
    endpoint = serving_endpoint(directory.parent)
    if endpoint is None:
        raise ProviderError(f"the local KMS instance in {directory.parent} is not running",
                            fix=f"start it with `sealtui sandbox serve --root-dir {directory.parent}`, or give the "
                            "endpoint where it serves")
    return endpoint


def credentials_for_payload(source: CredentialSource, settings: dict[str, Any]) -> AliyunCredentials:
    """The credentials to open a secret with: in a directory, the client key the secret names when it is there,
    as CDH would use (another client key of the instance may be allowed too, so the source's own is used
    otherwise)."""
    from sealtui.core import credentials as cr

    cid = settings.get("client_key_id")
    if source.directory is not None and cid and cid != source.client_key_id:
        directory = Path(source.directory).expanduser()
        named = [f for f in cr.discover_credentials(directory) if f.role == "client_key" and f.name_id == cid]
        if named:
            warm_up(source, cid)  # the caller connects next
            return cr.find_credentials(directory, cid)
    warm_up(source)
    return load_credentials(source)
