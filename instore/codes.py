"""The two random strings of the in-store flow: placement codes and scan references.

Both come from `secrets` over alphabets without look-alike characters (no 0/O, 1/I/l), so
a code typed from a worn label or a reference read aloud to an associate survives.
"""

import re
import secrets

# Placement codes are in URLs: lower case reads better there.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 10  # 31**10 ≈ 2**49: a printed label cannot be used to find the others
CODE_PATTERN = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")

# A scan reference travels in a text message the shopper sends: short, upper case, and
# split in two for reading. 31**8 ≈ 2**40, and each reference is single-use and expires
# (INSTORE_REFERENCE_MAX_AGE), so guessing one by texting is hopeless.
REFERENCE_ALPHABET = CODE_ALPHABET.upper()
REFERENCE_HALF = 4
# Found anywhere in a message: "Ref T9K2-XYZQ", "ref: t9k2 xyzq", "REF#T9K2XYZQ".
REFERENCE_IN_TEXT = re.compile(
    rf"\bref\W{{0,3}}([{REFERENCE_ALPHABET}]{{{REFERENCE_HALF}}})[\s-]?"
    rf"([{REFERENCE_ALPHABET}]{{{REFERENCE_HALF}}})\b",
    re.IGNORECASE,
)


def new_placement_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_placement_code(raw: str) -> str | None:
    """The code as stored, or None when it cannot be one (so no query is made for it)."""
    code = str(raw).strip().lower()
    return code if CODE_PATTERN.match(code) else None


def new_reference() -> str:
    half = REFERENCE_HALF
    raw = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(2 * half))
    return f"{raw[:half]}-{raw[half:]}"


def references_in(text: str) -> list[str]:
    """Every scan reference written in a message, in the stored form (`T9K2-XYZQ`)."""
    return [f"{a}-{b}".upper() for a, b in REFERENCE_IN_TEXT.findall(text or "")]


# What the "Text us" text ends with when the page's consent box is ticked: "Ref T9K2-XYZQ
# YES". A word of its own after the reference, so a shopper who deletes it withholds it.
CONSENT_MARKER = "YES"


def consent_marked(text: str, reference: str) -> bool:
    """Whether the message says the consent marker right after this reference."""
    first, second = reference.split("-")
    marked = re.compile(
        rf"\bref\W{{0,3}}{first}[\s-]?{second}\W{{0,3}}{CONSENT_MARKER}\b", re.IGNORECASE
    )
    return marked.search(text or "") is not None
