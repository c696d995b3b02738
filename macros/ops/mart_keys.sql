{#-
    Keys of the marts, put in order at on-run-end: the foreign keys, then
    the primary keys' names (below).

    The foreign keys between marts (to dim_date, to client_segments), added
    once every mart is built, in on-run-end, one mart after another.

    Declared in the model YAML as column meta, not as contract constraints:
    `foreign_key: {to: <mart>, column: <its key>}`. A contract constraint is
    created with the table, and `create table ... references t` takes a
    SHARE ROW EXCLUSIVE lock on `t` that is held until the swap commits. That
    lock conflicts with itself, so dbt's threads building marts that reference
    `dim_date` queued behind each other, and a mart slower than the lock
    timeout made the next one fail on segmart's own lock.

    Here the keys are added after the marts, on one connection, so nothing in
    the run waits for a lock the run holds. A key that already exists (a mart
    this run did not rebuild) is kept. The key is added validated (not NOT
    VALID): nothing else writes to the referenced marts by then, PostgreSQL
    checks the rows in the same statement, and BI readers are not blocked
    (SHARE ROW EXCLUSIVE does not conflict with their ACCESS SHARE). A mart
    that does not exist (its build failed on a first run) is skipped.
    Names are PostgreSQL's own default, `<table>_<column>_fkey`.
-#}

{% macro finish_mart_keys() %}
    {%- if execute and target.type == 'postgres' -%}
        {%- set statements = [] -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.schema == 'data_mart' and node.config.enabled -%}
            {%- for column in node.columns.values() -%}
                {%- set column_config = column.get('config') or {} -%}
                {%- set key = (column.get('meta') or {}).get('foreign_key')
                    or (column_config.get('meta') or {}).get('foreign_key') -%}
                {%- if key -%}
                    {%- set table = node.alias or node.name -%}
                    {%- do statements.append(
                        segmart_add_foreign_key(node.schema, table, column.name, key['to'], key['column'])
                    ) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- do statements.append(segmart_rename_mart_primary_keys()) -%}
        {{ statements | join(';\n') }}
    {%- endif -%}
{% endmacro %}

{% macro segmart_add_foreign_key(schema, table, column, to_table, to_column) -%}
    {%- set name = table ~ '_' ~ column ~ '_fkey' -%}
    do $segmart_fk$
    begin
        if to_regclass('{{ schema }}.{{ table }}') is not null
            and to_regclass('{{ schema }}.{{ to_table }}') is not null
            and not exists (
                select 1 from pg_constraint
                where conrelid = to_regclass('{{ schema }}.{{ table }}') and conname = '{{ name }}'
            ) then
            alter table {{ adapter.quote(schema) }}.{{ adapter.quote(table) }}
                add constraint {{ adapter.quote(name) }}
                foreign key ({{ adapter.quote(column) }})
                references {{ adapter.quote(schema) }}.{{ adapter.quote(to_table) }} ({{ adapter.quote(to_column) }});
        end if;
    end
    $segmart_fk$
{%- endmacro %}

{#-
    dbt creates a mart as `<name>__dbt_tmp` and renames it, so its primary key
    keeps the name `<name>__dbt_tmp_pkey` (or `..._pkey1`), which Power BI and
    `\d` show. Once the old table is dropped its `<name>_pkey` is free, and the
    key gets it back. ALTER INDEX ... RENAME takes SHARE UPDATE EXCLUSIVE,
    which does not wait for BI readers.
-#}
{% macro segmart_rename_mart_primary_keys() -%}
    do $segmart_pkey$
    declare
        key record;
    begin
        for key in
            select index_class.relname as index_name, table_class.relname as table_name
            from pg_constraint as con
            inner join pg_class as table_class on table_class.oid = con.conrelid
            inner join pg_class as index_class on index_class.oid = con.conindid
            where con.contype = 'p'
                and con.connamespace = 'data_mart'::regnamespace
                and index_class.relname <> table_class.relname || '_pkey'
                and to_regclass(format('data_mart.%I', table_class.relname || '_pkey')) is null
        loop
            execute format('alter index data_mart.%I rename to %I', key.index_name, key.table_name || '_pkey');
        end loop;
    end
    $segmart_pkey$
{%- endmacro %}
