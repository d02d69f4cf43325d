# The dojo-epos image: the local Dojo platform (the default command) and the reference EPOS
# (`epos seed`, `epos serve`), with the PostgreSQL and NATS drivers. compose.yaml runs platform +
# reference EPOS + PostgreSQL from it; docs/onefile.md says how to build and run it alone.
#   docker build -t dojo-epos .
#   docker run --rm -p 8000:8000 dojo-epos            # the platform, dashboard at /dashboard
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# Wheels only from PyPI (pydantic-core, SQLAlchemy, asyncpg ship manylinux wheels: no compiler).
RUN pip install --no-cache-dir --prefix=/install '.[postgres,nats]'

FROM python:3.11-slim
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 dojo
USER dojo
WORKDIR /home/dojo
# SQLite files go to ./data (/home/dojo/data) unless PLATFORM_DB / EPOS_DB name a database.
EXPOSE 8000 8080
ENTRYPOINT ["dojo-epos"]
# Bound to every interface of the container; Host names other than loopback are refused unless
# allowed (--allowed-host, DNS rebinding), so a name other containers use must be added.
CMD ["platform", "serve", "--host", "0.0.0.0", "--port", "8000"]
