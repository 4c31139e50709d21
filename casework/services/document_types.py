"""What kind of file a document is, from its bytes alone (never its name or what the browser says),
and a file name made safe to show and to send back. Pure functions: no Flask, no database.

Our own table of signatures rather than a library (`puremagic`, `filetype`, libmagic): we accept
six kinds, and the hard case, telling an ODT from a DOCX from any other zip, needs a look inside
the zip, which those libraries do not do or do by file name. A signature library would add a
dependency that knows hundreds of kinds we refuse anyway.

- PDF: `%PDF-` at the start.
- PNG: its 8-byte signature; JPEG: `FF D8 FF`.
- ODT: a zip whose first member is `mimetype`, stored uncompressed, holding exactly
  `application/vnd.oasis.opendocument.text` (ODF 1.2 part 3, section 3.3), with `content.xml`.
- DOCX: a zip with `[Content_Types].xml` naming the WordprocessingML main document part and
  holding that part (ECMA-376 part 2). A zip of another kind (a spreadsheet, an archive) is refused.
- Plain text: valid UTF-8 (a BOM allowed) with no control characters but tab, line feed,
  carriage return and form feed.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO

ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
MAX_ZIP_MEMBER_READ = 1 << 20  # the manifest parts we read are small; a bigger one is not a document


@dataclass(frozen=True)
class Kind:
    media_type: str
    label: str
    extension: str


KINDS = {k.media_type: k for k in (
    Kind("application/pdf", "PDF", "pdf"),
    Kind(ODT, "OpenDocument text", "odt"),
    Kind(DOCX, "Word document", "docx"),
    Kind("text/plain", "Plain text", "txt"),
    Kind("image/jpeg", "JPEG image", "jpg"),
    Kind("image/png", "PNG image", "png"),
)}
ACCEPTED = "a PDF, an OpenDocument text (ODT) or Word (DOCX) document, a plain text file, or a JPEG or PNG image"


class UnacceptedType(Exception):
    """The file is not one of the kinds a document may be; the message says what it looks like."""


def sniff(stream: IO[bytes]) -> Kind:
    """The kind of the file in `stream` (seekable; read from its start), or UnacceptedType."""
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"%PDF-"):
        return KINDS["application/pdf"]
    if head == b"\x89PNG\r\n\x1a\n":
        return KINDS["image/png"]
    if head.startswith(b"\xff\xd8\xff"):
        return KINDS["image/jpeg"]
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(stream)
    if _is_plain_text(stream):
        return KINDS["text/plain"]
    raise UnacceptedType(f"The selected file is not a kind of document Casework keeps: it must be {ACCEPTED}")


def _zip_kind(stream: IO[bytes]) -> Kind:
    try:
        with zipfile.ZipFile(stream) as z:
            members = z.infolist()
            names = {m.filename for m in members}
            first = members[0] if members else None
            if (first is not None and first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
                    and first.file_size < 200 and z.read(first).strip() == ODT.encode() and "content.xml" in names):
                return KINDS[ODT]
            if "[Content_Types].xml" in names:
                info = z.getinfo("[Content_Types].xml")
                if info.file_size <= MAX_ZIP_MEMBER_READ:
                    types = z.read(info).decode("utf-8", "replace")
                    part = re.search(r'PartName="/?([^"]+)"\s+ContentType="' + re.escape(DOCX_MAIN) + '"', types)
                    if part and part.group(1) in names:
                        return KINDS[DOCX]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, ValueError, NotImplementedError):
        raise UnacceptedType("The selected file looks like a zip file but is damaged or incomplete: "
                             "save it again and choose it again") from None
    finally:
        stream.seek(0)
    raise UnacceptedType("The selected file is a zip file but not an OpenDocument text (ODT) or Word (DOCX) "
                         f"document: it must be {ACCEPTED}")


_TEXT_CONTROLS = {"\t", "\n", "\r", "\f"}


def _is_plain_text(stream: IO[bytes]) -> bool:
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        while chunk := stream.read(64 * 1024):
            text = decoder.decode(chunk)
            if any(unicodedata.category(c) == "Cc" and c not in _TEXT_CONTROLS for c in set(text)):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)
    return True


# --- file names -------------------------------------------------------------------------------

MAX_FILENAME = 120
_UNSAFE = re.compile(r'["\'`<>|:*?;\\/]')


def clean_filename(name: str | None, kind: Kind) -> str:
    """A file name safe to show and to send in a header: no folders (either slash), no control or
    format characters (line breaks, bidirectional overrides), no quotes or characters a file system
    refuses, at most `MAX_FILENAME` characters, and the extension of the kind the content is (a
    file named .pdf that is a PNG downloads as .png). Never empty."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c)[0] not in ("C", "Z") or c == " ")
    name = _UNSAFE.sub("", name).strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"\s+", " ", stem).strip(" .")[:MAX_FILENAME - len(kind.extension) - 1].strip(" .")
    return f"{stem or 'document'}.{kind.extension}"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the UTF-8 name (RFC 6266, RFC 8187 `filename*`)."""
    from urllib.parse import quote

    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9 ._()+,-]", "", ascii_name).strip() or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def size_text(size: int) -> str:
    """A size as people read it: 512 bytes, 34 KB, 2.4 MB."""
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{round(size / 1000)} KB"
    return f"{size / 1_000_000:.1f}".removesuffix(".0") + " MB"
