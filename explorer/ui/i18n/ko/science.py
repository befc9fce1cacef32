"""Korean: the honest-science texts: the greedy oracle, fair schedules, the global slider's cap (the
English catalogue has the same keys)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # ------------------------------------------------------------------------- greedy oracle (honest science)
    "why.greedy": (
        "이 필터 하나만 제거하면 손실이 {alone}만큼 늘어납니다. 이것이 단일 필터 오라클의 점수입니다. "
        "앞선 필터 {before}개를 제거한 뒤 {searched}단계 중 {step}단계에서 제거하면 "
        "손실이 모두 {at_removal}만큼 늘어납니다."
    ),
    "why.greedy.redundant": (
        "단일 필터 오라클은 다른 필터가 모두 남아 있는 상태에서 필터 하나씩을 평가합니다. "
        "두 필터가 같은 일을 하면 각각은 제거해도 무해해 보이므로, 높은 비율에서는 둘 다 제거되어 "
        "손실이 크게 뜁니다. 그래서 무작위보다 못할 수 있습니다. "
        "이 탐색은 필터를 하나 제거할 때마다 다시 잽니다."
    ),
    "why.greedy.unsearched": (
        "이 필터 하나만 제거하면 손실이 {alone}만큼 늘어납니다. "
        "하나씩 순서를 정한 {searched}개의 필터 다음에 오며, "
        "나머지는 마지막 단계에서 잰 손실 순서로 정렬됩니다."
    ),
    # ---------------------------------------------------------------------- fair schedules (honest science)
    "compare.iterative.fair": "반복: {k}단계, 학습 모두 {steps} 스텝",
    "compare.plot.title": "각 방식의 정확도 변화",
    "compare.plot.steps": "진행한 학습 스텝",
    "compare.plot.stage": "단계",
    "compare.plot.one_shot": "한 번에",
    "compare.plot.iterative": "반복",
    "compare.plot.pruned": "필터를 제거한 직후",
    "compare.plot.trained": "학습한 후",
    "compare.plot.fair": (
        "두 방식 모두 같은 수의 스텝만큼 학습합니다(반복 방식은 단계마다 고르게 나누고 남는 스텝은 마지막 "
        "단계에 줍니다). 최종 수치는 마지막 학습이 끝난 뒤에 잽니다."
    ),
    # ------------------------------------------------------------------- global slider cap (honest science)
    "controls.cap": "층마다 최대",
    "controls.cap.hint": "전체 슬라이더가 한 층에서 제거할 수 있는 필터의 최대 비율 (max_pruning_ratio)",
    "controls.global.explain": (
        "“모든 층”이 고르는 방법: 층마다 점수를 그 층 점수 전체의 크기로 나눈 뒤, "
        "네트워크 전체에서 가장 낮은 필터부터 제거합니다. 여러 층을 한 척도에 놓지만 제거량을 고르게 "
        "나누지는 않습니다. 강한 필터 몇 개와 약한 필터 여러 개가 있는 층은 필터 대부분을 잃고, "
        "다른 층은 하나도 잃지 않을 수 있습니다. "
        "“층마다 최대”는 한 층이 잃을 수 있는 비율을 제한합니다."
    ),
}
