"""The pure parts of documents: the kind of a file from its bytes (ODT, DOCX and other zips told
apart), file names made safe, the download's Content-Disposition, and the encrypted upload spool."""

from __future__ import annotations

import io
import os
import uuid
import zipfile

import pytest

from casework import crypto
from casework.services.document_types import (
    DOCX,
    DOCX_MAIN,
    KINDS,
    ODT,
    UnacceptedType,
    clean_filename,
    content_disposition,
    sniff,
)


def _zip(members: list[tuple[str, bytes, int]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data, method in members:
            z.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return out.getvalue()


STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
TYPES = (b'<?xml version="1.0"?><Types><Override PartName="/word/document.xml" ContentType="'
         + DOCX_MAIN.encode() + b'"/></Types>')


@pytest.mark.parametrize(("data", "expected"), [
    (b"%PDF-1.4\n...", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n" + bytes(20), "image/png"),
    (b"\xff\xd8\xff\xe0" + bytes(20), "image/jpeg"),
    (_zip([("mimetype", ODT.encode(), STORED), ("content.xml", b"<x/>", DEFLATED)]), ODT),
    (_zip([("[Content_Types].xml", TYPES, DEFLATED), ("word/document.xml", b"<w/>", DEFLATED)]), DOCX),
    ("Notes of the visit, Siân O'Connor-Núñez\r\n\tpage 2\f".encode(), "text/plain"),
    (b"\xef\xbb\xbfWith a byte order mark\n", "text/plain"),
    # refused
    (_zip([("mimetype", ODT.encode(), DEFLATED), ("content.xml", b"<x/>", DEFLATED)]), None),  # compressed
    (_zip([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet", STORED),
           ("content.xml", b"<x/>", DEFLATED)]), None),  # an ODS
    (_zip([("[Content_Types].xml", TYPES.replace(b"word/document", b"xl/workbook").replace(
        b"wordprocessingml.document", b"spreadsheetml.sheet"), DEFLATED),
           ("xl/workbook.xml", b"<w/>", DEFLATED)]), None),  # an XLSX
    (_zip([("[Content_Types].xml", TYPES, DEFLATED)]), None),  # the main part missing
    (_zip([("readme.txt", b"hello", DEFLATED)]), None),
    (b"PK\x03\x04 broken", None),
    (b"MZ\x90\x00\x03", None),
    (b"GIF89a\x01\x00\x01\x00\x80\x00\x00", None),
    (b"text with a NUL\x00", None),
    (b"latin-1 caf\xe9", None),
    (b"escape \x1b[31m", None),
])
def test_the_kind_comes_from_the_bytes(data, expected):
    if expected is None:
        with pytest.raises(UnacceptedType, match="selected file"):
            sniff(io.BytesIO(data))
    else:
        assert sniff(io.BytesIO(data)).media_type == expected


@pytest.mark.parametrize(("name", "kind", "expected"), [
    ("../../etc/passwd", "text/plain", "passwd.txt"),
    ("C:\\Users\\Ada\\Statement.PDF", "application/pdf", "Statement.pdf"),
    ("photo.pdf", "image/png", "photo.png"),  # the content's kind wins over the name's
    ('a"b\r\nSet-Cookie: x=1;y.pdf', "application/pdf", "abSet-Cookie x=1y.pdf"),
    ("évidence\u202egnp.exe.jpg", "image/jpeg", "évidencegnp.exe.jpg"),  # no bidirectional override
    ("  ...  ", "text/plain", "document.txt"),
    (None, "application/pdf", "document.pdf"),
    ("x" * 300 + ".pdf", "application/pdf", "x" * 116 + ".pdf"),
])
def test_a_file_name_is_cleaned_and_given_the_contents_extension(name, kind, expected):
    assert clean_filename(name, KINDS[kind]) == expected


def test_content_disposition_is_an_attachment_with_an_ascii_fallback_and_the_utf8_name():
    assert content_disposition("Siân's statement.pdf") == (
        "attachment; filename=\"Sians statement.pdf\"; filename*=UTF-8''Si%C3%A2n%27s%20statement.pdf")
    header = content_disposition("a\r\nb;c=d\".txt")
    assert "\r" not in header and "\n" not in header


def test_sealed_chunks_read_back_only_in_place():
    key, doc, record = crypto.new_document_key(), uuid.uuid4(), uuid.uuid4()
    sealer = crypto.DocumentSealer(key, document_id=doc, record_kind="case", record_id=record)
    data = os.urandom(crypto.DOCUMENT_CHUNK * 2)  # exactly two chunks: the second is the last
    chunks = list(sealer.chunks(io.BytesIO(data)))
    assert [i for i, _ in chunks] == [0, 1]
    assert sealer.open(0, chunks[0][1], final=False) + sealer.open(1, chunks[1][1], final=True) == data
    with pytest.raises(crypto.DecryptionError):
        sealer.open(0, chunks[0][1], final=True)  # the first sealed as not the last
    with pytest.raises(crypto.DecryptionError):
        crypto.DocumentSealer(key, document_id=doc, record_kind="person", record_id=record).open(
            1, chunks[1][1], final=True)  # another record kind
    assert [len(c) for _, c in crypto.DocumentSealer(key, document_id=doc, record_kind="case",
                                                     record_id=record).chunks(io.BytesIO(b""))] == [29]


def test_the_upload_spool_holds_no_plaintext_and_reads_anywhere(tmp_path):
    data = (b"Spool canary Quillon-Ravensworth " * 5000)[:150_001]
    with crypto.EphemeralSpool(str(tmp_path)) as spool:
        for i in range(0, len(data), 7000):
            spool.write(data[i:i + 7000])
        spool._file.flush()
        raw = spool._file
        raw.seek(0)
        assert b"Quillon" not in raw.read()
        assert spool.size == len(data)
        spool.seek(0)
        assert spool.read() == data
        spool.seek(-10, 2)
        assert spool.read(100) == data[-10:]
        spool.seek(65_530)
        assert spool.read(20) == data[65_530:65_550]  # across a chunk boundary
        spool.seek(0)
        with zipfile.ZipFile(io.BytesIO(_zip([("a", b"b", STORED)]))):  # (a zip reads from a spool too)
            pass
