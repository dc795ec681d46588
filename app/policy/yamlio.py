"""A strict YAML reader for policy files: decimals stay Decimal, duplicate keys are an error."""

from __future__ import annotations

from decimal import Decimal

import yaml


class DuplicateKeyError(yaml.YAMLError):
    """The same key appears twice in one mapping; YAML would silently keep the last."""


class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise DuplicateKeyError(
                f"第 {key_node.start_mark.line + 1} 行：键“{key}”重复出现（同一层只能写一次）")
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
