"""The data-source registry: named sources register a reader by name, nobody dispatches on strings.

A source name is either plain (``"mnist"``) or takes an argument after a colon (``"cifar10_csv:<path>"``);
``resolve_source_name`` finds the entry and hands its reader the options of the ``load_data`` call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from explorer.data.splits import SourcePools
from explorer.errors import DataError


@dataclass(frozen=True)
class SourceOptions:
    """What a named source's reader gets from the ``load_data`` call."""

    root: Path  # folder of the named datasets
    download: bool  # whether a missing dataset may be downloaded
    input_shape: tuple[int, int, int] | None  # (C, H, W) the model expects, or None
    argument: str | None  # the text after "name:" for sources that take one, else None


SourceReader = Callable[[SourceOptions], SourcePools]


@dataclass(frozen=True)
class SourceEntry:
    """A registered data source."""

    name: str  # the registry key, lower case with underscores ("fashion_mnist", "cifar10_csv")
    read: SourceReader  # options → the source's pools
    description: str  # one line for help texts
    takes_argument: bool  # whether the name is used as "name:<argument>"

    @property
    def usage(self) -> str:
        """How a user writes this source: ``'mnist'`` or ``'cifar10_csv:<path>'``."""
        return f"{self.name}:<path>" if self.takes_argument else self.name


_SOURCES: dict[str, SourceEntry] = {}


def register_source(
    name: str, *, description: str, takes_argument: bool = False
) -> Callable[[SourceReader], SourceReader]:
    """Register the decorated ``reader(options) -> SourcePools`` as the data source ``name``.

    Args:
        name: the registry key, lower case with underscores.
        description: one line for help texts.
        takes_argument: the source is written ``"name:<argument>"`` (the argument is ``options.argument``).

    Returns:
        The decorator; it returns the reader unchanged.

    Raises:
        DataError: ``name`` is already registered to another reader.
    """

    def decorator(read: SourceReader) -> SourceReader:
        if name in _SOURCES and _SOURCES[name].read is not read:
            raise DataError(f"a data source named {name!r} is already registered")
        _SOURCES[name] = SourceEntry(name, read, description, takes_argument)
        return read

    return decorator


def list_sources() -> list[str]:
    """The registered source names as a user writes them (``"cifar10_csv:<path>"`` with an argument)."""
    return [entry.usage for entry in _SOURCES.values()]


def find_source(text: str) -> tuple[SourceEntry, str | None] | None:
    """The entry a source string names, with its argument, or ``None`` if no registered source matches.

    Plain names are matched case-insensitively with ``-`` read as ``_``; ``"name:<argument>"`` keeps its
    argument exactly as written.
    """
    head, colon, argument = text.partition(":")
    if colon:
        entry = _SOURCES.get(head.lower().replace("-", "_"))
        if entry is not None and entry.takes_argument:
            return entry, argument
    entry = _SOURCES.get(text.lower().replace("-", "_"))
    if entry is not None and not entry.takes_argument:
        return entry, None
    return None
