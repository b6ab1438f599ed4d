"""Render a page of the kit: a template of templates/ with its CSS and
scripts inlined, under a Content-Security-Policy that lets the page load
nothing and run only those scripts (by their SHA-256)."""

import base64
import functools
import hashlib
from collections.abc import Sequence

import jinja2
from markupsafe import Markup

from core.pages.charts import Chart, charts_script
from core.pages.files import static_file
from core.pages.table import Thumbnail

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def render_page(
    template: str,
    *,
    title: str,
    charts: Sequence[Chart] = (),
    **context: object,
) -> str:
    """`template` (e.g. "report.html") with `context`; every string in
    it is escaped. `charts` are the Vega-Lite charts the template
    places by their id."""
    scripts = [static_file("sort_tables.js")]
    if charts:
        scripts.append(charts_script())
    return (
        environment()
        .get_template(template)
        .render(
            title=title,
            css=static_file("page.css"),
            scripts=[Markup(s) for s in scripts],
            csp=content_security_policy(scripts),
            charts={chart.id: chart for chart in charts},
            **context,
        )
    )


def content_security_policy(scripts: Sequence[str]) -> str:
    """Only inline styles, data: images and exactly `scripts`."""
    hashes = " ".join(f"'sha256-{_sha256(script)}'" for script in scripts)
    return (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline';"
        f" script-src {hashes}"
    )


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def data_url(thumbnail: Thumbnail) -> str:
    """The PNG as a data: URL, or "" if it is not a PNG."""
    png = thumbnail.png
    if png is None or not png.startswith(PNG_SIGNATURE):
        return ""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@functools.cache
def environment() -> jinja2.Environment:
    """The templates of templates/, escaping every value."""
    templates = jinja2.Environment(
        loader=jinja2.PackageLoader("core.pages"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters["data_url"] = data_url
    return templates
