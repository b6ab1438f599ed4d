"""The page kit: escaping, tables, thumbnails, the scripts a page may
run and the charts' data blocks."""

import html
import json
import re

import numpy as np

from core.pages.charts import Chart, charts_script
from core.pages.files import static_file
from core.pages.render import (
    content_security_policy,
    environment,
    render_page,
)
from core.pages.table import Column, Table, image, num, table
from tests.test_html_report import EVIL, Page, decode_data_url, png

TABLE = (
    '{% import "macros.html" as m %}{% for t in tables %}'
    "{{ m.table(t) }}{% endfor %}"
)


def render_tables(*tables: Table) -> str:
    return environment().from_string(TABLE).render(tables=tables)


def scripts(page: str) -> list[str]:
    """The scripts that run: inline, without a type."""
    return re.findall(r"<script>(.*?)</script>", page, re.DOTALL)


def policy(page: str) -> str:
    (found,) = re.findall(
        r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page
    )
    return html.unescape(found)


def test_every_string_in_a_table_is_escaped():
    columns = [
        Column("text", EVIL, lambda pair: pair[0]),
        Column("number", "n", lambda pair: num(pair[1], str(pair[1]))),
    ]
    markup = render_tables(table("evil", columns, [(EVIL, 1.5), ("a", EVIL)]))
    assert "<script>" not in markup
    parsed = Page(markup)
    assert parsed.tables["evil"] == [[EVIL, "1.5"], ["a", EVIL]]
    assert '<th data-key="text">&lt;script&gt;' in markup
    assert 'data-value="&lt;script&gt;' in markup


def test_tables_are_sortable_with_their_order_rows_and_footer():
    columns = [
        Column("name", "Name", lambda n: n, sortable=False),
        Column("n", "N", lambda n: num(len(n), str(len(n)))),
    ]
    markup = render_tables(
        table(
            "counts",
            columns,
            ["ab", "a"],
            sorted_by=("n", "descending"),
            row_css=lambda n: "flagged" if n == "a" else "",
            footer="Total",
        )
    )
    assert '<table class="sortable" id="counts">' in markup
    assert "<th>Name</th>" in markup
    assert '<th data-key="n" aria-sort="descending">N</th>' in markup
    assert Page(markup).row_classes["counts"] == ["", "flagged"]
    assert (
        '<tfoot><tr><th>Total</th><td class="num" data-value="5">5</td>'
        in markup
    )


def test_thumbnails_are_inline_pngs_or_a_placeholder(digit_images):
    pictures = [(png(digit_images[0]), EVIL), (b"GIF89a", "gif"), (None, "-")]
    columns = [Column("image", "Image", lambda p: image(*p), sortable=False)]
    parsed = Page(render_tables(table("pictures", columns, pictures)))
    (shown,) = parsed.images
    assert shown["alt"] == shown["title"] == EVIL
    np.testing.assert_array_equal(
        decode_data_url(shown["src"]), digit_images[0]
    )
    assert parsed.column("pictures", 0)[1:] == ["no preview", "no preview"]


def test_a_page_runs_only_the_scripts_its_policy_names():
    page = render_page("base.html", title=EVIL)
    assert f"<title>{EVIL}</title>" not in page
    assert scripts(page) == [static_file("sort_tables.js")]
    assert policy(page) == content_security_policy(scripts(page))
    assert "unsafe" not in policy(page).split("script-src")[1]
    assert "default-src 'none'" in policy(page)


def test_charts_add_the_vega_runtime_once():
    spec = {"description": "a chart", "data": {"values": []}}
    page = render_page(
        "base.html",
        title="charts",
        charts=[Chart("a", spec), Chart("b", spec)],
    )
    assert scripts(page) == [static_file("sort_tables.js"), charts_script()]
    assert policy(page) == content_security_policy(scripts(page))


def test_no_script_can_end_its_script_element_early():
    for script in (static_file("sort_tables.js"), charts_script()):
        assert "</script" not in script.lower()


def test_chart_data_blocks_keep_user_strings_inert():
    spec = {"description": EVIL, "data": {"values": [{"name": EVIL}]}}
    markup = (
        environment()
        .from_string(
            '{% import "macros.html" as m with context %}'
            '{{ m.chart("evil-chart") }}'
        )
        .render(charts={"evil-chart": Chart("evil-chart", spec)})
    )
    assert "<script>" not in markup and "</script>&" not in markup
    (data,) = re.findall(
        r'<script type="application/json" class="chart-spec"'
        r' data-chart="evil-chart">(.*?)</script>',
        markup,
    )
    assert json.loads(data) == spec
