"""The state of one terminal-UI session: what the screens show and act on. State only: no I/O, no KMS calls.

Screens call `sealtui.service` from their workers and store the results here from their message handlers (on
the app's thread), so nothing here is written from a worker thread. Settings that outlive a session are the
service's (`service.settings`); this object holds the loaded copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sealtui.core.errors import UsageError
from sealtui.service.settings import DEFAULT_CLIPBOARD_CLEAR_SECONDS, Settings, default_config_dir, load_settings

if TYPE_CHECKING:
    from sealtui.core.credentials import AliyunCredentials
    from sealtui.service.kms import CredentialSource, KmsTarget
    from sealtui.service.local_kms import LocalKms
    from sealtui.service.sealing import SealedValue
    from sealtui.service.signing import SigningKey

__all__ = ["DEFAULT_NAME", "Session"]

DEFAULT_NAME = "secret"
"""The Secret key a value goes under unless named; then `secret-2`, `secret-3`…"""


class Session:
    """Everything one run of the UI has chosen and made."""

    def __init__(
        self,
        *,
        config_dir: Path | None = None,
        sandbox_root: Path | None = None,
        clipboard_clear_seconds: float = DEFAULT_CLIPBOARD_CLEAR_SECONDS,
        persist: bool = True,
    ) -> None:
        self.config_dir = Path(config_dir) if config_dir else default_config_dir()
        """Where `config.json` and generated signing keys live."""
        self._sandbox_root = Path(sandbox_root) if sandbox_root else None
        self.clipboard_clear_seconds = clipboard_clear_seconds
        """Seconds after which a copied secret is cleared from the clipboard."""
        self.persist = persist
        """Whether settings and recent keys are written to `config.json`."""
        self.settings: Settings = load_settings(self.config_dir)
        """The saved choices (credentials directory, local KMS, endpoint, recent keys)."""
        self.source: CredentialSource | None = None
        """Where the credentials in use come from."""
        self.credentials: AliyunCredentials | None = None
        """The credentials in use, loaded from `source`."""
        self.endpoint: str | None = None
        """`host:port` override (the local KMS's, or a VPC endpoint); None: the instance's own endpoint."""
        self.key: str | None = None
        """The KMS key reference (id, alias or alibabakms:// URI) used for sealing."""
        self.signing: SigningKey | None = None
        """The key that signs what is sealed (a private JWK, or a key held in the KMS)."""
        self.local: LocalKms | None = None
        """The local KMS instance, once it is started (or found running) in this session."""
        self.sealed: dict[str, SealedValue] = {}
        """Values sealed this session, by Secret key name (replacing one is the user's explicit choice)."""
        self.signing_keys: dict[str, SigningKey] = {}
        """Every signing key used this session, by kid: CDH looks up one key per kid, so a kid is never given to
        a second key."""

    @property
    def sandbox_root(self) -> Path:
        """The local KMS instance's state directory (the default unless given)."""
        if self._sandbox_root is None:  # resolved on first use: the sandbox settings module loads pydantic
            from sealtui.service.local_kms import default_root

            self._sandbox_root = default_root()
        return self._sandbox_root

    @property
    def keys_dir(self) -> Path:
        """Where generated signing keys are written."""
        return self.config_dir / "keys"

    @property
    def credentials_dir(self) -> Path | None:
        """The directory of the credentials in use."""
        return self.source.shown_dir if self.source is not None else None

    @property
    def using_local_kms(self) -> bool:
        """True when the credentials in use are the local KMS instance's."""
        from sealtui.service.local_kms import is_local

        return is_local(self.credentials_dir, self.local)

    @property
    def local_endpoint_changed(self) -> bool:
        """True when the local KMS's credentials are used with an endpoint other than the local KMS's own."""
        return self.using_local_kms and self.local is not None and self.endpoint != self.local.endpoint

    def default_name_after(self, name: str) -> str:
        """`name`, or when it is the default name (`secret`, `secret-N`) and taken, the next free one: the default
        never replaces a sealed value (a name the user typed is theirs: replacing it is asked)."""
        default = name == DEFAULT_NAME or (name.startswith(f"{DEFAULT_NAME}-")
                                           and name[len(DEFAULT_NAME) + 1:].isdigit())
        if not default or name not in self.sealed:
            return name
        n = 2
        while f"{DEFAULT_NAME}-{n}" in self.sealed:
            n += 1
        return f"{DEFAULT_NAME}-{n}"

    def use_signing_key(self, key: SigningKey) -> None:
        """Sign with `key` from now on (its kid is remembered as taken by it)."""
        self.signing = key
        self.signing_keys[key.kid] = key

    @property
    def signing_kid(self) -> str | None:
        return self.signing.kid if self.signing is not None else None

    @property
    def target(self) -> KmsTarget | None:
        """The KMS target of the credentials, endpoint and key in use, or None without credentials."""
        from sealtui.service.kms import KmsTarget

        return KmsTarget(self.source, self.endpoint, self.key) if self.source is not None else None

    def require_target(self) -> KmsTarget:
        """`target`, or the error that says how to choose credentials."""
        target = self.target
        if target is None:
            raise UsageError("no KMS credentials in use",
                             fix="choose them on the Credentials screen (F2), or create the local KMS there")
        return target

    def use_credentials(self, source: CredentialSource, credentials: AliyunCredentials,
                        endpoint: str | None) -> None:
        self.source, self.credentials, self.endpoint = source, credentials, endpoint

    def use_local_kms(self, local: LocalKms, source: CredentialSource, credentials: AliyunCredentials) -> None:
        self.local = local
        self.use_credentials(source, credentials, local.endpoint)
        if not self.key:
            self.key = local.default_key

    def close(self) -> None:
        """Stop what this session started (the local KMS server)."""
        if self.local is not None and self.local.server is not None:
            self.local.server.stop()
            self.local = None
