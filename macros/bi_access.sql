{#-
    Read-only access for BI tools (Power BI) to data_mart, and to nothing else.

    on-run-start: make sure the role and the schema exist, and set default
    privileges so that every table dbt creates in data_mart is readable by the
    role from the moment it exists (a rebuild swaps tables inside one
    transaction, so BI never sees a table it cannot read).
    on-run-end: grant select on what already exists, for tables made before
    the role existed. When the marts are built beside data_mart and published
    (SEGMART_MART_BUILD_SCHEMA, see generate_schema_name), the build schema
    gets the same default privileges, and no usage.

    The role name comes from SEGMART_BI_ROLE (default bi_reader). It is a
    group role without login; give it to a login user for Power BI:
        create role powerbi login password '...' in role bi_reader;
-#}

{% macro bi_role() -%}
    {{ env_var('SEGMART_BI_ROLE', 'bi_reader') }}
{%- endmacro %}

{% macro prepare_bi_access() %}
    {#- PostgreSQL only: on Spark, access is granted on the platform (docs/spark.md) -#}
    {%- if target.type != 'postgres' %}{% do return('') %}{% endif -%}
    {%- set role = adapter.quote(bi_role()) -%}
    {%- set schema = adapter.quote('data_mart') -%}
    do $bi$
    begin
        if not exists (select 1 from pg_roles where rolname = '{{ bi_role() }}') then
            begin
                create role {{ role }} nologin;
            exception
                when duplicate_object then null;
                when insufficient_privilege then
                    raise warning 'segmart: cannot create role %; ask an administrator to create it', '{{ bi_role() }}';
                    return;
            end;
        end if;
        create schema if not exists {{ schema }};
        grant usage on schema {{ schema }} to {{ role }};
        alter default privileges in schema {{ schema }} grant select on tables to {{ role }};
        {%- if segmart_mart_build_schema() %}
        -- the marts built beside data_mart carry the grant into data_mart when they are
        -- published; the role has no usage on the build schema, so it never reads them there
        create schema if not exists {{ adapter.quote(segmart_mart_build_schema()) }};
        alter default privileges in schema {{ adapter.quote(segmart_mart_build_schema()) }}
            grant select on tables to {{ role }};
        {%- endif %}
    end
    $bi$;
{% endmacro %}

{% macro grant_bi_access() %}
    {%- if target.type != 'postgres' %}{% do return('') %}{% endif %}
    do $bi$
    begin
        if exists (select 1 from pg_roles where rolname = '{{ bi_role() }}')
            and exists (select 1 from pg_namespace where nspname = 'data_mart') then
            grant usage on schema {{ adapter.quote('data_mart') }} to {{ adapter.quote(bi_role()) }};
            grant select on all tables in schema {{ adapter.quote('data_mart') }} to {{ adapter.quote(bi_role()) }};
        end if;
    end
    $bi$;
{% endmacro %}
