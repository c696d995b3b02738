-- The floor of bench/bench_dbt.py: the core sales and customer marts written by
-- hand, as plain CREATE TABLE AS statements from staging.sales_uci_lines into
-- the scratch schema bench_floor, no tests, no indexes, no incremental logic.
-- It follows the documented rules of the dbt models (UCI source only):
--   cleaned lines (newest load of an invoice wins; bad-debt A invoices, zero
--   quantity, sales with amount <= 0 and returns with amount >= 0 excluded),
--   orders, customer RFM (values, rank-based 1-5 scores, segment), cohort
--   retention, ABC countries and products, monthly KPIs.
-- The reference tables are dbt's seeds (data_mart.sales_non_product_codes,
-- data_mart.rfm_segment_map). bench_dbt.py runs the statements one by one in a
-- single session and times each.

drop schema if exists bench_floor cascade;

create schema bench_floor;

-- cleaned lines: only the kept ones
create table bench_floor.sales_lines as
with typed as (
    select
        load_id,
        line_number,
        btrim(invoice_no) as order_id,
        upper(btrim(stock_code)) as product_id,
        nullif(btrim(description), '') as product_name,
        quantity::integer as quantity,
        invoice_date::timestamp as ordered_at,
        unit_price::numeric as unit_price,
        (customer_id::bigint)::text as customer_id,
        nullif(btrim(country), '') as country
    from staging.sales_uci_lines
),

newest_loads as (
    select
        btrim(invoice_no) as order_id,
        max(load_id) as newest_load_id
    from staging.sales_uci_lines
    group by btrim(invoice_no)
),

amounts as (
    select
        typed.*,
        typed.quantity * typed.unit_price as net_amount,
        typed.order_id like 'C%' as is_return
    from typed
    inner join newest_loads
        on typed.order_id = newest_loads.order_id and typed.load_id = newest_loads.newest_load_id
    where typed.order_id not like 'A%' and typed.quantity <> 0
)

select
    amounts.load_id,
    amounts.line_number,
    amounts.order_id,
    amounts.product_id,
    amounts.product_name,
    amounts.customer_id,
    amounts.country,
    amounts.ordered_at,
    amounts.quantity,
    amounts.unit_price,
    amounts.net_amount,
    amounts.is_return,
    codes.product_id is null as is_product
from amounts
left join data_mart.sales_non_product_codes as codes
    on amounts.product_id = codes.product_id
where case when amounts.is_return then amounts.net_amount < 0 else amounts.net_amount > 0 end;

-- one row per document (invoice)
create table bench_floor.orders as
select
    order_id,
    max(customer_id) as customer_id,
    min(ordered_at) as ordered_at,
    min(ordered_at)::date as order_date,
    date_trunc('month', min(ordered_at))::date as order_month,
    count(*) as line_count,
    sum(net_amount) as net_amount,
    sum(quantity) as units,
    bool_or(is_return) as is_return
from bench_floor.sales_lines
group by order_id;

-- the analysis date (the day after the last kept document) and the months it makes observable
create table bench_floor.as_of as
with dates as (
    select max(order_date) + 1 as as_of_date from bench_floor.orders
)

select
    as_of_date,
    date_trunc('month', as_of_date - 1)::date as as_of_month,
    case
        when (date_trunc('month', as_of_date - 1) + interval '1 month')::date = as_of_date
            then date_trunc('month', as_of_date - 1)::date
        else (date_trunc('month', as_of_date - 1) - interval '1 month')::date
    end as last_observable_month
from dates;

-- customer × month with any kept document
create table bench_floor.customer_months as
with months as (
    select
        customer_id,
        order_month as month_start,
        count(*) filter (where not is_return) as orders,
        sum(net_amount) as net_amount,
        min(order_date) filter (where not is_return) as first_order_date_in_month
    from bench_floor.orders
    where customer_id is not null
    group by customer_id, order_month
)

select
    months.*,
    min(months.first_order_date_in_month) over (partition by months.customer_id) as first_purchase_date,
    date_trunc('month', min(months.first_order_date_in_month) over (partition by months.customer_id))::date
        as first_purchase_month
from months;

-- RFM of every customer with a purchase before the as-of date
create table bench_floor.customer_rfm as
with customers as (
    select
        orders.customer_id,
        as_of.as_of_date,
        min(orders.order_date) filter (where not orders.is_return) as first_purchase_date,
        max(orders.order_date) filter (where not orders.is_return) as last_purchase_date,
        count(*) filter (where not orders.is_return) as frequency,
        sum(orders.net_amount) as monetary,
        count(*) filter (where orders.is_return) as return_count,
        coalesce(sum(orders.net_amount) filter (where orders.is_return), 0) as return_amount
    from bench_floor.orders
    cross join bench_floor.as_of
    where orders.customer_id is not null and orders.order_date < as_of.as_of_date
    group by orders.customer_id, as_of.as_of_date
),

rfm as (
    select
        *,
        as_of_date - last_purchase_date as recency_days
    from customers
    where frequency > 0
),

scored as (
    select
        *,
        1 + floor(5 * (rank() over (order by recency_days desc) - 1) / (count(*) over ())::numeric)::integer
            as r_score,
        1 + floor(5 * (rank() over (order by frequency asc) - 1) / (count(*) over ())::numeric)::integer
            as f_score,
        1 + floor(5 * (rank() over (order by monetary asc) - 1) / (count(*) over ())::numeric)::integer
            as m_score
    from rfm
)

select
    scored.*,
    segments.rfm_score,
    segments.rfm_segment
from scored
left join data_mart.rfm_segment_map as segments
    on
        scored.r_score = segments.r_score
        and scored.f_score = segments.f_score
        and scored.m_score = segments.m_score;

-- cohort retention: cohort month × months since the first purchase, up to the as-of month
create table bench_floor.cohort_retention as
with cohort_months as (
    select customer_months.*
    from bench_floor.customer_months
    cross join bench_floor.as_of
    where
        customer_months.first_purchase_date < as_of.as_of_date
        and customer_months.month_start >= customer_months.first_purchase_month
),

cohorts as (
    select
        first_purchase_month as cohort_month,
        count(distinct customer_id) as cohort_size
    from cohort_months
    group by first_purchase_month
),

activity as (
    select
        first_purchase_month as cohort_month,
        month_start,
        count(*) filter (where orders > 0) as active_customers,
        sum(net_amount) as revenue
    from cohort_months
    group by first_purchase_month, month_start
),

grid as (
    select
        cohorts.cohort_month,
        cohorts.cohort_size,
        month_offsets.months_since_first_purchase,
        (cohorts.cohort_month + month_offsets.months_since_first_purchase * interval '1 month')::date as month_start,
        as_of.last_observable_month
    from cohorts
    cross join bench_floor.as_of
    cross join lateral generate_series(
        0,
        (
            (extract(year from as_of.as_of_month) - extract(year from cohorts.cohort_month)) * 12
            + extract(month from as_of.as_of_month) - extract(month from cohorts.cohort_month)
        )::integer
    ) as month_offsets (months_since_first_purchase)
)

select
    grid.cohort_month,
    grid.months_since_first_purchase,
    grid.month_start,
    grid.month_start <= grid.last_observable_month as is_observable,
    grid.cohort_size,
    case when grid.month_start <= grid.last_observable_month then coalesce(activity.active_customers, 0) end
        as active_customers,
    case
        when grid.month_start <= grid.last_observable_month
            then coalesce(activity.active_customers, 0) / grid.cohort_size::numeric
    end as retention_rate,
    case when grid.month_start <= grid.last_observable_month then coalesce(activity.revenue, 0) end as revenue
from grid
left join activity
    on grid.cohort_month = activity.cohort_month and grid.month_start = activity.month_start;

-- one pass over the kept lines for both ABC analyses
create table bench_floor.line_groups as
select
    country,
    product_id,
    product_name,
    is_product,
    sum(net_amount) as revenue,
    max(ordered_at) as last_ordered_at
from bench_floor.sales_lines
group by country, product_id, product_name, is_product;

create table bench_floor.abc_countries as
with revenue as (
    select
        country,
        sum(revenue) as revenue
    from bench_floor.line_groups
    group by country
),

ranked as (
    select
        *,
        row_number() over by_revenue as revenue_rank,
        sum(revenue) over (by_revenue rows between unbounded preceding and current row) as cumulative,
        sum(greatest(revenue, 0)) over () as positive
    from revenue
    window by_revenue as (order by revenue desc, country asc)
)

select
    country,
    revenue,
    revenue / nullif(positive, 0) as revenue_share,
    cumulative / nullif(positive, 0) as cumulative_share,
    revenue_rank,
    case
        when revenue <= 0 then 'C'
        when cumulative - revenue < 0.80 * positive then 'A'
        when cumulative - revenue < 0.95 * positive then 'B'
        else 'C'
    end as abc_class
from ranked;

create table bench_floor.abc_products as
with names as (
    select distinct on (product_id)
        product_id,
        product_name
    from bench_floor.line_groups
    where is_product
    order by product_id asc, last_ordered_at desc, product_name asc
),

revenue as (
    select
        product_id,
        sum(revenue) as revenue
    from bench_floor.line_groups
    where is_product
    group by product_id
),

ranked as (
    select
        *,
        row_number() over by_revenue as revenue_rank,
        sum(revenue) over (by_revenue rows between unbounded preceding and current row) as cumulative,
        sum(greatest(revenue, 0)) over () as positive
    from revenue
    window by_revenue as (order by revenue desc, product_id asc)
)

select
    ranked.product_id,
    names.product_name,
    ranked.revenue,
    ranked.revenue / nullif(ranked.positive, 0) as revenue_share,
    ranked.cumulative / nullif(ranked.positive, 0) as cumulative_share,
    ranked.revenue_rank,
    case
        when ranked.revenue <= 0 then 'C'
        when ranked.cumulative - ranked.revenue < 0.80 * ranked.positive then 'A'
        when ranked.cumulative - ranked.revenue < 0.95 * ranked.positive then 'B'
        else 'C'
    end as abc_class
from ranked
inner join names on ranked.product_id = names.product_id;

-- monthly KPIs, every month from the first to the last with documents
create table bench_floor.monthly_kpis as
with months as (
    select generate_series(min(order_month), max(order_month), interval '1 month')::date as month_start
    from bench_floor.orders
),

documents as (
    select
        order_month as month_start,
        sum(net_amount) as revenue,
        coalesce(sum(net_amount) filter (where not is_return), 0) as gross_sales,
        coalesce(-sum(net_amount) filter (where is_return), 0) as returns_amount,
        count(*) filter (where not is_return) as orders,
        sum(units) as units,
        coalesce(sum(net_amount) filter (where customer_id is null), 0) as guest_revenue
    from bench_floor.orders
    group by order_month
),

customers as (
    select
        month_start,
        count(*) as active_customers,
        count(*) filter (where orders > 0) as customers,
        sum(net_amount) as customer_revenue,
        coalesce(sum(net_amount) filter (where orders > 0), 0) as buyer_revenue,
        count(*) filter (where orders > 1) as repeat_customers,
        count(*) filter (where month_start = first_purchase_month) as new_customers
    from bench_floor.customer_months
    group by month_start
),

repurchases as (
    select
        this_month.month_start,
        count(*) as retained_customers
    from bench_floor.customer_months as this_month
    inner join bench_floor.customer_months as last_month
        on
            this_month.customer_id = last_month.customer_id
            and last_month.month_start = (this_month.month_start - interval '1 month')::date
    where this_month.orders > 0 and last_month.orders > 0
    group by this_month.month_start
),

joined as (
    select
        months.month_start,
        (months.month_start + interval '1 month')::date <= as_of.as_of_date as is_complete_month,
        coalesce(documents.revenue, 0) as revenue,
        coalesce(documents.gross_sales, 0) as gross_sales,
        coalesce(documents.returns_amount, 0) as returns_amount,
        coalesce(documents.orders, 0) as orders,
        coalesce(documents.units, 0) as units,
        coalesce(documents.guest_revenue, 0) as guest_revenue,
        coalesce(customers.active_customers, 0) as active_customers,
        coalesce(customers.customers, 0) as customers,
        coalesce(customers.customer_revenue, 0) as customer_revenue,
        coalesce(customers.buyer_revenue, 0) as buyer_revenue,
        coalesce(customers.repeat_customers, 0) as repeat_customers,
        coalesce(customers.new_customers, 0) as new_customers,
        coalesce(repurchases.retained_customers, 0) as retained_customers,
        lag(coalesce(customers.customers, 0)) over (order by months.month_start) as previous_month_customers
    from months
    cross join bench_floor.as_of
    left join documents on months.month_start = documents.month_start
    left join customers on months.month_start = customers.month_start
    left join repurchases on months.month_start = repurchases.month_start
)

select
    month_start,
    is_complete_month,
    revenue,
    gross_sales,
    returns_amount,
    orders,
    customers,
    active_customers,
    new_customers,
    units,
    revenue / nullif(orders, 0) as aov,
    customer_revenue / nullif(active_customers, 0) as arpu,
    buyer_revenue / nullif(customers, 0) as arppu,
    repeat_customers / nullif(customers, 0)::numeric as repeat_purchase_rate,
    retained_customers / nullif(previous_month_customers, 0)::numeric as return_purchase_rate,
    guest_revenue / nullif(revenue, 0) as guest_revenue_share
from joined;
