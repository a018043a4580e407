"""Request and response bodies of the HTTP API (results are the spec's, unchanged)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from models.schema import AnalysisRequest, AnalysisResult

_SMS = "【XX消费金融】你这个老赖，今晚8点前不还2.5w就把你照片发到你公司群，小心你家人的安全！"
_EXAMPLE_TEXT = {"id": "msg-001", "text": _SMS, "reference_time": "2026-07-20T15:10:00"}
_EXAMPLE_TURNS = {
    "id": "call-007",
    "turns": [
        {"speaker": "agent", "text": "您好，这里是XX银行信用卡中心，您的账户已逾期45天，欠款12,345.67元。"},
        {"speaker": "customer", "text": "我这个月实在没钱。"},
        {"speaker": "agent", "text": "今天不还我们就联系你通讯录里的所有人。"},
    ],
    "reference_time": "2026-11-22T10:00:00",
}


class AnalyzeItem(AnalysisRequest):
    """One text (SMS, letter, notice, chat) or one call transcript: ``text`` or ``turns``."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [_EXAMPLE_TEXT, _EXAMPLE_TURNS]},
    )


class BatchRequest(BaseModel):
    items: list[AnalyzeItem] = Field(description="At most 256 items (CUISHOU_MAX_BATCH), analysed in order.")

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [
        _EXAMPLE_TEXT,
        {"id": "msg-002", "text": "您本期账单应还2,000元，到期还款日为11月25日。"},
        {"id": "msg-003", "text": "请将欠款转账至以下个人账户：6222 0212 3456 7890，或加微信处理逾期。"},
    ]}]})


class ModelInfo(BaseModel):
    name: str
    version: str


class AnalyzeResponse(BaseModel):
    model: ModelInfo
    result: AnalysisResult

    model_config = ConfigDict(protected_namespaces=())


class BatchResponse(BaseModel):
    model: ModelInfo
    results: list[AnalysisResult]

    model_config = ConfigDict(protected_namespaces=())


class ErrorResponse(BaseModel):
    detail: str | list | dict
    reason: str | None = None
