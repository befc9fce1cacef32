"""The catalogues: the same keys in English and Korean, every key the code uses present in both, the same
placeholders in both, and no user-facing literal left in the views."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from explorer.ui.i18n import CATALOGUES, LANGUAGES, Translator, check_lang, translate

PACKAGE = Path(__file__).resolve().parents[1] / "explorer"
#: The modules whose words are the app's: the UI (catalogues aside) and the app module.
SOURCES = [*sorted(p for p in (PACKAGE / "ui").rglob("*.py") if "i18n" not in p.parts), PACKAGE / "app.py"]
#: Calls whose first argument is a catalogue key: ``t("key")``, ``self._t("key")``, ``state.t("key")``.
TRANSLATORS = {"t", "_t"}
#: Keyword arguments that are text on the page (a literal there is a word that skipped the catalogues).
TEXT_KEYWORDS = {
    "description",
    "tooltip",
    "placeholder",
    "title",
    "x_axis_label",
    "y_axis_label",
    "legend_label",
}
NAMESPACES = {key.split(".", 1)[0] for key in CATALOGUES["en"]}
KEY = re.compile(r"[a-z_]+(\.[a-z0-9_]+)+")


def _trees() -> list[tuple[Path, ast.AST]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"), str(path))) for path in SOURCES]


def keys_in_code() -> dict[str, str]:
    """Every catalogue key the code names → where: the first argument of a translator call, and any string
    literal shaped like a key in one of the catalogues' namespaces (keys kept in tables, like the cards')."""
    found: dict[str, str] = {}
    for path, tree in _trees():
        for node in ast.walk(tree):
            where = f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                args = node.args[1:] if name == "translate" else node.args
                if (name in TRANSLATORS or name == "translate") and args:
                    first = args[0]
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        found.setdefault(first.value, where)
            literal = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if literal and KEY.fullmatch(node.value) and node.value.split(".", 1)[0] in NAMESPACES:
                found.setdefault(node.value, where)
    return found


def _fields(pattern: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(pattern) if field is not None}


def test_every_language_has_a_catalogue_and_the_same_keys() -> None:
    assert set(LANGUAGES) == set(CATALOGUES) == {"en", "ko"}
    en, ko = set(CATALOGUES["en"]), set(CATALOGUES["ko"])
    assert sorted(en - ko) == [], "keys missing from the Korean catalogue"
    assert sorted(ko - en) == [], "keys missing from the English catalogue"


def test_every_key_used_in_the_code_is_in_both_catalogues() -> None:
    used = keys_in_code()
    assert len(used) > 200  # the scan sees the app's words
    for lang, catalogue in CATALOGUES.items():
        missing = {key: where for key, where in used.items() if key not in catalogue}
        assert missing == {}, f"keys used in the code but absent from the {lang} catalogue"


def test_no_key_is_left_unused() -> None:
    used = set(keys_in_code())
    assert sorted(k for k in CATALOGUES["en"] if k not in used and not k.startswith(DYNAMIC)) == []


#: Key families built from a name at run time (checked by their own tests).
DYNAMIC = ("crit.", "lesson.", "core.")


@pytest.mark.parametrize("key", sorted(CATALOGUES["en"]))
def test_both_languages_fill_in_the_same_placeholders(key: str) -> None:
    en, ko = CATALOGUES["en"][key], CATALOGUES["ko"][key]
    assert _fields(en) == _fields(ko)
    assert ko.strip()
    assert en.strip()
    values = {field: "X" for field in _fields(en)}
    en.format(**values), ko.format(**values)  # no stray brace


def test_korean_uses_the_standard_terms() -> None:
    ko = " ".join(CATALOGUES["ko"].values())
    for term in ("프루닝", "필터", "민감도 분석", "미세 조정", "정확도", "연산량(MACs)", "파라미터 수"):
        assert term in ko, term


def test_no_text_literal_left_in_the_views() -> None:
    found = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg in TEXT_KEYWORDS and isinstance(value, ast.Constant):
                    text = value.value
                    if isinstance(text, str) and len(re.findall(r"[A-Za-z가-힣]", text)) > 1:
                        found.append(f"{path.name}:{node.lineno} {keyword.arg}={text!r}")
    assert found == []


def test_every_built_in_criterion_has_a_plain_name_and_a_hint() -> None:
    from explorer.criteria import list_criteria
    from explorer.ui.naming import criterion_hint, criterion_label

    for lang, catalogue in CATALOGUES.items():
        t = Translator(lang)
        for name in list_criteria():
            assert f"crit.{name}.name" in catalogue, (lang, name)
            assert f"crit.{name}.hint" in catalogue, (lang, name)
            assert criterion_label(name, t) != name
            assert criterion_hint(name, t)
    assert criterion_label("fpgm", Translator("en")) == "Similarity to others (FPGM)"


def test_layers_get_plain_names_with_the_code_name_kept_apart() -> None:
    from explorer.ui.naming import layer_labels

    def rows(*names: str) -> list[dict]:
        return [{"name": n, "num_channels": 16} for n in names]

    en = Translator("en")
    resnet = layer_labels(rows("layer1.0.conv1", "layer1.1.conv1", "layer2.0.conv1"), en)
    assert resnet == {
        "layer1.0.conv1": "Block 1 · conv 1 (16 filters)",
        "layer1.1.conv1": "Block 2 · conv 1 (16 filters)",
        "layer2.0.conv1": "Block 3 · conv 1 (16 filters)",
    }
    digits = layer_labels(rows("features.0", "features.3", "features.7"), Translator("ko"), counts=False)
    assert list(digits.values()) == ["합성곱 층 1", "합성곱 층 2", "합성곱 층 3"]
    assert layer_labels(rows("conv1", "fc"), en, counts=False) == {"conv1": "First conv", "fc": "Layer 2"}


def test_translator_follows_the_language_and_falls_back() -> None:
    lang = ["en"]
    t = Translator(lambda: lang[0])
    assert t("weights.finetuned", plan=7, steps=200) == "fine-tuned under plan #7 (200 steps)"
    lang[0] = "ko"
    assert t("weights.finetuned", plan=7, steps=200) == "계획 #7에서 미세 조정됨 (200 스텝)"
    assert t.get("crit.no_such_criterion.name", "no_such_criterion") == "no_such_criterion"
    assert translate("ko", "no.such.key") == "no.such.key"  # a bug shows the key, never breaks the page
    assert check_lang("ko") == "ko"
    with pytest.raises(ValueError, match="en, ko"):
        check_lang("fr")


def _core_codes() -> dict[str, set[str]]:
    """Every message code of the core → the names of the values it fills in: ``CoreText("code", text,
    name=...)`` and ``SomeError(text, code="code", values={"name": ...})``."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "ui" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            keywords = {k.arg: k.value for k in node.keywords}
            if name == "CoreText" and node.args and isinstance(node.args[0], ast.Constant):
                found[node.args[0].value] = {k for k in keywords if k is not None}
            elif isinstance(keywords.get("code"), ast.Constant):
                values = keywords.get("values")
                keys = {k.value for k in values.keys} if isinstance(values, ast.Dict) else set()
                found[keywords["code"].value] = keys
    return found


def test_the_core_texts_have_the_words_of_both_languages() -> None:
    codes = _core_codes()
    assert len(codes) >= 12
    for code, values in codes.items():
        for lang, catalogue in CATALOGUES.items():
            key = f"core.{code}"
            assert key in catalogue, (lang, key)
            assert _fields(catalogue[key]) == values, (lang, key)
    assert sorted(k for k in CATALOGUES["en"] if k.startswith("core.")) == sorted(f"core.{c}" for c in codes)


def test_the_korean_page_says_the_core_texts_in_korean(tmp_path) -> None:
    """A refused group's reason and an export error reach the Korean page in Korean; scripts keep English."""
    from explorer.app import build_app
    from explorer.errors import CheckpointError, CoreText
    from explorer.session import PruningSession
    from explorer.ui.format import describe_error, say

    session = PruningSession("digits_cnn")
    reason = session.views.describe()["refused_groups"]["classifier"]
    assert isinstance(reason, CoreText)
    assert str(reason).startswith("no layer consumes its channels")  # the script's English
    ko = Translator("ko")
    assert say(reason, ko) == translate("ko", "core.refusal.output")
    assert say("plain text", ko) == "plain text"
    error = CheckpointError("English", code="export.other_files", values={"folder": "/x"})
    assert describe_error(error, ko) == translate("ko", "core.export.other_files", folder="/x")
    assert describe_error(error) == "English"
    app = build_app(session=session, background=False, lang="ko")
    try:
        summary = app.views["summary"]
        assert translate("ko", "core.refusal.output") in summary._refused.children[0].children[0].value
        (tmp_path / "mine").mkdir()
        (tmp_path / "mine" / "notes.txt").write_text("keep")
        app.state.jobs.save(tmp_path / "mine")
        assert app.state.wait_idle(60)
        said = translate("ko", "core.export.other_files", folder=tmp_path / "mine")
        assert app.state.error == said
        assert said in app.state.activity.job_status["export"]["text"]
    finally:
        app.state.close()


def test_a_student_s_wrong_files_are_refused_in_korean(tmp_path) -> None:
    """Weights for another network, and plan-history files that do not fit, are refused on the Korean page
    with the catalogue's Korean text and the file's own names filled in (scripts keep the English)."""
    import json

    import torch

    from explorer.app import build_app
    from explorer.provenance import PROVENANCE_FORMAT, parse_records
    from explorer.session import PruningSession

    session = PruningSession("digits_cnn")
    app = build_app(session=session, background=False, lang="ko")
    try:
        state = app.state
        # weights of another network, uploaded as a .pt file
        torch.save({"conv.weight": torch.zeros(3, 3)}, tmp_path / "wrong.pt")
        content = (tmp_path / "wrong.pt").read_bytes()
        item = {"name": "wrong.pt", "type": "", "size": len(content), "content": memoryview(content)}
        app.views["upload"].upload.set_state({"value": [{**item, "last_modified": 0}]})
        assert state.wait_idle(60)
        expected = [k for k in session.model.state_dict() if not k.endswith("num_batches_tracked")]
        said = translate(
            "ko",
            "core.checkpoint.keys_mismatch",
            source="wrong.pt",
            missing=", ".join(expected),
            unexpected="conv.weight",
        )
        assert said.startswith(
            "가중치 wrong.pt이(가) 모델과 맞지 않습니다: 파일에 없는 가중치: features.0.weight, "
        )
        assert state.error == said
        assert state.session is session  # refused: nothing changed
        # a plan history saved for another model
        other = tmp_path / "other.json"
        other.write_text(json.dumps({"format": PROVENANCE_FORMAT, "model": "resnet_cifar", "records": []}))
        state.analyses.plans.load(other)
        assert state.wait_idle(60)
        assert state.error == "이 기록 파일은 digits_cnn이(가) 아니라 모델 resnet_cifar의 것입니다"
        # a history whose second record lost its accuracy
        record = {
            "macs": 1,
            "params": 1,
            "accuracy": 0.5,
            "source": "s",
            "weights": "w",
            "plan_number": 0,
            "macs_fraction": 1.0,
            "plan": {"groups": {}},
        }
        broken = {"format": PROVENANCE_FORMAT, "model": "digits_cnn", "records": [record, {**record}]}
        broken["records"][1]["accuracy"] = "high"
        (tmp_path / "broken.json").write_text(json.dumps(broken))
        state.analyses.plans.load(tmp_path / "broken.json")
        assert state.wait_idle(60)
        assert state.error == translate(
            "ko", "core.provenance.record_not_number", record=1, field="accuracy", value="'high'"
        )
        with pytest.raises(Exception, match="provenance record 1: 'accuracy' must be a finite number"):
            parse_records(json.dumps(broken))  # a script reads the English
    finally:
        app.state.close()
