#!/usr/bin/env python3
"""Log messages are lowercase and have no trailing period; values go in fields (CONTRIBUTING.md).

Finds every tracing macro call (also when rustfmt split it over lines) and checks its
message, the last string literal among its arguments.
"""
import pathlib
import re
import sys

MACRO = re.compile(r"\b(?:tracing::)?(trace|debug|info|warn|error)!\(")
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def call_arguments(text, start):
    """Returns the text between the macro's parentheses, honouring nesting and strings."""
    depth, index, in_string = 1, start, False
    while index < len(text) and depth:
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        index += 1
    return text[start : index - 1]


def main(roots):
    problems = []
    for root in roots:
        for path in sorted(pathlib.Path(root).rglob("*.rs")):
            if "target" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            for match in MACRO.finditer(text):
                arguments = call_arguments(text, match.end())
                strings = STRING.findall(arguments)
                if not strings:
                    continue
                message = strings[-1]
                capitalised = re.match(r"[A-Z][a-z]", message) is not None
                if capitalised or message.endswith("."):
                    line = text.count("\n", 0, match.start()) + 1
                    problems.append(f"{path}:{line}: {message!r}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("log messages must be lowercase without a trailing period", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
