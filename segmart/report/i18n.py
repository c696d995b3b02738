"""Labels, number, money and date formats of the report in English and Russian.

Segment names, descriptions and actions are not here: they come from the seeds
(`rfm_segments`, `bank_segments`, `bank_products`), read with the marts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

LANGS = ("en", "ru")
LOCALES = {"en": "en_GB", "ru": "ru_RU"}
# prefix in English, suffix in Russian; an unknown currency is written with its ISO code
CURRENCY_SYMBOLS = {"GBP": "£", "RUB": "₽", "EUR": "€", "USD": "$"}
NBSP = "\u00a0"
MISSING_KEY = "⟦{}⟧"

Number = int | float | Decimal

MESSAGES: dict[str, dict[str, str]] = {
    "title": {"en": "Customer segments report", "ru": "Отчёт по сегментам клиентов"},
    "as_of": {"en": "As of", "ru": "На дату"},
    "data_period": {"en": "Data period", "ru": "Период данных"},
    "built_at": {"en": "Built", "ru": "Сформирован"},
    "contents": {"en": "Contents", "ru": "Содержание"},
    "reconciliation": {"en": "Row counts (audit marts)", "ru": "Сверка строк (аудит-витрины)"},
    "recon_source": {"en": "Source", "ru": "Источник"},
    "recon_staged": {"en": "Rows landed", "ru": "Загружено строк"},
    "recon_accounted": {"en": "Rows accounted for", "ru": "Учтено строк"},
    "recon_kept": {"en": "Rows in the marts", "ru": "Строк в витринах"},
    "recon_ok": {"en": "reconciled", "ru": "сходится"},
    "recon_bad": {"en": "DOES NOT RECONCILE", "ru": "НЕ СХОДИТСЯ"},
    "warnings": {"en": "Data-quality warnings", "ru": "Предупреждения о качестве данных"},
    "warn_quarantine": {
        "en": "Rows quarantined at load: {rows}, from {files} file(s); see staging.load_quarantine.",
        "ru": "Строк в карантине при загрузке: {rows}, из файлов: {files}; см. staging.load_quarantine.",
    },
    "warn_failures": {
        "en": "{files} file(s) could not be loaded at all (staging.load_failures).",
        "ru": "{files} файл(ов) не удалось загрузить (staging.load_failures).",
    },
    "warn_stale": {
        "en": "{source}: no new file landed for {days} days (last load {when}).",
        "ru": "{source}: новых файлов нет уже {days} дн. (последняя загрузка {when}).",
    },
    "warn_unreconciled": {
        "en": "{source}: landed and accounted row counts differ ({staged} vs {accounted}).",
        "ru": "{source}: число загруженных и учтённых строк не совпадает ({staged} и {accounted}).",
    },
    "missing_schema": {
        "en": "The database has no data_mart schema yet: nothing has been built. Run `python3 run.py build`.",
        "ru": "В базе ещё нет схемы data_mart: витрины не построены. Запустите `python3 run.py build`.",
    },
    "missing_table": {
        "en": "Not shown: {what} is missing in data_mart (built by an older version?). Run `python3 run.py build`.",
        "ru": "Не показано: в data_mart нет {what} (витрины от старой версии?). Запустите `python3 run.py build`.",
    },
    "no_sales": {
        "en": "No sales data: no sales source has kept lines in data_mart.",
        "ru": "Нет данных о продажах: ни в одном источнике продаж нет строк в data_mart.",
    },
    "no_source_data": {
        "en": "No data from this source in the marts.",
        "ru": "Данных этого источника в витринах нет.",
    },
    "not_shown_no_data": {
        "en": "Not in this report, no data yet: {names}.",
        "ru": "В отчёт не вошли, данных пока нет: {names}.",
    },
    "no_bank": {
        "en": "No bank data: data_mart.client_segments is empty.",
        "ru": "Нет данных банка: data_mart.client_segments пуста.",
    },
    "no_rows": {"en": "No data for this chart.", "ru": "Нет данных для этого графика."},
    "sales_section": {"en": "Sales: {name}", "ru": "Продажи: {name}"},
    "currency_note": {"en": "Amounts in {currency}.", "ru": "Суммы в {currency}."},
    "kpis": {"en": "Key figures", "ru": "Ключевые показатели"},
    "kpi_note": {
        "en": "{month} (last complete month) against {previous}.",
        "ru": "{month} (последний полный месяц); для сравнения — {previous}.",
    },
    "kpi_note_single": {
        "en": "{month} (last complete month); no earlier month to compare with.",
        "ru": "{month} (последний полный месяц); сравнить не с чем.",
    },
    "kpi_none": {
        "en": "No complete month yet: key figures need one.",
        "ru": "Ещё нет ни одного полного месяца: показатели считаются по полным месяцам.",
    },
    "partial_month": {
        "en": "{month} is incomplete (up to {as_of}) and not used for the key figures.",
        "ru": "{month} — неполный месяц (по {as_of}), в ключевых показателях не участвует.",
    },
    "kpi_revenue": {"en": "Revenue", "ru": "Выручка"},
    "kpi_orders": {"en": "Orders", "ru": "Заказы"},
    "kpi_customers": {"en": "Customers", "ru": "Покупатели"},
    "kpi_aov": {"en": "Average order value", "ru": "Средний чек"},
    "kpi_arpu": {"en": "ARPU", "ru": "ARPU"},
    "kpi_arppu": {"en": "ARPPU", "ru": "ARPPU"},
    "kpi_repeat_purchase_rate": {"en": "Repeat-purchase rate", "ru": "Доля повторных покупок"},
    "kpi_return_purchase_rate": {"en": "Return-purchase rate", "ru": "Доля вернувшихся покупателей"},
    "pp": {"en": "pp", "ru": "п.п."},
    "change_vs_prev": {"en": "vs previous month", "ru": "к прошлому месяцу"},
    "trends": {"en": "Monthly trends", "ru": "Динамика по месяцам"},
    "revenue": {"en": "Revenue", "ru": "Выручка"},
    "orders": {"en": "Orders", "ru": "Заказы"},
    "customers": {"en": "Customers", "ru": "Покупатели"},
    "new_customers": {"en": "New customers", "ru": "Новые покупатели"},
    "segments": {"en": "RFM segments", "ru": "RFM-сегменты"},
    "segments_note": {
        "en": "Every customer gets 1–5 for recency, frequency and monetary value; the scores give the segment.",
        "ru": (
            "Каждый покупатель получает оценки 1–5 за давность, частоту и сумму покупок; по ним определяется сегмент."
        ),
    },
    "by_customers": {"en": "Customers per segment", "ru": "Покупатели по сегментам"},
    "by_revenue": {"en": "Revenue per segment", "ru": "Выручка по сегментам"},
    "segment": {"en": "Segment", "ru": "Сегмент"},
    "description": {"en": "Who they are", "ru": "Кто это"},
    "action": {"en": "Recommended action", "ru": "Рекомендуемое действие"},
    "share_customers": {"en": "% of customers", "ru": "% покупателей"},
    "share_revenue": {"en": "% of revenue", "ru": "% выручки"},
    "movement": {"en": "Segment movement", "ru": "Движение между сегментами"},
    "transition_title": {
        "en": "Where the customers of each segment went, {from_month} → {to_month} (share of the row)",
        "ru": "Куда перешли покупатели каждого сегмента, {from_month} → {to_month} (доля строки)",
    },
    "from_segment": {"en": "Segment before", "ru": "Сегмент до"},
    "to_segment": {"en": "Segment after", "ru": "Сегмент после"},
    "segments_over_time": {"en": "Customers per segment over time", "ru": "Покупатели по сегментам во времени"},
    "no_history": {
        "en": "Segment history needs at least two monthly as-of dates.",
        "ru": "Для истории сегментов нужно не меньше двух месячных срезов.",
    },
    "cohorts": {"en": "Cohort retention", "ru": "Удержание когорт"},
    "cohorts_note": {
        "en": (
            "Share of each first-purchase cohort buying again N months later; empty "
            "cells are months not yet observable."
        ),
        "ru": (
            "Доля покупателей когорты (месяц первой покупки), купивших снова через N месяцев; "
            "пустые клетки — месяцы, которые ещё нельзя наблюдать."
        ),
    },
    "cohort_month": {"en": "Cohort (first purchase)", "ru": "Когорта (первая покупка)"},
    "months_since": {"en": "Months since first purchase", "ru": "Месяцев с первой покупки"},
    "cohort_size": {"en": "Cohort size", "ru": "Размер когорты"},
    "lifecycle": {"en": "Customer lifecycle", "ru": "Жизненный цикл покупателей"},
    "state_new": {"en": "new", "ru": "новые"},
    "state_active": {"en": "active", "ru": "активные"},
    "state_returning": {"en": "returning", "ru": "вернувшиеся"},
    "state_inactive": {"en": "inactive", "ru": "неактивные"},
    "clusters": {"en": "Data-driven clusters (k-means on RFM)", "ru": "Кластеры по данным (k-means по RFM)"},
    "col_probability_alive": {"en": "P(still buying)", "ru": "P(ещё покупает)"},
    "col_expected_purchases": {"en": "Purchases next 365 d", "ru": "Покупок за 365 дн."},
    "col_clv": {"en": "CLV", "ru": "CLV"},
    "clv": {"en": "Customer lifetime value (forecast)", "ru": "Пожизненная ценность клиента (прогноз)"},
    "clv_explain": {
        "en": "A statistical forecast (BG/NBD and Gamma-Gamma models) from each customer's purchase history: "
        "the chance the customer still buys, the purchases expected next, the spend per purchase, and the "
        "discounted value of the coming months. Customers with a single purchase are never counted as "
        "probably gone: the model needs a repeat purchase to judge.",
        "ru": "Статистический прогноз (модели BG/NBD и Gamma-Gamma) по истории покупок каждого клиента: "
        "вероятность, что клиент ещё покупает, ожидаемые покупки, сумма одной покупки и дисконтированная "
        "ценность ближайших месяцев. Клиенты с одной покупкой не считаются ушедшими: модели нужна "
        "повторная покупка, чтобы судить.",
    },
    "clv_summary": {
        "en": "Expected revenue of the next {months} months: {revenue} from {customers} customers; "
        "{gone} of them are probably gone.",
        "ru": "Ожидаемая выручка за {months} мес.: {revenue} от {customers} клиентов; {gone} из них, вероятно, ушли.",
    },
    "clv_none": {
        "en": "No CLV forecast yet (the next build computes it).",
        "ru": "Прогноза CLV пока нет (его посчитает следующая сборка).",
    },
    "clv_not_fitted": {
        "en": "No CLV forecast for this source: {reason}",
        "ru": "Для этого источника нет прогноза CLV: {reason}",
    },
    "clv_by_segment": {"en": "Expected revenue by segment", "ru": "Ожидаемая выручка по сегментам"},
    "clv_holdout": {
        "en": "How good is the forecast? Predicted and actual purchases",
        "ru": "Насколько точен прогноз? Прогноз и факт покупок",
    },
    "clv_holdout_note": {
        "en": "Forecast made as of {date} for the following {days} days: {predicted} purchases predicted, "
        "{actual} happened ({ratio}).",
        "ru": "Прогноз на {date} на следующие {days} дн.: ожидалось {predicted} покупок, было {actual} ({ratio}).",
    },
    "clv_predicted": {"en": "Predicted", "ru": "Прогноз"},
    "clv_actual": {"en": "Actual", "ru": "Факт"},
    "clv_expected_revenue": {"en": "Expected revenue", "ru": "Ожидаемая выручка"},
    "clv_expected_purchases": {"en": "Purchases next 365 days", "ru": "Покупок за 365 дней"},
    "clv_alive": {"en": "P(still buying)", "ru": "P(ещё покупает)"},
    "clv_gone": {"en": "Probably gone", "ru": "Вероятно, ушли"},
    "clv_top": {"en": "Top customers by CLV", "ru": "Лучшие клиенты по CLV"},
    "clv_spend": {"en": "Spend per purchase", "ru": "Сумма покупки"},
    "clv_value": {"en": "CLV", "ru": "CLV"},
    "clusters_note": {
        "en": "Groups the data itself suggests, next to the named segments: use segments for campaigns, "
        "clusters to see which natural groups exist. The centroid is a typical customer of the cluster.",
        "ru": "Группы, которые выделяют сами данные, рядом с именованными сегментами: сегменты — для кампаний, "
        "кластеры — чтобы увидеть естественные группы. Центроид — типичный покупатель кластера.",
    },
    "cluster_sizes": {"en": "Share of customers and of revenue", "ru": "Доля покупателей и выручки"},
    "elbow": {"en": "Choosing k: the elbow curve", "ru": "Выбор k: «локоть»"},
    "elbow_k": {"en": "elbow: k = {k}", "ru": "локоть: k = {k}"},
    "wss": {"en": "Within-cluster sum of squares", "ru": "Внутрикластерная сумма квадратов"},
    "silhouette": {"en": "Silhouette", "ru": "Силуэт"},
    "cluster": {"en": "Cluster", "ru": "Кластер"},
    "centroid_recency": {"en": "Days since last purchase", "ru": "Дней с последней покупки"},
    "centroid_frequency": {"en": "Orders", "ru": "Заказов"},
    "centroid_monetary": {"en": "Spend", "ru": "Сумма покупок"},
    "main_segment": {"en": "Mostly segment", "ru": "Основной сегмент"},
    "abc": {"en": "ABC analysis", "ru": "ABC-анализ"},
    "abc_countries": {"en": "Countries by revenue (Pareto)", "ru": "Страны по выручке (Парето)"},
    "abc_products": {"en": "Products by revenue (Pareto)", "ru": "Товары по выручке (Парето)"},
    "abc_note": {
        "en": "A: {a} items, {a_share} of revenue; B: {b} items; C: {c} items.",
        "ru": "A: {a} поз., {a_share} выручки; B: {b} поз.; C: {c} поз.",
    },
    "rank": {"en": "Rank", "ru": "Место"},
    "share": {"en": "Share", "ru": "Доля"},
    "cumulative_share": {"en": "Cumulative share", "ru": "Накопленная доля"},
    "boundary": {"en": "end of {cls}", "ru": "граница {cls}"},
    "top_products": {"en": "Top products", "ru": "Лучшие товары"},
    "product": {"en": "Product", "ru": "Товар"},
    "country": {"en": "Country", "ru": "Страна"},
    "class": {"en": "Class", "ru": "Класс"},
    "anomalies": {"en": "Recent anomalies", "ru": "Последние аномалии"},
    "anomalies_note": {
        "en": "Orders and days whose amount is far from the previous weeks (|z| above the threshold).",
        "ru": "Заказы и дни, сумма которых сильно отличается от предыдущих недель (|z| выше порога).",
    },
    "anomalous_orders": {"en": "Orders", "ru": "Заказы"},
    "anomalous_days": {"en": "Days", "ru": "Дни"},
    "none_found": {"en": "None found.", "ru": "Не найдено."},
    "date": {"en": "Date", "ru": "Дата"},
    "order": {"en": "Order", "ru": "Заказ"},
    "customer": {"en": "Customer", "ru": "Покупатель"},
    "amount": {"en": "Amount", "ru": "Сумма"},
    "z_score": {"en": "z-score", "ru": "z-оценка"},
    "window_mean": {"en": "Usual (mean)", "ru": "Обычно (среднее)"},
    "bank_section": {"en": "Bank: product usage", "ru": "Банк: использование продуктов"},
    "bank_as_of": {"en": "As of {date}; {clients} clients.", "ru": "На {date}; клиентов: {clients}."},
    "bank_pie": {"en": "Clients by number of products", "ru": "Клиенты по числу продуктов"},
    "clients": {"en": "Clients", "ru": "Клиенты"},
    "top_products_segment": {"en": "Top products in each segment", "ru": "Популярные продукты в сегментах"},
    "most_used": {"en": "Most used products", "ru": "Самые используемые продукты"},
    "cross_sell": {"en": "Cross-sell coverage", "ru": "Охват перекрёстных продаж"},
    "cross_sell_note": {
        "en": "{with_offer} of {clients} clients ({share}) have a suggested next product.",
        "ru": "У {with_offer} из {clients} клиентов ({share}) есть предложение следующего продукта.",
    },
    "suggested_product": {"en": "Suggested product", "ru": "Предлагаемый продукт"},
    "income_vs_products": {"en": "Income band and number of products", "ru": "Доход и число продуктов"},
    "income_band": {"en": "Monthly income, RUB", "ru": "Доход в месяц, ₽"},
    "products_used": {"en": "Products used", "ru": "Продуктов"},
    "unknown_income": {"en": "unknown", "ru": "нет данных"},
    "correlation": {
        "en": (
            "Correlation of income and product count: Pearson {pearson}, Spearman "
            "{spearman} ({clients} clients with known income)."
        ),
        "ru": (
            "Корреляция дохода и числа продуктов: Пирсон {pearson}, Спирмен {spearman} "
            "(клиентов с известным доходом: {clients})."
        ),
    },
    "correlation_na": {"en": "n/a", "ru": "н/д"},
    "files": {"en": "Lists for action", "ru": "Списки для работы"},
    "files_note": {
        "en": "Next to this report: segment lists (XLSX, CSV) per sales source and the bank cross-sell list.",
        "ru": (
            "Рядом с отчётом: списки по сегментам (XLSX, CSV) для каждого источника продаж "
            "и список для перекрёстных продаж банка."
        ),
    },
    "footer": {
        "en": (
            "segmart — built from data_mart. Figures in each sales section are in that "
            "source's currency and never added across sources."
        ),
        "ru": (
            "segmart — по данным data_mart. Суммы каждого раздела продаж — в валюте "
            "источника; источники не суммируются."
        ),
    },
    # list columns (XLSX / CSV)
    "col_customer_id": {"en": "Customer ID", "ru": "ID покупателя"},
    "col_buyer": {"en": "Buyer", "ru": "Покупатель"},
    "col_segment": {"en": "Segment", "ru": "Сегмент"},
    "col_recency": {"en": "Days since last purchase", "ru": "Дней с последней покупки"},
    "col_frequency": {"en": "Orders", "ru": "Заказов"},
    "col_monetary": {"en": "Net revenue", "ru": "Выручка"},
    "col_r": {"en": "R score", "ru": "Оценка R"},
    "col_f": {"en": "F score", "ru": "Оценка F"},
    "col_m": {"en": "M score", "ru": "Оценка M"},
    "col_rfm": {"en": "RFM code", "ru": "Код RFM"},
    "col_first_purchase": {"en": "First purchase", "ru": "Первая покупка"},
    "col_last_purchase": {"en": "Last purchase", "ru": "Последняя покупка"},
    "col_action": {"en": "Recommended action", "ru": "Рекомендуемое действие"},
    "col_prev_segment": {"en": "Segment on {date}", "ru": "Сегмент на {date}"},
    "col_client_id": {"en": "Client ID", "ru": "ID клиента"},
    "col_client_name": {"en": "Client", "ru": "Клиент"},
    "col_products_used": {"en": "Products used", "ru": "Продуктов используется"},
    "col_suggested": {"en": "Suggested product", "ru": "Предлагаемый продукт"},
    "col_reason": {"en": "Why", "ru": "Почему"},
    "col_bank_action": {"en": "Recommended action", "ru": "Рекомендуемое действие"},
    "reason_top_unused_product_in_segment": {
        "en": "most popular product of the segment the client does not use ({share} of the segment use it)",
        "ru": "самый популярный в сегменте продукт, которым клиент не пользуется (пользуются {share} сегмента)",
    },
    "reason_top_product_of_reference_segment": {
        "en": "the product clients usually start with ({share} of '{segment}' use it)",
        "ru": "продукт, с которого обычно начинают ({share} сегмента «{segment}»)",
    },
    "reason_uses_all_products": {"en": "already uses every product", "ru": "уже пользуется всеми продуктами"},
    "sheet_clients": {"en": "Clients", "ru": "Клиенты"},
}


class Lang:
    """One language of the report: labels (`t`) and formats."""

    def __init__(self, code: str) -> None:
        if code not in LANGS:
            raise ValueError(f"unknown report language {code!r}; use one of {', '.join(LANGS)}")
        self.code = code
        self.locale = LOCALES[code]
        self.missing: set[str] = set()

    def t(self, key: str, **values: object) -> str:
        entry = MESSAGES.get(key)
        text = entry.get(self.code) if entry else None
        if text is None:
            self.missing.add(key)
            return MISSING_KEY.format(key)
        return text.format(**values) if values else text

    def field(self, row: dict, base: str) -> str:
        """A seed text column in this language: `<base>_<lang>`, e.g. segment_name_ru."""
        return row[f"{base}_{self.code}"]

    def number(self, value: Number | None, decimals: int = 0) -> str:
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(value, format=pattern, locale=self.locale, decimal_quantization=True)

    def money(self, value: Number | None, currency: str) -> str:
        if value is None:
            return "–"
        amount = self.number(abs(value), 2)
        sign = "-" if value < 0 else ""
        symbol = CURRENCY_SYMBOLS.get(currency)
        if self.code == "ru":
            return f"{sign}{amount}{NBSP}{symbol or currency}"
        return f"{sign}{symbol}{amount}" if symbol else f"{sign}{currency}{NBSP}{amount}"

    def percent(self, value: Number | None, decimals: int = 1) -> str:
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
        return format_percent(value, format=pattern, locale=self.locale, decimal_quantization=True)

    def signed_percent(self, value: Number | None, decimals: int = 1) -> str:
        if value is None:
            return "–"
        text = self.percent(value, decimals)
        return text if value < 0 else "+" + text

    def month(self, value: dt.date | None) -> str:
        if value is None:
            return "–"
        return format_date(value, "LLL yyyy", locale=self.locale)

    def long_month(self, value: dt.date) -> str:
        return format_date(value, "LLLL yyyy", locale=self.locale)

    def date(self, value: dt.date | None) -> str:
        if value is None:
            return "–"
        return format_date(value, "d MMM yyyy", locale=self.locale)

    def timestamp(self, value: dt.datetime) -> str:
        return format_datetime(value, "d MMM yyyy HH:mm", locale=self.locale)

    @property
    def plotly_separators(self) -> str:
        """Decimal point and thousands separator for plotly's own axis labels."""
        return ",\u00a0" if self.code == "ru" else ".,"

    @property
    def excel_date_format(self) -> str:
        return "dd.mm.yyyy" if self.code == "ru" else "yyyy-mm-dd"

    def excel_money_format(self, currency: str) -> str:
        symbol = CURRENCY_SYMBOLS.get(currency, currency)
        if self.code == "ru":
            return f'#,##0.00\\ "{symbol}";-#,##0.00\\ "{symbol}"'
        return f'"{symbol}"#,##0.00;-"{symbol}"#,##0.00'
