"""The app's words, one catalogue per language: :mod:`.en` (English) and :mod:`.ko` (Korean).

Every text the page shows is a key of both catalogues; code asks for it with ``t("key", value=...)``, where
``t`` is a :class:`Translator` bound to the app's language (``state.t``). A text is a ``str.format``
pattern: values are filled in by name, and the two catalogues use the same names. ``tests/test_i18n.py``
fails on a key missing from either catalogue, on a key used in the code but absent, and on patterns whose
placeholders differ.

    >>> t = Translator("ko")
    >>> t("weights.original")
    '원래 가중치'
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from explorer.ui.i18n import en, ko

log = logging.getLogger(__name__)

#: Language code → its catalogue (key → text pattern).
CATALOGUES: dict[str, Mapping[str, str]] = {"en": en.TEXTS, "ko": ko.TEXTS}
#: The languages, in the order the switch offers them, with their own names.
LANGUAGES = {"en": "English", "ko": "한국어"}
DEFAULT_LANG = "en"


def check_lang(lang: str) -> str:
    """``lang`` if a catalogue exists for it; raises ``ValueError`` (with the choices) otherwise."""
    if lang not in CATALOGUES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(CATALOGUES)}")
    return lang


def translate(lang: str, key: str, /, **values: object) -> str:
    """The text of ``key`` in ``lang`` (English when that catalogue lacks it), filled in with ``values``."""
    text = CATALOGUES.get(lang, en.TEXTS).get(key)
    if text is None:
        text = en.TEXTS.get(key)
        if text is None:  # a bug, caught by tests/test_i18n.py: show the key rather than fail the page
            log.warning("pruning explorer: no text for %r", key)
            return key
    return text.format(**values) if values else text


class Translator:
    """``t(key, **values)``: the text of ``key`` in the current language.

    Args:
        lang: a language code, or a function returning the current one (the app's language can change).
    """

    def __init__(self, lang: str | Callable[[], str] = DEFAULT_LANG):
        self._lang = lang if callable(lang) else (lambda: lang)

    @property
    def lang(self) -> str:
        return self._lang()

    def __call__(self, key: str, /, **values: object) -> str:
        return translate(self.lang, key, **values)

    def get(self, key: str, default: str, /, **values: object) -> str:
        """Like calling it, but ``default`` when no catalogue has ``key`` (keys built from a name that a
        user may have registered, such as a criterion's)."""
        if key not in CATALOGUES.get(self.lang, en.TEXTS) and key not in en.TEXTS:
            return default
        return self(key, **values)


__all__ = ["CATALOGUES", "DEFAULT_LANG", "LANGUAGES", "Translator", "check_lang", "translate"]
