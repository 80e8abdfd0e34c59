# The production image: one image for web, worker and beat.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN useradd --create-home --uid 10001 airlock
COPY pyproject.toml README.md ./
COPY client ./client
COPY airlock ./airlock
COPY accounts ./accounts
COPY approvals ./approvals
COPY audit ./audit
COPY policies ./policies
COPY sanitization ./sanitization
COPY notifications ./notifications
COPY evidence ./evidence
COPY frontend ./frontend
COPY manage.py ./
RUN pip install --no-cache-dir ./client . \
 && DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
 && mkdir -p var && chown -R airlock:airlock var
USER airlock
EXPOSE 8000
CMD ["uvicorn", "airlock.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--proxy-headers"]
