"""Parsing XML from scanner files with the standard library. No DTD is legitimate in these files,
so any DOCTYPE/ENTITY declaration is refused up front: that rules out entity expansion (billion
laughs) and external entities, the attacks defusedxml exists for, without another dependency."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)  # any declaration is refused


class UnsafeXml(ValueError):
    """The document declares a DTD or is not well-formed."""


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_DECLARED_ENCODING = re.compile(rb"^(<\?xml[^>]*?encoding=)([\"'])[^\"']*\2")


def utf8_xml(data: bytes) -> bytes:
    """UTF-16 XML (as some Windows scanner software writes it) re-encoded as UTF-8, so the DTD
    check and the sniffer see its characters; any other bytes as they are."""
    if not data.startswith(_UTF16_BOMS):
        return data
    even = data[: len(data) // 2 * 2]  # a sniffer's head may end inside a character
    text = even.decode("utf-16", errors="replace").encode("utf-8")
    return _DECLARED_ENCODING.sub(rb"\1\2utf-8\2", text, count=1)


def parse_xml(data: bytes) -> ET.Element:
    data = utf8_xml(data)
    if DTD.search(data):
        raise UnsafeXml("XML declares a DTD")
    try:
        return ET.fromstring(data)  # noqa: S314  (DTDs refused above)
    except ET.ParseError as error:
        raise UnsafeXml(str(error)) from error


def local_name(tag: str) -> str:
    """`{namespace}name` -> `name`."""
    return tag.rsplit("}", 1)[-1]
