"""The Models tab: only the model + data pairs this machine can load are offered; the others are greyed out
with the command that makes them available; errors are said next to the button, in words a student can act
on."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.app import ExplorerApp, build_app
from explorer.session import PruningSession
from explorer.ui.model_choices import list_choices

pytestmark = pytest.mark.filterwarnings("ignore:the embedded weights", "ignore:pretrained weights")

PYTHON_ADVICE = ("root=", "download=True", "install_weights(", "explorer.")


@pytest.fixture
def empty_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No cached weights, no downloaded data."""
    monkeypatch.setenv("PRUNING_EXPLORER_CACHE", str(tmp_path / "weights"))
    monkeypatch.setenv("PRUNING_EXPLORER_DATA", str(tmp_path / "data"))
    return tmp_path


def test_pairs_and_the_commands_that_make_them_available(empty_machine: Path, shared_data: Path) -> None:
    from explorer.zoo.pretrained import install_weights

    choices = {c.key: c for c in list_choices()}
    assert choices["digits_cnn"].available
    assert choices["digits_cnn"].commands == ()
    resnet = choices["resnet20_cifar"]
    assert not resnet.available
    assert resnet.commands == (
        "pruning-explorer fetch resnet20_cifar",
        "pruning-explorer fetch cifar10",
        "pruning-explorer app --model resnet20_cifar --data cifar10_csv:PATH",
    )
    assert choices["vgg16_bn_cifar"].weights == "none"
    assert not choices["vgg16_bn_cifar"].available
    assert next(iter(choices)) == "digits_cnn"  # available pairs first

    install_weights("resnet20_cifar", shared_data / "pretrained" / "resnet20-12fca82f.th")
    csv = f"cifar10_csv:{shared_data / 'cifar10-first100' / 'cifar10_test.csv'}"
    choices = {c.key: c for c in list_choices(("resnet20_cifar", csv))}
    launched = choices[f"resnet20_cifar + {csv}"]
    assert launched.available  # the pair the app was started with: weights cached, CSV on disk
    assert choices["resnet20_cifar"].commands == (
        "pruning-explorer fetch cifar10",
        "pruning-explorer app --model resnet20_cifar --data cifar10_csv:PATH",
    )


def test_the_models_tab_greys_out_what_is_missing_and_says_why_next_to_the_button(
    empty_machine: Path,
) -> None:
    app = build_app(session=PruningSession("digits_cnn"), background=False, debounce=0.05)
    assert isinstance(app, ExplorerApp)
    try:
        state, view = app.state, app.views["model"]
        assert state.wait_idle(30)
        assert view.choice.value == "digits_cnn"
        assert not view.load_button.disabled
        labels = dict((key, label) for label, key in view.choice.options)
        assert "not on this machine" in labels["resnet20_cifar"]
        assert "not on this machine" not in labels["digits_cnn"]
        view.choice.value = "resnet20_cifar"
        assert view.load_button.disabled  # greyed out
        hint = view.children[3].value
        assert "pruning-explorer fetch resnet20_cifar" in hint
        assert "pruning-explorer fetch cifar10" in hint
        # a click that gets through anyway (a script): refused at once, said next to the button
        old = state.session
        view.load_button.click()
        assert state.wait_idle(30)
        status = state.activity.job_status["model"]
        assert status["state"] == "failed"
        assert "pruning-explorer fetch resnet20_cifar" in status["text"]
        assert not any(advice in status["text"] for advice in PYTHON_ADVICE)
        status_line = next(c for c in view.children if type(c).__name__ == "JobStatus")
        assert "pruning-explorer fetch cifar10" in status_line.value
        assert state.session is old
    finally:
        app.state.close()


def test_an_app_started_on_missing_data_says_what_to_run(empty_machine: Path) -> None:
    app = build_app("resnet20_cifar", background=False)
    assert isinstance(app, ExplorerApp)
    try:
        assert app.state.status == "failed"
        assert "pruning-explorer fetch cifar10" in app.error_view.html
        assert not any(advice in app.error_view.html for advice in PYTHON_ADVICE)
    finally:
        app.state.close()


def test_a_failed_job_says_why_next_to_its_button(tmp_path: Path) -> None:
    app = build_app(session=PruningSession("digits_cnn"), background=False, debounce=0.05)
    try:
        state = app.state
        (tmp_path / "mine").mkdir()
        (tmp_path / "mine" / "notes.txt").write_text("keep me")
        app.views["export"].folder.value = str(tmp_path / "mine")
        app.views["export"].save_button.click()
        assert state.wait_idle(60)
        status = state.activity.job_status["export"]
        assert status["state"] == "failed"
        assert "holds other files" in status["text"]  # the message itself, beside the Save button
    finally:
        app.state.close()
