-- The landing zone. Created (idempotently) by every load; dbt reads it as sources.
-- Loaders only ever append: a load is one transaction that adds one row to
-- load_batches and its lines to one data table and to load_quarantine.

create schema if not exists staging;

-- Domains carry the row-level rules, so that COPY itself rejects a bad value
-- (and, with ON_ERROR ignore, skips and reports it) on the fast path, and so
-- that the checked Python path can never land something the rules forbid.
do $$
declare
    rule record;
begin
    for rule in
        select * from (values
            ('required_text', 'text not null check (btrim(value, E'' \t\r\n'') <> '''')'),
            ('required_integer', 'integer not null'),
            ('required_bigint', 'bigint not null'),
            ('number', 'numeric check (value not in (''NaN'', ''Infinity'', ''-Infinity''))'),
            ('required_number', 'numeric not null check (value not in (''NaN'', ''Infinity'', ''-Infinity''))'),
            ('whole_number', 'numeric check (value = trunc(value) and abs(value) < 9.2e18)'),
            ('event_timestamp', 'timestamp check (value >= ''1900-01-01'' and value < ''2200-01-01'')'),
            ('required_timestamp', 'timestamp not null check (value >= ''1900-01-01'' and value < ''2200-01-01'')'),
            ('required_date', 'date not null check (value >= ''1900-01-01'' and value < ''2200-01-01'')'),
            ('cash_flow_type', 'text not null check (value in (''продажа'', ''возврат''))')
        ) as rules (name, definition)
    loop
        if not exists (
            select 1 from pg_type as t inner join pg_namespace as n on n.oid = t.typnamespace
            where n.nspname = 'staging' and t.typname = rule.name
        ) then
            execute format('create domain staging.%I as %s', rule.name, rule.definition);
        end if;
    end loop;
end
$$;

-- One row per file that landed. Lineage of every landed row: its load_id
-- (-> file name, content hash, loaded_at) and its line_number in that file.
create table if not exists staging.load_batches (
    load_id bigint generated always as identity primary key,
    target text not null,
    source_format text not null,
    file_name text not null,
    file_sha256 text not null,
    file_bytes bigint not null,
    encoding text not null,
    delimiter text not null,
    load_path text not null default 'checked',
    started_at timestamptz not null,
    loaded_at timestamptz not null default clock_timestamp(),
    rows_read bigint not null default 0,
    rows_loaded bigint not null default 0,
    rows_quarantined bigint not null default 0,
    blank_lines bigint not null default 0,
    constraint load_batches_rows_balance check (rows_read = rows_loaded + rows_quarantined),
    constraint load_batches_one_per_content unique (target, file_sha256)
);

-- Files that could not be used at all (nothing of them landed), for operators.
create table if not exists staging.load_failures (
    failure_id bigint generated always as identity primary key,
    file_name text not null,
    failed_at timestamptz not null default clock_timestamp(),
    line_number bigint,
    problem text not null
);

-- Rows that were read but could not be landed, with the reason.
create table if not exists staging.load_quarantine (
    load_id bigint not null,
    line_number bigint not null,
    reason text not null,
    raw_line text not null
);

-- UCI Online Retail (and Online Retail II) lines, typed, source column names.
create table if not exists staging.sales_uci_lines (
    load_id bigint not null,
    line_number bigint not null,
    invoice_no staging.required_text,
    stock_code staging.required_text,
    description text,
    quantity staging.required_integer,
    invoice_date staging.required_timestamp,
    unit_price staging.required_number,
    customer_id staging.whole_number,
    country text
);

-- 1C:ERP "Реализация" line export, typed, source column names.
create table if not exists staging.sales_onec_lines (
    load_id bigint not null,
    line_number bigint not null,
    date staging.required_timestamp,
    sale_id staging.required_text,
    order_date staging.event_timestamp,
    order_id text,
    buyer text,
    contractor text,
    site_id text,
    product staging.required_text,
    feature text,
    quantity staging.required_number,
    sum staging.required_number,
    address text,
    cash_flow_type staging.cash_flow_type
);

-- 1C documents a pull read as unposted or marked for deletion (Posted = false,
-- DeletionMark = true): landed with the pull's load, so that their lines from
-- earlier loads leave the marts (`withdrawn_at_source` in sales_line_audit).
create table if not exists staging.onec_withdrawn_documents (
    load_id bigint not null,
    sale_id staging.required_text,
    document_ref text not null,
    reason text not null check (reason in ('unposted', 'marked_for_deletion'))
);

create table if not exists staging.bank_clients (
    load_id bigint not null,
    line_number bigint not null,
    client_id staging.required_bigint,
    full_name text,
    income staging.number
);

create table if not exists staging.bank_product_usage (
    load_id bigint not null,
    line_number bigint not null,
    usage_id staging.required_bigint,
    client_id staging.required_bigint,
    product_name staging.required_text,
    usage_date staging.required_date
);

-- Event logs (loaders.formats.EVENTS): one row per tracked event, as the file has it.
-- Exact duplicates (user, event time, event type) land as read; the event marts
-- count each once (int_events_deduplicated) and event_load_audit says how many
-- each load repeated.
create table if not exists staging.events (
    load_id bigint not null,
    line_number bigint not null,
    user_id staging.required_text,
    event_time staging.required_timestamp,
    event_type staging.required_text,
    value staging.number,
    category text,
    city text,
    gender text,
    age integer,
    child_age integer
);

-- Downstream models read by load; BRIN costs next to nothing on append-only tables.
create index if not exists sales_uci_lines_load on staging.sales_uci_lines using brin (load_id);
create index if not exists sales_onec_lines_load on staging.sales_onec_lines using brin (load_id);
create index if not exists bank_clients_load on staging.bank_clients using brin (load_id);
create index if not exists bank_product_usage_load on staging.bank_product_usage using brin (load_id);
create index if not exists load_quarantine_load on staging.load_quarantine using brin (load_id);
create index if not exists events_load on staging.events using brin (load_id);
