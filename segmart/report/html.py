"""The self-contained HTML report: Jinja2 template + plotly charts, plotly.js inlined once."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from segmart.report.charts import Charts
from segmart.report.data import Bank, Block, ReportData, Row, SalesSource
from segmart.report.i18n import Lang

TEMPLATES = Path(__file__).with_name("templates")
# (key in monthly_kpis, kind): money is in the source's currency, rate is a 0-1 share
KPI_KEYS = (
    ("revenue", "money"),
    ("orders", "count"),
    ("customers", "count"),
    ("aov", "money"),
    ("arpu", "money"),
    ("arppu", "money"),
    ("repeat_purchase_rate", "rate"),
    ("return_purchase_rate", "rate"),
)


@dataclass
class Tile:
    key: str
    label: str
    value: str
    raw: Decimal | int | None
    change: str
    direction: str  # up, down, flat, none


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def kpi_tiles(lang: Lang, kpis: list[Row], currency: str) -> tuple[list[Tile], Row | None, Row | None]:
    """Tiles for the last complete month, with the change against the complete month before."""
    complete = [r for r in kpis if r["is_complete_month"]]
    if not complete:
        return [], None, None
    current = complete[-1]
    previous = complete[-2] if len(complete) > 1 else None
    tiles = []
    for key, kind in KPI_KEYS:
        value = current[key]
        before = previous[key] if previous else None
        if kind == "money":
            shown = lang.money(value, currency)
        elif kind == "rate":
            shown = lang.percent(value)
        else:
            shown = lang.number(value)
        change, direction = "", "none"
        if value is not None and before is not None:
            if kind == "rate":
                delta = Decimal(value) - Decimal(before)
                change = lang.number(delta * 100, 1) + " " + lang.t("pp")
                change = change if delta < 0 else "+" + change
                direction = "up" if delta > 0 else "down" if delta < 0 else "flat"
            elif before != 0:
                ratio = (Decimal(value) - Decimal(before)) / abs(Decimal(before))
                change = lang.signed_percent(ratio)
                direction = "up" if ratio > 0 else "down" if ratio < 0 else "flat"
        tiles.append(Tile(key, lang.t(f"kpi_{key}"), shown, value, change, direction))
    return tiles, current, previous


def _sentence(text: str) -> str:
    """Month names are lower case in Russian; a sentence that starts with one still gets a capital."""
    return text[:1].upper() + text[1:]


def _abc_summary(lang: Lang, rows: list[Row]) -> str:
    count = {c: sum(1 for r in rows if r["abc_class"] == c) for c in "ABC"}
    a_share = sum((r["revenue_share"] for r in rows if r["abc_class"] == "A"), Decimal(0))
    return lang.t(
        "abc_note",
        a=lang.number(count["A"]),
        a_share=lang.percent(a_share),
        b=lang.number(count["B"]),
        c=lang.number(count["C"]),
    )


def _clv_view(lang: Lang, charts: Charts, source: SalesSource, names: dict[str, str]) -> Row:
    """The CLV part of a source's section: value by segment, the share probably gone, top customers, holdout."""
    sid, cur, b = source.source_system, source.currency_code, source.blocks
    segments = [r for r in _rows(b, "clv_segments") if r["customers"]]
    fits = {r["fit_scope"]: r for r in _rows(b, "clv_fit")}
    forecast = fits.get("forecast")
    scored = sum(r["scored"] for r in segments)
    view: Row = {"clv_note": None, "clv_segments": None, "clv_rows": [], "clv_top": [], "clv_holdout": None}
    if forecast is not None and forecast["fit_status"] != "fitted":
        view["clv_note"] = lang.t("clv_not_fitted", reason=forecast["fit_message"] or forecast["fit_status"])
    if not scored:
        view["clv_note"] = view["clv_note"] or lang.t("clv_none")
        return view
    total = sum(r["expected_revenue"] or 0 for r in segments)
    gone = sum((r["share_gone"] or 0) * r["scored"] for r in segments) / scored
    horizon = max(r["horizon_months"] or 0 for r in segments)
    view["clv_summary"] = lang.t(
        "clv_summary",
        revenue=lang.money(total, cur),
        months=horizon,
        gone=lang.percent(gone),
        customers=lang.number(scored),
    )
    view["clv_segments"] = charts.clv_by_segment(f"clv-segments-{sid}", segments, names, cur)
    view["clv_rows"] = [
        {
            "code": r["rfm_segment"],
            "name": names.get(r["rfm_segment"], r["rfm_segment"]),
            "customers": lang.number(r["customers"]),
            "revenue": lang.money(r["expected_revenue"], cur),
            "share_revenue": lang.percent((r["expected_revenue"] or 0) / total if total else None),
            "purchases": lang.number(r["expected_purchases"], 1),
            "alive": lang.percent(r["mean_probability_alive"]),
            "gone": lang.percent(r["share_gone"]),
        }
        for r in segments
    ]
    view["clv_top"] = [
        {
            "customer": r["customer_id"],
            "segment": names.get(r["rfm_segment"], r["rfm_segment"]),
            "alive": lang.percent(r["probability_alive"]),
            "purchases": lang.number(r["expected_purchases_365d"], 1),
            "spend": lang.money(r["expected_average_spend"], cur),
            "clv": lang.money(r["customer_lifetime_value"], cur),
        }
        for r in _rows(b, "clv_top")
    ]
    holdout = _rows(b, "clv_holdout")
    parts = [r for r in holdout if not r["is_source_total"]]
    totals = [r for r in holdout if r["is_source_total"]]
    if parts and totals:
        view["clv_holdout"] = charts.clv_holdout(f"clv-holdout-{sid}", parts, names)
        total_row = totals[0]
        view["clv_holdout_note"] = lang.t(
            "clv_holdout_note",
            days=total_row["holdout_days"],
            date=lang.date(total_row["holdout_as_of_date"]),
            predicted=lang.number(total_row["predicted_purchases"]),
            actual=lang.number(total_row["actual_purchases"]),
            ratio=lang.percent(total_row["predicted_to_actual_ratio"], 0),
        )
    return view


def _source_view(lang: Lang, charts: Charts, source: SalesSource, data: ReportData) -> Row:
    sid = source.source_system
    cur = source.currency_code
    order = [s["rfm_segment"] for s in data.segments]
    names = {s["rfm_segment"]: lang.field(s, "segment_name") for s in data.segments}
    b = source.blocks
    view: Row = {
        "id": sid,
        "name": source.names["source_name_ru"] if lang.code == "ru" else source.names["source_name"],
        "currency": cur,
        "has_data": source.has_data,
        "as_of": lang.date(source.as_of_date),
        "period": f"{lang.date(source.first_date)} – {lang.date(source.last_date)}",
        "missing": [lang.t("missing_table", what=blk.missing) for blk in b.values() if blk.missing],
    }
    if not source.has_data:
        return view
    kpis = _rows(b, "kpis")
    tiles, current, previous = kpi_tiles(lang, kpis, cur)
    view["tiles"] = tiles
    if current is None:
        view["kpi_note"] = lang.t("kpi_none")
    elif previous is None:
        view["kpi_note"] = _sentence(lang.t("kpi_note_single", month=lang.long_month(current["month_start"])))
    else:
        view["kpi_note"] = _sentence(
            lang.t(
                "kpi_note",
                month=lang.long_month(current["month_start"]),
                previous=lang.long_month(previous["month_start"]),
            )
        )
    partial = [r for r in kpis if not r["is_complete_month"]]
    view["partial_note"] = (
        _sentence(
            lang.t(
                "partial_month", month=lang.long_month(partial[-1]["month_start"]), as_of=lang.date(source.as_of_date)
            )
        )
        if partial
        else ""
    )
    view["trends"] = charts.trends(f"trends-{sid}", kpis, cur) if kpis else None
    segments = _rows(b, "segments")
    view["segment_rows"] = [
        {
            "code": r["rfm_segment"],
            "name": names[r["rfm_segment"]],
            "description": lang.field(data.segment(r["rfm_segment"]), "segment_description"),
            "action": lang.field(data.segment(r["rfm_segment"]), "recommended_action"),
            "customers": lang.number(r["customers"]),
            "share_customers": lang.percent(r["share_of_customers"]),
            "revenue": lang.money(r["revenue"], cur),
            "share_revenue": lang.percent(r["share_of_revenue"]),
        }
        for r in segments
    ]
    has_customers = any(r["customers"] for r in segments)
    view["segments_customers"] = (
        charts.segment_bars(f"seg-customers-{sid}", segments, names, cur, by="customers") if has_customers else None
    )
    view["segments_revenue"] = (
        charts.segment_bars(f"seg-revenue-{sid}", segments, names, cur, by="revenue") if has_customers else None
    )
    transitions = _rows(b, "transitions")
    view["transitions"] = charts.transitions(f"transitions-{sid}", transitions, order, names) if transitions else None
    if transitions:
        view["transition_title"] = lang.t(
            "transition_title",
            from_month=lang.date(transitions[0]["from_as_of_date"]),
            to_month=lang.date(transitions[0]["to_as_of_date"]),
        )
    history = _rows(b, "history")
    view["history"] = (
        charts.segments_over_time(f"history-{sid}", history, order, names)
        if len({r["as_of_date"] for r in history}) > 1
        else None
    )
    cohorts = _rows(b, "cohorts")
    view["cohorts"] = charts.cohorts(f"cohorts-{sid}", cohorts) if cohorts else None
    lifecycle = _rows(b, "lifecycle")
    view["lifecycle"] = charts.lifecycle(f"lifecycle-{sid}", lifecycle) if lifecycle else None
    countries = _rows(b, "abc_countries")
    products = _rows(b, "abc_products")
    view["abc_countries"] = charts.pareto(f"abc-countries-{sid}", countries, cur) if countries else None
    view["abc_countries_note"] = _abc_summary(lang, countries) if countries else ""
    view["abc_products"] = charts.pareto(f"abc-products-{sid}", products, cur) if products else None
    view["abc_products_note"] = _abc_summary(lang, products) if products else ""
    view["top_products"] = [
        {"rank": r["revenue_rank"], "item": r["item"], "revenue": lang.money(r["revenue"], cur), "cls": r["abc_class"]}
        for r in products[:10]
    ]
    clusters = _rows(b, "clusters")
    elbow = _rows(b, "elbow")
    view["cluster_shares"] = charts.cluster_shares(f"clusters-{sid}", clusters) if clusters else None
    view["elbow"] = charts.elbow(f"elbow-{sid}", elbow) if elbow else None
    view["cluster_rows"] = [
        {
            "id": r["cluster_id"],
            "label": lang.field(r, "cluster_label"),
            "customers": lang.number(r["customers"]),
            "share_customers": lang.percent(r["share_of_customers"]),
            "revenue": lang.money(r["revenue"], cur),
            "share_revenue": lang.percent(r["share_of_revenue"]),
            "recency": lang.number(r["centroid_recency_days"]),
            "frequency": lang.number(r["centroid_frequency"], 1),
            "monetary": lang.money(r["centroid_monetary"], cur),
            "segment": names.get(r["main_rfm_segment"], r["main_rfm_segment"] or "–"),
        }
        for r in clusters
    ]
    view.update(_clv_view(lang, charts, source, names))
    view["order_anomalies"] = [
        {
            "date": lang.date(r["order_date"]),
            "order": r["order_id"],
            "customer": r["customer_id"] or "–",
            "amount": lang.money(r["net_amount"], cur),
            "mean": lang.money(r["window_mean"], cur),
            "z": lang.number(r["z_score"], 1),
        }
        for r in _rows(b, "order_anomalies")
    ]
    view["day_anomalies"] = [
        {
            "date": lang.date(r["order_date"]),
            "amount": lang.money(r["revenue"], cur),
            "mean": lang.money(r["window_mean"], cur),
            "z": lang.number(r["z_score"], 1),
        }
        for r in _rows(b, "day_anomalies")
    ]
    return view


def _rows(blocks: dict[str, Block], key: str) -> list[Row]:
    found = blocks.get(key)
    return found.rows if found else []


def _bank_view(lang: Lang, charts: Charts, bank: Bank) -> Row:
    b = bank.blocks
    view: Row = {
        "has_data": bank.clients > 0,
        "as_of": lang.date(bank.as_of_date),
        "note": lang.t("bank_as_of", date=lang.date(bank.as_of_date), clients=lang.number(bank.clients)),
        "missing": [lang.t("missing_table", what=blk.missing) for blk in b.values() if blk.missing],
        "cross_sell_note": "",
        "cross_sell": None,
        "income": None,
        "correlation": "",
    }
    if not bank.clients:
        return view
    segments = _rows(b, "segments")
    view["pie"] = charts.bank_pie("bank-segments", segments)
    view["segment_rows"] = [
        {
            "code": r["segment_code"],
            "name": lang.field(r, "segment_name"),
            "clients": lang.number(r["clients"]),
            "action": lang.field(r, "marketing_action"),
            "top": [
                {
                    "name": lang.field(p, "product_name"),
                    "using": lang.number(p["clients_using_product"]),
                    "share": lang.percent(p["share_of_segment_clients"]),
                }
                for p in _rows(b, "top_products")
                if p["client_segment_code"] == r["segment_code"]
            ],
        }
        for r in segments
    ]
    cross = b.get("cross_sell")
    if cross and not cross.missing:
        total, with_offer = cross.extra.get("clients", 0), cross.extra.get("with_offer", 0)
        view["cross_sell_note"] = lang.t(
            "cross_sell_note",
            with_offer=lang.number(with_offer),
            clients=lang.number(total),
            share=lang.percent(Decimal(with_offer) / total if total else None),
        )
        view["cross_sell"] = charts.cross_sell("bank-cross-sell", cross.rows) if cross.rows else None
    income = b.get("income")
    if income and not income.missing and income.rows:
        view["income"] = charts.income("bank-income", income.rows)
        corr = income.extra

        def coefficient(key: str) -> str:
            value = corr.get(key)
            return lang.t("correlation_na") if value is None else lang.number(value, 2)

        view["correlation"] = lang.t(
            "correlation",
            pearson=coefficient("pearson_correlation"),
            spearman=coefficient("spearman_correlation"),
            clients=lang.number(corr.get("clients_with_income")),
        )
    return view


def _warnings(lang: Lang, data: ReportData, stale_days: int) -> list[str]:
    out = []
    if data.quarantine.get("rows"):
        out.append(
            lang.t(
                "warn_quarantine",
                rows=lang.number(data.quarantine["rows"]),
                files=lang.number(data.quarantine["files"]),
            )
        )
    if data.failures:
        out.append(lang.t("warn_failures", files=lang.number(data.failures)))
    for row in data.stale:
        out.append(
            lang.t(
                "warn_stale", source=row["source_format"], days=row["days"], when=lang.timestamp(row["last_loaded_at"])
            )
        )
    for row in data.reconciliation:
        if row["staged"] != row["accounted"]:
            out.append(
                lang.t(
                    "warn_unreconciled",
                    source=row["source"],
                    staged=lang.number(row["staged"]),
                    accounted=lang.number(row["accounted"]),
                )
            )
    return out


def render_html(data: ReportData, lang: Lang, *, stale_days: int = 7, files: list[str] | None = None) -> str:
    charts = Charts(lang)
    # only the sources that have data get a section; the others are named in one line
    sources = [_source_view(lang, charts, s, data) for s in data.sources if s.has_data]
    bank = _bank_view(lang, charts, data.bank) if data.bank and data.bank.clients else None
    without = [
        (s.names["source_name_ru"] if lang.code == "ru" else s.names["source_name"])
        for s in data.sources
        if not s.has_data
    ] + ([lang.t("bank_section")] if data.has_mart and bank is None else [])
    template = _environment().get_template("report.html.j2")
    html = template.render(
        t=lang.t,
        lang=lang.code,
        as_of=lang.date(data.as_of_date),
        built_at=lang.timestamp(data.built_at),
        has_mart=data.has_mart,
        problems=[lang.t("missing_table", what=p) for p in data.problems],
        any_sales=any(s["has_data"] for s in sources),
        sources=sources,
        bank=bank,
        reconciliation=[
            {
                "source": r["source"],
                "staged": lang.number(r["staged"]),
                "accounted": lang.number(r["accounted"]),
                "kept": lang.number(r["kept"]),
                "ok": r["staged"] == r["accounted"],
            }
            for r in data.reconciliation
            if r["staged"] or r["accounted"]
        ],
        without_data=lang.t("not_shown_no_data", names=", ".join(without)) if without and data.has_mart else "",
        warnings=_warnings(lang, data, stale_days),
        files=files or [],
        chart_count=charts.count,
        plotly_js=Markup(get_plotlyjs()) if charts.count else "",
        as_markup=Markup,
    )
    return html
