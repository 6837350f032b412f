"""Text → syntax tree. The only module that knows about lark.

Every failure becomes a `Diagnostic` with file, line, column, a stable code and a hint; no lark
exception escapes. When a file has several syntax errors, the file is re-read block by block (each
clause, definition or rule on its own) so that every broken block is reported once, without a cascade
of follow-on errors.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator

from lark import Lark, Token, Transformer_NonRecursive, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.indenter import Indenter
from lark.tree import Meta

from . import limits as _limits
from . import syntax as st
from .cache import lark_parser
from .errors import Diagnostic, PolicyError, Span

_ESCAPE = re.compile(r'\\(.)', re.S)


class _PolIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB"]
    CLOSE_PAREN_types = ["RPAR", "RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8
    CONTINUES = frozenset({"AND", "OR", "COMMA", "WHEN", "UNLESS"})

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        return super().process(self._join_continued(stream))

    def _join_continued(self, stream: Iterator[Token]) -> Iterator[Token]:
        """A line that ends in `and`, `or`, `,`, `when` or `unless` goes on on the next line when that
        line is indented more, so a long condition wraps the way a sentence does, without parentheses.
        (A next line that is not indented more is a new statement: the dangling word is then an error
        at its own line.)"""
        previous = None
        for token in stream:
            if (token.type == self.NL_type and previous in self.CONTINUES
                    and self._width(token) > self.indent_level[-1]):
                continue
            previous = token.type
            yield token

    def _width(self, newline: Token) -> int:
        """The indentation of the line a newline token leads into, tabs counted as `tab_len` spaces."""
        indent_str = newline.rsplit("\n", 1)[1]
        return indent_str.count(" ") + indent_str.count("\t") * self.tab_len

    def handle_NL(self, token: Token) -> Iterator[Token]:
        """As lark's, but a bad dedent is reported at the line where it happens."""
        if self.paren_level > 0:
            return
        yield token
        indent_str = token.rsplit("\n", 1)[1]
        if "\t" in indent_str:
            raise _TabIndent((token.end_line or token.line or 1), indent_str.index("\t") + 1)
        indent = self._width(token)
        if indent > self.indent_level[-1]:
            self.indent_level.append(indent)
            yield Token.new_borrow_pos(self.INDENT_type, indent_str, token)
            return
        levels = list(self.indent_level)
        while indent < self.indent_level[-1]:
            self.indent_level.pop()
            yield Token.new_borrow_pos(self.DEDENT_type, indent_str, token)
        if indent != self.indent_level[-1]:
            line = (token.end_line or token.line or 1)
            raise _BadDedent(line, indent + 1, levels)


class _BadDedent(Exception):
    def __init__(self, line: int, column: int, expected: list[int]) -> None:
        super().__init__(line, column, expected)
        self.line, self.column, self.expected = line, column, expected


class _TabIndent(Exception):
    """A line indented with a tab: how wide a tab is differs between editors, so the block a line
    belongs to would depend on who looks at it."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(line, column)
        self.line, self.column = line, column


_LAYOUT_ERRORS = (UnexpectedInput, _BadDedent, _TabIndent)


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = resources.files("policykit").joinpath("grammar.lark").read_text(encoding="utf-8")
    return lark_parser(grammar, _PolIndenter(), propagate_positions=True,
                       maybe_placeholders=True, start=["start", "fragment"])


def grammar_terminals() -> dict[str, str]:
    """Terminal name → the text a person would type, for readable 'expected …' messages."""
    names: dict[str, str] = {}
    for term in _lark().terminals:
        pattern = term.pattern
        names[term.name] = repr(pattern.value).replace("'", "`") if pattern.type == "str" else term.name
    return names


def _text(token: Token | str) -> str:
    """A string literal's value: unquoted, unescaped, and with whitespace runs read as one space."""
    raw = str(token)[1:-1]
    return " ".join(_ESCAPE.sub(lambda m: m.group(1), raw).split())


class _Builder(Transformer_NonRecursive):
    """Lark tree → syntax tree, one method per grammar rule.

    Non-recursive (lark's own post-order loop), so how deeply a file nests cannot overflow the stack
    here; values that cannot be read (an impossible date, a number too long) are collected as
    diagnostics at their own position and raised together once the tree is built."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.problems: list[Diagnostic] = []

    def _date(self, token: Token) -> date:
        try:
            return date.fromisoformat(str(token))
        except ValueError as exc:
            self.problems.append(Diagnostic("PK005", f"`{token}` is not a date: {exc}", self._tok(token),
                                            "write a date that exists, as YYYY-MM-DD (2024-02-29, not 2024-02-30)"))
            return date.min

    def _number(self, token: Token) -> float | int:
        text = str(token)
        digits = len(text.lstrip("-").split(".")[0])
        limit = _limits.current().max_number_digits
        if digits > limit:
            self.problems.append(Diagnostic("PK006", f"a number of {digits:,} digits; at most {limit} are allowed "
                                            "(limit max_number_digits)", self._tok(token),
                                            "no count, score or period in a policy is that large; check the number"))
            return 0
        return float(text) if "." in text else int(text)

    def _span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.file, 1, 1)
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok(self, token: Token) -> Span:
        return Span(self.file, token.line or 1, token.column or 1, token.end_line, token.end_column)

    # ------------------------------------------------------------ literals and paths
    @v_args(meta=True)
    def string(self, meta, children):
        return st.Literal(_text(children[0]), self._span(meta))

    @v_args(meta=True)
    def number(self, meta, children):
        return st.Literal(self._number(children[0]), self._span(meta))

    @v_args(meta=True)
    def date(self, meta, children):
        return st.Literal(self._date(children[0]), self._span(meta))

    @v_args(meta=True)
    def true(self, meta, children):
        return st.Literal(True, self._span(meta))

    @v_args(meta=True)
    def false(self, meta, children):
        return st.Literal(False, self._span(meta))

    @v_args(meta=True)
    def list_(self, meta, children):
        return st.Literal(tuple(c.value for c in children if c is not None), self._span(meta))

    @v_args(meta=True)
    def path(self, meta, children):
        return st.Path(tuple(str(c) for c in children), self._span(meta))

    @v_args(meta=True)
    def otherwise(self, meta, children):
        return st.Otherwise(children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def count(self, meta, children):
        return st.Count(children[0], self._span(meta))

    @v_args(meta=True)
    def call(self, meta, children):
        name, *args = children
        return st.Call(str(name), tuple(a for a in args if a is not None), self._span(meta))

    # ------------------------------------------------------------ conditions
    @v_args(meta=True)
    def or_(self, meta, children):
        return st.BoolOp("or", children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def and_(self, meta, children):
        return st.BoolOp("and", children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def not_(self, meta, children):
        return st.Not(children[0], self._span(meta))

    def _binary(op: str):  # noqa: N805 - a method factory used only in this class body
        @v_args(meta=True)
        def build(self, meta, children):
            return st.Compare(op, children[0], children[-1], self._span(meta))
        return build

    is_ = _binary("is")
    is_not = _binary("is not")
    in_ = _binary("in")
    not_in = _binary("not in")
    contains = _binary("contains")
    starts_with = _binary("starts with")
    ends_with = _binary("ends with")

    @v_args(meta=True)
    def compare(self, meta, children):
        left, op, right = children
        return st.Compare(str(op), left, right, self._span(meta))

    @v_args(meta=True)
    def is_missing(self, meta, children):
        return st.Presence(children[0], False, self._span(meta))

    @v_args(meta=True)
    def is_present(self, meta, children):
        return st.Presence(children[0], True, self._span(meta))

    @v_args(meta=True)
    def matches(self, meta, children):
        return st.Matches(children[0], str(children[1])[1:-1].replace("\\/", "/"), self._span(meta))

    def _names(self, tokens) -> tuple[tuple[str, Span], ...]:
        return tuple((str(n), self._tok(n)) for n in tokens)

    @v_args(meta=True)
    def has(self, meta, children):
        subject, *names = children
        return st.Has(subject, self._names(names), self._span(meta))

    @v_args(meta=True)
    def labelled(self, meta, children):
        subject, *names = children
        return st.Has(subject, self._names(names), self._span(meta), labels_only=True)

    @v_args(meta=True)
    def has_such_as(self, meta, children):
        subject, names, unlike = children
        return st.Has(subject, self._names(names), self._span(meta), True, self._names(unlike or ()))

    def names(self, children):
        return children

    def unlike(self, children):
        return children

    @v_args(meta=True)
    def quantified(self, meta, children):
        quantifier, path, body = children
        return st.Quantified(str(quantifier.children[0]), path, body, self._span(meta))

    @v_args(meta=True)
    def clause_applies(self, meta, children):
        return st.ClauseApplies(children[0].id, self._span(meta))

    # ------------------------------------------------------------ clauses and rules
    def clause_id(self, children):
        token = children[0]
        value = _text(token) if token.type == "STRING" else str(token)
        return st.Ref(value, self._tok(token))

    def cite_list(self, children):
        return tuple(children)

    @v_args(meta=True)
    def kind_target(self, meta, children):
        return st.Target(str(children[0].children[0]), (), self._span(meta))

    @v_args(meta=True)
    def action_target(self, meta, children):
        return st.Target("action", tuple(str(c) for c in children if c is not None), self._span(meta))

    @v_args(meta=True)
    def any_action_target(self, meta, children):
        return st.Target("action", (), self._span(meta))

    def targets(self, children):
        return list(children)

    def when(self, children):
        return children[0]

    def unless(self, children):
        return children[0]

    def because(self, children):
        return ("because", _text(children[0]))

    @v_args(meta=True)
    def obligation(self, meta, children):
        action, detail, cites = children
        return ("obligation", st.Obligation(str(action), _text(detail) if detail else None, cites or (), self._span(meta)))

    def cite(self, children):
        return ("cite", children[0])

    def rule_effective(self, children):
        return ("effective", self._date(children[0]))

    def rule_until(self, children):
        return ("until", self._date(children[0]))

    @v_args(meta=True)
    def decision(self, meta, children):
        effect, targets, when, unless, *parts = children
        decision = st.Decision(str(effect.children[0]), targets, when, unless, self._span(meta))
        for part in parts:
            if part is None:
                continue
            key, value = part
            if key == "obligation":
                decision.obligations.append(value)
            elif key == "cite":
                decision.cites.extend(value)
            else:
                setattr(decision, key, value)
        return decision

    @v_args(meta=True)
    def rule_decl(self, meta, children):
        if len(children) == 1:
            return st.Rule(None, children[0], self._span(meta))
        override, name, decision = children
        return st.Rule(str(name), decision, self._span(meta), override=override is not None)

    def target_rule(self, children):
        return ("rule", str(children[0]), self._tok(children[0]))

    def target_clause(self, children):
        ref = children[0]
        return ("clause", ref.id, ref.span)

    @v_args(meta=True)
    def exception_decl(self, meta, children):
        name, target, decision = children
        return st.Rule(str(name) if name else None, decision, self._span(meta), defeats=target)

    def unchecked(self, children):
        return ("unchecked", _text(children[0]))

    def clause_effective(self, children):
        return ("effective", self._date(children[0]))

    def clause_until(self, children):
        return ("until", self._date(children[0]))

    @v_args(meta=True)
    def clause_decl(self, meta, children):
        ref, text, *members = children
        clause = st.Clause(ref.id, _text(text), ref.span)
        for member in members:
            if member is None:
                continue
            if isinstance(member, st.Clause):
                member.parent = clause.id
                clause.children.append(member)
            elif isinstance(member, st.Rule):
                member.clause = clause.id
                clause.rules.append(member)
            else:
                setattr(clause, member[0], member[1])
        return clause

    # ------------------------------------------------------------ top level
    @v_args(meta=True)
    def param_decl(self, meta, children):
        name, type_name, default, description = children
        return st.Param(str(name), str(type_name.children[0]), default,
                        _text(description) if description else None, self._span(meta))

    @v_args(meta=True)
    def define_decl(self, meta, children):
        return st.Define(str(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def action_type_decl(self, meta, children):
        name, description = children
        return st.ActionType(str(name), _text(description) if description else None, self._span(meta))

    @v_args(meta=True)
    def label_trust(self, meta, children):
        source, above = children
        return st.Trust(_text(source), float(self._number(above)) if above is not None else None, self._span(meta))

    @v_args(meta=True)
    def header_text(self, meta, children):
        return ("text", str(children[0].children[0]), _text(children[1]), self._span(meta))

    @v_args(meta=True)
    def header_effective(self, meta, children):
        return ("effective", self._date(children[0]), self._span(meta))

    @v_args(meta=True)
    def header_extends(self, meta, children):
        token = children[0]
        value = _text(token) if token.type == "STRING" else str(token)
        return ("extends", st.Ref(value, self._tok(token)), self._span(meta))

    @v_args(meta=True)
    def header_set(self, meta, children):
        return ("set", str(children[0]), children[1], self._span(meta))

    # `retain …`: the words are kept as written (RetentionRule.parse reads them in the compiler), with
    # the spans of the amount, unit and anchor so that a diagnostic can point at the wrong word.
    def retain_after(self, children):
        return children

    def retain_unless(self, children):
        return tuple(children)

    def retain_word(self, children):
        word, unless = children
        return {"words": [str(word)], "unless": unless or ()}

    def retain_until(self, children):
        only, what, unless = children
        return {"words": (["only"] if only else []) + ["until", str(what)], "unless": unless or ()}

    def retain_period(self, children):
        amount, unit, after, unless = children
        self._number(amount)
        words = [str(amount), str(unit)] + (["after", *map(str, after)] if after else [])
        return {"words": words, "unless": unless or (), "amount": self._tok(amount), "unit": self._tok(unit),
                "after": self._tok(after[0]) if after else None}

    @v_args(meta=True)
    def header_retain(self, meta, children):
        rule, cites = children
        text = " ".join(rule["words"])
        if rule["unless"]:
            text += " unless " + " or ".join(p.dotted for p in rule["unless"])
        return ("retain", st.Retention(text, tuple(cites or ()), self._span(meta), rule.get("amount"),
                                       rule.get("unit"), rule.get("after"), tuple(rule["unless"])), None)

    @v_args(meta=True)
    def policy_decl(self, meta, children):
        name, *lines = children
        title = lines.pop(0) if lines and isinstance(lines[0], Token) else None
        doc = st.PolicyDoc(str(name), _text(title) if title else None, self._tok(name), self.file)
        for line in lines:
            if line is None:
                continue
            if line[0] == "text":
                doc.header[line[1]] = (line[2], line[3])
            elif line[0] == "effective":
                doc.effective = line[1]
            elif line[0] == "extends":
                doc.extends = line[1]
            elif line[0] == "retain":
                doc.retain.append(line[1])
            else:
                doc.sets.append((line[1], line[2], line[3]))
        return doc

    def start(self, children):
        doc, *items = children
        for item in items:
            _add_item(doc, item)
        return doc

    def fragment(self, children):
        return list(children)


def _add_item(doc: st.PolicyDoc, item: object) -> None:
    doc.items.append(item)
    if isinstance(item, st.Param):
        doc.params.append(item)
    elif isinstance(item, st.Define):
        doc.defines.append(item)
    elif isinstance(item, st.Clause):
        doc.clauses.append(item)
    elif isinstance(item, st.Rule):
        doc.rules.append(item)
    elif isinstance(item, st.Trust):
        doc.trusts.append(item)
    elif isinstance(item, st.ActionType):
        doc.action_types.append(item)


# ---------------------------------------------------------------- errors

_FRIENDLY = {
    "_NL": "end of line", "_INDENT": "an indented block", "_DEDENT": "the end of the block",
    "NAME": "a name", "STRING": 'a quoted "string"', "NUMBER": "a number", "DATE": "a date (YYYY-MM-DD)",
    "CLAUSE_ID": "a clause id", "REGEX": "a /regex/", "COMPARE": "a comparison (<, <=, ==, …)",
    "$END": "the end of the file", "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`",
    "COMMA": "`,`", "COLON": "`:`", "DOT": "`.`", "EQUAL": "`=`",
}


def _describe(terminal: str) -> str:
    if terminal in _FRIENDLY:
        return _FRIENDLY[terminal]
    words = grammar_terminals()
    return words.get(terminal, terminal.lower())


def _expected(names: set[str] | frozenset[str]) -> str:
    shown = sorted({_describe(n) for n in names})
    if len(shown) > 8:
        shown = shown[:8] + ["…"]
    return ", ".join(shown)


def _syntax_diagnostic(exc: BaseException, file: str, line_offset: int = 0, col_offset: int = 0) -> Diagnostic:
    """One readable diagnostic for whatever lark (or the indenter) raised."""
    def span(line: int, column: int) -> Span:
        return Span(file, line + line_offset, column + col_offset)

    if isinstance(exc, _TabIndent):
        return Diagnostic("PK004", "this line is indented with a tab", span(exc.line, exc.column),
                          "indent .pol files with spaces: a tab is as wide as each editor makes it, so the "
                          "block a line belongs to would depend on who reads it")
    if isinstance(exc, _BadDedent):
        return Diagnostic("PK003", "this line's indentation matches no enclosing block",
                          span(exc.line, exc.column),
                          "indent it to line up with the block it belongs to (column "
                          + " or ".join(str(level + 1) for level in exc.expected) + ")")
    if isinstance(exc, UnexpectedCharacters):
        char = exc.char if hasattr(exc, "char") else "?"
        if char == '"':
            return Diagnostic("PK001", "this string is never closed", span(exc.line, exc.column),
                              'end it with a double quote; write \\" for a quote inside it')
        return Diagnostic("PK001", f"unexpected character {char!r}", span(exc.line, exc.column),
                          "strings use double quotes; comments start with #; regexes are /…/")
    if isinstance(exc, UnexpectedEOF):
        return Diagnostic("PK002", "the file ends in the middle of a statement",
                          span(max(exc.line, 1), max(exc.column, 1)), f"expected {_expected(exc.expected)}")
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type == "_INDENT":
            message, hint = "unexpected indentation", "only a clause's or rule's body is indented under it"
        elif token.type == "_DEDENT":
            message, hint = "this block ends too early", f"expected {_expected(exc.accepts or exc.expected)}"
        elif token.type == "_NL":
            message, hint = "this line ends too early", f"expected {_expected(exc.accepts or exc.expected)}"
        elif token.type == "$END":
            message, hint = "the file ends in the middle of a statement", f"expected {_expected(exc.accepts or exc.expected)}"
        elif "DATE" in (exc.accepts or exc.expected) and _DATEISH.fullmatch(str(token)):
            return Diagnostic("PK005", f"`{token}` is not a date", span(token.line or 1, token.column or 1),
                              "write dates as YYYY-MM-DD, with two-digit months and days (2024-07-01)")
        else:
            message = f"unexpected {_describe(token.type) if token.type in _FRIENDLY else repr(str(token))}"
            hint = f"expected {_expected(exc.accepts or exc.expected)}"
        line = token.line if token.type not in ("_NL", "_DEDENT", "_INDENT") else (token.line or 1)
        column = token.column or 1
        if token.type in ("_NL",):
            column = (token.column or 1)
        return Diagnostic("PK002", message, span(line or 1, column), hint)
    return Diagnostic("PK002", f"cannot read this file: {exc}", span(1, 1))


_DATEISH = re.compile(r"\d+[-./]\d+([-./]\d+)?")

_BLOCK_START = re.compile(r"^([ \t]*)(clause|define|param|trust|rule|override|exception)\b")


def _blocks(text: str) -> Iterator[tuple[int, int, str]]:
    """Split a file into independently parseable blocks: (first line number, indent, dedented text)."""
    lines = text.split("\n")
    starts = [0] + [i for i, line in enumerate(lines) if i > 0 and _BLOCK_START.match(line)]
    starts.append(len(lines))
    for begin, end in zip(starts, starts[1:]):
        chunk = lines[begin:end]
        indent = len(chunk[0]) - len(chunk[0].lstrip(" \t"))
        body = [line[indent:] if line[:indent].strip() == "" else line.lstrip() for line in chunk]
        yield begin + 1, indent, "\n".join(body) + "\n"


def _recover(text: str, file: str) -> list[Diagnostic]:
    """Report every broken block once: the first block must be the header, others are fragments."""
    found: list[Diagnostic] = []
    for number, (line, indent, chunk) in enumerate(_blocks(text)):
        if not chunk.strip() or all(not l.strip() or l.lstrip().startswith("#") for l in chunk.split("\n")):
            continue
        try:
            _lark().parse(chunk, start="start" if number == 0 else "fragment")
        except _LAYOUT_ERRORS as exc:
            found.append(_syntax_diagnostic(exc, file, line - 1, indent))
    return found


def parse(text: str, file: str = "<string>") -> st.PolicyDoc:
    """Parse policy text into a syntax tree, or raise PolicyError with every syntax error found."""
    if "\x00" in text:
        raise PolicyError([Diagnostic("PK000", "this is a binary file, not a policy", Span(file, 1, 1),
                                      "policies are UTF-8 text files ending in .pol")])
    source = text if text.endswith("\n") else text + "\n"
    try:
        tree = _lark().parse(source, start="start")
    except _LAYOUT_ERRORS as exc:
        first = _syntax_diagnostic(exc, file)
        rest = [d for d in _recover(source, file) if (d.line, d.column) != (first.line, first.column)]
        raise PolicyError(sorted([first, *rest], key=lambda d: (d.line, d.column))) from None
    _balance(tree)
    too_deep = _too_deep(tree, file)
    if too_deep is not None:
        raise PolicyError([too_deep])
    builder = _Builder(file)
    try:
        doc = builder.transform(tree)
    except VisitError as exc:
        raise PolicyError([Diagnostic("PK002", f"cannot read this value: {exc.orig_exc}", Span(file, 1, 1))]) from None
    if builder.problems:
        raise PolicyError(sorted(builder.problems, key=lambda d: (d.line, d.column)))
    return doc


_CHAINS = ("and_", "or_")


def _position(node: Any) -> tuple[int, int, int, int]:
    meta = node.meta if isinstance(node, Tree) else None
    if meta is not None and not getattr(meta, "empty", True):
        return meta.line, meta.column, meta.end_line, meta.end_column
    return (getattr(node, "line", 1) or 1, getattr(node, "column", 1) or 1,
            getattr(node, "end_line", 1) or 1, getattr(node, "end_column", 1) or 1)


def _joined(op: str, terms: list[Any]) -> Any:
    """`a and b and c and d` as a balanced tree ((a and b) and (c and d)): the same meaning (`and` and
    `or` are associative, in three-valued logic too, and terms are still tried left to right), but
    a chain of n terms nests log2(n) deep instead of n, so nothing that walks it recursively (the
    compiler, lint's analysis, the compiled closures) goes deeper than the chain's length allows."""
    if len(terms) == 1:
        return terms[0]
    middle = len(terms) // 2
    left, right = _joined(op, terms[:middle]), _joined(op, terms[middle:])
    meta = Meta()
    meta.line, meta.column = _position(terms[0])[:2]
    meta.end_line, meta.end_column = _position(terms[-1])[2:]
    meta.empty = False
    return Tree(op, [left, right], meta)


def _balance(tree: Tree) -> None:
    """Rebalance every chain of `and`s or of `or`s in place (see `_joined`), without recursion."""
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, Tree):
            continue
        if node.data in _CHAINS:
            terms: list[Any] = []
            pending = [node]
            while pending:
                part = pending.pop()
                if isinstance(part, Tree) and part.data == node.data:
                    pending.extend(reversed(part.children))
                else:
                    terms.append(part)
            if len(terms) > 2:
                balanced = _joined(node.data, terms)
                node.children = balanced.children
            stack.extend(terms)
        else:
            stack.extend(node.children)


def _too_deep(tree: Tree, file: str) -> Diagnostic | None:
    """A diagnostic at the first place the file nests deeper than `max_nesting`, else None."""
    limit = _limits.current().max_nesting
    stack: list[tuple[Any, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, Tree):
            continue
        if depth > limit:
            line, column = _position(node)[:2]
            return Diagnostic("PK007", f"nested more than {limit} levels deep (limit max_nesting)",
                              Span(file, line, column),
                              "conditions, lists and clauses this deep are not read by anyone; name parts of "
                              "the condition with `define` and use the names")
        stack.extend((child, depth + 1) for child in node.children)
    return None

