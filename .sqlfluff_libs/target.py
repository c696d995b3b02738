"""Stand-in for dbt's ``target``, for sqlfluff's jinja templater only: the PostgreSQL target."""

type = "postgres"  # dbt names the attribute so
name = "dev"
schema = "dbt"
