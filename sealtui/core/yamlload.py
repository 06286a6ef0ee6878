"""Load Kubernetes YAML/JSON into plain Python data that remembers where each mapping and value came from.

One place for reading manifests, so every tool that reads them (doctor now, scan later) says the same thing
about a file that does not parse: the file, the line and the column, never a traceback. Mappings come back as
`YamlMap` (a `dict` with the line of the mapping and of each of its values); everything else is what PyYAML's
safe loader makes. PyYAML's C parser is used when it is installed (about 5x faster than the pure-Python one).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sealtui.core.errors import InvalidInputError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
"""Files taken from a directory; a file named explicitly is read whatever its suffix."""


class YamlMap(dict[str, Any]):
    """A mapping from a YAML/JSON document, with the 1-based line where it starts and where each value starts."""

    line: int | None = None
    """The line of the mapping itself (None for data that did not come from a parser that knows lines)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[str, int] = {}
        """key → 1-based line of its value."""

    def line_of(self, key: str) -> int | None:
        """The line of the value under `key`, else the line of the mapping."""
        return self.key_lines.get(key, self.line)


@dataclass(frozen=True)
class Document:
    """One YAML document of a file."""

    file: str
    index: int
    """0-based position of the document in the file."""
    data: Any


def line_of(obj: Any, key: str | None = None) -> int | None:
    """The line of `obj` (a `YamlMap`), or of its value under `key`; None when unknown."""
    if not isinstance(obj, YamlMap):
        return None
    return obj.line_of(key) if key is not None else obj.line


_LOADER: Any = None


def _loader() -> Any:
    """A safe loader (C parser when available) whose mappings are `YamlMap`s carrying line numbers."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[valid-type,misc]
        pass

    def construct_map(loader: Any, node: Any) -> Iterator[YamlMap]:
        data = YamlMap()
        data.line = node.start_mark.line + 1
        yield data
        data.update(loader.construct_mapping(node))  # also resolves `<<` merge keys
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                data.key_lines[str(key_node.value)] = value_node.start_mark.line + 1

    Loader.add_constructor("tag:yaml.org,2002:map", construct_map)
    _LOADER = Loader
    return Loader


def load_documents(text: str, file: str = "<text>") -> list[Document]:
    """Every document of a YAML (or JSON) text; raise `InvalidInputError` naming file, line and column."""
    import yaml

    try:
        loaded = list(yaml.load_all(text, Loader=_loader()))  # a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        if file.endswith(".json"):
            return _load_json(text, file)
        mark = e.problem_mark or e.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark is not None else file
        problem = e.problem or e.context or "cannot parse it"
        raise InvalidInputError(f"{where}: not valid YAML: {problem}",
                                fix="fix the YAML at that line (indentation, quotes, a missing ':')") from None
    except yaml.YAMLError as e:
        raise InvalidInputError(f"{file}: not valid YAML: {str(e).splitlines()[0]}") from None
    return [Document(file, i, data) for i, data in enumerate(loaded) if data is not None]


def _load_json(text: str, file: str) -> list[Document]:
    """JSON that PyYAML (YAML 1.1) refuses, e.g. tabs: read it as JSON, without line numbers."""
    try:
        data = json.loads(text, object_pairs_hook=YamlMap)
    except json.JSONDecodeError as e:
        raise InvalidInputError(f"{file}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}",
                                fix="fix the JSON at that line") from None
    return [Document(file, 0, data)]


def load_file(path: str | os.PathLike[str]) -> list[Document]:
    """Read and load one file; errors name the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InvalidInputError(f"{p}: not UTF-8 text (byte {e.start})", fix="give a YAML or JSON file") from None
    except OSError as e:
        raise InvalidInputError(f"{p}: cannot read it ({e.strerror})") from None
    return load_documents(text, str(p))


def iter_manifest_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """The manifest files under `paths`: directories walked in sorted order, hidden ones skipped."""
    for p in map(Path, paths):
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.endswith(MANIFEST_SUFFIXES) and not name.startswith("."):
                        yield Path(root) / name
        elif p.exists():
            yield p
        else:
            raise InvalidInputError(f"{p}: no such file or directory", fix="check the path")


def k8s_objects(data: Any) -> Iterator[Any]:
    """The Kubernetes objects in one document: the document itself, or the `items` of a `…List` kind."""
    if isinstance(data, dict) and str(data.get("kind", "")).endswith("List") and isinstance(data.get("items"), list):
        for item in data["items"]:
            yield from k8s_objects(item)
    elif isinstance(data, dict):
        yield data
