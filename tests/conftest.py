"""Shared fixtures. Every test runs with its state pointed at a temp dir."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def find_spec_dir() -> Path | None:
    env = os.environ.get("CUISHOU_SPEC_DIR")
    candidates = [Path(env)] if env else []
    candidates += [REPO_ROOT.parent / "shared" / "spec", REPO_ROOT / "shared" / "spec"]
    return next((c for c in candidates if (c / "labels.md").is_file()), None)


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory, monkeypatch):
    """Point every piece of user state (home, caches, settings) at a temp dir."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("HF_HOME", str(home / ".hf"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    for key in [k for k in os.environ if k.startswith("CUISHOU_") and k != "CUISHOU_SPEC_DIR"]:
        monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    found = find_spec_dir()
    if found is None:
        pytest.skip("shared/spec not found beside the repo (set CUISHOU_SPEC_DIR)")
    return found


@pytest.fixture(scope="session")
def spec_examples(spec_dir) -> list[dict]:
    return [json.loads(line) for line in (spec_dir / "examples.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


# A handful of texts written for the tests: enough for a tiny model that knows
# every stage and flag.
TINY_ITEMS: list[tuple[str, str, list[str]]] = [
    ("您的验证码是123456，五分钟内有效。", "none", []),
    ("本期账单应还2,000元，到期还款日为本月20日。", "reminder", []),
    ("您的借款已逾期10天，请尽快还款。", "overdue_notice", []),
    ("我行已向您寄送《催收函》，请于10日内还款。", "formal_demand", []),
    ("受银行委托，本所律师特此函告，请尽快清偿。", "lawyer_letter", []),
    ("您的欠款已委托我公司进行催收。", "agency", []),
    ("我司将于本周安排外访人员上门核实。", "home_visit", []),
    ("我行已向人民法院提起诉讼，案号已出。", "litigation", []),
    ("再不还钱小心你家人的安全。", "overdue_notice", ["violent_threat"]),
    ("警察明天上门拘留你，你要坐牢。", "overdue_notice", ["false_legal_threat"]),
    ("我们会联系你通讯录里的所有人。", "overdue_notice", ["third_party_contact"]),
    ("把你照片发到小区群里曝光。", "overdue_notice", ["public_exposure"]),
    ("你这个老赖真不要脸。", "overdue_notice", ["insult"]),
    ("每天给你打一百个电话，半夜也打。", "overdue_notice", ["harassment"]),
    ("请转账到个人账户，加微信处理。", "overdue_notice", ["scam_risk"]),
    ("感谢您按时还款，祝您生活愉快。", "none", []),
]


def tiny_items() -> list[dict]:
    """TINY_ITEMS in the built-corpus format (doubled so that min_df=2 keeps n-grams)."""
    items = []
    for i, (text, stage, flags) in enumerate(TINY_ITEMS * 2):
        items.append({
            "id": f"tiny-{i}",
            "text": text,
            "reference_time": "2026-11-22T10:00:00",
            "stage": stage,
            "flags": [{"label": f, "evidence": []} for f in flags],
            "amounts": [],
            "deadlines": [],
            "overdue_days": None,
        })
    return items


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from training.fast import FastConfig, train_fast

    out = tmp_path_factory.mktemp("tiny-model")
    items = tiny_items()
    config = FastConfig(name="tiny", version="0.0.1", min_df=1, max_features=5000)
    return train_fast(config, {"train": items, "dev": items, "test": items}, "tiny-corpus", output=out)


@pytest.fixture(scope="session")
def tiny_analyzer(tiny_model_dir):
    from models.analyzer import Analyzer

    return Analyzer.load(tiny_model_dir)
