with

source as (
    select * from {{ source('loader', 'load_batches') }}
),

renamed as (
    select
        load_id,
        target as target_table,
        source_format,
        file_name,
        file_sha256,
        file_bytes,
        encoding as file_encoding,
        delimiter as file_delimiter,
        load_path,
        started_at,
        loaded_at,
        rows_read,
        rows_loaded,
        rows_quarantined,
        blank_lines
    from source
)

select * from renamed
