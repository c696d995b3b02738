{#-
    Every event-log load: what the loader read, landed and quarantined, and how
    many of its landed rows repeat an event (same user, time and type) landed
    before it, in an earlier line or load, and so are not counted in the marts.
-#}
with

batches as (
    select * from {{ ref('stg_loader__load_batches') }}
    where target_table = 'events'
),

kept as (
    select * from {{ ref('int_events_deduplicated') }}
),

per_load as (
    select
        load_id,
        count(*) as events_kept
    from kept
    group by load_id
),

final as (
    select
        batches.load_id,
        batches.file_name,
        batches.loaded_at,
        batches.rows_read,
        batches.rows_loaded,
        batches.rows_quarantined,
        -- a landed row that is not the kept copy of its event repeats one landed before it
        batches.rows_loaded - coalesce(per_load.events_kept, 0) as duplicate_events,
        coalesce(per_load.events_kept, 0) as events_kept
    from batches
    left join per_load
        on batches.load_id = per_load.load_id
)

select * from final
