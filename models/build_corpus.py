#!/usr/bin/env python3
"""Build the multilingual tokenizer parity corpus: tests/data/tokenizer/corpus.jsonl.

The corpus is real text that nobody on this project wrote, taken from files that Debian packages ship:
  * translated gettext catalogues (.mo) under /usr/share/locale/*/LC_MESSAGES/ (see DOMAINS below),
  * Unicode's own data and test files from the `unicode-data` package (NormalizationTest, WordBreakTest,
    emoji ZWJ / test sequences, Unihan definitions),
plus a short list of hand-picked edge cases (EDGE_CASES) that exercise each step of the BERT normalizer.

It is reproducible: the selection is a pure function of the package contents (hash-ordered, no randomness).
Run with --install to apt-get the source packages first. The packages and versions used, and a count of the
Unicode scripts covered, are written to tests/data/tokenizer/corpus_sources.txt.

Each corpus line is a JSON object {"src": "<where it came from>", "text": "<the text>"}; the text may hold any
character (newlines, U+0000, ...), JSON escaping keeps it on one line.

    python3 models/build_corpus.py [--install] [--out tests/data/tokenizer]
"""
from __future__ import annotations

import argparse
import bz2
import collections
import hashlib
import json
import pathlib
import struct
import subprocess
import sys
import unicodedata

LOCALE_DIR = pathlib.Path("/usr/share/locale")
UNICODE_DIR = pathlib.Path("/usr/share/unicode")

# gettext domain -> Debian package that ships it (checked with dpkg -S when the corpus is built).
DOMAINS = {
    "glib20": "libglib2.0-data",
    "gtk20": "libgtk2.0-common",
    "coreutils": "coreutils",
    "Linux-PAM": "libpam-runtime",
    "gdk-pixbuf": "libgdk-pixbuf2.0-common",
    "at-spi2-core": "at-spi2-common",
    "shared-mime-info": "shared-mime-info",
    "xdg-user-dirs": "xdg-user-dirs",
    "iso_3166-1": "iso-codes",
    "iso_639-3": "iso-codes",
}
PACKAGES = sorted(set(DOMAINS.values()) | {"unicode-data"})

PER_LOCALE = 12          # catalogue lines taken from each locale directory
MIN_PER_SCRIPT = 24      # top up scripts with fewer lines than this from their locales
MIN_CHARS, MAX_CHARS = 6, 200
ENGLISH_SOURCES = 120    # untranslated msgids (English) taken as well


def stable_key(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


# ---- Unicode scripts --------------------------------------------------------------------------------------
def load_scripts() -> list[str]:
    """Code point -> Unicode script name, from Scripts.txt."""
    table = ["Unknown"] * 0x110000
    for raw in (UNICODE_DIR / "Scripts.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        cps, script = (x.strip() for x in line.split(";"))
        lo, _, hi = cps.partition("..")
        for cp in range(int(lo, 16), int(hi or lo, 16) + 1):
            table[cp] = script
    return table


NEUTRAL_SCRIPTS = {"Common", "Inherited", "Unknown"}


def dominant_script(text: str, scripts: list[str]) -> str:
    counts = collections.Counter(scripts[ord(c)] for c in text)
    for neutral in NEUTRAL_SCRIPTS:
        counts.pop(neutral, None)
    return counts.most_common(1)[0][0] if counts else "Common"


# ---- gettext catalogues -----------------------------------------------------------------------------------
def read_mo(path: pathlib.Path) -> list[tuple[str, str]]:
    """(msgid, msgstr) pairs of a .mo file, decoded with the catalogue's declared charset.

    Plural forms are split on NUL and each form kept; the header entry (empty msgid) is skipped."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic == 0x950412DE else ">"
    if struct.unpack(endian + "I", data[:4])[0] != 0x950412DE:
        raise ValueError(f"{path}: not a .mo file")
    count, orig_at, trans_at = struct.unpack(endian + "3I", data[8:20])

    def entry(table_at: int, i: int) -> bytes:
        length, offset = struct.unpack(endian + "2I", data[table_at + 8 * i: table_at + 8 * i + 8])
        return data[offset: offset + length]

    raw = [(entry(orig_at, i), entry(trans_at, i)) for i in range(count)]
    charset = "utf-8"
    for msgid, msgstr in raw:
        if msgid == b"":
            for header in msgstr.decode("ascii", "replace").splitlines():
                if header.lower().startswith("content-type:") and "charset=" in header:
                    charset = header.split("charset=", 1)[1].strip() or "utf-8"
    pairs = []
    for msgid, msgstr in raw:
        if msgid == b"":
            continue
        try:
            ids = msgid.split(b"\x00")
            strs = msgstr.split(b"\x00")
            source = ids[0].split(b"\x04")[-1].decode(charset)  # drop msgctxt
            for translated in strs:
                pairs.append((source, translated.decode(charset)))
        except (UnicodeDecodeError, LookupError):
            continue
    return pairs


def usable(text: str) -> bool:
    if not (MIN_CHARS <= len(text) <= MAX_CHARS):
        return False
    letters = sum(1 for c in text if unicodedata.category(c).startswith("L"))
    return letters >= 3


def catalogue_lines(scripts: list[str]) -> tuple[list[dict], set[str]]:
    by_locale: dict[str, list[tuple[str, str, str]]] = collections.defaultdict(list)  # locale -> (key, src, text)
    english: dict[str, str] = {}
    used_files = set()
    for locale_path in sorted(p for p in LOCALE_DIR.iterdir() if p.is_dir()):
        locale = locale_path.name
        if locale.startswith("en"):
            continue
        for domain in DOMAINS:
            mo = locale_path / "LC_MESSAGES" / f"{domain}.mo"
            if not mo.exists():
                continue
            try:
                pairs = read_mo(mo)
            except (ValueError, struct.error):
                continue
            used_files.add(str(mo))
            seen = set()
            for source, translated in pairs:
                if translated == source or translated in seen or not usable(translated):
                    continue
                seen.add(translated)
                by_locale[locale].append((stable_key(locale, domain, source, translated),
                                          f"{domain}.mo/{locale}", translated))
                if usable(source):
                    english.setdefault(source, f"{domain}.mo/msgid")

    chosen: list[dict] = []
    leftovers: dict[str, list[tuple[str, str, str]]] = collections.defaultdict(list)  # script -> candidates
    for locale in sorted(by_locale):
        candidates = sorted(by_locale[locale])
        for key, src, text in candidates[:PER_LOCALE]:
            chosen.append({"src": src, "text": text, "_script": dominant_script(text, scripts)})
        for key, src, text in candidates[PER_LOCALE:]:
            leftovers[dominant_script(text, scripts)].append((key, src, text))

    per_script = collections.Counter(line["_script"] for line in chosen)
    for script, candidates in sorted(leftovers.items()):
        missing = MIN_PER_SCRIPT - per_script[script]
        for key, src, text in sorted(candidates)[:max(0, missing)]:
            chosen.append({"src": src, "text": text, "_script": script})

    for source in sorted(english, key=lambda s: stable_key("en", s))[:ENGLISH_SOURCES]:
        chosen.append({"src": english[source], "text": source, "_script": dominant_script(source, scripts)})
    return chosen, used_files


# ---- Unicode data files -----------------------------------------------------------------------------------
def code_points(field: str) -> str:
    return "".join(chr(int(cp, 16)) for cp in field.split())


def pick(items: list, n: int, salt: str) -> list:
    return sorted(items, key=lambda item: stable_key(salt, repr(item)))[:n]


def unicode_lines() -> list[dict]:
    lines = []
    # NormalizationTest: column 1 (source) of each test; combining sequences, Hangul, compatibility forms.
    with bz2.open(UNICODE_DIR / "NormalizationTest.txt.bz2", "rt", encoding="utf-8") as f:
        tests = [row.split(";")[0] for row in f if row[:1] not in ("#", "@") and ";" in row]
    for field in pick(tests, 120, "NormalizationTest"):
        lines.append({"src": "unicode-data/NormalizationTest.txt", "text": code_points(field)})
    # WordBreakTest: strings built from break-property classes (controls, ZWJ, extenders, ...).
    tests = []
    for row in (UNICODE_DIR / "auxiliary" / "WordBreakTest.txt").read_text(encoding="utf-8").splitlines():
        row = row.split("#", 1)[0].strip()
        if row:
            tests.append(row.replace("÷", " ").replace("×", " "))
    for field in pick(tests, 80, "WordBreakTest"):
        lines.append({"src": "unicode-data/WordBreakTest.txt", "text": code_points(field)})
    # Emoji: ZWJ sequences and fully-qualified test sequences with their names, as they appear in text.
    zwj = []
    for row in (UNICODE_DIR / "emoji" / "emoji-zwj-sequences.txt").read_text(encoding="utf-8").splitlines():
        if row and not row.startswith("#"):
            cps, _, rest = row.partition(";")
            name = rest.split(";", 1)[-1].split("#", 1)[0].strip()
            zwj.append((cps, name))
    for cps, name in pick(zwj, 40, "emoji-zwj"):
        lines.append({"src": "unicode-data/emoji-zwj-sequences.txt", "text": f"{code_points(cps)} {name}"})
    test = []
    for row in (UNICODE_DIR / "emoji" / "emoji-test.txt").read_text(encoding="utf-8").splitlines():
        if "; fully-qualified" in row:
            test.append(row.split("#", 1)[1].strip())  # "<emoji> E1.0 name"
    for text in pick(test, 40, "emoji-test"):
        lines.append({"src": "unicode-data/emoji-test.txt", "text": text})
    # Unihan definitions: CJK Extension A/B/... ideographs followed by English glosses.
    with bz2.open(UNICODE_DIR / "Unihan_Readings.txt.bz2", "rt", encoding="utf-8") as f:
        defs = []
        for row in f:
            parts = row.rstrip("\n").split("\t")
            if len(parts) == 3 and parts[1] == "kDefinition":
                cp = int(parts[0][2:], 16)
                if cp >= 0x3400 and not 0x4E00 <= cp <= 0x9FFF:
                    defs.append((cp, parts[2]))
    for cp, definition in pick(defs, 40, "Unihan"):
        lines.append({"src": "unicode-data/Unihan_Readings.txt", "text": f"{chr(cp)}: {definition}"})
    return lines


# ---- Hand-picked edge cases --------------------------------------------------------------------------------
EDGE_CASES = [
    ("empty", ""),
    ("spaces only", "   "),
    ("control only", "\x00\x01\x7f"),
    ("ascii", "Hello, world!"),
    ("controls", "a\x01b\x02c\x7fd\x1be"),
    ("nul", "\x00nul\x00inside\x00"),
    ("replacement char", "\ufffdreplacement\ufffd char"),
    ("tab newline cr", "tab\there\nnew line\r\ncrlf"),
    ("vt ff nel", "vt\x0bff\x0cnel\x85end"),
    ("line/para separators", "line\u2028separator\u2029paragraph"),
    ("nbsp and friends", "no\u00a0break\u2003em\u2009thin\u202fnarrow\u3000ideographic\u1680ogham"),
    ("zero width", "zero\u200bwidth\u200cnon\u200djoiner\u2060word\u2061joiner"),
    ("bom and marks", "\ufeffBOM\u200eltr\u200frtl\u202aembed\u202c"),
    ("soft hyphen", "soft\u00adhyphen\u00adated"),
    ("combining acute", "cafe\u0301 vs caf\u00e9"),
    ("stacked combining", "e\u0301\u0302\u0303\u0304 a\u0308\u0301"),
    ("leading combining", "\u0301start \u0308"),
    ("angstrom", "\u00c5ngstr\u00f6m \u212b K\u212a \u2126hm"),
    ("dotted capital i", "\u0130stanbul \u0130\u0130\u0130 D\u0130YARBAKIR"),
    ("dotless i", "\u0131\u015f\u0131k I\u0131 i\u0130"),
    ("final sigma", "\u039f\u0394\u039f\u03a3 \u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3 \u03a3"),
    ("final sigma punct", "\u0391\u03a3. \u0391\u03a3'\u0392 \u03a3\u0391\u03a3\u03a3 \u039f\u03a3\u0301"),
    ("sharp s", "STRASSE Stra\u00dfe \u1e9e GROSS"),
    ("titlecase digraphs", "\u01c5 \u01c8 \u01cb \u01f2 \u01c4\u01c6"),
    ("ligatures", "\ufb01le \ufb00 \ufb03 \u0132"),
    ("cherokee", "\u13a0\u13a1\u13a2 \uab70\uab71"),
    ("georgian mtavruli", "\u1c92\u1c94\u1ca0 \u10e1\u10d0\u10e5\u10d0\u10e0\u10d7\u10d5\u10d4\u10da\u10dd"),
    ("armenian ligature", "\u0587 \u0535\u0582 \ufb13"),
    ("vietnamese", "Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u: \u0110\u1ed3ng"),
    ("devanagari marks", "\u0939\u093f\u0928\u094d\u0926\u0940 \u0915\u094d\u0937 \u0905\u0902"),
    ("hangul nfd", "\ud55c\uad6d\uc5b4 \u1112\u1161\u11ab"),
    ("kana", "\u30ab\u30bf\u30ab\u30ca\u3072\u3089\u304c\u306a \uff76\uff80\uff76\uff85 \u30fc"),
    ("thai", "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22\u0e44\u0e21\u0e48\u0e21\u0e35\u0e0a\u0e48\u0e2d\u0e07\u0e27\u0e48\u0e32\u0e07"),
    ("mixed cjk", "Hello\u4e16\u754cfoo\u4f60\u597d123"),
    ("cjk ext a b", "\u3400\u4db5 \U00020000\U00020001\U0002a6d6 \U0002a700 \U0002b740 \U0002b820 \U0002ceaf"),
    ("cjk compat", "\uf900\ufa6d \U0002f800\U0002fa1d \u3007 \U00030000"),
    ("cjk punctuation", "\u3001\u3002\u300c\u300d\u3010\u3011\u3014\u3015\uff01\uff1f"),
    ("fullwidth", "\uff21\uff22\uff23\uff11\uff12\uff13\uff01\uff1f\uff08\uff09\uff3b\uff3d"),
    ("math alphanumerics", "\U0001d400\U0001d401\U0001d402 \U0001d7ce\U0001d7cf"),
    ("emoji", "\U0001f44d \U0001f44d\U0001f3fd \U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea 1\ufe0f\u20e3"),
    ("emoji zwj", "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 family \U0001f3f3\ufe0f\u200d\U0001f308"),
    ("long word 100", "a" * 100),
    ("long word 101", "a" * 101),
    ("long word mixed", "x" + "supercalifragilisticexpialidocious" * 4 + " end"),
    ("long word accents", "a" * 99 + "\u00e9 " + "\u00e9" * 101),
    ("long dotted i", "\u0130" * 60),
    ("long with punct", "b" * 120 + "!" + "c" * 50),
    ("ascii punctuation", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    ("repeated punctuation", "!!!???... ,,,;;; --- ___"),
    ("unicode quotes", "\u201cquoted\u201d \u00abguillemets\u00bb \u2039single\u203a \u201elow\u201c"),
    ("spanish", "\u00bfQu\u00e9? \u00a1Hola! \u00bfC\u00f3mo est\u00e1s?"),
    ("currency symbols", "$100 = \u20ac90 + \u00a35 \u00a5 \u20b9 \u00a2"),
    ("math symbols", "\u2211 x\u00b2 \u2264 \u221e \u00b1 \u00d7 \u00f7 \u2248"),
    ("dashes", "a\u2010b\u2011c\u2012d\u2013e\u2014f\u2015g"),
    ("url email", "http://example.com/path?x=1&y=2#frag user@example.org c++ c#"),
    ("arabic punctuation", "\u0645\u0631\u062d\u0628\u0627\u060c \u0643\u064a\u0641\u061f \u061b \u0661\u0662\u0663"),
    ("hebrew niqqud", "\u05e9\u05b8\u05c1\u05dc\u05d5\u05b9\u05dd \u05e2\u05d5\u05dc\u05dd"),
    ("mixed direction", "\u05e9\u05dc\u05d5\u05dd world \u0645\u0631\u062d\u0628\u0627 123"),
    ("danda", "\u0928\u092e\u0938\u094d\u0924\u0947\u0964 \u0965"),
    ("superscripts", "x\u00b2 \u00bd \u2460 \u2168 \u00aa\u00ba"),
    ("special tokens", "[CLS] text [SEP] more [MASK] and [UNK] [PAD]"),
    ("special tokens glued", "x[SEP]y[MASK]z [mask] [Sep]"),
    ("apostrophes", "don't won\u2019t it's O'Neil's"),
    ("numbers", "3.14159 1,000,000 2024-01-31 10:30"),
    ("many spaces", "  leading and   inner    trailing  "),
    ("private use", "\ue000\uf8ff \U000f0000 text"),
    ("noncharacters", "a\ufdd0b\uffffc"),
    ("variation selectors", "\u2764\ufe0f \u845b\U000e0100 text\ufe0e"),
    ("tags", "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f flag"),
]


def edge_lines() -> list[dict]:
    return [{"src": f"edge:{name}", "text": text} for name, text in EDGE_CASES]


def json_line(obj: dict) -> str:
    """Readable UTF-8 JSON, with the characters some tools treat as line breaks (U+0085, U+2028, U+2029)
    and DEL escaped so that every record stays on one line everywhere."""
    text = json.dumps(obj, ensure_ascii=False)
    for c in "\x7f\x85\u2028\u2029":
        text = text.replace(c, f"\\u{ord(c):04x}")
    return text


# ---- main -------------------------------------------------------------------------------------------------
def install_packages() -> None:
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES], check=True)


def package_versions() -> dict[str, str]:
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\n", *PACKAGES],
                         capture_output=True, text=True)
    return dict(line.split("\t") for line in out.stdout.splitlines() if "\t" in line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--install", action="store_true", help="apt-get install the source packages first")
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent.parent /
                                             "tests" / "data" / "tokenizer"))
    args = parser.parse_args()
    if args.install:
        install_packages()
    versions = package_versions()
    missing = [p for p in PACKAGES if p not in versions]
    if missing:
        print(f"missing Debian packages {missing}; rerun with --install", file=sys.stderr)
        return 1

    scripts = load_scripts()
    catalogue, used_files = catalogue_lines(scripts)
    lines = catalogue + unicode_lines() + edge_lines()
    for line in lines:
        line.pop("_script", None)

    # Scripts counted per line: a script is covered by a line when any character of the line belongs to it.
    lines_per_script = collections.Counter()
    for line in lines:
        for script in {scripts[ord(c)] for c in line["text"]} - NEUTRAL_SCRIPTS:
            lines_per_script[script] += 1
    covered = {s: n for s, n in lines_per_script.items() if n >= 5}

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(json_line(line) + "\n")
    with open(out / "corpus_sources.txt", "w", encoding="utf-8") as f:
        f.write("# Written by models/build_corpus.py; do not edit.\n")
        f.write(f"lines: {len(lines)} (catalogues {len(catalogue)}, edge cases {len(EDGE_CASES)})\n")
        f.write(f"catalogue files read: {len(used_files)}\n")
        f.write("debian packages:\n")
        for package in PACKAGES:
            f.write(f"  {package} {versions[package]}\n")
        f.write(f"scripts with >= 5 lines: {len(covered)}\n")
        for script, n in sorted(lines_per_script.items(), key=lambda kv: (-kv[1], kv[0])):
            f.write(f"  {script}: {n} lines\n")
    print(f"{len(lines)} lines ({len(catalogue)} from catalogues), "
          f"{len(covered)} scripts with >= 5 lines, {len(lines_per_script)} scripts in total")
    print(", ".join(f"{s} {n}" for s, n in sorted(covered.items(), key=lambda kv: -kv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
