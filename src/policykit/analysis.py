"""Static analysis of rule conditions, for `policykit lint`: what can fire, what conflicts, what is shadowed.

A rule's targets and condition are translated into a small propositional model over the event's
fields: each test of a field against constants (`is`, `==`, `!=`, `in`, `<`, …), each yes/no field,
each `has CATEGORY`, each `is missing`/`is present`. Everything else (regexes, `contains`, quantifiers,
plugin functions, `clause X applies`) is an *opaque* atom: a yes/no/unknown value the analysis does not
look into. Every field takes values from a finite set of representatives (the constants the conditions
mention, values between and beside them, a value equal to none of them, and "missing"), which covers
every way the tests can come out, so a search over them is exact for the decidable part.

The three questions asked, with the three-valued logic of the evaluator (missing fields are unknown):

- `never_true(f)`: no event makes `f` true. Opaque atoms range over true/false/unknown independently,
  which can only add possibilities, so a "never" is a proof.
- `implies(a, b)`: every event that makes `a` true makes `b` true (same proof argument).
- `witnesses(fs)`: events that make every formula in `fs` true. Opaque atoms are held unknown, so a
  witness found makes the formulas true whatever the opaque atoms turn out to be; lint then builds
  the witness as a real event and runs it through the evaluator before reporting anything.

Every search has a node budget; when it runs out the answer is "cannot tell", and lint says nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Sequence

from . import syntax as st
from .compiler import OPERATORS
from .schema import FieldType, expand, resolve, root_type

EVENT_KINDS = ("post", "comment", "account", "action")
BUDGET = 20_000  # search nodes per question; beyond it the answer is "cannot tell"

_CMP = {"is", "==", "is not", "!=", "<", "<=", ">", ">=", "in", "not in"}
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "is": "is", "==": "==", "is not": "is not", "!=": "!="}
_FRESH_TEXT = "zq-other-value"
_FRESH_ACTION = "zq_other_action"


class _OutOfBudget(Exception):
    pass


def _as_date(value: Any) -> Any:
    return value.date() if isinstance(value, datetime) else value


# The evaluator's own operators, for the decidable subset (one definition, so proofs cannot drift).
OPS: dict[str, Callable[[Any, Any], bool]] = {op: OPERATORS[op] for op in _CMP}


# ---------------------------------------------------------------- the model

@dataclass(frozen=True)
class Atom:
    """A test of one variable. `test(value)` gives True, False or None (unknown)."""

    var: str
    test: Callable[[Any], Any]
    key: Any  # structural identity, for sharing


@dataclass
class Var:
    """A variable and what is known of its values: field type, constants tested, whether it may be missing."""

    name: str
    kind: str  # field | cat | tcat | opaque | count
    type: FieldType | None = None
    constants: list[Any] = field(default_factory=list)


# Formulas are tuples: ("const", bool) | ("atom", Atom) | ("not", f) | ("and", f, g) | ("or", f, g)
Formula = tuple
TRUE: Formula = ("const", True)
FALSE: Formula = ("const", False)


def f_and(a: Formula, b: Formula) -> Formula:
    if a == FALSE or b == FALSE:
        return FALSE
    if a == TRUE:
        return b
    if b == TRUE:
        return a
    return ("and", a, b)


def f_or(a: Formula, b: Formula) -> Formula:
    if a == TRUE or b == TRUE:
        return TRUE
    if a == FALSE:
        return b
    if b == FALSE:
        return a
    return ("or", a, b)


def f_not(a: Formula) -> Formula:
    if a[0] == "const":
        return ("const", not a[1])
    return ("not", a)


def evaluate(f: Formula, asg: dict[str, Any]) -> Any:
    """Kleene three-valued value of `f`; an unassigned variable makes its atoms unknown."""
    tag = f[0]
    if tag == "atom":
        atom = f[1]
        if atom.var not in asg:
            return None
        return atom.test(asg[atom.var])
    if tag == "and":
        a = evaluate(f[1], asg)
        if a is False:
            return False
        b = evaluate(f[2], asg)
        if b is False:
            return False
        return True if (a is True and b is True) else None
    if tag == "or":
        a = evaluate(f[1], asg)
        if a is True:
            return True
        b = evaluate(f[2], asg)
        if b is True:
            return True
        return False if (a is False and b is False) else None
    if tag == "not":
        a = evaluate(f[1], asg)
        return None if a is None else not a
    return f[1]


def variables(f: Formula, out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    if f[0] == "atom":
        if f[1].var not in out:
            out.append(f[1].var)
    elif f[0] in ("and", "or"):
        variables(f[1], out)
        variables(f[2], out)
    elif f[0] == "not":
        variables(f[1], out)
    return out


def _key(node: Any) -> Any:
    """A node's structure without source positions (two textually equal tests share one atom)."""
    if isinstance(node, (st.Path,)):
        return ("path", node.parts)
    if isinstance(node, st.Literal):
        return ("lit", repr(node.value))
    if hasattr(node, "__dataclass_fields__"):
        return (type(node).__name__,) + tuple(_key(getattr(node, name)) for name in node.__dataclass_fields__
                                              if name != "span")
    if isinstance(node, tuple):
        return tuple(_key(x) for x in node)
    return node


# ---------------------------------------------------------------- translation

class Model:
    """Translates rule targets and conditions of one compiled policy into formulas over shared variables."""

    def __init__(self, defines: dict[str, st.Define], params: dict[str, Any]) -> None:
        self.defines = defines
        self.params = params
        self.vars: dict[str, Var] = {"kind": Var("kind", "field"), "action.type": Var("action.type", "field")}
        self._atoms: dict[Any, Atom] = {}

    # -------------------------------------------------------- atoms
    def _var(self, name: str, kind: str, typ: FieldType | None = None) -> Var:
        var = self.vars.get(name)
        if var is None:
            var = self.vars[name] = Var(name, kind, typ)
        elif var.type is None and typ is not None:
            var.type = typ
        return var

    def _atom(self, var: str, test: Callable[[Any], Any], key: Any) -> Formula:
        atom = self._atoms.get(key)
        if atom is None:
            atom = self._atoms[key] = Atom(var, test, key)
        return ("atom", atom)

    def opaque(self, node: Any) -> Formula:
        key = ("opaque", _key(node))
        name = f"?{len(self._atoms)}" if key not in self._atoms else self._atoms[key].var
        self._var(name, "opaque")
        return self._atom(name, lambda v: v, key)

    def targets(self, kinds: frozenset[str], actions: frozenset[str] | None) -> Formula:
        """The event kinds (and action types) a rule applies to, as a formula over `kind` and `action.type`."""
        found = FALSE
        for kind in sorted(kinds):
            test = self._atom("kind", lambda v, k=kind: v == k, ("kind", kind))
            if kind == "action" and actions is not None:
                names = tuple(sorted(actions))
                self.vars["action.type"].constants.extend(names)
                test = f_and(test, self._atom("action.type", lambda v, a=frozenset(names): v in a,
                                              ("action.type", names)))
            found = f_or(found, test)
        return found

    # -------------------------------------------------------- conditions
    def condition(self, node: st.Expr | None, kinds: Sequence[str], stack: tuple[str, ...] = ()) -> Formula:
        if node is None:
            return TRUE
        if isinstance(node, st.BoolOp):
            left, right = self.condition(node.left, kinds, stack), self.condition(node.right, kinds, stack)
            return f_and(left, right) if node.op == "and" else f_or(left, right)
        if isinstance(node, st.Not):
            return f_not(self.condition(node.operand, kinds, stack))
        if isinstance(node, st.Literal) and isinstance(node.value, bool):
            return ("const", node.value)
        if isinstance(node, st.Has):
            if node.open or node.labels_only:  # can be unknown / narrower than `has`: not modelled
                return self.opaque(node)
            if node.subject is None:
                prefix, kind = "has:", "cat"
            elif expand(node.subject.parts) == ("action", "target"):
                prefix, kind = "target has:", "tcat"
            else:
                return self.opaque(node)
            found = FALSE
            for name, _ in node.categories:
                self._var(prefix + name, kind)
                found = f_or(found, self._atom(prefix + name, lambda v: v, (prefix, name)))
            return found
        if isinstance(node, st.Path):
            define = self._define(node, stack)
            if define is not None:
                return self.condition(define.expr, kinds, stack + (node.parts[0],))
            path = self._field(node, kinds)
            if path is None or not self._is_bool(path):
                return self.opaque(node)
            return self._atom(path, lambda v: v, ("bare", path))
        if isinstance(node, st.Otherwise) and isinstance(node.default.value, bool):
            path = self._field(node.path, kinds)
            if path is None or not self._is_bool(path):
                return self.opaque(node)
            default = node.default.value
            return self._atom(path, lambda v: default if v is None else v, ("bare-otherwise", path, default))
        if isinstance(node, st.Presence):
            operand = node.operand
            path = self._field(operand, kinds) if isinstance(operand, st.Path) and \
                self._define(operand, stack) is None and operand.parts[0] not in self.params else None
            if path is None:
                return self.opaque(node)
            present = node.present
            return self._atom(path, lambda v: (v is not None) == present, ("presence", path, present))
        if isinstance(node, st.Compare) and node.op in _CMP:
            return self._compare(node, kinds, stack)
        return self.opaque(node)

    def _is_bool(self, path: str) -> bool:
        typ = self.vars[path].type
        return typ is not None and typ.kind == "bool"

    def _define(self, node: st.Path, stack: tuple[str, ...]) -> st.Define | None:
        if len(node.parts) == 1 and node.parts[0] in self.defines and node.parts[0] not in stack:
            return self.defines[node.parts[0]]
        return None

    def _field(self, node: st.Path, kinds: Sequence[str]) -> str | None:
        """The variable of an event field path (None for names that are not plain event fields)."""
        if len(node.parts) == 1 and (node.parts[0] in self.params or node.parts[0] in self.defines
                                     or node.parts[0] == "it"):
            return None
        parts = expand(node.parts)
        typ = None
        for kind in kinds:
            typ, _, _ = resolve(parts, root_type(kind))
            if typ is not None:
                break
        if typ is None:
            return None
        name = ".".join(parts)
        self._var(name, "field", typ)
        return name

    def _constant(self, node: Any, stack: tuple[str, ...]) -> tuple[bool, Any]:
        """(True, value) for a literal, a parameter, or a definition that is a literal."""
        if isinstance(node, st.Literal):
            return True, node.value
        if isinstance(node, st.Path) and len(node.parts) == 1:
            name = node.parts[0]
            if name in self.params:
                value = self.params[name]
                return True, tuple(value) if isinstance(value, list) else value
            define = self._define(node, stack)
            if define is not None:
                return self._constant(define.expr, stack + (name,))
        return False, None

    def _compare(self, node: st.Compare, kinds: Sequence[str], stack: tuple[str, ...]) -> Formula:
        op, left, right = node.op, node.left, node.right
        is_const, value = self._constant(right, stack)
        if not is_const:
            flipped, value = self._constant(left, stack)
            if not flipped or op not in _FLIP:
                return self.opaque(node)
            op, left = _FLIP[op], right
        default: Any = None
        if isinstance(left, st.Otherwise):
            default, left = left.default.value, left.path
        if isinstance(left, st.Count):
            path = self._field(left.path, kinds)
            if path is None or default is not None:
                return self.opaque(node)
            name = "number of " + path
            var = self._var(name, "count")
            var.type = FieldType("number")
        elif isinstance(left, st.Path) and self._define(left, stack) is None:
            name = self._field(left, kinds)
            if name is None:
                return self.opaque(node)
            var = self.vars[name]
        else:
            return self.opaque(node)
        if op in ("in", "not in"):
            if not isinstance(value, tuple):
                return self.opaque(node)
            var.constants.extend(value)
        else:
            var.constants.append(value)
        fn = OPS[op]

        def test(v: Any) -> Any:
            if v is None:
                v = default
            if v is None:
                return None
            try:
                return fn(v, value)
            except TypeError:
                return None
        return self._atom(name, test, ("cmp", name, op, repr(value), repr(default)))

    # -------------------------------------------------------- domains
    def domain(self, name: str, witness: bool) -> list[Any]:
        """Representative values of a variable: enough that every test comes out every way it can."""
        var = self.vars[name]
        if var.kind in ("opaque",):
            return [None] if witness else [True, False, None]
        if var.kind == "cat":
            return [True, False]
        if var.kind == "tcat":
            return [True, False, None]
        if name == "kind":
            return list(EVENT_KINDS)
        if name == "action.type":
            return list(dict.fromkeys([*(c for c in var.constants if isinstance(c, str)), _FRESH_ACTION]))
        typ = var.type.kind if var.type is not None else "any"
        if typ == "bool":
            return [True, False, None]
        if typ == "enum":
            return [*var.type.options, None]  # type: ignore[union-attr]
        constants = [c for c in var.constants if not isinstance(c, tuple)]
        numbers = sorted({c for c in constants if isinstance(c, (int, float)) and not isinstance(c, bool)})
        dates = sorted({_as_date(c) for c in constants if isinstance(c, date)})
        values: list[Any] = list(constants)  # every constant itself, whatever the field's type
        if numbers:
            values += [numbers[0] - 1, numbers[-1] + 1] + [(a + b) / 2 for a, b in zip(numbers, numbers[1:])]
        elif typ == "number":
            values.append(0)
        if var.kind == "count":  # whole numbers only: each constant's floor and ceiling, and one either side
            values = sorted({n for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
                             for n in (math.floor(v) - 1, math.floor(v), math.ceil(v), math.ceil(v) + 1) if n >= 0})
            values = values or [0]
        if dates:
            values += [dates[0] - timedelta(days=1), dates[-1] + timedelta(days=1)]
            values += [a + timedelta(days=1) for a in dates]
        for text in (c for c in constants if isinstance(c, str)):
            values += [text.lower(), text.upper(), text.swapcase()]
        if typ in ("text", "any", "list", "object") or not values:
            values.append(_FRESH_TEXT)
        return [*dict.fromkeys(values), None]


# ---------------------------------------------------------------- search

def _search(model: Model, order: list[str], witness: bool, accept: Callable[[dict[str, Any]], Any],
            budget: list[int], domains: list[list[Any]] | None = None) -> Iterator[dict[str, Any]]:
    """Assignments (over `order`) that `accept` approves: True accept, False prune, None go on."""
    domains = domains or [model.domain(name, witness) for name in order]
    asg: dict[str, Any] = {}

    def go(depth: int) -> Iterator[dict[str, Any]]:
        budget[0] -= 1
        if budget[0] < 0:
            raise _OutOfBudget
        verdict = accept(asg)
        if verdict is False:
            return
        if verdict is True:
            yield dict(asg)
            return
        if depth == len(order):
            return
        name = order[depth]
        for value in domains[depth]:
            asg[name] = value
            yield from go(depth + 1)
        del asg[name]

    yield from go(0)


def disjuncts(f: Formula, limit: int = 16) -> list[Formula]:
    """`f` as a disjunction of simpler formulas (distributing `and` over `or`, up to `limit` terms)."""
    if f[0] == "or":
        return disjuncts(f[1], limit) + disjuncts(f[2], limit)
    if f[0] == "and":
        left, right = disjuncts(f[1], limit), disjuncts(f[2], limit)
        if len(left) * len(right) <= limit:
            return [f_and(a, b) for a in left for b in right]
    return [f]


def never_true(model: Model, f: Formula, budget: int = BUDGET) -> bool | None:
    """True when no event makes `f` true; None when the search ran out of budget."""
    if f == FALSE:
        return True
    try:
        for _ in _search(model, variables(f), False, lambda asg: evaluate(f, asg), [budget]):
            return False
    except _OutOfBudget:
        return None
    return True


def implies(model: Model, a: Formula, b: Formula, budget: int = BUDGET) -> bool | None:
    """True when every event making `a` true makes `b` true; None when the search ran out of budget."""
    order = variables(b)
    order += [v for v in variables(a) if v not in order]
    full = len(order)

    def counterexample(asg: dict[str, Any]) -> Any:
        if evaluate(a, asg) is False or evaluate(b, asg) is True:
            return False
        if len(asg) == full:
            return evaluate(a, asg) is True
        return None
    try:
        for _ in _search(model, order, False, counterexample, [budget]):
            return False
    except _OutOfBudget:
        return None
    return True


def undetermined_without(model: Model, f: Formula, missing: str, fixed: dict[str, Any],
                         budget: int = BUDGET) -> bool | None:
    """Whether `f` can be unknown *because* `missing` is absent: every other field known (any value),
    every opaque test and category true or false, the `fixed` variables as given. None: out of budget."""
    order = variables(f)
    if missing not in order:
        return False
    known = {name: [value] for name, value in fixed.items()}
    known[missing] = [None]

    def values(name: str) -> list[Any]:
        if name in known:
            return known[name]
        if model.vars[name].kind in ("opaque", "cat", "tcat"):
            return [True, False]
        return [v for v in model.domain(name, False) if v is not None]
    domains = [values(name) for name in order]
    full = len(order)
    try:
        for _ in _search(model, order, False, lambda asg: (evaluate(f, asg) is None) if len(asg) == full else None,
                         [budget], domains):
            return True
    except _OutOfBudget:
        return None
    return False


def witnesses(model: Model, formulas: Sequence[Formula], budget: int = BUDGET) -> Iterator[dict[str, Any]]:
    """Assignments that make every formula true whatever the opaque atoms are (stops quietly at the budget)."""
    conj = TRUE
    for f in formulas:
        conj = f_and(conj, f)
    order: list[str] = []
    for f in formulas:
        variables(f, order)
    try:
        yield from _search(model, order, True, lambda asg: evaluate(conj, asg), [budget])
    except _OutOfBudget:
        return


# ---------------------------------------------------------------- witnesses as events

def build_event(model: Model, asg: dict[str, Any], at: date | None) -> dict[str, Any] | None:
    """A concrete event for an assignment, or None when the assignment cannot be an event."""
    kind = asg.get("kind")
    if kind is None:
        return None
    event: dict[str, Any] = {"kind": kind}
    if kind == "action":
        event["action"] = {"type": asg.get("action.type", _FRESH_ACTION)}
    labels = [name[4:] for name, v in asg.items() if name.startswith("has:") and v is True]
    if labels:
        event["labels"] = labels
    target_labels = [name[11:] for name, v in asg.items() if name.startswith("target has:") and v is True]
    target_known = any(name.startswith("target has:") and v is not None for name, v in asg.items())
    if target_known:
        if any(name.startswith("target has:") and v is None for name, v in asg.items()):
            return None
        target = event.setdefault("action", {"type": _FRESH_ACTION}).setdefault("target", {"kind": "comment"})
        if target_labels:
            target["labels"] = target_labels
    for name, value in asg.items():
        var = model.vars[name]
        if name in ("kind", "action.type") or var.kind in ("cat", "tcat", "opaque") or value is None:
            continue
        if var.kind == "count":
            list_name = name[len("number of "):]
            path = list_name.split(".")
            item = _list_item(model.vars.get(list_name))
            value = [item(i) for i in range(int(value))]
        else:
            path = name.split(".")
            if isinstance(value, date) and not isinstance(value, datetime):
                value = datetime(value.year, value.month, value.day, 12, tzinfo=timezone.utc).isoformat()
        if path[:2] == ["action", "target"] and len(path) > 2:
            event.setdefault("action", {"type": _FRESH_ACTION}).setdefault("target", {"kind": "comment"})
        _put(event, path, value)
    if at is not None:
        if "at" in event:
            return None
        event["at"] = datetime(at.year, at.month, at.day, 12, tzinfo=timezone.utc).isoformat()
    return event


def _list_item(var: Var | None) -> Callable[[int], Any]:
    item = var.type.item if var is not None and var.type is not None else None
    if item is not None and item.kind == "object":
        return lambda i: {}
    return lambda i: f"item-{i}"


def _put(event: dict[str, Any], path: list[str], value: Any) -> None:
    node = event
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


def describe(model: Model, asg: dict[str, Any]) -> str:
    """A witness in words: `a comment labelled threat and profanity, with author.role "staff"`."""
    kind = asg.get("kind", "event")
    head = f"an {kind}" if kind in ("account", "action") else f"a {kind}"
    if kind == "action":
        head = f"a `{asg.get('action.type', _FRESH_ACTION)}` action" \
            if asg.get("action.type") != _FRESH_ACTION else "an action of any type"
    parts = []
    labels = sorted(n[4:] for n, v in asg.items() if n.startswith("has:") and v is True)
    if labels:
        parts.append("labelled " + _join(labels))
    targets = sorted(n[11:] for n, v in asg.items() if n.startswith("target has:") and v is True)
    if targets:
        parts.append("on content labelled " + _join(targets))
    fields = []
    for name, value in asg.items():
        var = model.vars[name]
        if name in ("kind", "action.type") or var.kind in ("cat", "tcat", "opaque"):
            continue
        if value is None:
            fields.append(f"no {name}")
        else:
            shown = "another value" if value == _FRESH_TEXT else (
                str(value).lower() if isinstance(value, bool) else f'"{value}"' if isinstance(value, str) else str(value))
            fields.append(f"{name} {shown}")
    if fields:
        parts.append("with " + ", ".join(fields))
    return " ".join([head] + parts)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
