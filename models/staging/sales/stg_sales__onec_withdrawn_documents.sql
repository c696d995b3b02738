{#-
    The 1C pull (segmart/onec) lands in PostgreSQL only: on Spark there are no
    withdrawn documents, and this is an empty relation of the same columns.
-#}
with

source as (
    {% if target.type == 'spark' -%}
        select
            cast(null as bigint) as load_id,
            cast(null as {{ dbt.type_string() }}) as sale_id,
            cast(null as {{ dbt.type_string() }}) as document_ref,
            cast(null as {{ dbt.type_string() }}) as reason
        where 1 = 0
    {%- else -%}
        select * from {{ source('sales', 'onec_withdrawn_documents') }}
    {%- endif %}
),

renamed as (
    select
        load_id,
        btrim(sale_id) as order_id,
        document_ref,
        reason as withdrawal_reason
    from source
)

select * from renamed
