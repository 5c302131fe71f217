# One image for every PaySystem process: portal (gunicorn), migrate, worker, scheduler.

# htmx comes from its npm package; only the installed files are copied over.
FROM node:20-bookworm-slim AS browser-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MEDIA_ROOT=/data/media \
    NODE_MODULES=/app/node_modules \
    STATIC_BUILD_DIR=/app/static-build
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY --from=browser-deps /app/node_modules ./node_modules
COPY pyproject.toml alembic.ini gunicorn.conf.py ./
COPY settings ./settings
COPY paysystem ./paysystem
COPY portal ./portal
COPY jobs ./jobs
COPY models ./models
COPY migrations ./migrations
# The static files are built into the image (hashed, precompressed); the app finds them current.
RUN pip install --no-deps -e . \
    && PAYSYSTEM_ENV=development paysystem build-static \
    && useradd --create-home --uid 10001 paysystem \
    && mkdir -p /data/media && chown -R paysystem /data
USER paysystem
EXPOSE 8000
# Workers and threads: gunicorn.conf.py (PORTAL_WORKERS, PORTAL_THREADS).
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "portal.wsgi:app"]
