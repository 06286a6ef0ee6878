"""KBS resource URIs as CDH reads them: the `url` crate's parsing (WHATWG URL, for the non-special `kbs` schemes),
then guest-components' `ResourceUri::try_from(&str)`.

Only what decides acceptance is modelled: leading and trailing spaces and controls are dropped, tabs and newlines
removed, the scheme lower-cased; an authority (`//host[:port]`) holds an opaque host without forbidden code points
and a port up to 65535; the path's `.` and `..` segments are resolved and other characters percent-encoded. Upstream
then takes the scheme `kbs` (plugin `resource`) or `kbs+<plugin>`, and the path after its first character split on
`/`; the OpenAnolis fork takes only `kbs` with exactly three path segments.

Trustee's resource plugin serves `<repository>/<type>/<tag>`: a `resource` URI with another shape is refused by the
KBS whatever CDH does, so `resource_problem` refuses it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:")
_FORBIDDEN_HOST = set("\x00\t\n\r #/:<>?@[\\]^|")
_PATH_ENCODE = set(' "#<>?`{}')
_SINGLE_DOT = (".", "%2e")
_DOUBLE_DOT = ("..", ".%2e", "%2e.", "%2e%2e")


@dataclass(frozen=True)
class ResourceUri:
    """What `ResourceUri::try_from` keeps."""

    plugin: str
    path: tuple[str, ...]
    query: str | None


def _encode(text: str, extra: set[str]) -> str:
    out = []
    for ch in text:
        if ord(ch) < 0x20 or ord(ch) > 0x7E or ch in extra:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
        else:
            out.append(ch)
    return "".join(out)


def _path(raw: str) -> str:
    """The path of a URL with a host or a path starting with `/`, with dot segments resolved."""
    segments: list[str] = []
    parts = raw[1:].split("/")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        low = part.lower()
        if low in _DOUBLE_DOT:
            if segments:
                segments.pop()
            if last:
                segments.append("")
        elif low in _SINGLE_DOT:
            if last:
                segments.append("")
        else:
            segments.append(_encode(part, _PATH_ENCODE))
    return "/" + "/".join(segments)


def _authority(auth: str) -> bool:
    """Whether `auth` (between `//` and the path) parses: [userinfo@]host[:port], the host opaque."""
    _userinfo, at, hostport = auth.rpartition("@")
    if at and not hostport:
        return False  # credentials without a host
    if hostport.startswith("["):
        import ipaddress  # rare: not worth its import on every start

        close = hostport.find("]")
        if close < 0:
            return False
        try:
            ipaddress.IPv6Address(hostport[1:close])
        except ValueError:
            return False
        host, rest = hostport[: close + 1], hostport[close + 1:]
        if rest and not rest.startswith(":"):
            return False
        port = rest[1:] if rest else ""
    else:
        host, colon, port = hostport.partition(":")
        if any(c in _FORBIDDEN_HOST for c in host) or (colon and not host):
            return False
    if port and not (port.isascii() and port.isdigit() and int(port) <= 65535):
        return False
    return True


def parse(value: str, *, openanolis: bool = False) -> ResourceUri | None:
    """`ResourceUri::try_from(value)` (upstream, or the OpenAnolis fork's), or None when it fails."""
    text = value.strip("".join(chr(c) for c in range(0x21)))
    text = text.replace("\t", "").replace("\n", "").replace("\r", "")
    m = _SCHEME.match(text)
    if m is None:
        return None
    scheme, rest = m.group()[:-1].lower(), text[m.end():]
    rest = rest.partition("#")[0]  # the fragment plays no part
    rest, q, query = rest.partition("?")
    if rest.startswith("//"):
        slash = rest.find("/", 2)
        auth_end = slash if slash >= 0 else len(rest)
        if not _authority(rest[2:auth_end]):
            return None
        raw = rest[auth_end:]
        path = _path(raw) if raw else ""
    elif rest.startswith("/"):
        path = _path(rest)
    else:
        path = _encode(rest, set())  # an opaque path
    if openanolis:
        plugin = "resource" if scheme == "kbs" else None
    elif scheme == "kbs":
        plugin = "resource"
    elif scheme.startswith("kbs+") and len(scheme) > 4:
        plugin = scheme[4:]
    else:
        plugin = None
    if plugin is None or not path:
        return None
    segments = tuple(path[1:].split("/"))
    if openanolis and len(segments) != 3:
        return None
    return ResourceUri(plugin, segments, query if q else None)


def resource_problem(value: str, *, openanolis: bool = False) -> str | None:
    """Why `value` is not a resource CDH can get from Trustee, or None."""
    uri = parse(value, openanolis=openanolis)
    if uri is None:
        return "it is not a KBS resource URI (kbs:///<repository>/<type>/<tag>)"
    if uri.plugin == "resource" and (len(uri.path) != 3 or "" in uri.path):
        return (f"its path has {len(uri.path)} segment(s){' (one empty)' if '' in uri.path else ''}; Trustee serves "
                "a resource as repository/type/tag")
    return None
