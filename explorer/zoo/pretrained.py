"""Trained weights of zoo models: the embedded file, the local cache, verified downloads.

The cache folder is, in order of precedence, the ``cache_dir`` argument, the ``PRUNING_EXPLORER_CACHE``
environment variable, or ``~/.cache/pruning-explorer/weights``. A file enters the cache only after its
SHA-256 matched the expected digest (the full digest, or for ``name-<hex>.ext`` files the hex prefix in the
name), and it enters atomically: a temporary file in the same folder, then ``os.replace``. So the cache never
holds a half-written or unverified file, even when two processes download at once.

Offline, copy a weights file you trust with ``install_weights(name, path)``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import warnings
from pathlib import Path

from torch import nn

from explorer.checkpoints import load_checkpoint_state_dict, load_state_dict_into
from explorer.errors import CheckpointError, WeightsUnavailableError
from explorer.zoo._registry import get_model_entry
from explorer.zoo.specs import ModelEntry, WeightsSource

__all__ = [
    "CACHE_ENV_VAR",
    "apply_pretrained",
    "cached_weights_path",
    "fetch_weights",
    "get_cache_dir",
    "install_weights",
    "load_pretrained_state_dict",
    "sha256_file",
]

CACHE_ENV_VAR = "PRUNING_EXPLORER_CACHE"
_CHUNK = 1 << 20


def get_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The weights cache folder: ``cache_dir``, else ``$PRUNING_EXPLORER_CACHE``, else the default.

    Args:
        cache_dir: an explicit folder, which wins over everything else.

    Returns:
        The folder (not created).
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "pruning-explorer" / "weights"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _source_of(name: str) -> tuple[ModelEntry, WeightsSource]:
    entry = get_model_entry(name)
    if entry.weights is None:
        raise WeightsUnavailableError(
            f"the zoo model {name!r} has no pretrained weights", code="weights.none", values={"model": name}
        )
    return entry, entry.weights


def _check_digest(name: str, source: WeightsSource, digest: str, what: str) -> None:
    expected = source.sha256
    if expected is None or not digest.startswith(expected):
        raise WeightsUnavailableError(
            f"{what} is not the expected weights file for {name!r}: its SHA-256 is {digest}, expected "
            f"{'a digest starting with ' if expected and len(expected) < 64 else ''}{expected}",
            code="weights.digest",
            values={"file": str(what), "model": name, "digest": digest, "expected": str(expected)},
        )


def _store_atomically(name: str, source: WeightsSource, chunks, cache: Path, what: str) -> Path:
    """Write ``chunks`` to a temporary file in ``cache``, verify, and move it to its final name."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / source.filename
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(
        dir=cache, prefix=f".{source.filename}.", suffix=".part", delete=False
    ) as handle:
        temp = Path(handle.name)
        try:
            for chunk in chunks:
                digest.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    try:
        _check_digest(name, source, digest.hexdigest(), what)
        temp.chmod(0o644)  # NamedTemporaryFile creates 0600; a shared cache should stay readable
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target


def _read_chunks(handle):
    while chunk := handle.read(_CHUNK):
        yield chunk


def cached_weights_path(name: str, cache_dir: str | os.PathLike | None = None) -> Path | None:
    """Where the weights of ``name`` are available locally, or ``None`` (embedded weights are always local).

    The file is not verified here; ``load_pretrained_state_dict`` verifies it.
    """
    _, source = _source_of(name)
    if source.embedded_path is not None:
        return source.embedded_path if source.embedded_path.is_file() else None
    path = get_cache_dir(cache_dir) / source.filename
    return path if path.is_file() else None


def install_weights(name: str, path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> Path:
    """Copy a local weights file into the cache after checking its SHA-256.

    This is the offline way to get pretrained weights: download the file elsewhere (see the URL in the
    zoo model's ``WeightsSource``), then install it.

    Args:
        name: zoo model name, e.g. ``"resnet20_cifar"`` or ``"torchvision/resnet18"``.
        path: the weights file.
        cache_dir: the cache folder (see ``get_cache_dir``).

    Returns:
        The path of the file in the cache.

    Raises:
        WeightsUnavailableError: the model has no downloadable weights, the file is missing, or its SHA-256
            does not match.
    """
    _, source = _source_of(name)
    if source.url is None:
        raise WeightsUnavailableError(f"{name!r} uses weights embedded in the package; nothing to install")
    path = Path(path)
    if not path.is_file():
        raise WeightsUnavailableError(
            f"cannot install weights for {name!r}: {path} does not exist",
            code="weights.install_missing",
            values={"model": name, "path": str(path)},
        )
    with open(path, "rb") as handle:
        return _store_atomically(name, source, _read_chunks(handle), get_cache_dir(cache_dir), str(path))


def fetch_weights(
    name: str,
    url: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    *,
    timeout: float = 30.0,
) -> Path:
    """Download the weights of ``name`` into the cache, checking their SHA-256.

    Args:
        name: zoo model name.
        url: where to download from; defaults to the model's official URL. Any scheme ``urllib`` supports
            works, including ``file://`` (a mirror, or a local copy).
        cache_dir: the cache folder (see ``get_cache_dir``).
        timeout: seconds to wait for the server before giving up.

    Returns:
        The path of the verified file in the cache.

    Raises:
        WeightsUnavailableError: the download failed or the file's SHA-256 does not match.
    """
    _, source = _source_of(name)
    if source.url is None:
        raise WeightsUnavailableError(f"{name!r} uses weights embedded in the package; nothing to download")
    url = url or source.url
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return _store_atomically(name, source, _read_chunks(response), get_cache_dir(cache_dir), url)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise WeightsUnavailableError(
            f"could not download the weights of {name!r} from {url} ({reason}). Offline, download "
            f"{source.url} elsewhere and run explorer.zoo.pretrained.install_weights({name!r}, path).",
            code="weights.download_failed",
            values={"model": name, "url": str(url), "reason": str(reason), "source": str(source.url)},
        ) from error


def load_pretrained_state_dict(
    name: str, *, cache_dir: str | os.PathLike | None = None, allow_download: bool = False
) -> dict:
    """The verified trained state_dict of a zoo model, from the package, the cache or a download.

    Args:
        name: zoo model name.
        cache_dir: the cache folder (see ``get_cache_dir``).
        allow_download: download the weights when they are not cached.

    Returns:
        Parameter and buffer names mapped to CPU tensors, ready for ``load_state_dict``.

    Raises:
        WeightsUnavailableError: not cached and not downloadable, or a cached file that fails verification.
        CheckpointError: the file cannot be read.
    """
    _, source = _source_of(name)
    if source.embedded_path is not None:
        if not source.embedded_path.is_file():
            raise WeightsUnavailableError(f"the embedded weights file {source.embedded_path} is missing")
        state = load_checkpoint_state_dict(source.embedded_path)
    else:
        path = cached_weights_path(name, cache_dir)
        if path is None:
            if not allow_download:
                raise WeightsUnavailableError(
                    f"the pretrained weights of {name!r} are not in the cache {get_cache_dir(cache_dir)} and "
                    f"downloading is off. Pass allow_download=True, or download {source.url} and run "
                    f"explorer.zoo.pretrained.install_weights({name!r}, path).",
                    code="weights.not_cached",
                    values={"model": name, "cache": str(get_cache_dir(cache_dir)), "source": str(source.url)},
                )
            path = fetch_weights(name, cache_dir=cache_dir)
        else:
            # a cache file may have been damaged or replaced since it was verified
            _check_digest(name, source, sha256_file(path), f"the cached file {path}")
        state = load_checkpoint_state_dict(path)
    return source.adapt(state) if source.adapt is not None else state


def apply_pretrained(
    model: nn.Module,
    entry: ModelEntry,
    *,
    cache_dir: str | os.PathLike | None = None,
    allow_download: bool = False,
    strict: bool = False,
) -> bool:
    """Load the trained weights of ``entry`` into ``model``; warn (or raise) when they are unavailable.

    Args:
        model: a freshly built model of ``entry``.
        entry: the registry row.
        cache_dir: the cache folder (see ``get_cache_dir``).
        allow_download: download the weights when they are not cached.
        strict: raise instead of warning.

    Returns:
        Whether trained weights were loaded.

    Raises:
        WeightsUnavailableError: with ``strict=True``, whatever prevented loading.
    """
    name = entry.spec.name
    try:
        state = load_pretrained_state_dict(name, cache_dir=cache_dir, allow_download=allow_download)
        load_state_dict_into(model, state, source=f"the pretrained weights of {name!r}", name=name)
    except (WeightsUnavailableError, CheckpointError) as error:
        if strict:
            if isinstance(error, WeightsUnavailableError):
                raise
            raise WeightsUnavailableError(str(error), code=error.code, values=error.values) from error
        warnings.warn(f"{error} Using random weights instead.", UserWarning, stacklevel=3)
        return False
    return True
