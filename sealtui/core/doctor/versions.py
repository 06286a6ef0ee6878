"""What a kata release does with sealed secrets, from the version landmarks in guest-facts.md.

- env values: kata 3.7.0 (6003608fe6); volumes: 3.10.0 (1f33fd4cd4), only under `/sealed` until 3.13.0 (5218345e34);
- JWS signature verification in CDH: guest-components v0.18.0, first pinned by kata 3.28.0
  (`externals.coco-guest-components.version` in kata's versions.yaml at each tag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sealtui.core.errors import InvalidInputError

Version = tuple[int, int, int]

ENV_SUPPORT: Version = (3, 7, 0)
VOLUME_SUPPORT: Version = (3, 10, 0)
SEALED_DIR_DROPPED: Version = (3, 13, 0)
SIGNING: Version = (3, 28, 0)

GUEST_COMPONENTS: dict[Version, str] = {
    (3, 26, 0): "guest-components 9aae2eae (before v0.18.0: no signature verification)",
    (3, 27, 0): "guest-components 9aae2eae (before v0.18.0: no signature verification)",
    (3, 28, 0): "guest-components v0.18.0 (ab95914a: signature verification on by default)",
    (3, 29, 0): "guest-components v0.19.0 (de3f6ff6)",
    (4, 0, 0): "guest-components v0.21.0 (da8d93f2)",
    (4, 1, 0): "guest-components d4dce5ce (after v0.21.0)",
}
"""The guest-components a kata release pins (kata versions.yaml at each tag)."""

NEWEST_KNOWN: Version = (4, 1, 0)

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class KataRelease:
    version: Version
    assumed: bool = False
    """True when no --kata-version was given and doctor took the newest release it knows."""

    @property
    def text(self) -> str:
        v = ".".join(map(str, self.version))
        return f"kata {v}" + (" (assumed: the newest release doctor knows; pass --kata-version)"
                              if self.assumed else "")

    @property
    def short(self) -> str:
        return "kata " + ".".join(map(str, self.version)) + (" (assumed)" if self.assumed else "")

    @property
    def unseals_env(self) -> bool:
        return self.version >= ENV_SUPPORT

    @property
    def unseals_volumes(self) -> bool:
        return self.version >= VOLUME_SUPPORT

    @property
    def needs_sealed_dir(self) -> bool:
        """kata 3.10–3.12 unseal only mounts whose destination starts with `/sealed`."""
        return VOLUME_SUPPORT <= self.version < SEALED_DIR_DROPPED

    @property
    def verifies_signatures(self) -> bool:
        """CDH verifies the JWS (unless skip_sealed_secret_verification): guest-components >= v0.18.0."""
        return self.version >= SIGNING

    @property
    def guest_components(self) -> str:
        exact = GUEST_COMPONENTS.get((self.version[0], self.version[1], 0))
        if exact:
            return exact
        if self.version < SIGNING:
            return "guest-components older than v0.18.0 (no signature verification)"
        return "guest-components v0.18.0 or newer (signature verification on by default)"


def parse_kata_version(text: str | None) -> KataRelease:
    """`3.28`, `3.28.0` or `v3.28.0`; None → the newest known release, marked as assumed."""
    if text is None:
        return KataRelease(NEWEST_KNOWN, assumed=True)
    m = _VERSION.match(text.strip())
    if not m:
        raise InvalidInputError(f"kata version {text!r} is not a release number",
                                fix="give it as MAJOR.MINOR[.PATCH], e.g. --kata-version 3.28.0")
    return KataRelease((int(m[1]), int(m[2]), int(m[3] or 0)))
