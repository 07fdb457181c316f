"""Read YAML into plain JSON-like values and remember where every value and key was written.

PyYAML's composer gives nodes with marks; we build the values ourselves so that times stay
strings (YAML 1.1 would turn `1:30` into 5400 and an ISO time into a datetime) and so that a
JSON Schema error path can be mapped back to a line and column.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import yaml

Path_ = tuple  # a path into the document: keys (str) and sequence indices (int)

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column."""

    line: int
    column: int


@dataclass
class Document:
    """The values of a YAML document and the marks of its values and keys by path."""

    data: object
    values: dict[Path_, Mark] = field(default_factory=dict)
    keys: dict[Path_, Mark] = field(default_factory=dict)
    issues: list[tuple[Mark, Path_, str]] = field(default_factory=list)

    def mark(self, path: Path_, *, key: bool = False) -> Mark:
        """Return where `path` was written (its key when `key`), or its nearest ancestor."""
        path = tuple(path)
        if key and path in self.keys:
            return self.keys[path]
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Mark(1, 1))


class SourceError(Exception):
    """The text is not YAML; `mark` says where the parser gave up."""

    def __init__(self, message: str, mark: Mark):
        super().__init__(message)
        self.message = message
        self.mark = mark


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def read(text: str) -> Document:
    """Parse one YAML document with line tracking; raise SourceError when it is not YAML."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        message = f"not valid YAML: {exc.problem or exc.context}"
        if exc.context and exc.context_mark and exc.problem:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise SourceError(message, where) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"not valid YAML: {exc}", Mark(1, 1)) from None
    doc = Document(data=None)
    if node is None:
        doc.values[()] = Mark(1, 1)
        return doc
    doc.data = _value(node, (), doc)
    return doc


def _value(node: yaml.Node, path: Path_, doc: Document):
    doc.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        return _mapping(node, path, doc)
    if isinstance(node, yaml.SequenceNode):
        return [_value(item, (*path, i), doc) for i, item in enumerate(node.value)]
    return _scalar(node, path, doc)


def _mapping(node: yaml.MappingNode, path: Path_, doc: Document) -> dict:
    out: dict = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            doc.issues.append((_mark(key_node), path, "merge keys (<<) are not supported: "
                                                      "write the fields out"))
            continue
        if not isinstance(key_node, yaml.ScalarNode):
            doc.issues.append((_mark(key_node), path, "a key must be a plain name"))
            continue
        # Keys are names: `no`, `on` or `1` as a key stays a string (YAML 1.1 would say False).
        key = key_node.value
        child = (*path, key)
        if key in out:
            doc.issues.append((_mark(key_node), child,
                               f"'{key}' is given twice in the same block"))
        doc.keys[child] = _mark(key_node)
        out[key] = _value(value_node, child, doc)
    return out


def _scalar(node: yaml.ScalarNode, path: Path_, doc: Document):
    text, tag = node.value, node.tag
    if tag == _STR or node.style in ("'", '"', "|", ">"):
        return text
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return text.lower() in ("true", "yes", "on", "y")
    if tag in (_INT, _FLOAT):
        if ":" in text:  # YAML 1.1 base 60 (1:30 -> 90): a time of day or a duration here
            return text
        try:
            return yaml.SafeLoader.construct_yaml_int(_CONSTRUCTOR, node) if tag == _INT \
                else yaml.SafeLoader.construct_yaml_float(_CONSTRUCTOR, node)
        except (ValueError, yaml.YAMLError):
            return text
    if tag == _TIMESTAMP:
        return text
    doc.issues.append((_mark(node), path, f"the tag {tag} is not supported"))
    return text


_CONSTRUCTOR = yaml.SafeLoader("")
