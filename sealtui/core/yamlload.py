"""Load Kubernetes YAML/JSON into plain Python data that remembers where each mapping and value came from.

One place for reading YAML (doctor, scan, resign, the kid map), so every tool says the same thing about a file
that does not parse: the file, the line and the column, never a traceback. Mappings come back as `YamlMap` (a
`dict` with the line of the mapping and of each of its values); everything else is what PyYAML's safe loader
makes. `compose_documents` gives the composed nodes instead (with their marks) for tools that rewrite exact
scalars. PyYAML's C parser is used when it is installed (about 5x faster than the pure-Python one).

Manifests arrive in pull requests, so a file may be hostile. PyYAML composes `*alias` as a second reference to
the anchored node: composing is linear, but anything that walks the result visits each reference again, so 300
bytes of nested aliases (an alias bomb) make billions of nodes. Every document is therefore checked, before
anyone walks or constructs it, in time linear in the file: the nodes that aliases add when expanded
(`MAX_ALIAS_NODES`, or `ALIAS_RATIO` times the nodes written out, whichever is more), the depth (`MAX_DEPTH`),
and no alias inside its own anchor (a cycle). Go's YAML decoder, which kubectl uses, refuses "excessive aliasing"
in the same spirit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sealtui.core.errors import InvalidInputError
from sealtui.core.files import read_text
from sealtui.core.serde_json import nesting_exceeds

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
"""Files taken from a directory; a file named explicitly is read whatever its suffix."""

MAX_ALIAS_NODES = 10_000
"""Nodes that aliases may add to a file when expanded, at least (see `ALIAS_RATIO`): a few hundred reuses of an
anchored block, far more than hand-written manifests use."""
ALIAS_RATIO = 10
"""... or this many times the nodes written out in the file, when that is more: the work stays linear in the
file's size, and a large generated file that leans on anchors still reads."""
MAX_DEPTH = 200
"""The deepest nesting of mappings and sequences read (a CRD's schema has a few dozen levels): deeper input would
exhaust the stack of the code that walks it. libyaml itself stops at 1000."""


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

    loader = _loader()(text)  # a SafeLoader subclass
    try:
        nodes = _compose(loader, file)
        loaded = []
        for node in nodes:
            try:
                loaded.append(loader.construct_document(node))
            except yaml.YAMLError as e:
                raise _yaml_error(e, file) from None
            except (ValueError, OverflowError) as e:  # e.g. `2024-13-01` (no month 13), an int of 5000 digits
                raise InvalidInputError(f"{file}:{node.start_mark.line + 1}: a value in this document cannot be "
                                        f"read ({str(e).splitlines()[0]})",
                                        fix="quote the value if it is meant as a string") from None
    except _NotYaml:
        if file.endswith(".json"):
            return _load_json(text, file)
        raise
    finally:
        loader.dispose()
    return [Document(file, i, data) for i, data in enumerate(loaded) if data is not None]


def compose_documents(text: str, file: str = "<text>") -> list[Any]:
    """The composed node of every document of a YAML text (None for an empty one), checked as the module says;
    each node keeps its `start_mark`/`end_mark` (line, column, character offset). Raises `InvalidInputError`."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        return _compose(loader, file)
    finally:
        loader.dispose()


def _compose(loader: Any, file: str) -> list[Any]:
    import yaml

    nodes = []
    try:
        while loader.check_node():
            nodes.append(loader.get_node())
    except yaml.YAMLError as e:
        raise _yaml_error(e, file) from None
    except RecursionError:  # the pure-Python composer recurses per level; libyaml stops at 1000 by itself
        raise _too_deep(file, None) from None
    check_nodes(nodes, file)
    return nodes


class _NotYaml(InvalidInputError):
    """The text does not parse as YAML (a `.json` file is then read as JSON: YAML 1.1 refuses tabs, for one)."""


def _yaml_error(e: Exception, file: str) -> InvalidInputError:
    import yaml

    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark is not None else file
        problem = e.problem or e.context or "cannot parse it"
        return _NotYaml(f"{where}: not valid YAML: {problem}",
                        fix="fix the YAML at that line (indentation, quotes, a missing ':')")
    return _NotYaml(f"{file}: not valid YAML: {str(e).splitlines()[0]}")


_CAP = 1 << 62
"""Expanded sizes are capped here, so that a bomb's count stays a small int."""


def check_nodes(nodes: Iterable[Any], file: str = "<text>") -> None:
    """Refuse composed documents that expand through aliases beyond the bounds of the module, nest more than
    `MAX_DEPTH` mappings and sequences deep, or hold an alias inside its own anchor. Each mapping and sequence is
    walked once (a second reference reuses its counts), so the time is linear in the file."""
    seen: dict[int, tuple[int, int]] = {}
    """id(collection node) → (nodes in it once aliases are expanded, levels of collections in it)."""
    inside: set[int] = set()
    """The collections being walked (the path from the root): meeting one again is a cycle."""
    written = 0

    def visit(node: Any, depth: int) -> tuple[int, int]:
        nonlocal written
        value = node.value
        if value.__class__ is str:
            return 1, 0  # a scalar (an alias of one adds a single node: no bomb)
        key = id(node)
        counts = seen.get(key)
        if counts is not None:  # met again through an alias: its counts, not another walk
            if depth + counts[1] - 1 > MAX_DEPTH:
                raise _too_deep(file, node)
            return counts
        if key in inside:
            raise InvalidInputError(f"{file}:{node.start_mark.line + 1}: a YAML alias refers to the anchor that "
                                    "contains it (the data would be infinite)",
                                    fix="write the repeated part out instead of the alias")
        if depth > MAX_DEPTH:
            raise _too_deep(file, node)
        inside.add(key)
        children = [n for pair in value for n in pair] if value and value[0].__class__ is tuple else value
        written += len(children)
        size, levels = 1, 0
        for child in children:
            child_size, child_levels = visit(child, depth + 1)
            size += child_size
            levels = max(levels, child_levels)
        inside.discard(key)
        counts = seen[key] = (min(size, _CAP), levels + 1)
        return counts

    total = 0
    for root in nodes:
        if root is not None:
            written += 1
            total += visit(root, 1)[0]
    allowed = max(MAX_ALIAS_NODES, ALIAS_RATIO * written)
    if total - written > allowed:
        raise InvalidInputError(
            f"{file}: its YAML aliases (*name) expand to more than {allowed:,} further nodes "
            f"({written:,} are written out): an alias bomb, refused",
            fix="write the repeated parts out, or use fewer nested aliases")


def _too_deep(file: str, node: Any) -> InvalidInputError:
    where = f"{file}:{node.start_mark.line + 1}" if node is not None else file
    return InvalidInputError(f"{where}: nested deeper than {MAX_DEPTH} levels", fix="flatten the data")


def _load_json(text: str, file: str) -> list[Document]:
    """JSON that PyYAML (YAML 1.1) refuses, e.g. tabs: read it as JSON, without line numbers."""
    if nesting_exceeds(text, MAX_DEPTH):
        raise _too_deep(file, None)
    try:
        data = json.loads(text, object_pairs_hook=YamlMap)
    except json.JSONDecodeError as e:
        raise InvalidInputError(f"{file}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}",
                                fix="fix the JSON at that line") from None
    return [Document(file, 0, data)]


def load_file(path: str | os.PathLike[str]) -> list[Document]:
    """Read and load one file; errors name the file."""
    p = Path(path)
    return load_documents(read_text(p, "the YAML or JSON manifest"), str(p))


def iter_manifest_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """The manifest files under `paths`: directories walked in sorted order, hidden ones skipped, and what is not
    a regular file (a FIFO, a device, a socket: reading it could block forever). A path given explicitly is
    yielded whatever it is; reading it says what is wrong."""
    for p in map(Path, paths):
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.endswith(MANIFEST_SUFFIXES) and not name.startswith(".") and (Path(root) / name).is_file():
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
