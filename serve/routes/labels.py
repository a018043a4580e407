"""``GET /v1/labels``: every stage, flag and amount role with its Chinese name and plain words."""

from __future__ import annotations

from fastapi import APIRouter

from models.labels import AMOUNT_ROLES, DEADLINE_KINDS, FLAGS, STAGES

router = APIRouter(prefix="/v1", tags=["labels"])

_LABELS = {
    "stages": [{"name": s.name, "zh": s.zh, "plain": s.plain} for s in STAGES],
    "flags": [{"name": f.name, "zh": f.zh, "explanation": f.explanation, "basis": f.basis} for f in FLAGS],
    "amount_roles": [{"name": k, "zh": v} for k, v in AMOUNT_ROLES.items()],
    "deadline_kinds": list(DEADLINE_KINDS),
}


@router.get("/labels", summary="Labels with Chinese names, plain explanations and legal basis")
async def labels() -> dict:
    return _LABELS
