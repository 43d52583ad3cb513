"""What one field's text may look like: ASCII numbers, times from 1970 to 2099, no controls."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.importers.values import (
    BadValue,
    identifier_check,
    integer_parse,
    number_parse,
    text_check,
    timestamp_parse,
)


@pytest.mark.parametrize("raw, value", [("3", 3), ("+7", 7), ("-0", 0), ("0150", 150)])
def test_integers_are_ascii_digits_with_an_optional_sign(raw: str, value: int) -> None:
    assert integer_parse(raw, low=0, high=150) == value


@pytest.mark.parametrize("raw", ["٣", "3_0", "3.0", "1e2", " 3", "", "+", "３"])
def test_anything_else_is_not_an_integer(raw: str) -> None:
    with pytest.raises(BadValue, match="is not an integer"):
        integer_parse(raw, low=0, high=150)


@pytest.mark.parametrize("raw", ["151", "-1", "9" * 5000])
def test_integers_outside_the_range_are_refused_however_long(raw: str) -> None:
    with pytest.raises(BadValue, match="is out of range 0-150"):
        integer_parse(raw, low=0, high=150)


@pytest.mark.parametrize(
    "raw, value", [("4", 4.0), ("3.5", 3.5), (".5", 0.5), ("5.", 5.0), ("-1e0", -1.0), ("2E+0", 2)]
)
def test_numbers_are_plain_decimals_with_an_optional_exponent(raw: str, value: float) -> None:
    assert number_parse(raw) == value


@pytest.mark.parametrize("raw", ["nan", "inf", "-Infinity", "٣", "3_0", "0x10", "1,5", "."])
def test_nan_inf_and_non_ascii_digits_are_not_numbers(raw: str) -> None:
    with pytest.raises(BadValue, match="is not a number"):
        number_parse(raw)


def test_a_number_too_large_for_a_float_is_refused() -> None:
    with pytest.raises(BadValue, match="is too large"):
        number_parse("1e400")


@pytest.mark.parametrize(
    "raw, moment",
    [
        ("874965758", datetime(1997, 9, 22, 22, 2, 38, tzinfo=UTC)),
        ("874965758.0", datetime(1997, 9, 22, 22, 2, 38, tzinfo=UTC)),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
        ("2001-09-09", datetime(2001, 9, 9, tzinfo=UTC)),
        ("2001-09-09T01:46:40Z", datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)),
        ("2001-09-09 03:46:40+02:00", datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)),
        ("2099-12-31T23:59:59", datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_times_are_unix_seconds_or_iso_8601_in_utc(raw: str, moment: datetime) -> None:
    assert timestamp_parse(raw) == moment


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("20200101", "looks like a YYYYMMDD date, not Unix seconds; write '2020-01-01'"),
        ("1577836800000", "before 1970 or after 2099; Unix milliseconds?"),
        ("-1", "before 1970 or after 2099"),
        ("1e400", "before 1970 or after 2099"),
        ("9" * 400, "before 1970 or after 2099"),
        ("4102444800", "before 1970 or after 2099"),
        ("1969-12-31T23:59:59Z", "before 1970 or after 2099"),
        ("2100-01-01", "before 1970 or after 2099"),
        ("9999-12-31T23:59:59-05:00", "before 1970 or after 2099"),
        ("0001-01-01T00:00+05:00", "before 1970 or after 2099"),
        ("99999-01-01", "neither Unix seconds nor an ISO 8601 date"),
        ("2020-01-01x10:00", "neither Unix seconds nor an ISO 8601 date"),
        ("٢٠٢٠-01-01", "neither Unix seconds nor an ISO 8601 date"),
        ("2020-13-01", "neither Unix seconds nor an ISO 8601 date"),
        ("nan", "neither Unix seconds nor an ISO 8601 date"),
        ("yesterday", "neither Unix seconds nor an ISO 8601 date"),
    ],
)
def test_times_outside_1970_to_2099_or_of_no_known_form_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(BadValue, match=reason.replace("?", r"\?")):
        timestamp_parse(raw)


@pytest.mark.parametrize("raw", ["a\x00b", "a\nb", "\x1f", "a\x7f", "a\x85"])
def test_one_line_text_refuses_control_characters(raw: str) -> None:
    with pytest.raises(BadValue, match="control character"):
        text_check(raw)


def test_multi_line_text_keeps_line_breaks_and_tabs_but_not_nul() -> None:
    text_check("one\r\ntwo\tthree", multiline=True)
    with pytest.raises(BadValue, match=r"control character '\\x00' at position 4"):
        text_check("one\x00", multiline=True)


@pytest.mark.parametrize("raw", ["m\ufeff1", "m\u200b1", "m\xa01", "m\x001"])
def test_ids_refuse_invisible_characters_but_not_tabs_or_accents(raw: str) -> None:
    identifier_check("Zoë\tCafé 7")
    with pytest.raises(BadValue, match="invisible or control character .* at position 2"):
        identifier_check(raw)
