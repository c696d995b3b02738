"""segmart loaders: land sales and bank exports in PostgreSQL's ``staging`` schema."""
