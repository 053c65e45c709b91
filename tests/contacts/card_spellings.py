"""Spellings of one card number a person reads as that number: the table the redaction tests
run through the engine, every stored field of an ingested row and every inbound email field."""

import unicodedata

CARD = "4111111111111111"
AMEX = "378282246310005"
GROUPS = [CARD[i : i + 4] for i in range(0, 16, 4)]


def _digits(alphabet: str, number: str = CARD) -> str:
    return number.translate(str.maketrans("0123456789", alphabet))


def _joined(separator: str) -> str:
    return separator.join(GROUPS)


def _between_digits(invisible: str) -> str:
    return invisible.join(CARD)


SPELLINGS = {
    # plain and the spec's spacing
    "plain": CARD,
    "spaces": _joined(" "),
    "dashes": _joined("-"),
    "dots": _joined("."),
    "pairs": " ".join(CARD[i : i + 2] for i in range(0, 16, 2)),
    "single digits": " ".join(CARD),
    "mixed strong separators": "4111-1111 1111.1111",
    "spaced dashes": _joined(" - "),
    # two lines (plain-text email; HTML <br> and <div> become line breaks when parsed)
    "two lines": f"{GROUPS[0]} {GROUPS[1]}\n{GROUPS[2]} {GROUPS[3]}",
    "two lines, CRLF": f"{GROUPS[0]} {GROUPS[1]}\r\n{GROUPS[2]} {GROUPS[3]}",
    "two lines, blank line between": f"{GROUPS[0]} {GROUPS[1]}\n\n{GROUPS[2]} {GROUPS[3]}",
    "a group per line": _joined("\n"),
    "wrapped mid-number": f"{CARD[:10]}\n{CARD[10:]}",
    "line separator": _joined("\u2028"),
    # invisible characters between every digit
    "zero-width space": _between_digits("\u200b"),
    "zero-width non-joiner": _between_digits("\u200c"),
    "zero-width joiner": _between_digits("\u200d"),
    "word joiner": _between_digits("\u2060"),
    "BOM": _between_digits("\ufeff"),
    "soft hyphen": _between_digits("\u00ad"),
    "combining mark": _between_digits("\u0301"),
    "zero-width between groups": _joined("\u200b"),
    # Unicode spaces and dashes between groups
    "no-break space": _joined("\u00a0"),
    "en space": _joined("\u2002"),
    "em space": _joined("\u2003"),
    "thin space": _joined("\u2009"),
    "hair space": _joined("\u200a"),
    "narrow no-break space": _joined("\u202f"),
    "figure space": _joined("\u2007"),
    "ideographic space": _joined("\u3000"),
    "en dash": _joined("\u2013"),
    "em dash": _joined("\u2014"),
    "minus sign": _joined("\u2212"),
    "non-breaking hyphen": _joined("\u2011"),
    # punctuation between groups
    "slash": _joined("/"),
    "comma": _joined(","),
    "underscore": _joined("_"),
    "plus": _joined("+"),
    "colon": _joined(":"),
    "middle dot": _joined("\u00b7"),
    "pipe": _joined("|"),
    "semicolon": _joined(";"),
    "comma and space": _joined(", "),
    "slash with spaces": _joined(" / "),
    "full-width slash": _joined("\uff0f"),
    # long whitespace
    "four spaces": _joined("    "),
    "eight spaces": _joined("        "),
    "tab": _joined("\t"),
    "two tabs": _joined("\t\t"),
    # other digits
    "full-width digits": _digits("０１２３４５６７８９"),
    "full-width, spaced": _digits("０１２３４５６７８９", _joined(" ")),
    "superscript digits": _digits("⁰¹²³⁴⁵⁶⁷⁸⁹"),
    "subscript digits": _digits("₀₁₂₃₄₅₆₇₈₉"),
    "circled digits": _digits("⓪①②③④⑤⑥⑦⑧⑨"),
    "negative circled digits": _digits("⓿❶❷❸❹❺❻❼❽❾"),
    "Arabic-Indic digits": _digits("٠١٢٣٤٥٦٧٨٩"),
    "Devanagari digits": _digits("०१२३४५६७८९"),
    "mathematical bold digits": _digits("𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"),
    "mixed digit forms": "4１1¹ ①1١1 1१11 𝟏111",
    # other brands' groupings
    "Amex 4-6-5": "3782 822463 10005",
    "Amex over three lines": "3782\n822463\n10005",
    "Amex with slashes": "3782/822463/10005",
}


def digits_of(text: str) -> str:
    """The digits a person reads in ``text``, as ASCII."""
    return "".join(
        str(unicodedata.digit(ch)) for ch in text if unicodedata.digit(ch, None) is not None
    )


def number_of(name: str) -> str:
    return AMEX if name.startswith("Amex") else CARD


def holds_the_card(stored: str, number: str = CARD) -> bool:
    """Whether ``stored`` still shows the number (its digits in order, whatever between)."""
    return number in digits_of(stored)
