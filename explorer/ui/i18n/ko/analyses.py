"""분석 기능의 한국어 문구: 계획 지도, 누가 대가를 치르는가, 재구성, 학습 방식 비교, 동적 채널."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # ---- 계획 지도
    "map.help": (
        "점을 클릭하면 그 계획과, 그 계획을 평가했던 가중치로 돌아갑니다. 검은 계단선은 다른 어떤 계획에도 "
        "지지 않는 계획들(파레토 전선: 같은 연산량(MACs)에서 더 정확한 계획이 없음)을 잇습니다. "
        "선들은 기준마다 한 번 계산하는 비교 기준입니다: 모든 층에 같은 비율, 전역 임계값 하나, "
        "무작위 필터, 그리고 민감도 분석이 있으면 Li 등의 계획. 범례 항목을 클릭하면 숨길 수 있습니다."
    ),
    "map.order": "시도한 순서",
    "map.front": "파레토 전선",
    "map.recovery": "재학습 전 → 후",
    "map.ref.uniform": "층마다 같은 비율",
    "map.ref.global": "전역 임계값",
    "map.ref.random": "무작위 필터",
    "map.ref.li": "Li 등 (민감도 분석 기반)",
    "map.after_reconstruction": ", 재구성 후",
    "map.after_reconstruction_status": "재구성 후",
    "map.loaded": "저장된 기록에서",
    "map.from_file": " (파일에서)",
    "map.source_tip": "출처",
    "map.criteria_tip": "기준",
    "map.weights_tip": "가중치",
    "map.setting_tip": "설정",
    "map.number_tip": "계획 번호",
    "map.epsilon": "층마다 {points}점 이하 하락",
    "map.clicked": "클릭한 계획",
    "map.current": "현재 계획",
    "map.reapplied": "기록에 이 단계가 더 이상 없어서, 계획만 현재 가중치에 다시 적용했습니다.",
    "map.source.original": "원래 네트워크",
    "map.source.slider": "{detail}의 슬라이더",
    "map.source.sliders": "{detail}의 슬라이더들",
    "map.source.global": "전역 슬라이더",
    "map.source.filter": "{detail}에서 클릭한 필터",
    "map.source.suggestion": "추천: {detail}",
    "map.source.undo": "되돌리기",
    "map.source.redo": "다시 실행",
    "map.source.reset": "원래대로",
    "map.source.criterion": "기준 변경",
    "map.source.finetune": "미세 조정",
    "map.source.reconstruct": "재구성",
    "map.source.map": "지도에서 클릭",
    "map.source.precision": "정밀도 변경",
    "map.source.other": "다른 동작",
    "map.suggestion.li": "Li 등",
    "map.suggestion.target": "연산량 목표",
    "map.suggestion.global": "전역 비율",
    "map.file": "기록 파일",
    "map.file.hint": "서버의 JSON 파일 (앱이 실행되는 폴더 기준 경로)",
    "map.save": "기록 저장",
    "map.save.hint": "시도한 모든 계획을 수치와 출처와 함께 JSON으로 저장합니다",
    "map.load": "기록 불러오기",
    "map.load.hint": "저장된 기록의 계획을 지도에 추가합니다 (클릭하면 적용)",
    "map.saved": "계획 {count}개를 {path}에 저장했습니다.",
    "map.loaded_file": "{path}에서 계획 {count}개를 불러왔습니다. 지도에 새로 {added}개.",
    "map.no_file": "계획 기록을 저장할 파일 이름을 입력하세요.",
    # ---- 누가 대가를 치르는가
    "analyses.title": "분석: 프루닝의 대가는 누가 치르는가, 그리고 동적 프루닝",
    "whopays.title": "클래스별 정확도 변화 (원래 네트워크 대비)",
    "whopays.x": "클래스",
    "whopays.y": "변화 (점)",
    "whopays.help": (
        "평균 정확도는 누가 대가를 치르는지 감춥니다. 프루닝은 흔히 몇몇 클래스와 드문 이미지에 훨씬 큰 "
        "손실을 줍니다 (Hooker 등 2019, <a href='https://arxiv.org/abs/1911.05248' target='_blank'>What Do "
        "Compressed Deep Neural Networks Forget?</a>). 이 영역이 열려 있는 동안, 계획마다 정확한 정확도가 "
        "나오면 슬라이더를 따라 갱신됩니다."
    ),
    "whopays.waiting": "현재 계획의 대가를 계산하는 중…",
    "whopays.class_tip": "클래스",
    "whopays.original_tip": "원래 네트워크",
    "whopays.pruned_tip": "이 계획",
    "whopays.change_tip": "변화 (점)",
    "whopays.count_tip": "검증 이미지 수",
    "whopays.lost_bar": "정확도가 떨어진 클래스",
    "whopays.gained_bar": "유지되거나 오른 클래스",
    "whopays.summary": "원래 맞히던 이미지 {lost}개를 이제 틀리고, {gained}개를 새로 맞힙니다.",
    "whopays.worst": "가장 큰 대가를 치른 클래스: {name} ({change}).",
    "whopays.lost": "잃은 것: 전에는 맞고 지금은 틀림 ({count}개 중 {shown}개)",
    "whopays.gained": "얻은 것: 전에는 틀리고 지금은 맞음 ({count}개 중 {shown}개)",
    "whopays.none": "없음.",
    "whopays.label": "정답: {name}",
    "whopays.before": "원래: {name} ({confidence})",
    "whopays.after": "프루닝 후: {name} ({confidence})",
    # ---- 동적 채널
    "dynamic.title": "동적 프루닝: 이미지마다 자기 채널을 남깁니다",
    "dynamic.help": (
        "여기서는 이미지마다, 층마다 가장 강하게 활성화되는 채널만 남기므로 이미지마다 다른 필터를 씁니다. "
        "학습이 필요 없으니 학습된 게이트(Gao 등 2019, Feature Boosting and Suppression)가 할 수 있는 것의 "
        "상한이지 속도 향상이 아닙니다. 입력마다 다른 채널을 건너뛰는 하드웨어나 커널이 있어야 이득이 "
        "납니다. 보통의 밀집 커널은 모든 채널을 계산한 뒤 나머지를 버리기 때문입니다."
    ),
    "dynamic.ratio": "이미지마다 버리는 채널",
    "dynamic.run": "사용한 채널 보기",
    "dynamic.run.hint": "앞쪽 검증 이미지 몇 장, 원래 가중치로",
    "dynamic.summary": (
        "같은 평균 연산량(MACs) (원래의 {share})에서: 동적 {dynamic}, 정적 {static}, 원래 {original}."
    ),
    "dynamic.image": "클래스 {label}, 예측 {prediction}",
    "dynamic.legend": "층마다 한 줄, 채널마다 한 칸: 파랑 = 이 이미지가 사용, 회색 = 건너뜀.",
    "analyses.dynamic.running": "이미지마다 사용하는 채널을 찾는 중…",
    "analyses.cancelled.dynamic": "취소했습니다.",
    # ---- 재구성
    "reconstruct.run": "재구성",
    "reconstruct.run.hint": "학습 없이 정확도를 되찾습니다 (보정 이미지로 최소 제곱)",
    "reconstruct.help": (
        "재구성은 학습 단계 없이, 제거된 채널을 읽는 층마다 남은 채널만으로 원래 층의 출력을 재현하도록 "
        "가중치를 다시 맞춥니다 (He, Zhang & Sun 2017, <a href='https://arxiv.org/abs/1707.06168' "
        "target='_blank'>Channel Pruning for Accelerating Very Deep Neural Networks</a>). 원래 가중치에서 "
        "시작하며, 결과가 현재 가중치가 됩니다."
    ),
    "reconstruct.result": (
        "재구성: 학습 없이 {before} → {after} ({change}); 보정 이미지 {samples}장으로 층 {layers}개를 다시 "
        "맞췄습니다."
    ),
    "analyses.reconstruct.running": "제거된 채널 뒤의 층을 재구성하는 중…",
    "analyses.reconstruct.done": "완료: 층 {layers}개를 다시 맞췄습니다.",
    "analyses.reconstruct.nothing": "제거된 채널이 없어 재구성할 것이 없습니다.",
    "analyses.cancelled.reconstruct": "재구성을 취소했습니다. 가중치는 그대로입니다.",
    # ---- 학습 방식
    "modes.title": "프루닝을 위한 학습: 일반 vs 소프트 vs 그룹 라쏘",
    "modes.help": (
        "현재 계획의 크기를 향해 학습하는 세 가지 방법을, 같은 스텝 수로, 모두 원래 가중치에서 비교합니다: "
        "계획의 필터를 제거한 채 하는 일반 미세 조정; 매 에폭 가장 약한 필터를 0으로 만들지만 계속 학습하는 "
        "소프트 필터 프루닝(He 등 2018); 잘라내기 전에 필터 전체를 0 쪽으로 미는 그룹 라쏘 벌점. 복사본에서 "
        "실행하므로 계획과 가중치는 그대로입니다."
    ),
    "modes.steps": "방식별 스텝",
    "modes.run": "학습 방식 비교",
    "modes.run.hint": "주어진 스텝으로 세 번 학습합니다: 시간이 좀 걸립니다",
    "modes.masked": "일반 미세 조정 (마스크)",
    "modes.soft": "소프트 필터 프루닝",
    "modes.group_lasso": "그룹 라쏘",
    "modes.column.mode": "학습",
    "modes.column.before": "잘라낸 직후, 학습 전",
    "modes.column.after": "학습하고 잘라낸 뒤",
    "modes.column.overlap": "계획과 같은 필터",
    "modes.note": "방식마다 {steps} 스텝; 모두 원래 연산량(MACs)의 {share}로 끝납니다.",
    "analyses.modes.running": "세 가지 방식으로 각각 {steps} 스텝 학습하는 중…",
    "analyses.cancelled.modes": "비교를 취소했습니다.",
    # ---- tokens (Vision Transformers)
    "tokens.title": "토큰 프루닝: 이미지마다 클래스 토큰이 주목하는 토큰을 남깁니다",
    "tokens.help": (
        "비전 트랜스포머는 이미지를 토큰으로 나눕니다 (여기서는 픽셀마다 하나). "
        "DynamicViT (Rao et al. 2021)는 몇몇 블록 뒤에서 버릴 토큰을 학습으로 고릅니다. "
        "여기서는 아무것도 학습하지 않습니다: 이미지마다 그 블록에서 클래스 토큰이 가장 많이 주목한(어텐션) "
        "토큰을 남깁니다 (Liang et al. 2022). 동적 채널과 달리 이것은 보통 하드웨어에서도 실제로 연산을 "
        "줄입니다: 모든 이미지가 같은 수의 토큰을 남기므로 뒤쪽 블록이 더 적은 토큰으로 돌아갑니다. "
        "같은 연산량(MACs)에서, 모든 이미지에 같은 토큰을 남기는 방식, 무작위 토큰과 비교합니다. "
        "앞쪽 블록과 뒤쪽 블록을 모두 시도해 보세요."
    ),
    "tokens.keep": "남기는 토큰",
    "tokens.after": "나머지를 버리는 위치",
    "tokens.block": "블록 {block} / {depth} 뒤",
    "tokens.run": "남긴 토큰 보기",
    "tokens.run.hint": "앞쪽 검증 이미지 몇 장, 원래 가중치로",
    "tokens.summary": (
        "블록 {block} 뒤에 토큰 {total}개 중 {kept}개가 남습니다; 원래 연산량(MACs)의 {share}. 정확도: "
        "어텐션으로 이미지마다 고름 {dynamic}, 모든 이미지에 같은 토큰 {static}, 무작위 토큰 {random}, "
        "원래 {original}."
    ),
    "tokens.legend": "이미지 배치대로 토큰마다 한 칸: 파랑 = 이 이미지가 남김, 회색 = 버림.",
    "analyses.tokens.running": "이미지마다 남길 토큰을 찾는 중…",
}
