"""Property tests: any string, any reference time -> a result, never an exception; spans index the input."""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.extraction import extract_amounts, extract_deadlines, extract_overdue_days
from models.labels import AMOUNT_ROLE_NAMES, DEADLINE_KINDS

SEEDS = [
    "【华商银行】尊敬的王先生，您尾号3821的信用卡已逾期15天，逾期金额4,386.20元。",
    "请于2026年4月30日前清偿欠款18,650元。恒信消费金融有限公司 2026年4月17日",
    "您尚欠本金及利息共计人民币叁万贰仟元整。请您自收到本函之日起七日内清偿。",
    "请于今日24时前通过快贷APP完成还款，咨询请致电400-820-1234。",
    "您尾号７７０２的信用卡逾期金额为２，８５０元，请于12/30前还款",
    "欠款3万5千元，今晚8点前不把2.5w还上，明天就上门",
    "全部欠款12,680元可减免滞纳金共4,680元，减免后一次性结清8,000元，请于8月31日前还款",
    "案号(2026)浙0106民初8812号，请于3.14前联系，已逾期三个月",
    "逾期本金人民币2,136元4角8分，滞纳金68元5角，请于48小时内还清",
    "你十二月月底之前还上，三号之前先还两三千块",
]
ALPHABET = st.sampled_from(
    list(
        "0123456789０１２３４５６７８９,.，。:：-/年月日号点时分前内天周万千百亿元块角分¥￥wk今明后本下底起自至到逾期欠还款一二三四五六七八九十零两壹贰叁拾佰仟 \n"
    )
)
MIXED = st.one_of(st.text(max_size=80), st.text(alphabet=ALPHABET, max_size=60))
REFS = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.none(),
    st.text(max_size=12),
)


@st.composite
def mutated(draw) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.integers(0, 3))
        i = draw(st.integers(0, len(text)))
        if op == 0:
            text = text[:i] + draw(MIXED) + text[i:]
        elif op == 1:
            j = draw(st.integers(i, min(len(text), i + 8)))
            text = text[:i] + text[j:]
        elif op == 2:
            text = text[:i] + draw(st.sampled_from(SEEDS))[: draw(st.integers(0, 30))] + text[i:]
        else:
            text = text[i:] + text[:i]
    return text


def _check(text: str, ref) -> None:
    for a in extract_amounts(text):
        assert text[a.start : a.end] == a.text and a.start < a.end
        assert a.role in AMOUNT_ROLE_NAMES and isinstance(a.value, float)
    for d in extract_deadlines(text, ref):
        assert text[d.start : d.end] == d.text and d.start < d.end
        assert d.kind in DEADLINE_KINDS
        datetime.fromisoformat(d.value)
    days = extract_overdue_days(text)
    assert days is None or (isinstance(days, int) and days > 0)


FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.text(max_size=200), REFS)
def test_random_unicode(text: str, ref) -> None:
    _check(text, ref)


@FAST
@given(st.text(alphabet=ALPHABET, max_size=120), REFS)
def test_dense_numerals_and_date_words(text: str, ref) -> None:
    _check(text, ref)


@FAST
@given(mutated(), REFS)
def test_mutated_realistic_texts(text: str, ref) -> None:
    _check(text, ref)
