"""MkDocs hooks: backend option tables from the code, and the benchmarks page from ``BENCHMARKS.md``.

``{{ options("NAME") }}`` in a page becomes the table of backend NAME's options (read from its ``Options``
dataclass, the same fields that validate configs), and ``{{ backend_summary("NAME") }}`` its one-line summary
and install hint. ``{{ include_benchmarks }}`` becomes the repository's ``BENCHMARKS.md``. A missing backend or
file is logged as a warning, which fails the strict build.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.qiopt")
ROOT = Path(__file__).resolve().parents[1]
_CALL = re.compile(r"\{\{\s*(options|backend_summary)\(\"([\w-]+)\"\)\s*\}\}")


def _options_table(name: str) -> str:
    from qiopt.backends.registry import backend_class

    rows = ["| option | default | description |", "|---|---|---|"]
    for option, (default, doc) in backend_class(name).options_type.docs().items():
        escaped = doc.replace("|", r"\|")
        rows.append(f"| `{option}` | `{default!r}` | {escaped} |")
    return "\n".join(rows)


def _summary(name: str) -> str:
    from qiopt.backends.registry import backend_class

    cls = backend_class(name)
    hint = f" Needs `{', '.join(cls.requires)}`: `{cls.install_hint}`." if cls.install_hint else ""
    return f"*{cls.summary}.*{hint}"


def _expand(match: re.Match[str]) -> str:
    kind, name = match.groups()
    try:
        return _options_table(name) if kind == "options" else _summary(name)
    except Exception as exc:  # report in the build log; strict mode turns it into a failure
        log.warning("cannot document backend %r: %s: %s", name, type(exc).__name__, exc)
        return f"*(backend {name!r} could not be loaded when the docs were built)*"


def on_page_markdown(markdown: str, **_: Any) -> str:
    markdown = _CALL.sub(_expand, markdown)
    if "{{ include_benchmarks }}" in markdown:
        source = ROOT / "BENCHMARKS.md"
        if source.is_file():
            text = source.read_text(encoding="utf-8")
            text = re.sub(r"\A# [^\n]*\n", "", text)  # the page has its own title
        else:
            log.warning("BENCHMARKS.md not found at %s", source)
            text = "*(BENCHMARKS.md is missing)*"
        markdown = markdown.replace("{{ include_benchmarks }}", text)
    return markdown
