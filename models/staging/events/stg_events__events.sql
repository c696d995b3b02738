with

source as (
    select * from {{ source('events', 'events') }}
),

renamed as (
    select
        load_id,
        line_number,
        btrim(user_id) as user_id,
        event_time as event_at,
        lower(btrim(event_type)) as event_type,
        cast(value as {{ type_number(18, 2) }}) as event_value,
        nullif(btrim(category), '') as category_name,
        nullif(btrim(city), '') as city_name,
        upper(nullif(btrim(gender), '')) as gender_code,
        age as user_age,
        child_age
    from source
)

select * from renamed
