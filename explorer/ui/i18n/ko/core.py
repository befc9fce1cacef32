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
    # errors a student can meet when giving a model, checkpoint, data, plan or history file
    "core.checkpoint.not_state_dict": (
        "{path}에는 모델의 가중치(텐서의 딕셔너리인 state_dict)가 아니라 {kind}이(가) 들어 있습니다"
    ),
    "core.checkpoint.empty_dict": "{path}에는 모델의 가중치가 아니라 빈 딕셔너리가 들어 있습니다",
    "core.checkpoint.not_tensors": (
        "{path}은(는) 딕셔너리이지만 항목 {entries}은(는) 텐서가 아닙니다: torch.save(model.state_dict(), "
        "path)로 모델의 가중치만 저장하세요"
    ),
    "core.checkpoint.checksum": (
        "{path}이(가) 손상되었습니다: 그 안의 {entry}에 저장된 체크섬이 실제 내용과 맞지 않습니다 (복사나 "
        "다운로드 중에 손상되었나요?)"
    ),
    "core.checkpoint.missing": "체크포인트 {path}이(가) 없거나 파일이 아닙니다",
    "core.checkpoint.too_large": "체크포인트 {path}은(는) {size}바이트로, 한도 {limit}바이트보다 큽니다",
    "core.checkpoint.empty_file": "체크포인트 {path}이(가) 비어 있습니다 (0바이트)",
    "core.checkpoint.garbled": (
        "{path}이(가) 손상되었습니다: 헤더에 PyTorch 체크포인트가 아닌 바이트가 있습니다 (다운로드가 "
        "손상되었거나 중간에 끊겼나요?)"
    ),
    "core.checkpoint.pickled_objects": (
        "{path}을(를) 거부했습니다: 텐서만이 아니라 파이썬 객체가 들어 있습니다. 안전을 위해 순수한 "
        "가중치만 읽습니다: torch.save(model.state_dict(), path)로 저장하거나, 모델 구조를 파이썬으로 만든 "
        "뒤 이 가중치를 불러오세요"
    ),
    "core.checkpoint.not_torch": "{path}이(가) 손상되었거나 PyTorch 체크포인트가 아닙니다 ({detail})",
    "core.checkpoint.unreadable": (
        "{path}이(가) 잘렸거나 손상되었거나 PyTorch 체크포인트가 아닙니다 ({detail})"
    ),
    "core.checkpoint.wrong_shapes": "가중치 {source}이(가) 모델에 맞지 않습니다: {detail}",
    "core.checkpoint.keys_mismatch": (
        "가중치 {source}이(가) 모델과 맞지 않습니다: 파일에 "
        "없는 가중치: {missing}; 모델에 없는 가중치: {unexpected}"
    ),
    "core.plan.not_a_plan": "프루닝 계획이 아닙니다: 'groups'가 객체인 JSON 객체여야 합니다",
    "core.plan.format": "프루닝 계획이 아닙니다: 형식이 {format}입니다",
    "core.plan.no_pruned": "계획의 {group} 항목에는 채널 번호 목록 'pruned'가 있어야 합니다",
    "core.plan.pruned_not_integers": "계획의 {group} 항목: 'pruned'에는 정수 채널 번호만 있어야 합니다",
    "core.plan.ratio_not_number": "계획의 {group} 항목: 'ratio'는 {ratio}이(가) 아니라 숫자여야 합니다",
    "core.plan.criterion_not_text": (
        "계획의 {group} 항목: 'criterion'은 {criterion}이(가) 아니라 문자열이어야 합니다"
    ),
    "core.plan.not_json": "계획이 올바른 JSON이 아닙니다: {detail}",
    "core.plan.out_of_range": (
        "{group}의 채널은 {channels}개입니다; 채널 번호 {indices}은(는) 범위를 벗어납니다"
    ),
    "core.plan.removes_all": (
        "계획이 {group}의 채널 {channels}개를 모두 제거합니다; 적어도 하나는 남겨야 합니다"
    ),
    "core.provenance.unreadable": "기록 파일 {path}을(를) 읽을 수 없습니다: {detail}",
    "core.provenance.not_json": "기록 파일이 올바른 JSON이 아닙니다: {detail}",
    "core.provenance.not_history": "계획 기록 파일이 아닙니다",
    "core.provenance.other_model": "이 기록 파일은 {model}이(가) 아니라 모델 {found}의 것입니다",
    "core.provenance.records_not_list": "기록 파일의 'records'는 목록이어야 합니다",
    "core.provenance.record_not_object": "기록 파일의 {record}번 기록이 객체가 아닙니다",
    "core.provenance.record_not_number": (
        "기록 파일의 {record}번 기록: {field}은(는) {value}이(가) 아니라 유한한 숫자여야 합니다"
    ),
    "core.provenance.record_not_text": "기록 파일의 {record}번 기록: {field}은(는) 문자열이어야 합니다",
    "core.provenance.record_plan_number": "기록 파일의 {record}번 기록: 'plan_number'는 정수여야 합니다",
    "core.data.empty_validation": "검증 데이터가 비어 있습니다",
    "core.model.failed_on_inputs": "모델이 모양 {shape}의 입력에서 실패했습니다 ({detail})",
    "core.model.not_logits": (
        "모델은 이미지마다 클래스별 점수 하나씩([N, 클래스 수] 텐서)을 돌려주어야 합니다"
    ),
    "core.data.labels_beyond_outputs": "레이블이 {top}까지 있지만 모델의 출력은 {outputs}개뿐입니다",
    "core.export.unreadable_plan": "{file}을(를) 읽을 수 없습니다: {detail}",
    "core.export.not_zoo_model": (
        "이 계획은 내장 모델이 아닌 {model}에서 저장되었습니다: 다시 만들려면 원래(프루닝 전) 모델 구조가 "
        "필요합니다"
    ),
    "core.export.weights_mismatch": (
        "저장된 가중치가 프루닝된 구조에 맞지 않습니다: 없는 가중치 {missing}; 예상하지 못한 가중치 "
        "{unexpected}"
    ),
    "core.data.unreadable": "{path}을(를) 읽을 수 없습니다: {detail}",
    "core.data.not_idx": "{path}은(는) 부호 없는 바이트의 IDX 파일이 아닙니다",
    "core.data.idx_truncated": (
        "{path}이(가) 잘렸습니다: 데이터가 {size}바이트인데 {expected}바이트여야 합니다"
    ),
    "core.data.idx_mismatch": "{images}와(과) {labels}에 서로 맞는 이미지 [N, H, W]와 레이블 [N]이 없습니다",
    "core.data.csv_unreadable": "CIFAR-10 CSV {path}을(를) 읽을 수 없습니다: {detail}",
    "core.data.csv_empty": "CIFAR-10 CSV {path}에 행이 없습니다",
    "core.data.csv_columns": (
        "CIFAR-10 CSV {path}: 행마다 값이 {columns}개인데, 레이블 1개와 픽셀 3072개여야 합니다"
    ),
    "core.data.csv_labels": "CIFAR-10 CSV {path}: 레이블은 0부터 9까지의 정수여야 합니다",
    "core.data.csv_pixels": "CIFAR-10 CSV {path}: 픽셀 값은 0부터 255 사이여야 합니다",
    "core.data.folder_unreadable": "이미지 폴더 {path}을(를) 읽을 수 없습니다: {detail}",
    "core.data.unknown_source": (
        "알 수 없는 데이터 소스 {source}: {sources} 중 하나, 이미지 폴더, Dataset 또는 DataLoader를 쓰세요"
    ),
    "core.data.negative_labels": "{data}: 레이블은 0 이상이어야 하는데 {label}이(가) 있습니다",
    "core.data.wrong_shape": (
        "{data}: 입력의 모양 (C, H, W)이 {given}인데, 모델은 {expected}을(를) 기대합니다"
    ),
    "core.data.labels_too_large": "{data}: 레이블은 0 이상 {classes} 미만이어야 하는데 {top}까지 있습니다",
    "core.data.empty_source": "데이터 소스 {source}이(가) 비어 있습니다",
    "core.data.empty_training": "학습 데이터 {source}이(가) 비어 있습니다",
    "core.data.empty_dataset": "데이터셋이 비어 있습니다",
    "core.data.mixed_shapes": "입력의 모양이 서로 다릅니다 ({shapes}): 하나의 모양으로 크기를 맞추세요",
    "core.weights.none": "내장 모델 {model}에는 사전 학습된 가중치가 없습니다",
    "core.weights.digest": (
        "{file}은(는) {model}의 올바른 가중치 파일이 아닙니다: SHA-256 지문이 {digest}인데, "
        "{expected}이어야 합니다"
    ),
    "core.weights.install_missing": "{model}의 가중치를 설치할 수 없습니다: {path}이(가) 없습니다",
    "core.weights.download_failed": (
        "{model}의 가중치를 {url}에서 내려받지 못했습니다 ({reason}). 오프라인이라면 다른 컴퓨터에서 "
        "{source}을(를) 내려받아 여기에 설치하세요"
    ),
    "core.weights.not_cached": (
        "{model}의 사전 학습된 가중치가 이 컴퓨터({cache})에 없고 다운로드가 꺼져 있습니다: {source}을(를) "
        "내려받아 설치하거나 다운로드를 허용하세요"
    ),
    "core.train.no_training_split": (
        "데이터 {data}에는 미세 조정에 쓸 학습 데이터가 없고, 검증 데이터로는 학습하지 않습니다 (그러면 "
        "검증 정확도가 더 이상 의미가 없습니다): 학습 데이터와 함께 열거나, 검증에 쓰이지 않은 샘플로 "
        '학습하는 "held-out"으로 여세요'
    ),
    "core.model.non_finite_weights": (
        "{layers}에 유한하지 않은 가중치(NaN 또는 Inf)가 있습니다: 모델이 망가져 "
        "있어(학습이 발산했거나 체크포인트가 잘못되었나요?) 채널의 점수를 매길 수 없습니다"
    ),
}
