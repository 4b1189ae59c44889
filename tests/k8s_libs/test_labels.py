"""Ported tests: apimachinery labels/selector_test.go, labels/labels_test.go and
apis/meta/v1/helpers_test.go (TestLabelSelectorAsSelector, TestLabelSelectorAsMap).

Skipped: the Benchmark* functions (Go benchmarks) and TestDeepCopy-style checks that
only exercise Go's generated deep-copy code.
"""

from __future__ import annotations

import pytest
from kubernetes.client import V1LabelSelector, V1LabelSelectorRequirement

from jobctl.k8s_libs import labels
from jobctl.k8s_libs.labels import (
    DOES_NOT_EXIST,
    DOUBLE_EQUALS,
    EQUALS,
    ERROR_TYPE_INVALID,
    ERROR_TYPE_NOT_SUPPORTED,
    EXISTS,
    GREATER_THAN,
    IN,
    LESS_THAN,
    NOT_EQUALS,
    NOT_IN,
    AggregateError,
    InternalSelector,
    Lexer,
    Parser,
    Requirement,
    Token,
)

T = Token


def _req(key: str, op: str, vals: set[str] | None = None) -> Requirement:
    """Port of getRequirement: NewRequirement with the values sorted, as sets.String.List does."""
    return labels.new_requirement(key, op, sorted(vals or set()))


# --- selector_test.go -------------------------------------------------------


GOOD_STRINGS = [
    "x=a,y=b,z=c",
    "",
    "x!=a,y=b",
    "x=",
    "x= ",
    "x=,z= ",
    "x= ,z= ",
    "!x",
    "x>1",
    "x>1,z<5",
]
BAD_STRINGS = ["x=a||y=b", "x==a==b", "!x=a", "x<a"]


@pytest.mark.parametrize("test", GOOD_STRINGS)
def test_selector_parse_good(test: str) -> None:
    lq = labels.parse(test)
    assert lq.string() == test.replace(" ", "")


@pytest.mark.parametrize("test", BAD_STRINGS)
def test_selector_parse_bad(test: str) -> None:
    with pytest.raises(ValueError):
        labels.parse(test)


def test_deterministic_parse() -> None:
    s1 = labels.parse("x=a,a=x")
    s2 = labels.parse("a=x,x=a")
    assert s1.string() == s2.string()


def _expect_match(selector: str, ls: dict[str, str]) -> None:
    assert labels.parse(selector).matches(ls), f"wanted {selector} to match {ls}"


def _expect_no_match(selector: str, ls: dict[str, str]) -> None:
    assert not labels.parse(selector).matches(ls), f"wanted {selector} not to match {ls}"


def test_everything() -> None:
    assert labels.everything().matches({"x": "y"})
    assert labels.everything().empty()


def test_selector_matches() -> None:
    _expect_match("", {"x": "y"})
    _expect_match("x=y", {"x": "y"})
    _expect_match("x=y,z=w", {"x": "y", "z": "w"})
    _expect_match("x!=y,z!=w", {"x": "z", "z": "a"})
    _expect_match("notin=in", {"notin": "in"})
    _expect_match("x", {"x": "z"})
    _expect_match("!x", {"y": "z"})
    _expect_match("x>1", {"x": "2"})
    _expect_match("x<1", {"x": "0"})
    _expect_no_match("x=z", {})
    _expect_no_match("x=y", {"x": "z"})
    _expect_no_match("x=y,z=w", {"x": "w", "z": "w"})
    _expect_no_match("x!=y,z!=w", {"x": "z", "z": "w"})
    _expect_no_match("x", {"y": "z"})
    _expect_no_match("!x", {"x": "z"})
    _expect_no_match("x>1", {"x": "0"})
    _expect_no_match("x<1", {"x": "2"})

    labelset = {"foo": "bar", "baz": "blah"}
    _expect_match("foo=bar", labelset)
    _expect_match("baz=blah", labelset)
    _expect_match("foo=bar,baz=blah", labelset)
    _expect_no_match("foo=blah", labelset)
    _expect_no_match("baz=bar", labelset)
    _expect_no_match("foo=bar,foobar=bar,baz=blah", labelset)


def test_set_matches() -> None:
    labelset = {"foo": "bar", "baz": "blah"}
    for selector in ({}, {"foo": "bar"}, {"baz": "blah"}, {"foo": "bar", "baz": "blah"}):
        assert labels.selector_from_set(selector).matches(labelset)


def test_nil_map_is_valid() -> None:
    selector = labels.set_as_selector(None)
    assert selector is not None
    assert selector.empty()


def test_set_is_empty() -> None:
    assert labels.set_as_selector({}).empty()
    assert labels.new_selector().empty()


@pytest.mark.parametrize(
    ("s", "t"),
    [
        ("", T.END_OF_STRING_TOKEN),
        (",", T.COMMA_TOKEN),
        ("notin", T.NOT_IN_TOKEN),
        ("in", T.IN_TOKEN),
        ("=", T.EQUALS_TOKEN),
        ("==", T.DOUBLE_EQUALS_TOKEN),
        (">", T.GREATER_THAN_TOKEN),
        ("<", T.LESS_THAN_TOKEN),
        ("!", T.DOES_NOT_EXIST_TOKEN),
        ("!=", T.NOT_EQUALS_TOKEN),
        ("(", T.OPEN_PAR_TOKEN),
        (")", T.CLOSED_PAR_TOKEN),
        ("~", T.IDENTIFIER_TOKEN),
        ("||", T.IDENTIFIER_TOKEN),
    ],
)
def test_lexer(s: str, t: Token) -> None:
    token, lit = Lexer(s).lex()
    assert token == t
    if t != T.ERROR_TOKEN:
        assert lit == s


LEXER_SEQUENCES = [
    (
        "key in ( value )",
        [T.IDENTIFIER_TOKEN, T.IN_TOKEN, T.OPEN_PAR_TOKEN, T.IDENTIFIER_TOKEN, T.CLOSED_PAR_TOKEN],
    ),
    (
        "key notin ( value )",
        [
            T.IDENTIFIER_TOKEN,
            T.NOT_IN_TOKEN,
            T.OPEN_PAR_TOKEN,
            T.IDENTIFIER_TOKEN,
            T.CLOSED_PAR_TOKEN,
        ],
    ),
    (
        "key in ( value1, value2 )",
        [
            T.IDENTIFIER_TOKEN,
            T.IN_TOKEN,
            T.OPEN_PAR_TOKEN,
            T.IDENTIFIER_TOKEN,
            T.COMMA_TOKEN,
            T.IDENTIFIER_TOKEN,
            T.CLOSED_PAR_TOKEN,
        ],
    ),
    ("key", [T.IDENTIFIER_TOKEN]),
    ("!key", [T.DOES_NOT_EXIST_TOKEN, T.IDENTIFIER_TOKEN]),
    ("()", [T.OPEN_PAR_TOKEN, T.CLOSED_PAR_TOKEN]),
    (
        "x in (),y",
        [
            T.IDENTIFIER_TOKEN,
            T.IN_TOKEN,
            T.OPEN_PAR_TOKEN,
            T.CLOSED_PAR_TOKEN,
            T.COMMA_TOKEN,
            T.IDENTIFIER_TOKEN,
        ],
    ),
    (
        "== != (), = notin",
        [
            T.DOUBLE_EQUALS_TOKEN,
            T.NOT_EQUALS_TOKEN,
            T.OPEN_PAR_TOKEN,
            T.CLOSED_PAR_TOKEN,
            T.COMMA_TOKEN,
            T.EQUALS_TOKEN,
            T.NOT_IN_TOKEN,
        ],
    ),
    ("key>2", [T.IDENTIFIER_TOKEN, T.GREATER_THAN_TOKEN, T.IDENTIFIER_TOKEN]),
    ("key<1", [T.IDENTIFIER_TOKEN, T.LESS_THAN_TOKEN, T.IDENTIFIER_TOKEN]),
]


@pytest.mark.parametrize(("s", "t"), LEXER_SEQUENCES)
def test_lexer_sequence(s: str, t: list[Token]) -> None:
    lexer = Lexer(s)
    tokens = []
    while True:
        token, _ = lexer.lex()
        if token == T.END_OF_STRING_TOKEN:
            break
        tokens.append(token)
    assert tokens == t


@pytest.mark.parametrize(
    ("s", "t"),
    [(s, [*t, T.END_OF_STRING_TOKEN]) for s, t in LEXER_SEQUENCES]
    + [("", [T.END_OF_STRING_TOKEN])],
)
def test_parser_lookahead(s: str, t: list[Token]) -> None:
    p = Parser(Lexer(s))
    p.scan()
    assert len(p.scanned_items) == len(t)
    while True:
        token, lit = p.lookahead(labels.KEY_AND_OPERATOR)
        token2, lit2 = p.consume(labels.KEY_AND_OPERATOR)
        if token == T.END_OF_STRING_TOKEN:
            break
        assert (token, lit) == (token2, lit2)


_BINARY = ", ".join(labels.BINARY_OPERATORS)


@pytest.mark.parametrize(
    ("token", "expected_error"),
    [
        ("in", None),
        ("=", None),
        ("==", None),
        (">", None),
        ("<", None),
        ("notin", None),
        ("!=", None),
        ("!", f"found '{DOES_NOT_EXIST}', expected: {_BINARY}"),
        ("exists", f"found '{EXISTS}', expected: {_BINARY}"),
        ("(", f"found '(', expected: {_BINARY}"),
    ],
)
def test_parse_operator(token: str, expected_error: str | None) -> None:
    p = Parser(Lexer(token))
    p.scan()
    if expected_error is None:
        p.parse_operator()
    else:
        with pytest.raises(ValueError) as exc:
            p.parse_operator()
        assert str(exc.value) == expected_error


_ReqCase = tuple[str, str, set[str] | None, list[tuple[str, str, object]]]
REQUIREMENT_CONSTRUCTOR_TESTS: list[_ReqCase] = [
    ("x1", IN, None, [(ERROR_TYPE_INVALID, "values", [])]),
    ("x2", NOT_IN, set(), [(ERROR_TYPE_INVALID, "values", [])]),
    ("x3", IN, {"foo"}, []),
    ("x4", NOT_IN, {"foo"}, []),
    ("x5", EQUALS, {"foo", "bar"}, [(ERROR_TYPE_INVALID, "values", ["bar", "foo"])]),
    ("x6", EXISTS, None, []),
    ("x7", DOES_NOT_EXIST, None, []),
    ("x8", EXISTS, {"foo"}, [(ERROR_TYPE_INVALID, "values", ["foo"])]),
    ("x9", IN, {"bar"}, []),
    ("x10", IN, {"bar"}, []),
    ("x11", GREATER_THAN, {"1"}, []),
    ("x12", LESS_THAN, {"6"}, []),
    ("x13", GREATER_THAN, None, [(ERROR_TYPE_INVALID, "values", [])]),
    ("x14", GREATER_THAN, {"bar"}, [(ERROR_TYPE_INVALID, "values[0]", "bar")]),
    ("x15", LESS_THAN, {"bar"}, [(ERROR_TYPE_INVALID, "values[0]", "bar")]),
    ("a" * 254, EXISTS, None, [(ERROR_TYPE_INVALID, "key", "a" * 254)]),
    ("x16", EQUALS, {"a" * 254}, [(ERROR_TYPE_INVALID, "values[0][x16]", "a" * 254)]),
    ("x17", EQUALS, {"a b"}, [(ERROR_TYPE_INVALID, "values[0][x17]", "a b")]),
    ("x18", "unsupportedOp", None, [(ERROR_TYPE_NOT_SUPPORTED, "operator", "unsupportedOp")]),
]


@pytest.mark.parametrize(
    ("key", "op", "vals", "want_err"),
    REQUIREMENT_CONSTRUCTOR_TESTS,
    ids=[t[0][:20] for t in REQUIREMENT_CONSTRUCTOR_TESTS],
)
def test_requirement_constructor(
    key: str, op: str, vals: set[str] | None, want_err: list[tuple[str, str, object]]
) -> None:
    if not want_err:
        labels.new_requirement(key, op, sorted(vals or set()))
        return
    with pytest.raises(AggregateError) as exc:
        labels.new_requirement(key, op, sorted(vals or set()))
    got = [(e.type, e.field, e.bad_value) for e in exc.value.errors]
    assert got == want_err


def test_to_string() -> None:
    req = Requirement()
    cases = [
        (
            InternalSelector(
                [_req("x", IN, {"abc", "def"}), _req("y", NOT_IN, {"jkl"}), _req("z", EXISTS)]
            ),
            "x in (abc,def),y notin (jkl),z",
            True,
        ),
        (
            InternalSelector(
                [
                    _req("x", NOT_IN, {"abc", "def"}),
                    _req("y", NOT_EQUALS, {"jkl"}),
                    _req("z", DOES_NOT_EXIST),
                ]
            ),
            "x notin (abc,def),y!=jkl,!z",
            True,
        ),
        (InternalSelector([_req("x", IN, {"abc", "def"}), req]), "x in (abc,def),", False),
        (
            InternalSelector(
                [_req("x", NOT_IN, {"abc"}), _req("y", IN, {"jkl", "mno"}), _req("z", NOT_IN, {""})]
            ),
            "x notin (abc),y in (jkl,mno),z notin ()",
            True,
        ),
        (
            InternalSelector(
                [
                    _req("x", EQUALS, {"abc"}),
                    _req("y", DOUBLE_EQUALS, {"jkl"}),
                    _req("z", NOT_EQUALS, {"a"}),
                    _req("z", EXISTS),
                ]
            ),
            "x=abc,y==jkl,z!=a,z",
            True,
        ),
        (
            InternalSelector(
                [_req("x", GREATER_THAN, {"2"}), _req("y", LESS_THAN, {"8"}), _req("z", EXISTS)]
            ),
            "x>2,y<8,z",
            True,
        ),
    ]
    for sel, out, valid in cases:
        got = sel.string()
        assert not (got == "" and valid)
        assert got == out


def test_requirement_selector_matching() -> None:
    req = Requirement()
    cases = [
        ({"x": "foo", "y": "baz"}, InternalSelector([req]), False),
        (
            {"x": "foo", "y": "baz"},
            InternalSelector([_req("x", IN, {"foo"}), _req("y", NOT_IN, {"alpha"})]),
            True,
        ),
        (
            {"x": "foo", "y": "baz"},
            InternalSelector([_req("x", IN, {"foo"}), _req("y", IN, {"alpha"})]),
            False,
        ),
        ({"y": ""}, InternalSelector([_req("x", NOT_IN, {""}), _req("y", EXISTS)]), True),
        ({"y": ""}, InternalSelector([_req("x", DOES_NOT_EXIST), _req("y", EXISTS)]), True),
        ({"y": ""}, InternalSelector([_req("x", NOT_IN, {""}), _req("y", DOES_NOT_EXIST)]), False),
        ({"y": "baz"}, InternalSelector([_req("x", IN, {""})]), False),
        ({"z": "2"}, InternalSelector([_req("z", GREATER_THAN, {"1"})]), True),
        ({"z": "v2"}, InternalSelector([_req("z", GREATER_THAN, {"1"})]), False),
    ]
    for ls, sel, match in cases:
        assert sel.matches(ls) == match, (sel, ls)


SET_SELECTOR_PARSER_TESTS: list[tuple[str, InternalSelector | None, bool, bool]] = [
    ("", InternalSelector(), True, True),
    ("\rx", InternalSelector([_req("x", EXISTS)]), True, True),
    (
        "this-is-a-dns.domain.com/key-with-dash",
        InternalSelector([_req("this-is-a-dns.domain.com/key-with-dash", EXISTS)]),
        True,
        True,
    ),
    (
        "this-is-another-dns.domain.com/key-with-dash in (so,what)",
        InternalSelector(
            [_req("this-is-another-dns.domain.com/key-with-dash", IN, {"so", "what"})]
        ),
        True,
        True,
    ),
    (
        "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
        InternalSelector([_req("0.1.2.domain/99", NOT_IN, {"10.10.100.1", "tick.tack.clock"})]),
        True,
        True,
    ),
    ("foo  in\t (abc)", InternalSelector([_req("foo", IN, {"abc"})]), True, True),
    ("x notin\n (abc)", InternalSelector([_req("x", NOT_IN, {"abc"})]), True, True),
    ("x  notin\t\t\t(abc,def)", InternalSelector([_req("x", NOT_IN, {"abc", "def"})]), True, True),
    ("x in (abc,def)", InternalSelector([_req("x", IN, {"abc", "def"})]), True, True),
    ("x in (abc,)", InternalSelector([_req("x", IN, {"abc", ""})]), True, True),
    ("x in (abc,abc)", InternalSelector([_req("x", IN, {"abc"})]), True, True),
    ("x in ()", InternalSelector([_req("x", IN, {""})]), True, True),
    ("x in (a,,)", InternalSelector([_req("x", IN, {"a", ""})]), True, True),
    ("x in (a,,,)", InternalSelector([_req("x", IN, {"a", ""})]), True, True),
    ("x in (a,,,,,,)", InternalSelector([_req("x", IN, {"a", ""})]), True, True),
    ("x in (a,,a,,a,,a,,)", InternalSelector([_req("x", IN, {"a", ""})]), True, True),
    (
        "x notin (abc,,def),bar,z in (),w",
        InternalSelector(
            [
                _req("bar", EXISTS),
                _req("w", EXISTS),
                _req("x", NOT_IN, {"abc", "", "def"}),
                _req("z", IN, {""}),
            ]
        ),
        True,
        True,
    ),
    ("x,y in (a)", InternalSelector([_req("y", IN, {"a"}), _req("x", EXISTS)]), False, True),
    ("x=a", InternalSelector([_req("x", EQUALS, {"a"})]), True, True),
    ("x>1", InternalSelector([_req("x", GREATER_THAN, {"1"})]), True, True),
    ("x<7", InternalSelector([_req("x", LESS_THAN, {"7"})]), True, True),
    (
        "x=a,y!=b",
        InternalSelector([_req("x", EQUALS, {"a"}), _req("y", NOT_EQUALS, {"b"})]),
        True,
        True,
    ),
    (
        "x=a,y!=b,z in (h,i,j)",
        InternalSelector(
            [_req("x", EQUALS, {"a"}), _req("y", NOT_EQUALS, {"b"}), _req("z", IN, {"h", "i", "j"})]
        ),
        True,
        True,
    ),
    ("x=a||y=b", InternalSelector(), False, False),
    ("x,,y", None, True, False),
    (",x,y", None, True, False),
    ("x nott in (y)", None, True, False),
    ("x notin ( )", InternalSelector([_req("x", NOT_IN, {""})]), True, True),
    ("x notin (, a)", InternalSelector([_req("x", NOT_IN, {"", "a"})]), True, True),
    ("a in (xyz),", None, True, False),
    ("a in (xyz)b notin ()", None, True, False),
    ("a ", InternalSelector([_req("a", EXISTS)]), True, True),
    (
        "a in (x,y,notin, z,in)",
        InternalSelector([_req("a", IN, {"in", "notin", "x", "y", "z"})]),
        True,
        True,
    ),
    ("a in (xyz abc)", None, False, False),
    ("a notin(", None, True, False),
    ("a (", None, False, False),
    ("(", None, False, False),
]


@pytest.mark.parametrize(
    ("text", "out", "match", "valid"),
    SET_SELECTOR_PARSER_TESTS,
    ids=[repr(t[0]) for t in SET_SELECTOR_PARSER_TESTS],
)
def test_set_selector_parser(
    text: str, out: InternalSelector | None, match: bool, valid: bool
) -> None:
    if not valid:
        with pytest.raises(ValueError):
            labels.parse(text)
        return
    sel = labels.parse(text)
    if match:
        assert sel == out


@pytest.mark.parametrize(
    ("name", "sel", "key", "operator", "values", "ref_selector"),
    [
        (
            "keyInOperator",
            InternalSelector(),
            "key",
            IN,
            ["value"],
            InternalSelector([Requirement("key", IN, ("value",))]),
        ),
        (
            "keyEqualsOperator",
            InternalSelector([Requirement("key", IN, ("value",))]),
            "key2",
            EQUALS,
            ["value2"],
            InternalSelector(
                [Requirement("key", IN, ("value",)), Requirement("key2", EQUALS, ("value2",))]
            ),
        ),
    ],
    ids=["keyInOperator", "keyEqualsOperator"],
)
def test_add(
    name: str,
    sel: InternalSelector,
    key: str,
    operator: str,
    values: list[str],
    ref_selector: InternalSelector,
) -> None:
    req = labels.new_requirement(key, operator, values)
    assert sel.add(req) == ref_selector


@pytest.mark.parametrize(
    ("values", "want"),
    [
        ([], []),
        (["bar", "foo"], ["bar", "foo"]),
        (["foo", "bar"], ["bar", "foo"]),
        (["foo", "bar", "foo", "bar"], ["bar", "bar", "foo", "foo"]),
    ],
    ids=["nil strings", "ordered strings", "unordered strings", "duplicated strings"],
)
def test_safe_sort(values: list[str], want: list[str]) -> None:
    copy = list(values)
    assert labels._safe_sort(values) == want
    assert values == copy


@pytest.mark.parametrize(
    ("ls", "out"),
    [({}, ""), ({"app": "foo"}, "app=foo"), ({"app": "foo", "a": "b"}, "a=b,app=foo")],
)
def test_set_selector_string(ls: dict[str, str], out: str) -> None:
    assert labels.ValidatedSetSelector(ls).string() == out


@pytest.mark.parametrize(
    ("name", "sel", "label", "expected_found", "expected_value"),
    [
        ("keyInOperatorExactMatch", [Requirement("key", IN, ("value",))], "key", True, "value"),
        (
            "keyInOperatorNotExactMatch",
            [Requirement("key", IN, ("value", "value2"))],
            "key",
            False,
            "",
        ),
        (
            "keyInOperatorNotExactMatch2",
            [Requirement("key", IN, ("value", "value1")), Requirement("key2", IN, ("value2",))],
            "key2",
            True,
            "value2",
        ),
        (
            "keyEqualOperatorExactMatch",
            [Requirement("key", EQUALS, ("value",))],
            "key",
            True,
            "value",
        ),
        (
            "keyDoubleEqualOperatorExactMatch",
            [Requirement("key", DOUBLE_EQUALS, ("value",))],
            "key",
            True,
            "value",
        ),
        (
            "keyNotEqualOperatorExactMatch",
            [Requirement("key", NOT_EQUALS, ("value",))],
            "key",
            False,
            "",
        ),
        (
            "keyEqualOperatorExactMatchFirst",
            [Requirement("key", IN, ("value",)), Requirement("key2", IN, ("value2",))],
            "key",
            True,
            "value",
        ),
    ],
)
def test_requires_exact_match(
    name: str, sel: list[Requirement], label: str, expected_found: bool, expected_value: str
) -> None:
    value, found = InternalSelector(sel).requires_exact_match(label)
    assert found == expected_found
    if found:
        assert value == expected_value


def test_validated_selector_from_set_simple_set_no_error() -> None:
    selector = labels.validated_selector_from_set({"key": "val"})
    assert selector == InternalSelector([Requirement("key", EQUALS, ("val",))])


def test_validated_selector_from_set_invalid_set_value_too_long() -> None:
    value = "axahm2EJ8Phiephe2eixohbee9eGeiyees1thuozi1xoh0GiuH3diewi8iem7Nui"
    with pytest.raises(AggregateError) as exc:
        labels.validated_selector_from_set({"Key": value})
    assert [(e.type, e.field, e.bad_value) for e in exc.value.errors] == [
        (ERROR_TYPE_INVALID, "values[0][Key]", value)
    ]


@pytest.mark.parametrize(
    ("x", "y", "want"),
    [
        (
            Requirement("key", EQUALS, ("foo", "bar")),
            Requirement("key", EQUALS, ("foo", "bar")),
            True,
        ),
        (
            Requirement("key1", EQUALS, ("foo", "bar")),
            Requirement("key2", EQUALS, ("foo", "bar")),
            False,
        ),
        (Requirement("key", EQUALS, ("foo", "bar")), Requirement("key", IN, ("foo", "bar")), False),
        (
            Requirement("key", EQUALS, ("foo", "bar")),
            Requirement("key", EQUALS, ("foobar",)),
            False,
        ),
    ],
    ids=[
        "same requirements should be equal",
        "requirements with different keys should not be equal",
        "requirements with different operators should not be equal",
        "requirements with different values should not be equal",
    ],
)
def test_requirement_equal(x: Requirement, y: Requirement, want: bool) -> None:
    assert x.equal(y) == want


MATCHES_NOTHING_SELECTORS: list[tuple[str, str]] = [
    ("MatchNothing should not match empty selector", ""),
    ("MatchNothing should not match non-empty selector - exists", "a"),
    ("MatchNothing should not match non-empty selector - not exists", "!a"),
    ("MatchNothing should not match non-empty selector - equals", "a=b"),
    ("MatchNothing should not match non-empty selector - not equals", "a!=b"),
    ("MatchNothing should not match non-empty selector - in", "a in (b)"),
    ("MatchNothing should not match non-empty selector - notin", "a notin (b)"),
    ("MatchNothing should not match non-empty selector - conflict exists and not exists", "a,!a"),
    (
        "MatchNothing should not match non-empty selector - conflict equals and not equals",
        "a=b,a!=b",
    ),
    (
        "MatchNothing should not match non-empty selector - conflict in and notin",
        "a in (b),a notin (b)",
    ),
]


def test_matches_nothing() -> None:
    assert labels.matches_nothing(labels.nothing())
    assert labels.matches_nothing(labels._SHARED_NOTHING_SELECTOR)
    assert not labels.matches_nothing(labels.everything())
    assert not labels.matches_nothing(labels._SHARED_EVERYTHING_SELECTOR)
    assert not labels.matches_nothing(labels.selector_from_set({}))
    assert not labels.matches_nothing(labels.selector_from_set({"key": "value"}))


@pytest.mark.parametrize(
    "selector",
    [s for _, s in MATCHES_NOTHING_SELECTORS],
    ids=[n for n, _ in MATCHES_NOTHING_SELECTORS],
)
def test_matches_nothing_parsed(selector: str) -> None:
    assert not labels.matches_nothing(labels.parse(selector))


# --- labels_test.go -----------------------------------------------------------


def test_set_string() -> None:
    assert labels.set_string({"x": "y"}) == "x=y"
    assert labels.set_string({"foo": "bar"}) == "foo=bar"
    assert labels.set_string({"foo": "bar", "baz": "qup"}) == "baz=qup,foo=bar"


@pytest.mark.parametrize(
    ("ls", "key", "has"),
    [({"x": "y"}, "x", True), ({"x": ""}, "x", True), ({"x": "y"}, "foo", False)],
)
def test_label_has(ls: dict[str, str], key: str, has: bool) -> None:
    assert labels.selector_from_set(None).matches(ls)
    assert (key in ls) == has
    assert labels.parse(key).matches(ls) == has


def test_label_get() -> None:
    ls = {"x": "y"}
    assert ls.get("x") == "y"
    assert labels.parse("x=y").matches(ls)


@pytest.mark.parametrize(
    ("labels1", "labels2", "conflict"),
    [
        ({}, {}, False),
        ({"env": "test"}, {"infra": "true"}, False),
        ({"env": "test"}, {"infra": "true", "env": "test"}, False),
        ({"env": "test"}, {"env": "dev"}, True),
        ({"env": "test", "infra": "false"}, {"infra": "true", "color": "blue"}, True),
    ],
)
def test_label_conflict(labels1: dict[str, str], labels2: dict[str, str], conflict: bool) -> None:
    assert labels.conflicts(labels1, labels2) == conflict


@pytest.mark.parametrize(
    ("labels1", "labels2", "merged"),
    [
        ({}, {}, {}),
        ({"infra": "true"}, {}, {"infra": "true"}),
        (
            {"infra": "true"},
            {"env": "test", "color": "blue"},
            {"infra": "true", "env": "test", "color": "blue"},
        ),
    ],
)
def test_label_merge(
    labels1: dict[str, str], labels2: dict[str, str], merged: dict[str, str]
) -> None:
    assert labels.equals(labels.merge(labels1, labels2), merged)


@pytest.mark.parametrize(
    ("selector", "expected", "valid"),
    [
        ("", {}, True),
        ("x=a", {"x": "a"}, True),
        ("x=a,y=b,z=c", {"x": "a", "y": "b", "z": "c"}, True),
        (" x = a , y = b , z = c ", {"x": "a", "y": "b", "z": "c"}, True),
        (
            "color=green,env=test,service=front",
            {"color": "green", "env": "test", "service": "front"},
            True,
        ),
        (
            "color=green, env=test, service=front",
            {"color": "green", "env": "test", "service": "front"},
            True,
        ),
        (",", {}, False),
        ("x", {}, False),
        ("x,y", {}, False),
        ("x=$y", {}, False),
        ("x!=y", {}, False),
        ("x==y", {}, False),
        ("x=a||y=b", {}, False),
        ("x in (y)", {}, False),
        ("x notin (y)", {}, False),
        ("x y", {}, False),
    ],
)
def test_label_selector_parse(selector: str, expected: dict[str, str], valid: bool) -> None:
    if valid:
        assert labels.equals(labels.convert_selector_to_labels_map(selector), expected)
    else:
        with pytest.raises(ValueError):
            labels.convert_selector_to_labels_map(selector)


# --- apis/meta/v1/helpers_test.go ---------------------------------------------

_MATCH_LABELS = {"foo": "bar"}


def _match_expressions() -> list[V1LabelSelectorRequirement]:
    return [V1LabelSelectorRequirement(key="baz", operator="In", values=["qux", "norf"])]


@pytest.mark.parametrize(
    ("inp", "out", "expect_err"),
    [
        (None, labels.nothing(), False),
        (V1LabelSelector(), labels.everything(), False),
        (V1LabelSelector(match_labels=_MATCH_LABELS), labels.parse("foo=bar"), False),
        (
            V1LabelSelector(match_expressions=_match_expressions()),
            labels.parse("baz in (norf,qux)"),
            False,
        ),
        (
            V1LabelSelector(match_labels=_MATCH_LABELS, match_expressions=_match_expressions()),
            labels.parse("baz in (norf,qux),foo=bar"),
            False,
        ),
        (
            V1LabelSelector(
                match_expressions=[
                    V1LabelSelectorRequirement(key="baz", operator="Exists", values=["qux", "norf"])
                ]
            ),
            None,
            True,
        ),
    ],
)
def test_label_selector_as_selector(
    inp: V1LabelSelector | None, out: labels.Selector | None, expect_err: bool
) -> None:
    in_copy = inp.model_copy(deep=True) if inp is not None else None
    if expect_err:
        with pytest.raises(ValueError):
            labels.label_selector_as_selector(inp)
    else:
        got = labels.label_selector_as_selector(inp)
        assert out is not None
        assert got.string() == out.string()
        assert got.empty() == out.empty()
        assert labels.matches_nothing(got) == labels.matches_nothing(out)
    assert inp == in_copy


def test_label_selector_as_selector_invalid_operator() -> None:
    sel = V1LabelSelector(
        match_expressions=[V1LabelSelectorRequirement(key="baz", operator="Bogus", values=["x"])]
    )
    with pytest.raises(ValueError, match='"Bogus" is not a valid label selector operator'):
        labels.label_selector_as_selector(sel)


def _exprs(operator: str, values: list[str]) -> list[V1LabelSelectorRequirement]:
    return [V1LabelSelectorRequirement(key="baz", operator=operator, values=values)]


@pytest.mark.parametrize(
    ("inp", "out", "err_string"),
    [
        (None, None, ""),
        (V1LabelSelector(match_labels=_MATCH_LABELS), {"foo": "bar"}, ""),
        (
            V1LabelSelector(match_labels=_MATCH_LABELS, match_expressions=_exprs("In", ["norf"])),
            {"foo": "bar", "baz": "norf"},
            "",
        ),
        (V1LabelSelector(match_expressions=_exprs("In", ["norf"])), {"baz": "norf"}, ""),
        (
            V1LabelSelector(
                match_labels=_MATCH_LABELS, match_expressions=_exprs("In", ["norf", "qux"])
            ),
            {"foo": "bar"},
            "without a single value cannot be converted",
        ),
        (
            V1LabelSelector(match_expressions=_exprs("NotIn", ["norf", "qux"])),
            {},
            "cannot be converted",
        ),
        (
            V1LabelSelector(match_labels=_MATCH_LABELS, match_expressions=_exprs("Exists", [])),
            {"foo": "bar"},
            "cannot be converted",
        ),
        (
            V1LabelSelector(match_expressions=_exprs("DoesNotExist", [])),
            {},
            "cannot be converted",
        ),
    ],
)
def test_label_selector_as_map(
    inp: V1LabelSelector | None, out: dict[str, str] | None, err_string: str
) -> None:
    if not err_string:
        assert labels.label_selector_as_map(inp) == out
        return
    with pytest.raises(labels.LabelSelectorMapError) as exc:
        labels.label_selector_as_map(inp)
    assert err_string in str(exc.value)
    assert exc.value.partial == out


# --- not in upstream ----------------------------------------------------------


@pytest.mark.parametrize(
    "selector",
    ["", "x=a", "x==a,y in (b,c)", "x in (a,b)", "x=a,y=b,z=", "x=a,y!=b", "x,y notin (b)"],
)
def test_equality_fast_path_matches_like_requirements(selector: str) -> None:
    """InternalSelector.matches keeps (key, values) pairs when every requirement is =, ==
    or in; its answer must be the requirements' own, for any label set."""
    sel = labels.parse(selector)
    reqs, _ = sel.requirements()
    label_sets: list[dict[str, str] | None] = [
        None,
        {},
        {"x": "a"},
        {"x": "b"},
        {"x": ""},
        {"y": "b"},
        {"x": "a", "y": "b"},
        {"x": "a", "y": "c"},
        {"x": "a", "y": "b", "z": ""},
        {"x": "a", "y": "d", "z": "e"},
    ]
    for ls in label_sets:
        assert sel.matches(ls) == all(r.matches(ls) for r in reqs), ls
