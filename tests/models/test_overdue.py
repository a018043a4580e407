"""Overdue days (spec §5)."""

from __future__ import annotations

import pytest

from models.extraction import extract_overdue_days


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("您尾号3821的信用卡已逾期15天", 15),
        ("逾期45天", 45),
        ("已逾期45日", 45),
        ("您的信用卡已逾期三个月", 90),
        ("该账户已逾期1年", 365),
        ("今天是您逾期第30天", 30),
        ("已经逾期一个半月了", 45),
        ("逾期半年", 180),
        ("已逾期两周", 14),
        ("逾期天数：45天", 45),
        ("逾期已达120天", 120),
        ("你欠的3,200元逾期20天了", 20),
        ("欠款已经逾期２５天", 25),
        ("拖欠两年", 730),
        ("处理您逾期30天的欠款", 30),
        ("已逾期一百八十天", 180),
    ],
)
def test_overdue_days(text: str, days: int) -> None:
    assert extract_overdue_days(text) == days


@pytest.mark.parametrize(
    "text",
    [
        "您的信用卡已逾期，请尽快还款",
        "逾期1-30天一般以短信、电话提醒为主；超过90天可能委托第三方",
        "如逾期超过30天将上报征信",
        "若逾期3天以上将产生罚息",
        "最快3天消除逾期记录",
        "为避免逾期，请按时还款",
        "",
    ],
)
def test_no_overdue_days(text: str) -> None:
    assert extract_overdue_days(text) is None


@pytest.mark.parametrize("bad", [None, 3, "\ud800", "逾期" * 5000])
def test_never_raises(bad) -> None:
    assert extract_overdue_days(bad) is None


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("您的借款逾期已达半年（182天）", 182),
        ("1.7万拖三个月，你这种人", 90),
        ("您的逾期已经到第15天了", 15),
        ("吴斌的信用卡逾期八十天了 欠款三万六千五 您能不能在月底前还", 80),
        ("您已yq 9天", 9),
        ("您已逾期 45 天", 45),
    ],
)
def test_more_overdue_forms(text: str, days: int) -> None:
    assert extract_overdue_days(text) == days


@pytest.mark.parametrize("text", ["问：逾期3天会上征信吗？", "逾期90天以上的账户将移交法务"])
def test_generic_overdue_is_not_the_readers(text: str) -> None:
    assert extract_overdue_days(text) is None
