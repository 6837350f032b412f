"""Syntax tree → checked, compiled policy.

Everything that can be known before an event arrives is settled here: names and field paths are
checked against the event schema (with did-you-mean), clause references and exception targets are
resolved, conditions become Python closures, rules are indexed by event kind and action type and put
in dependency order. The evaluator then only calls closures; it never sees the syntax tree.

Every problem becomes a `Diagnostic`; all of them are collected and raised together as a
`PolicyError`, so an author sees every mistake in one run.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

import re2

from . import limits as _limits
from . import syntax as st
from .detectors import Detector, default_detectors
from .errors import Diagnostic, PolicyError, Span
from .models import Link, _short
from .plugins import detectors as plugin_detectors
from .plugins import action_types as plugin_action_types
from .plugins import functions as plugin_functions
from .schema import ANY, BOOL, DATE, NUMBER, TEXT, FieldType, expand, resolve, root_type
from .retention import RetentionError, RetentionRule
from .verdict import SEVERITY, Citation, PolicyRef

# The contract's label vocabulary; detectors and plugins may add categories.
CATEGORIES: frozenset[str] = frozenset({
    "profanity", "obscene", "sexual_harassment", "harassment", "hate_speech", "discrimination", "threat",
    "violence", "illegal_activity", "commercial_solicitation", "political_endorsement", "contest",
    "personal_information", "confidential", "public_safety_risk", "defamation", "false_statement",
    "intellectual_property", "off_topic", "service_request", "records_request", "tos_violation",
    "sexual_content", "fundraising", "city_business",
})
EVENT_KINDS = ("post", "comment", "account", "action")
# The contract's action types; a policy declares more with `action type NAME`, a plugin by its hook.
ACTION_TYPES: frozenset[str] = frozenset({
    "publish", "edit_post", "delete_post", "delete_comment", "edit_comment", "hide_comment", "reply",
    "create_account", "share_credentials", "send_password", "login", "remove_follower",
})

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.case_sensitive = False
_RE2_OPTIONS.log_errors = False  # the diagnostic says it; nothing should print to stderr

Fn = Callable[[Any], Any]  # a compiled expression: evaluation context → value (None = unknown)


# ---------------------------------------------------------------- compiled pieces

@dataclass(frozen=True)
class ClauseInfo:
    policy: str
    id: str
    text: str
    source: str
    span: Span
    parent: str | None
    unchecked: str | None
    effective: date | None
    until: date | None
    has_rules: bool
    has_children: bool

    def citation(self) -> Citation:
        return Citation.build(policy=self.policy, clause=self.id, text=self.text, source=self.source)


@dataclass(frozen=True)
class ObligationSpec:
    action: str
    detail: Callable[[Any], str | None]
    citations: tuple[Citation, ...]


@dataclass
class CompiledRule:
    id: str
    policy: str
    effect: str
    severity: int
    kinds: frozenset[str]
    actions: frozenset[str] | None  # None: any action type (or not an action rule)
    condition: Fn | None
    message: Callable[[Any], str]
    citations: tuple[Citation, ...]
    clauses: tuple[str, ...]  # the clause it sits under and its ancestors, then cited clauses
    home: tuple[str, ...]  # the clause it sits under and that clause's ancestors
    reads: tuple[tuple[str, Fn], ...]  # event fields the condition reads, to name what is missing
    obligations: tuple[ObligationSpec, ...]
    effective: date | None
    until: date | None
    span: Span
    index: int = 0
    is_exception: bool = False
    dated: bool = False  # has an effective or until date, so evaluation must check the event's time
    defeats: tuple[int, ...] = ()  # indices of rules this exception defeats
    defeated_by: tuple[int, ...] = ()  # indices of exceptions that may defeat this rule
    needs: frozenset[str] | None = None  # the event must carry one of these categories, or the rule cannot fire


@dataclass
class Program:
    """What the evaluator runs: rules in dependency order, indexed by what they apply to."""

    rules: list[CompiledRule]
    by_kind: dict[str, tuple[int, ...]]
    by_action: dict[str, tuple[int, ...]]
    any_action: tuple[int, ...]
    clause_rules: dict[str, tuple[int, ...]]
    params: dict[str, Any]
    trust: dict[str, float] | None
    detectors: tuple[Detector, ...]
    detectors_for: dict[str, tuple[Detector, ...]]
    effective: date | None
    categories: frozenset[str] = frozenset()  # every category a label may name: the contract's, detectors', plugins'
    _candidates: dict[tuple[str, str | None, frozenset[str], bool], tuple[int, ...]] = field(default_factory=dict)

    def applicable(self, kind: str, action: str | None) -> tuple[int, ...]:
        """Indices of the rules that target this event, in evaluation order."""
        if kind != "action":
            return self.by_kind.get(kind, ())
        found = self.by_action.get(action or "")
        if found is None:
            found = tuple(sorted(self.any_action))
        return found

    def candidates(self, kind: str, action: str | None, labels: frozenset[str], has_text: bool) -> tuple[int, ...]:
        """The applicable rules that can fire given the event's labels and whether it has text to detect in.

        A rule that needs a category (`remove comment when has threat and …`) cannot fire on an event
        that neither carries that label nor has text a detector for it could search, so it is skipped
        without a call. Most of a moderation stream shares a few label sets, so the answer is cached per
        (kind, action type, label set, text or not); the cache is cleared when it grows large, which
        bounds memory on streams with many distinct label sets.
        """
        key = (kind, action, labels, has_text)
        found = self._candidates.get(key)
        if found is None:
            possible = labels | self.detectable if has_text else labels
            found = tuple(i for i in self.applicable(kind, action)
                          if self.rules[i].needs is None or not self.rules[i].needs.isdisjoint(possible))
            if len(self._candidates) >= 4096:
                self._candidates.clear()
            self._candidates[key] = found
        return found

    @property
    def detectable(self) -> frozenset[str]:
        """Categories some detector of this policy can find in text."""
        return frozenset(category for category, found in self.detectors_for.items() if found)


# ---------------------------------------------------------------- helpers

def article(word: str) -> str:
    """`a` or `an` before a word: "an account event", "an action", "a post"."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def suggest(name: str, options: Iterable[str]) -> str | None:
    """The did-you-mean of every name diagnostic (compiler and lint): the one fuzzy matcher."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def _digest(texts: Sequence[str], params: Mapping[str, Any]) -> str:
    h = hashlib.sha256()
    for text in texts:
        h.update(text.encode("utf-8"))
        h.update(b"\x00")
    h.update(repr(sorted(params.items())).encode("utf-8"))
    return h.hexdigest()


def _as_date(value: Any) -> Any:
    return value.date() if isinstance(value, datetime) else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


@dataclass
class _Layer:
    doc: st.PolicyDoc
    source_label: str  # how citations name the file, e.g. policies/nyc.pol


@dataclass
class _Scope:
    """Where an expression is compiled: the rule's event kinds, and the element of a quantifier."""

    kinds: tuple[str, ...]
    element: FieldType | None = None
    outer: "_Scope | None" = None
    items: tuple[str, Fn] | None = None  # the event list a quantifier walks: its path and its getter


# ---------------------------------------------------------------- the compiler

class Compiler:
    """Compiles one policy (with the policies it extends) into a `Program`."""

    def __init__(self, layers: list[_Layer], params: Mapping[str, Any], detectors: Sequence[Detector],
                 categories: Iterable[str] = (), functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.layers = layers
        self.functions = dict(functions or {})
        self.action_types = ACTION_TYPES | set(plugin_action_types()) | {
            a.name for layer in layers for a in layer.doc.action_types}
        self.top = layers[-1].doc
        self.given_params = dict(params)
        self.detectors = tuple(detectors)
        self.categories = CATEGORIES | {c for d in self.detectors for c in d.categories} | set(categories)
        self.diagnostics: list[Diagnostic] = []
        self.clauses: dict[str, ClauseInfo] = {}
        self.clause_layer: dict[str, str] = {}
        self.params: dict[str, tuple[st.Param, Any]] = {}
        self.defines: dict[str, st.Define] = {}
        self.define_stack: list[str] = []
        self.used_names: set[str] = set()
        self.clause_deps: dict[int, set[str]] = {}
        self.current_rule = -1
        self.reads: list[tuple[str, Fn]] = []
        self.limits = _limits.current()
        self.depth = 0  # expressions being compiled, one inside the other (definitions put in place)
        self.compiled = 0  # expressions compiled so far
        self.over_limit = False

    # ------------------------------------------------------------ diagnostics
    def error(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, help))

    def warn(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, help, "warning"))

    # ------------------------------------------------------------ declarations
    def collect(self) -> list[tuple[st.Rule, _Layer]]:
        """Gather clauses, params, defines and rules of every layer; overrides replace by name."""
        rules: list[tuple[st.Rule, _Layer]] = []
        names: dict[str, int] = {}
        for depth, layer in enumerate(self.layers):
            doc = layer.doc
            for clause in doc.walk_clauses():
                self._add_clause(clause, layer)
            for param in doc.params:
                if param.name in self.params:
                    self.error("PK106", f"parameter `{param.name}` is already declared", param.span)
                self.params[param.name] = (param, param.default.value if param.default else None)
            for define in doc.defines:
                if define.name in self.defines or define.name in self.params:
                    self.error("PK106", f"`{define.name}` is already defined", define.span)
                self.defines[define.name] = define
            for rule in doc.all_rules():
                if rule.name is None:
                    rules.append((rule, layer))
                    continue
                if rule.name in names:
                    if rule.override and depth > 0 and rules[names[rule.name]][1] is not layer:
                        rules[names[rule.name]] = (rule, layer)
                        continue
                    self.error("PK202", f"a rule named `{rule.name}` already exists", rule.span,
                               "give it another name, or write `override rule NAME:` to replace a parent's rule")
                    continue
                if rule.override:
                    self.error("PK206", f"`override` names `{rule.name}`, which no extended policy has", rule.span,
                               suggest(rule.name, names) or "remove `override` to add a new rule")
                names[rule.name] = len(rules)
                rules.append((rule, layer))
        self._apply_sets()
        return rules

    def _add_clause(self, clause: st.Clause, layer: _Layer) -> None:
        if clause.id in self.clauses:
            first = self.clauses[clause.id]
            self.error("PK201", f"clause `{clause.id}` is declared twice (first at {first.span})", clause.span,
                       "clause ids must be unique; number the second one as the document does")
            return
        parent = self.clauses.get(clause.parent) if clause.parent else None
        effective = clause.effective or (parent.effective if parent else None) or layer.doc.effective
        until = clause.until or (parent.until if parent else None)
        if effective and until and until <= effective:
            self.error("PK211", f"clause `{clause.id}` ends ({until}) before it takes effect ({effective})", clause.span)
        self.clauses[clause.id] = ClauseInfo(
            layer.doc.name, clause.id, clause.text, f"{layer.source_label}:{clause.span.line}", clause.span,
            clause.parent, clause.unchecked, effective, until, bool(clause.rules), bool(clause.children))
        self.clause_layer[clause.id] = layer.doc.name

    def _apply_sets(self) -> None:
        for layer in self.layers:
            for name, literal, span in layer.doc.sets:
                self._set_param(name, literal.value, span)
        top_span = self.top.span
        for name, value in self.given_params.items():
            self._set_param(name, value, top_span, given=True)

    def _set_param(self, name: str, value: Any, span: Span, given: bool = False) -> None:
        if name not in self.params:
            where = "load(params=…)" if given else "`set`"
            self.error("PK107", f"{where} names parameter `{name}`, which the policy does not declare", span,
                       suggest(name, self.params) or f"declared parameters: {', '.join(sorted(self.params)) or 'none'}")
            return
        param = self.params[name][0]
        if not _fits(param.type, value):
            self.error("PK108", f"parameter `{name}` is a {param.type}, not {value!r}", span)
            return
        self.params[name] = (param, tuple(value) if isinstance(value, list) else value)

    def require_params(self) -> None:
        """For strict loading: a parameter without a value is an error, not an undetermined verdict."""
        for name, (param, value) in self.params.items():
            if value is None:
                about = f" ({param.description})" if param.description else ""
                self.error("PK114", f"parameter `{name}` has no value{about}", param.span,
                           f"fill it in: load(…, params={{\"{name}\": …}}), `--param {name}=…`, "
                           f"or `set {name} = …` in a policy that extends this one")

    def unfilled(self) -> tuple[str, ...]:
        return tuple(name for name, (_, value) in self.params.items() if value is None)

    # ------------------------------------------------------------ header: retention
    def compile_retention(self) -> RetentionRule | None:
        """The policy's `retain …` line (a child's own line overrides its parent's), checked: the rule
        must be one the archive can apply, cite the clause(s) it comes from, and name yes/no fields."""
        chosen: tuple[st.Retention, _Layer] | None = None
        for layer in self.layers:
            lines = layer.doc.retain
            for extra in lines[1:]:
                self.error("PK113", f"a second `retain` line (the first is at {lines[0].span})", extra.span,
                           "a policy has one retention rule; a policy that extends another overrides its parent's")
            if lines:
                chosen = (lines[0], layer)
        if chosen is None:
            return None
        node, layer = chosen
        try:
            rule = RetentionRule.parse(node.text, source=layer.doc.name)
        except RetentionError as exc:
            span = {"amount": node.amount, "unit": node.unit, "after": node.after}.get(exc.part) or node.span
            self.error("PK113", str(exc), span, exc.help)
            return None
        for path in node.unless:
            parts = expand(path.parts)
            types = [resolve(parts, root_type(kind)) for kind in EVENT_KINDS]
            found = [t for t, _, _ in types if t is not None]
            if not found:
                _, bad, allowed = max(types, key=lambda t: len(t[2]))
                self._bad_path(path, bad, allowed)
            elif not any(t.kind in ("bool", "any") for t in found):
                self.error("PK103", f"`{path.dotted}` is {found[0].describe()}, not a yes/no field", path.span,
                           "`unless` keeps an item whose event has this field true, e.g. `context.emergency`")
        cites = self._cites(node.cites)
        if not node.cites:
            self.error("PK204", "`retain` cites no clause", node.span,
                       "add `cite CLAUSE`: the clause of the document that states how long records are kept")
        return dataclasses.replace(rule, cites=tuple(f"{c.policy} {c.clause}" for c in cites))

    # ------------------------------------------------------------ expressions
    def expr(self, node: st.Expr, scope: _Scope) -> tuple[Fn, FieldType]:
        """Compile one expression, within the limits on how deep and how large a condition becomes once
        the definitions it uses are put in place (each use of a definition compiles it again, so ten
        definitions each using the last twice would otherwise compile 2**10 times over)."""
        self.compiled += 1
        if self.depth >= self.limits.max_expansion or self.compiled > self.limits.max_compiled:
            return self._over_limit(node)
        self.depth += 1
        try:
            return getattr(self, "_x_" + type(node).__name__.lower())(node, scope)
        finally:
            self.depth -= 1

    def _over_limit(self, node: st.Expr) -> tuple[Fn, FieldType]:
        """Report the first expression past a limit once (PK116, PK117), and compile nothing more."""
        if not self.over_limit:
            self.over_limit = True
            if self.depth >= self.limits.max_expansion:
                self.error("PK116", f"this condition nests more than {self.limits.max_expansion} levels deep once "
                           "the definitions it uses are put in place (limit max_expansion)", node.span,
                           "definitions that use definitions that use definitions…: flatten the chain")
            else:
                self.error("PK117", f"this policy's conditions come to more than {self.limits.max_compiled:,} "
                           "tests once definitions are put in place (limit max_compiled)", node.span,
                           "a definition used many times by definitions used many times multiplies; "
                           "use fewer layers")
        return (lambda ctx: None), ANY

    def condition(self, node: st.Expr, scope: _Scope) -> Fn:
        fn, typ = self.expr(node, scope)
        if typ.kind not in ("bool", "any"):
            self.error("PK103", f"this is {typ.describe()}, not a yes/no condition", node.span,
                       "compare it: `… is \"value\"`, `… is present`, or use a yes/no field")
        return fn

    def _x_literal(self, node: st.Literal, scope: _Scope) -> tuple[Fn, FieldType]:
        value = node.value
        return (lambda ctx: value), _literal_type(value)

    def _x_path(self, node: st.Path, scope: _Scope) -> tuple[Fn, FieldType]:
        head = node.parts[0]
        if scope.element is not None and head == "it" and len(node.parts) == 1:
            if scope.element.models == (Link,):  # a link is its URL, whatever labels it carries
                return (lambda ctx: ctx.it.url), TEXT
            return (lambda ctx: ctx.it), scope.element
        if scope.element is not None and scope.element.kind == "object" and head in scope.element.fields():
            typ, bad, allowed = resolve(node.parts, scope.element)
            if typ is None:
                return self._bad_path(node, bad, allowed)
            getter = _getter(node.parts, element=True)
            if scope.items is not None:
                dotted, items = scope.items
                self.reads.append((f"{dotted}[*].{node.dotted}", _on_every_item(items, getter)))
            return getter, typ
        if len(node.parts) == 1 and head in self.defines:
            return self._define(node, scope)
        if len(node.parts) == 1 and head in self.params:
            self.used_names.add(head)
            value = self.params[head][1]
            getter: Fn = lambda ctx: value  # noqa: E731
            if value is None:  # a blank the adopting city has not filled in: nothing is decided on it
                self.reads.append((f"param:{head}", getter))
            return getter, _param_type(self.params[head][0].type)
        return self._event_path(node, scope.kinds)

    def _event_path(self, node: st.Path, kinds: tuple[str, ...]) -> tuple[Fn, FieldType]:
        parts = expand(node.parts)
        found: FieldType | None = None
        for kind in kinds:
            typ, bad, allowed = resolve(parts, root_type(kind))
            if typ is None:
                names = allowed + sorted(self.defines) + sorted(self.params) + (["target"] if kind == "action" else [])
                return self._bad_path(node, bad, names, kind)
            found = _either(found, typ)
        getter = _getter(parts)
        self.reads.append((".".join(parts), getter))
        return getter, (found or ANY)

    def _bad_path(self, node: st.Path, bad: str | None, allowed: list[str], kind: str | None = None
                  ) -> tuple[Fn, FieldType]:
        where = f" for {article(kind)} {kind} event" if kind else ""
        if bad == node.parts[0]:
            self.error("PK101", f"unknown name `{bad}`{where}", node.span,
                       suggest(bad or "", allowed) or "see the field table in docs/language.md")
        else:
            self.error("PK102", f"`{node.dotted}` has no field `{bad}`{where}", node.span,
                       suggest(bad or "", allowed) or (f"fields there: {', '.join(allowed)}" if allowed else None))
        return (lambda ctx: None), ANY

    def _define(self, node: st.Path, scope: _Scope) -> tuple[Fn, FieldType]:
        name = node.parts[0]
        self.used_names.add(name)
        if name in self.define_stack:
            self.error("PK109", f"definition `{name}` refers to itself", node.span,
                       " → ".join(self.define_stack + [name]))
            return (lambda ctx: None), ANY
        self.define_stack.append(name)
        try:
            return self.expr(self.defines[name].expr, _Scope(scope.kinds))
        finally:
            self.define_stack.pop()

    def _x_otherwise(self, node: st.Otherwise, scope: _Scope) -> tuple[Fn, FieldType]:
        before = len(self.reads)
        get, typ = self._x_path(node.path, scope)
        del self.reads[before:]  # absence has a meaning here, so the field is never what is "missing"
        default = node.default.value

        def otherwise(ctx: Any) -> Any:
            value = get(ctx)
            return default if value is None else value
        return otherwise, typ

    def _x_count(self, node: st.Count, scope: _Scope) -> tuple[Fn, FieldType]:
        get, typ = self._x_path(node.path, scope)
        if typ.kind not in ("list", "any"):
            self.error("PK103", f"`number of` needs a list, and `{node.path.dotted}` is {typ.describe()}", node.span)

        def count(ctx: Any) -> Any:
            value = get(ctx)
            return None if value is None else len(value)
        return count, NUMBER

    def _x_boolop(self, node: st.BoolOp, scope: _Scope) -> tuple[Fn, FieldType]:
        left, right = self.condition(node.left, scope), self.condition(node.right, scope)
        if node.op == "and":
            def and_(ctx: Any) -> Any:
                a = left(ctx)
                if a is False:
                    return False
                b = right(ctx)
                if b is False:
                    return False
                return True if (a is True and b is True) else None
            return and_, BOOL

        def or_(ctx: Any) -> Any:
            a = left(ctx)
            if a is True:
                return True
            b = right(ctx)
            if b is True:
                return True
            return False if (a is False and b is False) else None
        return or_, BOOL

    def _x_not(self, node: st.Not, scope: _Scope) -> tuple[Fn, FieldType]:
        inner = self.condition(node.operand, scope)

        def not_(ctx: Any) -> Any:
            value = inner(ctx)
            return None if value is None else not value
        return not_, BOOL

    def _x_presence(self, node: st.Presence, scope: _Scope) -> tuple[Fn, FieldType]:
        get, _ = self.expr(node.operand, scope)
        if node.present:
            return (lambda ctx: get(ctx) is not None), BOOL
        return (lambda ctx: get(ctx) is None), BOOL

    def _x_matches(self, node: st.Matches, scope: _Scope) -> tuple[Fn, FieldType]:
        get, typ = self.expr(node.operand, scope)
        try:
            pattern = re2.compile(node.pattern, _RE2_OPTIONS)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            self.error("PK104", f"invalid or non-linear-time regex: {reason}", node.span,
                       "RE2 syntax: no back-references or look-around; these keep matching linear in the text")
            return (lambda ctx: None), BOOL

        def matches(ctx: Any) -> Any:
            value = get(ctx)
            if value is None:
                return None
            return pattern.search(str(value)) is not None
        return matches, BOOL

    def _x_has(self, node: st.Has, scope: _Scope) -> tuple[Fn, FieldType]:
        for name, span in node.categories + node.unlike:
            if name not in self.categories:
                self.error("PK105", f"unknown category `{name}`", span,
                           suggest(name, self.categories) or "see the label vocabulary in docs/api.md")
        categories = tuple(name for name, _ in node.categories)
        subject = self._has_subject(node, scope)
        if node.labels_only:
            return (lambda ctx: ctx.labelled(categories, subject)), BOOL
        if not node.open:
            return (lambda ctx: ctx.has(categories, subject)), BOOL
        # `has such as a, b`: a and b take the clause's route; content of another kind is for a person
        others = tuple(sorted(self.categories - set(categories) - {name for name, _ in node.unlike}))
        key = (f"({'the target: ' if subject == 'target' else ''}the clause's list is illustrative "
               f"(such as {', '.join(categories)}): whether content of another kind found here is like them "
               f"is for a person to judge)")
        self.reads.append((key, lambda ctx: None if key in ctx.undecided else True))
        return (lambda ctx: ctx.has_such_as(categories, others, subject, key)), BOOL

    def _has_subject(self, node: st.Has, scope: _Scope) -> str | None:
        """What `has` looks at: the event (None), the action's `target`, or `it`, a link in a quantifier."""
        if node.subject is None:
            return None
        parts = expand(node.subject.parts)
        if parts == ("it",) and scope.element is not None and scope.element.models == (Link,):
            return "it"
        if parts != ("action", "target"):
            self.error("PK103", "`has` tests the event itself, `target` (the content an action acts on) or `it` "
                       "(a link, inside `any links where …`)", node.subject.span,
                       "write `has CATEGORY`, `target has CATEGORY` or `any links where it has CATEGORY`")
        elif "action" not in scope.kinds or set(scope.kinds) != {"action"}:
            self.error("PK102", "`target has …` needs a rule that targets only actions", node.subject.span)
        self.reads.append(("action.target", _getter(("action", "target"))))
        return "target"

    def _x_quantified(self, node: st.Quantified, scope: _Scope) -> tuple[Fn, FieldType]:
        get, typ = self._x_path(node.path, scope)
        if typ.kind not in ("list", "any"):
            self.error("PK103", f"`{node.quantifier}` needs a list, and `{node.path.dotted}` is {typ.describe()}",
                       node.path.span)
        head = node.path.parts[0]
        from_event = scope.element is None and not (len(node.path.parts) == 1 and
                                                    (head in self.defines or head in self.params))
        items = (node.path.dotted, get) if from_event else None
        body = self.condition(node.body, _Scope(scope.kinds, typ.item or ANY, scope, items))
        quantifier = node.quantifier

        def quantified(ctx: Any) -> Any:
            items = get(ctx)
            if items is None:
                return None
            saved, unknown, hit = ctx.it, False, False
            try:
                for item in items:
                    ctx.it = item
                    value = body(ctx)
                    if value is None:
                        unknown = True
                    elif value is (quantifier != "all"):
                        hit = True
                        break
            finally:
                ctx.it = saved
            if quantifier == "all":
                return False if hit else (None if unknown else True)
            found = True if hit else (None if unknown else False)
            return found if quantifier == "any" else (None if found is None else not found)
        return quantified, BOOL

    def _x_clauseapplies(self, node: st.ClauseApplies, scope: _Scope) -> tuple[Fn, FieldType]:
        if node.clause not in self.clauses:
            self.error("PK203", f"no clause `{node.clause}`", node.span, suggest(node.clause, self.clauses))
        self.clause_deps.setdefault(self.current_rule, set()).add(node.clause)
        clause = node.clause
        return (lambda ctx: ctx.clause_applies(clause)), BOOL

    def _x_call(self, node: st.Call, scope: _Scope) -> tuple[Fn, FieldType]:
        """A plugin function: arguments first (an unknown one makes the call unknown), then the call.

        Whatever the function does wrong (raises, returns something that is not a plain value) is
        raised from here, so the evaluator reports it under `errors` and the rule yields `review`.
        """
        args = tuple(self.expr(arg, scope)[0] for arg in node.args)
        fn = self.functions.get(node.name)
        if fn is None:
            self.error("PK112", f"unknown function `{node.name}`", node.span,
                       suggest(node.name, self.functions)
                       or (f"functions plugins register: {', '.join(sorted(self.functions))}" if self.functions
                           else "no installed plugin registers functions; see docs/plugins.md"))
            return (lambda ctx: None), ANY
        name = node.name

        def call(ctx: Any) -> Any:
            values = []
            for arg in args:
                value = arg(ctx)
                if value is None:
                    return None
                values.append(list(value) if isinstance(value, tuple) else value)
            try:
                result = fn(*values)
            except Exception as exc:
                raise FunctionError(f"function {name}() raised {type(exc).__name__}: {exc}") from exc
            if not _plain(result):
                raise FunctionError(f"function {name}() returned {type(result).__name__} {_short(result)}, "
                                    f"not a yes/no, text, finite number, list or nothing")
            return tuple(result) if isinstance(result, list) else result
        return call, ANY

    def _x_compare(self, node: st.Compare, scope: _Scope) -> tuple[Fn, FieldType]:
        left, ltype = self.expr(node.left, scope)
        right, rtype = self.expr(node.right, scope)
        self._check_compare(node, ltype, rtype)
        op = OPERATORS[node.op]

        def compare(ctx: Any) -> Any:
            a = left(ctx)
            if a is None:
                return None
            b = right(ctx)
            if b is None:
                return None
            try:
                return op(a, b)
            except TypeError:
                return None
        return compare, BOOL

    def _check_compare(self, node: st.Compare, ltype: FieldType, rtype: FieldType) -> None:
        """Catch the mistakes a schema can see: enum values that do not exist, ordering non-numbers."""
        if node.op in ("is", "is not", "==", "!=") and ltype.kind == "enum" and isinstance(node.right, st.Literal):
            value = node.right.value
            if isinstance(value, str) and value not in ltype.options:
                self.error("PK103", f'"{value}" is not a possible value here; expected {ltype.describe()}',
                           node.right.span, suggest(value, ltype.options))
        if node.op in ("in", "not in") and ltype.kind == "enum" and isinstance(node.right, st.Literal):
            for value in node.right.value if isinstance(node.right.value, tuple) else ():
                if isinstance(value, str) and value not in ltype.options:
                    self.error("PK103", f'"{value}" is not a possible value here; expected {ltype.describe()}',
                               node.right.span, suggest(value, ltype.options))
        if (node.op in ("is", "is not", "==", "!=", "in", "not in") and isinstance(node.left, st.Path)
                and expand(node.left.parts)[-2:] == ("action", "type") and isinstance(node.right, st.Literal)):
            value = node.right.value
            self._check_action_types([v for v in (value if isinstance(value, tuple) else (value,))
                                      if isinstance(v, str)], node.right.span)
        if node.op in ("<", "<=", ">", ">=") and ltype.kind not in ("number", "date", "any"):
            self.error("PK103", f"`{node.op}` compares numbers or dates, and this is {ltype.describe()}", node.span)
        if node.op in ("in", "not in") and rtype.kind not in ("list", "any"):
            self.error("PK103", f"`{node.op}` needs a list on its right, and this is {rtype.describe()}",
                       node.right.span if hasattr(node.right, "span") else node.span)

    # ------------------------------------------------------------ rules
    def compile(self) -> tuple[list[CompiledRule], set[str]]:
        collected = self.collect()
        compiled: list[CompiledRule] = []
        counters: dict[str, int] = {}
        for i, (rule, layer) in enumerate(collected):
            self.current_rule = i
            self.reads = []
            compiled.append(self._rule(rule, layer, counters))
        self._link_exceptions(collected, compiled)
        return compiled, self.used_names

    def _rule(self, rule: st.Rule, layer: _Layer, counters: dict[str, int]) -> CompiledRule:
        d = rule.decision
        kinds = tuple(dict.fromkeys(t.kind for t in d.targets))
        action_types: set[str] | None = set()
        for target in d.targets:
            if target.kind == "action":
                self._check_action_types(target.actions, target.span)
                if not target.actions:
                    action_types = None
                elif action_types is not None:
                    action_types.update(target.actions)
        scope = _Scope(kinds)
        test: st.Expr | None = d.when
        if d.unless is not None:  # `unless C` reads aloud better; it means `and not C`
            negated = st.Not(d.unless, d.unless.span)
            test = negated if test is None else st.BoolOp("and", test, negated, d.span)
        condition = None if test is None else self.condition(test, scope)
        reads = tuple(self.reads)  # what the condition reads; fields only the message shows are not "missing"
        needs = None if test is None or self.over_limit or self._calls(test, frozenset()) else self._needs(test, frozenset())
        cites = self._cites(d.cites)
        rule_id = rule.name or self._auto_id(rule, cites, counters)
        home = self._ancestors(rule.clause) if rule.clause else ()
        clause_ids = tuple(dict.fromkeys(home + tuple(c.clause for c in cites)))
        citations = tuple(dict.fromkeys(self.clauses[c].citation() for c in
                                        ((rule.clause,) if rule.clause else ()) + tuple(c.clause for c in cites)
                                        if c in self.clauses))
        if not citations and not rule.clause:
            self.error("PK204", f"rule `{rule_id}` cites no clause", rule.span,
                       "put it under the clause it encodes, or add `cite CLAUSE`")
        effective, until = self._dates(rule, layer)
        return CompiledRule(
            id=rule_id, policy=layer.doc.name, effect=d.effect, severity=SEVERITY[d.effect],
            kinds=frozenset(kinds), actions=frozenset(action_types) if action_types is not None else None,
            condition=condition, message=self._template(d.because or _default_message(d.effect, rule_id), scope, d.span),
            citations=citations, clauses=clause_ids, home=home, reads=reads,
            obligations=tuple(self._obligation(o, citations, scope) for o in d.obligations),
            effective=effective, until=until, span=rule.span, is_exception=rule.defeats is not None,
            dated=effective is not None or until is not None, needs=needs)

    def _check_action_types(self, names: Iterable[str], span: Span) -> None:
        """An action type outside the vocabulary is almost always a typo, which would make the rule
        silently never apply; a policy that means a new type declares it with `action type NAME`."""
        for name in names:
            if name not in self.action_types:
                self.error("PK115", f"unknown action type `{name}`", span,
                           suggest(name, self.action_types)
                           or f"declare it at the top level: `action type {name} \"what it is\"`")

    def _calls(self, node: Any, seen: frozenset[str]) -> bool:
        """Whether a condition calls a plugin function, which may fail: such a rule is never skipped, so
        a failure is reported (and lifts the decision to `review`) whatever the event's categories."""
        if isinstance(node, st.Call):
            return True
        if isinstance(node, st.Path) and len(node.parts) == 1 and node.parts[0] in self.defines:
            name = node.parts[0]
            return name not in seen and self._calls(self.defines[name].expr, seen | {name})
        if isinstance(node, (tuple, list)):
            return any(self._calls(item, seen) for item in node)
        if not dataclasses.is_dataclass(node):
            return False
        return any(self._calls(getattr(node, f.name), seen) for f in dataclasses.fields(node)
                   if f.name != "span")

    def _needs(self, node: st.Expr, seen: frozenset[str]) -> frozenset[str] | None:
        """Categories of which the event itself must carry one for `node` to be true or unknown.

        `has` on the event is never unknown, and false `and` anything is false, so a conjunction needs what
        either side needs and a disjunction needs what both sides need together. None: no such set.
        """
        if isinstance(node, st.Has):
            if node.subject is not None:
                return None
            if node.open:
                return frozenset(self.categories) - {name for name, _ in node.unlike}
            return frozenset(name for name, _ in node.categories)
        if isinstance(node, st.BoolOp):
            left, right = self._needs(node.left, seen), self._needs(node.right, seen)
            if node.op == "or":
                return None if left is None or right is None else left | right
            known = [side for side in (left, right) if side is not None]
            return min(known, key=len) if known else None
        if isinstance(node, st.Path) and len(node.parts) == 1 and node.parts[0] in self.defines:
            name = node.parts[0]
            return None if name in seen else self._needs(self.defines[name].expr, seen | {name})
        return None

    def _auto_id(self, rule: st.Rule, cites: list[Citation], counters: dict[str, int]) -> str:
        home = rule.clause or (cites[0].clause if cites else f"line{rule.span.line}")
        counters[home] = counters.get(home, 0) + 1
        return f"{home}#{counters[home]}"

    def _cites(self, refs: Iterable[st.Ref]) -> list[Citation]:
        found = []
        for ref in refs:
            info = self.clauses.get(ref.id)
            if info is None:
                self.error("PK203", f"no clause `{ref.id}` to cite", ref.span, suggest(ref.id, self.clauses))
                continue
            found.append(info.citation())
        return found

    def _ancestors(self, clause_id: str) -> tuple[str, ...]:
        chain: list[str] = []
        current: str | None = clause_id
        while current is not None and current in self.clauses:
            chain.append(current)
            current = self.clauses[current].parent
        return tuple(chain)

    def _dates(self, rule: st.Rule, layer: _Layer) -> tuple[date | None, date | None]:
        clause = self.clauses.get(rule.clause) if rule.clause else None
        effective = rule.decision.effective or (clause.effective if clause else None) or layer.doc.effective
        until = rule.decision.until or (clause.until if clause else None)
        if effective and until and until <= effective:
            self.error("PK211", f"this rule ends ({until}) before it takes effect ({effective})", rule.span)
        return effective, until

    def _obligation(self, ob: st.Obligation, rule_citations: tuple[Citation, ...], scope: _Scope) -> ObligationSpec:
        citations = tuple(self._cites(ob.cites)) if ob.cites else rule_citations
        detail = self._template(ob.detail, scope, ob.span) if ob.detail else (lambda ctx: None)
        return ObligationSpec(ob.action, detail, citations)

    def _template(self, text: str, scope: _Scope, span: Span) -> Callable[[Any], str]:
        """Compile `"… {author.name} …"` into a function; a field the event lacks stays as `{author.name}`."""
        pieces: list[str | tuple[str, Fn]] = []
        rest = text
        while "{" in rest and "}" in rest.split("{", 1)[1]:
            before, tail = rest.split("{", 1)
            name, rest = tail.split("}", 1)
            pieces.append(before)
            parts = tuple(p.strip() for p in name.split("."))
            if not all(p.isidentifier() for p in parts):
                pieces.append("{" + name + "}")
                continue
            get, _ = self._x_path(st.Path(parts, span), scope)
            pieces.append((name, get))
        pieces.append(rest)
        if len(pieces) == 1:
            constant = text
            return lambda ctx: constant

        def render(ctx: Any) -> str:
            out = []
            for piece in pieces:
                if isinstance(piece, str):
                    out.append(piece)
                else:
                    value = piece[1](ctx)
                    out.append("{" + piece[0] + "}" if value is None else _show(value))
            return "".join(out)
        return render

    def _link_exceptions(self, collected: list[tuple[st.Rule, _Layer]], compiled: list[CompiledRule]) -> None:
        by_name = {rule.name: i for i, (rule, _) in enumerate(collected) if rule.name}
        defeated_by: dict[int, list[int]] = {}
        for i, (rule, _) in enumerate(collected):
            if rule.defeats is None:
                continue
            kind, ref, span = rule.defeats
            if kind == "rule":
                if ref not in by_name:
                    self.error("PK205", f"exception to `{ref}`, but no rule has that name", span,
                               suggest(ref, by_name) or "name the rule it defeats with `rule NAME:`")
                    continue
                victims = (by_name[ref],)
            else:
                if ref not in self.clauses:
                    self.error("PK203", f"exception to clause `{ref}`, which does not exist", span,
                               suggest(ref, self.clauses))
                    continue
                victims = tuple(j for j, r in enumerate(compiled) if ref in r.home and j != i)
            compiled[i].defeats = victims
            for j in victims:
                defeated_by.setdefault(j, []).append(i)
        for j, exceptions in defeated_by.items():
            compiled[j].defeated_by = tuple(exceptions)
        self._check_exception_cycles(compiled)

    def _check_exception_cycles(self, compiled: list[CompiledRule]) -> None:
        state: dict[int, int] = {}

        def visit(i: int, trail: list[int]) -> bool:
            if state.get(i) == 1:
                cycle = trail[trail.index(i):] + [i]
                self.error("PK207", "exceptions defeat each other in a cycle: "
                           + " → ".join(compiled[k].id for k in cycle), compiled[i].span,
                           "an exception must not (indirectly) defeat itself")
                return True
            if state.get(i) == 2:
                return False
            state[i] = 1
            for j in compiled[i].defeats:
                if visit(j, trail + [i]):
                    return True
            state[i] = 2
            return False

        for i in range(len(compiled)):
            if visit(i, []):
                break


class FunctionError(Exception):
    """A plugin function called from a condition failed or returned something unusable."""


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether a function's result is a value conditions can use: bool, text, number, None, or a list of them."""
    if isinstance(value, float):
        return math.isfinite(value)  # NaN compares false with everything: it would decide silently
    if value is None or isinstance(value, (bool, str, int)):
        return True
    if isinstance(value, (list, tuple)) and depth == 0:
        return all(_plain(v, 1) for v in value)
    return False


def _fits(type_name: str, value: Any) -> bool:
    checks: dict[str, Callable[[Any], bool]] = {
        "text": lambda v: isinstance(v, str), "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "flag": lambda v: isinstance(v, bool), "list": lambda v: isinstance(v, (list, tuple)),
        "date": lambda v: isinstance(v, date),
    }
    return checks[type_name](value)


def _either(a: FieldType | None, b: FieldType) -> FieldType:
    """A field's type across a rule's event kinds: `kind` in `remove comment, post when …` may be either."""
    if a is None or a == b:
        return b
    if a.kind == b.kind == "enum":
        return FieldType("enum", options=tuple(dict.fromkeys(a.options + b.options)))
    return b


def _param_type(type_name: str) -> FieldType:
    return {"text": TEXT, "number": NUMBER, "flag": BOOL, "list": FieldType("list", item=ANY), "date": DATE}[type_name]


def _literal_type(value: Any) -> FieldType:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, date):
        return DATE
    if isinstance(value, tuple):
        return FieldType("list", item=ANY)
    return TEXT


def _default_message(effect: str, rule_id: str) -> str:
    return {"allow": "Allowed", "review": "Needs review", "remove": "Must be removed",
            "deny": "Not permitted"}[effect] + f" under rule {rule_id}."


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _on_every_item(items: Fn, field: Fn) -> Fn:
    """For naming what is missing: None when some item of the event's list lacks the field."""
    def every_item_has(ctx: Any) -> Any:
        saved = ctx.it
        try:
            for item in items(ctx) or ():
                ctx.it = item
                if field(ctx) is None:
                    return None
        finally:
            ctx.it = saved
        return True
    return every_item_has


def _getter(parts: tuple[str, ...], element: bool = False) -> Fn:
    """A closure that follows a path through nested models (or the extra dict); None when absent."""
    def step(value: Any, name: str) -> Any:
        if isinstance(value, dict):
            return value.get(name)
        return getattr(value, name, None)

    if element:
        def from_element(ctx: Any) -> Any:
            value = ctx.it
            for name in parts:
                if value is None:
                    return None
                value = step(value, name)
            return value
        return from_element
    if len(parts) == 1:
        (a,) = parts
        return lambda ctx: getattr(ctx.event, a, None)
    if len(parts) == 2:
        a, b = parts

        def two(ctx: Any) -> Any:
            value = getattr(ctx.event, a, None)
            return None if value is None else step(value, b)
        return two

    def many(ctx: Any) -> Any:
        value = ctx.event
        for name in parts:
            if value is None:
                return None
            value = step(value, name)
        return value
    return many


def _in(a: Any, b: Any) -> bool:
    if isinstance(a, str):
        return a.lower() in {_lower(x) for x in b}
    return a in b


def _contains(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)):
        return _in(b, a)
    return str(b).lower() in str(a).lower()


def _equal(a: Any, b: Any) -> bool:
    return _as_date(a) == _as_date(b) if isinstance(b, date) else a == b


# What each comparison means; lint's analysis (policykit.analysis) reasons with these same functions.
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "is": _equal, "==": _equal,
    "is not": lambda a, b: not _equal(a, b), "!=": lambda a, b: not _equal(a, b),
    "<": lambda a, b: _as_date(a) < _as_date(b), "<=": lambda a, b: _as_date(a) <= _as_date(b),
    ">": lambda a, b: _as_date(a) > _as_date(b), ">=": lambda a, b: _as_date(a) >= _as_date(b),
    "in": _in, "not in": lambda a, b: not _in(a, b),
    "contains": _contains,
    "starts with": lambda a, b: str(a).lower().startswith(str(b).lower()),
    "ends with": lambda a, b: str(a).lower().endswith(str(b).lower()),
}


# ---------------------------------------------------------------- ordering and indexing

def _order(compiler: Compiler, rules: list[CompiledRule]) -> list[int]:
    """Evaluation order: a rule after everything its `clause X applies` tests and exceptions look at."""
    needs: dict[int, set[int]] = {i: set(r.defeats) for i, r in enumerate(rules)}
    for i, clauses in compiler.clause_deps.items():
        for j, other in enumerate(rules):
            if j != i and any(c in other.home for c in clauses):
                needs[i].add(j)
                needs[i].update(other.defeated_by)
    order: list[int] = []
    state: dict[int, int] = {}

    def visit(i: int, trail: list[int]) -> None:
        if state.get(i) == 2:
            return
        if state.get(i) == 1:
            cycle = trail[trail.index(i):] + [i]
            compiler.error("PK208", "rules depend on each other in a cycle: " + " → ".join(rules[k].id for k in cycle),
                           rules[i].span, "a `clause X applies` test must not (indirectly) depend on its own rule")
            raise _Cycle
        state[i] = 1
        for j in sorted(needs[i]):
            visit(j, trail + [i])
        state[i] = 2
        order.append(i)

    try:
        for i in range(len(rules)):
            visit(i, [])
    except _Cycle:
        return list(range(len(rules)))
    return order


class _Cycle(Exception):
    pass


def build_program(compiler: Compiler, rules: list[CompiledRule]) -> Program:
    cyclic = any(d.code == "PK207" for d in compiler.diagnostics)
    order = list(range(len(rules))) if cyclic else _order(compiler, rules)
    ordered = [rules[i] for i in order]
    remap = {old: new for new, old in enumerate(order)}
    for new, rule in enumerate(ordered):
        rule.index = new
        rule.defeats = tuple(remap[j] for j in rule.defeats)
        rule.defeated_by = tuple(remap[j] for j in rule.defeated_by)
    by_kind = {kind: tuple(r.index for r in ordered if kind in r.kinds) for kind in EVENT_KINDS if kind != "action"}
    action_rules = [r for r in ordered if "action" in r.kinds]
    any_action = tuple(r.index for r in action_rules if r.actions is None)
    types = {t for r in action_rules if r.actions for t in r.actions}
    by_action = {t: tuple(r.index for r in action_rules if r.actions is None or t in r.actions) for t in types}
    clause_rules: dict[str, tuple[int, ...]] = {}
    for clause_id in compiler.clauses:
        clause_rules[clause_id] = tuple(r.index for r in ordered if clause_id in r.home and not r.is_exception)
    trust = {t.source: (t.above if t.above is not None else 0.0) for layer in compiler.layers for t in layer.doc.trusts}
    detectors_for: dict[str, tuple[Detector, ...]] = {}
    for category in compiler.categories:
        detectors_for[category] = tuple(d for d in compiler.detectors if category in d.categories)
    return Program(ordered, by_kind, by_action, any_action, clause_rules,
                   {name: value for name, (_, value) in compiler.params.items()}, trust or None,
                   compiler.detectors, detectors_for, compiler.top.effective, frozenset(compiler.categories))


class Policy:
    """A compiled policy: not changed by evaluation, safe to share between threads, and cheap to evaluate
    many events against. (Its program keeps a cache of candidate rules per label set; filling it is a
    plain dict write, safe under the GIL, and never changes a verdict.)"""

    def __init__(self, layers: list[_Layer], compiler: Compiler, program: Program, texts: Sequence[str]) -> None:
        top = layers[-1].doc
        self.name: str = top.name
        self.title: str | None = top.title
        self.version: str | None = (top.header.get("version") or top.header.get("revision") or (None, None))[0]
        self.jurisdiction: str | None = top.header.get("jurisdiction", (None, None))[0]
        self.effective: date | None = top.effective
        self.file: str = top.file
        self.doc: st.PolicyDoc = top
        self.layers: tuple[st.PolicyDoc, ...] = tuple(layer.doc for layer in layers)
        self.clauses: dict[str, ClauseInfo] = dict(compiler.clauses)
        self.params: dict[str, Any] = dict(program.params)
        self.program = program
        self.warnings: list[Diagnostic] = [d for d in compiler.diagnostics if d.severity == "warning"]
        self.used_names: frozenset[str] = frozenset(compiler.used_names)
        self.unfilled: tuple[str, ...] = compiler.unfilled()  # parameters left blank: what they decide is `review`
        self.digest: str = _digest(texts, program.params)
        self.source: str = texts[-1] if texts else ""  # the top layer's text, as compiled (for `policykit doc`)
        self.ref = PolicyRef.build(name=self.name, title=self.title, version=self.version)
        # `retain …` in the header (or inherited from the policy it extends); None: the policy says nothing
        self.retention: RetentionRule | None = None

    @property
    def rules(self) -> list[CompiledRule]:
        return self.program.rules

    def evaluate(self, event: Any) -> Any:
        """Judge one event (a dict or a policykit event model); returns a `Verdict`."""
        return _evaluator.evaluate(self, event)

    def evaluate_many(self, events: Iterable[Any]) -> Any:
        """Judge events in order, lazily; a malformed event raises EventError naming its index."""
        return _evaluator.evaluate_many(self, events)

    def explain(self, event: Any) -> Any:
        """Evaluate and also report every rule considered, fired, unknown or defeated (for `--explain`)."""
        return _evaluator.explain(self, event)

    def __repr__(self) -> str:
        return f"<Policy {self.name} v{self.version} ({len(self.rules)} rules, {len(self.clauses)} clauses)>"


def compile_layers(layers: list[_Layer], params: Mapping[str, Any] | None = None,
                   detectors: Sequence[Detector] | None = None, categories: Iterable[str] = (),
                   texts: Sequence[str] = (), functions: Mapping[str, Callable[..., Any]] | None = None,
                   strict: bool = False) -> Policy:
    """Check and compile parsed layers (parents first); raise PolicyError with every error found.

    `strict`: every parameter must have a value (a model policy filled in for real use), PK114 otherwise.

    `detectors` default to the built-in ones plus those plugins register; `functions` (callable from
    conditions) default to the plugins' functions.
    """
    if detectors is None:
        detectors = [*default_detectors(), *plugin_detectors()]
    if functions is None:
        functions = plugin_functions()
    compiler = Compiler(layers, params or {}, detectors, categories, functions)
    rules, _ = compiler.compile()
    retention = compiler.compile_retention()
    program = build_program(compiler, rules)
    if strict:
        compiler.require_params()
    errors = [d for d in compiler.diagnostics if d.severity == "error"]
    if errors:
        raise PolicyError(sorted(errors, key=lambda d: (d.file, d.line, d.column)))
    policy = Policy(layers, compiler, program, texts)
    policy.retention = retention
    return policy


# The evaluator imports this module's classes; bound last so either module may be imported first.
from . import evaluator as _evaluator  # noqa: E402
