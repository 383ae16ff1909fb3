#!/usr/bin/env python3
"""Print docs/configs.md's config reference (every key, type, default, meaning) from the config dataclasses.

    python scripts/config_reference.py            # print the markdown table
    python scripts/config_reference.py --write    # refresh it in docs/configs.md

The meaning is each field's own comment in its dataclass, so the table cannot drift from the code:
tests/test_readme.py checks that docs/configs.md holds exactly what this prints.
"""

import dataclasses
import inspect
import re
import sys
import typing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer.config.load import Config  # noqa: E402

FIELD = re.compile(r"^\s+(\w+): [^=]+=[^#]*#\s*(.*)$")


def comments(cls):
    """{field name: its trailing comment} read from the dataclass source."""
    return {m[1]: m[2] for line in inspect.getsource(cls).splitlines() if (m := FIELD.match(line))}


def type_name(t):
    return " \\| ".join("null" if a is type(None) else a.__name__ for a in typing.get_args(t)) or t.__name__


def default(f):
    value = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    return (
        "null"
        if value is None
        else str(value).lower()
        if isinstance(value, bool)
        else repr(value)
        if isinstance(value, str)
        else str(value)
    )


def rows(cls, prefix=""):
    hints, notes = typing.get_type_hints(cls), comments(cls)
    for f in dataclasses.fields(cls):
        t = hints[f.name]
        if dataclasses.is_dataclass(t):
            yield from rows(t, f"{prefix}{f.name}.")
        else:
            meaning = notes.get(f.name, "").replace("|", "\\|")  # a bare | would end the table cell
            yield f"| `{prefix}{f.name}` | {type_name(t)} | `{default(f)}` | {meaning} |"


def table():
    return "\n".join(["| key | type | default | meaning |", "| --- | --- | --- | --- |", *rows(Config)])


PAGE = Path(__file__).resolve().parents[1] / "docs" / "configs.md"
START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def with_table(text):
    """The page's text with the table between its START and END markers replaced by table()."""
    head, rest = text.split(START, 1)
    return f"{head}{START}\n{table()}\n{END}{rest.split(END, 1)[1]}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:  # refresh docs/configs.md in place
        PAGE.write_text(with_table(PAGE.read_text()))
    else:
        print(table())
