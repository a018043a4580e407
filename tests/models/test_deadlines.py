"""Deadline extraction and resolution (spec §4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.extraction import extract_deadlines

REF = datetime(2026, 11, 18, 10, 30, 0)  # a Wednesday


def dl(text: str, ref: datetime = REF) -> list[tuple[str, str, str]]:
    out = []
    for d in extract_deadlines(text, ref):
        assert text[d.start : d.end] == d.text
        out.append((d.text, d.value, d.kind))
    return out


@pytest.mark.parametrize(
    ("text", "quote", "value", "kind"),
    [
        # absolute, with and without year; a date alone is 23:59:59
        ("请于2026年12月14日前还款", "2026年12月14日前", "2026-12-14T23:59:59", "absolute"),
        ("请于12月14日前还款", "12月14日前", "2026-12-14T23:59:59", "absolute"),
        ("请于12月14号之前还清", "12月14号之前", "2026-12-14T23:59:59", "absolute"),
        ("请于12.14前还款", "12.14前", "2026-12-14T23:59:59", "absolute"),
        ("请于11/30前还款", "11/30前", "2026-11-30T23:59:59", "absolute"),
        ("请于2026-12-01前还款", "2026-12-01前", "2026-12-01T23:59:59", "absolute"),
        ("请于2026/12/01前还款", "2026/12/01前", "2026-12-01T23:59:59", "absolute"),
        ("请于二〇二六年十二月一日前还款", "二〇二六年十二月一日前", "2026-12-01T23:59:59", "absolute"),
        ("请于下午5点前还款", "下午5点前", "2026-11-18T17:00:00", "absolute"),
        ("请于17:30前还款", "17:30前", "2026-11-18T17:30:00", "absolute"),
        ("请于24时前还款", "24时前", "2026-11-18T23:59:59", "absolute"),
        ("请于12月5日24时前还款", "12月5日24时前", "2026-12-05T23:59:59", "absolute"),
        ("请于12月5日下午3点半前还款", "12月5日下午3点半前", "2026-12-05T15:30:00", "absolute"),
        # no year: next year only when the date passed more than 31 days ago
        ("请于1月10日前还清", "1月10日前", "2027-01-10T23:59:59", "absolute"),
        ("请于10月20日前还清", "10月20日前", "2026-10-20T23:59:59", "absolute"),
        ("请于10月1日前还清", "10月1日前", "2027-10-01T23:59:59", "absolute"),
        # ASR-like
        ("你十二月月底之前还上", "十二月月底之前", "2026-12-31T23:59:59", "absolute"),
        ("你三号之前还上", "三号之前", "2026-12-03T23:59:59", "relative"),
        ("你二十五号之前必须还上", "二十五号之前", "2026-11-25T23:59:59", "relative"),
        # relative
        ("今天必须还上", "今天", "2026-11-18T23:59:59", "relative"),
        ("请于今日还清", "今日", "2026-11-18T23:59:59", "relative"),
        ("今天12点前联系我司", "今天12点前", "2026-11-18T12:00:00", "relative"),
        ("请于今日24时前完成还款", "今日24时前", "2026-11-18T23:59:59", "relative"),
        ("请于今日18:00前还款", "今日18:00前", "2026-11-18T18:00:00", "relative"),
        ("今晚8点前不还就等着", "今晚8点前", "2026-11-18T20:00:00", "relative"),
        ("请于明天下午3点前还入", "明天下午3点前", "2026-11-19T15:00:00", "relative"),
        ("请明天还清", "明天", "2026-11-19T23:59:59", "relative"),
        ("后天前务必还款", "后天前", "2026-11-20T23:59:59", "relative"),
        ("请于3日内致电", "3日内", "2026-11-21T23:59:59", "relative"),
        ("请在七天内还款", "七天内", "2026-11-25T23:59:59", "relative"),
        ("请于48小时内完成还款", "48小时内", "2026-11-20T10:30:00", "relative"),
        ("请在24小时内联系客服", "24小时内", "2026-11-19T10:30:00", "relative"),
        ("请于本周五前还款", "本周五前", "2026-11-20T23:59:59", "relative"),
        ("请于下周一前还款", "下周一前", "2026-11-23T23:59:59", "relative"),
        ("请于月底前还清", "月底前", "2026-11-30T23:59:59", "relative"),
        ("请于本月25日前还款", "本月25日前", "2026-11-25T23:59:59", "relative"),
        ("到期还款日为本月25日", "本月25日", "2026-11-25T23:59:59", "relative"),
        ("请于下个月5号前还款", "下个月5号前", "2026-12-05T23:59:59", "relative"),
        ("请您自收到本函之日起七日内清偿", "自收到本函之日起七日内", "2026-11-25T23:59:59", "relative"),
        ("请于本函送达之日起十日内还款", "本函送达之日起十日内", "2026-11-28T23:59:59", "relative"),
        ("请于收到本通知后3日内还款", "收到本通知后3日内", "2026-11-21T23:59:59", "relative"),
        ("请于3个工作日内还款", "3个工作日内", "2026-11-23T23:59:59", "relative"),
        ("请于年底前还清", "年底前", "2026-12-31T23:59:59", "relative"),
    ],
)
def test_deadlines(text: str, quote: str, value: str, kind: str) -> None:
    assert dl(text) == [(quote, value, kind)]


def test_month_end_in_february_and_hours_across_the_year() -> None:
    assert dl("请在月底前还清欠款", datetime(2026, 2, 10, 11)) == [
        ("月底前", "2026-02-28T23:59:59", "relative")
    ]
    assert dl("请于48小时内完成还款", datetime(2026, 12, 31, 20)) == [
        ("48小时内", "2027-01-02T20:00:00", "relative")
    ]
    assert dl("请于3日内回电", datetime(2026, 10, 30, 10)) == [("3日内", "2026-11-02T23:59:59", "relative")]


@pytest.mark.parametrize(
    "text",
    [
        "催款通知书\n……\n恒信消费金融有限公司\n2026年11月17日",  # the letter's own date
        "我行已于2026年11月3日通过EMS寄送《催收函》",  # a past event
        "截至2026年11月10日，尚欠逾期款项5000元",  # a balance date
        "您的账户自11月1日起逾期",  # 逾期开始日
        "逾期开始日为2026年10月1日",
        "我行将于本周五安排外访人员到您户籍地址核实",  # the sender's visit date
        "我司已安排外访人员于11月20日上午前往您现住址",
        "已决定自12月1日起将您的账户移交第三方催收机构处理",
        "您的案件已列入下周一的外访计划",
        "您于11月03日成功还款1,500.00元",
        "从明天开始我们每天给你打电话",
        "明天就把你的欠款截图发到你们公司群",
        "今天能不能还？",
        "您今天能先还一部分吗？",
        "我司已于今日向您的注册邮箱发送《逾期催告函》",
        "我们下周会再次与您联系",
        "到期还款日为每月15日",
        "最快3天消除逾期记录",
        "案号(2026)浙0106民初8812号，请留意传票",
    ],
)
def test_not_deadlines(text: str) -> None:
    assert dl(text) == []


def test_a_date_inside_a_case_number_does_not_break_extraction() -> None:
    text = "案号(2026)京0105民初20261201号，文书编号HT-2026-11-01-003，请于12月1日前还款。"
    assert dl(text) == [("12月1日前", "2026-12-01T23:59:59", "absolute")]


def test_several_deadlines_keep_text_order() -> None:
    text = "请于今天12点前还最低还款额，剩余部分请于本月30日前还清。"
    assert dl(text) == [
        ("今天12点前", "2026-11-18T12:00:00", "relative"),
        ("本月30日前", "2026-11-30T23:59:59", "relative"),
    ]


@pytest.mark.parametrize(
    "ref",
    [
        None,
        "2026-11-18T10:30:00",
        "garbage",
        datetime(2026, 11, 18, 10, 30, tzinfo=UTC),
        datetime(9999, 12, 31),
    ],
)
def test_any_reference_time(ref) -> None:
    out = extract_deadlines("请于3日内还款，48小时内联系", ref)
    assert isinstance(out, list)


def test_aware_reference_time_keeps_the_local_clock() -> None:
    ref = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
    assert dl("请于48小时内还款", ref) == [("48小时内", "2026-11-20T10:30:00", "relative")]


@pytest.mark.parametrize(
    "bad", ["", None, 42, "\ud800", "今天" * 2000, "2月30日前还款", "99月99日前", "0号前"]
)
def test_never_raises(bad) -> None:
    assert isinstance(extract_deadlines(bad, REF), list)


@pytest.mark.parametrize(
    ("text", "quote", "value"),
    [
        ("今天下午4點前還款", "今天下午4點前", "2026-11-18T16:00:00"),  # traditional characters
        ("聽日中午12點前還晒", "聽日中午12點前", "2026-11-19T12:00:00"),  # Cantonese 听日 = tomorrow
        ("您的贷款将于明日扣款，请存入足额资金", "明日", "2026-11-19T23:59:59"),  # a debit date is due
        (
            "你欠的钱 今天下午两点前还上 你不是躲着不接吗",
            "今天下午两点前",
            "2026-11-18T14:00:00",
        ),  # ASR pauses
        ("请于今天中午前还款", "今天中午前", "2026-11-18T12:00:00"),
        ("请于2026年12月5日（星期六）前还款", "2026年12月5日（星期六）前", "2026-12-05T23:59:59"),
    ],
)
def test_more_deadlines(text: str, quote: str, value: str) -> None:
    assert [(q, v) for q, v, _ in dl(text)] == [(quote, value)]


@pytest.mark.parametrize(
    "text",
    [
        "好，我今天就还。",  # a promise by the speaker
        "我明天给你们客服回电话",
        "我行将于15个工作日内核查并回复",  # the sender's own step
        "信贷员将于11月22日到您家中了解情况",
        "不然明天你全家都会接到我们的电话",  # a threatened consequence
        "您的信用卡积分将于12月31日到期清零",
        "委托期限为11月9日至12月8日",  # the end of a period
        "诉前调解期限为三十日",  # a duration
        "到期还款日：本月25日。请在到期还款日当日24:00前确保余额充足",
    ],
)
def test_more_non_deadlines(text: str) -> None:
    got = dl(text)
    assert all(q != "当日24:00前" for q, _, _ in got)
    if "本月25日" not in text:
        assert got == []
