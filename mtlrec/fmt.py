"""Numbers formatted for people: 0.7312, 1.2M rows, 3.4 s; and user text made safe for Markdown."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence


def metric(value: float | None, digits: int = 4) -> str:
    """A metric value: 0.7312; '–' when missing or undefined."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.{digits}f}"


def count(n: float | None) -> str:
    """A count: 950, 12.3k, 1.2M, 3.4B."""
    if n is None:
        return "–"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            text = f"{n / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{n:,.0f}"


def seconds(s: float | None) -> str:
    """A duration: 0.42 s, 3.4 s, 2 min 05 s, 1 h 02 min."""
    if s is None or not math.isfinite(s):
        return "–"
    if s < 1:
        return f"{s:.2f} s"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def nbytes(n: float) -> str:
    """A memory size: 512 KB, 1.2 GB."""
    for size, suffix in ((1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")):
        if n >= size:
            return f"{n / size:.1f} {suffix}"
    return f"{n:.0f} B"


def setting(value) -> str:
    """A setting's value as a person types it: 0.8, 1e-06, 100."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def delta(value: float | None, reference: float | None, digits: int = 4) -> str | None:
    """Signed difference for st.metric's delta ('+0.0123'), unsigned when it rounds to 0 ('0.0000': not "-0.0000"
    for a rounding's sign, nor "±0.0000", which read as a noise value); None when either side is missing."""
    if value is None or reference is None:
        return None
    if not (math.isfinite(value) and math.isfinite(reference)):
        return None
    text = f"{value - reference:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def unchanged(delta: str | None) -> bool:
    """Whether a delta() text is a difference that rounds to 0 (no sign): neither gain nor loss."""
    return bool(delta) and delta[0] not in "+-"


# What Streamlit's Markdown reads as formatting, LaTeX ($), HTML, entities, icons (:name:) and links; an underscore only
# where it is not inside a word (snake_case stays as it is: CommonMark never reads it as emphasis).
MARKDOWN = re.compile(r"[\\`*\[\]<>$~|:&#]|(?<![^\W_])_|_(?![^\W_])")


def plain(message: object) -> str:
    """A message of the library or of a page (which may quote column names and use Markdown on purpose, such as a
    `code` span) put into Markdown without a '$' starting LaTeX ('Price ($)' and 'Tax ($)' in one note were set as
    a formula), and without links, images or HTML: a name quoted in it (a column of an uploaded file, a note of an
    imported run) could otherwise show an image from anywhere to whoever opens the page. Unlike `md`, the rest
    (code spans, emphasis) is left as written."""
    # Code spans (`…`, ``…``) are left as they are: Markdown shows a backslash in them as written (a CLI command
    # quoting a column 'rating[1-5]' read 'rating\\[1-5\\]'), and renders nothing in them.
    # An escaped backtick (\\`) opens no span: Markdown would render what follows it.
    parts = re.split(r"((?<![`\\])(`+)(?!`).+?(?<!`)\2(?!`))", str(message))
    return "".join(
        part if i % 3 == 1 else "" if i % 3 == 2 else re.sub(r"(?<!\\)[$\[\]<]", lambda m: "\\" + m.group(), part)
        for i, part in enumerate(parts)
    )  # one escaped by md stays so


def md(text: object) -> str:
    """User text (a run's name, a file or column name, a typed id) to put into Markdown (st.markdown, captions,
    alerts, toasts, widget labels), shown as itself: 'promo $5 vs $10 *A/B* test' was set in italics and LaTeX."""
    escaped = MARKDOWN.sub(lambda m: "\\" + m.group(), str(text)).replace("\n", " ")
    return escaped.replace("\\:material/", "\\:\u200bmaterial/")  # icons are found after escapes are read


def listing(values: Sequence, limit: int, show: Callable[[object], str] = str) -> str:
    """The first `limit` values for a message, joined by commas, with ', ...' when there are more."""
    return ", ".join(show(v) for v in values[:limit]) + (", ..." if len(values) > limit else "")


def weight(value: float) -> str:
    """A loss weight as run names write it (3 significant digits: a sweep's 2/3 is 0.667, not 0.666667; a weight of
    1000 or more in whole numbers, 1000 and 1235, not 1e+03)."""
    shown = f"{value:.3g}"
    if "e+" in shown and math.isfinite(value):  # 999.6 rounds to 1e+03 too
        return f"{value:.0f}"
    return shown
