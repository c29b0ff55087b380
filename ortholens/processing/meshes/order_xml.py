"""Scanner order/metadata XML inside a bundle (iTero and others): which file is which jaw, who
(name, chart number, birth date) and when (scan time, else export time), which vendor (from the
document's structure as well as its values), and every value it holds.

Vendors differ and change their schemas, so this looks for jaw words close to where a mesh file
is named (the attribute naming it, its element, then enclosing elements that name no
other mesh), never in the file name itself."""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime

from ortholens.processing.meshes.scanner_text import (
    arch_from_text,
    parse_datetime,
    scanner_from_identifier,
    scanner_from_text,
)
from ortholens.processing.meshes.types import ArchType, ScannerType
from ortholens.processing.meshes.xmlsafe import UnsafeXml, local_name, parse_xml

_CLIMB = 3  # enclosing levels searched for a jaw word


@dataclass
class OrderHints:
    source: str = "order.xml"  # the XML's path in its bundle
    arches: dict[str, ArchType] = field(default_factory=dict)  # lower-cased mesh basename -> jaw
    scanner_type: ScannerType | None = None
    scanner_name: str | None = None
    patient_name: str | None = None
    patient_ref: str | None = None
    order_ref: str | None = None
    captured_at: datetime | None = None
    patient_birth_date: date | None = None
    fields: dict[str, str] = field(default_factory=dict)  # every value, by its path


def _values(element: ET.Element) -> list[tuple[str, str]]:
    """(key, value) pairs of an element: its tag with its text, and each attribute."""
    pairs = [(local_name(element.tag), (element.text or "").strip())]
    pairs += [(local_name(str(k)), str(v)) for k, v in element.attrib.items()]
    return pairs


def _names_file(value: str, basename: str) -> bool:
    value = value.replace("\\", "/").strip().lower()
    if not value:
        return False
    tail = posixpath.basename(value)
    return tail == basename or posixpath.splitext(tail)[0] == posixpath.splitext(basename)[0]


def _arch_near(
    element: ET.Element, parents: dict[ET.Element, ET.Element], basename: str, others: list[str]
) -> ArchType | None:
    # 1. the attribute or element whose name holds the file: <Scan upperJaw="a.stl"/>
    for key, value in _values(element):
        if _names_file(value, basename):
            arch = arch_from_text(key)
            if arch:
                return arch
    # 2. the element and enclosing ones, as long as they concern this file only
    node: ET.Element | None = element
    for _ in range(_CLIMB):
        if node is None:
            return None
        found = _arches_in(node, basename, others)
        if found is None or len(found) > 1:
            return None
        if found:
            return found.pop()
        node = parents.get(node)
    return None


def _arches_in(node: ET.Element, basename: str, others: list[str]) -> set[ArchType] | None:
    """Jaw words in a subtree, or None when the subtree also names another mesh."""
    found: set[ArchType] = set()
    for descendant in node.iter():
        if not isinstance(descendant.tag, str):
            continue
        for key, value in _values(descendant):
            if any(_names_file(value, other) for other in others):
                return None
            if _names_file(value, basename):
                continue  # never read the jaw from the file name
            arch = arch_from_text(value) or arch_from_text(key)
            if arch:
                found.add(arch)
    return found


_PATIENT_NAME = re.compile(r"^patient_?(full_?)?name$|^patient$", re.I)
_FIRST = re.compile(r"^(patient_?)?(first|given|fore)_?name$", re.I)
_LAST = re.compile(r"^(patient_?)?(last|family|sur)_?name$|^surname$", re.I)
_PATIENT_REF = re.compile(
    r"^patient_?(id|ref|number|no)$|^chart_?(number|no|id)?$|^(patient_?)?record_?(number|no)$",
    re.I,
)
_BIRTH = re.compile(r"^(patient_?)?(date_?of_?birth|birth_?date|dob|birthday)$", re.I)
_ORDER = re.compile(r"^(order|rx|case)_?(id|number|no|ref)?$", re.I)
# Time fields, best first: when the scan was taken, when it was exported, then any other date.
_TIME_WHAT = {
    "scan": 0, "scanned": 0, "capture": 0, "captured": 0, "acquisition": 0, "acquired": 0,
    "export": 1, "exported": 1,
    "creation": 2, "created": 2, "order": 2, "ordered": 2, "": 3,
}  # fmt: skip
_EVENT = {
    "scanned": "scan", "captured": "capture", "acquired": "acquisition", "exported": "export",
    "created": "creation", "ordered": "order",
}  # fmt: skip
_TIME_KEY = re.compile(
    r"(?P<before>date|time|datetime|timestamp)?"
    r"(?P<what>scanned|scan|captured|capture|acquisition|acquired|exported|export|creation|created"
    r"|ordered|order)?"
    r"(?P<part>datetime|timestamp|date|time|on|at)?"
)
# In these elements a bare "Name", "ID" or "DOB" is the patient's.
_PATIENT_ELEMENT = re.compile(r"^patient(_?info(rmation)?|_?data|_?details)?$", re.I)
_MAX_FIELDS = 2000
_MAX_VALUE = 1000


def _time_field(key: str) -> tuple[int, str, str] | None:
    """(rank, what, part) for a key that names a time: part is "date", "time" or "both"."""
    match = _TIME_KEY.fullmatch(re.sub(r"[^a-z]", "", key.lower()))
    if match is None:
        return None
    what = match.group("what") or ""
    part = match.group("part") or match.group("before") or ""
    if not part and not what.endswith("ed"):
        return None  # "Order" is an element, not a time; "Exported" is one
    if not what and part in ("on", "at"):
        return None
    kind = {"date": "date", "time": "time"}.get(part, "both")
    return _TIME_WHAT[what], _EVENT.get(what, what), kind


@dataclass
class _Times:
    """Date and time parts seen so far, by rank and by what they time."""

    parts: dict[tuple[int, str], dict[str, str]] = field(default_factory=dict)

    def note(self, key: str, value: str) -> None:
        found = _time_field(key)
        if found is not None:
            rank, what, kind = found
            self.parts.setdefault((rank, what), {}).setdefault(kind, value)

    def best(self) -> datetime | None:
        for _, parts in sorted(self.parts.items()):
            whole = parts.get("both")
            if "date" in parts and "time" in parts:
                whole = f"{parts['date']} {parts['time']}"
            at = parse_datetime(whole or parts.get("date", ""))
            if at is not None:
                return at
        return None


def _note_field(
    hints: OrderHints, people: dict[str, str], key: str, value: str, in_patient: bool
) -> None:
    if _PATIENT_NAME.match(key) or (in_patient and key.lower() in ("name", "fullname")):
        hints.patient_name = hints.patient_name or value
    elif _FIRST.match(key):
        people.setdefault("first", value)
    elif _LAST.match(key):
        people.setdefault("last", value)
    elif _BIRTH.match(key) or (in_patient and key.lower() in ("birth", "born")):
        hints.patient_birth_date = hints.patient_birth_date or _date_only(value)
    elif _PATIENT_REF.match(key) or (in_patient and key.lower() in ("id", "number", "ref")):
        hints.patient_ref = hints.patient_ref or value
    elif _ORDER.match(key):
        hints.order_ref = hints.order_ref or value


def _date_only(value: str) -> date | None:
    at = parse_datetime(value)
    return at.date() if at is not None else None


def _structure_scanner(root: ET.Element) -> tuple[ScannerType, str] | None:
    """The vendor the document's structure names: its root element, namespaces and the root's
    attributes (schema locations), e.g. `<iTeroExport>` or `xmlns="http://schemas.3shape.com/..."`."""
    identifiers = {root.tag, *(str(v) for v in root.attrib.values())}
    identifiers |= {e.tag.split("}", 1)[0] for e in root.iter() if isinstance(e.tag, str)}
    return scanner_from_identifier(" ".join(sorted(identifiers))[:100_000])


def _field_paths(root: ET.Element) -> dict[str, str]:
    """Every value of the document by its path (`Order/Scans/Scan[2]/@file`), bounded."""
    fields: dict[str, str] = {}

    def walk(element: ET.Element, path: str) -> None:
        text = (element.text or "").strip()
        if text:
            fields[path] = text[:_MAX_VALUE]
        for key, value in element.attrib.items():
            if len(fields) >= _MAX_FIELDS:
                return
            fields[f"{path}/@{local_name(str(key))}"] = str(value)[:_MAX_VALUE]
        seen: dict[str, int] = {}
        children = [c for c in element if isinstance(c.tag, str)]
        totals: dict[str, int] = {}
        for child in children:
            totals[local_name(child.tag)] = totals.get(local_name(child.tag), 0) + 1
        for child in children:
            if len(fields) >= _MAX_FIELDS:
                return
            tag = local_name(child.tag)
            seen[tag] = seen.get(tag, 0) + 1
            walk(child, f"{path}/{tag}[{seen[tag]}]" if totals[tag] > 1 else f"{path}/{tag}")

    walk(root, local_name(root.tag))
    return fields


def read_order_xml(
    data: bytes, mesh_basenames: list[str], *, source: str = "order.xml"
) -> OrderHints | None:
    """Hints from one XML file, or None if it is not well-formed XML."""
    try:
        root = parse_xml(data)
    except UnsafeXml:
        return None
    parents = {child: parent for parent in root.iter() for child in parent}
    hints = OrderHints(source=source)
    names = [b.lower() for b in mesh_basenames]
    people: dict[str, str] = {}
    times = _Times()
    texts: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        parent = parents.get(element)
        in_patient = bool(_PATIENT_ELEMENT.match(local_name(element.tag))) or (
            parent is not None and bool(_PATIENT_ELEMENT.match(local_name(parent.tag)))
        )
        tag = local_name(element.tag)
        for index, (key, value) in enumerate(_values(element)):
            texts.append(value)
            if value:
                _note_field(hints, people, key, value, in_patient)
                times.note(key, value)
                # <Export Date=...> and <Export><Date>...</Date></Export> time the export
                context = tag if index else (local_name(parent.tag) if parent is not None else "")
                times.note(context + key, value)
            for basename in names:
                if basename not in hints.arches and _names_file(value, basename):
                    arch = _arch_near(
                        element, parents, basename, [n for n in names if n != basename]
                    )
                    if arch:
                        hints.arches[basename] = arch
    if hints.patient_name is None and people:
        hints.patient_name = " ".join(people[k] for k in ("first", "last") if k in people)
    hints.captured_at = times.best()
    hints.fields = _field_paths(root)
    found = _structure_scanner(root) or scanner_from_text(" ".join(texts)[:1_000_000])
    if found:
        hints.scanner_type, hints.scanner_name = found
    return hints
