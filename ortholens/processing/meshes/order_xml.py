"""Scanner order/metadata XML inside a bundle (iTero and others): which file is which jaw, and who
and when. Vendors differ and change their schemas, so this looks for jaw words close to where a
mesh file is named (the attribute naming it, its element, then enclosing elements that name no
other mesh), never in the file name itself."""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime

from ortholens.processing.meshes.scanner_text import (
    arch_from_text,
    parse_datetime,
    scanner_from_text,
)
from ortholens.processing.meshes.types import ArchType, ScannerType
from ortholens.processing.meshes.xmlsafe import UnsafeXml, local_name, parse_xml

_CLIMB = 3  # enclosing levels searched for a jaw word


@dataclass
class OrderHints:
    arches: dict[str, ArchType] = field(default_factory=dict)  # lower-cased mesh basename -> jaw
    scanner_type: ScannerType | None = None
    scanner_name: str | None = None
    patient_name: str | None = None
    patient_ref: str | None = None
    order_ref: str | None = None
    captured_at: datetime | None = None


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


_PATIENT_NAME = re.compile(r"^patient_?name$|^patient$", re.I)
_FIRST, _LAST = (
    re.compile(r"^(patient_?)?first_?name$", re.I),
    re.compile(r"^(patient_?)?last_?name$", re.I),
)
_PATIENT_REF = re.compile(r"^patient_?(id|ref|number|no)$|^chart_?(number|no|id)?$", re.I)
_ORDER = re.compile(r"^(order|rx|case)_?(id|number|no|ref)?$", re.I)
_DATE = re.compile(r"(scan|capture|acquisition|creation|order)_?(date|time)|^date$", re.I)


def _note_field(hints: OrderHints, people: dict[str, str], key: str, value: str) -> None:
    if _PATIENT_NAME.match(key):
        hints.patient_name = value
    elif _FIRST.match(key):
        people["first"] = value
    elif _LAST.match(key):
        people["last"] = value
    elif _PATIENT_REF.match(key):
        hints.patient_ref = value
    elif _ORDER.match(key):
        hints.order_ref = value
    elif _DATE.search(key):
        hints.captured_at = hints.captured_at or parse_datetime(value)


def read_order_xml(data: bytes, mesh_basenames: list[str]) -> OrderHints | None:
    """Hints from one XML file, or None if it is not well-formed XML."""
    try:
        root = parse_xml(data)
    except UnsafeXml:
        return None
    parents = {child: parent for parent in root.iter() for child in parent}
    hints = OrderHints()
    names = [b.lower() for b in mesh_basenames]
    people: dict[str, str] = {}
    texts: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for key, value in _values(element):
            texts.append(value)
            if value:
                _note_field(hints, people, key, value)
            for basename in names:
                if basename not in hints.arches and _names_file(value, basename):
                    arch = _arch_near(
                        element, parents, basename, [n for n in names if n != basename]
                    )
                    if arch:
                        hints.arches[basename] = arch
    if hints.patient_name is None and people:
        hints.patient_name = " ".join(people[k] for k in ("first", "last") if k in people)
    found = scanner_from_text(" ".join(texts)[:1_000_000])
    if found:
        hints.scanner_type, hints.scanner_name = found
    return hints
