-- Each source has at most one elbow row, and elbow_k names it.
with

elbow as (
    select * from {{ ref('rfm_cluster_elbow') }}
),

per_source as (
    select
        source_system,
        count(*) filter (where is_elbow_k) as elbow_rows,
        count(distinct elbow_k) as elbow_values,
        max(k) filter (where is_elbow_k) as flagged_k,
        max(elbow_k) as elbow_k
    from elbow
    group by source_system
)

select * from per_source
where
    elbow_rows > 1
    or elbow_values > 1
    or flagged_k is distinct from elbow_k
