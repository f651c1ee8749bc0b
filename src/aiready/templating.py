"""The one way aiready makes HTML: Jinja2 templates shipped in a package's ``templates/`` folder.

Autoescaping is on for every template, so a dataset name, a value or a reason that holds markup
comes out as text; only values wrapped in ``markupsafe.Markup`` on purpose (an SVG plot drawn
here, a fragment rendered by another template) pass through as HTML.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader

__all__ = ["environment", "render"]


@cache
def environment(package: str) -> Environment:
    """The templates beside ``package``'s code (``<package>/templates/``), autoescaped."""
    return Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(package: str, template: str, /, **values: Any) -> str:
    """Template ``template`` of ``package`` filled with ``values``."""
    return environment(package).get_template(template).render(**values)
