"""한국어: 안내 수업 (여섯 단계, 단계마다 바로 확인되는 질문 하나)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "lesson.step": "{total}단계 중 {number}단계",
    "lesson.back": "이전",
    "lesson.next": "다음",
    "lesson.ask": "해 보세요:",
    "lesson.waiting": "아직 답하지 않았습니다: 움직이는 대로 페이지가 확인합니다.",
    "lesson.tutorial": "더 알아보기: {notebook}",
    "lesson.to_explore": "자유 탐색",
    "lesson.to_explore.hint": "탐색기의 모든 부분을 한꺼번에 엽니다. 수업은 지금 위치를 기억합니다",
    "lesson.to_lesson": "안내 수업",
    "lesson.to_lesson.hint": "멈춘 곳에서 수업으로 돌아갑니다",
    # 1
    "lesson.filter.title": "필터란 무엇이고, 하나를 제거하면 무엇을 잃을까요",
    "lesson.filter.text": (
        "합성곱 층은 작은 <b>필터</b>들의 묶음입니다. 필터 하나가 이미지 위를 훑으며 특징 맵 하나를 "
        "만듭니다. 아래 갤러리는 선택한 층의 모든 필터와, 각 필터가 이미지 한 장에서 잡아낸 것을 보여 "
        "줍니다. 필터를 제거하면 그 특징 맵과 그것을 계산하는 일이 사라집니다: <b>연산량(MACs)</b>과 "
        "<b>파라미터 수</b>가 줄어듭니다. 대신 <b>정확도</b>가 조금 떨어질 수 있습니다."
    ),
    "lesson.filter.task": "필터 그래프의 막대 하나를 클릭해 그 필터를 제거하고, 카드를 지켜보세요.",
    "lesson.filter.done": "필터 {removed}개를 제거했습니다: 정확도 {change}, 연산량은 원래의 {macs}.",
    # 2
    "lesson.slider.title": "층 하나의 슬라이더: 연산량 대 정확도",
    "lesson.slider.text": (
        "슬라이더는 층의 필터를 한 번에 일정 비율만큼, 점수가 낮은 것부터 제거합니다. 층마다 다릅니다: "
        "어떤 층은 연산량의 대부분을 차지하고, 어떤 층은 정확도에 거의 영향이 없습니다. “지금까지 시도한 "
        "모든 계획” 그래프에 계획마다 점이 남습니다: 왼쪽 위가 가장 좋습니다."
    ),
    "lesson.slider.task": (
        "절반(50 % 이상)을 잘라도 정확도가 10포인트 미만으로 떨어지는 층을 찾아보세요. 층마다 해 보세요: "
        "모두 비슷하게 반응하나요?"
    ),
    "lesson.slider.done": (
        "{layer}을(를) 절반 이상 제거: 정확도 {change}, 연산량은 원래의 {macs}. 다른 층도 이만큼 버텼나요?"
    ),
    # 3
    "lesson.criteria.title": "어떤 필터부터 제거할까요? 세 가지 기준",
    "lesson.criteria.text": (
        "<b>기준</b>은 모든 필터에 점수를 매기고, 점수가 가장 낮은 필터부터 제거됩니다. <b>필터 크기 "
        "(L1)</b>는 가중치가 작으면 덜 중요하다고 봅니다. <b>다른 필터와의 유사도 (FPGM)</b>는 다른 필터가 "
        "가장 잘 대신할 수 있는 필터를 제거합니다. <b>기울기 × 활성값 (Taylor)</b>는 실제 이미지를 "
        "통과시켜, 각 필터가 없으면 손실이 얼마나 커질지 추정합니다. “왜 이 필터일까요?”는 필터 하나의 "
        "실제 숫자로 공식을 채워 보여 줍니다."
    ),
    "lesson.criteria.task": "기준을 FPGM이나 Taylor로 바꾼 뒤, 막대 하나를 클릭해 그 이유를 읽어 보세요.",
    "lesson.criteria.done": (
        "{criterion}: 필터 {channel}은(는) {rank}위입니다. 필터 크기 (L1)에서는 몇 위였나요?"
    ),
    # 4
    "lesson.sensitivity.title": "민감도 분석: 어느 층이 견딜 수 있을까요?",
    "lesson.sensitivity.text": (
        "Li et al. (2017)은 <b>한 번에 한 층씩</b> 필터를 10 %, 20 % … 90 % 제거하며 매번 정확도를 "
        "쟀습니다. 곡선이 평평하면 튼튼한 층, 가파르면 민감한 층입니다. 그들의 계획은 각 층을 그 층의 "
        "곡선이 허락하는 만큼만 프루닝합니다."
    ),
    "lesson.sensitivity.task": (
        "아래 “민감도 분석과 계획”에서 민감도 분석을 실행한 뒤, Li et al. 계획을 적용하세요."
    ),
    "lesson.sensitivity.done": "Li et al. 계획: 정확도 {change}, 연산량은 원래의 {macs}.",
    # 5
    "lesson.finetune.title": "정확도 되찾기: 재구성과 미세 조정",
    "lesson.finetune.text": (
        "프루닝 후에 잃은 정확도의 상당 부분은 두 가지 방법으로 되찾을 수 있습니다. <b>재구성</b>은 학습이 "
        "필요 없습니다: 제거된 필터를 읽던 층마다, 남은 채널만으로 원래 층과 같은 출력을 내도록 몇 장의 "
        "이미지에서 최소 제곱으로 가중치를 다시 맞춥니다. <b>미세 조정</b>은 네트워크 전체를 수백 스텝 "
        "다시 학습합니다: 남은 필터가 모두 바뀔 수 있으므로 대개 더 멀리 가지만, 학습 비용이 듭니다. 두 "
        "방법 모두 계획을 그대로 두므로 연산량은 같습니다. 새 가중치는 이 계획의 것입니다: 페이지가 이름을 "
        "붙여 보여 주고, 실행 취소로 되돌릴 수도 있습니다."
    ),
    "lesson.finetune.task": (
        "두 번째 층을 절반 프루닝하고, 아래 “미세 조정과 내보내기”에서 미세 조정을 누른 뒤 재구성을 눌러 "
        "표의 세 줄을 비교하세요."
    ),
    "lesson.finetune.done": ("같은 계획: 프루닝만 {pruned}, 재구성 {reconstructed}, 미세 조정 {finetuned}."),
    # 6
    "lesson.export.title": "내보내기와 실제 속도 향상",
    "lesson.export.text": (
        "지금까지 제거한 필터는 꺼져 있었을 뿐입니다. <b>내보내기</b>는 필터를 실제로 없앱니다: 네트워크가 "
        "물리적으로 작아지고, 이 페이지가 보여 준 값을 정확히 그대로 계산합니다. 실제로 빨라지는지는 "
        "하드웨어와 얼마나 많이 제거했는지에 달려 있습니다."
    ),
    "lesson.export.task": "카드 옆의 “지연 시간 측정”을 누르세요: 이 컴퓨터에서 얼마나 빨라졌나요?",
    "lesson.export.done": "내보낸 네트워크는 이 CPU에서 원래보다 ×{speedup} 빠르게 실행됩니다.",
    # ---- step 5's comparison: prune, prune + reconstruct, prune + fine-tune (issue #16)
    "lesson.recovery.caption": "프루닝한 계획을 세 가지 가중치로 (셋 모두 연산량이 같습니다):",
    "lesson.recovery.no_plan": "아직 프루닝한 것이 없습니다: 표는 한 계획을 세 가지 가중치로 비교합니다.",
    "lesson.recovery.weights": "가중치",
    "lesson.recovery.accuracy": "정확도",
    "lesson.recovery.change": "원래 대비",
    "lesson.recovery.macs": "연산량 (원래 대비 비율)",
    "lesson.recovery.pruned": "프루닝만 (원래 가중치)",
    "lesson.recovery.reconstructed": "재구성 (학습 없음)",
    "lesson.recovery.finetuned": "미세 조정 ({steps} 스텝)",
    "lesson.recovery.finetuned_other": "미세 조정 ({steps} 스텝), 이미 바뀐 가중치에서 시작",
    "lesson.recovery.not_yet": "아직 없음",
}
