"""The report's charts: plotly figures rendered as <div>s for the HTML page.

plotly.js itself goes into the page once (see html.py); each chart is a small
JSON spec. Axis labels that are months or segment names are formatted here, in
the report's language, so plotly needs no locale bundle; hover texts are
preformatted strings for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import plotly.graph_objects as go

from segmart.report.data import Row
from segmart.report.i18n import Lang

PALETTE = [
    "#1f5f8b",
    "#e07b39",
    "#3a9d5d",
    "#c0392b",
    "#8e6bb8",
    "#8c6d31",
    "#d35fb7",
    "#7f8c8d",
    "#b5bd35",
    "#17a2b8",
    "#34495e",
]
STATE_COLOURS = {"new": "#3a9d5d", "active": "#1f5f8b", "returning": "#e07b39", "inactive": "#bdc3c7"}
CLASS_COLOURS = {"A": "#1f5f8b", "B": "#e07b39", "C": "#bdc3c7"}
PARETO_POINTS = 800

_TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": "Segoe UI, Roboto, Helvetica, Arial, sans-serif", "size": 12, "color": "#222"},
        colorway=PALETTE,
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis={"gridcolor": "#eee", "linecolor": "#999", "automargin": True},
        yaxis={"gridcolor": "#eee", "linecolor": "#999", "automargin": True, "zerolinecolor": "#ccc"},
        legend={"orientation": "h", "y": -0.2},
        hoverlabel={"bgcolor": "white"},
    )
)


def _f(value: Decimal | float | int | None) -> float | None:
    return None if value is None else float(value)


class Charts:
    """Builds the chart <div>s of one report; ids are unique within the page."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self.count = 0

    def render(self, fig: go.Figure, name: str, *, height: int = 360) -> str:
        self.count += 1
        fig.update_layout(
            template=_TEMPLATE,
            separators=self.lang.plotly_separators,
            height=height,
            margin={"l": 10, "r": 10, "t": 30, "b": 10},
        )
        return fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{name}",
            default_width="100%",
            default_height=f"{height}px",
            config={"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]},
        )

    # --- sales -------------------------------------------------------------------------------

    def trends(self, name: str, kpis: list[Row], currency: str) -> str:
        t = self.lang
        months = [t.month(r["month_start"]) for r in kpis]
        fig = go.Figure()
        fig.add_bar(
            x=months,
            y=[_f(r["revenue"]) for r in kpis],
            name=t.t("revenue"),
            marker_color=[PALETTE[0] if r["is_complete_month"] else "#a9c4d8" for r in kpis],
            hovertext=[t.money(r["revenue"], currency) for r in kpis],
            hoverinfo="x+text",
        )
        for key, colour in (("orders", PALETTE[1]), ("customers", PALETTE[2]), ("new_customers", PALETTE[4])):
            fig.add_scatter(
                x=months,
                y=[r[key] for r in kpis],
                name=t.t(key),
                yaxis="y2",
                mode="lines+markers",
                line={"color": colour},
                hovertext=[t.number(r[key]) for r in kpis],
                hoverinfo="x+name+text",
            )
        fig.update_layout(
            yaxis={"title": {"text": t.t("revenue")}},
            yaxis2={"overlaying": "y", "side": "right", "showgrid": False, "rangemode": "tozero"},
            xaxis={"type": "category"},
        )
        return self.render(fig, name)

    def segment_bars(self, name: str, segments: list[Row], names: dict[str, str], currency: str, *, by: str) -> str:
        t = self.lang
        labels = [names[r["rfm_segment"]] for r in segments]
        if by == "customers":
            values = [r["customers"] for r in segments]
            hover = [f"{t.number(r['customers'])} ({t.percent(r['share_of_customers'])})" for r in segments]
        else:
            values = [_f(r["revenue"]) for r in segments]
            hover = [f"{t.money(r['revenue'], currency)} ({t.percent(r['share_of_revenue'])})" for r in segments]
        fig = go.Figure(
            go.Bar(
                y=labels,
                x=values,
                orientation="h",
                marker_color=PALETTE[: len(labels)],
                hovertext=hover,
                hoverinfo="y+text",
                text=hover,
                textposition="auto",
            )
        )
        fig.update_layout(yaxis={"autorange": "reversed", "type": "category"}, showlegend=False)
        return self.render(fig, name, height=380)

    def transitions(self, name: str, rows: list[Row], order: Sequence[str], names: dict[str, str]) -> str:
        t = self.lang
        share = {(r["from_segment"], r["to_segment"]): r for r in rows}
        present = [s for s in order if any(k[0] == s for k in share)]
        z, text = [], []
        for src in present:
            z.append([_f(share[(src, dst)]["share_of_from_segment"]) if (src, dst) in share else None for dst in order])
            text.append(
                [
                    (
                        f"{t.percent(share[(src, dst)]['share_of_from_segment'], 0)} "
                        f"({t.number(share[(src, dst)]['customers'])})"
                    )
                    if (src, dst) in share
                    else ""
                    for dst in order
                ]
            )
        fig = _share_heatmap(
            z, [names[s] for s in order], [names[s] for s in present], text, "%{y} → %{x}: %{text}", "Blues"
        )
        fig.update_layout(
            xaxis={"title": {"text": t.t("to_segment")}, "side": "top", "type": "category"},
            yaxis={"title": {"text": t.t("from_segment")}, "autorange": "reversed", "type": "category"},
        )
        return self.render(fig, name, height=460)

    def segments_over_time(self, name: str, rows: list[Row], order: Sequence[str], names: dict[str, str]) -> str:
        t = self.lang
        dates = sorted({r["as_of_date"] for r in rows})
        counts = {(r["as_of_date"], r["rfm_segment"]): r["customers"] for r in rows}
        fig = go.Figure()
        for i, seg in enumerate(order):
            values = [counts.get((d, seg), 0) for d in dates]
            fig.add_bar(
                x=[t.date(d) for d in dates],
                y=values,
                name=names[seg],
                marker_color=PALETTE[i % len(PALETTE)],
                hovertext=[t.number(v) for v in values],
                hoverinfo="x+name+text",
            )
        fig.update_layout(barmode="stack", xaxis={"type": "category"})
        return self.render(fig, name, height=400)

    def cohorts(self, name: str, rows: list[Row]) -> str:
        t = self.lang
        cohorts = sorted({r["cohort_month"] for r in rows})
        width = max(r["months_since_first_purchase"] for r in rows) + 1
        cells = {(r["cohort_month"], r["months_since_first_purchase"]): r for r in rows}
        z, text, hover = [], [], []
        for c in cohorts:
            zr, tr, hr = [], [], []
            for m in range(width):
                cell = cells.get((c, m))
                observable = cell is not None and cell["is_observable"] and cell["retention_rate"] is not None
                zr.append(_f(cell["retention_rate"]) if observable else None)
                tr.append(t.percent(cell["retention_rate"], 0) if observable else "")
                hr.append(
                    (
                        f"{t.percent(cell['retention_rate'])}: "
                        f"{t.number(cell['active_customers'])} / {t.number(cell['cohort_size'])}"
                    )
                    if observable
                    else ""
                )
            z.append(zr)
            text.append(tr)
            hover.append(hr)
        fig = _share_heatmap(
            z, list(range(width)), [t.month(c) for c in cohorts], text, "%{y}, +%{x}: %{customdata}", "Greens"
        )
        fig.update_traces(customdata=hover)
        fig.update_layout(
            xaxis={"title": {"text": t.t("months_since")}, "side": "top", "dtick": 1},
            yaxis={"title": {"text": t.t("cohort_month")}, "autorange": "reversed", "type": "category"},
        )
        return self.render(fig, name, height=max(300, 22 * len(cohorts) + 80))

    def lifecycle(self, name: str, rows: list[Row]) -> str:
        t = self.lang
        months = sorted({r["month_start"] for r in rows})
        states = sorted({(r["lifecycle_state_order"], r["lifecycle_state"]) for r in rows})
        counts = {(r["month_start"], r["lifecycle_state"]): r["customers"] for r in rows}
        fig = go.Figure()
        for _, state in states:
            values = [counts.get((m, state), 0) for m in months]
            fig.add_bar(
                x=[t.month(m) for m in months],
                y=values,
                name=t.t(f"state_{state}"),
                marker_color=STATE_COLOURS.get(state),
                hovertext=[t.number(v) for v in values],
                hoverinfo="x+name+text",
            )
        fig.update_layout(barmode="stack", xaxis={"type": "category"})
        return self.render(fig, name)

    def cluster_shares(self, name: str, clusters: list[Row]) -> str:
        """Each cluster's share of customers next to its share of revenue."""
        t = self.lang
        labels = [f"{r['cluster_id']}. {t.field(r, 'cluster_label')}" for r in clusters]
        fig = go.Figure()
        for key, colour in (("share_of_customers", PALETTE[0]), ("share_of_revenue", PALETTE[1])):
            shares = [_f(r[key]) for r in clusters]
            fig.add_bar(
                y=labels,
                x=shares,
                name=t.t("share_customers" if key == "share_of_customers" else "share_revenue"),
                orientation="h",
                marker_color=colour,
                text=[t.percent(r[key]) for r in clusters],
                textposition="auto",
                hoverinfo="y+name+text",
            )
        fig.update_layout(
            barmode="group", yaxis={"autorange": "reversed", "type": "category"}, xaxis={"tickformat": ".0%"}
        )
        return self.render(fig, name, height=max(260, 70 * len(clusters) + 80))

    def clv_by_segment(self, name: str, rows: list[Row], names: dict[str, str], currency: str) -> str:
        """Expected revenue (the customers' CLV) of each RFM segment."""
        t = self.lang
        labels = [names.get(r["rfm_segment"], r["rfm_segment"]) for r in rows]
        hover = [t.money(r["expected_revenue"], currency) for r in rows]
        fig = go.Figure(
            go.Bar(
                y=labels,
                x=[_f(r["expected_revenue"]) for r in rows],
                orientation="h",
                marker_color=PALETTE[: len(labels)],
                hovertext=hover,
                hoverinfo="y+text",
                text=hover,
                textposition="auto",
            )
        )
        fig.update_layout(yaxis={"autorange": "reversed", "type": "category"}, showlegend=False)
        return self.render(fig, name, height=380)

    def clv_holdout(self, name: str, rows: list[Row], names: dict[str, str]) -> str:
        """Predicted against actual purchases in the holdout days, by segment."""
        t = self.lang
        labels = [names.get(r["rfm_segment"], r["rfm_segment"]) for r in rows]
        fig = go.Figure()
        for key, colour in (("predicted_purchases", PALETTE[0]), ("actual_purchases", PALETTE[1])):
            values = [_f(r[key]) for r in rows]
            fig.add_bar(
                y=labels,
                x=values,
                name=t.t("clv_predicted" if key == "predicted_purchases" else "clv_actual"),
                orientation="h",
                marker_color=colour,
                hovertext=[t.number(v, 1) for v in values],
                hoverinfo="y+name+text",
            )
        fig.update_layout(barmode="group", yaxis={"autorange": "reversed", "type": "category"})
        return self.render(fig, name, height=max(300, 44 * len(rows) + 80))

    def elbow(self, name: str, rows: list[Row]) -> str:
        """Within-cluster sum of squares and silhouette by k, with the chosen k marked."""
        t = self.lang
        ks = [r["k"] for r in rows]
        fig = go.Figure()
        fig.add_scatter(
            x=ks,
            y=[_f(r["within_cluster_sum_of_squares"]) for r in rows],
            name=t.t("wss"),
            mode="lines+markers",
            line={"color": PALETTE[0]},
        )
        fig.add_scatter(
            x=ks,
            y=[_f(r["silhouette"]) for r in rows],
            name=t.t("silhouette"),
            mode="lines+markers",
            yaxis="y2",
            line={"color": PALETTE[2], "dash": "dot"},
        )
        for r in rows:
            if r["is_elbow_k"]:
                fig.add_vline(x=r["k"], line_dash="dash", line_color="#888", annotation_text=t.t("elbow_k", k=r["k"]))
        fig.update_layout(
            xaxis={"title": {"text": "k"}, "dtick": 1},
            yaxis={"title": {"text": t.t("wss")}, "rangemode": "tozero"},
            yaxis2={"overlaying": "y", "side": "right", "showgrid": False, "title": {"text": t.t("silhouette")}},
        )
        return self.render(fig, name, height=320)

    def pareto(self, name: str, rows: list[Row], currency: str) -> str:
        """Revenue share bars and the cumulative share line, with the A/B/C boundaries marked."""
        t = self.lang
        keep = _pareto_points(rows)
        shown = [rows[i] for i in keep]
        fig = go.Figure()
        fig.add_bar(
            x=[r["revenue_rank"] for r in shown],
            y=[_f(r["revenue_share"]) for r in shown],
            name=t.t("share"),
            marker_color=[CLASS_COLOURS.get(r["abc_class"], "#999") for r in shown],
            hovertext=[f"{r['item']} ({r['abc_class']}): {t.money(r['revenue'], currency)}" for r in shown],
            hoverinfo="x+text",
        )
        fig.add_scatter(
            x=[r["revenue_rank"] for r in shown],
            y=[_f(r["cumulative_share"]) for r in shown],
            name=t.t("cumulative_share"),
            yaxis="y2",
            mode="lines",
            line={"color": "#c0392b"},
            hovertext=[t.percent(r["cumulative_share"]) for r in shown],
            hoverinfo="x+name+text",
        )
        for cls in ("A", "B"):
            ranks = [r["revenue_rank"] for r in rows if r["abc_class"] == cls]
            if not ranks:
                continue
            edge = max(ranks) + 0.5
            fig.add_shape(
                type="line", x0=edge, x1=edge, y0=0, y1=1, yref="paper", line={"dash": "dash", "color": "#555"}
            )
            fig.add_annotation(
                x=edge, y=1, yref="paper", text=t.t("boundary", cls=cls), showarrow=False, xanchor="left", yanchor="top"
            )
        fig.update_layout(
            xaxis={"title": {"text": t.t("rank")}},
            yaxis={"title": {"text": t.t("share")}, "tickformat": ".0%"},
            yaxis2={"overlaying": "y", "side": "right", "range": [0, 1.05], "tickformat": ".0%", "showgrid": False},
            bargap=0,
        )
        return self.render(fig, name)

    # --- bank --------------------------------------------------------------------------------

    def bank_pie(self, name: str, segments: list[Row]) -> str:
        t = self.lang
        shown = [r for r in segments if r["clients"] > 0]
        fig = go.Figure(
            go.Pie(
                labels=[t.field(r, "segment_name") for r in shown],
                values=[r["clients"] for r in shown],
                text=[t.number(r["clients"]) for r in shown],
                textinfo="label+percent",
                hovertemplate="%{label}: %{text} (%{percent})<extra></extra>",
                sort=False,
                marker={"colors": PALETTE[: len(shown)]},
            )
        )
        return self.render(fig, name, height=340)

    def cross_sell(self, name: str, rows: list[Row]) -> str:
        t = self.lang
        fig = go.Figure(
            go.Bar(
                y=[t.field(r, "product_name") for r in rows],
                x=[r["clients"] for r in rows],
                orientation="h",
                text=[t.number(r["clients"]) for r in rows],
                textposition="auto",
                hoverinfo="y+text",
                marker_color=PALETTE[0],
            )
        )
        fig.update_layout(
            yaxis={"autorange": "reversed", "type": "category"}, xaxis={"title": {"text": t.t("clients")}}
        )
        return self.render(fig, name, height=max(240, 30 * len(rows) + 80))

    def income(self, name: str, rows: list[Row]) -> str:
        t = self.lang
        bands = sorted({(r["income_band_order"], self.band_label(r)) for r in rows})
        counts = sorted({r["usage_count"] for r in rows})
        cells = {(r["income_band_order"], r["usage_count"]): r for r in rows}
        z, text = [], []
        for order, _ in bands:
            z.append([_f(cells[(order, c)]["share_of_band_clients"]) if (order, c) in cells else None for c in counts])
            text.append(
                [
                    f"{t.percent(cells[(order, c)]['share_of_band_clients'], 0)}" if (order, c) in cells else ""
                    for c in counts
                ]
            )
        fig = _share_heatmap(
            z, [str(c) for c in counts], [label for _, label in bands], text, "%{y}, %{x}: %{text}", "Purples"
        )
        fig.update_layout(
            xaxis={"title": {"text": t.t("products_used")}, "type": "category"},
            yaxis={"title": {"text": t.t("income_band")}, "type": "category"},
        )
        return self.render(fig, name, height=max(260, 34 * len(bands) + 100))

    def band_label(self, row: Row) -> str:
        if row["band_min_income"] is None and row["band_max_income"] is None:
            return self.lang.t("unknown_income")
        return row["income_band"]


def _share_heatmap(
    z: list[list[float | None]], x: list, y: list[str], text: list[list[str]], hover: str, colours: str
) -> go.Figure:
    """A heatmap of shares (0 to 1) with the share written in each cell; None cells stay empty."""
    return go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=y,
            text=text,
            texttemplate="%{text}",
            hovertemplate=hover + "<extra></extra>",
            colorscale=colours,
            zmin=0,
            zmax=1,
            hoverongaps=False,
            showscale=False,
        )
    )


def _pareto_points(rows: list[Row]) -> list[int]:
    """Indexes of the items to draw: all of a short list; for a long one the head, the class
    boundaries and an even sample of the tail, so a catalogue of any size stays a small chart."""
    n = len(rows)
    if n <= PARETO_POINTS:
        return list(range(n))
    head = PARETO_POINTS // 4
    step = max(1, (n - head) // (PARETO_POINTS - head))
    keep = set(range(head)) | set(range(head, n, step)) | {n - 1}
    for i in range(1, n):
        if rows[i]["abc_class"] != rows[i - 1]["abc_class"]:
            keep |= {i - 1, i}
    return sorted(keep)
