"""Logs never hold a full phone, ID-card or bank-card number."""

from __future__ import annotations

import logging

import pytest

from serve.masking import MaskingFilter, install, mask


@pytest.mark.parametrize("raw, masked", [
    ("请致电13812345678", "请致电138****5678"),
    ("+86 138-1234-5678", "138****5678"),
    ("8613812345678", "138****5678"),
    ("１３８１２３４５６７８", "138****5678"),
    ("身份证110101199003077777号", "身份证**************7777号"),
    ("身份证11010119900307777X", "身份证**************777X"),
    ("旧证110101900307777", "旧证***********7777"),
    ("卡号6222021234567890123", "卡号***************0123"),
    ("卡号6222 0212 3456 7890", "卡号************7890"),
    ("卡号6222-0212-3456-7890", "卡号************7890"),
])
def test_mask(raw, masked):
    assert mask(raw) == masked


@pytest.mark.parametrize("kept", [
    "您尾号1234的信用卡", "欠款12,345.67元", "2026-11-22T10:00:00", "案号(2026)京0105民初12345号",
    "验证码123456", "", "已逾期45天",
])
def test_mask_leaves_short_numbers(kept):
    assert mask(kept) == kept


def test_filter_masks_args_and_exceptions():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "call %s about %s", ("13812345678", "卡"), None)
    assert MaskingFilter().filter(record)
    assert record.getMessage() == "call 138****5678 about 卡"
    try:
        raise ValueError("bad id 110101199003077777")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    MaskingFilter().filter(record)
    assert "110101199003077777" not in record.exc_text and "7777" in record.exc_text


def test_install_covers_child_loggers(caplog):
    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install(("",))
        install(("",))
        assert sum(isinstance(f, MaskingFilter) for f in handler.filters) == 1
        caplog.handler.addFilter(MaskingFilter())
        logging.getLogger("serve.deep.child").warning("phone %s", "13912345678")
        assert "139****5678" in caplog.text and "13912345678" not in caplog.text
    finally:
        root.removeHandler(handler)
