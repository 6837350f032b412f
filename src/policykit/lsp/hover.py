"""What hovering a name says, in Markdown: a clause's words and the rules that encode or cite it; a
field's type and meaning from the event schema; which detectors find a category; a definition's,
parameter's or rule's own text."""

from __future__ import annotations

from .. import syntax as st
from ..compiler import Policy, article
from ..schema import FieldType, expand, resolve, root_type
from . import vocabulary
from .document import Layer, Parsed
from .index import Index, Symbol


def hover_text(parsed: Parsed, symbol: Symbol, policy: Policy | None) -> str | None:
    """The Markdown shown for `symbol`, or None when there is nothing to say."""
    layers = parsed.layers()
    if symbol.kind == "clause":
        return _clause(layers, symbol.name, policy)
    if symbol.kind == "field":
        return _field(symbol)
    if symbol.kind == "category":
        return _category(symbol.name)
    if symbol.kind in ("define", "param", "rule", "action"):
        return _declared(layers, symbol)
    if symbol.kind == "extends":
        parent = parsed.parents[0] if parsed.parents else None
        if parent is None:
            return f"extends `{symbol.name}`: no such policy found"
        doc = parent.index.doc
        return f"**policy `{doc.name}`**{': ' + doc.title if doc.title else ''}\n\n`{parent.path}`"
    return None


# ---------------------------------------------------------------- clauses

def _clause(layers: list[Layer], clause_id: str, policy: Policy | None) -> str:
    found = next(((layer, layer.index.clauses[clause_id]) for layer in layers if clause_id in layer.index.clauses), None)
    if found is None:
        return f"no clause `{clause_id}`"
    layer, clause = found
    out = [f"**clause {clause.id}**" + (f" ({layer.index.doc.name}, {layer.path})" if layer.path else ""),
           "", "> " + clause.text]
    if clause.unchecked is not None:
        out += ["", f"*not checkable:* {clause.unchecked}"]
    encoded, cited = _citing(layers, clause_id, policy)
    if encoded:
        out += ["", "**encoded by:** " + ", ".join(encoded)]
    if cited:
        out += ["", "**cited by:** " + ", ".join(cited)]
    if clause.children:
        out += ["", "**sub-clauses:** " + ", ".join(c.id for c in clause.children)]
    if not (encoded or cited or clause.children or clause.unchecked):
        out += ["", "*no rule encodes or cites it yet*"]
    return "\n".join(out)


def _citing(layers: list[Layer], clause_id: str, policy: Policy | None) -> tuple[list[str], list[str]]:
    """Rules under the clause, and rules elsewhere that cite it (or are exceptions to it)."""
    encoded: list[str] = []
    cited: list[str] = []
    for layer in layers:
        ids = _rule_ids(layer, policy)
        for rule in layer.index.doc.all_rules():
            label = ids.get((rule.span.line, rule.span.column)) or rule.name or f"the rule at line {rule.span.line}"
            label = f"`{label}`" + (f" ({layer.index.doc.name})" if layer.path else "")
            if rule.clause == clause_id:
                encoded.append(label)
            elif _cites(rule, clause_id):
                cited.append(label)
    return encoded, cited


def _cites(rule: st.Rule, clause_id: str) -> bool:
    d = rule.decision
    return (any(ref.id == clause_id for ref in d.cites)
            or any(ref.id == clause_id for ob in d.obligations for ref in ob.cites)
            or (rule.defeats is not None and rule.defeats[:2] == ("clause", clause_id)))


def _rule_ids(layer: Layer, policy: Policy | None) -> dict[tuple[int, int], str]:
    """The compiler's ids (`3.4.3#1` for an unnamed rule) of one file's rules, by position."""
    if policy is None:
        return {}
    name = layer.index.doc.name
    return {(r.span.line, r.span.column): r.id for r in policy.rules if r.policy == name}


# ---------------------------------------------------------------- fields and categories

def field_type(symbol: Symbol, kind: str) -> tuple[FieldType | None, FieldType | None]:
    """(the field's type, the type of what holds it) for one event kind; (None, None) if not a field there."""
    start = root_type(kind)
    parts = expand(symbol.path)
    if symbol.element is not None:
        listed, _, _ = resolve(expand(symbol.element), start)
        item = listed.item if listed is not None else None
        if item is not None and item.kind == "object" and symbol.path[0] in item.fields():
            start, parts = item, symbol.path
    holder, _, _ = resolve(parts[:-1], start)
    found, _, _ = resolve(parts, start)
    return found, holder


def _description(holder: FieldType | None, name: str) -> str | None:
    for model in (holder.models if holder is not None else ()):
        info = model.model_fields.get(name)
        if info is not None:
            return info.description or f"`{model.__name__}.{name}`"
    return None


def _field(symbol: Symbol) -> str | None:
    dotted = ".".join(symbol.path)
    lines: list[str] = []
    meaning = None
    for kind in symbol.kinds:
        found, holder = field_type(symbol, kind)
        if found is None:
            continue
        lines.append(f"- on {article(kind)} {kind} event: {found.describe()}")
        meaning = meaning or _description(holder, symbol.name)
    if not lines:
        return f"`{dotted}` is not a field of {', '.join(symbol.kinds)} events (see `policykit schema event`)"
    head = f"**field `{dotted}`**" + (f" (of each item of `{'.'.join(symbol.element)}`)" if symbol.element else "")
    return "\n".join([head, "", *lines] + (["", meaning] if meaning else []))


def _category(name: str) -> str:
    finders = [d.name for d in vocabulary.detectors() if name in d.categories]
    if name not in vocabulary.categories():
        return f"`{name}` is not a known category"
    found = ("found in the text by detectors: " + ", ".join(f"`{f}`" for f in finders)) if finders else \
        "no detector finds it: only an upstream label (under the policy's `trust` lines) says so"
    return f"**category `{name}`**\n\n{found}\n\nAn upstream label with this name counts too (see docs/detectors.md)."


# ---------------------------------------------------------------- declarations

def _declared(layers: list[Layer], symbol: Symbol) -> str | None:
    for layer in layers:
        decl = layer.index.declaration(symbol.kind, symbol.name)
        if decl is None:
            continue
        source = _statement(layer.index, decl)
        where = f"\n\n({layer.index.doc.name}, {layer.path})" if layer.path else ""
        extra = _rule_note(layer.index, symbol.name) if symbol.kind == "rule" else ""
        return f"```policykit\n{source}\n```{extra}{where}"
    if symbol.kind == "action":
        known = symbol.name in vocabulary.action_types()
        return f"action type `{symbol.name}`: " + ("one of the contract's (or a plugin's) action types" if known
                                                   else "not a known action type")
    return None


MAX_HOVER_LINES = 12


def _statement(index: Index, decl: Symbol) -> str:
    """A declaration's source, from its line while the lines stay indented under it (a dozen at most)."""
    lines = index.lines
    first = decl.range.start[0]
    indent = _indent(lines[first])
    end = first + 1
    while end < len(lines) and end - first < MAX_HOVER_LINES and (not lines[end].strip() or _indent(lines[end]) > indent):
        end += 1
    return "\n".join(line[indent:] if line[:indent].strip() == "" else line for line in lines[first:end]).rstrip()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _rule_note(index: Index, name: str) -> str:
    """Which exceptions in this file defeat the rule."""
    against = [r.name or f"the exception at line {r.span.line}" for r in index.doc.all_rules()
               if r.defeats is not None and r.defeats[:2] == ("rule", name)]
    return ("\n\n**exceptions to it:** " + ", ".join(f"`{a}`" for a in against)) if against else ""

