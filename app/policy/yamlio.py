"""A strict YAML reader for policy files: decimals stay Decimal, duplicate keys are an error, keys map to lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import yaml


class DuplicateKeyError(yaml.YAMLError):
    """The same key appears twice in one mapping; YAML would silently keep the last."""

    def __init__(self, key: object, line: int):
        super().__init__(f"键“{key}”重复出现（同一层只能写一次）")
        self.key = key
        self.line = line


class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise DuplicateKeyError(key, key_node.start_mark.line + 1)
        seen[key] = loader.construct_object(value_node, deep=deep)
    return seen


def _construct_float(loader: _StrictLoader, node: yaml.ScalarNode) -> Decimal:
    # Money and rates must never pass through binary floating point.
    return Decimal(loader.construct_scalar(node).replace("_", ""))


def _construct_int(loader: _StrictLoader, node: yaml.ScalarNode) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> object:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, f"“{node.value}”不是有效日期，请写成 2022-01-01 的形式", node.start_mark) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_yaml(text: str) -> object:
    """Parse policy YAML text with decimals and duplicate-key checks."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass


def _same_key(node: yaml.Node, key: Any) -> bool:
    text = key.isoformat() if isinstance(key, date) else str(key)
    return isinstance(node, yaml.ScalarNode) and node.value == text


def line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """The line (from 1) where the deepest key or item of `loc` that exists is written; None if text will not parse.

    `loc` holds mapping keys and 0-based list indexes as pydantic reports them, so a missing key is placed at its
    parent and an unknown one at itself.
    """
    if not text:
        return None
    try:
        node = yaml.compose(text, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass, composes only
    except yaml.YAMLError:
        return None
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if _same_key(k, key)), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    if line is None and node is not None:
        line = node.start_mark.line + 1
    return line
