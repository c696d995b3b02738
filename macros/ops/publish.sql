{#-
    After segmart/ops/publish.py moved a build's marts into data_mart (in one
    transaction that dropped the foreign keys to the replaced marts): add the
    declared foreign keys back and give the primary keys their `<table>_pkey`
    names (finish_mart_keys), and make sure the BI role can read every mart
    (grant_bi_access). Run as `dbt run-operation segmart_after_publish`, in
    data_mart itself (SEGMART_MART_BUILD_SCHEMA unset).
-#}
{% macro segmart_after_publish() %}
    {%- for statement in [finish_mart_keys(), grant_bi_access()] if statement | trim -%}
        {#- run-operation does not commit by itself -#}
        {%- do run_query(statement ~ ';\ncommit') -%}
    {%- endfor -%}
{% endmacro %}
