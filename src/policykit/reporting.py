"""Reports for CI systems: SARIF 2.1.0 for `lint` (code-scanning alerts) and JUnit XML for `lint` and `test`.

Both are built from the same results the text output shows, so a CI dashboard and a person at a
terminal see the same findings. SARIF follows the OASIS 2.1.0 schema (tests validate against it);
JUnit follows the de-facto schema Jenkins, GitLab and GitHub test reporters read: `testsuites` of
`testsuite`s of `testcase`s, each possibly with a `failure` (the check found a problem) or an `error`
(the input could not be checked at all).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import __version__
from .errors import Diagnostic

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
UNREADABLE = "PK000"  # a file that is not a policy at all: a tool failure, not a finding


def _relative_uri(file: str) -> str:
    """A path as a URI relative to the working directory (the repository root in CI), `/`-separated."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_uri()
    return path.as_posix()


def _text(d: Diagnostic) -> str:
    return f"{d.message}\nhelp: {d.help}" if d.help else d.message


def _region(d: Diagnostic) -> dict[str, int]:
    region = {"startLine": max(d.line, 1), "startColumn": max(d.column, 1)}
    end_line, end_column = d.span.end_line, d.span.end_column
    if end_line is not None and end_column is not None and (end_line, end_column) > (d.line, d.column):
        region.update(endLine=end_line, endColumn=end_column)
    return region


def lint_sarif(results: Mapping[str, Sequence[Diagnostic]]) -> dict[str, Any]:
    """One SARIF run: a result per finding; unreadable files are tool notifications, not findings."""
    findings = [d for ds in results.values() for d in ds if d.code != UNREADABLE]
    unreadable = [d for ds in results.values() for d in ds if d.code == UNREADABLE]
    codes = sorted({d.code for d in findings})
    index = {code: i for i, code in enumerate(codes)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "policykit", "version": __version__, "semanticVersion": __version__,
                                "rules": [{"id": code} for code in codes]}},
            "invocations": [{
                "executionSuccessful": not unreadable,
                "toolExecutionNotifications": [{
                    "level": "error", "message": {"text": d.message},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": _relative_uri(d.file),
                                                                             "uriBaseId": "%SRCROOT%"}}}],
                } for d in unreadable],
            }],
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": [{
                "ruleId": d.code, "ruleIndex": index[d.code],
                "level": "error" if d.severity == "error" else "warning",
                "message": {"text": _text(d)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": _relative_uri(d.file), "uriBaseId": "%SRCROOT%"},
                    "region": _region(d)}}],
            } for d in findings],
        }],
    }


def github_annotation(d: Diagnostic) -> str:
    """A GitHub Actions workflow command that annotates the line: `::error file=…,line=…::message`.

    Values are escaped as the runner requires (`%`, CR and LF everywhere; also `:` and `,` in
    properties), so a message with a newline or a path with a comma cannot end the command early.
    """
    kind = "error" if d.severity == "error" else "warning"
    props = {"file": d.file, "line": d.line, "col": d.column, "title": d.code}
    if d.span.end_line == d.line and d.span.end_column and d.span.end_column > d.column:
        props["endColumn"] = d.span.end_column
    fields = ",".join(f"{key}={_escape(str(value), True)}" for key, value in props.items())
    return f"::{kind} {fields}::{_escape(_text(d), False)}"


def _escape(value: str, property: bool) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if property else value


@dataclass
class Case:
    """One JUnit testcase: passed unless it has a failure (a finding) or an error (could not run)."""

    name: str
    classname: str
    file: str | None = None
    line: int | None = None
    failure: tuple[str, str, str] | None = None  # (type, message, details)
    error: tuple[str, str] | None = None         # (message, details)
    output: list[str] = field(default_factory=list)


@dataclass
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)
    seconds: float = 0.0


def junit_xml(name: str, suites: Iterable[Suite]) -> str:
    """The JUnit XML document for these suites, counts filled in at every level."""
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    seconds = 0.0
    for suite in suites:
        counts = {"tests": len(suite.cases), "failures": sum(c.failure is not None for c in suite.cases),
                  "errors": sum(c.error is not None for c in suite.cases)}
        element = ET.SubElement(root, "testsuite", name=suite.name, skipped="0", time=f"{suite.seconds:.3f}",
                                **{k: str(v) for k, v in counts.items()})
        for case in suite.cases:
            _case(element, case)
        for key in totals:
            totals[key] += counts[key]
        seconds += suite.seconds
    root.attrib.update({k: str(v) for k, v in totals.items()}, time=f"{seconds:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _case(parent: ET.Element, case: Case) -> None:
    attrs = {"name": case.name, "classname": case.classname}
    if case.file is not None:
        attrs["file"] = case.file
    if case.line is not None:
        attrs["line"] = str(case.line)
    element = ET.SubElement(parent, "testcase", attrs)
    if case.failure is not None:
        kind, message, details = case.failure
        ET.SubElement(element, "failure", type=kind, message=message).text = details
    if case.error is not None:
        message, details = case.error
        ET.SubElement(element, "error", message=message).text = details
    if case.output:
        ET.SubElement(element, "system-out").text = "\n".join(case.output)


def lint_suites(results: Mapping[str, Sequence[Diagnostic]], seconds: float = 0.0) -> list[Suite]:
    """`lint` as JUnit: a testcase per policy file, failed by its errors; warnings go to its output."""
    suite = Suite("policykit lint", seconds=seconds)
    for file, diagnostics in results.items():
        case = Case(name=file, classname=_classname(file), file=file)
        unreadable = [d for d in diagnostics if d.code == UNREADABLE]
        errors = [d for d in diagnostics if d.severity == "error" and d.code != UNREADABLE]
        if unreadable:
            case.error = (unreadable[0].message, "\n".join(str(d) for d in unreadable))
        elif errors:
            case.failure = (errors[0].code, f"{len(errors)} error(s): {errors[0].message}",
                            "\n".join(str(d) for d in errors))
        case.output = [str(d) for d in diagnostics if d.severity == "warning"]
        suite.cases.append(case)
    return [suite]


def _classname(file: str) -> str:
    """JUnit groups by classname, dotted: `policies/nyc.pol` is `policies.nyc`."""
    stem = os.path.splitext(file)[0].replace("\\", "/").strip("/")
    return stem.replace("/", ".") or file


__all__ = ["Case", "SARIF_SCHEMA", "Suite", "github_annotation", "junit_xml", "lint_sarif", "lint_suites"]
