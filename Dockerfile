# The registry's web and worker image (production shape; see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY registry registry
COPY search search
COPY loaders loaders
COPY seed seed
RUN pip install --no-cache-dir -c constraints.txt . && useradd --system registry
USER registry
EXPOSE 8000
CMD ["gunicorn", "--workers", "4", "--bind", "0.0.0.0:8000", "registry.wsgi:app"]
