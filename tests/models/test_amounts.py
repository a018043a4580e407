"""Amount extraction (spec §3): forms, roles, and the numbers that are not money."""

from __future__ import annotations

import pytest

from models.extraction import AmountMatch, extract_amounts
from models.labels import AMOUNT_ROLE_NAMES, CURRENCY_CNY


def one(text: str) -> AmountMatch:
    found = extract_amounts(text)
    assert len(found) == 1, found
    a = found[0]
    assert text[a.start : a.end] == a.text
    return a


@pytest.mark.parametrize(
    ("text", "quote", "value"),
    [
        ("逾期金额4,386.20元，请尽快还款", "4,386.20元", 4386.2),
        ("欠款12,345.67元", "12,345.67元", 12345.67),
        ("逾期金额为２，８５０元", "２，８５０元", 2850),
        ("欠款￥５００", "￥５００", 500),
        ("最低还款额¥1,760。", "¥1,760", 1760),
        ("共计人民币叁万贰仟元整。", "人民币叁万贰仟元整", 32000),
        ("应还RMB 5,000.00，请", "RMB 5,000.00", 5000),
        ("应还金额1.2万元", "1.2万元", 12000),
        ("欠款3万5千元", "3万5千元", 35000),
        ("欠款2万3千元", "2万3千元", 23000),
        ("你欠我们13万2，赶紧还", "13万2", 132000),
        ("欠了一万二，快还", "一万二", 12000),
        ("共计十万零一千元", "十万零一千元", 101000),
        ("欠款8千8百", "8千8百", 8800),
        ("逾期金额八千八百元", "八千八百元", 8800),
        ("尚欠壹万贰仟叁佰元整", "壹万贰仟叁佰元整", 12300),
        ("不把2.5w还上就等着", "2.5w", 25000),
        ("欠速借宝的5k今天必须还上", "5k", 5000),
        ("欠款1.2万，请处理", "1.2万", 12000),
        ("欠款5000块，赶紧还", "5000块", 5000),
        ("欠了三千二百五十块五毛", "三千二百五十块五毛", 3250.5),
        ("就欠三块五", "三块五", 3.5),
        ("逾期本金人民币2,136元4角8分", "人民币2,136元4角8分", 2136.48),
        ("滞纳金68元5角", "68元5角", 68.5),
        ("欠款500圆", "500圆", 500),
        ("欠款1亿2", "1亿2", 120_000_000),
        ("我这个月只能先还3000。", "3000", 3000),
        ("借了2万，", "2万", 20000),
    ],
)
def test_forms(text: str, quote: str, value: float) -> None:
    a = one(text)
    assert a.text == quote
    assert a.value == pytest.approx(value)
    assert a.currency == CURRENCY_CNY


@pytest.mark.parametrize(
    ("text", "quote", "value"),
    [
        ("欠款约3000元", "3000元", 3000),
        ("欠款3000元左右", "3000元", 3000),
        ("请至少还3000元", "3000元", 3000),
        ("欠款5万元以上", "5万元", 50000),
        ("欠款3000多元", "3000多元", 3000),
        ("欠了两三千块", "两三千块", 2000),
        ("还款3000-5000元即可", "3000-5000元", 3000),
        ("欠款3000至5000元", "3000至5000元", 3000),
        ("欠款三到五千元", "三到五千元", 3000),
        ("欠款1-2万", "1-2万", 10000),
    ],
)
def test_ranges_and_approximations_take_the_stated_or_lower_bound(
    text: str, quote: str, value: float
) -> None:
    a = one(text)
    assert (a.text, a.value) == (quote, value)


@pytest.mark.parametrize(
    "text",
    [
        "您尾号3821的信用卡已逾期15天",
        "您尾号７７０２的信用卡",
        "请致电法务专员021-61234567",
        "咨询请致电400-820-1234",
        "案号(2026)浙0106民初8812号",
        "身份证号110101199003071234",
        "转入专户6222021001123456789（户名：刘芳）",
        "您的验证码为482913",
        "工号1024，受华商银行委托",
        "日利率0.05%，可减免50%利息",
        "已逾期45天",
        "逾期三个月",
        "于2026年3月14日",
        "请于3.14前处理",
        "请于11/30前处理",
        "请于2026-03-14前处理",
        "添加客服微信kd_zhang888",
        "http://axd-pay.cc/q7",
        "每天给你打一百个电话",
        "最快3天消除",
        "还有2万人在排队",
        "还款请拨打95555",
        "欠款第3期",
    ],
)
def test_not_amounts(text: str) -> None:
    assert extract_amounts(text) == []


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("逾期金额4,386.20元", "overdue_amount"),
        ("您的欠款为5,412元", "overdue_amount"),
        ("你欠的3,200元逾期20天了", "overdue_amount"),
        ("最低还款额563.00元", "minimum_payment"),
        ("本期应还总额5,628.40元", "total_due"),
        ("全部欠款26,300元", "total_due"),
        ("尚欠本金及利息共计人民币叁万贰仟元整", "total_due"),
        ("一次性结清8,000元", "total_due"),
        ("已产生罚息126.40元", "fee"),
        ("另产生滞纳金68元5角", "fee"),
        ("（含利息42.50元）", "fee"),
        ("违约金320元", "fee"),
        ("减免后一次性结清8,000元即可", "settlement"),
        ("协商后只需还6,000元", "settlement"),
        ("成功还款1,500.00元", "other"),
        ("我在恒信借了2万", "other"),
        ("今晚不把2.5w还上", "overdue_amount"),
    ],
)
def test_roles(text: str, role: str) -> None:
    assert role in AMOUNT_ROLE_NAMES
    assert one(text).role == role


def test_several_amounts_each_take_their_own_role() -> None:
    text = "经协商，您的全部欠款12,680元可减免滞纳金及部分罚息共4,680元，减免后一次性结清8,000元即可。"
    got = [(a.text, a.value, a.role) for a in extract_amounts(text)]
    assert got == [
        ("12,680元", 12680, "total_due"),
        ("4,680元", 4680, "fee"),
        ("8,000元", 8000, "settlement"),
    ]


def test_foreign_currency_is_named() -> None:
    a = one("欠款500美元")
    assert (a.value, a.currency) == (500, "USD")


@pytest.mark.parametrize("bad", ["", None, 123, "\x00\ud800", "元" * 1000, "1" * 5000])
def test_never_raises(bad) -> None:
    assert isinstance(extract_amounts(bad), list)


@pytest.mark.parametrize(
    ("text", "quote", "value", "currency"),
    [
        ("欠款HK$3,280.00", "HK$3,280.00", 3280, "HKD"),
        ("唔還晒嗰6千蚊", "6千蚊", 6000, "HKD"),
        ("欠款1w2", "1w2", 12000, "CNY"),
        ("欠款8,400，尽快处理", "8,400", 8400, "CNY"),
        ("你欠的一千二什么时候还", "一千二", 1200, "CNY"),
        ("欠款19,500元一分不少", "19,500元", 19500, "CNY"),
        ("逾期金额：5,000.00 元", "5,000.00 元", 5000, "CNY"),
        ("總欠款：捌萬柒仟陸佰伍拾肆元叁角貳分", "捌萬柒仟陸佰伍拾肆元叁角貳分", 87654.32, "CNY"),
    ],
)
def test_more_forms(text: str, quote: str, value: float, currency: str) -> None:
    a = one(text)
    assert (a.text, a.value, a.currency) == (quote, pytest.approx(value), currency)


@pytest.mark.parametrize("text", ["一块砖头就能解决", "欠了十几个平台", "星河借六一福利", "超过1000万用户"])
def test_more_non_amounts(text: str) -> None:
    assert extract_amounts(text) == []


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("偿还借款本金人民币21,415.00元", "overdue_amount"),
        ("支付截至起诉之日的利息、罚息共计13,698.77元", "fee"),
        ("可申请按34,781元结清", "settlement"),
        ("您可先还2300元作为最低还款", "minimum_payment"),
        ("并承担仲裁费2,132.24元", "fee"),
    ],
)
def test_more_roles(text: str, role: str) -> None:
    assert one(text).role == role
