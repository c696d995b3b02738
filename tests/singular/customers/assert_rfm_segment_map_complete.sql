-- The segment map holds each of the 125 score codes (r, f, m in 1..5) exactly
-- once, maps every one to one of the 11 segments, and uses all 11.
-- Returns one row per problem.
with

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

expected_segments as (
    select segment_name
    from (
        values
        ('Champions'),
        ('Loyal'),
        ('Potential Loyalist'),
        ('New'),
        ('Promising'),
        ('Need Attention'),
        ('About to Sleep'),
        ('At Risk'),
        ('Can''t Lose'),
        ('Hibernating'),
        ('Lost')
    ) as segments (segment_name)
),

scores as (
    select score from (values (1), (2), (3), (4), (5)) as score_values (score)
),

expected_codes as (
    select concat(r.score, f.score, m.score) as rfm_score
    from scores as r
    cross join scores as f
    cross join scores as m
),

problems as (
    select
        'code missing' as problem,
        expected_codes.rfm_score as detail
    from expected_codes
    left join segment_map
        on expected_codes.rfm_score = segment_map.rfm_score
    where segment_map.rfm_score is null
    union all
    select
        'unexpected or repeated code' as problem,
        segment_map.rfm_score as detail
    from segment_map
    left join expected_codes
        on segment_map.rfm_score = expected_codes.rfm_score
    group by segment_map.rfm_score, expected_codes.rfm_score
    having expected_codes.rfm_score is null or count(*) > 1
    union all
    select
        'unknown segment' as problem,
        segment_map.rfm_segment as detail
    from segment_map
    left join expected_segments
        on segment_map.rfm_segment = expected_segments.segment_name
    where expected_segments.segment_name is null
    union all
    select
        'unused segment' as problem,
        expected_segments.segment_name as detail
    from expected_segments
    left join segment_map
        on expected_segments.segment_name = segment_map.rfm_segment
    where segment_map.rfm_segment is null
    union all
    select
        'row count is not 125' as problem,
        cast(count(*) as {{ type_text() }}) as detail
    from segment_map
    having count(*) <> 125
)

select * from problems
