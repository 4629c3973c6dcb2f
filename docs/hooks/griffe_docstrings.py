"""A Griffe extension that renders clobkit's docstrings well in Markdown, without editing them.

clobkit's docstrings are written for two readers: ``help()`` in a terminal and pytest's
``--doctest-modules``. So they hold bare ``>>>`` examples, Sphinx roles such as
:literal:`:class:\\`~clobkit.errors.InvalidArgument\\``, and the odd reST table. Rendered as
Markdown by mkdocstrings as they are, an example's output line such as ``[('b', 'buy')]`` is
read as a link reference (an autorefs warning, which ``--strict`` turns into an error), ``>>>``
becomes a nested quote, and tables collapse into one paragraph.

This extension rewrites each docstring's text as Griffe loads it, for the site only:

* a run of doctest lines (``>>>`` and ``...`` prompts with their output, up to a blank line)
  becomes a fenced ``pycon`` block;
* a reST simple table (rows of ``====`` borders) becomes a fenced ``text`` block, so its
  columns stay aligned;
* a Sphinx role becomes inline code: ``:class:`~a.b.C``` -> ```C```, ``:func:`x <a.b>``` ->
  ```x```, ``:data:`a.b``` -> ```a.b```;
* a reST definition list (a term line, then its definition indented below it) becomes a
  Markdown definition list (``term`` / ``:   definition``, the ``def_list`` extension);
* a paragraph ending in ``::`` (reST's "literal block follows") ends in ``:`` instead.

Text already inside a fenced block is left alone. The source files are not touched.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension

_ROLE = re.compile(r":(?:py:)?[a-z]+:`(~?)([^`<]*?)(?:\s*<([^`>]+)>)?`")
_TABLE_BORDER = re.compile(r"^\s*=+(\s+=+)+\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _role(match: re.Match[str]) -> str:
    tilde, text, target = match.group(1), match.group(2).strip(), match.group(3)
    if target is not None and text:
        return f"`{text}`"
    name = text or (target or "")
    if tilde:
        name = name.rsplit(".", 1)[-1]
    return f"`{name}`"


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def rewrite(text: str) -> str:
    """Return ``text`` with doctests and reST tables fenced and Sphinx roles as inline code.

    >>> rewrite("See :class:`~clobkit.errors.ClobError` and :func:`check <a.check>`.")
    'See `ClobError` and `check`.'
    >>> print(rewrite("``seed``\\n    feeds every random choice."))
    ``seed``
    :   feeds every random choice.
    """
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    in_fence = False
    in_definitions = False  # just wrote a reST definition-list item
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
            i += 1
            continue
        if in_fence:
            out.append(line)
            i += 1
            continue
        if stripped.startswith(">>>"):
            pad = _indent(line)
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(pad) :] if lines[i].startswith(pad) else lines[i])
                i += 1
            out.append(f"{pad}```pycon")
            out.extend(pad + b for b in block)
            out.append(f"{pad}```")
            continue
        if _TABLE_BORDER.match(line):
            pad = _indent(line)
            borders = 0
            block = []
            while i < len(lines) and borders < 3:
                if _TABLE_BORDER.match(lines[i]):
                    borders += 1
                block.append(lines[i][len(pad) :] if lines[i].startswith(pad) else lines[i])
                i += 1
            out.append(f"{pad}```text")
            out.extend(pad + b for b in block)
            out.append(f"{pad}```")
            continue
        width = len(line) - len(line.lstrip())
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if (
            stripped
            and width < 4  # deeper is an indented code block in Markdown: leave it
            and (not out or not out[-1].strip() or in_definitions)
            and following.strip()
            and len(following) - len(following.lstrip()) >= width + 2
            and not stripped.startswith(("-", "*", "+", "|", ">>>", "#"))
        ):
            pad = line[:width]
            if in_definitions:
                out.append("")  # one item per paragraph, or def_list nests the next term
            out.append(pad + _ROLE.sub(_role, stripped))
            i += 1
            first = True
            while i < len(lines) and lines[i].strip():
                if len(lines[i]) - len(lines[i].lstrip()) <= width:
                    break
                body = _ROLE.sub(_role, lines[i].strip())
                out.append(f"{pad}:   {body}" if first else f"{pad}    {body}")
                first = False
                i += 1
            in_definitions = True
            continue
        in_definitions = False
        line = _ROLE.sub(_role, line)
        if line.endswith("::") and line.strip() != "::":
            line = line[:-1]
        out.append(line)
        i += 1
    return "\n".join(out)


class ClobkitDocstrings(Extension):
    """Rewrite every docstring with :func:`rewrite` as Griffe creates the object."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring, if it has one."""
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)
