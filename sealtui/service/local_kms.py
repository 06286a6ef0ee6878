"""The built-in local KMS instance (the sandbox) as the TUI uses it: create and start it, list its keys, and
decide, one way, whether it is the KMS in use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sealtui.core.credentials import AliyunCredentials
    from sealtui.sandbox import RunningSandbox, SandboxStatus
    from sealtui.sandbox.models import KeyInfo

__all__ = ["Instance", "LocalKms", "default_root", "instance_exists", "instances", "is_local", "local_keys",
           "serving_endpoint", "start_local_kms", "suggested_signing_key"]


def default_root() -> Path:
    """The local KMS's default state directory (`$XDG_DATA_HOME/sealtui/sandbox`)."""
    from sealtui.sandbox.layout import default_root_dir

    return default_root_dir()


def serving_endpoint(root: Path) -> str | None:
    """Where a server of the instance in `root` serves now, or None when none does (yet).

    A server holds the instance's serve lock from before it binds until it stops, and writes `serve.json` (its
    endpoint and pid) once it listens: the lock alone would name the endpoint of an earlier run while a new
    server starts, so the pid must be the live one too."""
    import os

    from sealtui.sandbox.layout import Layout
    from sealtui.sandbox.server import is_serving, read_serve_json

    layout = Layout(Path(root))
    info = read_serve_json(layout)
    endpoint, pid = info.get("endpoint"), info.get("pid")
    if not isinstance(endpoint, str) or not endpoint or not isinstance(pid, int) or not is_serving(layout):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # serve.json of a server that has gone; the lock holder has not written its own yet
    except PermissionError:
        pass  # alive, another user's
    return endpoint


def instance_exists(root: Path) -> bool:
    """True when `root` holds a local KMS instance."""
    from sealtui.sandbox.layout import Layout

    return Layout(root).database.exists()


@dataclass(frozen=True)
class LocalKms:
    """The local KMS instance in use."""

    status: SandboxStatus
    endpoint: str
    """Where it answers now (this process's server, or the one another process runs)."""
    server: RunningSandbox | None
    """The server this process started (stopped when the app quits), or None when another process serves it."""
    default_key: str
    """The key to seal with when none was chosen."""

    @property
    def credentials_dir(self) -> Path:
        return self.status.credentials_dir


def start_local_kms(root: Path, running: RunningSandbox | None = None) -> LocalKms:
    """Create the instance in `root` if needed and serve it in a background thread, unless `running` (started
    earlier) or another process already serves it."""
    from sealtui import sandbox
    from sealtui.sandbox.models import DEFAULT_KEY_ALIAS

    if not instance_exists(root):
        sandbox.init_instance(root)
    status = sandbox.load_status(root)
    server = running
    if server is None and not status.running:
        server = sandbox.start_in_thread(root, "127.0.0.1", 0)
    return LocalKms(status, server.endpoint if server is not None else status.endpoint, server, DEFAULT_KEY_ALIAS)


def local_keys(root: Path) -> list[KeyInfo]:
    """The local KMS's keys (id, aliases, spec, state), or [] when there is no instance."""
    if not instance_exists(root):
        return []
    from sealtui import sandbox

    return list(sandbox.load_status(root).keys)


def is_local(credentials_dir: Path | None, local: LocalKms | None) -> bool:
    """True when the credentials in use are the local KMS instance's (the one place this is decided)."""
    return local is not None and credentials_dir is not None and credentials_dir == local.credentials_dir


def suggested_signing_key(local_in_use: bool) -> str | None:
    """The KMS signing key to offer: the local KMS's EC P-256 key when it is in use."""
    if not local_in_use:
        return None
    from sealtui.sandbox.models import SIGNING_KEY_ALIAS

    return SIGNING_KEY_ALIAS


@dataclass(frozen=True)
class Instance:
    """A KMS instance that can be used: the one of the credentials in use, or the local one."""

    source: str
    """`credentials` or `sandbox`."""
    kms_instance_id: str
    endpoint: str
    credentials_dir: Path | None
    client_key_id: str


def instances(credentials: AliyunCredentials | None, credentials_dir: Path | None, endpoint: str | None,
              local: LocalKms | None, root: Path) -> list[Instance]:
    """The KMS instances at hand: the one of the credentials in use, and the local one (running or not)."""
    out: list[Instance] = []
    if credentials is not None:
        from sealtui.providers.aliyun_endpoint import default_endpoint

        source = "sandbox" if is_local(credentials_dir, local) else "credentials"
        # the local KMS's own endpoint, even while another one is set for its credentials: the row says where it is
        own = local.endpoint if local is not None and source == "sandbox" else None
        out.append(Instance(source, credentials.kms_instance_id,
                            own or endpoint or default_endpoint(credentials.kms_instance_id), credentials_dir,
                            credentials.client_key.key_id))
    if instance_exists(root) and not any(i.source == "sandbox" for i in out):
        from sealtui import sandbox

        st = sandbox.load_status(root)
        out.append(Instance("sandbox", st.kms_instance_id, st.endpoint, st.credentials_dir, st.client_key_id))
    return out
