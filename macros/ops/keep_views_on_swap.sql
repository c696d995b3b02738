{#-
    Readers never lose a view while dbt swaps the relation under it.

    dbt-postgres rebuilds a table (or a view, or an incremental model on full
    refresh) by creating `<name>__dbt_tmp`, renaming the old relation to
    `<name>__dbt_backup` and the new one to `<name>`, committing, and then
    dropping the backup with CASCADE. Views that read the old relation follow
    it to the backup (PostgreSQL binds views to the relation, not its name),
    so the cascade drops them, and BI queries fail with "relation does not
    exist" until dbt recreates them later in the run.

    These overrides of dbt's drop macros re-point such views at the new
    `<name>` (create or replace view, same statement as the drop, so no reader
    sees a gap) before the backup is dropped. A view whose columns no longer
    fit is left to the cascade and recreated by dbt, as before. A lock timeout
    is not swallowed: the drop fails, the build retries it, nothing is lost.
-#}

{% macro postgres__drop_table(relation) -%}
    {{ segmart_drop_keeping_views(relation, 'table') }}
{%- endmacro %}

{% macro postgres__drop_view(relation) -%}
    {{ segmart_drop_keeping_views(relation, 'view') }}
{%- endmacro %}

{% macro segmart_drop_keeping_views(relation, kind) -%}
    {%- set suffix = '__dbt_backup' -%}
    {%- if relation.identifier.endswith(suffix) -%}
        {%- set live_name = relation.identifier[:-(suffix | length)] -%}
        {%- set backup = relation.include(database=False) -%}
        {{- segmart_keep_cached_dependents(backup) -}}
        do $segmart_swap$
        declare
            dependent record;
            definition text;
        begin
            -- one re-pointing at a time: two threads replacing the same view collide
            perform pg_advisory_xact_lock(hashtext('segmart.keep_views_on_swap'));
            if to_regclass('{{ backup }}') is not null then
                for dependent in
                    select distinct view_class.oid as view_oid, view_class.oid::regclass::text as view_name
                    from pg_depend as dep
                    inner join pg_rewrite as rule on rule.oid = dep.objid
                    inner join pg_class as view_class on view_class.oid = rule.ev_class
                    where dep.classid = 'pg_rewrite'::regclass
                        and dep.refclassid = 'pg_class'::regclass
                        and dep.refobjid = to_regclass('{{ backup }}')
                        and view_class.oid <> dep.refobjid
                        and view_class.relkind = 'v'
                loop
                    definition := replace(
                        pg_get_viewdef(dependent.view_oid),
                        '{{ relation.identifier }}',
                        '{{ live_name }}'
                    );
                    begin
                        execute format('create or replace view %s as %s', dependent.view_name, definition);
                    exception
                        when lock_not_available then raise;
                        when others then
                            raise warning 'segmart: view % is recreated by dbt later: %', dependent.view_name, sqlerrm;
                    end;
                end loop;
            end if;
            drop {{ kind }} if exists {{ backup }} cascade;
        end
        $segmart_swap$
    {%- else -%}
        drop {{ kind }} if exists {{ relation }} cascade
    {%- endif -%}
{%- endmacro %}


{#-
    dbt's relation cache mirrors the CASCADE: when dbt drops the backup it
    forgets every view that (directly or through other views) depends on it,
    and would later try to create them as new. The views survive (re-pointed
    above), so put them back into the cache.
-#}
{% macro segmart_keep_cached_dependents(backup) -%}
    {%- if execute -%}
        {%- set dependents = run_query(
            "with recursive deps (view_oid) as (
                select rule.ev_class
                from pg_depend as dep
                inner join pg_rewrite as rule on rule.oid = dep.objid
                where dep.classid = 'pg_rewrite'::regclass
                    and dep.refclassid = 'pg_class'::regclass
                    and dep.refobjid = to_regclass('" ~ backup ~ "')
                    and rule.ev_class <> dep.refobjid
                union
                select rule.ev_class
                from deps
                inner join pg_depend as dep on dep.refobjid = deps.view_oid
                inner join pg_rewrite as rule on rule.oid = dep.objid
                where dep.classid = 'pg_rewrite'::regclass
                    and rule.ev_class <> dep.refobjid
            )
            select namespace.nspname, view_class.relname
            from deps
            inner join pg_class as view_class on view_class.oid = deps.view_oid
            inner join pg_namespace as namespace on namespace.oid = view_class.relnamespace
            where view_class.relkind = 'v'"
        ) -%}
        {%- for row in dependents.rows -%}
            {%- do adapter.cache_added(api.Relation.create(
                database=target.database, schema=row[0], identifier=row[1], type='view'
            )) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
