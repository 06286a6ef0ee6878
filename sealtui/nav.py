"""The screens of the terminal UI and the keys that work everywhere: the one table the app, the navigation bar,
the help screen and the command palette read (so none of them imports the app)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType

__all__ = ["APP_BINDINGS", "NAV", "NavEntry"]


@dataclass(frozen=True)
class NavEntry:
    """One screen of the app: its mode name, title, key and where its class lives."""

    mode: str
    title: str
    key: str
    module: str
    cls: str
    description: str
    short: str = ""
    """A shorter title for a narrow navigation bar (the title when empty)."""

    @property
    def short_title(self) -> str:
        return self.short or self.title


NAV: tuple[NavEntry, ...] = (
    NavEntry("credentials", "Credentials", "f2", "sealtui.screens.credentials", "CredentialsScreen",
             "Choose the KMS credential files, or create the local KMS instance", "Creds"),
    NavEntry("instance", "Instance & key", "f3", "sealtui.screens.instance", "InstanceScreen",
             "Pick the KMS instance and key; check the connection", "Key"),
    NavEntry("seal", "Seal", "f4", "sealtui.screens.seal", "SealScreen",
             "Seal a value, a file or KEY=value pairs"),
    NavEntry("unseal", "Unseal", "f5", "sealtui.screens.unseal", "UnsealScreen",
             "Unseal a sealed string through the KMS"),
    NavEntry("inspect", "Inspect", "f6", "sealtui.screens.inspect", "InspectScreen",
             "Explain any sealed string: form, verdicts, findings, JSON tree"),
    NavEntry("manifest", "Manifest", "f7", "sealtui.screens.manifest", "ManifestScreen",
             "The Kubernetes Secret for this session's sealed values"),
    NavEntry("scan", "Scan", "f8", "sealtui.screens.scan", "ScanScreen",
             "Find and check every sealed value in Kubernetes manifests"),
    NavEntry("diff", "Diff", "f9", "sealtui.screens.diff", "DiffScreen",
             "Compare two sealed values or two manifests by metadata, never plaintext"),
    NavEntry("doctor", "Doctor", "f10", "sealtui.screens.doctor", "DoctorScreen",
             "Check manifests for every reason a pod would still see sealed.…, and what to provision where"),
)
"""The screens, in navigation order."""

APP_BINDINGS: list[BindingType] = [
    Binding("f1", "help", "Help", id="app.help", tooltip="Show every key and what it does", priority=True),
    *[Binding(e.key, f"go('{e.mode}')", e.title, id=f"app.go-{e.mode}", tooltip=e.description,
              show=False, priority=True) for e in NAV],
]
"""The app's own keys: help, and one function key per screen."""
