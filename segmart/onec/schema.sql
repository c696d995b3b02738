-- The 1C pulls: one row per attempt. The watermark of the next pull is the
-- newest document date of the successful ones.
create schema if not exists ops;

create table if not exists ops.onec_pulls (
    pull_id bigint generated always as identity primary key,
    started_at timestamptz not null,
    finished_at timestamptz not null default clock_timestamp(),
    status text not null check (status in ('loaded', 'unchanged', 'failed')),
    base_url text not null,
    since_date date,
    newest_document_at timestamp,
    documents integer not null default 0,
    lines integer not null default 0,
    withdrawn integer not null default 0,
    requests integer not null default 0,
    load_id bigint,
    error_text text
);
