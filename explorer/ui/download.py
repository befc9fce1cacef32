"""The exported files as one zip for the page's download link (no torch: the files are already written)."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The largest zip offered as a download link in the page, in bytes. The link is a ``data:`` URI (Voilà
#: serves no files of ours, and the page runs no JavaScript of ours), and Chromium refuses URLs over 2 MiB
#: (2,097,152 characters): 1.5 MB of zip is 2,000,000 characters of base64. Larger exports are saved on
#: the server only (ResNet-20's pruned weights, about 1 MB, fit; VGG-16's do not).
DOWNLOAD_LIMIT = 1_500_000


def download_of(folder: Path, files: Sequence[Path]) -> dict[str, Any]:
    """The saved ``files`` as one zip for the page's download link: ``{name, bytes, data}``, ``data`` the
    zip in base64 (``None`` when the zip is over ``DOWNLOAD_LIMIT``: too big for a ``data:`` link)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, f"{folder.name}/{path.name}")
    payload = buffer.getvalue()
    data = base64.b64encode(payload).decode("ascii") if len(payload) <= DOWNLOAD_LIMIT else None
    return {"name": f"{folder.name}.zip", "bytes": len(payload), "data": data}


__all__ = ["DOWNLOAD_LIMIT", "download_of"]
