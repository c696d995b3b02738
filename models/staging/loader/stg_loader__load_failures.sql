with

source as (
    select * from {{ source('loader', 'load_failures') }}
),

renamed as (
    select
        failure_id,
        file_name,
        failed_at,
        line_number,
        problem as failure_problem
    from source
)

select * from renamed
