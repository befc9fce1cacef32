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
    "lesson.finetune.title": "미세 조정으로 정확도를 되찾기",
    "lesson.finetune.text": (
        "프루닝 후에 남은 필터는 제거된 필터의 일을 배울 수 있습니다: 짧은 재학습, 곧 <b>미세 조정</b>으로 "
        "잃은 정확도의 대부분을 되찾는 경우가 많습니다. 새 가중치는 이 계획의 것입니다: 페이지가 이름을 "
        "붙여 보여 주고, 실행 취소로 미세 조정도 되돌릴 수 있습니다."
    ),
    "lesson.finetune.task": (
        "정확도가 몇 포인트 떨어질 때까지 프루닝한 뒤, 아래 “미세 조정과 내보내기”에서 미세 조정을 누르세요."
    ),
    "lesson.finetune.done": "미세 조정으로 정확도가 {before}에서 {after}(으)로 올랐습니다.",
    # 6
    "lesson.export.title": "내보내기와 실제 속도 향상",
    "lesson.export.text": (
        "지금까지 제거한 필터는 꺼져 있었을 뿐입니다. <b>내보내기</b>는 필터를 실제로 없앱니다: 네트워크가 "
        "물리적으로 작아지고, 이 페이지가 보여 준 값을 정확히 그대로 계산합니다. 실제로 빨라지는지는 "
        "하드웨어와 얼마나 많이 제거했는지에 달려 있습니다."
    ),
    "lesson.export.task": "카드 옆의 “지연 시간 측정”을 누르세요: 이 컴퓨터에서 얼마나 빨라졌나요?",
    "lesson.export.done": "내보낸 네트워크는 이 CPU에서 원래보다 ×{speedup} 빠르게 실행됩니다.",
}
