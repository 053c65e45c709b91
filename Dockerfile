# The VoC image. Web (gunicorn), Celery worker and Celery beat all run from it; docker-compose.yml
# shows the whole stack. Settings come from the environment (see the README's configuration table).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app

RUN groupadd --system --gid 10001 voc \
 && useradd --system --uid 10001 --gid voc --home-dir /app --no-create-home --shell /usr/sbin/nologin voc

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them. The list is the one in
# pyproject.toml (without the test extras) and the versions are the pins of constraints.txt,
# the same pins bin/setup installs.
COPY pyproject.toml constraints.txt ./
RUN python -m venv /opt/venv \
 && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt -c constraints.txt \
 && rm /tmp/requirements.txt

# The source tree runs in place from /app (PYTHONPATH above), as a checkout does: settings find
# templates/ and static/ next to the packages.
COPY . .

# Static files are collected at build time: in production whitenoise serves them with hashed,
# compressed names from STATIC_ROOT (/app/staticfiles). Production mode needs a secret and a
# host; these dummies exist only for this step and are not kept in the image. VOC_VAR_DIR and
# the broker point away from /app so the build leaves no SQLite file or broker folder behind.
RUN VOC_ENV=production \
    SECRET_KEY=collectstatic-build-step-only \
    ALLOWED_HOSTS=build.invalid \
    VOC_VAR_DIR=/tmp/voc-build \
    CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput --verbosity 0 \
 && rm -rf /tmp/voc-build \
 && mkdir -p /app/var \
 && chown voc:voc /app/var

USER voc

EXPOSE 8000

# /healthz/ answers 200 when the process is up and the database answers. Django checks the Host
# header against ALLOWED_HOSTS, so the probe sends the first allowed host (not a wildcard).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as r; h = os.environ.get('ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; r.urlopen(r.Request('http://127.0.0.1:8000/healthz/', headers={'Host': h}), timeout=4)"]

CMD ["gunicorn", "voc.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
