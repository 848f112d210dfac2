#!/usr/bin/env python3
"""Generate unicode_compat_tables.inc: where Hugging Face tokenizers' character classes differ from utf8proc's.

tokenizers' BertNormalizer / BertPreTokenizer classify characters with the `unicode_categories` Rust crate
(old Unicode tables: Cc/Cf/Co for "control", P* for punctuation, Mn for accents) and lowercase with Rust's
`char::to_lowercase` (a newer Unicode than utf8proc 2.8 has). bertcpp takes the properties from utf8proc and
applies the differences listed here, so that every code point behaves as in tokenizers.

The script probes tokenizers for each of the 1,112,064 scalar values and compares with the rules that
src/tokenizer/unicode.cpp applies to utf8proc's data (mirrored below through ctypes). It also checks that the
whitespace set, the CJK ranges and NFD need no table.

    python3 src/tokenizer/tools/gen_unicode_compat.py > src/tokenizer/unicode_compat_tables.inc
"""
import ctypes
import sys

import tokenizers
from tokenizers import normalizers, pre_tokenizers

lib = ctypes.CDLL("libutf8proc.so.2")
lib.utf8proc_category.restype = ctypes.c_int
lib.utf8proc_tolower.restype = ctypes.c_int32
lib.utf8proc_decompose_char.restype = ctypes.c_ssize_t
lib.utf8proc_decompose_char.argtypes = [ctypes.c_int32, ctypes.POINTER(ctypes.c_int32), ctypes.c_ssize_t,
                                        ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
lib.utf8proc_version.restype = ctypes.c_char_p
CATS = "Cn Lu Ll Lt Lm Lo Mn Mc Me Nd Nl No Pc Pd Ps Pe Pi Pf Po Sm Sc Sk So Zs Zl Zp Cc Cf Cs Co".split()
UTF8PROC_DECOMPOSE = 1 << 3
_buf = (ctypes.c_int32 * 32)()


def category(cp):
    return CATS[lib.utf8proc_category(cp)]


def nfd(cp):
    bound = ctypes.c_int(0)
    n = lib.utf8proc_decompose_char(cp, _buf, 32, UTF8PROC_DECOMPOSE, ctypes.byref(bound))
    return [_buf[i] for i in range(n)]


# The rules of unicode.cpp, before the tables.
WHITESPACE = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
              *range(0x2000, 0x200B)}
CJK = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
       (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def base_other(cp):  # Cc / Cf / Co
    return category(cp) in ("Cc", "Cf", "Co")


def base_punct(cp):
    return (33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126) or category(cp)[0] == "P"


def base_mn(cp):
    return category(cp) == "Mn"


def base_lower(cp):
    return [0x69, 0x307] if cp == 0x130 else [lib.utf8proc_tolower(cp)]


def main():
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False,
                                       lowercase=False)
    cjk = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False,
                                     lowercase=False)
    lower = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False,
                                       lowercase=True)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True,
                                       lowercase=False)
    pre = pre_tokenizers.BertPreTokenizer()
    other_toggles, punct_toggles, mn_toggles, nfd_skips, lower_overrides = [], [], [], [], []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        # clean_text drops U+0000, U+FFFD and "other" (Cc/Cf/Co) except \t \n \r; whitespace becomes ' '.
        cleaned = clean.normalize_str(c)
        dropped = cleaned == ""
        rule_dropped = cp in (0, 0xFFFD) or (cp not in (9, 10, 13) and base_other(cp))
        if dropped != rule_dropped:
            other_toggles.append(cp)
        if not dropped and (cleaned == " ") != (cp in WHITESPACE):
            sys.exit("whitespace differs at U+%04X" % cp)
        pieces = pre.pre_tokenize_str("x" + c + "x")
        if (len(pieces) == 2) != (cp in WHITESPACE):
            sys.exit("whitespace split differs at U+%04X" % cp)
        if (len(pieces) == 3) != base_punct(cp):
            punct_toggles.append(cp)
        in_cjk = any(a <= cp <= b for a, b in CJK)
        if (cjk.normalize_str(c) == " " + c + " ") != in_cjk:
            sys.exit("CJK range differs at U+%04X" % cp)
        hf_strip = [ord(x) for x in strip.normalize_str(c)]
        decomposed = nfd(cp)
        if [x for x in decomposed if not base_mn(x)] != hf_strip:
            # Expected: a different Mn answer for a single code point, or a decomposition that tokenizers'
            # older NFD tables lack (the code point then stays as it is).
            if len(decomposed) == 1 and hf_strip in ([], [cp]):
                mn_toggles.append(cp)
            elif len(decomposed) > 1 and hf_strip == [cp] and not base_mn(cp):
                nfd_skips.append(cp)
            else:
                sys.exit("NFD differs at U+%04X: %s vs %s" % (cp, decomposed, hf_strip))
        hf_lower = [ord(x) for x in lower.normalize_str(c)]
        if hf_lower != base_lower(cp):
            if len(hf_lower) != 1:
                sys.exit("multi-character lowercase not in the rules at U+%04X" % cp)
            lower_overrides.append((cp, hf_lower[0]))

    def emit_set(name, cps, why):
        print("// %s (%d code points)" % (why, len(cps)))
        print("inline constexpr char32_t %s[] = {" % name)
        for i in range(0, len(cps), 10):
            print("    " + ", ".join("0x%04X" % x for x in cps[i:i + 10]) + ",")
        print("};")
        print()

    print("// Generated by src/tokenizer/tools/gen_unicode_compat.py from tokenizers %s and utf8proc %s. Do not edit."
          % (tokenizers.__version__, lib.utf8proc_version().decode()))
    print("// Code points where tokenizers' answer differs from the utf8proc rule in unicode.cpp.")
    print("#pragma once")
    print()
    emit_set("kOtherToggles", other_toggles, "Cc/Cf/Co (dropped by clean_text): utf8proc and tokenizers disagree")
    emit_set("kPunctToggles", punct_toggles, "punctuation: utf8proc and tokenizers disagree")
    emit_set("kNonspacingMarkToggles", mn_toggles, "Mn (dropped by strip_accents): utf8proc and tokenizers disagree")
    emit_set("kNoDecomposition", nfd_skips, "NFD: tokenizers leaves these composed (decomposition newer than its tables)")
    print("// lowercase: tokenizers (Rust char::to_lowercase) maps these, utf8proc %s does not (%d code points)"
          % (lib.utf8proc_version().decode(), len(lower_overrides)))
    print("inline constexpr char32_t kLowercaseOverrides[][2] = {")
    for i in range(0, len(lower_overrides), 5):
        print("    " + ", ".join("{0x%04X, 0x%04X}" % p for p in lower_overrides[i:i + 5]) + ",")
    print("};")


if __name__ == "__main__":
    main()
