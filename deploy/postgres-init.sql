-- compose.yaml: POSTGRES_DB makes the platform's database; the reference EPOS gets its own.
CREATE DATABASE epos OWNER dojo;
