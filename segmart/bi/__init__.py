"""What a BI tool needs to reach ``data_mart``: connection files, logins, connection details and docs.

One module per job: ``endpoint`` (where BI connects), ``pbids`` (Power BI
data-source file and Power Query M), ``users`` (read-only logins), ``docs``
(the dbt documentation as one HTML file), ``contracts`` (the committed
snapshot of the marts' columns that dashboards rely on).
"""
