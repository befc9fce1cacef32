"""Korean: where the model computes (the English catalogue has the same keys)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # ---- device (issue 15: GPU, Ray, early stopping)
    "app.device": "계산 장치: {device}",
    "models.device": "장치",
    "models.device.tip": "모델이 실행되는 곳: CPU 또는 이 컴퓨터의 GPU (있는 장치만 보입니다)",
    "models.device.absent": (
        "{device}은(는) 이 컴퓨터에 없어서 지금 모델을 그대로 둡니다. 다음 중에서 고르세요: {devices}."
    ),
}
