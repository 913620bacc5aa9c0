"""YAML loading that remembers where every value came from, and fills in ${ENV} secrets.

PyYAML's own constructors forget positions, so the composed node graph is walked here:
each value's path (("sources", 0, "id")) maps to its line and column, which lets every
validation error name file:line:col.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from statusgen.errors import ConfigError, Problem

# Bounds the work an alias-heavy document ("billion laughs") can cause: ten times what the
# largest file statusgen reads (MAX_BYTES) can hold written out, so no real config meets it.
MAX_NODES = 1_000_000
MAX_BYTES = 5_000_000
# PyYAML's composer, and the builder below, recurse once per level: far below Python's
# recursion limit, and far above any real config (sources.yaml needs about 6).
MAX_DEPTH = 50
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"

_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Path_ = tuple[str | int, ...]


@dataclass
class YamlDocument:
    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    from_environment: set[Path_] = field(default_factory=set)

    def locate(self, path: Path_) -> tuple[int | None, int | None]:
        """Line and column of the deepest part of `path` that exists in the file."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return None, None

    def problem(self, path: Path_, message: str) -> Problem:
        line, column = self.locate(path)
        return Problem(self.file, line, column, dotted(path), message)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load(path: Path, environ: Mapping[str, str] | None = None) -> YamlDocument:
    """Parse `path`, filling ${VARIABLE}s from `environ` (the process environment by default).
    Unparseable YAML raises ConfigError; problems with single values (duplicate keys,
    missing variables) are kept in `problems`, to be reported with the validation errors."""
    name, text = read(path)
    return parse(text, name, os.environ if environ is None else environ)


def read(path: Path) -> tuple[str, str]:
    """A file's name as the user wrote it, and its text; ConfigError if it cannot be read."""
    name = shown_name(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([Problem(name, None, None, "", f"cannot read: {exc.strerror}")]) from None
    if len(raw) > MAX_BYTES:
        raise ConfigError([Problem(name, None, None, "", f"file is larger than {MAX_BYTES} bytes")])
    try:
        return name, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(name, None, None, "", f"not UTF-8 text (byte {exc.start})")]) from None


def shown_name(path: Path) -> str:
    """A file's name as problems name it: as the user wrote it."""
    return path.name if path.parent == Path(".") else str(path)


def parse(text: str, name: str, environ: Mapping[str, str] | None, first_line: int = 1) -> YamlDocument:
    """YAML text that starts at `first_line` of file `name`; without `environ`, no ${…} is filled."""
    try:
        node = yaml.compose(text, Loader=_BoundedLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        line, col = (mark.line + first_line, mark.column + 1) if mark else (None, None)
        raise ConfigError([Problem(name, line, col, "", f"invalid YAML: {reason}")]) from None
    builder = _Builder(name, environ, first_line)
    data = builder.build(node, ()) if node is not None else {}
    if builder.visited > MAX_NODES:  # alone: every other problem would only be its echo
        raise ConfigError([p for p in builder.problems if p.message.startswith("document expands")])
    return YamlDocument(name, data, builder.positions, builder.problems, builder.from_environment)


class _BoundedLoader(yaml.SafeLoader):
    """Refuses nesting past MAX_DEPTH as a YAML error with its mark, before it can recurse too far."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        if self.depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, TOO_DEEP, self.peek_event().start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Builder:
    def __init__(self, file: str, environ: Mapping[str, str] | None, first_line: int = 1):
        self.file = file
        self.environ = environ
        self.offset = first_line
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.from_environment: set[Path_] = set()
        self.visited = 0
        self.depth = 0
        self.too_deep = False
        self.scalars = yaml.SafeLoader("")

    def fail(self, node: yaml.Node, path: Path_, message: str) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.file, mark.line + self.offset, mark.column + 1, dotted(path), message))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            if self.visited == MAX_NODES + 1:
                self.fail(node, path, f"document expands to more than {MAX_NODES} values (aliases?)")
            return None
        self.positions.setdefault(path, (node.start_mark.line + self.offset, node.start_mark.column + 1))
        if self.depth >= MAX_DEPTH:
            # The composer bounds written nesting; only an alias can lead here, and one inside its
            # own anchor would lead here forever. Named once, at the top key, not by a path of 50 parts.
            if not self.too_deep:
                self.fail(node, path[:1], f"{TOO_DEEP} (an alias inside its own anchor?)")
            self.too_deep = True
            return None
        self.depth += 1
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            return self.scalar(node, path)
        finally:
            self.depth -= 1

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict:
        result: dict = {}
        merged: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged.update(self.merge_source(value_node, path))
                continue
            key = self.scalar(key_node, path)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                self.fail(key_node, path, f"keys must be text, found {key!r}")
                continue
            key = str(key)
            if key in result:
                self.fail(key_node, path + (key,), "duplicate key (the earlier value would be lost)")
                continue
            self.positions[path + (key,)] = (key_node.start_mark.line + self.offset, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, path + (key,))
        return {**merged, **result}

    def merge_source(self, node: yaml.Node, path: Path_) -> dict:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict = {}
        for source in reversed(sources):
            value = self.build(source, path)
            if value is None and self.too_deep:
                continue  # reported once already, as too deep
            if not isinstance(value, dict):
                self.fail(source, path, "'<<' merges only mappings")
                continue
            merged.update(value)
        return merged

    def scalar(self, node: yaml.Node, path: Path_) -> Any:
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # dates stay text; the models parse what they need
        try:
            value = self.scalars.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.fail(node, path, f"invalid value: {getattr(exc, 'problem', exc)}")
            return None
        if isinstance(value, str) and self.environ is not None:
            return self.interpolate(value, node, path)
        return value

    def interpolate(self, text: str, node: yaml.Node, path: Path_) -> str:
        def replace(match: re.Match) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            self.from_environment.add(path)
            if name in self.environ:
                return self.environ[name]
            if default is not None:
                return default
            self.fail(node, path, f"environment variable {name} is not set")
            return ""

        return _ENV_REF.sub(replace, text)
