{{
    config(
        materialized='table',
    )
}}

{%- set edges = var('bank_income_band_edges') | sort -%}
{#- edges as labels, thousands separated by a space: 30000 -> '30 000' -#}
{%- set edge_labels = [] -%}
{%- for edge in edges -%}
    {%- do edge_labels.append('{:,}'.format(edge | int).replace(',', ' ')) -%}
{%- endfor -%}

with

clients as (
    select * from {{ ref('int_clients_deduplicated') }}
),

client_products as (
    select * from {{ ref('int_client_products_aggregated') }}
),

segments as (
    select * from {{ ref('bank_segments') }}
),

income_bands as (
    -- [band_min_income, band_max_income): the first band is open below, the last open above
    select
        band_order::integer as income_band_order,
        band_min_income::bigint as band_min_income,
        band_max_income::bigint as band_max_income,
        cast(band_label as {{ type_text() }}) as income_band
    from (
        values
        {%- for i in range(edges | length + 1) %}
            {%- if i == 0 %}
                {%- set label = '< ' ~ edge_labels[0] %}
            {%- elif i == edges | length %}
                {%- set label = edge_labels[-1] ~ '+' %}
            {%- else %}
                {%- set label = edge_labels[i - 1] ~ '–' ~ edge_labels[i] %}
            {%- endif %}
            (
                {{ i + 1 }},
                {{ edges[i - 1] if i > 0 else 'null' }},
                {{ edges[i] if i < edges | length else 'null' }},
                '{{ label }}'
            ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as bands (band_order, band_min_income, band_max_income, band_label)
),

usage_per_client as (
    select
        client_id,
        count(*) as usage_count,
        sum(usages) as total_usages,
        min(first_usage_date) as first_product_usage_date,
        max(last_usage_date) as last_product_usage_date
    from client_products
    group by client_id
),

clients_with_usage as (
    select
        clients.client_id,
        clients.client_name,
        round(clients.income)::bigint as client_revenue,
        coalesce(usage_per_client.usage_count, 0)::integer as usage_count,
        coalesce(usage_per_client.total_usages, 0)::bigint as total_usages,
        usage_per_client.first_product_usage_date,
        usage_per_client.last_product_usage_date
    from clients
    left join usage_per_client
        on clients.client_id = usage_per_client.client_id
),

final as (
    select
        clients_with_usage.client_id,
        clients_with_usage.client_name,
        clients_with_usage.client_revenue,
        clients_with_usage.usage_count,
        clients_with_usage.total_usages,
        clients_with_usage.first_product_usage_date,
        clients_with_usage.last_product_usage_date,
        clients_with_usage.usage_count > 0 as has_usage,
        segments.segment_code,
        segments.segment_name,
        segments.segment_order,
        coalesce(income_bands.income_band_order, 0) as income_band_order,
        coalesce(income_bands.income_band, 'нет данных') as income_band,
        income_bands.band_min_income,
        income_bands.band_max_income
    from clients_with_usage
    left join segments
        on
            clients_with_usage.usage_count >= segments.min_products
            and (segments.max_products is null or clients_with_usage.usage_count <= segments.max_products)
    left join income_bands
        on
            clients_with_usage.client_revenue is not null
            and (
                income_bands.band_min_income is null
                or clients_with_usage.client_revenue >= income_bands.band_min_income
            )
            and (
                income_bands.band_max_income is null
                or clients_with_usage.client_revenue < income_bands.band_max_income
            )
)

select * from final
