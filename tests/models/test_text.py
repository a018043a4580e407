from hypothesis import given, settings
from hypothesis import strategies as st

from models.text import normalize


def test_full_width_and_traditional():
    n = normalize("ＡＢＣ１２３，催收人員將於明天拜訪")
    assert n.text == "abc123,催收人员将于明天拜访"


def test_zero_width_characters_removed_and_mapped():
    original = "催\u200b收"
    n = normalize(original)
    assert n.text == "催收"
    assert n.original_slice(0, 2) == original


def test_splitters_between_chinese_removed():
    for original in ["催-收", "催 收", "催*收", "催.收", "催 - 收"]:
        n = normalize(original)
        assert n.text == "催收", original
        assert n.original_slice(0, 2) == original


def test_splitters_elsewhere_kept():
    assert normalize("2026-03-14").text == "2026-03-14"
    assert normalize("http://a.cn/x").text == "http://a.cn/x"


def test_evasive_spellings():
    cases = {
        "c收": "催收",
        "cs公司": "催收公司",
        "律shi函": "律师函",
        "fa院": "法院",
        "起su": "起诉",
        "上m": "上门",
        "崔收": "催收",
    }
    for original, expected in cases.items():
        n = normalize(original)
        assert expected in n.text, original


def test_span_maps_back_to_exact_original_characters():
    original = "我们已向fa院起su，律shi函已寄出，明天上m。"
    n = normalize(original)
    for word, source in [("法院", "fa院"), ("起诉", "起su"), ("律师函", "律shi函"), ("上门", "上m")]:
        i = n.text.index(word)
        assert n.original_slice(i, i + len(word)) == source


def test_latin_words_are_not_rewritten():
    assert normalize("fast class").text == "fast class"
    assert normalize("docs").text == "docs"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_offsets_always_valid(text):
    n = normalize(text)
    assert len(n.starts) == len(n.ends) == len(n.text)
    for i in range(len(n.text)):
        s, e = n.to_original(i, i + 1)
        assert 0 <= s < e <= len(text)
    if n.text:
        s, e = n.to_original(0, len(n.text))
        assert 0 <= s <= e <= len(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["催", "收", "-", " ", "律", "shi", "函", "fa", "院", "１", "人員", "\u200b", "。"]), max_size=20))
def test_offsets_monotonic_on_domain_text(parts):
    text = "".join(parts)
    n = normalize(text)
    assert list(n.starts) == sorted(n.starts)
