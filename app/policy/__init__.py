"""Policies as data: loading the YAML files, dated values, building blocks and the settlement engine."""
