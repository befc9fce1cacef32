"""Korean: the texts of the core (``explorer.errors.CoreText`` codes and error codes), said in the page's
language; the core keeps its English messages for scripts."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # texts of the core, said in the page's language (issue 13; the core keeps its English for scripts)
    "core.refusal.output": (
        "이 채널을 입력으로 쓰는 층이 없습니다: 네트워크의 출력(분류기)이거나, 따라갈 수 없는 연산을 거쳐 "
        "출력에 이르므로 프루닝하지 않습니다"
    ),
    "core.refusal.grouped_conv": (
        "이 채널은 그룹 합성곱 {layer}의 일부 그룹에만 들어갑니다. 그 그룹들은 모두 같은 수의 채널을 잃어야 "
        "합니다"
    ),
    "core.refusal.coupled": (
        "이 채널은 채널 수를 바꾸는 연산을 거쳐 {layer}에 묶여 있습니다 ({channels}개 채널 대 {reached}개). "
        "예: F.pad로 직접 쓴 영 채움(zero-padding) 지름길 연결 (모듈로 쓰면 프루닝할 수 있습니다)"
    ),
    "core.refusal.cross_norm": (
        "{layer} ({kind})은(는) 채널들을 함께 정규화하므로, 채널을 끄는 것과 제거하는 것이 같지 않습니다"
    ),
    "core.refusal.layer_type": "{layer} ({kind})은(는) 탐색기가 계산할 수 없는 종류의 층입니다",
    "core.refusal.functional": (
        "이 채널은 {param}에 이르는데, 모델이 {layer}을(를) 호출하지 않고 자체 코드에서 그 가중치를 씁니다: "
        "마스크가 작용할 수 없습니다"
    ),
    "core.refusal.layer_norm_dims": (
        "{layer} ({shape}에 대한 LayerNorm)은(는) 여러 차원을 한꺼번에 정규화하므로 채널을 하나씩 제거할 수 "
        "없습니다"
    ),
    "core.refusal.layer_norm_forward": (
        "{layer} ({kind})은(는) 자체 forward가 있는 LayerNorm이라 어느 차원을 정규화하는지 알 수 없습니다"
    ),
    "core.refusal.emptying": (
        "{layer}은(는) 그룹 단위 중 일부의 채널만 가지고 있어, 한 단위를 남겨도 그 채널이 모두 없어질 수 "
        "있습니다"
    ),
    "core.refusal.unfollowable": (
        "이 채널은 다른 차원과 섞이는 형태 변환(어텐션 헤드, 윈도우…)을 거치므로 따라갈 수 없고, 무엇과 "
        "묶여 있는지 알 수 없습니다"
    ),
    "core.criterion.no_batch_norm": "{criterion}: {layer} 뒤에 BatchNorm이 없습니다",
    "core.export.other_files": (
        "{folder}에 다른 파일이 있습니다: 프루닝한 모델은 새 폴더나 빈 폴더에 저장하세요"
    ),
}
