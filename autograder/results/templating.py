"""The one Jinja2 environment every page and file of the kit is rendered with.

Markdown templates (``*.md.j2``) escape student text with the ``md`` and ``fence``
filters; any HTML template (``*.html.j2``) is autoescaped by Jinja2, so raw HTML never
comes from a submission there either. Other templates (``*.sh.j2`` and the like, for
the Gradescope bundle) hold no student text at all.
"""
from __future__ import annotations

from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape

from autograder.results import escape

templates = Environment(loader=PackageLoader("autograder", "templates"),
                        autoescape=select_autoescape(["html", "htm", "xml", "html.j2", "htm.j2",
                                                      "xml.j2"], default_for_string=False),
                        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
templates.filters.update(md=escape.markdown, fence=escape.fence, visible=escape.visible,
                         segment=lambda text: quote(str(text), safe=""))
