"""Port of client-go tools/cache/object-names_test.go."""

from __future__ import annotations

import random

from jobctl.informers.store import ObjectName, parse_object_name


def test_object_names() -> None:
    chars = "abcdefghi/"
    rng = random.Random(20230401)
    for _ in range(100):
        encoded_s = "".join(rng.choice(chars) for _ in range(10))
        parts = encoded_s.split("/")
        expect_error = len(parts) > 2
        try:
            on = parse_object_name(encoded_s)
        except ValueError:
            assert expect_error, f"unexpected error for {encoded_s!r}"
            continue
        assert not expect_error, f"expected an error for {encoded_s!r}"
        if len(parts) == 2:
            expected_object_name = ObjectName(namespace=parts[0], name=parts[1])
        else:
            expected_object_name = ObjectName(name=encoded_s)
        assert on == expected_object_name
        recoded = str(on)
        if encoded_s[0] == "/":
            recoded = "/" + recoded
        assert encoded_s == recoded, "Parse().String() was not identity"
