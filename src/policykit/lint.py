"""Checks beyond "does it compile": what a policy reviewer would flag.

Compile errors come from the compiler; this module adds warnings (clauses not accounted for, unused
definitions and parameters, quotes that are not the source document's words, obligations with unknown
actions, rules an exception always defeats, rules that can never fire, allow rules that a stronger rule
of the same rank overrules, effective dates out of order) and honours `# policykit: ignore[CODE]`
comments. The rule checks use `analysis`, and report only what they can prove: a conflict is reported
with an event that shows it, after the evaluator has judged that event.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable

from . import analysis as an
from . import syntax as st
from .compiler import CompiledRule, Policy, article, suggest
from .errors import Diagnostic, PolicyError, Span
from .evaluator import evaluate_unobserved
from .limits import ReadRefused, current, read_bounded
from .loader import compile_text, load, read_document

_IGNORE = re.compile(r"#\s*policykit:\s*ignore\[([A-Z0-9, ]+)\]")
KNOWN_OBLIGATIONS = frozenset({
    "archive", "document", "refer", "notify", "consult", "respond", "record", "log", "remove",
    "remove_follower", "screenshot", "retain", "report", "escalate", "approve", "disclose", "train",
    "register", "hide", "review", "appeal", "correct", "backup",
})


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _warn(code: str, message: str, span: Span, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, span, help, "warning")


def policy_warnings(policy: Policy, sources: Path | None = None, lines: list[str] | None = None) -> list[Diagnostic]:
    """Warnings about the top file of a compiled policy (its parents are linted on their own).

    `lines` is the file's text, for positions the syntax tree does not keep; read from disk when omitted.
    """
    lines = _lines(policy) if lines is None else lines
    doc = policy.doc
    found: list[Diagnostic] = list(policy.warnings)
    cited = {ref.id for rule in doc.all_rules() for ref in rule.decision.cites}  # encoded by a rule elsewhere
    for clause in doc.walk_clauses():
        if not clause.rules and not clause.children and clause.unchecked is None and clause.id not in cited:
            found.append(_warn("PK301", f"clause `{clause.id}` is neither encoded nor marked not checkable",
                               clause.span, 'add rules under it, or `not checkable because "reason"`'))
    for define in doc.defines:
        if define.name not in policy.used_names:
            found.append(_warn("PK302", f"definition `{define.name}` is never used", define.span))
    for param in doc.params:
        if param.name not in policy.used_names and not _used_in_messages(policy, param.name):
            found.append(_warn("PK303", f"parameter `{param.name}` is never used", param.span))
    for rule in doc.all_rules():
        for ob in rule.decision.obligations:
            if ob.action not in KNOWN_OBLIGATIONS:
                known = "known: " + ", ".join(sorted(KNOWN_OBLIGATIONS))
                guess = suggest(ob.action, KNOWN_OBLIGATIONS)
                found.append(_warn("PK304", f"obligation `{ob.action}` is not a known action", ob.span,
                                   f"{guess} ({known})" if guess else known))
    found.extend(rule_warnings(policy, lines))
    found.extend(date_warnings(policy, lines))
    if sources is not None:
        found.extend(_quotes(policy, sources))
    return found


def _used_in_messages(policy: Policy, name: str) -> bool:
    needle = "{" + name + "}"
    return any(needle in (r.decision.because or "") or any(needle in (o.detail or "") for o in r.decision.obligations)
               for r in policy.doc.all_rules())


@dataclass
class _Info:
    rule: CompiledRule
    syntax: st.Rule | None
    targets: an.Formula
    condition: an.Formula
    applies: frozenset[str]  # clauses named by `clause X applies` in its condition


def _analysed(policy: Policy) -> tuple[an.Model, list[_Info]]:
    defines = {d.name: d for doc in policy.layers for d in doc.defines}
    model = an.Model(defines, dict(policy.params))
    by_span = {(r.span.file, r.span.line, r.span.column): r for doc in policy.layers for r in doc.all_rules()}
    infos = []
    for rule in policy.rules:
        syntax = by_span.get((rule.span.file, rule.span.line, rule.span.column))
        kinds = sorted(rule.kinds)
        if syntax is None:  # cannot see its condition: model it as unknowable
            condition = an.TRUE if rule.condition is None else model.opaque(("rule", rule.id))
            applies: frozenset[str] = frozenset()
        else:
            d = syntax.decision
            condition = an.f_and(model.condition(d.when, kinds),
                                 an.TRUE if d.unless is None else an.f_not(model.condition(d.unless, kinds)))
            applies = frozenset(_applies(d.when, defines, ())) | frozenset(_applies(d.unless, defines, ()))
        infos.append(_Info(rule, syntax, model.targets(rule.kinds, rule.actions), condition, applies))
    return model, infos


def _applies(node: Any, defines: dict[str, st.Define], stack: tuple[str, ...]) -> Iterable[str]:
    """Clauses a condition names in `clause X applies` (through definitions too)."""
    if node is None:
        return
    if isinstance(node, st.ClauseApplies):
        yield node.clause
    elif isinstance(node, st.Path) and len(node.parts) == 1 and node.parts[0] in defines \
            and node.parts[0] not in stack:
        yield from _applies(defines[node.parts[0]].expr, defines, stack + node.parts)
    elif hasattr(node, "__dataclass_fields__"):
        for name in node.__dataclass_fields__:
            value = getattr(node, name)
            for item in (value if isinstance(value, tuple) else (value,)):
                if hasattr(item, "__dataclass_fields__"):
                    yield from _applies(item, defines, stack)


def _windows_overlap(a: CompiledRule, b: CompiledRule, floor: date | None) -> tuple[bool, date | None]:
    """Whether two rules are ever in force together, and a day on which they are (None: undated suffices)."""
    starts = [d for d in (a.effective, b.effective, floor) if d is not None]
    ends = [d for d in (a.until, b.until) if d is not None]
    start = max(starts) if starts else None
    if ends:
        day = start or min(ends) - timedelta(days=1)
        return (day < min(ends)), day
    return True, (start if (a.dated or b.dated) else None)


def _covers(outer: CompiledRule, inner: CompiledRule) -> bool:
    """Whether `outer` is in force whenever `inner` is."""
    if outer.effective is not None and (inner.effective is None or inner.effective < outer.effective):
        return False
    return outer.until is None or (inner.until is not None and inner.until <= outer.until)


def _judge(policy: Policy, event: dict[str, Any]) -> Any:
    """The verdict on a witness event, without telling plugin observers (it is not a real event)."""
    return evaluate_unobserved(policy, event)


def _source(span: Any, lines: list[str]) -> str | None:
    if span is None or span.end_line != span.line or not span.end_column or not 1 <= span.line <= len(lines):
        return None
    return lines[span.line - 1][span.column - 1: span.end_column - 1].strip() or None


def _conjuncts(node: Any) -> list[Any]:
    if isinstance(node, st.BoolOp) and node.op == "and":
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node] if node is not None else []


def _why_never(model: an.Model, info: _Info, lines: list[str]) -> str:
    """The smallest part of a condition that cannot hold: one test, or two that contradict each other."""
    if info.syntax is None:
        return ""
    d = info.syntax.decision
    parts = [(c, model.condition(c, sorted(info.rule.kinds))) for c in _conjuncts(d.when)]
    if d.unless is not None:
        parts.append((d.unless, an.f_not(model.condition(d.unless, sorted(info.rule.kinds)))))
    for node, f in parts:
        if an.never_true(model, an.f_and(info.targets, f), 2000) is True:
            text = _source(node.span, lines)
            return f": `{text}` never holds for what it targets" if text else ""
    for i, (a, fa) in enumerate(parts):
        for b, fb in parts[i + 1:]:
            if an.never_true(model, an.f_and(info.targets, an.f_and(fa, fb)), 2000) is True:
                ta, tb = _source(a.span, lines), _source(b.span, lines)
                return f": `{ta}` and `{tb}` cannot both hold" if ta and tb else ""
    return ""


def rule_warnings(policy: Policy, lines: list[str] | None = None) -> list[Diagnostic]:
    """PK305 (always defeated), PK308 (allow overruled by a rule of the same rank), PK309 (never fires)."""
    lines = _lines(policy) if lines is None else lines
    model, infos = _analysed(policy)
    found: list[Diagnostic] = []
    never: set[int] = set()
    mine = [i for i in infos if i.rule.policy == policy.name]
    for info in infos:
        if info.rule.condition is not None and an.never_true(model, an.f_and(info.targets, info.condition)) is True:
            never.add(info.rule.index)
            if info.rule.policy == policy.name:
                found.append(_warn("PK309", f"rule `{info.rule.id}` can never fire: no event satisfies its "
                                   f"condition{_why_never(model, info, lines)}", info.rule.span,
                                   "the tests contradict each other (e.g. `x is 1 and x is 2`, `has a and not has a`); "
                                   "fix the condition or remove the rule"))
    for info in mine:
        if not info.rule.is_exception or info.rule.index in never:
            continue
        victims = [infos_by_index for infos_by_index in infos if infos_by_index.rule.index in info.rule.defeats]
        live = [v for v in victims if v.rule.index not in never]
        if live and all(not _windows_overlap(info.rule, v.rule, None)[0]
                        or an.never_true(model, an.f_and(an.f_and(v.targets, v.condition),
                                                         an.f_and(info.targets, info.condition))) is True
                        for v in live):
            names = ", ".join(f"`{v.rule.id}`" for v in live[:3]) + (" …" if len(live) > 3 else "")
            found.append(_warn("PK309", f"exception `{info.rule.id}` can never apply: it is considered only when "
                               f"{names} fires, and no event that fires it is one the exception applies to",
                               info.rule.span, "check its targets and condition against the rule it is an "
                               "exception to"))
            continue
        for victim in live:
            if not _covers(info.rule, victim.rule):
                continue
            shadow = an.implies(model, an.f_and(victim.targets, victim.condition),
                                an.f_and(info.targets, info.condition))
            if shadow is True:
                how = "has no condition and always defeats it" if info.rule.condition is None and \
                    victim.rule.kinds <= info.rule.kinds else "applies whenever it fires, and defeats it"
                found.append(_warn("PK305", f"rule `{victim.rule.id}` can never take effect: exception "
                                   f"`{info.rule.id}` {how}", info.rule.span,
                                   "narrow the exception's `when` condition, or remove the rule"))
    found.extend(_conflicts(policy, model, infos, never))
    found.extend(_absence_warnings(model, mine, never))
    return found


# Fields that events of a kind often do not give: a comment from the public rarely says who wrote it or
# on which account; an action log rarely describes its actor or what it acted on in full.
OFTEN_ABSENT: dict[str, tuple[str, ...]] = {
    "comment": ("author.", "account.", "author_history."),
    "post": ("author.", "account."),
    "action": ("actor.", "action.target."),
}


def _absence_warnings(model: an.Model, infos: list[_Info], never: set[int]) -> list[Diagnostic]:
    """PK311: a rule that can be undetermined (so `review`) just because an event lacks a field such
    events often lack, with no `otherwise` or `is present` to say what absence means. A new author's `deny comment
    when author.role is "elected_official"` otherwise sends every anonymous comment to a person."""
    found: list[Diagnostic] = []
    for info in infos:
        rule = info.rule
        if rule.severity < 1 or rule.is_exception or rule.index in never or rule.condition is None:
            continue
        f = an.f_and(info.targets, info.condition)
        for kind in sorted(rule.kinds & OFTEN_ABSENT.keys()):
            fields = [v for v in an.variables(f) if v.startswith(OFTEN_ABSENT[kind])]
            hit = next((v for v in fields if an.undetermined_without(model, f, v, {"kind": kind}) is True), None)
            if hit is not None:
                found.append(_warn("PK311", f"rule `{rule.id}` cannot be decided for {article(kind)} {kind} that does not give "
                                   f"`{hit}` (whatever else it says, some such events get `review`)", rule.span,
                                   f"say what absence means: `{hit} otherwise VALUE`, or test "
                                   f"`{hit} is present and …` (or `is missing`) in the condition"))
                break
    return found


def _conflicts(policy: Policy, model: an.Model, infos: list[_Info], never: set[int]) -> list[Diagnostic]:
    """PK308: an `allow` rule (or a branch of its condition) that a stronger rule of the same rank overrules.

    Decisions combine by severity, so an `allow` never outweighs `review`, `remove` or `deny`: a general
    permission beside a specific requirement (allow official posts; deny posts by untrained staff) is
    the intended reading. What is ambiguous is an `allow` that reads as a carve-out from a stronger
    rule but is not written as an exception: some branch of its condition is entirely inside the other
    rule's, so on those events the allow never decides anything. Reported only with an event that
    the evaluator confirms both rules fire on.
    """
    found: list[Diagnostic] = []
    allows = [i for i in infos if i.rule.effect == "allow" and not i.rule.is_exception and i.rule.index not in never
              and i.rule.condition is not None]
    stronger = [i for i in infos if i.rule.effect != "allow" and not i.rule.is_exception
                and i.rule.index not in never]
    for a in allows:
        branches = an.disjuncts(a.condition)
        for b in stronger:
            if policy.name not in (a.rule.policy, b.rule.policy) or not (a.rule.kinds & b.rule.kinds):
                continue
            if a.rule.kinds == {"action"} == b.rule.kinds and a.rule.actions is not None \
                    and b.rule.actions is not None and not (a.rule.actions & b.rule.actions):
                continue
            if any(c in b.rule.home for c in a.applies) or any(c in a.rule.home for c in b.applies):
                continue  # ordered by `clause X applies`: the author related them on purpose
            overlap, day = _windows_overlap(a.rule, b.rule, policy.effective)
            if not overlap:
                continue
            both = an.f_and(a.targets, b.targets)
            for branch in branches:
                inside = an.f_and(both, branch)
                if an.implies(model, inside, b.condition, 5000) is not True:
                    continue
                witness = _confirmed(policy, model, [inside, b.condition], a.rule, b.rule, day)
                if witness is None:
                    continue
                where = a.rule if a.rule.policy == policy.name else b.rule
                scope = "every event" if len(branches) == 1 else "every event that one branch of"
                found.append(_warn(
                    "PK308", f"rules `{a.rule.id}` (allow) and `{b.rule.id}` ({b.rule.effect}) conflict: "
                    f"`{b.rule.id}` applies to {scope} `{a.rule.id}` allows, e.g. {witness}; the stronger "
                    f"effect wins, so `{a.rule.id}` never allows those", where.span,
                    f"if `{a.rule.id}` should win, write it as `exception {a.rule.id} to {b.rule.id}:`; "
                    f"otherwise narrow it with `unless` so the two no longer overlap"))
                break
    return found


def _confirmed(policy: Policy, model: an.Model, formulas: list[an.Formula], a: CompiledRule, b: CompiledRule,
               day: date | None) -> str | None:
    """A described event on which the evaluator fires both rules with their own effects, if one is found."""
    for tries, asg in enumerate(an.witnesses(model, formulas, 5000)):
        if tries >= 6:
            return None
        event = an.build_event(model, asg, day)
        if event is None:
            continue
        try:
            verdict = _judge(policy, event)
        except Exception:  # not a valid event after all
            continue
        effects = {(f.rule, f.effect) for f in verdict.findings}
        if (a.id, a.effect) in effects and (b.id, b.effect) in effects:
            return an.describe(model, asg)
    return None


def _lines(policy: Policy) -> list[str]:
    try:
        return Path(policy.file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def _date_span(lines: list[str], file: str, start: int, keyword: str, day: date, fallback: Span) -> Span:
    """Where `effective D` / `until D` is written (the syntax tree keeps the date, not its position)."""
    pattern = re.compile(rf"^(\s*){keyword}\s+{day.isoformat()}\b")
    for number in range(max(start, 1), min(start + 80, len(lines)) + 1):
        match = pattern.match(lines[number - 1])
        if match:
            column = len(match.group(1)) + 1
            return Span(file, number, column, number, column + len(keyword) + 11)
    return fallback


def date_warnings(policy: Policy, lines: list[str] | None = None) -> list[Diagnostic]:
    """PK310: effective dates out of order.

    (An `until` on or before the `effective` date in force, the policy's included, is compile error PK211.)
    """
    lines = _lines(policy) if lines is None else lines
    doc, found = policy.doc, []
    file = doc.span.file
    start = doc.effective

    def warn(message: str, span: Span, help: str) -> None:
        found.append(_warn("PK310", message, span, help))

    if len(policy.layers) > 1:
        parent = policy.layers[-2]
        if parent.effective and start and start < parent.effective:
            warn(f"policy `{doc.name}` takes effect ({start}) before `{parent.name}`, which it extends "
                 f"({parent.effective}); the parent's rules do not apply until then",
                 _date_span(lines, file, 1, "effective", start, doc.span),
                 f"make it effective on or after {parent.effective}")
    clauses = {c.id: c for c in doc.walk_clauses()}
    for clause in clauses.values():
        parent = clauses.get(clause.parent) if clause.parent else None
        outer_start = (policy.clauses[parent.id].effective if parent else None) or start
        outer_until = policy.clauses[parent.id].until if parent else None
        whose = f"clause `{parent.id}`" if parent else "the policy"
        if clause.effective and outer_start and clause.effective < outer_start:
            warn(f"clause `{clause.id}` is effective {clause.effective}, before {whose} ({outer_start})",
                 _date_span(lines, file, clause.span.line, "effective", clause.effective, clause.span),
                 f"nothing under it applies before {outer_start}; use that date or a later one")
        if clause.until and outer_until and clause.until > outer_until:
            warn(f"clause `{clause.id}` runs until {clause.until}, after {whose} ends ({outer_until})",
                 _date_span(lines, file, clause.span.line, "until", clause.until, clause.span),
                 f"a clause cannot outlast the one it belongs to; end it by {outer_until}")
    for rule in doc.all_rules():
        d = rule.decision
        home = policy.clauses.get(rule.clause) if rule.clause else None
        outer_start = (home.effective if home else None) or start
        outer_until = home.until if home else None
        whose = f"clause `{home.id}`" if home and home.effective != start else "the policy"
        name = f"rule `{rule.name}`" if rule.name else "this rule"
        if d.effective and outer_start and d.effective < outer_start:
            warn(f"{name} is effective {d.effective}, before {whose} ({outer_start})",
                 _date_span(lines, file, rule.span.line, "effective", d.effective, rule.span),
                 f"it cannot apply before {outer_start}; use that date or a later one")
        if d.until and outer_until and d.until > outer_until:
            warn(f"{name} runs until {d.until}, after clause `{home.id}` ends ({outer_until})",  # type: ignore[union-attr]
                 _date_span(lines, file, rule.span.line, "until", d.until, rule.span),
                 f"a rule cannot outlast the clause it encodes; end it by {outer_until}")
    return found


def _quotes(policy: Policy, sources: Path) -> list[Diagnostic]:
    document = policy.doc.header.get("document")
    if document is None:
        return [_warn("PK306", "the policy names no `document`, so its quotes cannot be checked", policy.doc.span,
                      'add `document "file.txt"` to the header')]
    found = read_document(sources, document[0], document[1])  # inside --sources only, size-limited
    if isinstance(found, Diagnostic):
        return [found]
    text = _collapse(found)
    sentences = _sentences(text)
    problems = []
    for clause in policy.doc.walk_clauses():
        quote = _collapse(clause.text)
        if quote in text:
            continue
        nearest = _nearest(quote, sentences)
        problems.append(Diagnostic("PK307", f"clause `{clause.id}`: text is not the source document's words",
                                   clause.span, f"not found verbatim in {Path(document[0]).name} "
                                   "(whitespace-insensitive)" + (f"; the nearest text there: “{nearest}”" if nearest else "")))
    return problems


_SENTENCE_END = re.compile(r"(?<=[.;:!?])\s+")
NEAREST_MAX = 300  # characters of nearest text shown; a clause is usually a sentence or two


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s]


def _nearest(quote: str, sentences: list[str]) -> str | None:
    """The run of the document's sentences most like the quote (as many sentences as the quote has), if
    any is at least 60% alike: usually the clause as the document words it, so the fix can be copied."""
    if not quote or not sentences:
        return None
    size = max(1, len(_sentences(quote)))
    windows = [" ".join(sentences[i:i + size]) for i in range(max(1, len(sentences) - size + 1))]
    # Compare only windows of a comparable length: the rest cannot reach the cutoff, and skipping them
    # keeps a policy linted against the wrong document (every clause a miss) fast.
    near = [w for w in windows if len(quote) / 2 <= len(w) <= len(quote) * 2] or windows
    best = difflib.get_close_matches(quote, near, n=1, cutoff=0.6)
    if not best:
        return None
    return best[0] if len(best[0]) <= NEAREST_MAX else best[0][:NEAREST_MAX].rsplit(" ", 1)[0] + " …"


def ignored(diagnostic: Diagnostic, lines: list[str]) -> bool:
    """True when the diagnostic's line, or the line before it, says `# policykit: ignore[CODE]`."""
    for number in (diagnostic.line, diagnostic.line - 1):
        if 1 <= number <= len(lines):
            match = _IGNORE.search(lines[number - 1])
            if match and diagnostic.code in {c.strip() for c in match.group(1).split(",")}:
                return True
    return False


def policy_files(paths: Iterable[str]) -> list[Path]:
    """Every .pol file named, or under a named directory, sorted."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        found.extend(sorted(path.rglob("*.pol")) if path.is_dir() else [path])
    return found


def max_policy_bytes() -> int:
    """The largest policy file read, as configured now (`policykit.limits`; the largest bundled one is ~40 KiB)."""
    return current().max_policy_bytes


def read_problem(path: Path) -> tuple[str | None, str | None]:
    """(text, None) for a readable policy file, or (None, why not): missing, enormous, binary, not UTF-8, empty."""
    try:  # bounded on the open file: a FIFO or a device named *.pol cannot block or fill memory
        data = read_bounded(path, max_policy_bytes(), "a policy", "max_policy_bytes")
    except ReadRefused as exc:
        return None, str(exc)
    return decode_policy(data)


def decode_policy(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) for bytes that can be a policy (read from a file or stdin), or (None, why not)."""
    limit = max_policy_bytes()
    if len(data) > limit:
        return None, (f"too large for a policy ({len(data) / 2**20:.1f} MiB; at most "
                      f"{limit / 2**20:g} MiB, limit max_policy_bytes)")
    if b"\x00" in data:
        return None, "this is a binary file, not a policy"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"this file is not UTF-8 text (byte {exc.start})"
    if not text.strip():
        return None, "empty file, not a policy"
    return text, None


def lint_file(path: Path, sources: Path | None = None, strict: bool = False) -> list[Diagnostic]:
    """Every error and warning for one file, minus those its comments silence; `strict`: a parameter
    left without a value is an error (PK114)."""
    text, problem = read_problem(path)
    if problem is not None:
        return [_unreadable(str(path), problem)]
    return _lint(text or "", str(path), lambda: load(path, strict=strict), sources)


def lint_text(text: str, file: str, sources: Path | None = None, strict: bool = False) -> list[Diagnostic]:
    """`lint_file` for policy text held in memory (stdin, an editor's buffer): `file` names it in
    messages, and a relative `extends` path is found beside it."""
    return _lint(text, file, lambda: compile_text(text, file, strict=strict), sources)


def _unreadable(file: str, problem: str) -> Diagnostic:
    return Diagnostic("PK000", problem, Span(file, 1, 1), "policies are UTF-8 text files ending in .pol")


def _lint(text: str, file: str, compile: Callable[[], Policy], sources: Path | None) -> list[Diagnostic]:
    lines = text.splitlines()
    return [d for d in _findings(lines, file, compile, sources)[0] if not ignored(d, lines)]


def findings_in_text(text: str, file: str, sources: Path | None = None) -> tuple[list[Diagnostic], Policy | None]:
    """Every finding for policy text held in memory *before* `# policykit: ignore` comments apply, and
    the policy when it compiled: the language server moves a parent file's findings to the `extends`
    line first, then applies the comments, and shows the compiled rules in hovers."""
    return _findings(text.splitlines(), file, lambda: compile_text(text, file), sources)


def _findings(lines: list[str], file: str, compile: Callable[[], Policy],
              sources: Path | None) -> tuple[list[Diagnostic], Policy | None]:
    try:
        policy = compile()
        return policy_warnings(policy, sources, lines), policy
    except PolicyError as exc:
        return exc.diagnostics, None
    except OSError as exc:
        return [Diagnostic("PK000", f"cannot read file: {exc.strerror or exc}", Span(file, 1, 1))], None
