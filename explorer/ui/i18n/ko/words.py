"""한국어: 쉬운 말로 쓴 기준 이름과 용어 풀이."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # ------------------------------------------------------------------------- criteria, in plain words
    "crit.l1.name": "필터 크기 (L1)",
    "crit.l1.hint": "필터 가중치의 크기를 모두 더합니다. 가장 작은 필터가 가장 덜 중요하다고 봅니다.",
    "crit.l2.name": "필터 길이 (L2)",
    "crit.l2.hint": "필터 크기와 비슷하지만 가중치를 제곱해서 더하므로, 큰 가중치가 더 크게 반영됩니다.",
    "crit.fpgm.name": "다른 필터와의 유사도 (FPGM)",
    "crit.fpgm.hint": (
        "층의 한가운데(기하 중앙값)에 가장 가까운 필터는 다른 필터가 가장 쉽게 대신할 수 있으므로, 먼저 "
        "제거합니다."
    ),
    "crit.taylor.name": "기울기 × 활성값 (Taylor)",
    "crit.taylor.hint": (
        "실제 이미지를 네트워크에 통과시켜, 각 필터의 출력이 없으면 손실이 얼마나 커질지 추정합니다."
    ),
    "crit.taylor_weight.name": "기울기 × 가중치 (Taylor, 가중치)",
    "crit.taylor_weight.hint": "필터와 함께 사라지는 모든 가중치로 손실의 변화를 추정합니다 (이미지로 측정).",
    "crit.bn_scale.name": "BatchNorm 스케일 (γ)",
    "crit.bn_scale.hint": "BatchNorm이 아주 작은 수를 곱하는 필터는 다음 층에 거의 아무것도 전하지 않습니다.",
    "crit.apoz.name": "대부분 0 (APoZ)",
    "crit.apoz.hint": "ReLU를 지난 출력이 대부분의 이미지에서 0인 필터는 다음 층에 거의 전하지 않습니다.",
    "crit.mean_activation.name": "평균 출력",
    "crit.mean_activation.hint": "ReLU를 지난 출력이 평균적으로 작은 필터는 기여가 적습니다.",
    "crit.hessian.name": "손실의 곡률 (헤세 행렬)",
    "crit.hessian.hint": "각 가중치 주변에서 손실이 얼마나 급하게 휘는지로, 제거했을 때의 비용을 추정합니다.",
    "crit.random.name": "무작위 (기준선)",
    "crit.random.hint": "필터를 무작위로 고릅니다. 진짜 기준이라면 이것보다는 나아야 합니다.",
    "crit.oracle.name": "실제 손실 변화 (오라클)",
    "crit.oracle.hint": "필터를 하나씩 제거해 손실을 직접 잽니다. 정확하지만 느립니다.",
    # ---------------------------------------------------------------------------------------- glossary
    "glossary.button": "용어 풀이",
    "glossary.button.hint": "이 페이지에 나오는 용어의 설명",
    "glossary.title": "용어 풀이",
    "glossary.filter.term": "필터",
    "glossary.filter.text": (
        "합성곱 층이 이미지 위를 훑으며 적용하는 작은 가중치 묶음입니다. 필터 하나가 출력 채널(특징 맵) "
        "하나를 만듭니다. 필터를 제거하면 그 채널도 사라집니다."
    ),
    "glossary.pruning.term": "프루닝 (가지치기)",
    "glossary.pruning.text": (
        "학습된 네트워크에서 덜 중요한 부분을 제거해 더 작고 빠르게 만드는 것입니다. 여기서는 필터를 "
        "통째로 제거하므로(구조적 프루닝) 네트워크가 실제로 작아집니다."
    ),
    "glossary.criterion.term": "기준",
    "glossary.criterion.text": "각 필터에 점수를 매기는 규칙입니다. 점수가 가장 낮은 필터부터 제거됩니다.",
    "glossary.macs.term": "연산량(MACs)",
    "glossary.macs.text": (
        "곱셈-누적 연산: 곱셈 한 번과 덧셈 한 번입니다. 이미지 한 장에 대해 세면 네트워크가 하는 일의 양을 "
        "알 수 있습니다 (FLOPs는 대략 MACs의 두 배)."
    ),
    "glossary.params.term": "파라미터 수",
    "glossary.params.text": "네트워크가 학습한 숫자(가중치와 편향)의 개수로, 메모리에서의 크기를 정합니다.",
    "glossary.interval.term": "95 % 구간",
    "glossary.interval.text": (
        "일부 이미지만 측정했을 때의 정확도는 추정값입니다. 100번 중 95번은 참값이 ± 이 범위 안에 "
        "있습니다. 모든 이미지를 측정하면 정확한 값이 됩니다."
    ),
    "glossary.sensitivity.term": "민감도",
    "glossary.sensitivity.text": (
        "층이 필터를 잃을 때 정확도가 얼마나 빨리 떨어지는지를, 한 번에 한 층씩 잰 것입니다. 민감한 층은 "
        "조심스럽게 프루닝해야 합니다."
    ),
    "glossary.coupled.term": "묶인 층",
    "glossary.coupled.text": (
        "잔차 덧셈 등으로 채널이 서로 묶인 층입니다. 같은 채널을 함께 잃어야 하므로 슬라이더 하나가 모두를 "
        "움직입니다."
    ),
    "glossary.finetuning.term": "미세 조정",
    "glossary.finetuning.text": (
        "프루닝 후 짧게 재학습해, 남은 필터가 제거된 필터의 일을 넘겨받게 하는 것입니다."
    ),
    # ------------------------------------------------------------------------- greedy oracle (honest science)
    "crit.greedy_oracle.name": "하나씩 제거한 실제 손실 변화 (탐욕적 오라클)",
    "crit.greedy_oracle.hint": (
        "손실을 가장 적게 늘리는 필터를 제거한 뒤, 그 상태에서 나머지 필터를 다시 재고, 이를 반복합니다. "
        "두 필터가 같은 일을 할 때 이를 알아챕니다. 정확하지만 가장 느립니다."
    ),
}
