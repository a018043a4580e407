"""Numeral conversion: our parser, cn2an where it is right, and each case where it is not."""

from __future__ import annotations

import random
import warnings

import cn2an
import pytest

from models.extraction.numerals import fold, parse_numeral, small_int, to_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12,345.67", 12345.67),
        ("1.2万", 12000),
        ("3万5千", 35000),
        ("2万3千", 23000),
        ("13万2", 132000),
        ("一万二", 12000),
        ("十万零一千", 101000),
        ("8千8百", 8800),
        ("八千八百", 8800),
        ("八千八", 8800),
        ("壹万贰仟叁佰", 12300),
        ("叁万贰仟", 32000),
        ("壹拾贰万", 120000),
        ("2.5w", 25000),
        ("5k", 5000),
        ("2万5000", 25000),
        ("一万零二", 10002),
        ("两千零五十", 2050),
        ("十五", 15),
        ("二十四", 24),
        ("一亿二千万", 120_000_000),
        ("1亿2", 120_000_000),
        ("一点二万", 12000),
        ("三点五", 3.5),
    ],
)
def test_to_number(text: str, value: float) -> None:
    got = to_number(text)
    assert got is not None and got[0] == pytest.approx(value)
    assert got[1] is False


@pytest.mark.parametrize(("text", "value"), [("两三千", 2000), ("七八百", 700), ("三五万", 30000)])
def test_approximations_give_the_lower_bound(text: str, value: float) -> None:
    assert to_number(text) == (value, True)


@pytest.mark.parametrize("text", ["", "万", "百", "一万一万", "一十三千", "abc", "点"])
def test_malformed_numerals_are_rejected(text: str) -> None:
    assert to_number(text) is None


def test_small_int() -> None:
    assert small_int("七") == 7
    assert small_int("十") == 10
    assert small_int("三十一") == 31
    assert small_int("二〇二六") == 2026
    assert small_int("48") == 48
    assert small_int("两三") is None or small_int("两三") == 23  # a digit string, never raises


def test_fold_is_one_char_for_one_char() -> None:
    src = "您尾号７７０２的信用卡逾期金额为２，８５０元，￥５００　ｗ"
    out = fold(src)
    assert len(out) == len(src)
    assert out == "您尾号7702的信用卡逾期金额为2,850元,¥500 w"
    assert fold("①²") == "①²"  # circled / superscript digits are not folded into digits


# ---- cn2an: where it is wrong and we replace it -------------------------------------------

CN2AN_FAILURES = [
    # (input, mode, exception cn2an raises, our value)
    ("1亿2", "smart", KeyError, 120_000_000),  # abbreviated 亿: KeyError, not even ValueError
    ("一亿二", "normal", KeyError, 120_000_000),
    ("一亿一千", "normal", ValueError, 100_001_000),  # a valid numeral cn2an rejects
    ("一点二万", "smart", ValueError, 12_000),  # Chinese decimal before a unit
    ("1,000", "smart", ValueError, 1000),  # thousands separator
    ("12,345.67", "smart", ValueError, 12345.67),
    ("2.5w", "smart", ValueError, 25_000),  # w = 万
    ("5k", "smart", ValueError, 5000),  # k = 千
    ("两三千", "smart", ValueError, 2000),  # approximation -> lower bound
]


@pytest.mark.parametrize(("text", "mode", "exc", "value"), CN2AN_FAILURES)
def test_cn2an_failure_is_replaced(text: str, mode: str, exc: type, value: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc):
            cn2an.cn2an(text, mode)
    got = to_number(text)
    assert got is not None and got[0] == pytest.approx(value)


def test_cn2an_transform_extracts_nothing_from_mixed_forms() -> None:
    # cn2an's own text transform leaves 3万5千 untouched (and warns): extraction is ours
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "3万5千" in cn2an.transform("欠款3万5千元", "cn2an")


def test_we_agree_with_cn2an_on_canonical_numerals() -> None:
    rng = random.Random(7)
    for n in [*rng.sample(range(1, 10**9), 400), 10, 100, 1000, 10_000, 100_001, 10_000_001]:
        for text in (cn2an.an2cn(n), cn2an.an2cn(n, "up")):
            ours = parse_numeral(text)
            assert ours is not None and ours[0] == n, text
            assert to_number(text) == (float(n), False)
