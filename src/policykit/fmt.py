"""`policykit fmt`: one canonical layout for `.pol` files.

The layout rules are deliberately few, so that formatting can never change meaning: every block is
indented two spaces per level, trailing whitespace goes, runs of blank lines become one, and the file
ends with exactly one newline. Comments stay on their lines (a comment line takes the indentation of
the code that follows it). Continuation lines (inside strings, lists and parentheses, or after a line
ending in `and`, `or`, `,`, `when` or `unless`) move with their statement. Nothing inside a line is touched, so strings and regexes are never altered.
"""

from __future__ import annotations

INDENT = "  "


def _width(line: str) -> int:
    prefix = line[: len(line) - len(line.lstrip(" \t"))]
    return prefix.count(" ") + prefix.count("\t") * 8


_CONTINUES = ("and", "or", ",", "when", "unless")


def _scan(line: str, in_string: bool, depth: int) -> tuple[bool, int, bool]:
    """Carry string and bracket state across one physical line (comments end the scan); also say
    whether the line ends in a word that continues the statement on the next line (`and`, `or`, `,`,
    `when`, `unless`), as the parser reads it."""
    escaped, code = False, line
    for position, char in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "#":
            code = line[:position]
            break
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth = max(depth - 1, 0)
    words = code.rsplit(None, 1)
    continues = not in_string and bool(words) and (words[-1] in _CONTINUES or words[-1].endswith(","))
    return in_string, depth, continues


def _kinds(lines: list[str]) -> list[str]:
    """Classify each line: start (of a statement), cont (continuation), comment, blank. As in the
    parser, a line after one ending in `and`, `or`, `,`, `when` or `unless` continues it only when it is
    indented more than the statement's first line."""
    kinds, in_string, depth, continues, statement = [], False, 0, False, 0
    for line in lines:
        stripped = line.strip()
        if in_string or depth or (continues and stripped and not stripped.startswith("#")
                                  and _width(line) > statement):
            kinds.append("cont")
        elif not stripped:
            kinds.append("blank")
        elif stripped.startswith("#"):
            kinds.append("comment")
        else:
            kinds.append("start")
            statement = _width(line)
        if kinds[-1] in ("start", "cont"):
            in_string, depth, continues = _scan(line, in_string, depth)
    return kinds


def _levels(lines: list[str], kinds: list[str]) -> list[int]:
    """The block level of each statement line, as the parser's indenter computes it; a comment line
    keeps the level its own indentation points at (so a section heading comment at column 1 stays
    there, and a note inside a clause stays inside it)."""
    levels, stack = [0] * len(lines), [0]
    for number, (line, kind) in enumerate(zip(lines, kinds)):
        width = _width(line)
        if kind == "comment":
            following = next((k for k in range(number + 1, len(kinds)) if kinds[k] == "start"), None)
            if width > stack[-1] and following is not None and _width(lines[following]) > stack[-1]:
                levels[number] = len(stack)
            else:
                levels[number] = max(i for i, w in enumerate(stack) if w <= width)
            continue
        if kind != "start":
            continue
        if width > stack[-1]:
            stack.append(width)
        while width < stack[-1]:
            stack.pop()
        levels[number] = len(stack) - 1
    return levels


def format_text(text: str) -> str:
    """The canonical layout of a policy's text. Idempotent; the compiled meaning is unchanged."""
    lines = text.replace("\r\n", "\n").split("\n")
    kinds = _kinds(lines)
    levels = _levels(lines, kinds)
    out: list[str] = []
    shift = 0
    for number, (line, kind) in enumerate(zip(lines, kinds)):
        if kind == "blank":
            if out and out[-1] != "":
                out.append("")
            continue
        if kind == "comment":
            out.append(INDENT * levels[number] + line.strip())
            continue
        if kind == "start":
            target = INDENT * levels[number]
            shift = len(target) - _width(line)
            out.append((target + line.lstrip(" \t")).rstrip())
            continue
        width = _width(line)
        out.append((" " * max(width + shift, 0) + line.lstrip(" \t")).rstrip() if line.strip() else "")
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"
