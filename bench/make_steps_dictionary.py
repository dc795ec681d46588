"""Made app/store/steps_dictionary.py once: explanation text of synthetic cases of every bundled policy.

    python bench/make_steps_dictionary.py > app/store/steps_dictionary.py

Kept to show how the dictionary was made, never to be run again over it: settlements stored with dictionary 1 are
read back with exactly these bytes, so a new wording makes a dictionary 2 beside it (app/store/steps_codec.py).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.policy.engine import Engine  # noqa: E402
from app.policy.loader import load_policy  # noqa: E402
from bench.synth import BENCH_LOCALS, cases  # noqa: E402

SIZE = 32 * 1024  # deflate looks back 32 KB: a longer dictionary is cut to its end


def explanations(people: int) -> dict[str, list[str]]:
    """The stored JSON of each visit's steps, by policy."""
    engines = {p: Engine(load_policy(p), BENCH_LOCALS[p]) for p in BENCH_LOCALS}
    out: dict[str, list[str]] = {p: [] for p in BENCH_LOCALS}
    for case in cases(people, 6, seed=20261202):
        for visit in engines[case.policy].settle(case, explain=True).visits:
            out[case.policy].append(json.dumps([s.to_json() for s in visit.steps], ensure_ascii=False))
    return out


def dictionary(people: int = 1500) -> str:
    """Whole explanations in turn from each policy, each wording once, until SIZE bytes."""
    rng = random.Random(7)
    pools = {p: rng.sample(texts, len(texts)) for p, texts in explanations(people).items()}
    seen: set[str] = set()
    parts: list[str] = []
    size = 0
    while size < SIZE and any(pools.values()):
        for pool in pools.values():
            while pool:
                text = pool.pop()
                shape = "".join(ch for ch in text if not ch.isdigit())  # the wording without its numbers
                if shape not in seen:
                    seen.add(shape)
                    parts.append(text)
                    size += len(text.encode("utf-8"))
                    break
    return "".join(parts).encode("utf-8")[-SIZE:].decode("utf-8", errors="ignore")


def module(text: str) -> str:
    """The Python module holding the dictionary, in lines of about 100 characters."""
    chunks, line = [], ""
    for ch in text:
        line += ch
        if len(repr(line)) > 100:
            chunks.append(line)
            line = ""
    chunks += [line] if line else []
    body = "\n".join(f"    {c!r}" for c in chunks)
    return ('"""Dictionary 1 of stored explanations: wording of the five bundled policies (made by '
            'bench/make_steps_dictionary.py).\n\nNever edit: explanations stored with it are read back with exactly '
            'these bytes (app/store/steps_codec.py)."""\n\n' f"DICTIONARY_1 = (\n{body}\n)\n")


if __name__ == "__main__":
    sys.stdout.write(module(dictionary()))
