"""Safe loading of untrusted YAML: bounded size, depth and alias expansion, and a line/column per value.

One pass over the bytes (size, NUL, UTF-8, control characters, line length), one compose with
libyaml's C parser (which never expands aliases), then one walk of the node tree that builds plain
Python data, counts every value it visits (aliases included, so a billion-laughs file stops at
`max_nodes`), notes duplicate keys, and records where each value starts. PyYAML's constructors
are used only for non-string scalars, so the data equals what `yaml.safe_load` would return.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from lab.taxonomy.config import Limits
from lab.taxonomy.findings import Issue
from lab.taxonomy.yamlhints import syntax_hint

STR_TAG = "tag:yaml.org,2002:str"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"
MERGE_TAG = "tag:yaml.org,2002:merge"
# What PyYAML's pure-Python reader refuses (the reference parser uses it): control characters etc.
NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_SCALARS = _CONSTRUCTOR.yaml_constructors
Path = tuple[Any, ...]


@dataclass
class Loaded:
    """The outcome of loading one file. `data` is None when a fatal issue stopped loading."""

    text: str | None = None
    data: Any = None
    # Positions as (line, col) tuples, not nodes: keeping the node graph alive would slow the garbage collector.
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)  # value path -> (line, col), 1-based
    key_marks: dict[Path, tuple[int, int]] = field(default_factory=dict)  # value path -> its key's position
    implicit: dict[Path, tuple[str, str]] = field(default_factory=dict)  # path -> (tag, raw text) of plain non-strings
    issues: list[Issue] = field(default_factory=list)
    fatal: bool = False

    def where(self, path: Path) -> tuple[int, int]:
        """The 1-based (line, col) of the value at `path`, or of its nearest recorded parent."""
        while path not in self.marks and path:
            path = path[:-1]
        return self.marks.get(path, (1, 1))

    def key_where(self, path: Path) -> tuple[int, int] | None:
        """The position of the key whose value is at `path`, if there is one."""
        return self.key_marks.get(path)


class _Stop(Exception):
    def __init__(self, issue: Issue):
        self.issue = issue


def line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def decode(data: bytes, limits: Limits, what: str = "file") -> tuple[str | None, list[Issue]]:
    """Bytes to text with newlines normalised as the reference reads them (universal newlines)."""
    if len(data) > limits.max_file_bytes:
        return None, [Issue("file-too-large", 0, 0, f"The {what} is larger than the limit of "
                            f"{limits.max_file_bytes:,} bytes.", "Split the content into smaller files.")]
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        return None, [Issue("binary-file", line, nul - (data.rfind(b"\n", 0, nul) + 1) + 1,
                            f"The {what} contains a NUL byte: it looks like binary data, not text.",
                            "Save the file as plain UTF-8 text.")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [Issue("encoding", line, col, f"The {what} is not valid UTF-8 (byte 0x{data[exc.start]:02x}).",
                            "Save the file with UTF-8 encoding (most editors offer it under 'Save with encoding').")]
    issues: list[Issue] = []
    if "\r" in text:
        if "\r\n" in text:
            issues.append(Issue("line-endings", 1, 1, "The file uses Windows (CRLF) line endings.",
                                "Configure your editor or git (core.autocrlf) to use Unix (LF) line endings."))
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, issues


def load_yaml(data: bytes, limits: Limits) -> Loaded:
    """Load one untrusted qna.yaml. Never raises for bad input: every problem becomes an Issue."""
    text, issues = decode(data, limits)
    out = Loaded(text=text, issues=issues)
    if text is None:
        out.fatal = True
        return out
    bad = NON_PRINTABLE.search(text)
    if bad:
        line, col = line_col(text, bad.start())
        out.issues.append(Issue("control-character", line, col,
                                f"The character U+{ord(bad.group()):04X} is not allowed in YAML.",
                                "Delete it; it is often an invisible character pasted from another program."))
        out.fatal = True
        return out
    if len(text) > limits.max_line_chars:
        for number, line_text in enumerate(text.split("\n"), 1):
            if len(line_text) > limits.max_line_chars:
                out.issues.append(Issue("line-too-long", number, limits.max_line_chars + 1,
                                        f"Line {number} has {len(line_text):,} characters; the limit is "
                                        f"{limits.max_line_chars:,}.", "Break the text over several lines "
                                        "with a `|` or `>` block scalar."))
                out.fatal = True
                return out
    try:
        node = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        out.issues.append(_syntax_issue(exc))
        out.fatal = True
        return out
    except yaml.YAMLError as exc:
        out.issues.append(Issue("yaml-syntax", 1, 1, f"The YAML cannot be read: {exc}", ""))
        out.fatal = True
        return out
    if node is None:
        return out
    builder = _Builder(limits, out)
    try:
        out.data = builder.build(node, (), 0)
    except _Stop as stop:
        out.issues.append(stop.issue)
        out.fatal = True
        out.data = None
    return out


def _syntax_issue(exc: yaml.MarkedYAMLError) -> Issue:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "invalid YAML"
    if "maximum nesting depth" in str(exc):
        return Issue("nesting-depth", line, col, "Lists and mappings are nested far too deeply.",
                     "A qna.yaml needs only a few levels of nesting; remove the extra brackets or indentation.")
    context = f" ({exc.context})" if exc.context else ""
    return Issue("yaml-syntax", line, col, f"The YAML cannot be parsed: {problem}{context}.", syntax_hint(problem))


class _Builder:
    """Turns a composed node graph into plain data, bounded, recording positions and duplicate keys."""

    def __init__(self, limits: Limits, out: Loaded):
        self.max_nodes = limits.max_nodes
        self.max_depth = limits.max_depth
        self.max_items = limits.max_items
        self.count = 0
        self.out = out

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.count += 1
        mark = node.start_mark
        self.out.marks[path] = (mark.line + 1, mark.column + 1)
        if node.__class__ is ScalarNode and node.tag == STR_TAG:  # the common case, first
            return node.value
        if self.count > self.max_nodes:
            raise _Stop(Issue("too-many-values", mark.line + 1, mark.column + 1,
                              f"The file holds more than {self.max_nodes:,} values (counting what anchors and "
                              "aliases repeat).", "A qna.yaml needs a few hundred values at most; write the "
                              "content out plainly, without `&anchor`/`*alias` repetition."))
        if depth > self.max_depth:
            raise _Stop(Issue("nesting-depth", mark.line + 1, mark.column + 1,
                              f"Values are nested more than {self.max_depth} levels deep.",
                              "A qna.yaml needs only a few levels of nesting; check the indentation."))
        if not isinstance(node, ScalarNode) and len(node.value) > self.max_items:
            raise _Stop(Issue("too-many-items", mark.line + 1, mark.column + 1,
                              f"This list or mapping has {len(node.value):,} entries; the limit is "
                              f"{self.max_items:,}.", "A leaf needs a few dozen seed examples at most; "
                              "split the content into several leaves."))
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != SEQ_TAG:
                return self._special(node)
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            if node.tag != MAP_TAG:
                return self._special(node)
            return self._mapping(node, path, depth)
        raise _Stop(Issue("yaml-syntax", mark.line + 1, mark.column + 1, "Unexpected YAML node.", ""))

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        tag = node.tag
        if tag == STR_TAG:
            return node.value
        constructor = _SCALARS.get(tag)
        mark = node.start_mark
        if constructor is None:
            raise _Stop(Issue("yaml-syntax", mark.line + 1, mark.column + 1,
                              f"The tag {tag!r} is not allowed.", "Remove the `!` tag; write plain text."))
        try:
            value = constructor(_CONSTRUCTOR, node)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            raise _Stop(Issue("yaml-syntax", mark.line + 1, mark.column + 1,
                              f"The value cannot be read: {exc}", "Put the value in quotes.")) from None
        if not node.style and tag != "tag:yaml.org,2002:null":  # plain (C loader: "", Python: None)
            self.out.implicit[path] = (tag.rsplit(":", 1)[-1], node.value)
        return value

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict:
        result: dict[Any, Any] = {}
        seen: dict[str, int] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges.append(value_node)
                continue
            if key_node.__class__ is ScalarNode and key_node.tag == STR_TAG:
                key = key_node.value
                self.count += 1
            else:
                key = self.build(key_node, ("<key>",), depth + 1)
            mark = key_node.start_mark
            try:
                hash(key)
            except TypeError:
                raise _Stop(Issue("yaml-syntax", mark.line + 1, mark.column + 1,
                                  "A key must be plain text, not a list or mapping.",
                                  "Use `key: value` with a simple key.")) from None
            if isinstance(key_node, ScalarNode):
                first = seen.get(key_node.value)
                if first is not None:
                    self.out.issues.append(Issue(
                        "duplicate-key", mark.line + 1, mark.column + 1,
                        f"The key `{key_node.value}` appears twice in the same mapping (first on line {first}); "
                        "YAML keeps only the last value, so the first one is silently lost.",
                        "Delete one of them, or merge their contents; if they belong to different items, "
                        "start the second item with `- `."))
                else:
                    seen[key_node.value] = mark.line + 1
            child = (*path, key)
            self.out.key_marks[child] = (mark.line + 1, mark.column + 1)
            result[key] = self.build(value_node, child, depth + 1)
        for source in merges:  # `<<: *anchor`: explicit keys win, then earlier sources
            sources = source.value if isinstance(source, SequenceNode) else [source]
            for item in sources:
                merged = self.build(item, path, depth + 1)
                if not isinstance(merged, dict):
                    mark = item.start_mark
                    raise _Stop(Issue("yaml-syntax", mark.line + 1, mark.column + 1,
                                      "A `<<` merge needs a mapping.", "Remove the `<<` line."))
                for key, value in merged.items():
                    result.setdefault(key, value)
        return result

    def _special(self, node: Node) -> Any:
        """Rare explicit collection tags (!!set, !!omap, !!pairs): bounded count first, then PyYAML."""
        stack, budget = [node], self.max_nodes - self.count
        while stack:
            current = stack.pop()
            budget -= 1
            if budget < 0:
                mark = node.start_mark
                raise _Stop(Issue("too-many-values", mark.line + 1, mark.column + 1,
                                  f"The file expands to more than {self.max_nodes:,} values.", ""))
            if isinstance(current, SequenceNode):
                stack.extend(current.value)
            elif isinstance(current, MappingNode):
                for pair in current.value:
                    stack.extend(pair)
        try:
            return yaml.constructor.SafeConstructor().construct_document(node)
        except (yaml.YAMLError, RecursionError, TypeError, ValueError) as exc:
            mark = node.start_mark
            raise _Stop(Issue("yaml-syntax", mark.line + 1, mark.column + 1, f"The value cannot be read: {exc}",
                              "Write plain lists and mappings without `!!` tags.")) from None
