"""The Japanese catalogues are complete and well-formed.

- every msgid in the source (extracted as `make i18n-extract` does) has a Japanese translation in
  translations/ja/LC_MESSAGES/messages.po;
- every msgid that volunteers see (EASY_SOURCES) has a plain-Japanese one in easy.po;
- %(name)s placeholders survive translation;
- both catalogues compile.

When a test here fails after you added or changed a string: run `make i18n-extract`, translate the
msgids listed in the failure message in the .po file it names, then `make i18n`.
"""
from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

try:
    from babel.messages.frontend import parse_mapping_cfg
except ImportError:  # Babel < 2.14
    from babel.messages.frontend import parse_mapping as parse_mapping_cfg

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "translations" / "ja" / "LC_MESSAGES"
MESSAGES_PO = CATALOGS / "messages.po"
EASY_PO = CATALOGS / "easy.po"
# The same keywords as `pybabel extract -k _l -k lazy_gettext` (Makefile: i18n-extract).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# What volunteers see: these need やさしい日本語 in easy.po. Staff pages fall back to messages.po.
EASY_SOURCES = (
    "templates/base.html",
    "templates/volunteer_base.html",
    "templates/volunteers/*.html",
    "templates/sites/recruitment.html",
    "dvc/sites/labels.py",
    "dvc/volunteers/forms.py",
    "dvc/volunteers/labels.py",
    "dvc/volunteers/operations.py",
    "dvc/volunteers/views.py",
)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]")


def _method_map():
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(ROOT / "babel.cfg"))
    return method_map, options_map


def _method_for(relpath: str) -> str:
    return "jinja2" if relpath.endswith(".html") else "python"


def _key(message, context):
    """A (msgid, msgctxt) key: plural messages are keyed by their singular, as in a catalog."""
    return (message[0] if isinstance(message, (tuple, list)) else message), context


@pytest.fixture(scope="module")
def source_messages() -> dict[tuple[str, str | None], list[str]]:
    """Every message in the source, with where it is: {(msgid, context): ["path:line", ...]}."""
    method_map, options_map = _method_map()
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.setdefault(_key(message, context), []).append(f"{filename}:{lineno}")
    assert found, "extraction found no messages at all: is babel.cfg right?"
    return found


@pytest.fixture(scope="module")
def easy_messages() -> dict[tuple[str, str | None], list[str]]:
    """The messages in the volunteer-facing files (EASY_SOURCES)."""
    found: dict[tuple[str, str | None], list[str]] = {}
    for pattern in EASY_SOURCES:
        paths = sorted(ROOT.glob(pattern))
        assert paths, f"EASY_SOURCES entry {pattern!r} matches no file: update the list"
        for path in paths:
            rel = path.relative_to(ROOT).as_posix()
            for lineno, message, _comments, context in extract_from_file(
                    _method_for(rel), str(path), keywords=KEYWORDS):
                found.setdefault(_key(message, context), []).append(f"{rel}:{lineno}")
    return found


def _load(path: Path):
    assert path.exists(), f"{path.relative_to(ROOT)} is missing"
    with open(path, "rb") as f:
        return read_po(f, abort_invalid=True)


@pytest.fixture(scope="module")
def messages_catalog():
    return _load(MESSAGES_PO)


@pytest.fixture(scope="module")
def easy_catalog():
    return _load(EASY_PO)


def _translated(message) -> bool:
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, (tuple, list)) else [message.string]
    return all(s and s.strip() for s in strings)


def _untranslated(catalog, wanted: dict) -> list[str]:
    lines = []
    for (msgid, context), where in sorted(wanted.items()):
        if not _translated(catalog.get(msgid, context)):
            ctx = f" (msgctxt {context!r})" if context else ""
            lines.append(f"  msgid {msgid!r}{ctx}  # {', '.join(where[:3])}")
    return lines


def test_every_source_message_has_a_japanese_translation(source_messages, messages_catalog):
    missing = _untranslated(messages_catalog, source_messages)
    assert not missing, (
        f"{len(missing)} msgid(s) have no (or only a fuzzy) Japanese translation in "
        f"translations/ja/LC_MESSAGES/messages.po. Run `make i18n-extract`, translate these, "
        f"then `make i18n`:\n" + "\n".join(missing))


def test_every_volunteer_message_has_plain_japanese(easy_messages, easy_catalog):
    assert easy_messages, "no messages found in EASY_SOURCES"
    missing = _untranslated(easy_catalog, easy_messages)
    assert not missing, (
        f"{len(missing)} volunteer-facing msgid(s) have no やさしい日本語 in "
        f"translations/ja/LC_MESSAGES/easy.po. Add an entry for each (short sentences, simple "
        f"words, furigana for hard kanji, e.g. 登録（とうろく）):\n" + "\n".join(missing))


def _placeholder_problems(catalog, name: str) -> list[str]:
    problems = []
    for message in catalog:
        if not message.id or not _translated(message):
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else [message.id]
        strings = message.string if isinstance(message.string, (tuple, list)) else [message.string]
        wanted = set(PLACEHOLDER.findall(ids[0]))
        stray_in_id = "%" in PLACEHOLDER.sub("", ids[0]).replace("%%", "")
        for string in strings:
            got = set(PLACEHOLDER.findall(string))
            if got != wanted:
                problems.append(f"  {name}: msgid {ids[0]!r} has {sorted(wanted)}, "
                                f"msgstr {string!r} has {sorted(got)}")
            # Templates format every translation with %, so a lone % would break the page.
            if not stray_in_id and "%" in PLACEHOLDER.sub("", string).replace("%%", ""):
                problems.append(f"  {name}: msgstr {string!r} has a stray '%' (write %% or "
                                f"avoid it)")
    return problems


def test_placeholders_match(messages_catalog, easy_catalog):
    problems = (_placeholder_problems(messages_catalog, "messages.po")
                + _placeholder_problems(easy_catalog, "easy.po"))
    assert not problems, "placeholders differ between msgid and msgstr:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", [MESSAGES_PO, EASY_PO], ids=lambda p: p.name)
def test_catalog_compiles(path):
    catalog = _load(path)
    assert str(catalog.locale) == "ja"
    errors = [f"  {message.id!r}: {'; '.join(map(str, errs))}"
              for message, errs in catalog.check()]
    assert not errors, f"{path.name} has invalid entries:\n" + "\n".join(errors)

    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    compiled = gettext.GNUTranslations(buffer)
    translated = [m for m in catalog if m.id and _translated(m)]
    assert translated, f"{path.name} has no translations"
    for message in translated:
        if isinstance(message.id, str) and not message.context:
            assert compiled.gettext(message.id) == message.string, message.id
