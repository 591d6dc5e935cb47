# The app's image for docker-compose.yml: the same `make run` as on a developer's machine,
# with DATABASE_URL pointing at the PostGIS container instead of the embedded cluster.
FROM python:3.11-slim-bookworm
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends make npm fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
ENV DATABASE_URL=postgresql://hromada:hromada@db:5432/hromada PYTHON=python3
RUN make deps
EXPOSE 8000
CMD ["make", "run"]
