"""Serve the explorer as a Voilà app: ``serve_app(port=8866, options=LaunchOptions(model="digits_cnn"))``.

Voilà runs ``notebooks/explorer.ipynb`` (two cells: a title and ``show()``) in a kernel for every visit.
One kernel is kept preheated (the notebook already run in it), so a visitor gets a ready page in about the
time of the first render. A kernel is shut down as soon as its page goes away (reload, close); idle ones are
culled after ten minutes (each holds torch, several hundred MB). Sources are hidden, BokehJS is served
inline (the machines may be offline), and the options reach the kernels through environment variables
(``explorer.launch_options``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from explorer.launch_options import LaunchOptions
from explorer.memory import cgroup_limit

POOL_SIZE = 1  # preheated kernels kept ready

# the one text outside the app's catalogues: shown before Python runs, so in both languages
NOTEBOOK_TITLE = (
    "<small>Idle pages close after ten minutes: reload to start again. · "
    "10분 동안 쓰지 않은 페이지는 닫힙니다. 다시 열려면 새로 고침하세요.</small>"
)
NOTEBOOK_CODE = "from explorer.app import show\n\nshow()"


def build_notebook() -> object:
    """The explorer notebook (a title cell and a code cell), outputs stripped, as an ``nbformat`` node."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(NOTEBOOK_TITLE), nbformat.v4.new_code_cell(NOTEBOOK_CODE)]
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write_notebook(path: str | os.PathLike) -> Path:
    """Write :func:`build_notebook` to ``path`` and return it."""
    import nbformat

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = build_notebook()
    # stable cell ids keep the committed file byte-identical from one write to the next
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"explorer-{i}"
    nbformat.write(nb, str(path))
    return path


def notebook_path() -> Path:
    """The repository's ``notebooks/explorer.ipynb``, or a fresh copy in a temp dir (non-editable install)."""
    repo_notebook = Path(__file__).resolve().parents[1] / "notebooks" / "explorer.ipynb"
    if repo_notebook.is_file():
        return repo_notebook
    return write_notebook(Path(tempfile.mkdtemp(prefix="pruning-explorer-")) / "explorer.ipynb")


def voila_command(
    notebook: str | os.PathLike, port: int = 8866, open_browser: bool = True, pool_size: int = POOL_SIZE
) -> list[str]:
    """The command line that serves ``notebook`` with Voilà."""
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        *([] if open_browser else ["--no-browser"]),
        f"--port={int(port)}",
        "--strip_sources=True",
        "--MappingKernelManager.cull_idle_timeout=600",
        "--MappingKernelManager.cull_interval=60",
        "--theme=light",
        # Voilà's lab template without its render-blocking CDN stylesheets: the page must work offline
        "--template=pruning-explorer",
        # a preheated kernel has already run the notebook: the page is ready in about the first render
        f"--preheat_kernel={pool_size > 0}",
        f"--pool_size={max(pool_size, 0)}",
        # widget messages over 10 MB (checkpoint uploads) are dropped by default; allow the app's 200 MB
        # limit. The page shuts its kernel down on unload with a beacon that carries the _xsrf cookie, which
        # Voilà never sets: without this, every reload left a kernel (about 1 GB) running until the cull.
        # Kernel ids are random UUIDs, so another site cannot name one to shut it down.
        '--Voila.tornado_settings={"websocket_max_message_size": 230686720, "disable_check_xsrf": True}',
    ]


def voila_environment(options: LaunchOptions | None = None, pool_size: int = POOL_SIZE) -> dict[str, str]:
    """The environment of the Voilà server (and so of its kernels)."""
    options = options or LaunchOptions()
    env = dict(os.environ)
    env.update(options.to_env())
    limit = cgroup_limit()
    if options.memory_limit is None and limit is not None:
        # the visitor's kernel and the preheated ones share the container: each gets its part of the limit
        env["PRUNING_EXPLORER_MEMORY_LIMIT"] = str(limit // (max(pool_size, 0) + 1))
    env["BOKEH_RESOURCES"] = "inline"
    share = str(Path(__file__).resolve().parent / "share")
    env["JUPYTER_PATH"] = os.pathsep.join(
        [share, *[p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]]
    )
    # from a source checkout the kernel, started in notebooks/, must still find the package
    root = str(Path(__file__).resolve().parents[1])
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        env["PYTHONPATH"] = os.pathsep.join([root, *paths])
    return env


def serve_app(
    port: int = 8866,
    options: LaunchOptions | None = None,
    open_browser: bool = True,
    pool_size: int = POOL_SIZE,
) -> int:
    """Run the Voilà app until it is stopped (Ctrl-C); returns Voilà's exit code."""
    command = voila_command(notebook_path(), port, open_browser, pool_size)
    process = subprocess.Popen(command, env=voila_environment(options, pool_size))
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


__all__ = [
    "build_notebook",
    "notebook_path",
    "serve_app",
    "voila_command",
    "voila_environment",
    "write_notebook",
]
