"""Who pays (Hooker et al. 2019): per-class accuracy and flipped images, checked image by image against the
original network and the exported (physically pruned) one."""

from __future__ import annotations

import pytest
import torch

from explorer.session import PruningSession


@pytest.fixture(scope="module")
def session() -> PruningSession:
    s = PruningSession("digits_cnn", precision="fp32")  # who_pays always predicts in fp32
    s.set_global_ratio(0.5, criterion="l1")
    return s


def _loop_predictions(model: torch.nn.Module, inputs: torch.Tensor) -> list[tuple[int, float]]:
    """(class, softmax probability) for each image, one image at a time."""
    out = []
    with torch.no_grad():
        for x in inputs:
            probs = torch.softmax(model(x.unsqueeze(0))[0], dim=0)
            out.append((int(probs.argmax()), float(probs.max())))
    return out


@pytest.fixture(scope="module")
def independent(session: PruningSession):
    """Labels and (class, confidence) of the original and exported networks, image by image (once)."""
    val = session.data.val
    original = _loop_predictions(session.original_model().eval(), val.inputs)
    pruned = _loop_predictions(session.export().eval(), val.inputs)
    return val.labels.tolist(), original, pruned


def test_per_class_matches_an_image_by_image_count(session, independent):
    labels, original, pruned = independent
    rows = session.per_class()
    assert [r["class"] for r in rows] == list(range(10))
    assert [r["name"] for r in rows] == session.data.classes
    for row in rows:
        c = row["class"]
        mine = [i for i, y in enumerate(labels) if y == c]
        assert row["count"] == len(mine)
        want_orig = sum(original[i][0] == c for i in mine) / len(mine)
        want_new = sum(pruned[i][0] == c for i in mine) / len(mine)
        assert row["original_accuracy"] == pytest.approx(want_orig)
        assert row["pruned_accuracy"] == pytest.approx(want_new)
        assert row["change"] == pytest.approx((want_new - want_orig) * 100)
        assert row["weights"] == "original"
    # the classes' counts add up to the overall accuracies the session reports
    total = sum(r["count"] for r in rows)
    overall = sum(r["pruned_accuracy"] * r["count"] for r in rows) / total
    assert overall == pytest.approx(session.evaluate().accuracy, abs=1e-9)
    assert any(r["change"] < -20 for r in rows)  # a 50 % plan costs some classes far more than others


def test_flipped_images_match_an_image_by_image_comparison(session, independent):
    labels, original, pruned = independent
    result = session.flipped()
    lost = {i for i, y in enumerate(labels) if original[i][0] == y != pruned[i][0]}
    gained = {i for i, y in enumerate(labels) if original[i][0] != y == pruned[i][0]}
    assert {r["index"] for r in result["lost"]} == lost
    assert {r["index"] for r in result["gained"]} == gained
    assert lost  # at 50 % some images are lost
    assert result["weights"] == "original"
    for row in result["lost"] + result["gained"]:
        i = row["index"]
        assert row["label"] == labels[i]
        assert row["original_prediction"] == original[i][0]
        assert row["pruned_prediction"] == pruned[i][0]
        assert row["original_confidence"] == pytest.approx(original[i][1], abs=1e-5)
        assert row["pruned_confidence"] == pytest.approx(pruned[i][1], abs=1e-4)
    confidences = [r["pruned_confidence"] for r in result["lost"]]
    assert confidences == sorted(confidences, reverse=True)  # the most confident mistakes first


def test_pruned_side_runs_on_the_live_weights_and_says_which():
    s = PruningSession("digits_cnn")
    s.set_ratio("features.7", 0.5, criterion="l1")
    tuned = s.model_copy()
    with torch.no_grad():
        tuned.classifier.weight.mul_(-1)  # weights that are obviously not the original ones
    s.adopt_weights(tuned, steps=1)
    rows = s.per_class()
    assert s.weights.label.startswith("fine-tuned under plan #")
    assert all(r["weights"] == s.weights.label for r in rows)
    # the original side is still the original network; the pruned side collapses with the flipped head
    assert sum(r["original_accuracy"] * r["count"] for r in rows) / sum(r["count"] for r in rows) == (
        pytest.approx(s.baseline().accuracy)
    )
    assert sum(r["pruned_accuracy"] * r["count"] for r in rows) / sum(r["count"] for r in rows) < 0.5
    assert len(s.flipped()["lost"]) > len(s.data.val.labels) // 2
