"""Label selectors: port of k8s.io/apimachinery/pkg/labels plus metav1.LabelSelectorAsSelector.

Covers labels.go (Set helpers), selector.go (Requirement, Selector, the selector-string
lexer and parser, Set-based selectors), the label key/value validation that
NewRequirement relies on (api/validate/content), and the two metav1 helpers that turn a
``V1LabelSelector`` into a ``Selector`` or a plain map (apis/meta/v1/helpers.go).

Go's ``labels.Labels`` interface is any ``Mapping[str, str]`` here; ``None`` is accepted
wherever Go would accept a nil ``labels.Set``. Validation failures raise
``AggregateError``, which carries the ``FieldError`` list Go returns as a
``field.ErrorList`` aggregate.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubernetes.client import V1LabelSelector

# selection.Operator values (k8s.io/apimachinery/pkg/selection).
DOES_NOT_EXIST = "!"
EQUALS = "="
DOUBLE_EQUALS = "=="
IN = "in"
NOT_EQUALS = "!="
NOT_IN = "notin"
EXISTS = "exists"
GREATER_THAN = "gt"
LESS_THAN = "lt"

# metav1.LabelSelectorOperator values.
LABEL_SELECTOR_OP_IN = "In"
LABEL_SELECTOR_OP_NOT_IN = "NotIn"
LABEL_SELECTOR_OP_EXISTS = "Exists"
LABEL_SELECTOR_OP_DOES_NOT_EXIST = "DoesNotExist"

UNARY_OPERATORS = [EXISTS, DOES_NOT_EXIST]
BINARY_OPERATORS = [IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN]
VALID_REQUIREMENT_OPERATORS = BINARY_OPERATORS + UNARY_OPERATORS

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


# ---------------------------------------------------------------------------
# Field errors (the slice of k8s.io/apimachinery/pkg/util/validation/field in use here)
# ---------------------------------------------------------------------------

ERROR_TYPE_INVALID = "FieldValueInvalid"
ERROR_TYPE_NOT_SUPPORTED = "FieldValueNotSupported"

_ERROR_TYPE_TEXT = {
    ERROR_TYPE_INVALID: "Invalid value",
    ERROR_TYPE_NOT_SUPPORTED: "Unsupported value",
}


@dataclass
class FieldError:
    """Port of field.Error: one validation failure on a field path."""

    type: str
    field: str
    bad_value: Any
    detail: str = ""

    def error_body(self) -> str:
        """Port of field.Error.ErrorBody: the message without the field path."""
        kind = _ERROR_TYPE_TEXT.get(self.type, self.type)
        value = self.bad_value
        if isinstance(value, bool | int | float):
            text = f"{kind}: {value}"
        elif isinstance(value, str):
            text = f"{kind}: {json.dumps(value)}"
        else:
            text = f"{kind}: {json.dumps(value, default=str)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.error_body()}"


class AggregateError(ValueError):
    """Port of utilerrors.Aggregate as returned by field.ErrorList.ToAggregate."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__(self._message())

    def _message(self) -> str:
        seen: list[str] = []
        for err in self.errors:
            msg = str(err)
            if msg not in seen:
                seen.append(msg)
        if len(seen) == 1:
            return seen[0]
        return "[" + ", ".join(seen) + "]"


def _to_aggregate(errors: list[FieldError]) -> AggregateError | None:
    """Port of field.ErrorList.ToAggregate: None when the list is empty."""
    return AggregateError(errors) if errors else None


def _invalid(path: str, value: Any, detail: str) -> FieldError:
    """Port of field.Invalid."""
    return FieldError(ERROR_TYPE_INVALID, path, value, detail)


def _not_supported(path: str, value: Any, valid: list[str]) -> FieldError:
    """Port of field.NotSupported."""
    detail = ""
    if valid:
        detail = "supported values: " + ", ".join(json.dumps(v) for v in valid)
    return FieldError(ERROR_TYPE_NOT_SUPPORTED, path, value, detail)


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# ---------------------------------------------------------------------------
# Label key/value validation (k8s.io/apimachinery/pkg/api/validate/content)
# ---------------------------------------------------------------------------

_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_ERR_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character"
)
_LABEL_KEY_MAX_LENGTH = 63
_LABEL_KEY_RE = re.compile("^" + _LABEL_KEY_FMT + "$")
_LABEL_VALUE_FMT = "(" + _LABEL_KEY_FMT + ")?"
_LABEL_VALUE_ERR_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)
LABEL_VALUE_MAX_LENGTH = 63
_LABEL_VALUE_RE = re.compile("^" + _LABEL_VALUE_FMT + "$")
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_ERR_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
_DNS1123_SUBDOMAIN_RE = re.compile("^" + _DNS1123_SUBDOMAIN_FMT + "$")


def _max_len_error(length: int) -> str:
    """Port of content.MaxLenError."""
    return f"must be no more than {length} bytes"


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """Port of content.RegexError."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    quoted = " or ".join(f"'{e}'" for e in examples)
    return f"{msg} (e.g. {quoted}, regex used for validation is '{fmt}')"


def is_dns1123_subdomain(value: str) -> list[str]:
    """Port of content.IsDNS1123Subdomain."""
    errs: list[str] = []
    if len(value.encode()) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(_max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_ERR_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_label_key(value: str) -> list[str]:
    """Port of content.IsLabelKey: optional DNS-subdomain prefix, '/', then a name."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix))
    else:
        return [
            *errs,
            "a valid label key "
            + _regex_error(_LABEL_KEY_ERR_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name.encode()) > _LABEL_KEY_MAX_LENGTH:
        errs.append("name part " + _max_len_error(_LABEL_KEY_MAX_LENGTH))
    if not _LABEL_KEY_RE.match(name):
        errs.append(
            "name part "
            + _regex_error(_LABEL_KEY_ERR_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def is_valid_label_value(value: str) -> list[str]:
    """Port of validation.IsValidLabelValue (content.IsLabelValue)."""
    errs: list[str] = []
    if len(value.encode()) > LABEL_VALUE_MAX_LENGTH:
        errs.append(_max_len_error(LABEL_VALUE_MAX_LENGTH))
    if not _LABEL_VALUE_RE.match(value):
        errs.append(
            _regex_error(_LABEL_VALUE_ERR_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
        )
    return errs


# ---------------------------------------------------------------------------
# labels.go
# ---------------------------------------------------------------------------


def set_string(ls: Mapping[str, str] | None) -> str:
    """Port of Set.String: sorted "k=v" pairs joined by commas."""
    return ",".join(sorted(f"{k}={v}" for k, v in (ls or {}).items()))


def set_as_selector(ls: Mapping[str, str] | None) -> Selector:
    """Port of Set.AsSelector."""
    return selector_from_set(ls)


def set_as_validated_selector(ls: Mapping[str, str] | None) -> Selector:
    """Port of Set.AsValidatedSelector."""
    return validated_selector_from_set(ls)


def set_as_selector_pre_validated(ls: Mapping[str, str] | None) -> Selector:
    """Port of Set.AsSelectorPreValidated."""
    return selector_from_validated_set(ls)


def format_labels(label_map: Mapping[str, str] | None) -> str:
    """Port of FormatLabels: like set_string, "<none>" when empty."""
    text = set_string(label_map)
    return text or "<none>"


def conflicts(labels1: Mapping[str, str], labels2: Mapping[str, str]) -> bool:
    """Port of Conflicts: true if a key is present in both with different values."""
    small, big = (labels2, labels1) if len(labels2) < len(labels1) else (labels1, labels2)
    return any(k in big and big[k] != v for k, v in small.items())


def merge(labels1: Mapping[str, str], labels2: Mapping[str, str]) -> dict[str, str]:
    """Port of Merge: union, the second map winning on conflicts."""
    merged = dict(labels1)
    merged.update(labels2)
    return merged


def equals(labels1: Mapping[str, str] | None, labels2: Mapping[str, str] | None) -> bool:
    """Port of Equals: same keys and values."""
    return dict(labels1 or {}) == dict(labels2 or {})


def convert_selector_to_labels_map(selector: str, path: str = "") -> dict[str, str]:
    """Port of ConvertSelectorToLabelsMap: parse "k=v,k2=v2" only; raises on anything else."""
    labels_map: dict[str, str] = {}
    if not selector:
        return labels_map
    for label in selector.split(","):
        parts = label.split("=")
        if len(parts) != 2:
            raise ValueError(f"invalid selector: {parts}")
        key = parts[0].strip()
        err = _validate_label_key(key, path)
        if err is not None:
            raise AggregateError([err])
        value = parts[1].strip()
        err = _validate_label_value(key, value, path)
        if err is not None:
            raise AggregateError([err])
        labels_map[key] = value
    return labels_map


# ---------------------------------------------------------------------------
# selector.go
# ---------------------------------------------------------------------------


class Selector(Protocol):
    """Port of labels.Selector."""

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """True if the selector matches the given labels."""
        ...

    def empty(self) -> bool:
        """True if the selector does not restrict the selection space."""
        ...

    def string(self) -> str:
        """Human readable form (the selector-string syntax)."""
        ...

    def add(self, *reqs: Requirement) -> Selector:
        """A new selector with the extra requirements."""
        ...

    def requirements(self) -> tuple[list[Requirement], bool]:
        """The requirements, and False if the selector selects nothing."""
        ...

    def deep_copy_selector(self) -> Selector: ...

    def requires_exact_match(self, label: str) -> tuple[str, bool]:
        """The value the selector demands for ``label``, if it demands exactly one."""
        ...


def requirements_string(reqs: Iterable[Requirement]) -> str:
    """Port of Requirements.String: requirements joined by ", "."""
    return ", ".join(r.string() for r in reqs)


@dataclass(frozen=True)
class Requirement:
    """Port of labels.Requirement: a key, an operator and its values.

    Build through ``new_requirement``, which validates; the zero value
    (``Requirement()``) is invalid and matches nothing, as in Go.
    """

    key: str = ""
    operator: str = ""
    str_values: tuple[str, ...] = field(default_factory=tuple)

    def _has_value(self, value: str) -> bool:
        """Port of Requirement.hasValue."""
        return value in self.str_values

    def matches(self, ls: Mapping[str, str] | None) -> bool:
        """Port of Requirement.Matches."""
        labels = ls or {}
        op = self.operator
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            if self.key not in labels:
                return False
            return self._has_value(labels[self.key])
        if op in (NOT_IN, NOT_EQUALS):
            if self.key not in labels:
                return True
            return not self._has_value(labels[self.key])
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        if op in (GREATER_THAN, LESS_THAN):
            if self.key not in labels:
                return False
            ls_value = _parse_int64(labels[self.key])
            if ls_value is None or len(self.str_values) != 1:
                return False
            r_value = _parse_int64(self.str_values[0])
            if r_value is None:
                return False
            return (op == GREATER_THAN and ls_value > r_value) or (
                op == LESS_THAN and ls_value < r_value
            )
        return False

    def values(self) -> set[str]:
        """Port of Requirement.Values: the values as a set."""
        return set(self.str_values)

    def values_unsorted(self) -> list[str]:
        """Port of Requirement.ValuesUnsorted: a copy in construction order."""
        return list(self.str_values)

    def equal(self, other: Requirement) -> bool:
        """Port of Requirement.Equal."""
        return self == other

    def string(self) -> str:
        """Port of Requirement.String: selector-string syntax, values sorted."""
        op = self.operator
        out = "!" if op == DOES_NOT_EXIST else ""
        out += self.key
        if op in (EXISTS, DOES_NOT_EXIST):
            return out
        out += {
            EQUALS: "=",
            DOUBLE_EQUALS: "==",
            NOT_EQUALS: "!=",
            IN: " in ",
            NOT_IN: " notin ",
            GREATER_THAN: ">",
            LESS_THAN: "<",
        }.get(op, "")
        if len(self.str_values) == 1:
            values = self.str_values[0]
        else:
            values = ",".join(_safe_sort(list(self.str_values)))
        if op in (IN, NOT_IN):
            return f"{out}({values})"
        return out + values

    def __str__(self) -> str:
        return self.string()


def _parse_int64(text: str) -> int | None:
    """Mimic strconv.ParseInt(s, 10, 64): optional sign, decimal digits, int64 range."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    value = int(text)
    if value < _INT64_MIN or value > _INT64_MAX:
        return None
    return value


def _safe_sort(values: list[str]) -> list[str]:
    """Port of safeSort: a sorted copy, the input left untouched."""
    return sorted(values)


def new_requirement(key: str, op: str, vals: Iterable[str], path: str = "") -> Requirement:
    """Port of NewRequirement: validate key, operator and values; raise AggregateError."""
    values = list(vals)
    errs: list[FieldError] = []
    key_err = _validate_label_key(key, _child(path, "key"))
    if key_err is not None:
        errs.append(key_err)
    value_path = _child(path, "values")
    if op in (IN, NOT_IN):
        if not values:
            errs.append(
                _invalid(
                    value_path, values, "for 'in', 'notin' operators, values set can't be empty"
                )
            )
    elif op in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(values) != 1:
            errs.append(
                _invalid(value_path, values, "exact-match compatibility requires one single value")
            )
    elif op in (EXISTS, DOES_NOT_EXIST):
        if values:
            errs.append(
                _invalid(
                    value_path, values, "values set must be empty for exists and does not exist"
                )
            )
    elif op in (GREATER_THAN, LESS_THAN):
        if len(values) != 1:
            errs.append(
                _invalid(
                    value_path, values, "for 'Gt', 'Lt' operators, exactly one value is required"
                )
            )
        for i, v in enumerate(values):
            if _parse_int64(v) is None:
                errs.append(
                    _invalid(
                        f"{value_path}[{i}]",
                        v,
                        "for 'Gt', 'Lt' operators, the value must be an integer",
                    )
                )
    else:
        errs.append(_not_supported(_child(path, "operator"), op, VALID_REQUIREMENT_OPERATORS))
    for i, v in enumerate(values):
        value_err = _validate_label_value(key, v, f"{value_path}[{i}]")
        if value_err is not None:
            errs.append(value_err)
    agg = _to_aggregate(errs)
    if agg is not None:
        raise agg
    return Requirement(key, op, tuple(values))


class _NothingSelector:
    """Port of nothingSelector: matches no labels."""

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        return False

    def empty(self) -> bool:
        return False

    def string(self) -> str:
        return ""

    def add(self, *reqs: Requirement) -> Selector:
        return self

    def requirements(self) -> tuple[list[Requirement], bool]:
        return [], False

    def deep_copy_selector(self) -> Selector:
        return self

    def requires_exact_match(self, label: str) -> tuple[str, bool]:
        return "", False

    def __str__(self) -> str:
        return ""


class InternalSelector:
    """Port of internalSelector: an AND of requirements, kept sorted by key."""

    __slots__ = ("_equality", "_reqs")

    def __init__(self, reqs: Iterable[Requirement] = ()) -> None:
        self._reqs: tuple[Requirement, ...] = tuple(reqs)
        # When every requirement is an equality or a set inclusion (what matchLabels and
        # "In" expressions give), matching is one dict lookup per requirement: keep the
        # (key, allowed values) pairs. None means some other operator takes the slow path.
        self._equality: tuple[tuple[str, frozenset[str]], ...] | None = (
            tuple((r.key, frozenset(r.str_values)) for r in self._reqs)
            if all(r.operator in (IN, EQUALS, DOUBLE_EQUALS) for r in self._reqs)
            else None
        )

    def deep_copy_selector(self) -> Selector:
        """Port of internalSelector.DeepCopySelector (requirements are immutable)."""
        return InternalSelector(self._reqs)

    def empty(self) -> bool:
        """Port of internalSelector.Empty."""
        return not self._reqs

    def add(self, *reqs: Requirement) -> Selector:
        """Port of internalSelector.Add: a sorted (stable, by key) copy with the additions."""
        return InternalSelector(sorted(self._reqs + tuple(reqs), key=lambda r: r.key))

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Port of internalSelector.Matches: every requirement matches."""
        equality = self._equality
        if equality is None:
            return all(req.matches(labels) for req in self._reqs)
        if not labels:
            return not equality
        # A plain loop: all() over a generator costs twice as much per call here.
        for key, values in equality:  # noqa: SIM110
            if key not in labels or labels[key] not in values:
                return False
        return True

    def equality_requirements(self) -> tuple[tuple[str, frozenset[str]], ...] | None:
        """(key, allowed values) per requirement when every requirement is an equality or
        a set inclusion, else None: a jobctl helper (no Go twin) for matching loops that
        inline the lookups."""
        return self._equality

    def requirements(self) -> tuple[list[Requirement], bool]:
        """Port of internalSelector.Requirements."""
        return list(self._reqs), True

    def string(self) -> str:
        """Port of internalSelector.String."""
        return ",".join(r.string() for r in self._reqs)

    def requires_exact_match(self, label: str) -> tuple[str, bool]:
        """Port of internalSelector.RequiresExactMatch."""
        for req in self._reqs:
            if req.key == label:
                if req.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(req.str_values) == 1:
                    return req.str_values[0], True
                return "", False
        return "", False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InternalSelector) and self._reqs == other._reqs

    def __hash__(self) -> int:
        return hash(self._reqs)

    def __str__(self) -> str:
        return self.string()

    def __repr__(self) -> str:
        return f"InternalSelector({list(self._reqs)!r})"


_SHARED_EVERYTHING_SELECTOR: Selector = InternalSelector()
_SHARED_NOTHING_SELECTOR: Selector = _NothingSelector()


def everything() -> Selector:
    """Port of Everything: the selector that matches all labels."""
    return _SHARED_EVERYTHING_SELECTOR


def nothing() -> Selector:
    """Port of Nothing: the selector that matches no labels."""
    return _SHARED_NOTHING_SELECTOR


def matches_nothing(selector: Selector) -> bool:
    """Port of MatchesNothing: true only for the nothing() selector."""
    return selector is _SHARED_NOTHING_SELECTOR


def new_selector() -> Selector:
    """Port of NewSelector: an empty selector."""
    return InternalSelector()


class Token(enum.IntEnum):
    """Port of labels.Token: lexer token kinds."""

    ERROR_TOKEN = 0
    END_OF_STRING_TOKEN = 1
    CLOSED_PAR_TOKEN = 2
    COMMA_TOKEN = 3
    DOES_NOT_EXIST_TOKEN = 4
    DOUBLE_EQUALS_TOKEN = 5
    EQUALS_TOKEN = 6
    GREATER_THAN_TOKEN = 7
    IDENTIFIER_TOKEN = 8
    IN_TOKEN = 9
    LESS_THAN_TOKEN = 10
    NOT_EQUALS_TOKEN = 11
    NOT_IN_TOKEN = 12
    OPEN_PAR_TOKEN = 13


STRING_TO_TOKEN = {
    ")": Token.CLOSED_PAR_TOKEN,
    ",": Token.COMMA_TOKEN,
    "!": Token.DOES_NOT_EXIST_TOKEN,
    "==": Token.DOUBLE_EQUALS_TOKEN,
    "=": Token.EQUALS_TOKEN,
    ">": Token.GREATER_THAN_TOKEN,
    "in": Token.IN_TOKEN,
    "<": Token.LESS_THAN_TOKEN,
    "!=": Token.NOT_EQUALS_TOKEN,
    "notin": Token.NOT_IN_TOKEN,
    "(": Token.OPEN_PAR_TOKEN,
}


@dataclass
class ScannedItem:
    """Port of ScannedItem: a token and its literal."""

    tok: Token
    literal: str


def _is_whitespace(ch: str) -> bool:
    """Port of isWhitespace."""
    return ch in (" ", "\t", "\r", "\n")


def _is_special_symbol(ch: str) -> bool:
    """Port of isSpecialSymbol: characters that can start an operator."""
    return ch in ("=", "!", "(", ")", ",", ">", "<")


class Lexer:
    """Port of labels.Lexer: tokenizes a selector string."""

    def __init__(self, s: str, pos: int = 0) -> None:
        self.s = s
        self.pos = pos

    def read(self) -> str:
        """Port of Lexer.read: next character, "" at the end."""
        if self.pos < len(self.s):
            ch = self.s[self.pos]
            self.pos += 1
            return ch
        return ""

    def unread(self) -> None:
        """Port of Lexer.unread."""
        self.pos -= 1

    def scan_id_or_keyword(self) -> tuple[Token, str]:
        """Port of Lexer.scanIDOrKeyword: an identifier, or the keywords in/notin."""
        buffer: list[str] = []
        while True:
            ch = self.read()
            if ch == "":
                break
            if _is_special_symbol(ch) or _is_whitespace(ch):
                self.unread()
                break
            buffer.append(ch)
        s = "".join(buffer)
        tok = STRING_TO_TOKEN.get(s)
        if tok is not None:
            return tok, s
        return Token.IDENTIFIER_TOKEN, s

    def scan_special_symbol(self) -> tuple[Token, str]:
        """Port of Lexer.scanSpecialSymbol: the longest operator made of special symbols."""
        last: ScannedItem | None = None
        buffer = ""
        while True:
            ch = self.read()
            if ch == "":
                break
            if _is_special_symbol(ch):
                buffer += ch
                tok = STRING_TO_TOKEN.get(buffer)
                if tok is not None:
                    last = ScannedItem(tok, buffer)
                elif last is not None:
                    self.unread()
                    break
            else:
                self.unread()
                break
        if last is None:
            return Token.ERROR_TOKEN, f"error expected: keyword found '{buffer}'"
        return last.tok, last.literal

    def skip_white_spaces(self, ch: str) -> str:
        """Port of Lexer.skipWhiteSpaces."""
        while _is_whitespace(ch):
            ch = self.read()
        return ch

    def lex(self) -> tuple[Token, str]:
        """Port of Lexer.Lex: the next token and its literal."""
        ch = self.skip_white_spaces(self.read())
        if ch == "":
            return Token.END_OF_STRING_TOKEN, ""
        self.unread()
        if _is_special_symbol(ch):
            return self.scan_special_symbol()
        return self.scan_id_or_keyword()


# ParserContext values.
KEY_AND_OPERATOR = 0
VALUES = 1


class Parser:
    """Port of labels.Parser: recursive-descent parser over the scanned tokens."""

    def __init__(self, lexer: Lexer, path: str = "") -> None:
        self.l = lexer
        self.scanned_items: list[ScannedItem] = []
        self.position = 0
        self.path = path

    def lookahead(self, context: int) -> tuple[Token, str]:
        """Port of Parser.lookahead: current token without consuming it."""
        item = self.scanned_items[self.position]
        tok = item.tok
        if context == VALUES and tok in (Token.IN_TOKEN, Token.NOT_IN_TOKEN):
            tok = Token.IDENTIFIER_TOKEN
        return tok, item.literal

    def consume(self, context: int) -> tuple[Token, str]:
        """Port of Parser.consume: current token, advancing."""
        self.position += 1
        item = self.scanned_items[self.position - 1]
        tok = item.tok
        if context == VALUES and tok in (Token.IN_TOKEN, Token.NOT_IN_TOKEN):
            tok = Token.IDENTIFIER_TOKEN
        return tok, item.literal

    def scan(self) -> None:
        """Port of Parser.scan: tokenize the whole input."""
        while True:
            tok, lit = self.l.lex()
            self.scanned_items.append(ScannedItem(tok, lit))
            if tok == Token.END_OF_STRING_TOKEN:
                break

    def parse(self) -> list[Requirement]:
        """Port of Parser.parse: the requirements, in input order; raises ValueError."""
        self.scan()
        requirements: list[Requirement] = []
        while True:
            tok, lit = self.lookahead(VALUES)
            if tok in (Token.IDENTIFIER_TOKEN, Token.DOES_NOT_EXIST_TOKEN):
                try:
                    req = self.parse_requirement()
                except ValueError as err:
                    raise ValueError(f"unable to parse requirement: {err}") from err
                requirements.append(req)
                t, lit2 = self.consume(VALUES)
                if t == Token.END_OF_STRING_TOKEN:
                    return requirements
                if t == Token.COMMA_TOKEN:
                    t2, l2 = self.lookahead(VALUES)
                    if t2 not in (Token.IDENTIFIER_TOKEN, Token.DOES_NOT_EXIST_TOKEN):
                        raise ValueError(f"found '{l2}', expected: identifier after ','")
                else:
                    raise ValueError(f"found '{lit2}', expected: ',' or 'end of string'")
            elif tok == Token.END_OF_STRING_TOKEN:
                return requirements
            else:
                raise ValueError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> Requirement:
        """Port of Parser.parseRequirement."""
        key, operator = self.parse_key_and_infer_operator()
        if operator in (EXISTS, DOES_NOT_EXIST):
            return new_requirement(key, operator, [], self.path)
        operator = self.parse_operator()
        values: set[str] = set()
        if operator in (IN, NOT_IN):
            values = self.parse_values()
        elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN):
            values = self.parse_exact_value()
        return new_requirement(key, operator, sorted(values), self.path)

    def parse_key_and_infer_operator(self) -> tuple[str, str]:
        """Port of Parser.parseKeyAndInferOperator: key, plus exists/!exists when implied."""
        operator = ""
        tok, literal = self.consume(VALUES)
        if tok == Token.DOES_NOT_EXIST_TOKEN:
            operator = DOES_NOT_EXIST
            tok, literal = self.consume(VALUES)
        if tok != Token.IDENTIFIER_TOKEN:
            raise ValueError(f"found '{literal}', expected: identifier")
        err = _validate_label_key(literal, self.path)
        if err is not None:
            raise AggregateError([err])
        t, _ = self.lookahead(VALUES)
        if t in (Token.END_OF_STRING_TOKEN, Token.COMMA_TOKEN) and operator != DOES_NOT_EXIST:
            operator = EXISTS
        return literal, operator

    def parse_operator(self) -> str:
        """Port of Parser.parseOperator: a binary operator or ValueError."""
        tok, lit = self.consume(KEY_AND_OPERATOR)
        op = {
            Token.IN_TOKEN: IN,
            Token.EQUALS_TOKEN: EQUALS,
            Token.DOUBLE_EQUALS_TOKEN: DOUBLE_EQUALS,
            Token.GREATER_THAN_TOKEN: GREATER_THAN,
            Token.LESS_THAN_TOKEN: LESS_THAN,
            Token.NOT_IN_TOKEN: NOT_IN,
            Token.NOT_EQUALS_TOKEN: NOT_EQUALS,
        }.get(tok)
        if op is None:
            raise ValueError(f"found '{lit}', expected: {', '.join(BINARY_OPERATORS)}")
        return op

    def parse_values(self) -> set[str]:
        """Port of Parser.parseValues: a parenthesised value set."""
        tok, lit = self.consume(VALUES)
        if tok != Token.OPEN_PAR_TOKEN:
            raise ValueError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(VALUES)
        if tok in (Token.IDENTIFIER_TOKEN, Token.COMMA_TOKEN):
            s = self.parse_identifiers_list()
            tok, _ = self.consume(VALUES)
            if tok != Token.CLOSED_PAR_TOKEN:
                raise ValueError(f"found '{lit}', expected: ')'")
            return s
        if tok == Token.CLOSED_PAR_TOKEN:
            self.consume(VALUES)
            return {""}
        raise ValueError(f"found '{lit}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        """Port of Parser.parseIdentifiersList: comma separated, possibly empty values."""
        s: set[str] = set()
        while True:
            tok, lit = self.consume(VALUES)
            if tok == Token.IDENTIFIER_TOKEN:
                s.add(lit)
                tok2, lit2 = self.lookahead(VALUES)
                if tok2 == Token.COMMA_TOKEN:
                    continue
                if tok2 == Token.CLOSED_PAR_TOKEN:
                    return s
                raise ValueError(f"found '{lit2}', expected: ',' or ')'")
            if tok == Token.COMMA_TOKEN:
                if not s:
                    s.add("")
                tok2, _ = self.lookahead(VALUES)
                if tok2 == Token.CLOSED_PAR_TOKEN:
                    s.add("")
                    return s
                if tok2 == Token.COMMA_TOKEN:
                    s.add("")
            else:
                raise ValueError(f"found '{lit}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        """Port of Parser.parseExactValue: the single value of an exact match."""
        tok, _ = self.lookahead(VALUES)
        if tok in (Token.END_OF_STRING_TOKEN, Token.COMMA_TOKEN):
            return {""}
        tok, lit = self.consume(VALUES)
        if tok == Token.IDENTIFIER_TOKEN:
            return {lit}
        raise ValueError(f"found '{lit}', expected: identifier")


def parse(selector: str, path: str = "") -> Selector:
    """Port of Parse: a selector from its string form; raises ValueError when invalid."""
    return InternalSelector(_parse(selector, path))


def _parse(selector: str, path: str) -> list[Requirement]:
    """Port of parse: the requirements sorted (stably) by key."""
    items = Parser(Lexer(selector), path).parse()
    return sorted(items, key=lambda r: r.key)


def _validate_label_key(k: str, path: str) -> FieldError | None:
    """Port of validateLabelKey."""
    errs = is_label_key(k)
    if errs:
        return _invalid(path, k, "; ".join(errs))
    return None


def _validate_label_value(k: str, v: str, path: str) -> FieldError | None:
    """Port of validateLabelValue (the path gets a [key] suffix)."""
    errs = is_valid_label_value(v)
    if errs:
        return _invalid(f"{path}[{k}]", v, "; ".join(errs))
    return None


def selector_from_set(ls: Mapping[str, str] | None) -> Selector:
    """Port of SelectorFromSet: exact match on every pair, no validation."""
    return selector_from_validated_set(ls)


def validated_selector_from_set(ls: Mapping[str, str] | None) -> Selector:
    """Port of ValidatedSelectorFromSet: like selector_from_set but validates each pair."""
    if not ls:
        return InternalSelector()
    reqs = [new_requirement(label, EQUALS, [value]) for label, value in ls.items()]
    return InternalSelector(sorted(reqs, key=lambda r: r.key))


def selector_from_validated_set(ls: Mapping[str, str] | None) -> Selector:
    """Port of SelectorFromValidatedSet: exact match on every pair of a trusted set."""
    if not ls:
        return InternalSelector()
    reqs = [Requirement(label, EQUALS, (value,)) for label, value in ls.items()]
    return InternalSelector(sorted(reqs, key=lambda r: r.key))


def parse_to_requirements(selector: str, path: str = "") -> list[Requirement]:
    """Port of ParseToRequirements."""
    return _parse(selector, path)


class ValidatedSetSelector:
    """Port of ValidatedSetSelector: wraps a trusted label map without copying it."""

    __slots__ = ("_set",)

    def __init__(self, ls: Mapping[str, str] | None) -> None:
        self._set: Mapping[str, str] = ls if ls is not None else {}

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Port of ValidatedSetSelector.Matches."""
        got = labels or {}
        return all(k in got and got[k] == v for k, v in self._set.items())

    def empty(self) -> bool:
        """Port of ValidatedSetSelector.Empty."""
        return len(self._set) == 0

    def string(self) -> str:
        """Port of ValidatedSetSelector.String: sorted "k=v" pairs."""
        return ",".join(f"{k}={self._set[k]}" for k in sorted(self._set))

    def add(self, *reqs: Requirement) -> Selector:
        """Port of ValidatedSetSelector.Add."""
        return self._to_full_selector().add(*reqs)

    def requirements(self) -> tuple[list[Requirement], bool]:
        """Port of ValidatedSetSelector.Requirements."""
        return self._to_full_selector().requirements()

    def deep_copy_selector(self) -> Selector:
        """Port of ValidatedSetSelector.DeepCopySelector."""
        return ValidatedSetSelector(dict(self._set))

    def requires_exact_match(self, label: str) -> tuple[str, bool]:
        """Port of ValidatedSetSelector.RequiresExactMatch."""
        if label in self._set:
            return self._set[label], True
        return "", False

    def _to_full_selector(self) -> Selector:
        """Port of ValidatedSetSelector.toFullSelector."""
        return selector_from_validated_set(self._set)

    def __str__(self) -> str:
        return self.string()


# ---------------------------------------------------------------------------
# apis/meta/v1/helpers.go
# ---------------------------------------------------------------------------


def label_selector_as_selector(ps: V1LabelSelector | None) -> Selector:
    """Port of metav1.LabelSelectorAsSelector: None selects nothing, empty selects all."""
    if ps is None:
        return nothing()
    match_labels = ps.match_labels or {}
    match_expressions = ps.match_expressions or []
    if len(match_labels) + len(match_expressions) == 0:
        return everything()
    requirements: list[Requirement] = []
    for k, v in match_labels.items():
        requirements.append(new_requirement(k, EQUALS, [v]))
    for expr in match_expressions:
        op = {
            LABEL_SELECTOR_OP_IN: IN,
            LABEL_SELECTOR_OP_NOT_IN: NOT_IN,
            LABEL_SELECTOR_OP_EXISTS: EXISTS,
            LABEL_SELECTOR_OP_DOES_NOT_EXIST: DOES_NOT_EXIST,
        }.get(expr.operator)
        if op is None:
            raise ValueError(f"{json.dumps(expr.operator)} is not a valid label selector operator")
        requirements.append(new_requirement(expr.key, op, list(expr.values or [])))
    return new_selector().add(*requirements)


def label_selector_as_map(ps: V1LabelSelector | None) -> dict[str, str] | None:
    """Port of metav1.LabelSelectorAsMap: only matchLabels and single-value In convert.

    Go returns the partial map alongside the error; the error is raised here and the
    partial map is attached to it as ``partial``.
    """
    if ps is None:
        return None
    selector: dict[str, str] = dict(ps.match_labels or {})
    for expr in ps.match_expressions or []:
        op = expr.operator
        values = expr.values or []
        if op == LABEL_SELECTOR_OP_IN:
            if len(values) != 1:
                raise LabelSelectorMapError(
                    f"operator {json.dumps(op)} without a single value cannot be converted "
                    "into the old label selector format",
                    selector,
                )
            selector[expr.key] = values[0]
        elif op in (
            LABEL_SELECTOR_OP_NOT_IN,
            LABEL_SELECTOR_OP_EXISTS,
            LABEL_SELECTOR_OP_DOES_NOT_EXIST,
        ):
            raise LabelSelectorMapError(
                f"operator {json.dumps(op)} cannot be converted into the old label selector format",
                selector,
            )
        else:
            raise LabelSelectorMapError(
                f"{json.dumps(op)} is not a valid selector operator", selector
            )
    return selector


class LabelSelectorMapError(ValueError):
    """Raised by label_selector_as_map; ``partial`` is what Go returns with the error."""

    def __init__(self, message: str, partial: dict[str, str]) -> None:
        super().__init__(message)
        self.partial = partial
