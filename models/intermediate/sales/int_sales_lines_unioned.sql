with

uci as (
    select * from {{ ref('stg_sales__uci_lines') }}
),

onec as (
    select * from {{ ref('stg_sales__onec_lines') }}
),

sources as (
    select * from {{ ref('sales_sources') }}
),

uci_lines as (
    select
        'uci' as source_system,
        load_id,
        line_number,
        order_id,
        product_id,
        product_name,
        customer_id,
        country,
        ordered_at,
        cast(quantity as {{ type_number(10, 0) }}) as quantity,
        unit_price,
        quantity * unit_price as net_amount,
        order_id like 'C%' as is_return,
        order_id like 'C%' as is_cancellation,
        order_id like 'A%' as is_adjustment
    from uci
),

onec_lines as (
    select
        'onec' as source_system,
        load_id,
        line_number,
        order_id,
        product_name as product_id,
        concat_ws(' / ', product_name, product_feature) as product_name,
        customer_id,
        cast(null as {{ type_text() }}) as country,
        ordered_at,
        case when is_return then -abs(quantity) else abs(quantity) end as quantity,
        abs(line_amount) / nullif(abs(quantity), 0) as unit_price,
        case when is_return then -abs(line_amount) else abs(line_amount) end as net_amount,
        is_return,
        false as is_cancellation,
        false as is_adjustment
    from onec
),

unioned as (
    select * from uci_lines
    union all
    select * from onec_lines
),

final as (
    select
        unioned.source_system,
        unioned.load_id,
        unioned.line_number,
        {{ concat_key(['unioned.source_system', 'unioned.order_id']) }} as document_key,
        unioned.order_id,
        unioned.product_id,
        unioned.product_name,
        unioned.customer_id,
        coalesce(unioned.country, sources.default_country) as country,
        sources.currency_code,
        unioned.ordered_at,
        unioned.quantity,
        unioned.unit_price,
        unioned.net_amount,
        unioned.is_return,
        unioned.is_cancellation,
        unioned.is_adjustment
    from unioned
    left join sources
        on unioned.source_system = sources.source_system
)

select * from final
