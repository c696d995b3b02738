{{
    config(
        materialized='table',
    )
}}

{#- case folding that does not depend on the database locale (a C-locale lower() leaves Cyrillic alone) -#}
{%- set upper_letters = 'АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯё' -%}
{%- set lower_letters = 'абвгдеежзийклмнопрстуфхцчшщъыьэюяе' -%}

with

usage as (
    select * from {{ ref('stg_bank__product_usage') }}
),

usage_spellings as (
    -- a second, separate read: a CTE used twice would be materialised whole
    select product_name from {{ ref('stg_bank__product_usage') }}
),

clients as (
    select * from {{ ref('int_clients_deduplicated') }}
),

products as (
    select * from {{ ref('bank_products') }}
),

ranked as (
    select
        usage_id,
        client_id,
        product_name,
        usage_date,
        load_id,
        line_number,
        {{ newest_load_rank('usage_id') }}
    from usage
),

newest as (
    select * from ranked
    where row_rank = 1
),

catalogue_keys as (
    select
        product_code,
        product_name,
        lower(translate(
            {{ regexp_replace_all('product_name', '\s+', ' ') }}, '{{ upper_letters }}', '{{ lower_letters }}'
        ))
            as product_key
    from products
),

distinct_spellings as (
    -- each spelling found in the data once: folding is far too slow to do per row
    select distinct product_name as spelled_name
    from usage_spellings
),

spellings as (
    select
        spelled_name,
        lower(translate(
            {{ regexp_replace_all('spelled_name', '\s+', ' ') }}, '{{ upper_letters }}', '{{ lower_letters }}'
        ))
            as product_key,
        {{ regexp_replace_all('spelled_name', '\s+', ' ') }} as tidy_name
    from distinct_spellings
),

spelling_map as (
    select
        spellings.spelled_name,
        catalogue_keys.product_code,
        coalesce(catalogue_keys.product_name, spellings.tidy_name) as product_name
    from spellings
    left join catalogue_keys
        on spellings.product_key = catalogue_keys.product_key
),

final as (
    select
        newest.usage_id,
        newest.client_id,
        spelling_map.product_name,
        spelling_map.product_code,
        newest.usage_date,
        newest.load_id,
        newest.line_number,
        newest.staged_row_count - 1 as superseded_row_count,
        clients.client_id is not null as is_known_client
    from newest
    inner join spelling_map
        on newest.product_name = spelling_map.spelled_name
    left join clients
        on newest.client_id = clients.client_id
)

select * from final
