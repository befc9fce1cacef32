"""한국어: 탐색기의 문구 (``str.format`` 패턴; 키와 자리표시자는 영어 카탈로그와 같다)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # ----------------------------------------------------------------------------------------- the app
    "app.title": "프루닝 탐색기",
    "app.intro": "합성곱 신경망에서 필터를 제거하고, 무엇을 잃고 무엇을 아끼는지 바로 확인하세요.",
    "app.loading": "모델을 불러오는 중…",
    "app.scoring": "필터 점수를 매기고 원래 정확도를 측정하는 중…",
    "error.title": "오류:",
    "error.dismiss": "닫기",
    "unit.points": "%p",
    "sections.layer": "선택한 층의 내부",
    "sections.gallery": "필터 갤러리",
    "sections.network": "네트워크 전체",
    "sections.further": "더 나아가기: 민감도 분석, 추천 계획, 미세 조정, 내보내기",
    "panels.sensitivity": "민감도 분석과 계획",
    "panels.finetune": "미세 조정과 내보내기",
    "panels.models": "모델과 가중치",
    # ------------------------------------------------------------------------------------ weights bar
    "weights.live": "현재 가중치: {label}",
    "weights.live.hint": "아래 숫자는 모두 이 가중치로 계산한 값입니다.",
    "weights.original": "원래 가중치",
    "weights.finetuned": "계획 #{plan}에서 미세 조정됨 ({steps} 스텝)",
    "weights.reconstructed": "계획 #{plan}에서 재구성됨",
    "weights.plan": " · 계획 #{number}",
    "weights.undo": "실행 취소",
    "weights.undo.hint": "마지막 변경이나 미세 조정을 되돌립니다",
    "weights.redo": "다시 실행",
    "weights.redo.hint": "실행 취소한 것을 다시 적용합니다",
    "weights.reset": "원래 네트워크로 돌아가기",
    "weights.reset.hint": "원래 가중치, 아무것도 제거하지 않은 상태 (실행 취소로 되돌릴 수 있음)",
    "weights.misfit": (
        "이 계획은 현재 가중치가 학습될 때 없었던 필터를 되살립니다. 그래서 이 숫자는 어느 네트워크의 값도 "
        "아닙니다. 그 필터를 다시 제거하거나, 실행 취소를 누르거나, 원래 네트워크로 돌아가세요."
    ),
    "weights.precision": "실시간 지표의 계산 정밀도",
    "weights.bf16": "빠르게 (bf16)",
    "weights.bf16.hint": "이 CPU의 bfloat16: 약 3배 빠르고, 거의 모든 이미지에서 같은 답을 냅니다",
    "weights.fp32": "정확하게 (fp32)",
    "weights.fp32.hint": "32비트 부동소수점: 정확하지만 느립니다",
    "state.precision": "다시 측정하는 중…",
    "state.latency": "프루닝한 모델을 내보내고 시간을 재는 중…",
    "state.scoring_cancelled": "{new} 점수 계산을 취소했습니다. 계속 {old}(으)로 순위를 매깁니다.",
    # --------------------------------------------------------------------------------------- controls
    "controls.criterion": "기준",
    "controls.needs_data": "보정 데이터를 한 번 통과시켜야 합니다 (시간이 걸릴 수 있음).",
    "controls.slider.hint": "{layer}의 필터 {count}개 중 제거할 비율",
    "controls.also_cuts": "함께 줄어듦: {layers}",
    "controls.removed": "채널 {total}개 중 {removed}개 제거",
    "controls.sliders.help": (
        "각 슬라이더는 층의 필터를 그 비율만큼 제거합니다. 기준 점수가 가장 낮은 필터부터 제거됩니다. "
        "BatchNorm이나 잔차 덧셈으로 묶인 층은 같은 채널을 함께 잃습니다 (층 이름에 마우스를 올려 보세요)."
    ),
    "controls.global": "모든 층",
    "controls.selected": "선택한 층",
    "controls.selected.hint": "선택한 층의 필터 중 제거할 비율",
    "controls.every_layer": "모든 층 하나씩",
    "controls.code_name": "코드 이름: {name}",
    "controls.criterion.hint": "코드 이름: {name} · {formula}",
    "layer.block": "블록 {block} · 합성곱 {conv}",
    "layer.conv": "합성곱 층 {number}",
    "layer.stem": "첫 합성곱 층",
    "layer.other": "층 {number}",
    "layer.with_count": "{label} (필터 {count}개)",
    "controls.global.help": (
        "전체 슬라이더는 모든 필터 중 한 비율을 한꺼번에 제거합니다. 층마다 점수를 그 층 점수 전체의 "
        "크기로 나눈 뒤 가장 낮은 점수부터 고르므로, 여러 층을 한 척도에서 비교합니다."
    ),
    "job.cancel": "취소",
    "job.failed": "실패: {message}",
    # ---------------------------------------------------------------------------------------- metrics
    "metrics.accuracy.title": "Top-1 정확도",
    "metrics.accuracy.hint": "가장 가능성 높은 클래스가 정답인 검증 이미지의 비율입니다.",
    "metrics.change.title": "원래 대비 변화",
    "metrics.change.hint": "지금 정확도에서 원래 네트워크의 정확도를 뺀 값 (퍼센트포인트).",
    "metrics.change.note": "원래: {accuracy}",
    "metrics.macs.title": "이미지당 연산량(MACs)",
    "metrics.macs.hint": "이미지 한 장에 대한 합성곱 층과 선형 층의 곱셈-누적 연산 횟수입니다.",
    "metrics.params.title": "파라미터 수",
    "metrics.params.hint": "프루닝한 네트워크에 남는 가중치와 편향의 개수입니다.",
    "metrics.latency.title": "내보낸 모델의 지연 시간 (CPU, 이미지 1장)",
    "metrics.latency.hint": "실제로 작아진 네트워크에 이미지 한 장을 통과시키는 시간 (이 CPU 기준).",
    "metrics.exact": "정확한 값",
    "metrics.estimate": "이미지 {total}장 중 {seen}장으로 추정",
    "metrics.of_original": "원래의 {share}",
    "metrics.latency.button": "지연 시간 측정",
    "metrics.latency.button_hint": "프루닝한 모델을 내보내 CPU에서 시간을 잽니다",
    "metrics.latency.note": "원래 {baseline} ms: 속도 향상 ×{speedup}{stale}",
    "metrics.latency.stale": " (이전 계획)",
    "metrics.latency.none": "버튼을 눌러 측정하세요",
    "metrics.help": (
        "정확도는 변경할 때마다 검증 부분집합에서 측정합니다. 첫 추정값은 95 % 구간과 함께 나오고, 곧 "
        "정확한 값이 됩니다. 내보내면 프루닝한 모델은 실제로 이만큼 작아집니다."
    ),
    # ---------------------------------------------------------------------------------------- summary
    "summary.untrained": "학습 안 됨",
    "summary.untrained.hint": (
        "이 가중치는 학습되지 않았습니다. 정확도가 우연 수준이라 점수와 정확도 변화에 큰 의미가 없습니다."
    ),
    "summary.architecture": "구조: {architecture}, 합성곱 층과 선형 층 {layers}개.",
    "summary.data": (
        "데이터: {dataset}, 클래스 {classes}개, 검증 부분집합 {samples}장. 원래 네트워크: 정확도 "
        "{accuracy}, 이미지당 연산량 {macs} MACs, 파라미터 {params}개. 프루닝할 수 있는 층 {groups}개."
    ),
    "summary.refused": "프루닝할 수 없는 층 {count}개와 그 이유",
    # ------------------------------------------------------------------------------------------ plots
    "plot.kept": "유지",
    "plot.pruned": "제거",
    "plot.original": "원래",
    "plot.now": "현재",
    "plot.layer_tip": "층",
    "plot.filter_tip": "필터",
    "plot.rank_tip": "순위",
    "plot.status_tip": "상태",
    "plot.accuracy_tip": "Top-1 정확도",
    "plot.accuracy_short_tip": "정확도",
    "plot.accuracy_axis": "Top-1 정확도 (%)",
    "filters.layer": "층",
    "filters.compare": "비교:",
    "filters.help": (
        "막대: 층의 필터를 점수가 낮은 순서로 보여 줍니다. 회색은 제거된 필터입니다. 막대(또는 점)를 "
        "클릭하면 그 필터를 직접 제거하거나 되살립니다."
    ),
    "filters.compare_help": (
        "점: 두 기준이 서로 동의하나요? 스피어만 ρ가 1에 가까우면 필터 순위가 비슷하다는 뜻입니다."
    ),
    "filters.plot.title": "점수별 필터",
    "filters.plot.title_for": "{layer}: 필터 {count}개\n{criterion} 점수 순",
    "filters.plot.x": "순위 (1 = 가장 먼저 제거)",
    "filters.plot.y": "점수",
    "filters.plot.score": "{criterion} 점수",
    "filters.scatter.title": "두 기준",
    "filters.scatter.title_for": "{layer}: {x}\n대 {y}, 스피어만 ρ = {rho}",
    "filters.no_rho": "아직 계산 안 됨",
    "overview.channels.title": "층별로 남은 채널",
    "overview.channels.y": "채널",
    "overview.kept_tip": "@total개 중 @kept개",
    "overview.macs.title": "네트워크 연산량(MACs)에서 차지하는 몫",
    "overview.macs.y": "연산량 비율 (%)",
    "overview.macs_tip": "MACs",
    "overview.share_tip": "비율",
    "overview.help": (
        "연산이 어디에 몰려 있는지 보세요. 연산량의 큰 몫을 차지하는 층을 프루닝하면 가장 많이 아낍니다. "
        "층의 막대를 클릭하면 그 층을 살펴볼 수 있습니다."
    ),
    "trajectory.title": "지금까지 시도한 모든 계획",
    "trajectory.x": "이미지당 연산량 (백만 MACs)",
    "trajectory.plan_tip": "계획",
    "trajectory.after_finetuning": "미세 조정 후",
    "trajectory.current": "현재 계획",
    "trajectory.earlier": "이전 계획",
    "trajectory.help": (
        "점 하나가 평가한 계획 하나입니다. 좋은 계획은 왼쪽 위(정확하고 가벼움)에 있습니다. 빨간 점이 현재 "
        "계획이고, 별은 미세 조정 후의 계획으로 초록 선이 같은 계획의 이전 점과 이어 줍니다."
    ),
    "trajectory.original": "원래",
    "trajectory.pruned": "채널 {count}개 제거",
    "trajectory.after_steps": ", 미세 조정 후 ({steps} 스텝)",
    "trajectory.after": ", 미세 조정 후",
    "trajectory.finetuned_weights": ", 미세 조정된 가중치",
    "gallery.weights": "필터 (가중치)",
    "gallery.maps": "특징 맵",
    "gallery.channel_tip": "채널",
    "gallery.rgb": "RGB",
    "gallery.mean": "입력 채널 평균",
    "gallery.weights_for": "{layer} 필터 ({kind})",
    "gallery.maps_for": "{layer} 출력, '{label}' 이미지 한 장",
    "gallery.in_colour": "컬러로",
    "gallery.averaged": "입력 채널에 대해 평균, 빨강 &gt; 0 &gt; 파랑",
    "gallery.help": (
        "타일 하나가 필터 하나입니다 (왼쪽: 가중치, {how}). 오른쪽은 검증 이미지 한 장에서 그 필터가 "
        "감지한 것입니다. 제거된 채널은 어둡고 빨간 테두리가 있습니다."
    ),
    "gallery.not_conv": "{layer}은(는) 합성곱 층이 아니어서 필터 이미지가 없습니다.",
    # ------------------------------------------------------------------------------------------- why
    "why.title": "왜 이 필터일까요?",
    "why.filter": "필터 #",
    "why.for_filter": "{layer}의 필터 {channel}",
    "why.terms": "항 {count}개",
    "why.measured": (
        "이 점수는 보정 데이터에서 측정(또는 무작위)한 값이라 더할 가중치가 없습니다. 값은 아래와 같습니다."
    ),
    "why.members": "그룹의 층 ({reduction}): {parts}",
    "why.group_score": "그룹 점수: {score}",
    "why.rank": (
        "{count}개 중 {rank}위 (1 = 가장 먼저 제거). 이 비율({ratio})에서 제거됨: {by_ratio}; 현재 "
        "계획에서 제거됨: {in_plan}."
    ),
    "why.yes": "예",
    "why.no": "아니요",
    # ---------------------------------------------------------------------------------- sensitivity
    "scan.title": "민감도 분석: 어느 층이 필터를 잃어도 괜찮을까요?",
    "scan.help": (
        "이 분석은 <b>한 번에 한 층씩</b> 필터를 10 %, 20 % … 90 % 제거하고(점수가 낮은 것부터), 다른 층은 "
        "그대로 둔 채 매번 정확도를 잽니다. Li et al. 2017의 그림 2와 같습니다: <a "
        "href='https://arxiv.org/abs/1608.08710' target='_blank'>Pruning Filters for Efficient "
        "ConvNets</a>. 곡선이 평평하면 튼튼한 층이니 많이 프루닝하세요. 일찍 떨어지면 민감한 층이니 "
        "아끼세요. 점에 마우스를 올리면 숫자가 보입니다."
    ),
    "scan.rank_by": "순위 기준",
    "scan.rank_by.hint": "각 단계에서 제거할 필터를 고르는 기준",
    "scan.run": "민감도 분석 실행",
    "scan.run.hint": "각 층만 따로 10 %, 20 % … 90 % 프루닝하고 정확도를 측정합니다",
    "scan.plot.title": "프루닝 민감도, 한 번에 한 층씩",
    "scan.plot.title_done": "프루닝 민감도, 한 번에 한 층씩 (기준: {criterion}; 점선: 프루닝 전)",
    "scan.plot.x": "제거한 필터 (%)",
    "scan.plot.y": "검증 정확도 (%)",
    "scan.plot.pruned_tip": "제거",
    "scan.plot.loss_tip": "손실",
    "scan.note": "프루닝 전 정확도 {accuracy}; 평가 {count}회, {criterion} 기준.",
    "scan.stale": "<b>다른 가중치로 측정한 결과입니다</b>: 현재 가중치로 다시 실행하세요.",
    "jobs.scan.running": "{criterion} 기준 민감도 분석 중…",
    "jobs.scan.scanning": "{criterion} 기준 민감도 분석: 한 번에 한 층씩…",
    "jobs.scan.done": "{criterion} 기준 평가 {count}회, {seconds}초 걸림.",
    "jobs.scoring": "{criterion} 기준으로 채널 점수를 매기는 중…",
    "plans.title": "추천 계획",
    "plans.help": (
        "각 버튼은 현재 계획을 바꾸고 위의 슬라이더를 옮깁니다 (실행 취소로 되돌릴 수 있음). <b>Li et "
        "al.</b>: 층마다, 분석에서 정확도 하락이 ε 포인트 이하인 가장 큰 비율. <b>연산량 목표</b>: 아낀 "
        "연산량당 잃는 정확도가 가장 적다고 예측되는 곳부터 목표에 닿을 때까지 자릅니다. 예측은 층별 "
        "하락을 더한 값이므로 실제로 평가한 값과 비교해 보세요. <b>전체</b>: 모든 층에 하나의 비율. 앞의 "
        "두 가지는 분석 결과가 없으면 먼저 분석을 실행합니다."
    ),
    "plans.epsilon": "ε (포인트)",
    "plans.epsilon.hint": "층마다 허용하는 정확도 하락 (퍼센트포인트)",
    "plans.reduction": "연산량 감소 (%)",
    "plans.reduction.hint": "줄일 연산량(MACs)의 비율",
    "plans.ratio": "전체 비율",
    "plans.ratio.hint": "제거할 전체 필터의 비율 (정규화한 점수가 낮은 것부터)",
    "plans.li": "Li et al. 계획 적용",
    "plans.target": "연산량 목표 적용",
    "plans.global": "전체 비율 적용",
    "plans.done.li": "Li et al. 계획, ε = {epsilon} 포인트, {criterion} 기준",
    "plans.done.target": "연산량 {reduction} % 감소 계획, {criterion} 기준",
    "plans.done.global": "전체 계획, 모든 필터의 {ratio} %, {criterion} 기준",
    "plans.moved": "슬라이더 이동: {ratios}.",
    "plans.nothing": "제거 없음",
    "plans.measuring": "측정 중…",
    "plans.predicted": "예측 (분석 결과)",
    "plans.real": "실제 (평가)",
    "plans.evaluated": "평가 결과",
    "plans.macs_row": "이미지당 연산량",
    "plans.unreachable": "분석한 비율로는 목표에 닿지 않습니다. 여기까지가 한계입니다 (목표 {target} MACs).",
    "jobs.plan.unknown": "알 수 없는 추천 계획 {kind}: {kinds} 중 하나를 쓰세요",
    "jobs.plan.running": "추천 계획을 준비하는 중…",
    "jobs.plan.applying": "계획을 적용하는 중…",
    "jobs.plan.done": "적용됨: {count}개 층 프루닝.",
    "jobs.cancelled.sensitivity": "분석을 취소했습니다: 계획은 그대로이고, 지금까지 측정한 곡선은 남습니다.",
    "jobs.cancelled.plan": "계획을 적용하기 전에 취소했습니다: 바뀐 것은 없습니다.",
    "jobs.cancelled.finetune": "미세 조정을 취소했습니다: 가중치는 그대로입니다.",
    "jobs.cancelled.compare": "비교를 취소했습니다.",
    "jobs.cancelled.export": "내보내기를 취소했습니다.",
    # ----------------------------------------------------------------------------------- fine-tuning
    "finetune.title": "프루닝한 네트워크 미세 조정",
    "finetune.help": (
        "필터를 제거하면 정확도가 떨어집니다. 조금 재학습하면 남은 필터가 그 일을 넘겨받습니다 (Han et al. "
        "2015, <a href='https://arxiv.org/abs/1506.02626' target='_blank'>Learning both Weights and "
        "Connections</a>). 제거한 필터를 0으로 둔 채 학습 데이터로 학습하므로, 작은 네트워크를 학습하는 "
        "것과 같습니다. 끝나면 탐색기는 새 가중치로 계속하고, '지금까지 시도한 모든 계획' 그래프에 별이 "
        "생깁니다. 취소하면 이전 가중치가 유지됩니다."
    ),
    "finetune.steps": "스텝",
    "finetune.steps.hint": "학습 스텝 수 (스텝마다 이미지 64장)",
    "finetune.lr": "학습률",
    "finetune.lr.hint": "학습 스텝 하나의 크기",
    "finetune.run": "미세 조정",
    "finetune.run.hint": "이 계획으로 재학습합니다",
    "finetune.plot.step": "스텝",
    "finetune.plot.loss": "학습 손실",
    "finetune.plot.loss_axis": "교차 엔트로피",
    "finetune.plot.loss_tip": "손실",
    "finetune.plot.accuracy": "검증 정확도",
    "finetune.result": (
        "{steps} 스텝 후: 정확도 {before} → {after} ({change}), 이미지당 연산량 {macs} MACs. 이제 탐색기는 "
        "미세 조정된 가중치를 씁니다: 앞으로의 모든 계획은 이 가중치로 평가됩니다."
    ),
    "jobs.finetune.no_steps": "미세 조정에는 스텝이 한 개 이상 필요합니다 (입력: {steps}).",
    "jobs.finetune.running": "{steps} 스텝 동안 미세 조정하는 중…",
    "jobs.finetune.done": "{steps} 스텝 미세 조정 완료.",
    "compare.schedules.title": "한 번에 프루닝할까요, 여러 번에 나눠서 할까요?",
    "compare.schedules.help": (
        "비율 전체를 한 번에 프루닝하고 학습할까요, 아니면 k번의 작은 단계로 나눠 단계마다 학습할까요 (총 "
        "학습 스텝 수는 같음)? 둘 다 사본에서 실행되므로 지금의 계획과 가중치는 그대로입니다."
    ),
    "compare.ratio": "목표 비율",
    "compare.ratio.hint": "두 방식이 모두 제거할 전체 필터의 비율",
    "compare.k": "단계 수 k",
    "compare.k.hint": "반복 방식이 나눌 단계 수",
    "compare.steps": "학습 스텝",
    "compare.schedules": "한 번에 대 반복",
    "compare.unstructured": "필터 대 개별 가중치",
    "compare.at_once": "한 번에 {ratio} % 프루닝, 학습 안 함",
    "compare.one_shot": "한 번에 프루닝 후 {steps} 스텝 학습",
    "compare.each_step": "반복 각 단계 후: {steps}",
    "compare.unstructured.title": "필터를 제거할까요, 개별 가중치를 0으로 만들까요?",
    "compare.unstructured.help": (
        "현재 계획을 내보낸 모델(필터가 실제로 없어짐)과, 같은 파라미터 수가 남을 때까지 가장 작은 개별 "
        "가중치를 0으로 만든 모델(Han et al. 2015, 재학습 없음)을 비교합니다. 0이 된 가중치는 층의 모양을 "
        "바꾸지 않으므로 일반 CPU나 GPU는 똑같은 일을 합니다: 특수한 희소 커널 없이는 빨라지지 않습니다. "
        "필터를 제거하면 모든 층이 작아져 연산이 줄고 실제로 빨라집니다."
    ),
    "compare.dense": "원래 (밀집)",
    "compare.filters": "필터 제거 (내보냄)",
    "compare.weights": "개별 가중치를 0으로",
    "compare.nonzero": "0이 아닌 값 {count}개",
    "compare.column.params": "파라미터 수",
    "compare.column.latency": "지연 시간",
    "compare.column.speedup": "속도 향상",
    "compare.nothing_pruned": "아직 제거한 것이 없습니다: 먼저 슬라이더를 움직인 뒤 다시 비교하세요.",
    "compare.latency_note": (
        "지연 시간: 이 CPU에서 검증 이미지 128장 배치를 여러 번 실행한 중앙값. 작은 네트워크나 바쁜 "
        "컴퓨터에서는 차이가 측정 잡음에 묻힐 수 있습니다: 더 많이 프루닝하고 다시 비교하세요."
    ),
    "jobs.schedules.running": "한 번에 프루닝한 계획과 반복({k}단계) 계획을 학습하는 중…",
    "jobs.unstructured.running": "내보내고, 개별 가중치를 0으로 만들고, 세 모델의 시간을 재는 중…",
    # ---------------------------------------------------------------------------------------- export
    "export.title": "내보내기",
    "export.help": (
        "프루닝한 필터를 실제로 제거한 네트워크를 저장합니다: <code>plan.json</code> (어떤 필터를 "
        "제거했는지), <code>pruned_state_dict.pt</code> (작아진 가중치), <code>SUMMARY.md</code> (계획, "
        "지표, 기준을 읽기 쉽게). 폴더는 통째로 바뀌며, 다른 파일이 있는 폴더는 거부됩니다."
    ),
    "export.folder": "폴더",
    "export.folder.placeholder": "폴더 (노트북 폴더 기준 상대 경로 또는 절대 경로)",
    "export.save": "프루닝한 모델 저장",
    "export.written": "저장한 파일:",
    "jobs.export.no_folder": "프루닝한 모델을 저장할 폴더를 고르세요.",
    "jobs.export.running": "프루닝한 모델을 내보내 저장하는 중…",
    "jobs.export.done": "{folder}에 저장했습니다.",
    # ------------------------------------------------------------------------------ models and upload
    "models.title": "다른 모델",
    "models.help": (
        "모델과, 그 모델을 측정할 데이터를 고르세요. “이 컴퓨터에 없음”으로 표시된 조합은 먼저 학습된 "
        "가중치나 데이터가 필요합니다: 표시된 명령을 터미널에서 실행한 뒤 페이지를 새로 고치세요."
    ),
    "models.model": "모델",
    "models.explore": "이 모델 탐색",
    "models.not_here": "(이 컴퓨터에 없음)",
    "models.ready": "준비됨",
    "models.no_weights": "공개된 가중치 없음",
    "models.column.model": "모델",
    "models.column.data": "데이터",
    "models.column.here": "이 컴퓨터에 있나요?",
    "models.unavailable": "{model}은(는) 아직 이 컴퓨터에서 탐색할 수 없습니다. 없는 것: {missing}.",
    "models.missing.weights": "학습된 가중치",
    "models.missing.no_weights": "학습된 가중치 ({model}에는 공개된 것이 없음)",
    "models.missing.data": "{dataset} 데이터",
    "models.and": ", ",
    "models.or": " 또는 ",
    "models.run": "받으려면 터미널에서 실행하세요: {commands} (그다음 페이지를 새로 고치세요).",
    "loader.loading": "{name}을(를) 불러오는 중…",
    "loader.now_exploring": "이제 {name}을(를) 탐색합니다.",
    "loader.cancelled.model": "취소했습니다: 계속 이전 모델을 탐색합니다.",
    "loader.cancelled.upload": "업로드를 취소했습니다: 계속 이전 가중치를 탐색합니다.",
    "loader.not_checkpoint": "{name}은(는) PyTorch 체크포인트가 아닙니다: {suffixes} 파일을 고르세요.",
    "loader.too_big": "{name}은(는) {size} MB로, 업로드 한도 {limit} MB보다 큽니다.",
    "loader.empty": "{name}은(는) 비어 있습니다 (0바이트).",
    "loader.checking": "{name}을(를) 확인하는 중…",
    "loader.building": "{name}으로 세션을 만드는 중…",
    "upload.title": "내 가중치 탐색하기",
    "upload.help": (
        "직접 학습한 {model}의 체크포인트를 올리세요: <code>state_dict</code> 파일 ({suffixes}), 최대 "
        "{limit}. 텐서만 읽으며, 다른 파이썬 객체가 든 파일은 거부됩니다. 그러면 탐색기는 새 가중치로 다시 "
        "시작합니다 (현재 가중치의 계획, 기록, 결과는 사라짐). 문제가 있으면 이유를 알려 주고 현재 "
        "가중치를 유지합니다."
    ),
    "upload.too_big": (
        "큰 파일을 골랐는데 아무 일도 일어나지 않으면, 이 서버가 그렇게 큰 파일을 받지 않는 것입니다: "
        "서버를 운영하는 분께 체크포인트를 대신 불러 달라고 하세요."
    ),
    "upload.button": "체크포인트 올리기",
    "upload.button.hint": "state_dict 파일 ({suffixes}), 최대 {limit}",
    "upload.exploring": "{name}의 가중치를 탐색 중입니다 ({size}).",
    # long jobs show partial results (issue 13)
    "job.eta.seconds": "약 {seconds}초",
    "job.eta.minutes": "약 {minutes}분",
    "job.with_eta": "{text} ({left} 남음)",
    "jobs.scan.layer": "{criterion} 기준 민감도 분석: {layers}개 층 중 {layer}번째…",
    "scan.plot.title_running": "프루닝 민감도, 한 번에 한 층씩 (기준: {criterion}): 분석 중…",
    "scan.running": (
        "지금까지 {layers}개 층 중 {layer}번째까지 측정했습니다. 분석이 진행되는 동안 곡선이 늘어납니다."
    ),
    "scan.partial": "<b>{layers}개 층 중 {layer}번째에서 취소됨</b>: 그려진 곡선은 측정된 부분입니다.",
    # tile grids without pixel axes (issue 13)
    "gallery.weights_tiles": "타일 하나가 필터 하나입니다. 채널 번호 순서로 한 줄씩 놓입니다.",
    "gallery.maps_tiles": "타일 하나가 채널 하나입니다: 이 이미지에 대한 그 필터의 출력.",
    "gallery.legend.kept": "남김 (회색 테두리)",
    "gallery.legend.pruned": "제거됨 (어둡게, 빨간 테두리)",
    # export downloads in the browser (issue 13)
    "export.download": "{name} 내려받기 ({size})",
    "export.download.hint": (
        "저장한 파일(계획, 프루닝된 가중치, SUMMARY.md)을 zip 하나로 페이지에서 내려받습니다"
    ),
    "export.too_big": (
        "{name}은(는) {size}로, 페이지에서 내려받기에는 너무 큽니다 (링크 하나에 최대 1.5 MB). "
        "서버의 위 폴더에 저장되어 있습니다."
    ),
    "export.weights": "내보낸 가중치: {label}.",
    "export.summary": "SUMMARY.md (모델과 함께 저장됨)",
}
