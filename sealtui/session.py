"""The state of one sealtui session, with no Textual in it: what the screens present and act on.

A `Session` holds the credentials in use, the provider built from them, the selected key, the signing key, the
local KMS instance (sandbox) when it runs in this process, and the values sealed so far (for the manifest).
Every operation calls the core, the providers or the sandbox; screens only present the results. Heavy modules
(the Alibaba SDK, pydantic models, the sandbox server) are imported inside the methods that need them, so
`import sealtui.session` stays cheap.

Settings that outlive a session (the credentials directory, whether the sandbox is used, recently used keys)
are kept in `$XDG_CONFIG_HOME/sealtui/config.json` (default `~/.config/sealtui`). Plaintext never goes there.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sealtui.core.errors import InvalidInputError, UsageError
from sealtui.session_signing import DEFAULT_KID, SigningMixin

if TYPE_CHECKING:
    from collections.abc import Callable

    from sealtui.core.credential_check import CheckReport
    from sealtui.core.credentials import AliyunCredentials
    from sealtui.core.jws import Jwk
    from sealtui.core.manifest import DataForm, SecretManifest
    from sealtui.core.models import EnvelopePayload, VaultPayload
    from sealtui.providers.aliyun import AliyunKms, ConnectionReport
    from sealtui.sandbox import RunningSandbox, SandboxStatus
    from sealtui.sandbox.models import KeyInfo

__all__ = ["DEFAULT_CLIPBOARD_CLEAR_SECONDS", "DEFAULT_KID", "Instance", "SealedValue", "Session",
           "default_config_dir"]

DEFAULT_CLIPBOARD_CLEAR_SECONDS = 30.0
"""How long a copied secret stays on the clipboard before sealtui clears it."""

MAX_RECENT_KEYS = 10
"""How many recently used key references are remembered."""


def default_config_dir() -> Path:
    """`$XDG_CONFIG_HOME/sealtui`, or `~/.config/sealtui`."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sealtui"


def _default_sandbox_root() -> Path:
    from sealtui.sandbox.layout import default_root_dir

    return default_root_dir()



@dataclass(frozen=True)
class SealedValue:
    """One value sealed in this session."""

    name: str
    """The key it goes under in the Secret (`stringData.<name>`)."""
    sealed: str
    """The `sealed.…` string."""
    key_id: str
    """The KMS key that wrapped its data key."""
    kid: str
    """The signing key's kid."""


@dataclass(frozen=True)
class Instance:
    """A KMS instance that can be used: from the credentials, or the local sandbox."""

    source: str
    """`credentials` or `sandbox`."""
    kms_instance_id: str
    endpoint: str
    credentials_dir: Path | None
    client_key_id: str


class Session(SigningMixin):
    """Everything one run of the UI knows and does, with no UI in it. Methods may block: call them from
    worker threads. Attribute writes are simple assignments; `_lock` guards the provider cache."""

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
        self.config: dict[str, Any] = self._load_config()
        self.credentials: AliyunCredentials | None = None
        self.credentials_dir: Path | None = None
        self.endpoint: str | None = None
        """`host:port` override (the sandbox's, or a VPC endpoint); None: the instance's default."""
        self.key: str | None = None
        """The KMS key reference (id, alias or alibabakms:// URI) used for sealing."""
        self.signing_jwk: Jwk | None = None
        self.signing_source: str | None = None
        self.signing_kms_key: str | None = None
        self.signing_kms_kid: str | None = None
        self.sandbox: RunningSandbox | None = None
        self.sandbox_status: SandboxStatus | None = None
        self.sealed: dict[str, SealedValue] = {}
        """Values sealed this session, by Secret key name (re-sealing a name replaces it)."""
        self._lock = threading.Lock()
        self._provider: AliyunKms | None = None
        self._provider_for: tuple[Any, ...] | None = None

    @property
    def sandbox_root(self) -> Path:
        """The local KMS instance's state directory (the sandbox's default unless given)."""
        if self._sandbox_root is None:  # resolved on first use: the sandbox settings module loads pydantic
            self._sandbox_root = _default_sandbox_root()
        return self._sandbox_root

    # --- settings -----------------------------------------------------------------------------------------

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.json"

    def _load_config(self) -> dict[str, Any]:
        try:
            data = json.loads(self.config_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save_config(self) -> None:
        """Write the settings (never plaintext, never passwords) to `config.json`, mode 0600."""
        if not self.persist:
            return
        self.config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.config_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self.config, f, indent=2)
        tmp.replace(self.config_file)

    @property
    def is_configured(self) -> bool:
        """True when a previous run chose credentials or the sandbox."""
        return bool(self.config.get("sandbox") or self.config.get("credentials_dir"))

    @property
    def recent_keys(self) -> list[str]:
        keys = self.config.get("recent_keys")
        return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []

    def remember_key(self, key: str) -> None:
        """Put `key` first in the recently used keys (at most `MAX_RECENT_KEYS`) and save."""
        self.config["recent_keys"] = [key, *[k for k in self.recent_keys if k != key]][:MAX_RECENT_KEYS]
        self.save_config()

    # --- credentials --------------------------------------------------------------------------------------

    def check_directory(self, directory: Path) -> CheckReport:
        """The core's check of every credential file in `directory` (never raises for bad files)."""
        from sealtui.core.credential_check import check_credentials

        return check_credentials(Path(directory).expanduser())

    def check_files(self, client_key_file: Path, password_file: Path, ca_file: Path) -> CheckReport:
        """Check three explicitly chosen files by loading them together; one row per file."""
        from sealtui.core.credential_check import check_files

        return check_files(client_key_file, password_file, ca_file)

    def use_credentials(self, directory: Path | None = None, *, files: tuple[Path, Path, Path] | None = None,
                        endpoint: str | None = None, remember: bool = True) -> AliyunCredentials:
        """Load the credentials in `directory` (or the three `files`) and use them from now on."""
        from sealtui.core import credentials as cr

        if files is not None:
            ck, pw, ca = (Path(p).expanduser() for p in files)
            creds = cr.load_credentials(ck, pw, ca)
            directory = Path(files[0]).expanduser().parent
        elif directory is not None:
            directory = Path(directory).expanduser()
            creds = cr.find_credentials(directory)
        else:
            raise UsageError("no credentials given", fix="choose a directory or the three files")
        self.credentials, self.credentials_dir = creds, directory
        self.endpoint = endpoint
        if remember and files is None:
            self.config.update({"credentials_dir": str(directory), "endpoint": endpoint, "sandbox": False})
            self.save_config()
        return creds

    def set_endpoint(self, endpoint: str | None) -> None:
        """Override the endpoint (`host:port`); empty or None means the instance's default."""
        if endpoint:
            from sealtui.providers.aliyun import normalize_endpoint

            endpoint = normalize_endpoint(endpoint)
        self.endpoint = endpoint or None

    # --- the local KMS instance ---------------------------------------------------------------------------

    def sandbox_exists(self) -> bool:
        """True when the sandbox root holds an instance."""
        from sealtui.sandbox.layout import Layout

        return Layout(self.sandbox_root).database.exists()

    def start_sandbox(self) -> SandboxStatus:
        """Create the local KMS instance if needed, serve it in a background thread (unless another process
        already serves it) and use its credentials, endpoint and default key."""
        from sealtui import sandbox
        from sealtui.sandbox.models import DEFAULT_KEY_ALIAS

        if not self.sandbox_exists():
            sandbox.init_instance(self.sandbox_root)
        status = sandbox.load_status(self.sandbox_root)
        endpoint = status.endpoint
        if not status.running and self.sandbox is None:
            self.sandbox = sandbox.start_in_thread(self.sandbox_root, "127.0.0.1", 0)
            endpoint = self.sandbox.endpoint
        elif self.sandbox is not None:
            endpoint = self.sandbox.endpoint
        self.sandbox_status = status
        self.use_credentials(status.credentials_dir, endpoint=endpoint, remember=False)
        if not self.key:
            self.key = DEFAULT_KEY_ALIAS
        self.config.update({"sandbox": True, "credentials_dir": None, "endpoint": None})
        self.save_config()
        return status

    def stop_sandbox(self) -> None:
        """Stop the sandbox server this process runs, if any."""
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None

    def using_sandbox(self) -> bool:
        """True when the credentials in use are the local KMS instance's."""
        return self.sandbox_status is not None and self.credentials_dir == self.sandbox_status.credentials_dir

    def sandbox_keys(self) -> list[KeyInfo]:
        """The sandbox's keys (id, aliases, spec, state), or [] when there is no sandbox."""
        if not self.sandbox_exists():
            return []
        from sealtui import sandbox

        return list(sandbox.load_status(self.sandbox_root).keys)

    def instances(self) -> list[Instance]:
        """The KMS instances one can use: the one of the credentials in use, and the sandbox's."""
        out: list[Instance] = []
        if self.credentials is not None:
            from sealtui.providers.aliyun import default_endpoint

            is_sandbox = self.sandbox_status is not None and \
                self.credentials_dir == self.sandbox_status.credentials_dir
            out.append(Instance("sandbox" if is_sandbox else "credentials", self.credentials.kms_instance_id,
                                self.endpoint or default_endpoint(self.credentials.kms_instance_id),
                                self.credentials_dir, self.credentials.client_key.key_id))
        if self.sandbox_exists() and not any(i.source == "sandbox" for i in out):
            from sealtui import sandbox

            st = sandbox.load_status(self.sandbox_root)
            out.append(Instance("sandbox", st.kms_instance_id, st.endpoint, st.credentials_dir, st.client_key_id))
        return out

    # --- the key and the provider -------------------------------------------------------------------------

    def set_key(self, text: str) -> str:
        """Check a key reference (id, `alias/…` or `alibabakms://` URI), select it and remember it."""
        from sealtui.core.keyref import parse_key_ref

        parse_key_ref(text)
        self.key = text
        self._provider = None
        self.remember_key(text)
        return text

    def provider(self) -> AliyunKms:
        """The provider for the credentials, endpoint and key in use (built once per combination)."""
        if self.credentials is None:
            raise UsageError("no KMS credentials in use",
                             fix="choose them on the Credentials screen (F2), or create the local KMS there")
        from sealtui.providers.aliyun import AliyunKms

        wanted = (id(self.credentials), self.endpoint, self.key)
        with self._lock:
            if self._provider is None or self._provider_for != wanted:
                self._provider = AliyunKms(self.credentials, self.key, endpoint=self.endpoint)
                self._provider_for = wanted
            return self._provider

    def check_connection(self) -> ConnectionReport:
        """Reachability, trust, client key and (with a key) permission, step by step."""
        return self.provider().check_connection()

    # --- seal, unseal, manifest ---------------------------------------------------------------------------

    def seal_value(self, name: str, plaintext: bytes) -> SealedValue:
        """Seal `plaintext` as an aliyun envelope through the KMS and sign it (see `remember`)."""
        from sealtui.core.sealing import seal_value

        if not name:
            raise InvalidInputError("the value has no name", fix="give the Secret key it goes under")
        signer = self.signer()
        result = seal_value(plaintext, self.provider(), signer)
        return SealedValue(name, result.sealed, result.payload.key_id, signer.kid)

    def seal_many(self, values: dict[str, bytes],
                  progress: Callable[[int, int], None] | None = None) -> list[SealedValue]:
        """Seal every value (the KMS calls in parallel, `core.bulk.seal_many`), all or none: the first failure
        raises the core's error, which names the key. Nothing is kept until `remember` is called."""
        from sealtui.core.bulk import seal_many
        from sealtui.core.sealing import seal_value

        if not values:
            raise InvalidInputError("nothing to seal", fix="give at least one KEY=value")
        signer, kms = self.signer(), self.provider()
        key_ids: dict[str, str] = {}

        def seal_one(plaintext: bytes) -> str:
            result = seal_value(plaintext, kms, signer)
            key_ids[result.sealed] = result.payload.key_id
            return result.sealed

        sealed = seal_many(values, seal_one, progress=progress)
        return [SealedValue(name, text, key_ids[text], signer.kid) for name, text in sealed.items()]

    def remember(self, values: list[SealedValue]) -> None:
        """Keep sealed values for this session's manifest. Callers do it once the result is wanted (a cancelled
        seal whose KMS calls still complete must leave the session unchanged)."""
        self.sealed.update({v.name: v for v in values})

    def unseal(self, text: str, jwk: Path | None, *, skip_verification: bool = False) -> bytes:
        """Verify (or explicitly skip), unwrap the data key through the KMS and decrypt, as CDH does."""
        from sealtui.core.sealing import unseal_text
        from sealtui.providers import require_provider

        def wrapper_for(payload: EnvelopePayload | VaultPayload) -> AliyunKms:
            require_provider(payload.provider)
            return self.provider()

        return unseal_text(text, wrapper_for, jwk=Path(jwk).expanduser() if jwk is not None else None,
                           skip_verification=skip_verification).plaintext

    def manifest(self, name: str, namespace: str | None = None, form: DataForm = "stringData") -> SecretManifest:
        """The Secret manifest of this session's sealed values."""
        from sealtui.core.manifest import build_manifest

        values = {v.name: v.sealed for v in self.sealed.values()}
        if not values:
            raise InvalidInputError("nothing sealed yet in this session", fix="seal a value first (F4)")
        return build_manifest(name, values, namespace or None, form)

    def close(self) -> None:
        """Stop what this session started (the sandbox server)."""
        self.stop_sandbox()
